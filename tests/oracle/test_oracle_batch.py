"""Batches: deterministic receipts, explanation documents, sponsored placements, listens that
count only once anchored."""

import hashlib
import json

import pytest
from eth_utils import keccak

import numpy as np

from qfzz_chain.oracle.batch import CURATED_BOOST, apply_inputs, compute_batch, explanation_document, explanation_fields
from qfzz_chain.oracle.epoch import EpochInputs, Request, Sponsorship
from qfzz_chain.oracle.errors import BatchError, VerificationError
from qfzz_chain.oracle.receipts import ReceiptFile, fixed_point, lastfm_item_id
from qfzz_chain.oracle.verify import Custody, recompute_check
from qfzz_chain.recommender.explain import Explanation, FeatureMatch, Prototype, canonical_json
from tests.oracle.conftest import USER_BASE

SPONSOR = "0x" + "ab" * 20


def _request(user: int, listens=(), n: int = 5) -> Request:
    return Request(f"lastfm:{user}", "0x" + hashlib.sha256(str(user).encode()).hexdigest(), tuple(listens), n)


def test_every_member_computes_the_same_batch(engine):
    inputs = EpochInputs(1, 1, tuple(_request(USER_BASE + u) for u in range(6)))
    first, second = compute_batch(engine, inputs), compute_batch(engine, inputs)
    assert first.receipts == second.receipts and first.documents == second.documents
    assert len(first.receipts) == 30 and first.inputs_digest == inputs.digest


def test_receipts_carry_the_recommendation_and_its_explanation(engine):
    user = USER_BASE + 4
    batch = compute_batch(engine, EpochInputs(2, 7, (_request(user),)))
    expected = engine.recommend(user, 5)
    for placement, recommendation in zip(batch.placements, expected):
        receipt = placement.receipt
        assert (receipt.epoch, receipt.model_version, receipt.rank) == (2, 7, recommendation.rank)
        assert receipt.item_id == lastfm_item_id(recommendation.item) and receipt.score == fixed_point(recommendation.score)
        document = batch.documents[receipt.explanation_cid]
        assert keccak(document) == receipt.explanation_hash and hashlib.sha256(document).digest() == receipt.explanation_cid
        why = json.loads(document)
        assert why["placement"] == "organic" and why["organic_rank"] == recommendation.rank
        assert "user" not in why["explanation"]  # the listener stays behind the commitment
        assert why["listener_commitment"] == "0x" + receipt.listener_commitment.hex()


@pytest.mark.parametrize("why", [
    Explanation("hybrid", 7, 89, 1.25, (Prototype(3, 'Caf\u00e9 "Tacuba"', 0.5),), (FeatureMatch("trip-hop", 0.125),), 0.4, 0.0),
    Explanation("content", 7, 89, -0.0, (), (), None, 0.75, baseline=-1e-9),
    {"model": "content", "slot": "new_release", "tags": ["trip-hop", "downtempo"], "score": 0.5},
])  # fmt: skip
@pytest.mark.parametrize("sponsor, organic_rank, curated", [(None, 3, ()), (SPONSOR, None, ()), (None, 1, (89, 7))])
def test_the_direct_rendering_is_the_canonical_json_of_the_document(why, sponsor, organic_rank, curated):
    fields = dict(epoch=4, model_version=2, commitment=bytes(range(32)), rank=3, item_id=bytes(range(32, 64)),
                  item_name="Ol\u00e9 \\ band", lastfm_id=None if isinstance(why, dict) else 89, why=why,
                  sponsor=sponsor, organic_rank=organic_rank, curated=curated)  # fmt: skip
    document = explanation_document(**fields)
    assert document == canonical_json(explanation_fields(**fields))
    assert "user" not in json.loads(document)["explanation"]


def test_a_sponsored_placement_is_inserted_and_labelled(engine):
    user = USER_BASE + 2
    organic = [r.item for r in engine.recommend(user, 5)]
    known = set(engine.interactions.item_ids[engine.history[engine.interactions.user_index(user)].indices])
    placed = next(int(i) for i in engine.interactions.item_ids if int(i) not in organic and int(i) not in known)
    sponsorship = Sponsorship("0x" + lastfm_item_id(placed).hex(), SPONSOR, 2, (f"lastfm:{user}",))
    batch = compute_batch(engine, EpochInputs(1, 1, (_request(user), _request(user + 1)), (sponsorship,)))
    mine = [p for p in batch.placements if p.listener == f"lastfm:{user}"]
    assert [p.lastfm_id for p in mine] == [organic[0], placed, *organic[1:4]]
    paid = mine[1].receipt
    assert paid.sponsored and paid.sponsor == bytes.fromhex("ab" * 20) and paid.rank == 2
    why = json.loads(batch.documents[paid.explanation_cid])
    assert why["placement"] == "sponsored" and why["sponsor"] == SPONSOR and why["organic_rank"] is None
    assert json.loads(batch.documents[mine[2].receipt.explanation_cid])["organic_rank"] == 2
    other = [p for p in batch.placements if p.listener == f"lastfm:{user + 1}"]
    assert not any(p.receipt.sponsored for p in other)


