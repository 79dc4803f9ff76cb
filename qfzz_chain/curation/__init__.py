"""Emerging-artist curation: commit-reveal votes on the seed's scale (``votes``), proposals with
the ties that exclude self-dealing (``ties``), the local salt journal (``ballots``), the chain
client (``chain``) and the reader of the on-chain emerging-artist index (``index``)."""
