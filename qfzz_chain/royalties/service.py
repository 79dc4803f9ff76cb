"""The artist's and the payer's royalty tasks, tying the Royalties contract, the TrackRegistry and
the pure cores together: set splits (recording the lineage they need first), pay, push a
cascade, show balances (what a push would still bring), withdraw, trace a track's flows, and run
listening epochs from a file.

Every check the contract makes is made first, with the words a person needs ("final on
2025-06-01 14:02 UTC", "this track's parents must be recorded first"), so a refused transaction
costs nothing.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from web3 import Web3

from web3.logs import DISCARD

from qfzz_chain.chain.errors import UnknownTrackError
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.track_registry import TrackHistory, TrackRegistry
from qfzz_chain.chain.transactions import Receipt
from qfzz_chain.chain.types import Parent
from qfzz_chain.royalties import cascade, epochs, flows
from qfzz_chain.royalties.contract import RoyaltiesContract
from qfzz_chain.royalties.errors import EpochInputError, RoyaltiesError, SplitInputError
from qfzz_chain.royalties.merkle import StandardMerkleTree
from qfzz_chain.royalties.splits import BPS, ETH, UPSTREAM, Right, Split

EPOCH_FILE_FORMAT = "qfzz.epoch/1"


def _hex(track_id: bytes) -> str:
    return "0x" + track_id.hex()


@dataclass
class Graph:
    """The registry's attribution graph: every track's parents and children."""

    histories: dict[bytes, TrackHistory]
    parents: dict[bytes, tuple[Parent, ...]] = field(default_factory=dict)
    children: dict[bytes, list[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for track_id, history in self.histories.items():
            self.parents[track_id] = history.registration.parents
            for parent in history.registration.parents:
                self.children.setdefault(parent.track_id, []).append(track_id)

    def ancestry(self, track_id: bytes) -> list[bytes]:
        """The track and every ancestor, parents before children."""
        order: list[bytes] = []

        def visit(track: bytes) -> None:
            if track in order:
                return
            for parent in self.parents.get(track, ()):
                visit(parent.track_id)
            order.append(track)

        visit(track_id)
        return order

    def descendants(self, track_ids: set[bytes]) -> set[bytes]:
        found, stack = set(track_ids), list(track_ids)
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


@dataclass(frozen=True)
class BalanceRow:
    """What one holder has in one split version of one right, in one token."""

    track_id: bytes
    right: Right
    version: int
    bps: int
    token: str
    withdrawable: int
    waiting: int  # what pushing every pending cascade would add


class RoyaltiesService:
    def __init__(self, contract: RoyaltiesContract, registry: TrackRegistry):
        self.contract = contract
        self.registry = registry
        self._graph: Graph | None = None

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = Graph(self.registry.histories())
        return self._graph

    # ---- lineage and splits ----------------------------------------------------------------

    def _require_final(self, track_id: bytes, what: str) -> None:
        if not self.registry.is_final(track_id):
            record = self.registry.get(track_id)
            final_at = record.registered_at + self.registry.max_commitment_age() + 1
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(final_at))
            raise RoyaltiesError(
                f"track {_hex(track_id)} is not final until {when} (an older commitment could still take the "
                f"registration over): {what} after that"
            )

    def missing_lineage(self, track_id: bytes) -> list[bytes]:
        """The track's ancestors (and itself) whose lineage is not recorded yet, parents first."""
        if track_id not in self.graph.histories:
            raise UnknownTrackError(f"no track {_hex(track_id)} is registered on this chain")
        order = self.graph.ancestry(track_id)
        depth = cascade.depths({t: self.graph.parents.get(t, ()) for t in order})
        cascade.check_depth(track_id, depth[track_id])
        return [t for t in order if not self.contract.track_state(t).lineage_recorded]

    def record_lineage(self, sender: Sender, track_id: bytes) -> list[Receipt]:
        """Record what the track's splits need: its lineage and every ancestor's, parents first."""
        receipts = []
        for track in self.missing_lineage(track_id):
            self._require_final(track, "its lineage can be recorded")
            receipts.append(self.contract.record_lineage(sender, track, self.graph.parents.get(track, ())))
        return receipts

    def set_splits(
        self, sender: Sender, track_id: bytes, splits: dict[Right, Split], *, lock: bool = False
    ) -> dict:
        """Set (a new version of) each given right's split, after recording the lineage it needs."""
        if not splits:
            raise SplitInputError("give --composition and/or --master")
        state = self.contract.track_state(track_id) if track_id in self.graph.histories else None
        if state is None:
            raise UnknownTrackError(f"no track {_hex(track_id)} is registered on this chain")
        artist = self.registry.get(track_id).artist
        for right, split in splits.items():
            if not state.is_set(right):
                if Web3.to_checksum_address(sender.address) != artist:
                    raise RoyaltiesError(
                        f"only the track's artist ({artist}) sets the first {right.label} split; you are {sender.address}"
                    )
                self._require_final(track_id, "its splits can be set")
            else:
                if state.is_locked(right):
                    raise RoyaltiesError(f"the {right.label} split of {_hex(track_id)} is locked forever")
                controller, _ = self.contract.controller_of(track_id, right)
                if controller != Web3.to_checksum_address(sender.address):
                    raise RoyaltiesError(f"the {right.label} split is controlled by {controller}, not {sender.address}")
            parents = self.graph.parents.get(track_id, ())
            if split.upstream_bps and not cascade.eligible_parents(parents, right):
                kind = "parents" if right == Right.COMPOSITION else "remix or sample parents"
                raise SplitInputError(f"{_hex(track_id)} has no {kind}: its {right.label} split cannot route a share upstream")
            if not split.upstream_bps and cascade.eligible_parents(parents, right):
                raise SplitInputError(
                    f"{_hex(track_id)} derives from other tracks: its {right.label} split must route a share to its "
                    "parents (add parents=BPS or parents=PERCENT%)"
                )
        lineage = [] if state.lineage_recorded or not self.graph.parents.get(track_id) else self.record_lineage(sender, track_id)
        done = {"track_id": _hex(track_id), "lineage_transactions": [r.transaction for r in lineage], "splits": {}}
        for right, split in splits.items():
            receipt = self.contract.set_split(sender, track_id, right, split)
            version = self.contract.track_state(track_id).version(right)
            entry = {"version": version, "hash": "0x" + split.hash.hex(), "transaction": receipt.transaction,
                     "gas_used": receipt.gas_used, "locked": False}  # fmt: skip
            if lock:
                entry["lock_transaction"] = self.contract.lock_split(sender, track_id, right).transaction
                entry["locked"] = True
            done["splits"][right.label] = entry
        return done

    # ---- paying ----------------------------------------------------------------------------

    def pay(self, sender: Sender, track_id: bytes, amount: int, token: str, composition_bps: int) -> dict:
        state = self.contract.track_state(track_id)
        for right, needed in ((Right.COMPOSITION, composition_bps > 0), (Right.MASTER, composition_bps < BPS)):
            if needed and not state.is_set(right):
                if track_id not in self.graph.histories:
                    raise UnknownTrackError(f"no track {_hex(track_id)} is registered on this chain")
                raise RoyaltiesError(f"track {_hex(track_id)} has no {right.label} split yet: nobody to pay under it")
        approval = None
        if token == ETH:
            receipt = self.contract.pay(sender, track_id, amount, composition_bps)
        else:
            approval = self.contract.approve_if_needed(sender, token, amount)
            receipt = self.contract.pay_token(sender, track_id, token, amount, composition_bps)
        paid = self._event(receipt, "Paid")
        return {"track_id": _hex(track_id), "token": token, "composition": paid.composition, "master": paid.master,
                "transaction": receipt.transaction, "gas_used": receipt.gas_used,
                "approval_transaction": approval.transaction if approval else None}  # fmt: skip

    def _event(self, receipt: Receipt, name: str):
        """The first ``name`` event of a receipt, decoded (other contracts' logs are skipped)."""
        full = self.contract.w3.eth.get_transaction_receipt(receipt.transaction)
        return getattr(self.contract.contract.events, name)().process_receipt(full, errors=DISCARD)[0].args

    # ---- the cascade -----------------------------------------------------------------------

    def version_states(self, tracks: set[bytes], token: str) -> tuple[list[cascade.VersionState], dict]:
        """Every split version of ``tracks`` in ``token`` (plus the split-less version 0 of rights
        that received money before a split), and each right's current version."""
        versions: list[cascade.VersionState] = []
        current: dict[tuple[bytes, Right], int] = {}
        by_track: dict[bytes, list] = {}
        for sv in self.contract.split_versions():
            if sv.track_id in tracks:
                by_track.setdefault(sv.track_id, []).append(sv)
        for track in tracks:
            state = self.contract.track_state(track)
            for right in Right:
                current[(track, right)] = state.version(right)
            seen = set()
            for sv in by_track.get(track, []):
                seen.add((sv.right, sv.version))
                received = self.contract.received(track, sv.right, sv.version, token)
                pushed = self.contract.withdrawn(track, sv.right, sv.version, UPSTREAM, token) if sv.split.upstream_bps else 0
                versions.append(cascade.VersionState(track, sv.right, sv.version, sv.split, received, pushed))
            for right in Right:
                if (right, 0) not in seen:
                    received = self.contract.received(track, right, 0, token)
                    if received:
                        versions.append(cascade.VersionState(track, right, 0, None, received))
        return versions, current

    def plan_push(self, track_id: bytes | None, token: str) -> list[cascade.PushStep]:
        """The pushes that carry what ``track_id`` owes up its whole ancestry (or, with None, every
        pending cascade), in the order one transaction must make them."""
        graph = self.graph
        if track_id is not None and track_id not in graph.histories:
            raise UnknownTrackError(f"no track {_hex(track_id)} is registered on this chain")
        tracks = set(graph.ancestry(track_id)) if track_id is not None else set(graph.histories)
        versions, current = self.version_states(tracks, token)
        _, steps = cascade.simulate(versions, {t: graph.parents.get(t, ()) for t in tracks}, current)
        return steps

    def push(self, sender: Sender, track_id: bytes | None, token: str) -> dict:
        steps = self.plan_push(track_id, token)
        if not steps:
            where = f"from {_hex(track_id)}" if track_id is not None else "anywhere"
            raise RoyaltiesError(f"nothing is waiting to be pushed {where} in {self.token_label(token)}")
        nodes = [(s.track_id, s.right, s.version, s.parents) for s in steps]
        receipt = self.contract.push(sender, token, nodes)
        return {
            "token": token, "transaction": receipt.transaction, "gas_used": receipt.gas_used,
            "pushes": [{"from": _hex(s.track_id), "right": s.right.label, "version": s.version, "amount": s.amount,
                        "to": [{"parent": _hex(p), "amount": a} for p, a in s.credits]} for s in steps],
        }  # fmt: skip

    # ---- balances and withdrawals ----------------------------------------------------------

    def holdings(self, address: str) -> list:
        """Every split version ``address`` holds a share of (SplitSet events)."""
        address = Web3.to_checksum_address(address)
        return [sv for sv in self.contract.split_versions() if address in sv.split.recipients]

    def balance(self, address: str, tokens: list[str] | None = None) -> list[BalanceRow]:
        """Per track, right, version and token: withdrawable now, and waiting in a cascade."""
        address = Web3.to_checksum_address(address)
        held = self.holdings(address)
        if not held:
            return []
        tokens = tokens or self.contract.tokens_seen()
        mine = {sv.track_id for sv in held}
        tracks = self.graph.descendants(mine) | {a for t in mine for a in self.graph.ancestry(t)}
        rows = []
        for token in tokens:
            versions, current = self.version_states(tracks, token)
            after, _ = cascade.simulate(versions, {t: self.graph.parents.get(t, ()) for t in tracks}, current)
            before = {(v.track_id, v.right, v.version): v.received for v in versions}
            for sv in held:
                run = sv.split.runs()[address]
                now = self.contract.owed(sv.track_id, sv.right, sv.version, address, token)
                key = (sv.track_id, sv.right, sv.version)
                grown = after[key].received if key in after else before.get(key, 0)
                waiting = run.entitled(grown) - run.entitled(before.get(key, 0))
                if now or waiting:
                    rows.append(BalanceRow(sv.track_id, sv.right, sv.version, sv.split.share_of(address), token, now,
                                           waiting))  # fmt: skip
        return rows

    def withdraw(self, sender: Sender, tokens: list[str] | None = None) -> dict:
        rows = [r for r in self.balance(sender.address, tokens) if r.withdrawable]
        if not rows:
            raise RoyaltiesError(f"nothing is owed to {sender.address} now (a pending cascade needs a push first)")
        shares = sorted({(r.track_id, r.right, r.version) for r in rows})
        chosen = [t for t in dict.fromkeys(r.token for r in rows)]
        receipt = self.contract.withdraw(sender, list(shares), chosen)
        paid: dict[str, int] = {}
        for r in rows:
            paid[r.token] = paid.get(r.token, 0) + r.withdrawable
        return {"recipient": sender.address, "paid": paid, "shares": len(shares), "transaction": receipt.transaction,
                "gas_used": receipt.gas_used}  # fmt: skip

    # ---- a track's flows -------------------------------------------------------------------

    def flows(self, track_id: bytes) -> list[flows.FlowRow]:
        if track_id not in self.graph.histories:
            raise UnknownTrackError(f"no track {_hex(track_id)} is registered on this chain")
        payments = self.contract.payments(track_id)
        pushes_in = self.contract.pushes(parent_id=track_id)
        pushes_out = self.contract.pushes(track_id=track_id)
        claims = self.contract.epoch_claims(track_id)
        epoch_tokens = {p.epoch_id: p.token for p in self.contract.epoch_postings()} if claims else {}
        tokens = list(dict.fromkeys([*(p.token for p in payments), *(p.token for p in pushes_in),
                                     *epoch_tokens.values()]))  # fmt: skip
        versions = []
        known = {(sv.right, sv.version): sv.split for sv in self.contract.split_versions(track_id)}
        state = self.contract.track_state(track_id)
        for right in Right:
            for version in range(state.version(right) + 1):
                split = known.get((right, version))
                for token in tokens:
                    received = self.contract.received(track_id, right, version, token)
                    if not received:
                        continue
                    holders = []
                    if split is None:  # money waiting for the right's first split
                        holders.append(flows.HolderState("(no split yet)", 0, received))
                    else:
                        for holder in split.runs():
                            paid = self.contract.withdrawn(track_id, right, version, holder, token)
                            due = self.contract.owed(track_id, right, version, holder, token)
                            holders.append(flows.HolderState(holder, paid, due))
                    versions.append(flows.VersionFlows(right, version, token, received, tuple(holders)))
        rows = flows.track_flows(track_id, payments, pushes_in, pushes_out, claims, versions)
        rows = flows.with_epoch_tokens(rows, epoch_tokens)
        flows.check_balanced(rows)
        return rows

    # ---- tokens ----------------------------------------------------------------------------

    def token_label(self, token: str) -> str:
        return self.contract.token_symbol(token)

    def decimals(self, token: str) -> int:
        return self.contract.token_decimals(token)

    # ---- listening epochs ------------------------------------------------------------------

    def post_epoch(self, sender: Sender, path: Path) -> dict:
        epoch = read_epoch_file(path)
        if epoch.get("epoch_id") is not None and epoch.get("royalties") == self.contract.address:
            raise EpochInputError(f"{path} was posted already as epoch {epoch['epoch_id']}")
        tree, token, pool = epoch["_tree"], epoch["token"], int(epoch["pool"])
        approval = None if token == ETH else self.contract.approve_if_needed(sender, token, pool)
        receipt = self.contract.post_epoch(sender, token, pool, tree.root, len(tree))
        posted = self._event(receipt, "EpochPosted")
        epoch.update(epoch_id=posted.epochId, royalties=self.contract.address, chain_id=self.contract.w3.eth.chain_id,
                     posted_in=receipt.transaction)  # fmt: skip
        write_epoch_file(path, epoch)
        return {"epoch_id": posted.epochId, "root": "0x" + tree.root.hex(), "leaves": len(tree), "pool": pool,
                "token": token, "transaction": receipt.transaction, "gas_used": receipt.gas_used,
                "approval_transaction": approval.transaction if approval else None}  # fmt: skip

    def claim_epoch(self, sender: Sender, path: Path, track_ids: list[bytes] | None = None,
                    epoch_id: int | None = None) -> list[dict]:  # fmt: skip
        epoch = read_epoch_file(path)
        epoch_id = epoch.get("epoch_id") if epoch_id is None else epoch_id
        if epoch_id is None:
            raise EpochInputError(f"{path} has not been posted yet: `qfzz royalties epoch post {path}` first")
        tree: StandardMerkleTree = epoch["_tree"]
        root, _, _ = self.contract.epoch(epoch_id)
        if root != tree.root:
            raise EpochInputError(f"epoch {epoch_id} on this chain has another root than {path}")
        wanted = set(track_ids) if track_ids else None
        done = []
        for position, (index, track_id, composition, master) in enumerate(tree.values):
            if wanted is not None and track_id not in wanted:
                continue
            if self.contract.is_claimed(epoch_id, index):
                if wanted is not None:
                    done.append({"track_id": _hex(track_id), "index": index, "claimed": "already"})
                continue
            state = self.contract.track_state(track_id)
            if (composition and not state.is_set(Right.COMPOSITION)) or (master and not state.is_set(Right.MASTER)):
                done.append({"track_id": _hex(track_id), "index": index, "claimed": "waiting for its splits"})
                continue
            receipt = self.contract.claim_epoch(sender, epoch_id, index, track_id, composition, master,
                                                tree.proof(position))  # fmt: skip
            done.append({"track_id": _hex(track_id), "index": index, "composition": composition, "master": master,
                         "claimed": "now", "transaction": receipt.transaction, "gas_used": receipt.gas_used})
        if wanted is not None and not done:
            raise EpochInputError(f"none of the given tracks is in {path}")
        return done


