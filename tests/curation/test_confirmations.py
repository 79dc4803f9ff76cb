"""Listener confirmation measured from an oracle member's home: lifted recommendations of curated
artists followed by a later listen, against the organic ones."""

from __future__ import annotations

import json

import pytest

from qfzz_chain.oracle.epoch import EpochInputs, Request
from qfzz_chain.reputation.confirmations import FollowUps, confirmation_rates, follow_ups
from qfzz_chain.reputation.errors import EvidenceError

CURATED, ORGANIC_A, ORGANIC_B = 89, 90, 91


def _request(user: int, listens=()) -> Request:
    return Request(f"lastfm:{user}", "0x" + f"{user:064x}", tuple(listens), 3)


def _placement(user: int, item: int | None, sponsored: bool = False) -> dict:
    return {"listener": f"lastfm:{user}", "name": str(item), "lastfm_id": item,
            "receipt": {"sponsored": sponsored, "rank": 1}}  # fmt: skip


def _member_home(tmp_path, epochs):
    """A member's home as `qfzz oracle` writes it: epochs/ journal, inputs/ by digest, batches/."""
    for folder in ("epochs", "inputs", "batches"):
        (tmp_path / folder).mkdir()
    for epoch, (inputs, placements) in epochs.items():
        if inputs is None:
            (tmp_path / "epochs" / f"{epoch}.json").write_text(json.dumps({"state": "skipped"}))
            continue
        root = f"{epoch:064x}"
        (tmp_path / "inputs" / f"{inputs.digest.hex()}.json").write_bytes(inputs.canonical_bytes())
        (tmp_path / "batches" / f"{epoch}-{root}.json").write_text(json.dumps({"epoch": epoch, "placements": placements}))
        (tmp_path / "epochs" / f"{epoch}.json").write_text(json.dumps({"state": "applied", "inputs": inputs.digest.hex(),
                                                                       "root": root}))  # fmt: skip
    return tmp_path


def test_follow_ups_count_later_listens_of_lifted_and_organic_recommendations(tmp_path):
    home = _member_home(tmp_path, {
        1: (EpochInputs(1, 1, (_request(2), _request(3)), emerging=(CURATED,)),
            [_placement(2, CURATED), _placement(2, ORGANIC_A), _placement(3, ORGANIC_A), _placement(3, ORGANIC_B),
             _placement(3, CURATED, sponsored=True), _placement(3, None)]),
        2: (None, None),  # skipped: nobody asked
        3: (EpochInputs(3, 1, (_request(2, [(CURATED, 2.0)]), _request(3, [(ORGANIC_B, 1.0)]))),
            [_placement(2, ORGANIC_B)]),
    })  # fmt: skip
    lifted, organic = follow_ups(home)
    # lastfm:2 listened to the lifted artist later; of four organic picks one was followed (ORGANIC_B
    # by lastfm:3); the sponsored and the registered-track placements do not count, and epoch 3's
    # own pick has no later epoch yet
    assert lifted == {CURATED: FollowUps(1, 1)}
    assert organic == FollowUps(4, 1)
    assert confirmation_rates({"0xartist": lifted[CURATED]}, organic) == {"0xartist": 1.0}
    assert confirmation_rates({"0xartist": FollowUps(8, 1)}, organic) == {"0xartist": 0.5}
    assert confirmation_rates({"0xartist": FollowUps(8, 1)}, FollowUps(4, 0)) == {}  # nothing to compare with


def test_a_listen_in_the_same_epoch_is_no_follow_up(tmp_path):
    home = _member_home(tmp_path, {
        1: (EpochInputs(1, 1, (_request(2, [(CURATED, 1.0)]),), emerging=(CURATED,)), [_placement(2, CURATED)]),
    })  # fmt: skip
    assert follow_ups(home) == ({CURATED: FollowUps(1, 0)}, FollowUps())


def test_a_damaged_member_home_is_named(tmp_path):
    with pytest.raises(EvidenceError, match="not an oracle member's home"):
        follow_ups(tmp_path)
    (tmp_path / "member").mkdir()
    home = _member_home(tmp_path / "member", {1: (EpochInputs(1, 1, (_request(2),)), [_placement(2, ORGANIC_A)])})
    next((home / "batches").glob("*.json")).unlink()
    with pytest.raises(EvidenceError, match="the batch of an applied epoch is missing"):
        follow_ups(home)
