"""Derivative cascades: what a derivative owes its parents, and where pushing it would take it.

Pure, mirroring ``Royalties.push``:

- a derivative's split routes its upstream share to the parents the right reaches: a **cover**
  reaches its parents' composition only, a **remix** or a **sample** both rights;
- the eligible parents get equal parts of the pushed running total, parent ``j`` of ``k`` owning
  units ``j, j + k, j + 2k, ...``: no dust, and no parent is ever more than one unit behind;
- pushing credits the parents' *current* split versions, so what a parent receives from its
  derivatives is split again, its own upstream share included, and can be pushed further up.

``simulate`` runs every pending push of a set of split versions in cascade order (the deepest
derivative first) without the chain: the CLI uses it to show what is "waiting in a cascade" for a
recipient, and to choose which pushes one transaction should carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from qfzz_chain.chain.types import Parent, Relation
from qfzz_chain.royalties.errors import CascadeError
from qfzz_chain.royalties.splits import MAX_CASCADE_DEPTH, UPSTREAM, Right, Split


def reaches(relation: Relation, right: Right) -> bool:
    """Whether a parent of this relation is paid from the derivative's ``right``."""
    return right == Right.COMPOSITION or relation != Relation.COVER


def eligible_parents(parents: Sequence[Parent], right: Right) -> list[bytes]:
    """The parents ``right`` pays, in registered order."""
    return [p.track_id for p in parents if reaches(p.relation, right)]


def run_of(total: int, index: int, count: int) -> int:
    """Parent ``index``'s part of a pushed running total shared by ``count`` parents."""
    whole, rest = divmod(total, count)
    return whole + (1 if index < rest else 0)


def parent_parts(before: int, total: int, count: int) -> list[int]:
    """What each of ``count`` parents gets when the pushed total grows from ``before`` to ``total``."""
    return [run_of(total, j, count) - run_of(before, j, count) for j in range(count)]


def depths(parents: Mapping[bytes, Sequence[Parent]]) -> dict[bytes, int]:
    """Each track's generations below an original (0 for one): the longest chain of parents.

    ``parents`` maps every track to its registered parents (a parent absent from the map is an
    original). The registry makes cycles impossible (a parent's commitment is always older);
    a map that has one anyway is refused rather than looped on.
    """
    found: dict[bytes, int] = {}

    def depth(track: bytes, path: tuple[bytes, ...]) -> int:
        if track in found:
            return found[track]
        if track in path:
            raise CascadeError(f"the parents of 0x{track.hex()} form a cycle")
        ups = parents.get(track, ())
        value = 0 if not ups else 1 + max(depth(p.track_id, path + (track,)) for p in ups)
        found[track] = value
        return value

    for track in parents:
        depth(track, ())
    return found


def check_depth(track_id: bytes, depth: int) -> None:
    if depth > MAX_CASCADE_DEPTH:
        raise CascadeError(
            f"0x{track_id.hex()} is {depth} generations below an original; royalties follow at most {MAX_CASCADE_DEPTH}"
        )


@dataclass
class VersionState:
    """One split version of one right in one token, as the chain holds it."""

    track_id: bytes
    right: Right
    version: int
    split: Split | None  # None: no split set yet (money waits for the first one)
    received: int
    pushed: int = 0
    withdrawn: dict[str, int] = field(default_factory=dict)

    def owed_upstream(self) -> int:
        if self.split is None or not self.split.upstream_bps:
            return 0
        return self.split.runs()[UPSTREAM].entitled(self.received) - self.pushed


@dataclass(frozen=True)
class PushStep:
    """One push the simulation made: a split version, its parents, and what each parent got."""

    track_id: bytes
    right: Right
    version: int
    parents: tuple[Parent, ...]
    amount: int
    credits: tuple[tuple[bytes, int], ...]


def simulate(
    versions: Iterable[VersionState],
    parents: Mapping[bytes, Sequence[Parent]],
    current: Mapping[tuple[bytes, Right], int],
) -> tuple[dict[tuple[bytes, Right, int], VersionState], list[PushStep]]:
    """Push everything owed upstream, deepest derivatives first, on copies of ``versions``.

    ``current`` gives each (track, right)'s current version, where pushed money lands; a
    parent with no known state yet gets one (version 0, no split). Returns the state after the
    pushes and the steps taken (only those that moved something).
    """
    state = {(v.track_id, v.right, v.version): VersionState(
        v.track_id, v.right, v.version, v.split, v.received, v.pushed, dict(v.withdrawn)) for v in versions}
    generation = depths({**{t: () for t, _ in current}, **parents})
    order = sorted(state, key=lambda key: (-generation.get(key[0], 0), key[0], key[1], key[2]))
    steps: list[PushStep] = []
    queue = list(order)
    while queue:
        key = queue.pop(0)
        node = state[key]
        amount = node.owed_upstream()
        if amount <= 0:
            continue
        ups = tuple(parents.get(node.track_id, ()))
        targets = eligible_parents(ups, node.right)
        if not targets:
            raise CascadeError(f"0x{node.track_id.hex()} routes a share upstream but has no {node.right.label} parents")
        parts = parent_parts(node.pushed, node.pushed + amount, len(targets))
        node.pushed += amount
        credits = []
        for parent_id, part in zip(targets, parts):
            if part == 0:
                continue
            version = current.get((parent_id, node.right), 0)
            target = state.setdefault((parent_id, node.right, version),
                                      VersionState(parent_id, node.right, version, None, 0))  # fmt: skip
            target.received += part
            credits.append((parent_id, part))
            if (parent_id, node.right, version) not in queue:
                queue.append((parent_id, node.right, version))  # what it just got may go further up
        steps.append(PushStep(node.track_id, node.right, node.version, ups, amount, tuple(credits)))
    return state, steps
