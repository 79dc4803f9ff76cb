"""A committee node: one process that batches an epoch's recommendations with its peers, signs
the root it computed itself, and (when it leads) aggregates the signatures and anchors them.

Protocol (docs/oracle.md has it in full), per closed epoch ``e``, attempt ``k`` = 0, 1, …:

1. The leader of ``(e, k)`` is the ``(e + k) mod n``-th member of ``e``'s committee (by index).
   It proposes the epoch's inputs: every listener request it holds for ``e`` or earlier that no
   anchored epoch included, and the model version the contract has active at ``e``.
2. Each member checks the inputs against their digest, computes the batch from the same model
   state, writes the root to its journal and only then signs it, and answers with its
   signature. A member signs at most one root per epoch: proposed other inputs, it answers
   ``locked`` with the inputs it signed, which a later leader adopts. Signatures are also sent
   to every peer, so a member that signs two roots for one epoch is caught (equivocation
   evidence, kept in ``evidence/``).
3. The leader aggregates at least two thirds (waiting briefly for the rest) and anchors. If no
   anchor appears within ``attempt_seconds``, attempt ``k + 1`` starts with the next leader.
4. Once ``e`` is anchored, every member folds its listens into the model for good and serves
   the listeners their receipts with Merkle proofs.

Crash safety: every step is journalled before its effect leaves the node (the lock before the
signature, the transaction hash before waiting), and on restart the node rebuilds its model
from the version's manifest plus the inputs of the epochs it applied, then carries on from its
journal; the contract anchors an epoch once. ``crash_point`` names the moments tests kill it at.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qfzz_chain.failpoints import crash_point
from qfzz_chain.journal import Journal
from qfzz_chain.oracle.batch import Batch, apply_inputs, compute_batch
from qfzz_chain.oracle.catalogue import Catalogue, registered_tracks
from qfzz_chain.oracle.chain import BatchHeader, Committee, RecommendationOracle
from qfzz_chain.oracle.epoch import EpochInputs, Request, Sponsorship
from qfzz_chain.oracle.errors import BatchError, NodeError, OracleError
from qfzz_chain.oracle.tree import ReceiptTree

log = logging.getLogger("qfzz.oracle.node")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
POLL_SECONDS = 0.3
MAX_BACKOFF_SECONDS = 30.0  # an unreachable RPC is retried after 1, 2, 4 ... 30 s


@dataclass(frozen=True)
class Peer:
    index: int
    host: str
    port: int


@dataclass(frozen=True)
class NodeConfig:
    """What one node needs: its member index, where every member listens, the chain, its files."""

    index: int
    peers: dict[int, Peer]
    rpc_url: str
    oracle: str
    home: Path
    bls_key: bytes
    operator_key: bytes
    ipfs_repo: Path | None = None
    dataset: Path | None = None
    registry: str | None = None  # the TrackRegistry whose tagged tracks join the catalogue
    registry_first_block: int = 0
    curation: str | None = None  # the EmergingArtistCuration whose listed artists the lists lift
    grace_seconds: float = 0.5
    attempt_seconds: float = 8.0
    collect_seconds: float = 1.0

    @property
    def me(self) -> Peer:
        return self.peers[self.index]

    @classmethod
    def load(cls, committee_file: Path, index: int) -> "NodeConfig":
        """From the committee file `qfzz oracle committee init` writes, for member ``index``."""
        try:
            committee = json.loads(Path(committee_file).read_text())
            members = {int(m["index"]): m for m in committee["members"]}
            mine = members[index]
            peers = {i: Peer(i, m["host"], int(m["port"])) for i, m in members.items()}
            return cls(
                index=index, peers=peers, rpc_url=committee["rpc_url"], oracle=committee["oracle"],
                home=Path(mine["home"]), bls_key=bytes.fromhex(Path(mine["bls_key_file"]).read_text().strip()),
                operator_key=bytes.fromhex(Path(mine["operator_key_file"]).read_text().strip().removeprefix("0x")),
                ipfs_repo=Path(committee["ipfs_repo"]) if committee.get("ipfs_repo") else None,
                dataset=Path(committee["dataset"]) if committee.get("dataset") else None,
                registry=committee.get("registry"), registry_first_block=int(committee.get("registry_first_block", 0)),
                curation=committee.get("curation"),
                grace_seconds=float(committee.get("grace_seconds", 0.5)),
                attempt_seconds=float(committee.get("attempt_seconds", 8.0)),
                collect_seconds=float(committee.get("collect_seconds", 1.0)),
            )  # fmt: skip
        except KeyError as exc:
            raise NodeError(f"{committee_file}: no member {index} or a missing field {exc}") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise NodeError(f"{committee_file} is not a committee file written by `qfzz oracle committee init`: {exc}") from exc


# ---- the wire: one JSON line out, one JSON line back ------------------------------------------


async def ask(peer: Peer, message: dict, timeout: float = 10.0) -> dict:
    """Send one message to ``peer`` and wait for its one reply."""
    async def exchange() -> dict:
        reader, writer = await asyncio.open_connection(peer.host, peer.port, limit=MAX_MESSAGE_BYTES)
        try:
            writer.write(json.dumps(message).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
        if not line:
            raise ConnectionError(f"member {peer.index} closed the connection")
        return json.loads(line)

    return await asyncio.wait_for(exchange(), timeout)


def ask_blocking(host: str, port: int, message: dict, timeout: float = 30.0) -> dict:
    """``ask`` for a command-line tool: a listener asking the node that served it."""
    try:
        return asyncio.run(ask(Peer(-1, host, port), message, timeout))
    except (OSError, asyncio.TimeoutError, ConnectionError, ValueError) as exc:
        raise NodeError(f"no answer from the node at {host}:{port} ({type(exc).__name__}: {exc})") from exc


# ---- the node ---------------------------------------------------------------------------------


@dataclass
class EpochRound:
    """What this node knows of an epoch it has not applied yet."""

    epoch: int
    closed_at: float
    signatures: dict[int, bytes] = field(default_factory=dict)  # member -> signature on the leader's message
    proposal: bytes | None = None  # inputs digest the leader proposed in its current attempt
    adopted: bytes | None = None  # inputs other members signed, which this leader proposes next
    anchoring: bool = False


class Node:
    def __init__(self, config: NodeConfig):
        from qfzz_chain.chain.connection import connect
        from qfzz_chain.chain.signer import Sender
        from qfzz_chain.ipfs import open_store
        from qfzz_chain.zk import bls

        self.config = config
        self.bls = bls
        self.secret_key = bls.secret_key_from_bytes(config.bls_key)
        self.public_key = bls.public_key(self.secret_key)
        from eth_account import Account

        operator = Account.from_key(config.operator_key)
        self.operator = Sender(operator.address, bytes(operator.key))
        self.w3 = connect(config.rpc_url)
        self.oracle = RecommendationOracle(self.w3, config.oracle)
        if config.ipfs_repo is not None:
            os.environ.setdefault("QFZZ_IPFS_REPO", str(config.ipfs_repo))
        self.store = open_store()
        self.registry = None
        if config.registry is not None:
            from qfzz_chain.chain.abi import load_abi
            from qfzz_chain.chain.track_registry import TrackRegistry

            self.registry = TrackRegistry(self.w3, config.registry, load_abi("TrackRegistry"), config.registry_first_block)
        self.curation = None
        if config.curation is not None and self.registry is not None:
            from qfzz_chain.curation.chain import EmergingArtistCuration

            self.curation = EmergingArtistCuration(self.w3, config.curation)
        home = Path(config.home)
        self.epochs = Journal(home / "epochs")
        self.evidence = Journal(home / "evidence")
        self.inputs_dir = home / "inputs"
        self.batches_dir = home / "batches"
        self.requests_file = home / "requests.jsonl"
        for folder in (self.inputs_dir, self.batches_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.pool: dict[str, tuple[int, Request]] = {}  # commitment -> (epoch received, request)
        self.sponsorships: dict[str, tuple[int, Sponsorship]] = {}
        # (epoch, member) -> (message, signature, batch fields) of the first signature seen
        self.seen: dict[tuple[int, int], tuple[bytes, bytes, dict]] = {}
        self.rounds: dict[int, EpochRound] = {}
        self.engine = None
        self.engine_version = 0
        self.catalogue: Catalogue | None = None
        self.member_keys: dict[int, bytes] = {}
        self._compute_lock = asyncio.Lock()
        self._dataset = None
        self._checksums = b""
        self.server: asyncio.base_events.Server | None = None

    # -- state on disk ---------------------------------------------------------------------

    def _record_request(self, epoch: int, kind: str, value: dict) -> None:
        with open(self.requests_file, "a") as out:
            out.write(json.dumps({"epoch": epoch, "kind": kind, "value": value}) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def _load_requests(self) -> None:
        if not self.requests_file.exists():
            return
        for line in self.requests_file.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash mid-write: its sender retries
            if entry["kind"] == "request":
                request = Request.from_json(entry["value"])
                self.pool.setdefault(request.commitment, (int(entry["epoch"]), request))
            else:
                sponsorship = Sponsorship.from_json(entry["value"])
                self.sponsorships.setdefault(_sponsorship_key(sponsorship), (int(entry["epoch"]), sponsorship))

    def _applied(self) -> list[tuple[int, dict]]:
        return sorted((int(key), entry) for key, entry in self.epochs.entries() if entry.get("state") in ("applied", "skipped"))

    def _inputs_path(self, digest: bytes) -> Path:
        return self.inputs_dir / f"{digest.hex()}.json"

    def _save_inputs(self, inputs: EpochInputs) -> None:
        path = self._inputs_path(inputs.digest)
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(inputs.canonical_bytes())
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
            temporary.replace(path)

    def _read_inputs(self, digest: bytes) -> EpochInputs | None:
        path = self._inputs_path(digest)
        return EpochInputs.from_bytes(path.read_bytes(), digest) if path.exists() else None

    # -- the model ---------------------------------------------------------------------------

    def _dataset_and_checksums(self):
        if self._dataset is None:
            from qfzz_chain.config import lastfm_data_path
            from qfzz_chain.recommender.data import load_lastfm

            folder = self.config.dataset or lastfm_data_path()
            self._dataset = load_lastfm(folder)
            self._checksums = (Path(folder) / "SHA256SUMS").read_bytes()
        return self._dataset, self._checksums

    def engine_for(self, epoch: int):
        """The engine serving ``epoch``: its version's manifest plus every applied epoch of that version."""
        version = self.oracle.active_model_version(epoch)
        if version == 0:
            raise BatchError(f"no model version is active at epoch {epoch}")
        if self.engine is None or self.engine_version != version:
            from qfzz_chain.oracle.manifest import load_engine

            manifest = self.oracle.model_manifest(version)
            if manifest is None:
                raise BatchError(f"model version {version} has no manifest on-chain")
            dataset, checksums = self._dataset_and_checksums()
            log.info("member %d: loading model version %d from %s", self.config.index, version, manifest[0])
            engine, _ = load_engine(self.store, str(manifest[0]), dataset, checksums)
            activation = manifest[1]
            for applied_epoch, entry in self._applied():
                if entry.get("state") == "applied" and applied_epoch >= activation and entry["model_version"] == version:
                    apply_inputs(engine, self._read_inputs(bytes.fromhex(entry["inputs"])))
            self.engine, self.engine_version, self.catalogue = engine, version, Catalogue(engine)
        return self.engine

    # -- membership --------------------------------------------------------------------------

    def committee(self, epoch: int) -> Committee:
        committee = self.oracle.committee_at(epoch)
        if any(i not in self.member_keys for i in committee.indices):
            self.member_keys = self.oracle.member_keys()
        return committee

    def leader(self, committee: Committee, epoch: int, attempt: int) -> int:
        members = committee.indices
        return members[(epoch + attempt) % len(members)]

    # -- serving -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._load_requests()
        try:
            self.server = await asyncio.start_server(self._serve, self.config.me.host, self.config.me.port,
                                                     limit=MAX_MESSAGE_BYTES)  # fmt: skip
        except OSError as exc:
            raise NodeError(f"cannot listen on {self.config.me.host}:{self.config.me.port}: {exc.strerror}") from exc
        log.info("member %d listening on %s:%d", self.config.index, self.config.me.host, self.config.me.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if not line:
                return
            try:
                message = json.loads(line)
                reply = await self.handle(message)
            except (ValueError, KeyError, TypeError) as exc:
                reply = {"type": "error", "error": f"malformed message: {exc}"}
            except OracleError as exc:
                reply = {"type": "error", "error": str(exc)}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def handle(self, message: dict) -> dict:
        kind = message["type"]
        if kind == "request":
            return self._on_request(message)
        if kind == "sponsor":
            return self._on_sponsor(message)
        if kind == "propose":
            return await self._on_propose(message)
        if kind == "signature":
            return self._on_signature(message)
        if kind == "inputs":
            inputs = self._read_inputs(bytes.fromhex(message["digest"]))
            return {"type": "inputs", "document": None if inputs is None else _b64(inputs.canonical_bytes())}
        if kind == "receipts":
            return self._on_receipts(message)
        if kind == "status":
            applied = self._applied()
            return {"type": "status", "index": self.config.index, "applied": applied[-1][0] if applied else None,
                    "pending_requests": len(self.pool), "model_version": self.engine_version}  # fmt: skip
        raise NodeError(f"unknown message type {kind!r}")

    def _on_request(self, message: dict) -> dict:
        request = Request.from_json(message["request"])
        if request.commitment in self.pool or self._included(request.commitment):
            return {"type": "ok", "duplicate": True}
        epoch = self.oracle.current_epoch()
        self._record_request(epoch, "request", request.to_json())
        self.pool[request.commitment] = (epoch, request)
        if message.get("gossip", True):
            asyncio.ensure_future(self._broadcast({"type": "request", "request": request.to_json(), "gossip": False}))
        return {"type": "ok", "epoch": epoch}

    def _on_sponsor(self, message: dict) -> dict:
        sponsorship = Sponsorship.from_json(message["sponsorship"])
        key = _sponsorship_key(sponsorship)
        if key not in self.sponsorships:
            epoch = self.oracle.current_epoch()
            self._record_request(epoch, "sponsorship", sponsorship.to_json())
            self.sponsorships[key] = (epoch, sponsorship)
            if message.get("gossip", True):
                asyncio.ensure_future(self._broadcast({"type": "sponsor", "sponsorship": sponsorship.to_json(),
                                                       "gossip": False}))  # fmt: skip
        return {"type": "ok"}

    def _included(self, commitment: str) -> bool:
        return any(commitment in entry.get("commitments", ()) for _, entry in self._applied())

    async def _broadcast(self, message: dict) -> None:
        for index, peer in self.config.peers.items():
            if index != self.config.index:
                try:
                    await ask(peer, message, timeout=5)
                except (OSError, asyncio.TimeoutError, ConnectionError, ValueError):
                    pass  # an offline peer catches up from the leader's proposal

    # -- proposing and signing ---------------------------------------------------------------

    def _inputs_for(self, epoch: int, version: int) -> EpochInputs:
        requests = tuple(r for received, r in self.pool.values() if received <= epoch)
        sponsorships = tuple(s for received, s in self.sponsorships.values() if received <= epoch)
        if not requests:  # nothing to anchor (the epoch is skipped): no registry or index to read
            return EpochInputs(epoch, version, (), sponsorships)
        block = self.w3.eth.block_number
        return EpochInputs(epoch, version, requests, sponsorships, block, self._catalogue_tracks(block),
                           self._curated(block))  # fmt: skip

    def _catalogue_tracks(self, block: int):
        """The registry's tagged tracks as of ``block`` (none without a registry)."""
        return () if self.registry is None else registered_tracks(self.registry, self.store, to_block=block)

    def _curated(self, block: int) -> tuple[int, ...]:
        """The catalogue items the emerging-artist index lists at ``block`` (none without curation)."""
        if self.curation is None:
            return ()
        from qfzz_chain.curation.ballots import curated_items

        return curated_items(self.curation, self.registry, self.store, block)

    def _check_catalogue(self, inputs: EpochInputs) -> None:
        """Refuse inputs whose catalogue is not the registry's at their block: members serve one catalogue."""
        if inputs.catalogue_block > self.w3.eth.block_number:
            raise BatchError(f"the inputs read the registry at block {inputs.catalogue_block}, beyond this node's head")
        expected = self._catalogue_tracks(inputs.catalogue_block)
        if tuple(sorted(inputs.tracks, key=lambda t: t.track_id)) != expected:
            raise BatchError(f"the inputs list {len(inputs.tracks)} registered tracks, the registry at block "
                             f"{inputs.catalogue_block} has {len(expected)} with tags: refusing to sign another catalogue")
        curated = self._curated(inputs.catalogue_block)
        if tuple(sorted(inputs.emerging)) != curated:
            raise BatchError(f"the inputs lift {len(inputs.emerging)} curated artist(s), the emerging-artist index at "
                             f"block {inputs.catalogue_block} lists {len(curated)}: refusing to sign other boosts")

    async def _on_propose(self, message: dict) -> dict:
        epoch, attempt = int(message["epoch"]), int(message["attempt"])
        committee = self.committee(epoch)
        leader = self.leader(committee, epoch, attempt)
        if int(message["leader"]) != leader:
            raise NodeError(f"member {message['leader']} is not the leader of epoch {epoch} attempt {attempt}")
        if self.config.index not in committee.indices:
            raise NodeError(f"member {self.config.index} is not in epoch {epoch}'s committee")
        locked = self.epochs.get(str(epoch))
        if locked is not None and locked.get("state") in ("applied", "skipped"):
            return {"type": "done", "epoch": epoch, "state": locked["state"]}
        if not message["digest"]:  # the leader has no requests for the epoch
            if locked is not None and locked.get("state") == "locked":
                document = self._inputs_path(bytes.fromhex(locked["inputs"])).read_bytes()
                return {"type": "locked", "epoch": epoch, "document": _b64(document), "digest": locked["inputs"]}
            self._skip(epoch, f"member {message['leader']} led it with no requests")
            return {"type": "skipped", "epoch": epoch}
        digest = bytes.fromhex(message["digest"])
        if locked is not None and locked.get("state") == "locked" and locked["inputs"] != digest.hex():
            document = self._inputs_path(bytes.fromhex(locked["inputs"])).read_bytes()
            return {"type": "locked", "epoch": epoch, "document": _b64(document), "digest": locked["inputs"]}
        inputs = EpochInputs.from_bytes(base64.b64decode(message["document"]), digest)
        if inputs.epoch != epoch or inputs.model_version != self.oracle.active_model_version(epoch):
            raise BatchError(f"the proposal for epoch {epoch} names epoch {inputs.epoch}, model {inputs.model_version}")
        self._check_catalogue(inputs)
        crash_point("member-before-lock")
        if locked is None:
            header = await self._compute_and_lock(inputs)
        else:
            header = BatchHeader(epoch, bytes.fromhex(locked["root"]), locked["leaf_count"], locked["model_version"], digest)
        signature = self.bls.signature_from_bytes(bytes.fromhex(self.epochs.get(str(epoch))["signature"]))
        crash_point("member-after-lock")
        reply = self._signature_message(header, signature)
        asyncio.ensure_future(self._broadcast(reply))
        return reply

    async def _compute_and_lock(self, inputs: EpochInputs) -> BatchHeader:
        """Compute the batch (off the event loop), keep it, journal the lock, then sign."""
        async with self._compute_lock:
            existing = self.epochs.get(str(inputs.epoch))
            if existing is not None:
                return BatchHeader(inputs.epoch, bytes.fromhex(existing["root"]), existing["leaf_count"],
                                   existing["model_version"], bytes.fromhex(existing["inputs"]))  # fmt: skip
            batch: Batch = await asyncio.get_running_loop().run_in_executor(None, self._compute, inputs)
            tree = ReceiptTree(batch.receipts)
            header = BatchHeader(inputs.epoch, tree.root, len(batch.receipts), inputs.model_version, inputs.digest)
            self._save_inputs(inputs)
            self._save_batch(batch, tree)
            signature = self.bls.sign(self.secret_key, self.oracle.message(header))
            self.epochs.put(str(inputs.epoch), {
                "state": "locked", "inputs": inputs.digest.hex(), "root": tree.root.hex(),
                "leaf_count": header.leaf_count, "model_version": header.model_version,
                "signature": bytes(signature).hex(), "commitments": sorted(r.commitment for r in inputs.requests),
            })  # fmt: skip
            return header

    def _compute(self, inputs: EpochInputs) -> Batch:
        """The batch of ``inputs`` with the model of its epoch (loaded when the version changes): in
        a worker thread, so the node keeps answering its peers meanwhile."""
        engine = self.engine_for(inputs.epoch)
        return compute_batch(engine, inputs, self.catalogue)

    def _signature_message(self, header: BatchHeader, signature) -> dict:
        return {"type": "signature", "member": self.config.index, "epoch": header.epoch, "root": header.root.hex(),
                "leaf_count": header.leaf_count, "model_version": header.model_version, "inputs": header.inputs.hex(),
                "signature": bytes(signature).hex()}  # fmt: skip

    def _on_signature(self, message: dict) -> dict:
        """A member's signature, to the leader or gossiped: kept, and checked for equivocation."""
        member, epoch = int(message["member"]), int(message["epoch"])
        header = BatchHeader(epoch, bytes.fromhex(message["root"]), int(message["leaf_count"]),
                             int(message["model_version"]), bytes.fromhex(message["inputs"]))  # fmt: skip
        signed = self.oracle.message(header)
        signature = bytes.fromhex(message["signature"])
        fields = {"epoch": epoch, "root": message["root"], "leaf_count": header.leaf_count,
                  "model_version": header.model_version, "inputs": message["inputs"]}  # fmt: skip
        earlier = self.seen.get((epoch, member))
        if earlier is not None and earlier[0] != signed:
            self._keep_evidence(member, epoch, earlier, (signed, signature, fields))
        else:
            self.seen[(epoch, member)] = (signed, signature, fields)
        current = self.rounds.get(epoch)
        if current is not None and current.proposal == header.inputs:
            current.signatures[member] = signature
        return {"type": "ok"}

    def _keep_evidence(self, member: int, epoch: int, first: tuple[bytes, bytes, dict],
                       second: tuple[bytes, bytes, dict]) -> None:  # fmt: skip
        """Two signatures by one member on two batches of one epoch: both verified, both kept.

        Format (what an on-chain equivocation check takes): the member, its 256-byte EIP-2537
        key, and for each batch its fields (epoch, root, leaf_count, model_version, inputs), the
        signed message and the 48-byte compressed signature (``bls.to_eip2537`` gives the 128-byte form).
        """
        key = self.member_keys.get(member) or self.oracle.member_keys().get(member)
        public_key = self.bls.public_key_from_eip2537(key) if key else None
        valid = public_key is not None and all(
            self.bls.verify(public_key, signed, self.bls.signature_from_bytes(sig)) for signed, sig, _ in (first, second))
        if not valid:
            return  # not this member's signatures: a forgery proves nothing against it
        self.evidence.put(f"{epoch}-{member}", {
            "member": member, "epoch": epoch, "public_key": key.hex(), "oracle": self.oracle.address,
            "chain_id": self.w3.eth.chain_id,
            "batches": [{"fields": fields, "message": signed.hex(), "signature": sig.hex()} for signed, sig, fields in
                        (first, second)],
        })  # fmt: skip
        log.warning("member %d signed two roots for epoch %d: evidence kept", member, epoch)

    # -- batches kept for the listeners ------------------------------------------------------

    def _batch_path(self, epoch: int, root: bytes) -> Path:
        return self.batches_dir / f"{epoch}-{root.hex()}.json"

    def _save_batch(self, batch: Batch, tree: ReceiptTree) -> None:
        for document in batch.documents.values():
            self.store.add_bytes(document, cid_version=1)
        placements = [{"listener": p.listener, "name": p.item_name, "lastfm_id": p.lastfm_id,
                       "receipt": {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in vars(p.receipt).items()}}
                      for p in batch.placements]  # fmt: skip
        path = self._batch_path(batch.epoch, tree.root)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"epoch": batch.epoch, "placements": placements}))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)

    def _on_receipts(self, message: dict) -> dict:
        """The receipts of ``listener`` (for ``commitments`` when given), with their proofs."""
        from qfzz_chain.oracle.receipts import Receipt

        listener, wanted = message["listener"], set(message.get("commitments") or ())
        found = []
        for epoch, entry in self._applied():
            if entry.get("state") != "applied":
                continue
            root = bytes.fromhex(entry["root"])
            data = json.loads(self._batch_path(epoch, root).read_text())
            receipts = [Receipt(**{k: (bytes.fromhex(v[2:]) if isinstance(v, str) else v) for k, v in p["receipt"].items()})
                        for p in data["placements"]]  # fmt: skip
            tree = ReceiptTree(receipts)
            for position, placement in enumerate(data["placements"]):
                commitment = placement["receipt"]["listener_commitment"]
                if placement["listener"] == listener and (not wanted or commitment in wanted):
                    found.append({"receipt": placement["receipt"], "name": placement["name"],
                                  "lastfm_id": placement["lastfm_id"], "root": root.hex(), "leaf_count": len(receipts),
                                  "proof": [p.hex() for p in tree.proof(position)]})  # fmt: skip
        return {"type": "receipts", "chain_id": self.w3.eth.chain_id, "oracle": self.oracle.address, "receipts": found}

    # -- the epoch driver ----------------------------------------------------------------------

    def _next_epoch(self) -> int:
        applied = self._applied()
        if applied:
            return applied[-1][0] + 1
        versions = self.oracle.model_manifest(1)
        return versions[1] if versions else 1

    async def run(self) -> None:
        """Drive epochs until cancelled: one epoch at a time, in order."""
        await self.start()
        try:  # load the model serving now before the first proposal needs it
            async with self._compute_lock:
                await asyncio.get_running_loop().run_in_executor(None, self.engine_for,
                                                                 max(self._next_epoch(), self.oracle.current_epoch()))
        except OracleError as exc:
            log.info("member %d: no model to load yet (%s)", self.config.index, exc)
        backoff = 0.0
        while True:
            try:
                await self._step()
                backoff = 0.0
            except OracleError as exc:
                log.warning("member %d: %s", self.config.index, exc)
            except Exception as exc:  # an unreachable RPC, a transient node error: back off and retry
                backoff = min(MAX_BACKOFF_SECONDS, max(1.0, 2 * backoff))
                log.warning("member %d: %s: %s; retrying in %.0f s", self.config.index, type(exc).__name__, exc, backoff)
                await asyncio.sleep(backoff)
            await asyncio.sleep(POLL_SECONDS)

    async def _step(self) -> None:
        epoch = self._next_epoch()
        current = self.oracle.current_epoch()
        if epoch >= current:
            return
        anchored = self.oracle.anchored_root(epoch)
        if anchored != bytes(32):
            await self._apply_anchored(epoch)
            return
        if any(self.oracle.anchored_root(later) != bytes(32) for later in range(epoch + 1, current)):
            self._skip(epoch, "a later epoch is anchored: the committee moved on without it")
            return
        round_ = self.rounds.setdefault(epoch, EpochRound(epoch, time.monotonic()))
        elapsed = time.monotonic() - round_.closed_at - self.config.grace_seconds
        if elapsed < 0:
            return
        attempt = int(elapsed // self.config.attempt_seconds)
        committee = self.committee(epoch)
        if self.config.index not in committee.indices:
            return  # not a member this epoch: wait for the anchor
        if self.leader(committee, epoch, attempt) == self.config.index and not round_.anchoring:
            await self._lead(epoch, attempt, committee, round_)

    def _skip(self, epoch: int, reason: str) -> None:
        """An epoch with nothing to anchor: its requests stay in the pool for the next one."""
        entry = self.epochs.get(str(epoch)) or {}
        if entry.get("state") == "locked":
            log.info("member %d: epoch %d skipped although this node signed a root for it", self.config.index, epoch)
        self.epochs.put(str(epoch), {"state": "skipped", "reason": reason, "locked": entry or None})
        self.rounds.pop(epoch, None)
        log.info("member %d: epoch %d skipped (%s)", self.config.index, epoch, reason)

    async def _apply_anchored(self, epoch: int) -> None:
        anchor = self.oracle.anchor_event(epoch)
        if anchor is None:
            return  # the node's RPC has the storage but not yet the log: next poll
        inputs = self._read_inputs(anchor.header.inputs) or await self._fetch_inputs(anchor.header.inputs)
        entry = self.epochs.get(str(epoch)) or {}
        if entry.get("root") != anchor.header.root.hex():
            # this node did not compute the anchored batch (it was down, or locked on other inputs)
            async with self._compute_lock:
                batch = await asyncio.get_running_loop().run_in_executor(None, self._compute, inputs)
            tree = ReceiptTree(batch.receipts)
            if tree.root != anchor.header.root:
                raise BatchError(f"epoch {epoch}: this node computes root 0x{tree.root.hex()} from the anchored "
                                 f"inputs, not the anchored 0x{anchor.header.root.hex()}")  # fmt: skip
            self._save_inputs(inputs)
            self._save_batch(batch, tree)
        crash_point("before-apply")
        async with self._compute_lock:
            engine = await asyncio.get_running_loop().run_in_executor(None, self.engine_for, epoch)
            apply_inputs(engine, inputs)
        self.epochs.put(str(epoch), {
            "state": "applied", "inputs": anchor.header.inputs.hex(), "root": anchor.header.root.hex(),
            "leaf_count": anchor.header.leaf_count, "model_version": anchor.header.model_version,
            "commitments": sorted(r.commitment for r in inputs.requests), "transaction": anchor.transaction,
            "block": anchor.block,
        })  # fmt: skip
        for request in inputs.requests:
            self.pool.pop(request.commitment, None)
        for sponsorship in inputs.sponsorships:
            self.sponsorships.pop(_sponsorship_key(sponsorship), None)
        self.rounds.pop(epoch, None)
        log.info("member %d: epoch %d anchored (%d receipts) in %s", self.config.index, epoch,
                 anchor.header.leaf_count, anchor.transaction)  # fmt: skip

    async def _fetch_inputs(self, digest: bytes) -> EpochInputs:
        for index, peer in self.config.peers.items():
            if index == self.config.index:
                continue
            try:
                reply = await ask(peer, {"type": "inputs", "digest": digest.hex()}, timeout=10)
            except (OSError, asyncio.TimeoutError, ConnectionError, ValueError):
                continue
            if reply.get("document"):
                return EpochInputs.from_bytes(base64.b64decode(reply["document"]), digest)
        raise NodeError(f"no peer holds the inputs 0x{digest.hex()} of an anchored epoch yet")

    async def _lead(self, epoch: int, attempt: int, committee: Committee, round_: EpochRound) -> None:
        version = self.oracle.active_model_version(epoch)
        if version == 0:
            return
        entry = self.epochs.get(str(epoch))
        locked = bytes.fromhex(entry["inputs"]) if entry else round_.adopted
        inputs = self._read_inputs(locked) if locked else self._inputs_for(epoch, version)
        if not inputs.requests:  # nothing to anchor: every member moves on to the next epoch
            skip = {"type": "propose", "epoch": epoch, "attempt": attempt, "leader": self.config.index, "digest": ""}
            replies = await asyncio.gather(*(self._propose_to(i, skip) for i in committee.indices if i != self.config.index))
            adopted = next((r for r in replies if r and r.get("type") == "locked"), None)
            if adopted is None:
                self._skip(epoch, "no requests")
            else:  # someone already signed inputs for it: propose those next
                round_.adopted = bytes.fromhex(adopted["digest"])
                self._save_inputs(EpochInputs.from_bytes(base64.b64decode(adopted["document"]), round_.adopted))
            return
        round_.proposal = inputs.digest
        proposal = {"type": "propose", "epoch": epoch, "attempt": attempt, "leader": self.config.index,
                    "digest": inputs.digest.hex(), "document": _b64(inputs.canonical_bytes())}  # fmt: skip
        replies = await asyncio.gather(*(self._propose_to(index, proposal) for index in committee.indices))
        for reply in replies:
            if reply and reply.get("type") == "locked" and reply["digest"] != inputs.digest.hex():
                adopted = EpochInputs.from_bytes(base64.b64decode(reply["document"]), bytes.fromhex(reply["digest"]))
                self._save_inputs(adopted)
                round_.adopted = adopted.digest
                log.info("member %d: adopting the inputs member(s) already signed for epoch %d", self.config.index, epoch)
                return  # the next attempt proposes the adopted inputs
            if reply and reply.get("type") == "signature" and reply["inputs"] == inputs.digest.hex():
                self._on_signature(reply)
        await self._collect_and_anchor(epoch, committee, round_, inputs)

    async def _propose_to(self, index: int, proposal: dict) -> dict | None:
        if index == self.config.index:
            try:
                return await self.handle(proposal)
            except OracleError as exc:
                log.warning("member %d cannot sign its own proposal: %s", index, exc)
                return None
        try:
            return await ask(self.config.peers[index], proposal, timeout=self.config.attempt_seconds)
        except (OSError, asyncio.TimeoutError, ConnectionError, ValueError) as exc:
            log.info("member %d: no signature from member %d (%s)", self.config.index, index, type(exc).__name__)
            return None

    async def _collect_and_anchor(self, epoch: int, committee: Committee, round_: EpochRound, inputs: EpochInputs) -> None:
        deadline = time.monotonic() + self.config.collect_seconds
        while len(round_.signatures) < committee.size and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        entry = self.epochs.get(str(epoch))
        if entry is None or entry.get("state") != "locked":
            return
        header = BatchHeader(epoch, bytes.fromhex(entry["root"]), entry["leaf_count"], entry["model_version"],
                             bytes.fromhex(entry["inputs"]))  # fmt: skip
        message = self.oracle.message(header)
        valid = {m: s for m, s in round_.signatures.items()
                 if m in committee.indices and self.seen.get((epoch, m), (None,))[0] == message}
        if len(valid) < committee.quorum():
            log.info("member %d: %d of %d signatures for epoch %d, quorum %d", self.config.index, len(valid),
                     committee.size, epoch, committee.quorum())  # fmt: skip
            return
        keys = {m: self.bls.public_key_from_eip2537(self.member_keys[m]) for m in committee.indices}
        signatures = [self.bls.signature_from_bytes(valid[m]) for m in sorted(valid)]
        aggregate = self.bls.aggregate_signatures(signatures)
        if not self.bls.fast_aggregate_verify([keys[m] for m in sorted(valid)], message, aggregate):
            # someone sent a bad signature: keep only those that verify alone
            valid = {m: s for m, s in valid.items() if self.bls.verify(keys[m], message, self.bls.signature_from_bytes(s))}
            if len(valid) < committee.quorum():
                return
            aggregate = self.bls.aggregate_signatures([self.bls.signature_from_bytes(valid[m]) for m in sorted(valid)])
        signers = sum(1 << m for m in valid)
        non_signers = b"".join(self.member_keys[m] for m in committee.indices if m not in valid)
        round_.anchoring = True
        crash_point("leader-before-anchor")
        try:
            receipt = await asyncio.get_running_loop().run_in_executor(None, lambda: self.oracle.anchor(
                self.operator, header, committee.committee_id, signers, self.bls.to_eip2537(aggregate),
                self.oracle.committee_keys(committee.committee_id), non_signers))  # fmt: skip
            log.info("member %d anchored epoch %d with %d of %d signatures: %s (%d gas)", self.config.index, epoch,
                     len(valid), committee.size, receipt.transaction, receipt.gas_used)  # fmt: skip
        except OracleError as exc:
            log.warning("member %d could not anchor epoch %d: %s", self.config.index, epoch, exc)
        except Exception as exc:  # the contract refused it (another leader was first), or the RPC failed
            log.info("member %d: anchoring epoch %d: %s", self.config.index, epoch, exc)
        finally:
            round_.anchoring = False
        crash_point("leader-after-anchor")


def _sponsorship_key(sponsorship: Sponsorship) -> str:
    return f"{sponsorship.item}-{sponsorship.sponsor}-{sponsorship.rank}-{','.join(sorted(sponsorship.listeners))}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"time": self.formatTime(record), "level": record.levelname.lower(),
                           "message": record.getMessage()})  # fmt: skip


def run_node(config: NodeConfig, *, json_logs: bool = False) -> None:
    """Run one node in the foreground until interrupted."""
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonLines() if json_logs else logging.Formatter("%(asctime)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    node = Node(config)
    try:
        asyncio.run(node.run())
    except KeyboardInterrupt:
        pass

