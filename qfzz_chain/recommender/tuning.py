"""Budgeted hyperparameter search: the same procedure and the same budget for every model.

A model's search space is a few hyperparameters, each an ordered grid (log-spaced for scales such
as a regularisation) or an unordered set of choices. :func:`coordinate_search` starts from a given
point and improves one hyperparameter at a time: for an ordered grid it steps to a neighbouring
value and keeps stepping in that direction while validation improves (a line search on the grid);
for a choice it tries every value. Sweeps repeat until one changes nothing or the budget — a number
of *distinct* settings evaluated on validation — runs out. Every anchor and our hybrid get the
same budget (``evaluation.TUNING_BUDGET``), so no model wins by having been searched harder.

A chosen value at either end of its ordered grid is flagged (``TuningResult.edges``): the optimum
may lie beyond what was searched, and reports say so.

Pure: ``evaluate`` is the caller's (it fits and scores on validation); nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from qfzz_chain.recommender.errors import InvalidParameterError

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter: its name, its values, where the search starts, and whether they are ordered.

    ``ordered`` grids are searched by line search and their ends count as edges; unordered ones
    (a weighting scheme, an on/off choice) are tried in full and never flagged.
    """

    name: str
    values: tuple[Any, ...]
    start: Any
    ordered: bool = True

    def __post_init__(self) -> None:
        if not self.values:
            raise InvalidParameterError(f"hyperparameter {self.name!r} has no values to search")
        if self.start not in self.values:
            raise InvalidParameterError(f"hyperparameter {self.name!r} starts at {self.start!r}, not on its grid")


@dataclass(frozen=True)
class Trial:
    """One setting evaluated on validation and the value it reached (higher is better)."""

    params: dict[str, Any]
    value: float


@dataclass
class TuningResult:
    """The best setting found, every trial in the order made, and the chosen values at a grid edge."""

    params: dict[str, Any]
    value: float
    trials: list[Trial] = field(default_factory=list)
    edges: tuple[str, ...] = ()
    budget: int = 0

    @property
    def evaluations(self) -> int:
        return len(self.trials)


def _key(params: dict[str, Any]) -> Hashable:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


class _BudgetSpent(Exception):
    pass


def coordinate_search(space: tuple[Dimension, ...] | list[Dimension], evaluate: Callable[[dict[str, Any]], float],
                      budget: int, fixed: dict[str, Any] | None = None, progress: Progress = _quiet,
                      label: str = "") -> TuningResult:
    """The best point of ``space`` under ``evaluate`` within ``budget`` distinct evaluations.

    ``fixed`` settings are passed to ``evaluate`` with every point and never searched. A move must
    strictly improve on the best value so far; ties keep the earlier point, so the search is
    deterministic given ``evaluate``.
    """
    if budget < 1:
        raise InvalidParameterError(f"a search needs a budget of at least one evaluation, got {budget}")
    names = [d.name for d in space]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"hyperparameters named twice in one search space: {names}")
    fixed = dict(fixed or {})
    seen: dict[Hashable, float] = {}
    trials: list[Trial] = []

    def value_of(point: dict[str, Any]) -> float:
        params = {**fixed, **point}
        key = _key(params)
        if key not in seen:
            if len(trials) >= budget:
                raise _BudgetSpent
            seen[key] = float(evaluate(params))
            trials.append(Trial(params, seen[key]))
            progress(f"  validation {label} {_format(point)}: {seen[key]:.4f}")
        return seen[key]

    current = {d.name: d.start for d in space}
    best = value_of(current)
    try:
        while True:
            changed = False
            for dimension in space:
                values = list(dimension.values)
                if not dimension.ordered:
                    for value in values:
                        trial = {**current, dimension.name: value}
                        score = value_of(trial)
                        if score > best:
                            best, current, changed = score, trial, True
                    continue
                index = values.index(current[dimension.name])
                for step in (1, -1):
                    moved = False
                    position = index + step
                    while 0 <= position < len(values):
                        trial = {**current, dimension.name: values[position]}
                        score = value_of(trial)
                        if score <= best:
                            break
                        best, current, changed, moved = score, trial, True, True
                        index = position
                        position += step
                    if moved:
                        break  # improved going this way: no need to look the other way
            if not changed:
                break
    except _BudgetSpent:
        pass
    edges = tuple(d.name for d in space if d.ordered and len(d.values) > 1
                  and current[d.name] in (d.values[0], d.values[-1]))
    return TuningResult({**fixed, **current}, best, trials, edges, budget)


def _format(point: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items()) or "(defaults)"


_MANTISSAS = {False: (1.0, 2.0, 5.0), True: (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)}


def log_grid(low: float, high: float, fine: bool = False) -> tuple[float, ...]:
    """Log-spaced round values from ``low`` to ``high`` inclusive: 1, 2, 5 per decade (``fine``:
    1, 1.5, 2, 3, 5, 7), e.g. ``log_grid(10, 1000)`` = (10, 20, 50, 100, 200, 500, 1000)."""
    if not 0 < low < high:
        raise InvalidParameterError(f"a log grid needs 0 < low < high, got {low}, {high}")
    import math

    values = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in _MANTISSAS[fine]:
            value = float(f"{mantissa * 10.0 ** exponent:.6g}")
            if low * (1 - 1e-9) <= value <= high * (1 + 1e-9):
                values.append(value)
    return tuple(values)
