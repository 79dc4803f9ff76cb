"""Listening-epoch payouts: a pool shared by play counts, in exact integers, and its Merkle tree.

Pure. Two schemes, as streaming services and their critics name them:

- **pro-rata**: the pool is shared by total plays, ``pool * plays_k / total_plays``: a listener
  who plays 10,000 tracks a month steers 100 times the money of one who plays 100;
- **user-centric**: each listener's equal part of the pool (their subscription) is shared among
  what *they* played, ``(pool / listeners) * plays_uk / plays_u``, so a listener's money follows
  that listener's taste, however much they play.

Both are exact: every division is an apportionment by largest remainders (ties to the smaller
key), so the amounts are integers that add up to the pool to the unit, and the same input gives
the same amounts on every machine. User-centric first gives each listener ``pool // listeners``
units (the first ``pool % listeners`` listeners by id one more), then apportions each
listener's units among the tracks they played.

``epoch_tree`` turns amounts into the OpenZeppelin standard tree ``Royalties.claimEpoch`` checks:
leaves ``(uint256 index, bytes32 trackId, uint256 composition, uint256 master)`` in track id
order, the composition part ``amount * composition_bps // 10_000`` (rounded down), the master
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping, Sequence, TypeVar

from qfzz_chain.royalties.errors import EpochInputError
from qfzz_chain.royalties.merkle import StandardMerkleTree
from qfzz_chain.royalties.splits import BPS

K = TypeVar("K", bound=Hashable)
LEAF_ENCODING = ("uint256", "bytes32", "uint256", "uint256")


def apportion(pool: int, weights: Mapping[K, int]) -> dict[K, int]:
    """``pool`` units shared in proportion to integer ``weights``, exactly (largest remainders).

    Every key gets ``floor(pool * w / W)``; the units left over (fewer than the number of keys)
    go one each to the keys with the largest remainders, ties to the smaller key. Keys of
    weight 0 get 0.
    """
    if pool < 0:
        raise EpochInputError(f"a pool of {pool} units")
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()):
        raise EpochInputError("play counts cannot be negative")
    if total == 0:
        if pool:
            raise EpochInputError("nothing was played: there is no one to share the pool with")
        return {k: 0 for k in weights}
    shares, remainders = {}, []
    for key, weight in weights.items():
        whole, rest = divmod(pool * weight, total)
        shares[key] = whole
        remainders.append((-rest, key))
    leftover = pool - sum(shares.values())
    for _, key in sorted(remainders, key=lambda entry: (entry[0], _order(entry[1])))[:leftover]:
        shares[key] += 1
    return shares


def _order(key):
    return (0, key) if isinstance(key, (int, bytes, str)) else (1, repr(key))


def pro_rata(plays: Mapping[K, int], pool: int) -> dict[K, int]:
    """The pool shared by total plays per track."""
    return apportion(pool, plays)


def user_centric(listens: Iterable[tuple[Hashable, K, int]], pool: int) -> dict[K, int]:
    """Each listener's equal part of the pool shared among what they played.

    ``listens`` are ``(listener, track, plays)`` rows (a pair may repeat: its plays add up).
    """
    by_listener: dict[Hashable, dict[K, int]] = {}
    for listener, key, count in listens:
        if count < 0:
            raise EpochInputError(f"listener {listener!r} played {key!r} {count} times")
        if count:
            row = by_listener.setdefault(listener, {})
            row[key] = row.get(key, 0) + count
    if not by_listener:
        if pool:
            raise EpochInputError("nothing was played: there is no one to share the pool with")
        return {}
    budgets = apportion(pool, {listener: 1 for listener in by_listener})
    amounts: dict[K, int] = {}
    for listener, row in by_listener.items():
        for key, units in apportion(budgets[listener], row).items():
            amounts[key] = amounts.get(key, 0) + units
    return amounts


def epoch_tree(amounts: Mapping[bytes, int], composition_bps: int) -> StandardMerkleTree:
    """The epoch's tree of per-track amounts (zero amounts left out), leaves in track id order."""
    if not 0 <= composition_bps <= BPS:
        raise EpochInputError(f"the composition ratio {composition_bps} bps is outside 0..{BPS}")
    rows = []
    for track_id in sorted(k for k, v in amounts.items() if v > 0):
        if not isinstance(track_id, bytes) or len(track_id) != 32:
            raise EpochInputError(f"{track_id!r} is not a track id (32 bytes)")
        amount = amounts[track_id]
        composition = amount * composition_bps // BPS
        rows.append((len(rows), track_id, composition, amount - composition))
    if not rows:
        raise EpochInputError("an epoch needs at least one track with a positive amount")
    return StandardMerkleTree.of(rows, LEAF_ENCODING)


def tree_total(tree: StandardMerkleTree) -> int:
    return sum(composition + master for _, _, composition, master in tree.values)


# ---- how money moves between the head and the long tail ---------------------------------------


@dataclass(frozen=True)
class GroupShare:
    """One popularity group of tracks and its share of the pool under each scheme."""

    label: str
    tracks: int
    plays_share: float
    pro_rata_share: float
    user_centric_share: float

    @property
    def moved(self) -> float:
        """What user-centric moves to (positive) or from this group, as a share of the pool."""
        return self.user_centric_share - self.pro_rata_share


# popularity groups by rank in total plays: the top 1% of tracks, the next 9%, the next 40%, the rest
GROUPS: tuple[tuple[str, float, float], ...] = (
    ("top 1%", 0.0, 0.01),
    ("1-10%", 0.01, 0.10),
    ("10-50%", 0.10, 0.50),
    ("bottom 50%", 0.50, 1.0),
)


def head_tail(plays: Mapping[K, int], pro: Mapping[K, int], centric: Mapping[K, int],
              groups: Sequence[tuple[str, float, float]] = GROUPS) -> list[GroupShare]:  # fmt: skip
    """The pool's share per popularity group (ranked by total plays, ties by key) under each scheme."""
    ranked = sorted(plays, key=lambda k: (-plays[k], _order(k)))
    total_plays = sum(plays.values()) or 1
    pool = sum(pro.values()) or 1
    found = []
    for label, low, high in groups:
        members = ranked[round(low * len(ranked)):round(high * len(ranked))]
        found.append(GroupShare(
            label, len(members), sum(plays[k] for k in members) / total_plays,
            sum(pro.get(k, 0) for k in members) / pool, sum(centric.get(k, 0) for k in members) / pool,
        ))  # fmt: skip
    return found
