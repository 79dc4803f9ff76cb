"""The serving catalogue: the Last.fm artists the model was fitted on, and the tracks registered on-chain.

Dataset artists are receipt items ``keccak256("qfzz.lastfm-2k.artist:" + id)``
(``receipts.lastfm_item_id``); the model version's manifest commits to their sorted list.
Registered tracks are items by their registry id (the SHA-256 of the audio), so a listener's
verification reaches their artist and content CID. They join as **cold-start items through the
content model**, with nothing refitted: the tags (and genre) of a track's metadata become a
TF-IDF vector in the tag space the dataset's artists live in, and the listener's tag profile (the
weighted sum of the vectors of what they played, by log(1 + plays)) scores it like any artist.

Placement rule (what the listener's explanation and ``qfzz verify --recompute`` both rest on):
a registered track's *content rank* is one plus the number of catalogue artists the listener
has not played whose content score is higher; when that rank is within the list's length, the
track enters the list at that rank and the model's own items below it move down one. A new
track rarely outranks the artists closest to a taste (measured on Last.fm: three genre tags put
a track in the top 10 of 2 listeners in 190, in the top 1% of 15-40% of them), so a list
also keeps one **new-release slot**, its last: when no registered track made the list on its
rank, the best one whose content rank is within the listener's closest ``NEW_RELEASE_REACH``
(1%, 177 of Last.fm's 17,632 artists) takes it. Scores are
cosine similarities (rows normalised to length 1): a new track has a handful of tags where a
Last.fm artist has hundreds of tag assignments, and cosine does not reward the longer profile.
Tags outside the dataset's vocabulary carry no weight (the explanation lists them as unmatched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qfzz_chain.oracle.epoch import RegisteredTrack
from qfzz_chain.oracle.receipts import lastfm_item_id
from qfzz_chain.recommender.models.base import row_offsets

MAX_TAGS = 32
MATCHES_SHOWN = 5
PROTOTYPES_SHOWN = 3
COLD_START_MODEL = "content-cold-start"
NEW_RELEASE_REACH = 0.01


def tags_of(metadata: dict | None) -> tuple[str, ...]:
    """A track's catalogue tags from its metadata: ``tags`` (a list) and ``genre``, lower-case, sorted."""
    metadata = metadata or {}
    raw = metadata.get("tags", [])
    tags = [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
    if isinstance(metadata.get("genre"), str):
        tags.append(metadata["genre"])
    return tuple(sorted({t.strip().lower() for t in tags if t.strip()}))[:MAX_TAGS]


def registered_tracks(registry, store, *, to_block: int) -> tuple[RegisteredTrack, ...]:
    """The tracks registered by ``to_block`` whose metadata has tags, sorted by id (as the inputs list them)."""
    from qfzz_chain.tracks import read_metadata

    tracks = []
    for track_id, history in registry.histories(to_block=to_block).items():
        metadata = read_metadata(store, str(history.metadata.metadata))
        tags = tags_of(metadata)
        if tags:
            tracks.append(RegisteredTrack(track_id, str((metadata or {}).get("title", "?")), history.artist, tags))
    return tuple(sorted(tracks, key=lambda t: t.track_id))


@dataclass(frozen=True)
class ColdStartScore:
    """A registered track's standing for one listener: its content rank and why."""

    track: RegisteredTrack
    score: float
    content_rank: int
    matched: tuple[tuple[str, float], ...]  # (tag, share of the score), largest first
    prototypes: tuple[tuple[int, str, float], ...]  # (Last.fm id, name, contribution) of played artists
    unmatched: tuple[str, ...]

    def explanation(self, slot: str) -> dict:
        """The explanation document's ``explanation`` part, placed in ``slot`` (content-rank or new-release)."""
        return {
            "model": COLD_START_MODEL, "item": "0x" + self.track.track_id.hex(), "score": self.score,
            "content_rank": self.content_rank, "tags": list(self.track.tags), "slot": slot,
            "matched_features": [{"feature": tag, "weight": weight} for tag, weight in self.matched],
            "prototypes": [{"item": item, "name": name, "contribution": value} for item, name, value in self.prototypes],
            "unmatched_tags": list(self.unmatched),
            "why": "registered on-chain with tags your listening shares; no listens yet, so no collaborative part",
        }  # fmt: skip


class Catalogue:
    """The items an engine serves, by their 32-byte receipt ids, and the content space for new tracks."""

    def __init__(self, engine):
        self.engine = engine
        self.artist_by_item = {lastfm_item_id(int(a)): int(a) for a in engine.interactions.item_ids}
        self._vocabulary = {name.lower(): index for index, name in enumerate(engine.tag_names)}
        self._features: sp.csr_matrix | None = None
        self._idf: np.ndarray | None = None
        self._vectors: dict[bytes, tuple[np.ndarray, np.ndarray, tuple[str, ...]]] = {}

    def artist(self, item_id: bytes) -> int | None:
        return self.artist_by_item.get(item_id)

    @property
    def reach(self) -> int:
        """The content ranks a registered track may take the new-release slot from."""
        return max(1, math.ceil(NEW_RELEASE_REACH * self.engine.interactions.n_items))

    def placements(self, user: int, tracks: tuple[RegisteredTrack, ...], n: int) -> list[tuple[int, ColdStartScore, str]]:
        """(index in the list, score, slot) of the registered tracks a list of ``n`` shows, in insertion order."""
        if not tracks:
            return []
        listener = self.listener(user)
        scored = sorted((self.cold_start(user, track, listener) for track in tracks),
                        key=lambda c: (c.content_rank, c.track.track_id))  # fmt: skip
        placed = [(c.content_rank - 1, c, "content-rank") for c in scored if c.content_rank <= n]
        if not placed:
            placed = [(n - 1, c, "new-release") for c in scored if c.content_rank <= self.reach][:1]
        return placed

    def _space(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """Cosine-normalised TF-IDF rows of the dataset artists, and the IDF new tracks are weighted by."""
        if self._features is None:
            counts = sp.csr_matrix(self.engine.content, dtype=np.float64)
            described = max(int(np.count_nonzero(np.diff(counts.indptr))), 1)
            frequency = np.diff(sp.csc_matrix(counts).indptr)
            self._idf = np.log(described / np.maximum(frequency, 1))
            weighted = counts.copy()
            weighted.data = np.log1p(weighted.data) * self._idf[weighted.indices]
            self._features = _unit_rows(weighted)
        return self._features, self._idf

    def track_vector(self, track: RegisteredTrack) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """The track's unit TF-IDF vector as (tag indices, weights), one assignment per tag, and the
        tags the dataset never used; kept per track, since every listener of an epoch needs it."""
        if track.track_id not in self._vectors:
            _, idf = self._space()
            known = sorted({self._vocabulary[t] for t in track.tags if t in self._vocabulary and idf[self._vocabulary[t]] > 0})
            unmatched = tuple(t for t in track.tags if t not in self._vocabulary or idf[self._vocabulary[t]] <= 0)
            indices = np.array(known, dtype=np.int64)
            weights = np.log1p(1.0) * idf[indices]
            norm = float(np.sqrt(weights @ weights))
            self._vectors[track.track_id] = (indices, weights / norm if norm > 0 else weights, unmatched)
        return self._vectors[track.track_id]

    def listener(self, user: int) -> "_Listener":
        """The listener at row ``user`` of the engine's current histories, in the content space."""
        features, _ = self._space()
        start, end = self.engine.history.indptr[user], self.engine.history.indptr[user + 1]
        items, plays = self.engine.history.indices[start:end], self.engine.history.data[start:end]
        weights = np.log1p(plays)
        lengths = features.indptr[items + 1] - features.indptr[items]
        offsets = row_offsets(features.indptr[items], lengths)
        rows, tags, values = np.repeat(np.arange(len(items)), lengths), features.indices[offsets], features.data[offsets]
        profile = np.bincount(tags, weights=values * weights[rows], minlength=features.shape[1])
        catalogue_scores = features @ profile
        catalogue_scores[items] = -np.inf  # what the listener played is not recommended back
        return _Listener(items, weights, profile, catalogue_scores, rows, tags, values)

    def cold_start(self, user: int, track: RegisteredTrack, listener: "_Listener | None" = None) -> ColdStartScore:
        """Score ``track`` for the listener at row ``user`` (``listener``: that row, already placed)."""
        listener = listener or self.listener(user)
        items, weights, profile = listener.items, listener.weights, listener.profile
        tags, values, unmatched = self.track_vector(track)
        shares = profile[tags] * values
        score = float(shares.sum())
        # 1 + the unplayed artists scoring higher: a count, not a sort of the catalogue (0.35 ms each
        # listener; the count is 0.02 ms a track).
        content_rank = 1 + int(np.count_nonzero(listener.catalogue_scores > score))
        order = [k for k in np.lexsort((tags, -shares)) if shares[k] > 0][:MATCHES_SHOWN]
        matched = tuple((self.engine.tag_names[tags[k]], float(shares[k])) for k in order)
        contributions = weights * listener.similarities(tags, values)
        strongest = [k for k in np.lexsort((items, -contributions)) if contributions[k] > 0][:PROTOTYPES_SHOWN]
        prototypes = tuple((int(self.engine.interactions.item_ids[items[k]]), self.engine.item_names[items[k]],
                            float(contributions[k])) for k in strongest)  # fmt: skip
        return ColdStartScore(track, score, content_rank, matched, prototypes, unmatched)


@dataclass(frozen=True)
class _Listener:
    items: np.ndarray
    weights: np.ndarray
    profile: np.ndarray
    catalogue_scores: np.ndarray  # the catalogue's content scores (played items at -inf)
    # the played artists' tag vectors, flattened: row (into items), tag index, value
    rows: np.ndarray
    tags: np.ndarray
    values: np.ndarray

    def similarities(self, tags: np.ndarray, values: np.ndarray) -> np.ndarray:
        """⟨played artist's vector, the vector (tags, values)⟩ for every played artist: only the
        entries on ``tags`` count (a slice of the tag-major matrix instead built every item having
        those tags, and took 0.2 ms a track; this takes 0.03 ms)."""
        position = np.full(len(self.profile), -1, dtype=np.int64)
        position[tags] = np.arange(len(tags))
        found = position[self.tags]
        hit = np.flatnonzero(found >= 0)
        return np.bincount(self.rows[hit], weights=self.values[hit] * values[found[hit]], minlength=len(self.items))


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)
