"""Defences against adversarial peers: pure checks on what peers claim, no I/O.

Three independent checks, each aimed at one lie (docs/p2p.md, "Defence"):

* **Withheld probes** (against mirroring hub attackers). A node keeps a fixed random share of its
  own artists out of every summary it sends. An honest peer's overlap with the node's history
  lands on sent and withheld artists alike (the withheld set is a uniform sample, so the split is
  hypergeometric); a peer that copied the node's summary overlaps the sent part only.
  :func:`probe_p_value` is the exact probability of so few withheld hits given the total overlap;
  below ``alpha`` the peer is a suspect and never scored. With 6 withheld of 40 artists, a full
  copy of the 34 sent ones scores p = 1/C(40,6) ≈ 2.6e-7; an honest peer sharing 10 artists, none
  of them withheld, scores p ≈ 0.17.
* **Cross-checking claims** (against forged second-hand summaries). What a forwarder said a peer
  listens to is compared with what that peer then says itself (:func:`claims_agree`); a mismatch
  is a strike against both (one of them lied; an honest node forwards only what it heard first
  hand). Two strikes and a peer's hints and summary are ignored.
* **Bounded influence** (against loud profiles). Scored peers count with their summary scaled to
  unit length (:func:`bounded_weights`), so play counts claimed at the maximum code buy no more
  weight than an ordinary profile: a peer moves an item by at most its similarity.
"""

from __future__ import annotations

from math import comb

import numpy as np

# The share of a node's artists kept out of its summaries when the defence is on, and the least.
WITHHELD_SHARE = 0.15
MIN_WITHHELD = 2
# A cross-check passes when the forwarded and the first-hand artist sets share this much (Jaccard).
CLAIM_AGREEMENT = 0.8
STRIKES_TO_DISTRUST = 2


def choose_withheld(items: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A fixed uniform sample of ``share`` of ``items`` (at least MIN_WITHHELD, none under 5 items)."""
    if share <= 0.0 or len(items) < 5:
        return np.zeros(0, dtype=np.int64)
    count = max(MIN_WITHHELD, int(round(share * len(items))))
    return np.sort(rng.choice(items, size=min(count, len(items) - 1), replace=False))


def probe_p_value(history_size: int, withheld_size: int, overlap: int, withheld_hits: int) -> float:
    """P(X ≤ withheld_hits) for X ~ Hypergeometric(history_size, withheld_size, overlap).

    The chance that an honest peer sharing ``overlap`` of the node's ``history_size`` artists has
    no more than ``withheld_hits`` of them among the ``withheld_size`` withheld ones.
    """
    if withheld_size == 0 or overlap == 0:
        return 1.0
    total = comb(history_size, overlap)
    low = max(0, overlap - (history_size - withheld_size))
    tail = sum(comb(withheld_size, h) * comb(history_size - withheld_size, overlap - h)
               for h in range(low, min(withheld_hits, withheld_size, overlap) + 1))
    return tail / total


def claims_agree(claimed: np.ndarray, observed: np.ndarray, threshold: float = CLAIM_AGREEMENT) -> bool:
    """Whether a forwarded artist set matches the first-hand one (Jaccard ≥ ``threshold``).

    Summaries are truncated to the top artists that fit, so a forwarded copy of an older or
    shorter summary still agrees; a forged one (a target artist added, the set swapped) does not.
    """
    if len(claimed) == 0 and len(observed) == 0:
        return True
    common = len(np.intersect1d(claimed, observed, assume_unique=True))
    return common / (len(claimed) + len(observed) - common) >= threshold


def bounded_weights(weights: np.ndarray) -> np.ndarray:
    """A peer's weights scaled to unit L2 norm: its whole profile weighs as much as anyone's."""
    norm = float(np.sqrt(np.dot(weights, weights)))
    return weights / norm if norm > 0 else weights
