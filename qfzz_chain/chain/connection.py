"""Which chain to talk to, and a connected ``Web3`` for it.

The RPC is, in order: an explicit ``--rpc-url``, ``QFZZ_RPC_URL``, or the local anvil that
``qfzz chain up`` keeps running. Nothing else is guessed.
"""

from __future__ import annotations

import os

import requests
from web3 import Web3

from qfzz_chain.chain import local_node
from qfzz_chain.chain.errors import ChainError

RPC_TIMEOUT_SECONDS = 15


def resolve_rpc_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("QFZZ_RPC_URL")
    if url:
        return url
    node = local_node.status()
    if node is None:
        raise ChainError(
            "no chain configured: start a local one with `qfzz chain up`, or set QFZZ_RPC_URL / --rpc-url"
        )
    return node.rpc_url


def connect(rpc_url: str | None = None) -> Web3:
    """A ``Web3`` connected to the resolved RPC; a clear ``ChainError`` when it does not answer."""
    url = resolve_rpc_url(rpc_url)
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    try:
        w3.eth.chain_id
    except (requests.exceptions.RequestException, OSError, ValueError) as exc:
        raise ChainError(f"cannot reach the chain at {url} ({type(exc).__name__})") from exc
    return w3
