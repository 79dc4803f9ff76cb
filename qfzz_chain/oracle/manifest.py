"""Model manifests: what a model version on-chain commits to, stored on IPFS.

A manifest is canonical JSON (specified here once):

    {"schema": "qfzz.model-manifest/1", "model": "hybrid", "params": {...}, "cache_key": "…",
     "code_version": "<sha-256 of the recommender's sources>", "data": {"dataset": "lastfm-2k",
     "sha256sums": "<sha-256 of its SHA256SUMS file>"}, "arrays": "<CID of the fitted model's .npz>",
     "catalogue": {"items": 17632, "digest": "<sha-256 of the sorted 32-byte item ids>"}}

``registerModelVersion`` stores its CID. A node serves a version only from its manifest: it
fetches the arrays by CID (every block verified), checks that its own recommender code and
dataset are the manifest's, restores the fitted model and checks the catalogue, so every member
serves the very model the version names. A listener's ``--recompute`` does the same.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qfzz_chain.ipfs import ContentStore
from qfzz_chain.oracle.errors import OracleError
from qfzz_chain.oracle.receipts import lastfm_item_id
from qfzz_chain.recommender.explain import canonical_json

MANIFEST_SCHEMA = "qfzz.model-manifest/1"


class ManifestError(OracleError):
    """A model manifest is unreadable, or does not match this node's code, data or catalogue."""


@dataclass(frozen=True)
class Manifest:
    model: str
    params: dict[str, Any]
    cache_key: str
    code_version: str
    data_sha256sums: str
    arrays: str
    catalogue_items: int
    catalogue_digest: str

    def to_json(self) -> dict[str, Any]:
        return {"schema": MANIFEST_SCHEMA, "model": self.model, "params": self.params, "cache_key": self.cache_key,
                "code_version": self.code_version, "arrays": self.arrays,
                "data": {"dataset": "lastfm-2k", "sha256sums": self.data_sha256sums},
                "catalogue": {"items": self.catalogue_items, "digest": self.catalogue_digest}}  # fmt: skip

    @classmethod
    def from_bytes(cls, data: bytes) -> "Manifest":
        try:
            value = json.loads(data)
            if value.get("schema") != MANIFEST_SCHEMA:
                raise ValueError(f"schema {value.get('schema')!r}")
            return cls(value["model"], value["params"], value["cache_key"], value["code_version"],
                       value["data"]["sha256sums"], value["arrays"], int(value["catalogue"]["items"]),
                       value["catalogue"]["digest"])  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"not a model manifest: {exc}") from exc


def catalogue_digest(item_ids) -> str:
    """SHA-256 over the catalogue's sorted 32-byte receipt item ids."""
    digest = hashlib.sha256()
    for item in sorted(lastfm_item_id(int(a)) for a in item_ids):
        digest.update(item)
    return digest.hexdigest()


def publish_manifest(store: ContentStore, engine, cache_file: Path, cache_key: str, checksums: bytes) -> str:
    """Add the fitted model's arrays and its manifest to IPFS; returns the manifest's CID."""
    from qfzz_chain.recommender.cache import code_version

    arrays = store.add_file(cache_file, cid_version=1).cid
    manifest = Manifest(
        model=engine.model.name, params=json.loads(canonical_json(engine.model.params())),
        cache_key=cache_key, code_version=code_version(),
        data_sha256sums=hashlib.sha256(checksums).hexdigest(), arrays=arrays,
        catalogue_items=int(engine.interactions.n_items), catalogue_digest=catalogue_digest(engine.interactions.item_ids),
    )  # fmt: skip
    return store.add_bytes(canonical_json(manifest.to_json()), cid_version=1).cid


def read_manifest(store: ContentStore, cid: str) -> Manifest:
    try:
        return Manifest.from_bytes(store.read_bytes(cid))
    except OracleError:
        raise
    except Exception as exc:  # IpfsError and friends: named, with the CID
        raise ManifestError(f"cannot read the model manifest {cid}: {exc}") from exc


def load_engine(store: ContentStore, cid: str, dataset, checksums: bytes):
    """The engine a manifest names, restored from its arrays and checked against it."""
    from qfzz_chain.recommender.cache import CacheError, code_version, load
    from qfzz_chain.recommender.engine import RecommendationEngine
    from qfzz_chain.recommender.models import build_model

    manifest = read_manifest(store, cid)
    if manifest.code_version != code_version():
        raise ManifestError(f"manifest {cid} needs recommender code {manifest.code_version[:12]}…, this node runs "
                            f"{code_version()[:12]}…: install that version to serve it")  # fmt: skip
    if manifest.data_sha256sums != hashlib.sha256(checksums).hexdigest():
        raise ManifestError(f"manifest {cid} was fitted on another copy of the dataset (SHA256SUMS differ)")
    with tempfile.TemporaryDirectory(prefix="qfzz-model-") as folder:
        path = Path(folder) / "model.npz"
        with open(path, "wb") as out:
            for chunk in store.cat(manifest.arrays):
                out.write(chunk)
        fresh = build_model(manifest.model)
        if canonical_json(fresh.params()) != canonical_json(manifest.params):
            raise ManifestError(f"manifest {cid} was fitted with other {manifest.model} settings than this "
                                "code's defaults: install the code version it names")  # fmt: skip
        try:
            model = load(path, manifest.cache_key, fresh)
        except CacheError as exc:
            raise ManifestError(f"the arrays of manifest {cid} do not restore a {manifest.model}: {exc}") from exc
    engine = RecommendationEngine.for_dataset(model, dataset)
    if catalogue_digest(engine.interactions.item_ids) != manifest.catalogue_digest:
        raise ManifestError(f"manifest {cid} serves another catalogue than this dataset's")
    return engine, manifest
