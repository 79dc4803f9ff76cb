"""The loader: real counts, and one clear error for a missing or corrupt file."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from qfzz_chain.errors import QfzzError
from qfzz_chain.recommender.data import LASTFM_FILES, Interactions, load_lastfm, verify_checksums
from qfzz_chain.recommender.errors import DataFileCorruptError, DataFileMissingError, UnknownItemError, UnknownUserError


def test_real_dataset_shape(lastfm):
    interactions = lastfm.interactions
    assert (interactions.n_users, interactions.n_items) == (1892, 17632)
    assert interactions.plays.nnz == 92834
    assert lastfm.friends.nnz == 25434
    assert lastfm.tags.n_tags == 11946
    assert len(lastfm.tags.item) > 180_000
    assert lastfm.item_name(interactions.item_index(707)) == "Metallica"


def test_from_triples_and_id_lookup():
    data = Interactions.from_triples([7, 7, 3], [20, 10, 10], [1, 2, 3], item_ids=np.array([10, 20, 30]))
    assert data.plays.shape == (2, 3)
    assert data.plays[data.user_index(7), data.item_index(20)] == 1
    with pytest.raises(UnknownUserError):
        data.user_index(99)
    with pytest.raises(UnknownItemError):
        data.item_index(11)
    with pytest.raises(UnknownItemError):
        Interactions.from_triples([1], [40], [1], item_ids=np.array([10, 20]))


@pytest.fixture
def copy_of_data(lastfm, tmp_path):
    from qfzz_chain.config import lastfm_data_path

    folder = tmp_path / "lastfm"
    folder.mkdir()
    for name in (*LASTFM_FILES, "SHA256SUMS"):
        shutil.copy(lastfm_data_path() / name, folder / name)
        (folder / name).chmod(0o644)
    return folder


def test_missing_file_is_one_clear_error(copy_of_data):
    (copy_of_data / "user_artists.dat").unlink()
    with pytest.raises(DataFileMissingError, match="user_artists.dat"):
        load_lastfm(copy_of_data)


def test_missing_folder_and_checksum_file(copy_of_data, tmp_path):
    with pytest.raises(DataFileMissingError):
        load_lastfm(tmp_path / "nowhere")
    (copy_of_data / "SHA256SUMS").unlink()
    with pytest.raises(DataFileMissingError, match="SHA256SUMS"):
        load_lastfm(copy_of_data)


def test_checksum_mismatch_is_detected(copy_of_data):
    path = copy_of_data / "user_artists.dat"
    data = bytearray(path.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileCorruptError, match="SHA256SUMS") as raised:
        verify_checksums(copy_of_data)
    assert isinstance(raised.value, QfzzError)


def test_unparseable_file_with_matching_checksum(copy_of_data):
    path = copy_of_data / "user_friends.dat"
    path.write_text("userID\tfriendID\n2\tnot-a-number\n")
    sums = copy_of_data / "SHA256SUMS"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [f"{digest}  user_friends.dat" if line.endswith("user_friends.dat") else line
             for line in sums.read_text().splitlines()]
    sums.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileCorruptError, match="cannot parse"):
        load_lastfm(copy_of_data)
