"""Registered tracks in the catalogue: cold-start items placed by their tags, checked by recompute."""

import hashlib
import json

import numpy as np
import pytest

from qfzz_chain.oracle import catalogue as catalogue_module
from qfzz_chain.oracle.batch import compute_batch
from qfzz_chain.oracle.catalogue import COLD_START_MODEL, Catalogue, tags_of
from qfzz_chain.oracle.epoch import EpochInputs, RegisteredTrack, Request
from qfzz_chain.oracle.errors import BatchError, VerificationError
from qfzz_chain.oracle.receipts import ReceiptFile
from qfzz_chain.oracle.verify import Custody, recompute_check
from tests.oracle.conftest import USER_BASE

ARTIST = "0x" + "12" * 20
CLUSTER_0 = RegisteredTrack(hashlib.sha256(b"cluster 0 song").digest(), "Block Zero", ARTIST, ("tag0", "tag1"))
CLUSTER_2 = RegisteredTrack(hashlib.sha256(b"cluster 2 song").digest(), "Block Two", ARTIST, ("tag4", "tag5"))


def _request(user: int, n: int = 5) -> Request:
    return Request(f"lastfm:{user}", "0x" + hashlib.sha256(str(user).encode()).hexdigest(), (), n)


def _content_rank(engine, user_row: int, tags: tuple[str, ...]) -> int:
    """The placement rule, written out densely: 1 + unplayed artists with a higher cosine score."""
    counts = np.asarray(engine.content.todense(), dtype=float)
    idf = np.log(np.count_nonzero(counts.sum(axis=1)) / np.maximum(np.count_nonzero(counts, axis=0), 1))
    weighted = np.log1p(counts) * idf
    features = weighted / np.maximum(np.linalg.norm(weighted, axis=1, keepdims=True), 1e-300)
    history = np.asarray(engine.history[user_row].todense()).ravel()
    profile = np.log1p(history) @ features
    track = np.array([np.log1p(1.0) * idf[i] if f"tag{i}" in tags else 0.0 for i in range(len(idf))])
    score = profile @ (track / np.linalg.norm(track))
    others = features @ profile
    return 1 + int(np.count_nonzero((others > score + 1e-9) & (history == 0)))


def test_tags_come_from_the_metadata_lower_case_and_once():
    assert tags_of({"tags": ["Ambient", " ambient ", 7, ""], "genre": "Techno"}) == ("ambient", "techno")
    assert tags_of({"tags": "not a list"}) == () and tags_of(None) == ()


def test_a_registered_track_enters_at_its_content_rank_for_a_matching_taste(engine):
    user = USER_BASE  # cluster 0: plays block 0, tagged tag0/tag1
    rank = _content_rank(engine, engine.interactions.user_index(user), CLUSTER_0.tags)
    assert rank <= 8
    batch = compute_batch(engine, EpochInputs(1, 1, (_request(user, 8),), (), 7, (CLUSTER_0, CLUSTER_2)))
    placed = [p for p in batch.placements if p.receipt.item_id == CLUSTER_0.track_id]
    assert len(placed) == 1 and placed[0].receipt.rank == rank and placed[0].lastfm_id is None
    assert placed[0].item_name == "Block Zero" and len(batch.placements) == 8
    document = json.loads(batch.documents[placed[0].receipt.explanation_cid])
    why = document["explanation"]
    assert why["model"] == COLD_START_MODEL and why["slot"] == "content-rank" and document["organic_rank"] == rank
    assert {m["feature"] for m in why["matched_features"]} == {"tag0", "tag1"}
    played = set(engine.interactions.item_ids[engine.history[engine.interactions.user_index(user)].indices])
    assert why["prototypes"] and {p["item"] for p in why["prototypes"]} <= played
    assert all(p.receipt.item_id != CLUSTER_2.track_id for p in batch.placements)  # another taste's track


