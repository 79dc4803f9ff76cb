"""IPFS for QFZZ: kubo-compatible content addressing without needing a kubo daemon.

``open_store()`` returns the one ``ContentStore`` to use: the embedded on-disk store by default
(fetching what it lacks from ``$QFZZ_IPFS_PEERS``, every block verified), or a kubo node over
its RPC API when ``QFZZ_IPFS_API`` (or ``api_url``) names one. Both give the CIDs ``ipfs add``
gives, for files and directories. ``publish()`` puts a DAG on the configured remote (kubo RPC or
a pinning service) and says whether it got there.
"""

from typing import Any

from qfzz_chain.ipfs.cid import parse_cid, parse_path, parse_root
from qfzz_chain.ipfs.errors import (
    BlockCorruptedError,
    BlockNotFoundError,
    CarFormatError,
    InvalidCidError,
    IpfsError,
    IsDirectoryError,
    NodeUnavailableError,
    NotAFileError,
    PathNotFoundError,
    PublishError,
)
from qfzz_chain.ipfs.store import (
    AddedEntry,
    AddResult,
    ContentStore,
    DirectoryAddResult,
    ImportedRoot,
    ImportResult,
    LsEntry,
    Progress,
    RepairResult,
    open_store,
)


def add_directory(store: ContentStore, path: Any, **options: Any) -> DirectoryAddResult:
    """Add a folder (an album) as ``ipfs add -r``: ``result.cid`` is the directory's CID and
    ``result.files()`` maps each file's relative path to its CID. Options as
    ``ContentStore.add_directory`` (``cid_version``, ``raw_leaves``, ``pin``, ``progress``, ...)."""
    return store.add_directory(path, **options)


def publish(store: ContentStore, cid: str, **options: Any):
    """Publish the DAG under ``cid`` to the configured remote (``qfzz_chain.ipfs.publishing``)."""
    from qfzz_chain.ipfs.publishing import publish as _publish

    return _publish(store, cid, **options)

__all__ = [
    "AddResult",
    "AddedEntry",
    "DirectoryAddResult",
    "IsDirectoryError",
    "LsEntry",
    "PathNotFoundError",
    "PublishError",
    "RepairResult",
    "add_directory",
    "parse_path",
    "parse_root",
    "publish",
    "BlockCorruptedError",
    "BlockNotFoundError",
    "CarFormatError",
    "ContentStore",
    "ImportResult",
    "ImportedRoot",
    "InvalidCidError",
    "IpfsError",
    "NodeUnavailableError",
    "NotAFileError",
    "Progress",
    "open_store",
    "parse_cid",
]
