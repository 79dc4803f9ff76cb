"""An epoch's batch: the receipts every committee member computes from the same inputs.

Deterministic given the engine's state and the inputs: requests in the inputs' order, each
listener's epoch listens folded in, the top-``n`` with explanations, sponsored placements inserted
at their rank. Explanation documents are canonical JSON (one format, ``explanation_document``);
the receipt carries their keccak-256 and the SHA-256 that makes their raw CIDv1.

The listens count for the engine only once the batch is anchored: ``compute_batch`` folds them
in for the computation and takes them out again, and ``apply_inputs`` folds them in for good
after the anchor, so an epoch that is never anchored (a failed leader, a stalled committee)
leaves no trace in later epochs.
"""

from __future__ import annotations

import hashlib
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import scipy.sparse as sp
from tiny_keccak import keccak256 as keccak

from qfzz_chain.oracle.catalogue import Catalogue
from qfzz_chain.oracle.epoch import EpochInputs, Request, Sponsorship
from qfzz_chain.oracle.errors import BatchError
from qfzz_chain.oracle.receipts import Receipt, fixed_point, lastfm_item_id
from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import RecommenderError
from qfzz_chain.recommender.explain import Explanation, canonical_json_text
from qfzz_chain.recommender.fairness import emerging_mask

EXPLANATION_SCHEMA = "qfzz.explanation/1"
# The share of a listener's top score the curated emerging artists are lifted by (what `qfzz curate
# recommend` shows by default): enough to bring an artist from just outside the top-10 into it,
# not to put an artist the listener's history says nothing for above their favourites.
CURATED_BOOST = 0.1


@dataclass(frozen=True)
class Placement:
    """A receipt with what the listener is shown of it: the item's name and Last.fm id."""

    receipt: Receipt
    listener: str
    item_name: str
    lastfm_id: int | None


@dataclass(frozen=True)
class Batch:
    epoch: int
    model_version: int
    inputs_digest: bytes
    placements: tuple[Placement, ...]
    documents: dict[bytes, bytes]  # explanation CID digest -> canonical JSON

    @property
    def receipts(self) -> list[Receipt]:
        return [p.receipt for p in self.placements]


def explanation_document(
    *, epoch: int, model_version: int, commitment: bytes, rank: int, item_id: bytes, item_name: str,
    lastfm_id: int | None, why: Explanation | dict, sponsor: str | None, organic_rank: int | None,
    curated: tuple[int, ...] = (),
) -> bytes:  # fmt: skip
    """The explanation a listener can fetch and hash: why this item, at this rank, in this epoch.

    ``why`` is the engine's explanation, embedded without its ``user`` field (or a registered
    track's cold-start explanation, a dict), and the placement: ``organic`` (with the item's rank in
    the model's own list, or a registered track's content rank; sponsored or registered items
    entered above it push it down), or ``sponsored`` with the sponsor. ``curated_boost`` is null,
    or the emerging artists the epoch's lists lifted (the curation index at the catalogue block)
    and the share of the listener's top score they were lifted by: the explanation's
    ``fairness_boost`` is that lift for this item, and a recompute needs the whole set.

    The canonical JSON of :func:`explanation_fields`, rendered directly in its sorted key order
    (a tenth of the generic renderer's time, and the oracle renders one per receipt; a test holds
    the two equal byte for byte).
    """
    explanation = why.canonical_text(with_user=False) if isinstance(why, Explanation) else canonical_json_text(why)
    text = canonical_json_text
    boost = text(_curated_boost(curated))
    return (f'{{"curated_boost":{boost},"epoch":{text(epoch)},"explanation":{explanation},'
            f'"item":{{"lastfm_id":{text(lastfm_id)},"name":{text(item_name)}}},"item_id":"0x{item_id.hex()}",'
            f'"listener_commitment":"0x{commitment.hex()}","model_version":{text(model_version)},'
            f'"organic_rank":{text(organic_rank)},"placement":"{"sponsored" if sponsor else "organic"}",'
            f'"rank":{text(rank)},"schema":"{EXPLANATION_SCHEMA}","sponsor":{text(sponsor)}}}').encode("ascii")


def explanation_fields(
    *, epoch: int, model_version: int, commitment: bytes, rank: int, item_id: bytes, item_name: str,
    lastfm_id: int | None, why: Explanation | dict, sponsor: str | None, organic_rank: int | None,
    curated: tuple[int, ...] = (),
) -> dict:  # fmt: skip
    """The explanation document as plain data (what :func:`explanation_document` renders)."""
    if isinstance(why, Explanation):
        why = why.to_dict()
        why.pop("user")
    return {
        "schema": EXPLANATION_SCHEMA, "epoch": epoch, "model_version": model_version,
        "listener_commitment": "0x" + commitment.hex(), "rank": rank, "item_id": "0x" + item_id.hex(),
        "item": {"name": item_name, "lastfm_id": lastfm_id},
        "placement": "sponsored" if sponsor else "organic", "sponsor": sponsor, "organic_rank": organic_rank,
        "explanation": why, "curated_boost": _curated_boost(curated),
    }  # fmt: skip


def _curated_boost(curated: tuple[int, ...]) -> dict | None:
    return {"artists": sorted(curated), "share": CURATED_BOOST} if curated else None


