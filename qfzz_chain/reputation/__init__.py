"""Reputation of curators and oracle nodes: the four-factor formula (``formula``, ``factors``),
the ledger's on-chain arithmetic replicated exactly (``rules``), the attester's identity tree
(``identity``) and the ledger's chain client (``chain``). docs/curation.md has the reasons."""
