"""Shared fixtures: a small hand-made listening world, and (sparingly) the real Last.fm data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.config import lastfm_data_path
from qfzz_chain.recommender.data import Interactions


def synthetic_plays(n_users: int = 60, n_items: int = 40, seed: int = 0) -> sp.csr_matrix:
    """Users in three taste clusters over three item blocks, plus a little noise: CF has signal."""
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    blocks = np.array_split(np.arange(n_items), 3)
    for user in range(n_users):
        block = blocks[user % 3]
        liked = rng.choice(block, size=min(8, len(block)), replace=False)
        noise = rng.choice(n_items, size=2, replace=False)
        for item in np.unique(np.concatenate([liked, noise])):
            rows.append(user)
            cols.append(item)
            vals.append(float(rng.integers(1, 200)))
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_users, n_items))


def synthetic_tags(n_items: int = 40, n_tags: int = 6, seed: int = 1) -> sp.csr_matrix:
    """Item × tag counts where each item block shares two tags."""
    rng = np.random.default_rng(seed)
    blocks = np.array_split(np.arange(n_items), 3)
    dense = np.zeros((n_items, n_tags))
    for b, block in enumerate(blocks):
        dense[block, 2 * b] = rng.integers(1, 5, size=len(block))
        dense[block, 2 * b + 1] = rng.integers(0, 3, size=len(block))
    return sp.csr_matrix(dense)


@pytest.fixture
def plays() -> sp.csr_matrix:
    return synthetic_plays()


@pytest.fixture
def tags() -> sp.csr_matrix:
    return synthetic_tags()


@pytest.fixture
def interactions(plays: sp.csr_matrix) -> Interactions:
    coo = plays.tocoo()
    return Interactions.from_triples(coo.row + 100, coo.col + 1000, coo.data, item_ids=np.arange(plays.shape[1]) + 1000)


@pytest.fixture(scope="session")
def lastfm():
    """The real dataset (loaded once per session); tests that need it are skipped without it."""
    from qfzz_chain.recommender.data import load_lastfm

    if not lastfm_data_path().is_dir():
        pytest.skip("Last.fm 2K data not available")
    return load_lastfm()


def synthetic_friends(n_users: int = 60, seed: int = 2) -> sp.csr_matrix:
    """Symmetric friendships, mostly inside a user's taste cluster (user % 3), a few across."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for user in range(n_users):
        same = [v for v in range(user % 3, n_users, 3) if v != user]
        for friend in rng.choice(same, size=3, replace=False).tolist() + [int(rng.integers(n_users))]:
            if friend != user:
                rows += [user, friend]
                cols += [friend, user]
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_users))
    graph.data[:] = 1.0
    return graph


@pytest.fixture
def friends() -> sp.csr_matrix:
    return synthetic_friends()