@contextmanager
def lifting_curated(engine: RecommendationEngine, curated: tuple[int, ...]) -> Iterator[float]:
    """Only the curated artists count as emerging for the duration; yields the boost to apply
    (0 without any: the lists are then the model's own)."""
    saved = engine.emerging
    engine.emerging = emerging_mask(np.zeros(engine.interactions.n_items, dtype=bool), engine.interactions.item_ids,
                                    set(curated))  # fmt: skip
    try:
        yield CURATED_BOOST if curated else 0.0
    finally:
        engine.emerging = saved


@contextmanager
def folded_in(engine: RecommendationEngine, requests: tuple[Request, ...]) -> Iterator[None]:
    """The requests' listens in the engine's histories for the duration, then exactly as before."""
    history = engine.history
    saved = sp.csr_matrix(history, copy=True)
    try:
        for request in requests:
            for artist, plays in request.listens:
                engine.record_listen(request.user_id, artist, plays)
        yield
    finally:
        engine.history = saved


def apply_inputs(engine: RecommendationEngine, inputs: EpochInputs) -> None:
    """Fold an anchored epoch's listens in for good (what later epochs are computed on)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        for request in inputs.requests:
            for artist, plays in request.listens:
                engine.record_listen(request.user_id, artist, plays)


def _sponsored_for(sponsorships: tuple[Sponsorship, ...], listener: str) -> list[Sponsorship]:
    return sorted((s for s in sponsorships if listener in s.listeners), key=lambda s: (s.rank, s.item))


@dataclass(frozen=True)
class _Shown:
    """One line of a listener's list before it becomes a receipt."""

    item_id: bytes
    lastfm_id: int | None
    name: str
    score: float
    why: Explanation | dict  # the engine's, or a registered track's cold-start explanation
    sponsor: str | None
    organic_rank: int | None


def _organic(rec) -> _Shown:
    return _Shown(lastfm_item_id(rec.item), rec.item, rec.name, rec.score, rec.explanation, None, rec.rank)


def compute_batch(engine: RecommendationEngine, inputs: EpochInputs, catalogue: Catalogue | None = None) -> Batch:
    """Every request's recommendations as receipts, with their explanation documents.

    A listener's list: the model's top-``n``; registered tracks entered at their content rank
    when it is within ``n``, or one in the new-release slot (``oracle.catalogue``); sponsored
    items inserted at their rank.
    """
    catalogue = catalogue or Catalogue(engine)
    placements: list[Placement] = []
    documents: dict[bytes, bytes] = {}
    requests = tuple(sorted(inputs.requests, key=lambda r: (r.listener, r.commitment)))
    with folded_in(engine, requests), lifting_curated(engine, inputs.emerging) as boost:
        for request in requests:
            commitment = bytes.fromhex(request.commitment[2:])
            try:
                organic = engine.recommend(request.user_id, request.n, fairness_boost=boost)
                user = engine.interactions.user_index(request.user_id)
            except RecommenderError as exc:
                raise BatchError(f"{request.listener}: {exc}") from exc
            shown = [_organic(rec) for rec in organic]
            for index, entry, slot in catalogue.placements(user, inputs.tracks, request.n):
                shown.insert(index, _Shown(entry.track.track_id, None, entry.track.title, entry.score,
                                           entry.explanation(slot), None, entry.content_rank))  # fmt: skip
            for sponsorship in _sponsored_for(inputs.sponsorships, request.listener):
                artist = catalogue.artist(bytes.fromhex(sponsorship.item[2:]))
                if artist is None or any(line.lastfm_id == artist for line in shown[: request.n]):
                    continue  # not a catalogue item, or already recommended on its own merit
                explanation = engine.explain(request.user_id, artist)
                name = engine.item_names[engine.interactions.item_index(artist)]
                line = _Shown(lastfm_item_id(artist), artist, name, explanation.score, explanation,
                              sponsorship.sponsor, None)  # fmt: skip
                shown.insert(min(sponsorship.rank, len(shown) + 1) - 1, line)
            for rank, line in enumerate(shown[: request.n], start=1):
                document = explanation_document(
                    epoch=inputs.epoch, model_version=inputs.model_version, commitment=commitment, rank=rank,
                    item_id=line.item_id, item_name=line.name, lastfm_id=line.lastfm_id, why=line.why,
                    sponsor=line.sponsor, organic_rank=line.organic_rank, curated=inputs.emerging,
                )  # fmt: skip
                cid_digest = hashlib.sha256(document).digest()
                documents[cid_digest] = document
                receipt = Receipt(
                    epoch=inputs.epoch, model_version=inputs.model_version, listener_commitment=commitment,
                    item_id=line.item_id, rank=rank, score=fixed_point(line.score), explanation_hash=keccak(document),
                    explanation_cid=cid_digest, sponsored=line.sponsor is not None,
                    sponsor=bytes.fromhex(line.sponsor[2:]) if line.sponsor else bytes(20),
                )  # fmt: skip
                placements.append(Placement(receipt, request.listener, line.name, line.lastfm_id))
    if not placements:
        raise BatchError(f"epoch {inputs.epoch} has no requests: nothing to anchor")
    return Batch(inputs.epoch, inputs.model_version, inputs.digest, tuple(placements), documents)
