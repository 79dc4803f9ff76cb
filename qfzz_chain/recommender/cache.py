"""A fitted model's state in one ``.npz`` file, so serving a user does not refit every time.

The file is keyed by everything the fitted state depends on: the dataset's ``SHA256SUMS`` (which
``load_lastfm`` has verified the files against), the model name, its settings, and the code
version (a digest of the recommender's own source files). The key is both in the file name and
inside the file; a file whose stored key, layout or arrays do not match is refitted, never
trusted. Files are written to a temporary name and renamed (atomic on POSIX), and hold only
numpy arrays plus a JSON manifest (no pickle anywhere: object arrays are refused on load).

Loading maps the arrays into memory instead of reading them (``np.savez`` stores them
uncompressed, so each ``.npy`` member is a plain byte range of the file): serving one listener
touches ≈ 50 rows of the hybrid's 190 MB EASE matrix, and reading the whole file took longer than
everything else in a cached ``qfzz recommend for`` call. Pages are copy-on-write, so nothing a
model does can change the file. The price: a bit flipped inside an array is not noticed (a zip
CRC is only checked on a full read); a truncated, shortened or foreign file still is.

The state of a model is found by walking its attributes: arrays, CSR and CSC matrices, the weighting's
scale, sub-models (and lists of them), and booleans. Hyperparameters are not stored: the model is
rebuilt from its name and settings, then its fitted arrays are put back.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.models.base import Model, Weighting

if TYPE_CHECKING:
    from qfzz_chain.recommender.data import LastfmDataset
    from qfzz_chain.recommender.engine import RecommendationEngine

FORMAT = 2
_SOURCE_ROOT = Path(__file__).resolve().parent


class CacheError(Exception):
    """A cache file that cannot be used (missing, corrupt, stale or of another layout)."""


def code_version() -> str:
    """SHA-256 over the recommender package's source files (names and bytes, in sorted order)."""
    digest = hashlib.sha256()
    for path in sorted(_SOURCE_ROOT.rglob("*.py")):
        digest.update(str(path.relative_to(_SOURCE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(dataset_checksums: bytes, model: str, params: dict[str, Any]) -> str:
    """The hex key of one fitted model: data checksums + model name + settings + code version."""
    record = {"format": FORMAT, "data": hashlib.sha256(dataset_checksums).hexdigest(), "model": model,
              "params": params, "code": code_version()}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=list).encode()).hexdigest()


def cache_path(folder: Path, model: str, key: str) -> Path:
    return Path(folder) / f"recommender-{model}-{key[:20]}.npz"


_SPARSE_FORMATS = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}


def model_state(model: Model) -> dict[str, np.ndarray]:
    """The fitted arrays of ``model`` as ``{name: array}``, with a ``__manifest__`` of their kinds."""
    arrays: dict[str, np.ndarray] = {}
    manifest: dict[str, str] = {}
    _collect(model, "", arrays, manifest)
    arrays["__manifest__"] = np.array(json.dumps(manifest, sort_keys=True))
    return arrays


def _collect(obj: Any, prefix: str, arrays: dict[str, np.ndarray], manifest: dict[str, str]) -> None:
    for name, value in sorted(vars(obj).items()):
        path = f"{prefix}{name}"
        if isinstance(value, np.ndarray):
            arrays[path] = value
            manifest[path] = "array"
        elif sp.issparse(value):
            # Kept in its own layout (CSR or CSC): models choose one for speed.
            compressed = value if value.format in _SPARSE_FORMATS else sp.csr_matrix(value)
            arrays[f"{path}.data"], arrays[f"{path}.indices"], arrays[f"{path}.indptr"] = (
                compressed.data, compressed.indices, compressed.indptr)
            arrays[f"{path}.shape"] = np.array(compressed.shape, dtype=np.int64)
            manifest[path] = compressed.format
        elif isinstance(value, Weighting):
            arrays[f"{path}.scale"] = np.array(value.scale)
            manifest[path] = "weighting"
        elif isinstance(value, Model):
            manifest[path] = "model"
            _collect(value, f"{path}.", arrays, manifest)
        elif isinstance(value, list) and value and all(isinstance(v, Model) for v in value):
            manifest[path] = f"models:{len(value)}"
            for index, item in enumerate(value):
                _collect(item, f"{path}.{index}.", arrays, manifest)
        elif isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()):
            keys = sorted(value)
            manifest[path] = "arrays:" + json.dumps(keys)
            for key in keys:
                arrays[f"{path}.{key}"] = value[key]
        elif isinstance(value, (bool, np.bool_)):
            arrays[path] = np.array(bool(value))
            manifest[path] = "bool"


