"""Adversarial peers for the experiments: a colluding group that pushes one target artist.

Attackers speak the wire format correctly (malformed traffic is the transport's problem, and is
dropped and counted there) and respect M, since a larger datagram is dropped unread. They know
every attacker's address, the catalogue's popularity (an omniscient adversary) and whatever honest
nodes send them. Two strategies (docs/p2p.md, "Attacks"):

* **shilling** — each attacker claims a fixed profile: artists drawn from the 100 most popular,
  at their typical play counts, plus the target at the top code among them. Its messages
  advertise only fellow attackers (view and hints, with their crafted summaries), so honest
  nodes' views and exploration fill with Sybils.
* **hub** — each attacker *mirrors* the node it talks to: its summary is a copy of that node's
  own summary plus the target, so it looks like the most similar peer anyone has. Its hints are
  forged the same way: fellow attackers with copies of the recipient's summary. Its view
  advertises only attackers. This is the "lie to be chosen as everyone's neighbour" attack.
"""

from __future__ import annotations

import numpy as np

from qfzz_chain.p2p.protocol import ProtocolConfig
from qfzz_chain.p2p.summary import MAX_CODE, Profile, capacity, decode_summary, encode_summary
from qfzz_chain.p2p.errors import InvalidConfigError, MalformedMessageError
from qfzz_chain.p2p.wire import GOSSIP_REPLY, GOSSIP_REQUEST, Address, Descriptor, Message, bstr_size, gossip_size

ATTACKS = ("shilling", "hub")
POPULAR_POOL = 100


class Attacker:
    """One Sybil. ``tick``/``receive`` mirror :class:`~qfzz_chain.p2p.protocol.NodeState`'s."""

    def __init__(self, address: Address, kind: str, target: int, popular: Profile, config: ProtocolConfig,
                 seed: int, bootstrap: list[Address]):
        if kind not in ATTACKS:
            raise InvalidConfigError(f"unknown attack {kind!r}; choose one of {', '.join(ATTACKS)}")
        self.address = address
        self.kind = kind
        self.target = int(target)
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.sybils: list[Address] = []
        self.honest: dict[Address, bytes] = {a: b"" for a in bootstrap}
        self.nonce = int(self.rng.integers(1, 2**31))
        budget = capacity(self._summary_budget()) - 1
        pool = popular.top(POPULAR_POOL)
        picks = np.sort(self.rng.choice(len(pool), size=min(budget, len(pool)), replace=False))
        filler = Profile(pool.items[picks], pool.codes[picks])
        self.crafted = self._with_target(filler)
        self.crafted_raw = encode_summary(self.crafted, self._summary_budget())
        self.sybil_summaries: dict[Address, bytes] = {}

    def _summary_budget(self) -> int:
        envelope = gossip_size(2**31, 0, self.config.descriptors_per_message, [])
        return self.config.summary_bytes - envelope - (bstr_size(255) - 255)

    def _with_target(self, profile: Profile) -> Profile:
        """``profile`` with the target at its strongest code (room made by dropping the weakest)."""
        top_code = int(profile.codes.max()) if len(profile) else MAX_CODE
        base = profile.without(np.array([self.target]))
        base = base.top(capacity(self._summary_budget()) - 1)
        items = np.append(base.items, self.target)
        codes = np.append(base.codes, np.uint8(top_code))
        order = np.argsort(items)
        return Profile(items[order], codes[order])

    def _summary_for(self, peer: Address) -> bytes:
        if self.kind == "hub" and self.honest.get(peer):
            try:
                return encode_summary(self._with_target(decode_summary(self.honest[peer])), self._summary_budget())
            except MalformedMessageError:
                pass
        return self.crafted_raw

    def _message(self, kind: int, nonce: int, peer: Address) -> Message:
        others = [a for a in self.sybils if a != self.address and a != peer]
        count = min(self.config.descriptors_per_message, len(others))
        picks = [others[k] for k in self.rng.choice(len(others), size=count, replace=False)] if count else []
        view = tuple(Descriptor(a, 0) for a in picks)
        summary = self._summary_for(peer)
        hints: list[tuple[Address, bytes]] = []
        lens: list[int] = []
        forged = summary if self.kind == "hub" else None
        for address in (others[k] for k in self.rng.permutation(len(others))):
            raw = forged if forged is not None else self.sybil_summaries.get(address, self.crafted_raw)
            if gossip_size(nonce, len(summary), len(view), lens + [len(raw)]) > self.config.summary_bytes:
                break
            hints.append((address, raw))
            lens.append(len(raw))
        return Message(kind, nonce, summary, view, tuple(hints))

    def tick(self) -> list[tuple[Address, Message]]:
        honest = list(self.honest)
        out = []
        for _ in range(self.config.fanout):
            if not honest:
                break
            peer = honest[int(self.rng.integers(len(honest)))]
            self.nonce = (self.nonce + 1) % 2**32
            out.append((peer, self._message(GOSSIP_REQUEST, self.nonce, peer)))
        return out

    def receive(self, sender: Address, message: Message) -> list[tuple[Address, Message]]:
        sybils = set(self.sybils)
        if sender not in sybils:
            self.honest[sender] = message.summary
        for descriptor in message.view:
            if descriptor.address not in sybils and descriptor.address not in self.honest:
                self.honest[descriptor.address] = b""
        if message.kind == GOSSIP_REQUEST:
            return [(sender, self._message(GOSSIP_REPLY, message.nonce, sender))]
        return []
