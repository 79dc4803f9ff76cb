"""`qfzz chain`: a local anvil whose state survives down/up and crashes, deployed to with the Brownie script."""

import json

import pytest

from tests.cli.conftest import assert_one_line_error, free_port, run_qfzz


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    run_qfzz("chain", "down", home=tmp_path)  # never leave an anvil behind


def _record_files(home):
    return sorted(p.name for p in (home / "deployments").glob("31337-*.json"))


def test_state_survives_down_and_up(home, audio):
    port = str(free_port())
    up = run_qfzz("chain", "up", "--port", port, "--json", home=home)
    assert up.code == 0, up.stderr
    assert up.json["started"] and up.json["rpc_url"].endswith(port)
    assert run_qfzz("chain", "up", "--port", port, "--json", home=home).json["started"] is False

    deployed = run_qfzz("chain", "deploy", "--json", home=home)
    assert deployed.code == 0, deployed.stderr
    registry = deployed.json["contracts"]["TrackRegistry"]["address"]
    record_file, = _record_files(home)

    # deploying again where the suite is live deploys nothing and keeps the record
    record = (home / "deployments" / record_file).read_text()
    again = run_qfzz("chain", "deploy", "--json", home=home)
    assert again.code == 0 and again.json["nothing_to_deploy"] is True
    assert (home / "deployments" / record_file).read_text() == record

    registered = run_qfzz("track", "register", str(audio()), "--title", "Kept", "--json", home=home)
    assert registered.code == 0, registered.stderr

    assert run_qfzz("chain", "down", "--json", home=home).json["stopped"] is True
    assert_one_line_error(run_qfzz("track", "list", home=home), "no chain configured")
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0

    status = run_qfzz("chain", "status", "--json", home=home).json
    assert status["deployment"]["contracts"]["TrackRegistry"] == registry
    shown = run_qfzz("track", "show", registered.json["content_cid"], "--json", home=home)
    assert shown.code == 0, shown.stderr
    assert shown.json["metadata"]["title"] == "Kept" and shown.json["content_status"] == "verified"

    redeployed = run_qfzz("chain", "deploy", "--redeploy", "--json", home=home)
    assert redeployed.code == 0, redeployed.stderr
    assert redeployed.json["contracts"]["TrackRegistry"]["address"] != registry
    assert len(list((home / "deployments" / "archive").glob("31337-*.json"))) == 1


def test_the_suite_survives_many_restarts_and_a_crash(home, audio):
    """anvil's state reload can make a new block 0 after a few restarts (whether it does depends on
    timing, so the test does not count on it): the record is anchored to its deploy block instead,
    and a crash right after a registration loses nothing."""
    import os
    import signal

    port = str(free_port())
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    assert run_qfzz("chain", "deploy", home=home).code == 0
    for cycle in range(6):
        registered = run_qfzz("track", "register", str(audio()), "--title", f"Cycle {cycle}", "--json", home=home)
        assert registered.code == 0, registered.stderr
        node = json.loads((home / "chain" / "node.json").read_text())
        if cycle % 2:
            os.kill(node["pid"], signal.SIGKILL)  # a crash: no shutdown dump
            while run_qfzz("chain", "status", home=home).code == 0:
                pass
        else:
            assert run_qfzz("chain", "down", home=home).code == 0
        assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
        status = run_qfzz("chain", "status", "--json", home=home).json
        assert status["deployment"] is not None, status.get("deployment_problem")
        listed = run_qfzz("track", "list", "--json", "--no-verify", home=home).json
        assert [t["metadata"]["title"] for t in listed] == [f"Cycle {n}" for n in range(cycle + 1)]
    assert len(_record_files(home)) == 1


def test_two_nodes_with_one_chain_id_keep_two_records(home, tmp_path_factory, audio):
    first_port, second_port = str(free_port()), str(free_port())
    second_home = tmp_path_factory.mktemp("second-node")
    try:
        assert run_qfzz("chain", "up", "--port", first_port, home=home).code == 0
        assert run_qfzz("chain", "up", "--port", second_port, home=second_home).code == 0
        assert run_qfzz("chain", "deploy", home=home).code == 0
        first_rpc = f"http://127.0.0.1:{first_port}"
        second_rpc = f"http://127.0.0.1:{second_port}"
        assert run_qfzz("track", "register", str(audio()), "--title", "On the first", home=home).code == 0
        # the second node shares chain id 31337 but not the first's suite
        assert_one_line_error(run_qfzz("track", "list", home=home, rpc_url=second_rpc), "no deployment on this node",
                              "belong to other nodes")  # fmt: skip
        deployed = run_qfzz("chain", "deploy", "--json", home=home, rpc_url=second_rpc,
                            QFZZ_PRIVATE_KEY="0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")  # fmt: skip
        assert deployed.code == 0, deployed.stderr
        assert len(_record_files(home)) == 2 and not (home / "deployments" / "archive").exists()
        first = run_qfzz("track", "list", "--json", "--no-verify", home=home, rpc_url=first_rpc).json
        second = run_qfzz("track", "list", "--json", "--no-verify", home=home, rpc_url=second_rpc).json
        assert [t["metadata"]["title"] for t in first] == ["On the first"] and second == []
        status = run_qfzz("chain", "status", "--rpc-url", second_rpc, "--json", home=home).json
        assert status["rpc_url"] == second_rpc and status["local_node"] is None
    finally:
        run_qfzz("chain", "down", home=second_home)


