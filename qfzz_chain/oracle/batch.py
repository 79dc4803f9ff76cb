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

import scipy.sparse as sp
from eth_utils import keccak

from qfzz_chain.oracle.epoch import EpochInputs, Request, Sponsorship
from qfzz_chain.oracle.errors import BatchError
from qfzz_chain.oracle.receipts import Receipt, fixed_point, lastfm_item_id
from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import RecommenderError
from qfzz_chain.recommender.explain import Explanation, canonical_json

EXPLANATION_SCHEMA = "qfzz.explanation/1"


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
    lastfm_id: int | None, explanation: Explanation, sponsor: str | None, organic_rank: int | None,
) -> bytes:  # fmt: skip
    """The explanation a listener can fetch and hash: why this item, at this rank, in this epoch.

    The engine's explanation without its ``user`` field (the listener stays behind their
    commitment), and the placement: ``organic`` (with the item's rank in the model's own list,
    which a sponsored placement above it pushes down by one), or ``sponsored`` with the sponsor.
    """
    why = explanation.to_dict()
    why.pop("user", None)
    return canonical_json({
        "schema": EXPLANATION_SCHEMA, "epoch": epoch, "model_version": model_version,
        "listener_commitment": "0x" + commitment.hex(), "rank": rank, "item_id": "0x" + item_id.hex(),
        "item": {"name": item_name, "lastfm_id": lastfm_id},
        "placement": "sponsored" if sponsor else "organic", "sponsor": sponsor, "organic_rank": organic_rank,
        "explanation": why,
    })  # fmt: skip


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


class Catalogue:
    """The items a model serves, by their 32-byte receipt ids (``receipts.lastfm_item_id``)."""

    def __init__(self, engine: RecommendationEngine):
        self.artist_by_item = {lastfm_item_id(int(a)): int(a) for a in engine.interactions.item_ids}

    def artist(self, item_id: bytes) -> int | None:
        return self.artist_by_item.get(item_id)


def compute_batch(engine: RecommendationEngine, inputs: EpochInputs, catalogue: Catalogue | None = None) -> Batch:
    """Every request's recommendations as receipts, with their explanation documents."""
    catalogue = catalogue or Catalogue(engine)
    placements: list[Placement] = []
    documents: dict[bytes, bytes] = {}
    requests = tuple(sorted(inputs.requests, key=lambda r: (r.listener, r.commitment)))
    with folded_in(engine, requests):
        for request in requests:
            commitment = bytes.fromhex(request.commitment[2:])
            try:
                organic = engine.recommend(request.user_id, request.n)
            except RecommenderError as exc:
                raise BatchError(f"{request.listener}: {exc}") from exc
            shown = [(rec.item, rec.name, rec.score, rec.explanation, None, rec.rank) for rec in organic]
            for sponsorship in _sponsored_for(inputs.sponsorships, request.listener):
                artist = catalogue.artist(bytes.fromhex(sponsorship.item[2:]))
                if artist is None or any(entry[0] == artist for entry in shown):
                    continue  # not a catalogue item, or already recommended on its own merit
                explanation = engine.explain(request.user_id, artist)
                name = engine.item_names[engine.interactions.item_index(artist)]
                entry = (artist, name, explanation.score, explanation, sponsorship.sponsor, None)
                shown.insert(min(sponsorship.rank, len(shown) + 1) - 1, entry)
            for rank, (artist, name, score, explanation, sponsor, organic_rank) in enumerate(shown[: request.n], start=1):
                item_id = lastfm_item_id(artist)
                document = explanation_document(
                    epoch=inputs.epoch, model_version=inputs.model_version, commitment=commitment, rank=rank,
                    item_id=item_id, item_name=name, lastfm_id=artist, explanation=explanation, sponsor=sponsor,
                    organic_rank=organic_rank,
                )  # fmt: skip
                cid_digest = hashlib.sha256(document).digest()
                documents[cid_digest] = document
                receipt = Receipt(
                    epoch=inputs.epoch, model_version=inputs.model_version, listener_commitment=commitment,
                    item_id=item_id, rank=rank, score=fixed_point(score), explanation_hash=keccak(document),
                    explanation_cid=cid_digest, sponsored=sponsor is not None,
                    sponsor=bytes.fromhex(sponsor[2:]) if sponsor else bytes(20),
                )  # fmt: skip
                placements.append(Placement(receipt, request.listener, name, artist))
    if not placements:
        raise BatchError(f"epoch {inputs.epoch} has no requests: nothing to anchor")
    return Batch(inputs.epoch, inputs.model_version, inputs.digest, tuple(placements), documents)
