"""QFZZ chain: verifiable, explainable, fair music recommendation.

The package is laid out by architecture: pure cores (``recommender``, ``ipfs`` CID and DAG
building, ``zk``) and I/O at the edges (``chain`` for RPC and deployments, ``ipfs`` stores,
``cli``).
"""

__version__ = "0.1.0"
