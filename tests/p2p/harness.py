"""Shared helpers: a clustered listening world, and a direct (socket-free) driver for protocol tests."""

from __future__ import annotations

import collections

import numpy as np

from qfzz_chain.p2p.protocol import NodeState, ProtocolConfig
from qfzz_chain.p2p.summary import Profile
from qfzz_chain.p2p.wire import decode, encode

CLUSTERS = 4


def clustered_profiles(n_nodes: int, n_items: int = 400, per_user: int = 25, seed: int = 0) -> list[Profile]:
    """Users in CLUSTERS taste groups, each over its own block of artists, plus a little noise."""
    rng = np.random.default_rng(seed)
    blocks = np.array_split(np.arange(1, n_items + 1), CLUSTERS)
    profiles = []
    for user in range(n_nodes):
        block = blocks[user % CLUSTERS]
        liked = rng.choice(block, size=per_user - 3, replace=False)
        noise = rng.choice(np.arange(1, n_items + 1), size=3, replace=False)
        items = np.unique(np.concatenate([liked, noise]))
        profiles.append(Profile.from_plays(items, rng.integers(1, 500, size=len(items)).astype(float)))
    return profiles


def addresses(n: int) -> list[tuple[str, int]]:
    return [("127.0.0.1", 20000 + k) for k in range(n)]


def ring_network(profiles: list[Profile], config: ProtocolConfig) -> list[NodeState]:
    """Nodes bootstrapped on a ring (each knows its two successors): connected, nothing more."""
    addrs = addresses(len(profiles))
    n = len(profiles)
    return [NodeState(addrs[k], profiles[k], config, seed=k, bootstrap=[addrs[(k + 1) % n], addrs[(k + 2) % n]])
            for k in range(n)]


def drive(peers: list, periods: int, limit: int, seed: int = 0) -> int:
    """Run ``periods`` periods, delivering every datagram through encode/decode at ``limit``.

    Returns the largest datagram seen. Nodes tick in a fresh random order each period.
    """
    by_address = {p.address: p for p in peers}
    rng = np.random.default_rng(seed)
    largest = 0
    for _ in range(periods):
        queue = collections.deque()
        for k in rng.permutation(len(peers)):
            for destination, message in peers[k].tick():
                queue.append((peers[k].address, destination, encode(message, limit)))
        while queue:
            source, destination, data = queue.popleft()
            largest = max(largest, len(data))
            target = by_address.get(destination)
            if target is None:
                continue
            for next_destination, reply in target.receive(source, decode(data, limit)):
                queue.append((destination, next_destination, encode(reply, limit)))
    return largest
