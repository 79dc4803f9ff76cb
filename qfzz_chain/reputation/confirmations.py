"""Listener confirmation of curated artists, from what a committee member anchored.

A curator's historical agreement (docs/curation.md) compares their vote with how listeners took
the artist once listed: did the lifted recommendations lead to listens, as often as the model's
own picks do? A committee member's home holds what that needs, for the epochs it applied:

- each epoch's inputs (``inputs/<digest>.json``): the listeners' requests with the listens they
  reported, and the curated catalogue items the epoch lifted (``emerging``);
- each anchored batch (``batches/<epoch>-<root>.json``): who was recommended what.

A recommendation is *followed* when its listener reports a listen of the item in a later applied
epoch. An artist's confirmation is the follow rate of its lifted recommendations over the follow
rate of the organic ones (every unsponsored Last.fm item the epochs did not lift), capped at 1:
1.0 means listened to as often as the model's own picks. Pure file reading: the inputs name
listeners, so this runs where they already are (a member's machine), and only rates leave it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qfzz_chain.oracle.epoch import EpochInputs
from qfzz_chain.oracle.errors import BatchError
from qfzz_chain.reputation.errors import EvidenceError


@dataclass(frozen=True)
class FollowUps:
    """Recommendations anchored, and how many of them a later listen followed."""

    recommended: int = 0
    followed: int = 0

    @property
    def rate(self) -> float:
        return self.followed / self.recommended if self.recommended else 0.0

    def __add__(self, other: "FollowUps") -> "FollowUps":
        return FollowUps(self.recommended + other.recommended, self.followed + other.followed)


def follow_ups(node_home: Path) -> tuple[dict[int, FollowUps], FollowUps]:
    """(per lifted Last.fm item: its follow-ups, the organic recommendations' follow-ups) over the
    epochs the member at ``node_home`` applied."""
    node_home = Path(node_home)
    epochs = _applied_epochs(node_home)
    inputs = {epoch: _inputs(node_home, entry) for epoch, entry in epochs}
    # listener -> item -> the applied epochs whose inputs report a listen of it
    listened: dict[str, dict[int, list[int]]] = {}
    for epoch, epoch_inputs in inputs.items():
        for request in epoch_inputs.requests:
            for artist, plays in request.listens:
                if plays > 0:
                    listened.setdefault(request.listener, {}).setdefault(int(artist), []).append(epoch)
    lifted: dict[int, FollowUps] = {}
    organic = FollowUps()
    for epoch, entry in epochs:
        if entry.get("state") != "applied":
            continue  # skipped: no requests, no batch
        curated = set(inputs[epoch].emerging)
        for placement in _placements(node_home, epoch, entry):
            item, receipt = placement.get("lastfm_id"), placement["receipt"]
            if item is None or receipt.get("sponsored"):
                continue  # a registered track (no listens in the dataset's ids) or a paid placement
            later = listened.get(placement["listener"], {}).get(int(item), ())
            counted = FollowUps(1, int(any(e > epoch for e in later)))
            if int(item) in curated:
                lifted[int(item)] = lifted.get(int(item), FollowUps()) + counted
            else:
                organic = organic + counted
    return lifted, organic


def confirmation_rates(lifted: dict[str, FollowUps], organic: FollowUps) -> dict[str, float]:
    """Each artist's lifted follow rate relative to the organic one, capped at 1; artists without
    lifted recommendations, and everyone while no organic pick was followed, are not measured."""
    if organic.rate == 0:
        return {}
    return {artist: min(1.0, counts.rate / organic.rate) for artist, counts in lifted.items() if counts.recommended}


def _applied_epochs(node_home: Path) -> list[tuple[int, dict]]:
    folder = node_home / "epochs"
    if not folder.is_dir():
        raise EvidenceError(f"{node_home} is not an oracle member's home (no epochs/ journal)")
    found = []
    for path in folder.glob("*.json"):
        if not path.stem.isdigit():
            continue
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"{path}: not an epoch journal entry ({exc})") from exc
        if entry.get("state") in ("applied", "skipped"):
            found.append((int(path.stem), entry))
    return sorted(found)


def _inputs(node_home: Path, entry: dict) -> EpochInputs:
    if entry.get("state") != "applied":
        return EpochInputs(0, 0, ())
    digest = bytes.fromhex(entry["inputs"])
    path = node_home / "inputs" / f"{digest.hex()}.json"
    try:
        return EpochInputs.from_bytes(path.read_bytes(), digest)
    except (OSError, BatchError) as exc:
        raise EvidenceError(f"{path}: the inputs of an applied epoch are missing or damaged ({exc})") from exc


def _placements(node_home: Path, epoch: int, entry: dict) -> list[dict]:
    path = node_home / "batches" / f"{epoch}-{entry['root']}.json"
    try:
        return json.loads(path.read_text())["placements"]
    except (OSError, ValueError, KeyError) as exc:
        raise EvidenceError(f"{path}: the batch of an applied epoch is missing or damaged ({exc})") from exc
