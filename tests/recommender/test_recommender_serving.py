"""Serving path and learned dynamic λ: single-user scoring, support buckets, the fitted-model cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender import cache
from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.evaluation import BucketMixNDCG, ProtocolData, learn_bucket_lambdas, mean_ndcg
from qfzz_chain.recommender.models import MODEL_NAMES, build_model
from qfzz_chain.recommender.models.base import top_n, top_n_one
from qfzz_chain.recommender.models import hybrid as hybrid_module
from qfzz_chain.recommender.models.content import pair_similarities, strongest_shared_tags, tfidf_rows
from qfzz_chain.recommender.models.hybrid import SUPPORT_BUCKETS, bucket_label, support_bucket
from qfzz_chain.recommender.split import Split, random_holdout

from tests.recommender.fast_models import FAST, fitted


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_single_user_scoring_matches_batch_scoring(name, plays, tags):
    model = fitted(name, plays, tags)
    for user in (0, 7, 31):
        history = plays[user]
        batch = model.score(history, np.array([user]))[0]
        one = model.score_one(history.indices, history.data, plays.shape[1], user)
        np.testing.assert_allclose(one, batch, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(batch).max()))
        assert list(top_n_one(one, history.indices, 10)) == [i for i in top_n(batch, history, 10)[0] if i >= 0]


def test_standardisation_treats_a_constant_row_alike_in_batch_and_serving():
    row = np.full((1, 50), 0.1)
    np.testing.assert_allclose(hybrid_module.standardized_rows(row), 0.0, atol=1e-6)  # not blown up to ±1
    vector = row[0].astype(np.float32)
    hybrid_module.standardize_in_place(vector)
    np.testing.assert_allclose(vector, 0.0, atol=1e-6)


def test_serving_blas_limit_nests_and_restores_the_thread_counts():
    from qfzz_chain.recommender.engine import _SINGLE_THREADED_BLAS as limit
    before = [library.num_threads for library in limit._libraries]
    with limit:
        with limit:
            assert all(library.num_threads == 1 for library in limit._libraries)
        assert all(library.num_threads == 1 for library in limit._libraries)
    assert [library.num_threads for library in limit._libraries] == before


def test_top_n_one_matches_top_n_including_ties_and_short_lists():
    scores = np.array([0.5, 0.9, 0.5, 0.5, -np.inf, 0.9, 0.1])
    exclude = np.array([1])
    expected = top_n(scores, sp.csr_matrix(([1.0], ([0], [1])), shape=(1, 7)), 4)[0]
    assert list(top_n_one(scores, exclude, 4)) == list(expected) == [5, 0, 2, 3]
    assert list(top_n_one(scores, exclude, 10)) == [5, 0, 2, 3, 6]


def _top_n_by_full_sort(scores: np.ndarray, exclude: np.ndarray, n: int) -> list[int]:
    scores = np.array(scores, dtype=np.float64, copy=True)
    scores[np.isnan(scores)] = -np.inf
    scores[exclude] = -np.inf
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in order[scores[order] > -np.inf][:n]]


@pytest.mark.parametrize("layout", ["distinct", "ties", "mostly_zero", "nan_and_inf", "sorted"])
def test_top_n_one_is_the_full_sorts_top_n_across_block_layouts(layout):
    """The block-maxima bound must never drop an item: lengths around the block size, ties at the
    bound, scores tied at the bottom, NaN and infinities, already sorted input."""
    rng = np.random.default_rng(11)
    for trial in range(300):
        size, n = int(rng.integers(1, 700)), int(rng.integers(1, 40))
        scores = rng.normal(size=size).astype(np.float32 if trial % 2 else np.float64)
        if layout == "ties":
            scores = np.round(scores * 2) / 2
        elif layout == "mostly_zero":
            scores[rng.random(size) < 0.9] = 0.0
        elif layout == "nan_and_inf":
            scores[rng.random(size) < 0.2] = np.nan
            scores[rng.random(size) < 0.05] = np.inf
            scores[rng.random(size) < 0.05] = -np.inf
        elif layout == "sorted":
            scores = np.sort(scores)
        exclude = rng.choice(size, size=int(rng.integers(0, size)), replace=False)
        assert list(top_n_one(scores, exclude, n)) == _top_n_by_full_sort(scores, exclude, n), (trial, size, n)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_top_n_one_and_top_n_never_admit_nan_and_rank_infinity_first(n):
    scores = np.array([0.5, np.nan, np.inf, 0.2, -np.inf])
    one = list(top_n_one(scores, np.array([], dtype=np.int64), n))
    assert one == [2, 0, 3][:n]
    assert [i for i in top_n(scores, None, n)[0] if i >= 0] == one


def test_content_explanations_are_the_sparse_products(tags):
    """The content model's per-target similarities and strongest shared tags, computed on small
    dense blocks, equal the plain sparse products and a per-target sort."""
    features = tfidf_rows(tags)
    rng = np.random.default_rng(5)
    for _ in range(50):
        rows = rng.choice(features.shape[0], size=int(rng.integers(0, 40)), replace=False)
        targets = rng.choice(features.shape[0], size=int(rng.integers(0, 12)))
        expected = (features[rows] @ features[targets].T).toarray()
        np.testing.assert_allclose(pair_similarities(features, rows, targets), expected, rtol=1e-12, atol=1e-15)
        profile = rng.random(features.shape[1]) * (rng.random(features.shape[1]) < 0.5)
        for target, found in zip(targets, strongest_shared_tags(features, profile, targets, 5)):
            item = features[target]
            shared = item.data * profile[item.indices]
            order = np.lexsort((item.indices, -shared))[:5]
            assert found == {int(item.indices[k]): float(shared[k]) for k in order if shared[k] > 0}


def test_support_buckets_are_log_spaced_with_a_bucket_for_unplayed_items():
    listeners = np.array([0, 1, 2, 5, 6, 20, 21, 100, 101, 5000])
    assert support_bucket(listeners).tolist() == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [bucket_label(b) for b in range(len(SUPPORT_BUCKETS))] == ["n0", "n1", "n2_5", "n6_20", "n21_100", "n101_plus"]


def test_hybrid_bucket_lambdas_set_each_items_weight(plays, tags):
    lambdas = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    model = build_model("hybrid", bucket_lambdas=lambdas, **FAST["hybrid"]).fit(plays, tags)
    listeners = np.diff(sp.csc_matrix(plays).indptr)
    np.testing.assert_allclose(model.lambdas, np.array(lambdas)[support_bucket(listeners)])
    assert model.params()["lambda_n0"] == 0.2
    with pytest.raises(InvalidParameterError):
        build_model("hybrid", bucket_lambdas=(0.5, 0.5))
    # An explicit κ-rule setting still gives the κ rule.
    kappa_rule = build_model("hybrid", lambda_sparse=0.4, lambda_dense=0.8, kappa=2.0, **FAST["hybrid"]).fit(plays, tags)
    assert kappa_rule.bucket_lambdas is None and "kappa" in kappa_rule.params()


def test_coordinate_ascent_finds_the_best_grid_point_per_bucket_and_never_loses():
    target = [0.3, 0.9, 0.5]

    def objective(lambdas):
        return -sum((a - b) ** 2 for a, b in zip(lambdas, target))

    learned = learn_bucket_lambdas(objective, 3, {0, 1, 2}, start=0.7)
    assert learned == pytest.approx(target)
    assert objective(learned) >= objective([0.7] * 3)
    # A bucket with no items keeps the starting λ.
    assert learn_bucket_lambdas(objective, 3, {0, 2}, start=0.7)[1] == 0.7


def test_pruned_bucket_objective_equals_the_exact_ndcg(plays, tags):
    split = random_holdout(plays, seed=3)
    data = ProtocolData(Split("random", split.train, split.test), tags)
    users = data.users
    history = split.train[users]
    cf = fitted("ease", split.train, tags).score(history, users)
    content = fitted("content", split.train, tags).score(history, users)
    cf = (cf / np.abs(cf).max(axis=1, keepdims=True)).astype(np.float32)
    content = (content / np.abs(content).max(axis=1, keepdims=True)).astype(np.float32)
    buckets = support_bucket(np.diff(sp.csc_matrix(split.train).indptr))
    objective = BucketMixNDCG(cf, content, buckets, data, 0.3, 1.0)
    for lambdas in ([0.7] * 6, [0.3, 0.5, 1.0, 0.6, 0.8, 0.9]):
        per_item = np.asarray(lambdas, dtype=np.float32)[buckets]
        exact = mean_ndcg((per_item * cf + (1 - per_item) * content).astype(np.float64), data)
        assert objective(lambdas) == pytest.approx(exact, abs=1e-9)


# -- the fitted-model cache ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["hybrid", "itemknn", "ncf", "popularity"])
def test_cache_round_trip_restores_identical_scores(name, plays, tags, tmp_path):
    model = fitted(name, plays, tags)
    path = tmp_path / "m.npz"
    cache.save(path, "k1", model)
    restored = cache.load(path, "k1", build_model(name, **FAST.get(name, {})))
    users = np.arange(plays.shape[0])
    np.testing.assert_array_equal(restored.score(plays, users), model.score(plays, users))
    assert _sparse_layouts(restored) == _sparse_layouts(model)  # a CSC serving copy stays CSC
    with pytest.raises(cache.CacheError):
        cache.load(path, "another key", build_model(name, **FAST.get(name, {})))
    with pytest.raises(cache.CacheError):
        cache.load(path, "k1", build_model("content" if name != "content" else "itemknn"))


def _sparse_layouts(model) -> dict[str, str]:
    manifest = json.loads(str(cache.model_state(model)["__manifest__"]))
    return {path: kind for path, kind in manifest.items() if kind in ("csr", "csc")}


def test_corrupt_cache_is_refused_and_no_temporary_file_is_left(plays, tags, tmp_path):
    model = fitted("itemknn", plays, tags)
    path = tmp_path / "m.npz"
    cache.save(path, "k", model)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(cache.CacheError):
        cache.load(path, "k", build_model("itemknn"))


def test_cache_key_depends_on_data_model_and_settings():
    base = cache.cache_key(b"sums", "hybrid", {"a": 1})
    assert base == cache.cache_key(b"sums", "hybrid", {"a": 1})
    assert len({base, cache.cache_key(b"other", "hybrid", {"a": 1}), cache.cache_key(b"sums", "ease", {"a": 1}),
                cache.cache_key(b"sums", "hybrid", {"a": 2})}) == 4


def test_engine_serving_path_is_the_models_scores(interactions, tags):
    model = build_model("hybrid", **FAST["hybrid"]).fit(interactions.plays, tags)
    engine = RecommendationEngine(model, interactions, tuple(str(i) for i in interactions.item_ids))
    user = 5
    batch = model.score(interactions.plays[user], np.array([user]))[0]
    np.testing.assert_allclose(engine.scores(user), batch, rtol=1e-5, atol=1e-7)
    before = list(engine.top_items(user, 5))
    engine.record_listen(int(interactions.user_ids[user]), int(interactions.item_ids[before[0]]), plays=50)
    after = list(engine.top_items(user, 5))
    assert before[0] not in after  # a listened item leaves the list at once