def restore_state(model: Model, arrays: Any) -> Model:
    """Put the arrays saved by :func:`model_state` back into a freshly built (unfitted) ``model``."""
    try:
        manifest = json.loads(str(arrays["__manifest__"]))
    except (KeyError, ValueError) as exc:
        raise CacheError(f"no readable manifest: {exc}") from exc
    expected = _layout(model)
    if {k: v for k, v in manifest.items() if v in ("weighting", "bool") or v.startswith("models:")} != expected:
        raise CacheError("the cached model has another layout than the model built now")
    for path, kind in manifest.items():
        parent, name = _parent(model, path)
        if kind == "array":
            setattr(parent, name, arrays[path])
        elif kind in _SPARSE_FORMATS:
            shape = tuple(int(v) for v in arrays[f"{path}.shape"])
            setattr(parent, name, _SPARSE_FORMATS[kind]((arrays[f"{path}.data"], arrays[f"{path}.indices"],
                                                         arrays[f"{path}.indptr"]), shape=shape))
        elif kind == "weighting":
            getattr(parent, name).scale = float(arrays[f"{path}.scale"])
        elif kind == "bool":
            setattr(parent, name, bool(arrays[path]))
        elif kind.startswith("arrays:"):
            setattr(parent, name, {key: arrays[f"{path}.{key}"] for key in json.loads(kind[len("arrays:"):])})
    return model


def _layout(model: Model) -> dict[str, str]:
    """Which attributes of an unfitted model hold sub-models, weightings and flags (fitted arrays are
    still ``None`` there, so only those kinds can be compared before restoring)."""
    manifest: dict[str, str] = {}
    _collect(model, "", {}, manifest)
    return {k: v for k, v in manifest.items() if v in ("weighting", "bool") or v.startswith("models:")}


def _parent(model: Model, path: str) -> tuple[Any, str]:
    parts = path.split(".")
    obj: Any = model
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, list) else getattr(obj, part)
    return obj, parts[-1]


def save(path: Path, key: str, model: Model) -> None:
    """Write ``model``'s state under ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = model_state(model)
    arrays["__key__"] = np.array(key)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, key: str, model: Model) -> Model:
    """``model`` (freshly built, unfitted) with the state stored at ``path``; :class:`CacheError` if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CacheError(f"no cache file {path}")
    try:
        arrays = memory_mapped(path)
        if "__key__" not in arrays or str(arrays["__key__"]) != key:
            raise CacheError(f"{path} was written for another dataset, model, setting or code version")
        return restore_state(model, arrays)
    except CacheError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError, struct.error,
            zipfile.BadZipFile) as exc:
        raise CacheError(f"{path} is unreadable: {exc}") from exc


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (skipped fields), file name length, extra field length


# Members smaller than this are read into ordinary memory instead of being mapped. A product that
# streams a whole mapped array is ~4x slower: file pages are 4 KiB where anonymous memory gets
# 2 MiB transparent huge pages, so it misses the TLB (ALS's 4.5 MB float32 factors times one user
# vector: 0.59 ms mapped, 0.14 ms read, measured). Reading the small members costs a few ms; only
# EASE's ≈ 190 MB weights, of which a call reads ~50 rows, stay mapped.
READ_BELOW_BYTES = 32 * 1024 * 1024


