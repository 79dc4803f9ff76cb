"""The budgeted search every model is tuned with: it finds the optimum, keeps to its budget, flags edges."""

from __future__ import annotations

import pytest

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.tuning import Dimension, coordinate_search, log_grid

GRID = tuple(range(10))


def bowl(target: dict[str, int]):
    """A separable objective with its maximum at ``target``; counts its calls."""
    calls = []

    def evaluate(params):
        calls.append(dict(params))
        return -sum((params[k] - v) ** 2 for k, v in target.items())

    return evaluate, calls


def test_line_search_reaches_the_optimum_of_a_separable_objective():
    evaluate, calls = bowl({"a": 7, "b": 2})
    space = (Dimension("a", GRID, 4), Dimension("b", GRID, 4))
    result = coordinate_search(space, evaluate, budget=100)
    assert result.params == {"a": 7, "b": 2}
    assert result.value == 0
    assert result.edges == ()
    # every setting is evaluated once, however often the search passes it
    assert len(calls) == len({tuple(sorted(c.items())) for c in calls}) == result.evaluations


def test_budget_is_a_hard_limit_and_the_best_so_far_is_returned():
    evaluate, calls = bowl({"a": 9, "b": 0})
    space = (Dimension("a", GRID, 0), Dimension("b", GRID, 9))
    result = coordinate_search(space, evaluate, budget=5)
    assert len(calls) == result.evaluations == 5
    assert result.value == max(t.value for t in result.trials)
    assert result.params == max(result.trials, key=lambda t: t.value).params


def test_a_choice_at_the_end_of_an_ordered_grid_is_flagged():
    evaluate, _ = bowl({"a": 20, "b": 3})  # the optimum of "a" lies beyond the grid
    space = (Dimension("a", GRID, 5), Dimension("b", GRID, 5), Dimension("c", ("x", "y"), "x", ordered=False))
    result = coordinate_search(space, lambda p: evaluate({"a": p["a"], "b": p["b"]}), budget=100)
    assert result.params["a"] == 9 and result.edges == ("a",)


def test_unordered_choices_are_all_tried_and_fixed_settings_pass_through():
    seen = []

    def evaluate(params):
        seen.append(params["kind"])
        assert params["seed"] == 3
        return {"log": 1.0, "binary": 2.0, "plays": 0.5}[params["kind"]]

    space = (Dimension("kind", ("log", "binary", "plays"), "log", ordered=False),)
    result = coordinate_search(space, evaluate, budget=10, fixed={"seed": 3})
    assert result.params == {"seed": 3, "kind": "binary"}
    assert sorted(seen) == ["binary", "log", "plays"]


def test_ties_keep_the_earlier_point_so_the_search_is_deterministic():
    first = coordinate_search((Dimension("a", GRID, 4),), lambda p: 1.0, budget=20)
    second = coordinate_search((Dimension("a", GRID, 4),), lambda p: 1.0, budget=20)
    assert first.params == second.params == {"a": 4}
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def test_bad_spaces_are_refused():
    with pytest.raises(InvalidParameterError):
        Dimension("a", (1, 2), 3)
    with pytest.raises(InvalidParameterError):
        coordinate_search((Dimension("a", (1,), 1), Dimension("a", (1,), 1)), lambda p: 0.0, budget=3)
    with pytest.raises(InvalidParameterError):
        coordinate_search((Dimension("a", (1,), 1),), lambda p: 0.0, budget=0)


def test_log_grid_is_round_and_inclusive():
    assert log_grid(10, 1000) == (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
    assert log_grid(5, 20, fine=True) == (5.0, 7.0, 10.0, 15.0, 20.0)
    with pytest.raises(InvalidParameterError):
        log_grid(0, 10)
