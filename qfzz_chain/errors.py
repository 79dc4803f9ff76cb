"""The project's exception hierarchy: every error a user can cause derives from ``QfzzError``.

Each package keeps its own errors beside it (``chain/errors.py``, ``ipfs/errors.py``, ...); this
module holds the root and the errors every package shares.

The CLI turns a ``QfzzError`` into one line on stderr and a non-zero exit; anything else is a bug
and keeps its traceback.
"""


class QfzzError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigError(QfzzError):
    """A setting, key or environment variable is missing or malformed."""


class IpfsError(QfzzError):
    """Content could not be added, found or verified."""


class InvalidCidError(IpfsError):
    """A string is not a valid CID."""


class RecommenderError(QfzzError):
    """Bad input to the recommender: data files, users, items or parameters."""
