"""Where every unit a track earned went: a flow table, balanced to the unit, and its chart.

Pure: it takes what the chain says (payments, pushes and epoch claims into the track; each
split version's holders with what they withdrew and what they are owed) and lays it out as rows
``source -> destination``. For each token, what came in equals what went out plus what is still
owed, exactly; ``check_balanced`` says so or names the difference (a gap means the events read
and the state read disagree, e.g. a node that dropped logs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from qfzz_chain.royalties.errors import RoyaltiesError
from qfzz_chain.royalties.splits import UPSTREAM, Right


@dataclass(frozen=True)
class FlowRow:
    """One flow into or out of the track, in one token and one right."""

    direction: str  # "in" or "out"
    source: str  # who paid ("payment from 0x..", "derivative 0x..", "epoch 3") or the track
    destination: str  # the track, or a recipient / parent / "upstream (not pushed yet)"
    right: Right
    version: int | None
    token: str
    amount: int
    state: str  # in: "paid", "pushed", "claimed"; out: "withdrawn", "owed", "pushed", "waiting"


@dataclass(frozen=True)
class HolderState:
    """A holder of one split version: the zero address is the upstream share."""

    holder: str
    withdrawn: int
    owed: int


@dataclass(frozen=True)
class VersionFlows:
    right: Right
    version: int
    token: str
    received: int
    holders: tuple[HolderState, ...]


def short(value: str | bytes) -> str:
    text = "0x" + value.hex() if isinstance(value, bytes) else value
    return text if len(text) <= 14 else f"{text[:8]}..{text[-4:]}"


def track_flows(
    track_id: bytes,
    payments: Iterable,  # contract.Payment
    pushes_in: Iterable,  # contract.PushEvent with parent_id == track_id
    pushes_out: Iterable,  # contract.PushEvent with track_id == track_id
    claims: Iterable,  # contract.EpochClaim
    versions: Iterable[VersionFlows],
) -> list[FlowRow]:
    """Rows in: payments (by payer), derivatives' pushes (by derivative), epoch claims; rows out:
    each holder's withdrawn and owed, the upstream share pushed to each parent or still waiting."""
    me = short(track_id)
    rows: list[FlowRow] = []
    for p in payments:
        for right, amount in ((Right.COMPOSITION, p.composition), (Right.MASTER, p.master)):
            if amount:
                rows.append(FlowRow("in", f"payment from {short(p.payer)}", me, right, None, p.token, amount, "paid"))
    for p in pushes_in:
        rows.append(FlowRow("in", f"derivative {short(p.track_id)}", me, p.right, None, p.token, p.amount, "pushed"))
    for c in claims:
        for right, amount in ((Right.COMPOSITION, c.composition), (Right.MASTER, c.master)):
            if amount:
                rows.append(FlowRow("in", f"epoch {c.epoch_id}", me, right, None, "", amount, "claimed"))
    pushed_to: dict[tuple[Right, int, str], list] = defaultdict(list)
    for p in pushes_out:
        pushed_to[(p.right, p.version, p.token)].append(p)
    for v in versions:
        for h in v.holders:
            if h.holder == UPSTREAM:
                for p in pushed_to.get((v.right, v.version, v.token), []):
                    rows.append(FlowRow("out", me, f"parent {short(p.parent_id)}", v.right, v.version, v.token,
                                        p.amount, "pushed"))  # fmt: skip
                if h.owed:
                    rows.append(FlowRow("out", me, "upstream (not pushed yet)", v.right, v.version, v.token, h.owed,
                                        "waiting"))  # fmt: skip
                continue
            if h.withdrawn:
                rows.append(FlowRow("out", me, short(h.holder), v.right, v.version, v.token, h.withdrawn, "withdrawn"))
            if h.owed:
                rows.append(FlowRow("out", me, short(h.holder), v.right, v.version, v.token, h.owed, "owed"))
    return rows


def with_epoch_tokens(rows: list[FlowRow], epoch_tokens: dict[int, str]) -> list[FlowRow]:
    """Fill in the token of epoch rows (an epoch claim's event does not carry it)."""
    filled = []
    for row in rows:
        if row.state == "claimed" and not row.token:
            epoch_id = int(row.source.split()[-1])
            row = FlowRow(row.direction, row.source, row.destination, row.right, row.version,
                          epoch_tokens.get(epoch_id, ""), row.amount, row.state)  # fmt: skip
        filled.append(row)
    return filled


def totals(rows: Iterable[FlowRow]) -> dict[str, dict[str, int]]:
    """Per token: everything in, everything out (withdrawn, owed, pushed, waiting)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    for row in rows:
        found[row.token][row.direction] += row.amount
    return dict(found)


def check_balanced(rows: Iterable[FlowRow]) -> None:
    for token, sums in totals(rows).items():
        if sums["in"] != sums["out"]:
            raise RoyaltiesError(
                f"the flows of {token} do not balance: {sums['in']} in, {sums['out']} out; the node's logs and "
                "state disagree (was the chain reset or are logs pruned?)"
            )


def draw_flows(rows: list[FlowRow], token: str, title: str, path, format_value) -> None:
    """One token's flows as two stacked bars of the same length: what came in, by source, and
    where it went, by destination and state (a withdrawn part is solid, an owed part hatched)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ins: dict[str, int] = defaultdict(int)
    outs: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if row.token != token:
            continue
        if row.direction == "in":
            ins["payments" if row.source.startswith("payment") else row.source] += row.amount
        else:
            outs[(row.destination, row.state)] += row.amount
    total = sum(ins.values())
    if not total:
        raise RoyaltiesError(f"the track received nothing in {token}: nothing to draw")
    figure, axes = plt.subplots(figsize=(11, 3.6))
    colours = plt.get_cmap("tab20").colors
    left = 0.0
    for n, (label, amount) in enumerate(ins.items()):
        axes.barh(1, amount / total, left=left, color=colours[(2 * n) % 20], edgecolor="white")
        axes.text(left + amount / total / 2, 1, f"{label}\n{format_value(amount)}", ha="center", va="center", fontsize=8)
        left += amount / total
    left = 0.0
    people = sorted({destination for destination, _ in outs})
    for (destination, state), amount in sorted(outs.items(), key=lambda kv: (people.index(kv[0][0]), kv[0][1])):
        colour = colours[(2 * people.index(destination) + 1) % 20]
        axes.barh(0, amount / total, left=left, color=colour, edgecolor="white",
                  hatch="//" if state in ("owed", "waiting") else None)  # fmt: skip
        axes.text(left + amount / total / 2, 0, f"{destination}\n{state} {format_value(amount)}", ha="center",
                  va="center", fontsize=7)  # fmt: skip
        left += amount / total
    axes.set_yticks([1, 0], ["came in", "went to"])
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of everything the track received (hatched: owed, not withdrawn yet)")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