def test_a_reset_chain_is_named_and_its_record_kept(home):
    port = str(free_port())
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    assert run_qfzz("chain", "deploy", home=home).code == 0
    run_qfzz("chain", "down", home=home)
    for state in (home / "chain").glob("state*.json"):
        state.unlink()  # a new chain instance, same chain id
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    assert_one_line_error(run_qfzz("track", "list", home=home), "no deployment on this node", "reset")
    assert run_qfzz("chain", "deploy", home=home).code == 0  # a new record beside the old one
    assert run_qfzz("track", "list", home=home).code == 0
    assert len(_record_files(home)) == 2


def test_the_suite_grows_beside_the_live_registry(home, audio):
    """A contract added to SUITE is deployed alone; the registry and its tracks stay."""
    import subprocess
    import sys

    from qfzz_chain.config import PROJECT_ROOT

    port = str(free_port())
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    deployed = run_qfzz("chain", "deploy", "--json", home=home).json
    assert run_qfzz("track", "register", str(audio()), "--title", "Stays", home=home).code == 0
    grown = (
        "import scripts.deploy as d\n"
        "d.SUITE = d.SUITE + (('ERC1271Wallet', ('TrackRegistry',)),)\n"
        "main = d.main\n"
    )
    script = home / "grow.py"
    script.write_text(grown)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("QFZZ_")} | {"QFZZ_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "qfzz_chain.chain.brownie_script", str(script), "--rpc-url",
                           f"http://127.0.0.1:{port}", "--local-port", port], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(kept)" in done.stdout
    status = run_qfzz("chain", "status", "--json", home=home).json
    contracts = status["deployment"]["contracts"]
    assert contracts["TrackRegistry"] == deployed["contracts"]["TrackRegistry"]["address"]
    from scripts.deploy import SUITE

    assert set(contracts) == {name for name, _ in SUITE} | {"ERC1271Wallet"}
    listed = run_qfzz("track", "list", "--json", "--no-verify", home=home).json
    assert [t["metadata"]["title"] for t in listed] == ["Stays"]


def test_port_taken(home):
    port = str(free_port())
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    other_home = home / "other"
    assert_one_line_error(run_qfzz("chain", "up", "--port", port, home=other_home), f"port {port} is taken")
    assert run_qfzz("chain", "down", home=other_home).stdout.strip() == "No local chain is running."


def test_a_stale_record_never_stops_another_process(home):
    import json
    import subprocess

    bystander = subprocess.Popen(["sleep", "30"])
    try:
        (home / "chain").mkdir(parents=True)
        (home / "chain" / "node.json").write_text(json.dumps(
            {"pid": bystander.pid, "port": 8645, "state_file": "s", "log_file": "l"}))
        assert run_qfzz("chain", "down", "--json", home=home).json["stopped"] is False
        assert bystander.poll() is None  # still running
    finally:
        bystander.kill()
    bad_port = run_qfzz("chain", "up", "--port", "70000", home=home)
    assert bad_port.code == 2 and "70000" in bad_port.stderr


def test_deploy_to_any_rpc_with_a_key_from_the_environment(tmp_path, audio):
    """A node qfzz did not start (here a plain anvil), reached by QFZZ_RPC_URL, keys from the env."""
    import shutil
    import subprocess
    import time

    from eth_account import Account

    port = free_port()
    node = subprocess.Popen([shutil.which("anvil") or "node_modules/.bin/anvil", "--port", str(port), "--chain-id", "4242"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        deployer_key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0
        for _ in range(100):
            if run_qfzz("chain", "status", "--json", home=tmp_path, rpc_url=rpc_url).code == 0:
                break
            time.sleep(0.1)
        deployed = run_qfzz("chain", "deploy", "--json", home=tmp_path, rpc_url=rpc_url, QFZZ_PRIVATE_KEY=deployer_key)
        assert deployed.code == 0, deployed.stderr
        assert deployed.json["chain_id"] == 4242
        assert deployed.json["deployer"] == Account.from_key(deployer_key).address
        assert deployer_key.removeprefix("0x") not in deployed.stdout + deployed.stderr

        registered = run_qfzz("track", "register", str(audio()), "--title", "Remote", "--json", home=tmp_path,
                              rpc_url=rpc_url, QFZZ_PRIVATE_KEY=deployer_key)  # fmt: skip
        assert registered.code == 0, registered.stderr
        assert run_qfzz("track", "list", "--json", home=tmp_path, rpc_url=rpc_url).json[0]["metadata"]["title"] == "Remote"
    finally:
        node.terminate()
        node.wait(timeout=10)


def test_brownie_scripts_run_from_a_checkout_whose_path_has_a_dot(tmp_path):
    """`brownie run` imports a script by its dotted absolute path (`/tmp/tmp.x/…` → `tmp.tmp.x…`) and
    fails; the runner that `qfzz chain deploy` uses imports it by file location. (`development` is
    Brownie's anvil of this test session: the runner attaches to it and leaves it running.)"""
    import subprocess
    import sys

    from qfzz_chain.config import PROJECT_ROOT

    script = tmp_path / "checkout.v2" / "scripts" / "probe.py"
    script.parent.mkdir(parents=True)
    script.write_text("from brownie import TrackRegistry, web3\n\n\n"
                      "def main():\n    print('chain', web3.eth.chain_id, TrackRegistry._name)\n")
    done = subprocess.run([sys.executable, "-m", "qfzz_chain.chain.brownie_script", str(script), "development"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "chain 31337 TrackRegistry" in done.stdout
