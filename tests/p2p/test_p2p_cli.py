"""`qfzz p2p`: real node processes finding each other, the recommend query, one-line errors, simulate."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qfzz_chain.config import lastfm_data_path

# Three listeners with real Last.fm artist ids: a and b share most of their artists, c is apart.
HISTORIES = {
    "a": {89: 300, 289: 250, 292: 200, 498: 150, 67: 120, 300: 90, 701: 60, 1001: 40},
    "b": {89: 280, 289: 260, 292: 190, 498: 170, 67: 100, 300: 80, 2000: 75, 2001: 50, 2002: 30},
    "c": {51: 400, 52: 300, 53: 200, 54: 100, 55: 90, 56: 80},
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("QFZZ_")} | {"PYTHONUNBUFFERED": "1"}


def qfzz(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qfzz_chain", *args], capture_output=True, text=True,
                          env=_env(), timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def histories(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, plays in HISTORIES.items():
        path = tmp_path / f"{name}.tsv"
        path.write_text("artistID\tweight\n" + "".join(f"{a}\t{p}\n" for a, p in plays.items()))
        paths[name] = path
    return paths


@pytest.mark.parametrize("command", [[], ["simulate"], ["node"], ["recommend"]])
def test_every_p2p_command_has_help(command):
    result = qfzz("p2p", *command, "--help")
    assert result.returncode == 0 and "--json" in result.stdout or command == [], result.stderr
    assert "Usage:" in result.stdout


def _start_node(port: int, history: Path, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "qfzz_chain", "p2p", "node", "--port", str(port), "--history",
                                str(history), "--period-seconds", "0.1", "--json", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    first = json.loads(process.stdout.readline())
    assert first["event"] == "listening" and first["node"] == f"127.0.0.1:{port}", first
    return process


def test_three_node_processes_find_each_other_and_explain_their_lists(histories):
    ports = [free_udp_port() for _ in range(3)]
    processes = [_start_node(ports[0], histories["a"])]
    try:
        for port, name in zip(ports[1:], ("b", "c")):
            processes.append(_start_node(port, histories[name], "--bootstrap", f"127.0.0.1:{ports[0]}"))
        deadline = time.monotonic() + 30
        while True:
            result = qfzz("p2p", "recommend", "--node", f"127.0.0.1:{ports[1]}", "--json")
            assert result.returncode == 0, result.stderr
            answer = json.loads(result.stdout)
            if answer["items"] or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        # b's list comes from a (its look-alike): a's artists b does not know, a named as their source.
        recommended = {item["artist"] for item in answer["items"]}
        assert recommended and recommended <= set(HISTORIES["a"]) - set(HISTORIES["b"])
        first = answer["items"][0]
        assert first["peers"][0]["peer"] == f"127.0.0.1:{ports[0]}"
        assert set(first["peers"][0]["shared"]) <= set(HISTORIES["a"]) & set(HISTORIES["b"])
        if (lastfm_data_path() / "artists.dat").is_file():
            assert first["name"]
            text = qfzz("p2p", "recommend", "--node", f"127.0.0.1:{ports[1]}")
            assert f"from 127.0.0.1:{ports[0]}" in text.stdout and "who also plays" in text.stdout
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            out, _ = process.communicate(timeout=10)
    # Node b reported a as a neighbour on its event stream.
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(e["event"] == "bootstrapped" for e in events)


def test_a_port_in_use_is_one_error_line(histories):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        one_line_error(qfzz("p2p", "node", "--port", str(port), "--history", str(histories["a"])),
                       f"UDP port {port}", "already in use")


def test_an_unreachable_bootstrap_peer_is_one_error_line(histories):
    port, silent = free_udp_port(), free_udp_port()
    one_line_error(qfzz("p2p", "node", "--port", str(port), "--history", str(histories["a"]), "--bootstrap",
                        f"127.0.0.1:{silent}", "--bootstrap-timeout", "2"),
                   f"bootstrap peer 127.0.0.1:{silent}")


def test_unreadable_or_malformed_history_is_one_error_line(tmp_path):
    port = str(free_udp_port())
    one_line_error(qfzz("p2p", "node", "--port", port, "--history", str(tmp_path / "missing.tsv")),
                   "cannot read history file")
    bad = tmp_path / "bad.tsv"
    bad.write_text("89\t10\nnot a line at all\n")
    one_line_error(qfzz("p2p", "node", "--port", port, "--history", str(bad)), "bad.tsv:2")
    empty = tmp_path / "empty.tsv"
    empty.write_text("artistID\tweight\n")
    one_line_error(qfzz("p2p", "node", "--port", port, "--history", str(empty)), "lists no artists")


def test_asking_a_node_that_is_not_there_is_one_error_line():
    one_line_error(qfzz("p2p", "recommend", "--node", f"127.0.0.1:{free_udp_port()}", "--timeout", "1"),
                   "127.0.0.1:")
    one_line_error(qfzz("p2p", "recommend", "--node", "nowhere"), "HOST:PORT")


@pytest.mark.skipif(not (lastfm_data_path() / "user_artists.dat").is_file(), reason="needs the Last.fm 2K data")
def test_simulate_a_small_real_network(tmp_path):
    chart = tmp_path / "curve.png"
    result = qfzz("p2p", "simulate", "--nodes", "60", "--periods", "6", "--summary-bytes", "512",
                  "--attackers", "0.1", "--attack", "hub", "--json", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)
    metrics = value["metrics"]
    assert value["config"]["nodes"] == 60 and metrics["attacker_nodes"] == 7
    assert 0.0 < metrics["ndcg_at_10"] < 1.0 and 0.0 <= metrics["target_hit_ratio"] <= 1.0
    assert metrics["max_datagram_bytes"] <= 512 and metrics["bytes_per_node_per_period"] > 0
    assert "6" in value["convergence"] and chart.stat().st_size > 1000
    assert "gossip periods" in result.stderr  # the progress bar
