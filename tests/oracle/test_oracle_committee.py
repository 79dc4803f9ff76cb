"""A committee of four node processes on a real anvil: epochs anchored, receipts verified, and
nodes killed at every step of the pipeline and restarted — every epoch anchored exactly once,
no batch lost, no member signing two roots.

The nodes serve a hybrid fitted on a small dataset in the Last.fm file format
(tests/oracle/tiny_lastfm.py), so models fit and load in well under a second."""

import json
import time

import pytest
from web3 import Web3

from qfzz_chain.oracle import localnet
from tests.cli.conftest import assert_one_line_error, free_port, run_qfzz
from tests.oracle.tiny_lastfm import write_tiny_lastfm

ANCHOR_TIMEOUT_SECONDS = 240


class Net:
    def __init__(self, home, env):
        self.home, self.env = home, env
        self.committee = home / "committee" / "committee.json"

    def qfzz(self, *args, **env):
        return run_qfzz(*args, home=self.home, **self.env, **env)

    def ok(self, *args, **env):
        result = self.qfzz(*args, **env)
        assert result.code == 0, result.stderr
        return result

    @property
    def oracle(self):
        from qfzz_chain.chain.connection import connect
        from qfzz_chain.chain.deployment import DeploymentRecord
        from qfzz_chain.oracle.chain import RecommendationOracle

        record_file, = (self.home / "deployments").glob("31337-*.json")
        w3 = connect(f"http://127.0.0.1:{self.port}")
        return RecommendationOracle.from_record(w3, DeploymentRecord.from_json(record_file.read_text()))

    def start(self, indices=None, **env):
        localnet.start(self.committee, indices, env={"QFZZ_HOME": str(self.home), **self.env, **env})

    def journal(self, member: int, epoch: int) -> dict | None:
        path = self.home / "committee" / f"member-{member}" / "epochs" / f"{epoch}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def wait_applied(self, epoch: int, members=range(4)) -> None:
        deadline = time.monotonic() + ANCHOR_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            states = [(self.journal(m, epoch) or {}).get("state") for m in members]
            if all(state == "applied" for state in states):
                return
            time.sleep(0.5)
        logs = {m: (self.home / "committee" / f"member-{m}" / "node.log").read_text()[-1500:] for m in members}
        raise AssertionError(f"epoch {epoch} not applied by every member: {states}\n{logs}")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    home = tmp_path_factory.mktemp("oracle-net")
    dataset = write_tiny_lastfm(home / "lastfm")
    env = {"QFZZ_LASTFM_DIR": str(dataset), "QFZZ_EPOCH_SECONDS": "3600"}
    network = Net(home, env)
    network.port = free_port()
    network.ok("chain", "up", "--port", str(network.port))
    try:
        network.ok("chain", "deploy")
        network.ok("oracle", "committee", "init", "--size", "4", "--dir", str(home / "committee"),
                   "--base-port", str(free_port()), "--attempt", "10")  # fmt: skip
        committee = json.loads(network.committee.read_text())
        for member in committee["members"]:  # ports of their own, each free now
            member["port"] = free_port()
        network.committee.write_text(json.dumps(committee))
        network.ok("oracle", "committee", "join", "--committee", str(network.committee))
        network.ok("oracle", "model", "publish", "--activate-next")
        network.ok("oracle", "epoch", "--advance")
        network.start()
        yield network
    finally:
        localnet.stop(network.committee, kill=True)
        run_qfzz("chain", "down", home=home)


def _epoch_with_requests(net, listeners, node=0) -> int:
    """Send requests for ``listeners`` to member ``node``, then close the epoch; returns it."""
    peers = json.loads(net.committee.read_text())["members"]
    address = f"127.0.0.1:{peers[node]['port']}"
    epoch = net.oracle.current_epoch()
    for listener in listeners:
        deadline = time.monotonic() + 60
        while True:  # a node that just started may not listen yet
            result = net.qfzz("oracle", "request", listener, "--node", address, "--listen", "5:3", "-n", "4")
            if result.code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result.code == 0, result.stderr
    time.sleep(1.5)  # gossip reaches every member
    net.ok("oracle", "epoch", "--advance")
    return epoch


def test_an_epoch_is_anchored_and_its_receipts_verify(net, tmp_path):
    epoch = _epoch_with_requests(net, ["lastfm:2", "lastfm:3", "lastfm:4"], node=1)
    net.wait_applied(epoch)
    roots = {net.journal(m, epoch)["root"] for m in range(4)}
    assert len(roots) == 1 and Web3.to_hex(net.oracle.anchored_root(epoch))[2:] in roots
    peers = json.loads(net.committee.read_text())["members"]
    fetched = net.ok("oracle", "receipts", "lastfm:3", "--node", f"127.0.0.1:{peers[1]['port']}", "--out",
                     str(tmp_path), "--json").json  # fmt: skip
    assert [r["rank"] for r in fetched] == [1, 2, 3, 4]
    receipt = fetched[0]["file"]
    verified = net.ok("verify", receipt, "--json").json
    assert [link["link"] for link in verified["links"]] == [
        "listener", "merkle proof", "anchor", "committee", "model version", "explanation", "attribution", "placement"]
    document = json.loads(open(receipt).read())
    document["receipt"]["score"] += 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    assert_one_line_error(net.qfzz("verify", str(tampered)), "merkle proof")


@pytest.mark.parametrize("crash_at, who", [
    ("member-before-lock", "member"), ("member-after-lock", "member"),
    ("leader-before-anchor", "leader"), ("leader-after-anchor", "leader"), ("before-apply", "member"),
])  # fmt: skip
def test_a_node_killed_at_any_step_loses_nothing_and_anchors_once(net, crash_at, who):
    epoch = net.oracle.current_epoch()
    committee = net.oracle.committee_at(epoch)
    victim = committee.indices[epoch % len(committee.indices)] if who == "leader" else committee.indices[(epoch + 1) % 4]
    localnet.stop(net.committee, [victim], kill=True)
    net.start([victim], QFZZ_CRASH_AT=crash_at)
    _epoch_with_requests(net, [f"lastfm:{5 + epoch}", f"lastfm:{6 + epoch}"], node=(victim + 2) % 4)
    deadline = time.monotonic() + ANCHOR_TIMEOUT_SECONDS
    while victim in localnet.running(net.committee) and time.monotonic() < deadline:
        time.sleep(0.3)  # it reaches its crash point and dies
    assert victim not in localnet.running(net.committee), f"member {victim} never reached {crash_at}"
    net.start([victim])  # restarted, no crash point: it resumes from its journal
    net.wait_applied(epoch)
    assert len({net.journal(m, epoch)["root"] for m in range(4)}) == 1
    anchors = net.oracle.logs("BatchAnchored", {"epoch": epoch})
    assert len(anchors) == 1  # exactly once
    peers = json.loads(net.committee.read_text())["members"]
    from qfzz_chain.oracle.node import ask_blocking

    served = ask_blocking("127.0.0.1", peers[victim]["port"], {"type": "receipts", "listener": f"lastfm:{5 + epoch}"})
    assert any(r["receipt"]["epoch"] == epoch for r in served["receipts"])  # the restarted node lost no batch
