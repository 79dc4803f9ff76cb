"""Where the project keeps its state, from environment variables with sensible defaults.

``QFZZ_HOME`` (default ``~/.qfzz``) holds the local chain's state, deployment records and the
embedded IPFS repository, so one variable moves or isolates everything (tests use a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def qfzz_home() -> Path:
    return Path(os.environ.get("QFZZ_HOME", Path.home() / ".qfzz")).expanduser()


def ipfs_repo_path() -> Path:
    """The embedded IPFS store's folder: ``QFZZ_IPFS_REPO`` or ``$QFZZ_HOME/ipfs``."""
    return Path(os.environ.get("QFZZ_IPFS_REPO", qfzz_home() / "ipfs")).expanduser()


def lastfm_data_path() -> Path:
    """The HetRec 2011 Last.fm 2K folder: ``QFZZ_LASTFM_DIR`` or the shared copy beside the repo."""
    default = PROJECT_ROOT.parent / "shared" / "data" / "lastfm-2k"
    return Path(os.environ.get("QFZZ_LASTFM_DIR", default)).expanduser()
