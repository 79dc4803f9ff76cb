"""A listener's check of one recommendation they got: its chain of custody, link by link.

    listener commitment → Merkle proof → anchored root (tx, block) → committee quorum at the
    epoch → model version and its manifest → explanation document → the item's attribution →
    sponsored or organic

Each link is checked against the chain or the content it names, never against what the node
that served the receipt says; the first broken link stops the check and is named
(``VerificationError.link``). ``recompute`` goes further: it restores the model version from
its manifest, folds the listener's own history in, and checks the receipt's rank and score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

from eth_utils import keccak

from qfzz_chain.oracle.chain import RecommendationOracle
from qfzz_chain.oracle.errors import VerificationError
from qfzz_chain.oracle.receipts import ReceiptFile, fixed_point, lastfm_item_id, leaf_hash
from qfzz_chain.oracle.tree import verify_proof
from qfzz_chain.zk.commitments import make_commitment

RAW, SHA2_256 = 0x55, 0x12


@dataclass
class Custody:
    """The verified chain of custody, one entry per link, in order."""

    links: list[dict[str, Any]] = field(default_factory=list)

    def add(self, link: str, **facts: Any) -> None:
        self.links.append({"link": link, **facts})


def _explanation_cid(digest: bytes) -> str:
    from qfzz_chain.chain.types import CidParts

    return str(CidParts(1, RAW, SHA2_256, digest))


def verify_receipt(
    file: ReceiptFile, oracle: RecommendationOracle, store, *, registry=None,
    recompute: Callable[[ReceiptFile, Custody], None] | None = None,
) -> Custody:  # fmt: skip
    receipt, custody = file.receipt, Custody()

    if make_commitment(file.salt, file.listener.encode()) != receipt.listener_commitment:
        raise VerificationError("listener", f"the commitment is not {file.listener!r} with this salt (wrong salt or listener)")
    custody.add("listener", listener=file.listener, commitment="0x" + receipt.listener_commitment.hex())

    leaf = leaf_hash(receipt)
    if not verify_proof(file.root, leaf, file.proof):
        raise VerificationError("merkle proof", f"the receipt and its proof do not lead to root 0x{file.root.hex()}")
    custody.add("merkle proof", leaf="0x" + leaf.hex(), root="0x" + file.root.hex(), depth=len(file.proof))

    if oracle.w3.eth.chain_id != file.chain_id or oracle.address.lower() != file.oracle.lower():
        raise VerificationError("anchor", f"the receipt is for oracle {file.oracle} on chain {file.chain_id}, "
                                          f"not {oracle.address} on chain {oracle.w3.eth.chain_id}")  # fmt: skip
    # One head for the anchor's storage and every history read below: consistent if an epoch is
    # anchored meanwhile, and one request instead of one per read.
    head = oracle.w3.eth.block_number
    anchored = oracle.anchored_root(receipt.epoch, head)
    if anchored == bytes(32):
        raise VerificationError("anchor", f"epoch {receipt.epoch} has no anchored batch")
    if anchored != file.root:
        raise VerificationError("anchor", f"epoch {receipt.epoch} anchored root 0x{anchored.hex()}, not the receipt's")
    anchor = oracle.anchor_event(receipt.epoch, head)
    if anchor is None or anchor.header.root != anchored:
        raise VerificationError("anchor", f"the node has no BatchAnchored event for epoch {receipt.epoch}")
    custody.add("anchor", epoch=receipt.epoch, transaction=anchor.transaction, block=anchor.block,
                receipts=anchor.header.leaf_count, anchored_by=anchor.anchored_by)  # fmt: skip

    committee = oracle.committee_at(receipt.epoch)
    signers = bin(anchor.signers).count("1")
    if anchor.committee_id != committee.committee_id or anchor.signers & ~committee.members or signers < committee.quorum():
        raise VerificationError("committee", f"{signers} signers of a committee of {committee.size}: not a quorum")
    custody.add("committee", signed=signers, size=committee.size, quorum=committee.quorum(),
                members=committee.indices, committee_id=committee.committee_id)  # fmt: skip

    if anchor.header.model_version != receipt.model_version:
        raise VerificationError("model version", f"the batch was anchored under model version "
                                                 f"{anchor.header.model_version}, the receipt says {receipt.model_version}")
    manifest = oracle.model_manifest(receipt.model_version, head)
    if manifest is None:
        raise VerificationError("model version", f"model version {receipt.model_version} was never registered")
    activation, superseded = oracle.model_version(receipt.model_version)
    custody.add("model version", version=receipt.model_version, manifest=str(manifest[0]), active_from=activation,
                superseded_at=superseded or None)  # fmt: skip

    document = _fetch(store, _explanation_cid(receipt.explanation_cid), "explanation")
    if hashlib.sha256(document).digest() != receipt.explanation_cid or keccak(document) != receipt.explanation_hash:
        raise VerificationError("explanation", "the explanation document does not hash to the receipt's hash")
    import json

    explanation = json.loads(document)
    expected = {"epoch": receipt.epoch, "model_version": receipt.model_version, "rank": receipt.rank,
                "listener_commitment": "0x" + receipt.listener_commitment.hex(), "item_id": "0x" + receipt.item_id.hex()}
    mismatched = [key for key, value in expected.items() if explanation.get(key) != value]
    if mismatched:
        raise VerificationError("explanation", f"the explanation is about another recommendation ({', '.join(mismatched)})")
    why, curated = explanation.get("explanation") or {}, explanation.get("curated_boost") or {}
    if why.get("fairness_boost") and (explanation.get("item") or {}).get("lastfm_id") not in curated.get("artists", ()):
        raise VerificationError("explanation", "the explanation lifts an artist the epoch's curated set does not list")
    custody.add("explanation", cid=_explanation_cid(receipt.explanation_cid), document=explanation)

    custody.add("attribution", **_attribution(file, registry))

    placement = explanation.get("placement")
    sponsor = "0x" + receipt.sponsor.hex()
    if (placement == "sponsored") != receipt.sponsored or (receipt.sponsored and explanation.get("sponsor") != sponsor):
        raise VerificationError("placement", "the receipt and its explanation disagree on whether it was paid for")
    if not receipt.sponsored and receipt.sponsor != bytes(20):
        raise VerificationError("placement", "an organic receipt names a sponsor")
    custody.add("placement", sponsored=receipt.sponsored, sponsor=sponsor if receipt.sponsored else None)

    if recompute is not None:
        recompute(file, custody)
    return custody


def _fetch(store, cid: str, link: str) -> bytes:
    try:
        return store.read_bytes(cid)
    except Exception as exc:  # IpfsError: not found anywhere, corrupted
        raise VerificationError(link, f"cannot fetch {cid}: {exc}") from exc


def _attribution(file: ReceiptFile, registry) -> dict[str, Any]:
    """Who the recommended item is: a registered track (artist, content CID) or a dataset artist."""
    receipt = file.receipt
    if registry is not None and registry.is_registered(receipt.item_id):
        history = registry.history(receipt.item_id)
        return {"kind": "track", "track_id": "0x" + receipt.item_id.hex(), "artist": history.artist,
                "content": str(history.registration.content)}  # fmt: skip
    if file.lastfm_id is not None and lastfm_item_id(file.lastfm_id) == receipt.item_id:
        return {"kind": "lastfm-artist", "lastfm_id": file.lastfm_id, "name": file.item_name,
                "note": "an artist of the Last.fm dataset the model was fitted on; not registered on-chain"}
    raise VerificationError("attribution", f"item 0x{receipt.item_id.hex()} is neither a registered track nor the "
                                           "dataset artist the receipt names")


def with_history(engine, user_id: int, history: dict[int, float]) -> None:
    """Make ``history`` (artist id -> plays) the listener's whole history in ``engine``."""
    import numpy as np
    import scipy.sparse as sp

    user = engine.interactions.user_index(user_id)
    matrix = sp.csr_matrix(engine.history, copy=True)
    matrix.data[matrix.indptr[user]:matrix.indptr[user + 1]] = 0
    items = [engine.interactions.item_index(a) for a in history]
    row = sp.csr_matrix((np.array(list(history.values()), dtype=np.float64), ([user] * len(items), items)),
                        shape=matrix.shape)  # fmt: skip
    matrix = matrix + row
    matrix.eliminate_zeros()
    engine.history = matrix