def memory_mapped(path: Path) -> dict[str, np.ndarray]:
    """Every ``.npy`` member of an uncompressed ``.npz`` at ``path``: memory-mapped copy-on-write when
    it is large (:data:`READ_BELOW_BYTES`), read into memory otherwise.

    Scalars and empty arrays are read into memory; object arrays are refused (they would need pickle).
    """
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise CacheError(f"{path} holds a member {info.filename!r} that is not a stored .npy array")
            handle.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
            if signature != b"PK\x03\x04":
                raise CacheError(f"{path} has a damaged zip entry for {info.filename!r}")
            start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            handle.seek(start)
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            if dtype.hasobject:
                raise CacheError(f"{path} holds an object array ({info.filename!r}), which needs pickle")
            offset = handle.tell()
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if offset - start + size != info.file_size:
                raise CacheError(f"{path}: member {info.filename!r} is {info.file_size} bytes, its header says "
                                 f"{offset - start + size}")
            order = "F" if fortran else "C"
            if size == 0 or shape == ():
                handle.seek(offset)
                array = np.frombuffer(handle.read(size), dtype=dtype).reshape(shape, order=order).copy()
            elif size < READ_BELOW_BYTES:
                handle.seek(offset)
                array = np.fromfile(handle, dtype=dtype, count=int(np.prod(shape, dtype=np.int64)))
                array = array.reshape(shape, order=order)
            else:
                array = np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape, order=order)
            arrays[info.filename[: -len(".npy")]] = array
    return arrays


def fitted_engine(dataset: "LastfmDataset", model: str, folder: Path | None, checksums: bytes,
                  progress: Callable[[str], None] = lambda message: None) -> "RecommendationEngine":
    """The engine for ``model`` with its default (validation-chosen) settings on all of ``dataset``.

    With a ``folder`` the fitted state is reused from there when its key matches (data checksums,
    model, settings, code version) and written there after a fit; ``folder=None`` always fits.
    An unusable cache file is reported through ``progress`` and refitted over.
    """
    from qfzz_chain.recommender.engine import RecommendationEngine
    from qfzz_chain.recommender.models import build_model, uses_friends

    def build() -> Model:
        return build_model(model, friends=dataset.friends) if uses_friends(model) else build_model(model)

    fresh = build()
    # Keyed on the settings alone (``build_model(model).params()``), not on what the friendship
    # graph adds to them (a link count): the data checksums already pin that graph, and this is
    # the key others derive for the same file (``qfzz oracle model publish``).
    key = cache_key(checksums, model, build_model(model).params())
    path = cache_path(folder, model, key) if folder is not None else None
    if path is not None and path.is_file():
        try:
            restored = load(path, key, fresh)
            engine = RecommendationEngine.for_dataset(restored, dataset)
            check_engine(engine)
            progress(f"using the fitted {model} cached at {path}")
            return engine
        except CacheError as exc:
            progress(f"ignoring the cached model ({exc}); refitting")
    progress(f"fitting {model} on {dataset.interactions.plays.nnz:,} listens (default settings)")
    engine = RecommendationEngine.fit(dataset, model)
    if path is not None:
        save(path, key, engine.model)
        progress(f"cached the fitted model at {path}")
        # Files of this model under other keys (older data, settings or code) can never match again.
        for stale in sorted(path.parent.glob(f"recommender-{model}-*.npz")):
            if stale != path:
                stale.unlink(missing_ok=True)
                progress(f"removed the stale cache file {stale.name}")
    return engine


def check_engine(engine: "RecommendationEngine") -> None:
    """A restored model must score a user with the right number of finite values."""
    try:
        scores = engine.scores(0)
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise CacheError(f"the restored model cannot score: {exc}") from exc
    if scores.shape != (engine.interactions.n_items,) or not np.all(np.isfinite(scores)):
        raise CacheError("the restored model gives scores of the wrong shape or non-finite values")