def test_without_registered_tracks_the_list_is_the_models_own(engine):
    user = USER_BASE
    batch = compute_batch(engine, EpochInputs(1, 1, (_request(user),)))
    assert [p.lastfm_id for p in batch.placements] == [r.item for r in engine.recommend(user, 5)]


def test_the_new_release_slot_takes_one_track_within_reach(engine, monkeypatch):
    user = USER_BASE
    rank = _content_rank(engine, engine.interactions.user_index(user), CLUSTER_0.tags)
    n = rank - 1
    assert n >= 1, "the fixture's track must rank below the top of the list for this test"
    inputs = EpochInputs(1, 1, (_request(user, n),), (), 7, (CLUSTER_0,))
    assert all(p.lastfm_id is not None for p in compute_batch(engine, inputs).placements)  # reach is 1 of 40
    monkeypatch.setattr(catalogue_module, "NEW_RELEASE_REACH", 0.5)
    batch = compute_batch(engine, inputs)
    last = batch.placements[-1]
    assert last.receipt.item_id == CLUSTER_0.track_id and last.receipt.rank == n
    assert json.loads(batch.documents[last.receipt.explanation_cid])["explanation"]["slot"] == "new-release"


def test_unknown_tags_carry_no_weight_and_are_named(engine):
    catalogue = Catalogue(engine)
    track = RegisteredTrack(bytes(32), "Odd", ARTIST, ("tag0", "zydeco"))
    scored = catalogue.cold_start(0, track)
    assert scored.unmatched == ("zydeco",) and [tag for tag, _ in scored.matched] == ["tag0"]


def test_the_catalogue_is_part_of_the_inputs_digest():
    plain = EpochInputs(3, 1, (_request(USER_BASE),), (), 10)
    listed = EpochInputs(3, 1, (_request(USER_BASE),), (), 10, (CLUSTER_0,))
    assert plain.digest != listed.digest != EpochInputs(3, 1, (_request(USER_BASE),), (), 11, (CLUSTER_0,)).digest
    assert EpochInputs.from_bytes(listed.canonical_bytes(), listed.digest) == listed
    broken = listed.canonical_bytes().replace(b'"id":"0x', b'"id":"0x00')
    with pytest.raises(BatchError, match="malformed catalogue track"):
        EpochInputs.from_bytes(broken)


def _receipt_file(batch, placement) -> tuple[ReceiptFile, Custody]:
    custody = Custody()
    custody.add("explanation", document=json.loads(batch.documents[placement.receipt.explanation_cid]))
    file = ReceiptFile(1, "0x" + "00" * 20, placement.receipt, bytes(32), 1, (), placement.listener, bytes(32),
                       placement.item_name, "track", None)  # fmt: skip
    return file, custody


def test_recompute_confirms_a_registered_tracks_rank_and_score(engine):
    user = USER_BASE
    batch = compute_batch(engine, EpochInputs(1, 1, (_request(user, 8),), (), 7, (CLUSTER_0,)))
    placement = next(p for p in batch.placements if p.receipt.item_id == CLUSTER_0.track_id)
    row = engine.interactions.user_index(user)
    history = {int(engine.interactions.item_ids[i]): float(v)
               for i, v in zip(engine.history[row].indices, engine.history[row].data)}  # fmt: skip
    file, custody = _receipt_file(batch, placement)
    recompute_check(engine, history, file, custody)
    assert custody.links[-1]["content_rank"] == placement.receipt.rank
    assert custody.links[-1]["score"] == pytest.approx(placement.receipt.score / 1e6, abs=1e-6)
    inflated = file.receipt.__class__(**{**file.receipt.__dict__, "score": file.receipt.score + 1})
    file, custody = _receipt_file(batch, placement.__class__(inflated, placement.listener, placement.item_name, None))
    with pytest.raises(VerificationError, match="registered track's tags rank it"):
        recompute_check(engine, history, file, custody)
