"""Errors the recommender raises on purpose; the CLI prints each as one line and exits non-zero."""

from __future__ import annotations

from qfzz_chain.errors import RecommenderError


class DataFileMissingError(RecommenderError):
    """A file the loader needs is not where the dataset folder says it should be."""


class DataFileCorruptError(RecommenderError):
    """A data file does not match its pinned checksum, or cannot be parsed."""


class UnknownUserError(RecommenderError):
    """A user id that the fitted data has never seen."""


class UnknownItemError(RecommenderError):
    """An item (artist, track) id that the fitted data has never seen."""


class InvalidParameterError(RecommenderError):
    """A model name, hyperparameter or protocol option that makes no sense."""


class ChartPathError(RecommenderError):
    """A chart cannot be written where asked (missing folder, not a folder, unsupported format)."""
