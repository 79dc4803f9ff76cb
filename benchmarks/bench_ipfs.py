"""IPFS benchmark: add, add --only-hash and cat of a 100 MB file with the embedded store.

Run: ``.venv/bin/python benchmarks/bench_ipfs.py [--size-mb 100] [--repeat 3]``. Writes
``benchmarks/results/ipfs.json``. The reference is kubo 0.22 on this machine kind: about
100 MB/s for ``ipfs add`` and 150 MB/s with ``--only-hash``. Not like for like: kubo fsyncs every
block (flatfs ``sync: true``), the embedded store does not fsync blocks (docs/ipfs.md).

Each timed phase starts after ``os.sync()`` so that write-back of the previous phase (or of
the test file) does not land on it; the median of ``--repeat`` runs is reported, each add into
a fresh repository. Peak memory is measured first, in a separate add under ``tracemalloc`` (Python
allocations, the figure that would grow if anything held the file) and as growth of the
process's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, TypeVar

from _results import write_results  # benchmarks/ is on sys.path when run as a script

from qfzz_chain.ipfs.embedded import EmbeddedStore

MB = 1_000_000
T = TypeVar("T")


def write_test_file(path: Path, size: int) -> None:
    """Incompressible content, written 1 MB at a time so the benchmark never holds it whole."""
    rng = random.Random(2026)
    with open(path, "wb") as handle:
        for start in range(0, size, MB):
            handle.write(rng.randbytes(min(MB, size - start)))


def timed(action: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """Seconds taken by ``action(*args, **kwargs)`` after flushing earlier writes, and its result."""
    os.sync()
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return time.perf_counter() - start, result


def read_all(store: EmbeddedStore, cid: str) -> int:
    return sum(len(piece) for piece in store.cat(cid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100, help="test file size in MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is kept")
    options = parser.parse_args()
    size = options.size_mb * MB

    with tempfile.TemporaryDirectory(prefix="qfzz-bench-ipfs-") as scratch:
        scratch_path = Path(scratch)
        source = scratch_path / "track.bin"
        write_test_file(source, size)

        # First, so the resident-set high-water mark is not already raised by other phases.
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        EmbeddedStore(scratch_path / "repo-memory").add_file(source)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before

        hasher = EmbeddedStore(scratch_path / "unused")
        hash_times = [timed(hasher.add_file, source, only_hash=True)[0] for _ in range(options.repeat)]

        add_times, add_v1_times, cat_times = [], [], []
        cid = ""
        for run in range(options.repeat):
            store = EmbeddedStore(scratch_path / f"repo-{run}")
            seconds, added = timed(store.add_file, source)
            add_times.append(seconds)
            cid = added.cid
            cat_times.append(timed(read_all, store, cid)[0])
            v1_store = EmbeddedStore(scratch_path / f"repo-v1-{run}")
            add_v1_times.append(timed(v1_store.add_file, source, cid_version=1)[0])


    def rate(times: list[float]) -> float:
        return round(size / MB / statistics.median(times), 1)

    figures = {
        "ipfs_file_mb": options.size_mb,
        "ipfs_add_mb_per_s": rate(add_times),
        "ipfs_add_cid_v1_mb_per_s": rate(add_v1_times),
        "ipfs_add_only_hash_mb_per_s": rate(hash_times),
        "ipfs_cat_mb_per_s": rate(cat_times),
        "ipfs_add_peak_memory_mb": round(peak / MB, 2),
        "ipfs_add_rss_growth_mb": round(rss_growth_kb * 1024 / MB, 2),
        "ipfs_root_cid": cid,
    }
    path = write_results("ipfs", figures)

    rows = [
        ("add (CIDv0)", f"{figures['ipfs_add_mb_per_s']} MB/s", "kubo 0.22: ~100 MB/s"),
        ("add (CIDv1, raw leaves)", f"{figures['ipfs_add_cid_v1_mb_per_s']} MB/s", ""),
        ("add --only-hash", f"{figures['ipfs_add_only_hash_mb_per_s']} MB/s", "kubo 0.22: ~150 MB/s"),
        ("cat (verified)", f"{figures['ipfs_cat_mb_per_s']} MB/s", ""),
        ("add peak Python memory", f"{figures['ipfs_add_peak_memory_mb']} MB", "tracemalloc"),
        ("add max-RSS growth", f"{figures['ipfs_add_rss_growth_mb']} MB", ""),
    ]
    width = max(len(name) for name, _value, _note in rows)
    print(f"IPFS embedded store, {options.size_mb} MB file, median of {options.repeat}")
    for name, value, note in rows:
        print(f"  {name.ljust(width)}  {value.rjust(12)}  {note}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