def test_curated_emerging_artists_are_lifted_and_their_receipts_say_so(engine):
    """The epoch's curated artists (the index at its catalogue block) are lifted by CURATED_BOOST of
    the listener's top score: one just outside the list enters it, its explanation carries the lift,
    every document names the curated set, and the engine is left as it was."""
    def sixth_within_reach(user):  # the listener's rank-6 artist, if the lift brings it past rank 5
        scores = engine.scores(engine.interactions.user_index(user))
        known = set(engine.history[engine.interactions.user_index(user)].indices.tolist())
        ranked = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in known]
        if scores[ranked[5]] + CURATED_BOOST * np.abs(scores).max() > scores[ranked[4]]:
            return int(engine.interactions.item_ids[ranked[5]])
        return None

    user, outside = next((u, a) for u in range(USER_BASE, USER_BASE + 20) if (a := sixth_within_reach(u)) is not None)
    emerging_before = engine.emerging.copy()
    plain = compute_batch(engine, EpochInputs(1, 1, (_request(user),)))
    lifted = compute_batch(engine, EpochInputs(1, 1, (_request(user),), emerging=(outside,)))
    assert outside not in [p.lastfm_id for p in plain.placements]
    placement = next(p for p in lifted.placements if p.lastfm_id == outside)
    document = json.loads(lifted.documents[placement.receipt.explanation_cid])
    assert document["curated_boost"] == {"artists": [outside], "share": CURATED_BOOST}
    assert document["explanation"]["fairness_boost"] > 0
    assert placement.receipt.score == fixed_point(document["explanation"]["score"] + document["explanation"]["fairness_boost"])
    others = [json.loads(lifted.documents[p.receipt.explanation_cid]) for p in lifted.placements if p is not placement]
    assert all(d["explanation"]["fairness_boost"] == 0 and d["curated_boost"] is not None for d in others)
    assert all(json.loads(d)["curated_boost"] is None for d in plain.documents.values())
    assert np.array_equal(engine.emerging, emerging_before)

    # A listener's recompute lifts the same set and confirms the rank; without it, it cannot.
    row = engine.interactions.user_index(user)
    history = {int(engine.interactions.item_ids[i]): float(v)
               for i, v in zip(engine.history[row].indices, engine.history[row].data)}  # fmt: skip
    file = ReceiptFile(1, "0x" + "00" * 20, placement.receipt, bytes(32), 1, (), placement.listener, bytes(32),
                       placement.item_name, "lastfm-artist", outside)  # fmt: skip
    custody = Custody()
    custody.add("explanation", document=document)
    recompute_check(engine, history, file, custody)
    assert custody.links[-1]["organic_rank"] == placement.receipt.rank
    custody = Custody()
    custody.add("explanation", document={**document, "curated_boost": None})
    with pytest.raises(VerificationError, match="from your history the model ranks"):
        recompute_check(engine, history, file, custody)
    assert EpochInputs(1, 1, (_request(user),), emerging=(outside,)).digest != EpochInputs(1, 1, (_request(user),)).digest


def test_listens_count_for_the_batch_and_only_once_anchored(engine):
    user = USER_BASE + 1
    artist = engine.recommend(user, 1)[0].item  # the listener's top pick, about to be played
    before = engine.history.copy()
    inputs = EpochInputs(1, 1, (_request(user, [(artist, 50.0)]),))
    batch = compute_batch(engine, inputs)
    assert all(p.lastfm_id != artist for p in batch.placements)  # just played: not recommended
    assert (engine.history != before).nnz == 0  # taken out again after the computation
    assert engine.recommend(user, 1)[0].item == artist
    apply_inputs(engine, inputs)  # the epoch is anchored: for good
    assert engine.history[engine.interactions.user_index(user), engine.interactions.item_index(artist)] >= 50
    later = compute_batch(engine, EpochInputs(2, 1, (_request(user),)))
    assert all(p.lastfm_id != artist for p in later.placements)


def test_a_bad_request_fails_the_batch_by_name(engine):
    with pytest.raises(BatchError, match="lastfm:99999"):
        compute_batch(engine, EpochInputs(1, 1, (_request(99999),)))
    with pytest.raises(BatchError, match="no requests"):
        compute_batch(engine, EpochInputs(1, 1, ()))
