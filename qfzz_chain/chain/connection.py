"""Which chain to talk to, and a connected ``Web3`` for it.

The RPC is, in order: an explicit ``--rpc-url``, ``QFZZ_RPC_URL``, or the local anvil that
``qfzz chain up`` keeps running. Nothing else is guessed.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

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
    """A ``Web3`` connected to the resolved RPC; a clear ``ChainError`` when it does not answer.

    The chain id is asked once: web3 re-asks it to validate every ``eth_call`` and transaction,
    which was half of a listener's verification requests (7 of 14). (No validation threshold: it
    applies to block-dependent answers, which are not cached, and would cost a request to set.) A loopback RPC is reached
    without the environment's proxy settings: requests would otherwise look them up on every
    request (1.5 ms each, a tenth of a verification) and could send a local node's traffic to a
    proxy that cannot reach it.
    """
    url = resolve_rpc_url(rpc_url)
    session = requests.Session()
    session.trust_env = not _is_loopback(url)
    provider = Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}, session=session,
                                 cache_allowed_requests=True, cacheable_requests={"eth_chainId"},
                                 request_cache_validation_threshold=None)  # fmt: skip
    w3 = Web3(provider)
    try:
        w3.eth.chain_id
    except (requests.exceptions.RequestException, OSError, ValueError) as exc:
        raise ChainError(f"cannot reach the chain at {url} ({type(exc).__name__})") from exc
    return w3


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