def recompute_check(engine, history: dict[int, float], file: ReceiptFile, custody: Custody) -> None:
    """Recompute the listener's list from their own history with the version's model.

    ``engine`` is the model version restored from its manifest; ``history`` the listener's whole
    listening history (artist id -> plays), the epoch's listens included. An organic receipt must
    come back at its ``organic_rank`` with its score; a sponsored one with the model's score.
    """
    from qfzz_chain.oracle.batch import CURATED_BOOST, lifting_curated
    from qfzz_chain.oracle.catalogue import COLD_START_MODEL, Catalogue
    from qfzz_chain.oracle.epoch import RegisteredTrack

    receipt = file.receipt
    user_id = int(file.listener.partition(":")[2])
    with_history(engine, user_id, history)
    catalogue = Catalogue(engine)
    artist = catalogue.artist(receipt.item_id)
    explanation = next(link for link in custody.links if link["link"] == "explanation")["document"]
    why = explanation.get("explanation", {})
    if artist is None and why.get("model") == COLD_START_MODEL and not receipt.sponsored:
        track = RegisteredTrack(receipt.item_id, str(explanation["item"]["name"]), "", tuple(why.get("tags", ())))
        got = catalogue.cold_start(engine.interactions.user_index(user_id), track)
        allowed = catalogue.reach if why.get("slot") == "new-release" else explanation["organic_rank"]
        if got.content_rank != explanation["organic_rank"] or got.content_rank > allowed or fixed_point(got.score) != receipt.score:
            raise VerificationError("recompute", f"from your history the registered track's tags rank it "
                                                 f"{got.content_rank} with {got.score:.6f}, the receipt says rank "
                                                 f"{explanation['organic_rank']} with {receipt.score / 1e6:.6f}")  # fmt: skip
        custody.add("recompute", content_rank=got.content_rank, score=got.score, note="registered track, cold start")
        return
    if artist is None:
        raise VerificationError("recompute", "the recommended item is not in the model's catalogue")
    if receipt.sponsored:
        score = engine.score(user_id, artist)
        if fixed_point(score) != receipt.score:
            raise VerificationError("recompute", f"the sponsored item scores {score:.6f} here, the receipt says "
                                                 f"{receipt.score / 1e6:.6f}")  # fmt: skip
        custody.add("recompute", score=score, note="sponsored placement: the sponsor chose the rank")
        return
    organic_rank = explanation["organic_rank"]
    curated = explanation.get("curated_boost") or {"artists": [], "share": CURATED_BOOST}
    if curated["share"] != CURATED_BOOST:
        raise VerificationError("recompute", f"the epoch lifted curated artists by {curated['share']} of the top score, "
                                             f"this version lifts them by {CURATED_BOOST}")  # fmt: skip
    with lifting_curated(engine, tuple(curated["artists"])) as boost:
        recommendations = engine.recommend(user_id, organic_rank, fairness_boost=boost)
    got = recommendations[organic_rank - 1] if len(recommendations) >= organic_rank else None
    if got is None or got.item != artist:
        found = got.name if got else "nothing"
        raise VerificationError("recompute", f"from your history the model ranks {found} at {organic_rank}, "
                                             f"not the receipt's item")  # fmt: skip
    if fixed_point(got.score) != receipt.score:
        raise VerificationError("recompute", f"score {got.score:.6f} recomputed, {receipt.score / 1e6:.6f} received")
    custody.add("recompute", organic_rank=organic_rank, score=got.score)
