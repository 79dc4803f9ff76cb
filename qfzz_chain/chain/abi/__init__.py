"""The ABIs of the suite's contracts, shipped with the package (``tools/export_abi.py`` writes them)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ABI_DIR = Path(__file__).resolve().parent
PACKAGED = ("TrackRegistry", "RecommendationOracle", "Royalties", "ReputationLedger", "EmergingArtistCuration",
            "IRoyaltySplits")  # the last an interface: curation's reader of any royalties contract


@cache
def load_abi(name: str) -> list:
    return json.loads((ABI_DIR / f"{name}.json").read_text())
