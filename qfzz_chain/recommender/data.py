"""Loading listening data: the I/O edge of the recommender.

Everything past this module works on :class:`Interactions` (a user × item play-count matrix with
the external ids of both axes) and :class:`TagAssignments` (who tagged which item with what, and
when). Items are whatever the ids name: artists for Last.fm, tracks elsewhere.

The HetRec 2011 Last.fm 2K files are checked against their pinned ``SHA256SUMS`` before parsing,
so a truncated or edited copy fails loudly instead of quietly changing every metric.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qfzz_chain.config import lastfm_data_path
from qfzz_chain.recommender.errors import (
    DataFileCorruptError,
    DataFileMissingError,
    UnknownItemError,
    UnknownUserError,
)

LASTFM_FILES = (
    "artists.dat",
    "tags.dat",
    "user_artists.dat",
    "user_friends.dat",
    "user_taggedartists.dat",
)
# Tag dates before Last.fm existed (a handful of 1956/1979 rows) are data-entry noise.
FIRST_PLAUSIBLE_TAG_YEAR = 2002
UNDATED = -1


@dataclass(frozen=True)
class Interactions:
    """Play counts of users (rows) on items (columns), with the external id of every row/column."""

    plays: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray

    @classmethod
    def from_triples(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        plays: np.ndarray,
        item_ids: np.ndarray | None = None,
    ) -> "Interactions":
        """Build from parallel arrays of external user id, item id and play count.

        ``item_ids`` fixes the item axis (so a catalogue can hold items nobody played yet);
        by default it is the sorted set of items that occur. Duplicate pairs are summed.
        """
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        plays = np.asarray(plays, dtype=np.float64)
        user_ids = np.unique(users)
        item_ids = np.unique(items) if item_ids is None else np.asarray(item_ids, dtype=np.int64)
        item_pos = np.searchsorted(item_ids, items)
        if np.any(item_pos >= len(item_ids)) or np.any(item_ids[np.minimum(item_pos, len(item_ids) - 1)] != items):
            raise UnknownItemError("interactions name items outside the given item catalogue")
        matrix = sp.csr_matrix(
            (plays, (np.searchsorted(user_ids, users), item_pos)),
            shape=(len(user_ids), len(item_ids)),
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return cls(matrix, user_ids, item_ids)

    @property
    def n_users(self) -> int:
        return self.plays.shape[0]

    @property
    def n_items(self) -> int:
        return self.plays.shape[1]

    def user_index(self, user_id: int) -> int:
        """Row of an external user id; :class:`UnknownUserError` if there is none."""
        return _position(self.user_ids, user_id, UnknownUserError, "user")

    def item_index(self, item_id: int) -> int:
        """Column of an external item id; :class:`UnknownItemError` if there is none."""
        return _position(self.item_ids, item_id, UnknownItemError, "item")


def _position(ids: np.ndarray, wanted: int, error: type[Exception], kind: str) -> int:
    pos = int(np.searchsorted(ids, wanted))
    if pos >= len(ids) or ids[pos] != wanted:
        raise error(f"unknown {kind} id {wanted}")
    return pos


@dataclass(frozen=True)
class TagAssignments:
    """One row per (user, item, tag) assignment, as row/column indices of an :class:`Interactions`.

    ``month`` counts months since year 0 (``year * 12 + month - 1``), or ``UNDATED``.
    """

    user: np.ndarray
    item: np.ndarray
    tag: np.ndarray
    month: np.ndarray
    tag_names: tuple[str, ...]

    @property
    def n_tags(self) -> int:
        return len(self.tag_names)


@dataclass(frozen=True)
class LastfmDataset:
    """The HetRec 2011 Last.fm 2K dataset, indexed consistently across its files."""

    interactions: Interactions
    item_names: tuple[str, ...]
    tags: TagAssignments
    friends: sp.csr_matrix

    def item_name(self, index: int) -> str:
        return self.item_names[index]


def verify_checksums(folder: Path, names: tuple[str, ...] = LASTFM_FILES) -> None:
    """Check ``names`` in ``folder`` against the folder's ``SHA256SUMS``; raise on any difference."""
    sums_path = folder / "SHA256SUMS"
    if not sums_path.is_file():
        raise DataFileMissingError(f"missing checksum file {sums_path}")
    pinned = {}
    for line in sums_path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            pinned[parts[1].lstrip("*")] = parts[0].lower()
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DataFileMissingError(f"missing data file {path}")
        if name not in pinned:
            raise DataFileCorruptError(f"{sums_path} has no checksum for {name}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != pinned[name]:
            raise DataFileCorruptError(
                f"{path} does not match its SHA256SUMS entry (corrupt or modified copy)"
            )


def _int_table(path: Path, columns: int) -> np.ndarray:
    """A tab-separated integer table with a header line, as an (n, columns) int64 array."""
    try:
        table = np.loadtxt(path, dtype=np.int64, delimiter="\t", skiprows=1, ndmin=2)
    except ValueError as exc:
        raise DataFileCorruptError(f"cannot parse {path}: {exc}") from exc
    if table.shape[1] != columns:
        raise DataFileCorruptError(f"{path} has {table.shape[1]} columns, expected {columns}")
    return table


def _id_name_table(path: Path, encoding: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """An ``id<TAB>name...`` file as ids in ascending order and their names (artists, tags)."""
    rows = _text_table(path, encoding)
    try:
        ids = np.array([row[0] for row in rows]).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)
    except (ValueError, IndexError) as exc:
        raise DataFileCorruptError(f"cannot parse {path}: {exc}") from exc
    order = np.argsort(ids)
    return ids[order], tuple(rows[i][1] if len(rows[i]) > 1 else "" for i in order)


def _text_table(path: Path, encoding: str) -> list[list[str]]:
    """The id and name columns of every non-empty line after the header (later columns, such as
    artists.dat's two URLs, are left unsplit: they are never used)."""
    try:
        lines = path.read_text(encoding=encoding).splitlines()[1:]
    except UnicodeDecodeError as exc:
        raise DataFileCorruptError(f"cannot decode {path} as {encoding}: {exc}") from exc
    return [line.split("\t", 2)[:2] for line in lines if line]


def load_lastfm(folder: Path | str | None = None, verify: bool = True) -> LastfmDataset:
    """Load the Last.fm 2K dataset from ``folder`` (default: :func:`lastfm_data_path`).

    With ``verify`` the files are first checked against ``SHA256SUMS``. Tag assignments on
    artists outside ``artists.dat`` and friend pairs with unknown users are dropped, since no
    listening data can ever refer to them.
    """
    folder = Path(folder) if folder is not None else lastfm_data_path()
    if not folder.is_dir():
        raise DataFileMissingError(f"dataset folder {folder} does not exist")
    if verify:
        verify_checksums(folder)
    for name in LASTFM_FILES:
        if not (folder / name).is_file():
            raise DataFileMissingError(f"missing data file {folder / name}")

    artist_ids, names = _id_name_table(folder / "artists.dat", "utf-8")

    plays = _int_table(folder / "user_artists.dat", 3)
    interactions = Interactions.from_triples(plays[:, 0], plays[:, 1], plays[:, 2], item_ids=artist_ids)

    tag_ids, tag_names = _id_name_table(folder / "tags.dat", "latin-1")

    tagged = _int_table(folder / "user_taggedartists.dat", 6)
    tags = _index_tag_assignments(tagged, interactions, tag_ids, tag_names)

    friend_pairs = _int_table(folder / "user_friends.dat", 2)
    friends = _friend_graph(friend_pairs, interactions.user_ids)
    return LastfmDataset(interactions, names, tags, friends)


def _known(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in sorted ``ids`` and a mask of which values occur there."""
    pos = np.searchsorted(ids, values)
    clipped = np.minimum(pos, len(ids) - 1)
    return clipped, ids[clipped] == values


def _index_tag_assignments(
    tagged: np.ndarray, interactions: Interactions, tag_ids: np.ndarray, tag_names: tuple[str, ...]
) -> TagAssignments:
    user, user_ok = _known(interactions.user_ids, tagged[:, 0])
    item, item_ok = _known(interactions.item_ids, tagged[:, 1])
    tag, tag_ok = _known(tag_ids, tagged[:, 2])
    keep = user_ok & item_ok & tag_ok
    day, month, year = tagged[:, 3], tagged[:, 4], tagged[:, 5]
    dated = (year >= FIRST_PLAUSIBLE_TAG_YEAR) & (month >= 1) & (month <= 12) & (day >= 1)
    months = np.where(dated, year * 12 + month - 1, UNDATED)
    return TagAssignments(
        user=user[keep], item=item[keep], tag=tag[keep], month=months[keep], tag_names=tag_names
    )


def _friend_graph(pairs: np.ndarray, user_ids: np.ndarray) -> sp.csr_matrix:
    a, a_ok = _known(user_ids, pairs[:, 0])
    b, b_ok = _known(user_ids, pairs[:, 1])
    keep = a_ok & b_ok
    n = len(user_ids)
    graph = sp.csr_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    graph.data[:] = 1.0
    return graph
