"""Royalties: composition and master splits, derivative cascades and listening-epoch payouts.

Pure cores (``splits``, ``cascade``, ``epochs``, ``merkle``, ``flows``) take plain values and do
no I/O; ``contract`` is the chain edge (the Royalties contract's client) and ``service`` ties
them to the registry and the CLI.
"""
