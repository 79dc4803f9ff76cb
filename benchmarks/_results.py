"""Every benchmark writes its figures as flat JSON to ``benchmarks/results/NAME.json``."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: dict[str, float | int | str]) -> Path:
    """Write ``figures`` (flat keys, the unit in the name) plus when and where they were taken."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    record = dict(figures)
    record["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record["machine"] = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