# ---- epoch files ---------------------------------------------------------------------------


def build_epoch(amounts: dict[bytes, int], *, pool: int, token: str, scheme: str, composition_bps: int) -> dict:
    tree = epochs.epoch_tree(amounts, composition_bps)
    if epochs.tree_total(tree) != pool:
        raise EpochInputError(f"the amounts add up to {epochs.tree_total(tree)}, not the pool's {pool}")
    return {"format": EPOCH_FILE_FORMAT, "scheme": scheme, "token": token, "pool": str(pool),
            "composition_bps": composition_bps, "root": "0x" + tree.root.hex(), "leaves": len(tree),
            "tree": tree.dump(), "_tree": tree}  # fmt: skip


def write_epoch_file(path: Path, epoch: dict) -> None:
    data = {k: v for k, v in epoch.items() if not k.startswith("_")}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(temporary, path)


def read_epoch_file(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise EpochInputError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise EpochInputError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != EPOCH_FILE_FORMAT:
        raise EpochInputError(f"{path} is not an epoch file (made by `qfzz royalties epoch build`)")
    data["_tree"] = StandardMerkleTree.load(data["tree"])
    if "0x" + data["_tree"].root.hex() != data.get("root"):
        raise EpochInputError(f"{path}: its root does not match its tree")
    if epochs.tree_total(data["_tree"]) != int(data["pool"]):
        raise EpochInputError(f"{path}: its leaves add up to {epochs.tree_total(data['_tree'])}, not the pool's {data['pool']}")
    return data


def read_plays(path: Path, resolve) -> tuple[dict[bytes, int], list[tuple[str, bytes, int]]]:
    """Play counts from a CSV: ``track,plays`` or ``listener,track,plays`` (a header row is
    allowed). ``resolve`` turns a track id or CID into the id. Returns per-track totals and the
    per-listener rows (empty without a listener column)."""
    import csv

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise EpochInputError(f"cannot read {path}: {exc.strerror}") from exc
    totals: dict[bytes, int] = {}
    listens: list[tuple[str, bytes, int]] = []
    resolved: dict[str, bytes] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and not cells[-1].isdigit():
            continue  # a header
        if len(cells) not in (2, 3) or not cells[-1].isdigit():
            raise EpochInputError(f"{path}:{number}: expected track,plays or listener,track,plays")
        ref = cells[-2]
        if ref not in resolved:
            resolved[ref] = resolve(ref)
        track_id, plays = resolved[ref], int(cells[-1])
        totals[track_id] = totals.get(track_id, 0) + plays
        if len(cells) == 3:
            listens.append((cells[0], track_id, plays))
    if not totals:
        raise EpochInputError(f"{path} has no play counts")
    return totals, listens
