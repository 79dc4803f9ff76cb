"""Fixtures for the BLS, Merkle and commitment tests: the harnesses on Brownie's anvil, keys."""

from __future__ import annotations

import pytest

from qfzz_chain.zk import bls


@pytest.fixture(scope="module")
def harness(BLS12381Harness, accounts):
    return BLS12381Harness.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def merkle_harness(MerkleProofHarness, accounts):
    return MerkleProofHarness.deploy({"from": accounts[0]})


@pytest.fixture(scope="session")
def scheme() -> bls.BlsScheme:
    """The default (fastest installed) backend; the py-ecc reference is compared in test_bls_backends."""
    return bls.default_scheme()


@pytest.fixture(scope="session")
def committee(scheme):
    """16 members' (secret key, public key, proof of possession), keys derived from fixed seeds."""
    members = []
    for i in range(16):
        secret = bls.keygen(bytes([i]) * 32)
        members.append((secret, scheme.public_key(secret), scheme.prove_possession(secret)))
    return members
