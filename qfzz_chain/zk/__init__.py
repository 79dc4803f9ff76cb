"""The cryptographic core of verifiable recommendations (pure: bytes in, bytes out, no I/O).

- ``bls``: BLS signatures, ciphersuite ``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_`` (signatures
  in G1, keys in G2, proofs of possession), with EIP-2537 encodings for the contracts'
  ``BLS12381`` library (contracts/lib/BLS12381.sol).
- ``merkle``: OpenZeppelin's ``StandardMerkleTree`` format, accepted by ``MerkleProof.verify``.
- ``commitments``: salted hash commitments, keccak256(abi.encode(bytes32 salt, bytes value)).

Formats and figures: docs/zk.md. Modules import on use (``from qfzz_chain.zk import bls``):
py-ecc alone takes ~0.3 s to import.
"""
