"""``qfzz recommend`` end to end, in a subprocess like a user would run it (kept few: each loads data)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from eth_utils import keccak

from qfzz_chain.config import PROJECT_ROOT, lastfm_data_path
from qfzz_chain.recommender.data import LASTFM_FILES


def qfzz(*args: str, timeout: int = 300, home=None) -> subprocess.CompletedProcess:
    """Run ``qfzz recommend …``; the model cache goes to ``home`` (default: a throwaway folder per call)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "QFZZ_HOME": str(home if home is not None else scratch)}
        return subprocess.run([sys.executable, "-m", "qfzz_chain", "recommend", *args], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=timeout, env=env)


pytestmark = pytest.mark.skipif(not lastfm_data_path().is_dir(), reason="Last.fm 2K data not available")


def test_for_user_json_carries_verifiable_explanation_hashes():
    result = qfzz("for", "2", "-n", "3", "--model", "itemknn", "--counterfactual", "--json")
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)
    assert value["user"] == 2 and len(value["recommendations"]) == 3
    for record in value["recommendations"]:
        canonical = record["explanation_canonical"].encode("ascii")
        assert record["explanation_keccak"] == "0x" + keccak(canonical).hex()
        assert json.loads(canonical)["item"] == record["item"]
        assert record["explanation"]["prototypes"] and json.loads(canonical)["version"] == 2
        counterfactual = record["counterfactual"]
        # a set is only offered when a refit without those listens agrees
        assert counterfactual["holds_under_refit"] == bool(counterfactual["removed"])
        if counterfactual["removed"]:
            assert counterfactual["rank_after_refit"] > 3 and len(counterfactual["removed"]) <= 3


def test_unknown_user_is_one_line_and_nonzero():
    result = qfzz("for", "999999", "--model", "popularity")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "error: unknown user id 999999"
    assert "Traceback" not in result.stderr


def test_corrupt_data_file_is_one_line_and_nonzero(tmp_path):
    for name in (*LASTFM_FILES, "SHA256SUMS"):
        shutil.copy(lastfm_data_path() / name, tmp_path / name)
        (tmp_path / name).chmod(0o644)
    with open(tmp_path / "user_artists.dat", "a") as handle:
        handle.write("2\t51\t1\n")
    result = qfzz("evaluate", "--model", "popularity", "--data", str(tmp_path))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "SHA256SUMS" in last
    assert "Traceback" not in result.stderr


def test_evaluate_and_insights(tmp_path):
    result = qfzz("evaluate", "--model", "popularity", "--model", "itemknn", "--budget", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["model"]: row for row in json.loads(result.stdout)["models"]}
    assert rows["itemknn"]["ndcg_at_10"] > rows["popularity"]["ndcg_at_10"]
    assert rows["itemknn"]["evaluations"] == 2 and rows["popularity"]["evaluations"] == 1

    chart = tmp_path / "chart.png"
    result = qfzz("insights", "Pet Shop Boys", "--model", "itemknn", "--json", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)
    assert value["item"] == 1001 and value["recommended_to"] > 0 and value["prototypes"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_second_call_reuses_the_cached_model_with_identical_output(tmp_path):
    args = ("for", "2", "-n", "3", "--model", "itemknn", "--json")
    (tmp_path / "models").mkdir()
    stale = tmp_path / "models" / "recommender-itemknn-0000000000000000stale.npz"
    stale.write_bytes(b"left by an older code version")
    first = qfzz(*args, home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "fitting itemknn" in first.stderr and "cached the fitted model" in first.stderr
    cached = list((tmp_path / "models").glob("recommender-itemknn-*.npz"))
    assert len(cached) == 1 and not list((tmp_path / "models").glob("*.tmp"))
    assert not stale.exists()  # a file under another key can never match again: removed
    second = qfzz(*args, home=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "using the fitted itemknn cached" in second.stderr and "fitting" not in second.stderr
    assert second.stdout == first.stdout  # same items, scores and explanation hashes
    hashes = [r["explanation_keccak"] for r in json.loads(second.stdout)["recommendations"]]
    assert len(hashes) == 3 and all(h.startswith("0x") for h in hashes)

    # A corrupt cache file is refitted over, never trusted.
    cached[0].write_bytes(b"not an npz file")
    third = qfzz(*args, home=tmp_path)
    assert third.returncode == 0, third.stderr
    assert "ignoring the cached model" in third.stderr and third.stdout == first.stdout

    # --no-cache fits afresh and writes nothing.
    fresh_home = tmp_path / "fresh"
    fourth = qfzz(*args, "--no-cache", home=fresh_home)
    assert fourth.returncode == 0, fourth.stderr
    assert fourth.stdout == first.stdout and not (fresh_home / "models").exists()



def test_insights_chart_into_a_missing_folder_is_one_error_line_before_any_work():
    for extra in ((), ("--json",)):
        result = qfzz("insights", "Pet Shop Boys", "--chart", "/missing/dir/x.png", *extra, timeout=60)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr and result.stdout == ""
        if extra:
            error = json.loads(lines[0])
            assert error["kind"] == "ChartPathError" and "/missing/dir does not exist" in error["error"]
        else:
            assert lines[0] == "error: cannot write the chart to /missing/dir/x.png: the folder /missing/dir does not exist"
