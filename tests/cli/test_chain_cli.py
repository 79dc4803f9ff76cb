"""`qfzz chain`: a local anvil whose state survives down/up, deployed to with the Brownie script."""

import pytest

from tests.cli.conftest import assert_one_line_error, free_port, run_qfzz


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    run_qfzz("chain", "down", home=tmp_path)  # never leave an anvil behind


def test_state_survives_down_and_up(home, audio):
    port = str(free_port())
    up = run_qfzz("chain", "up", "--port", port, "--json", home=home)
    assert up.code == 0, up.stderr
    assert up.json["started"] and up.json["rpc_url"].endswith(port)
    assert run_qfzz("chain", "up", "--port", port, "--json", home=home).json["started"] is False

    deployed = run_qfzz("chain", "deploy", "--json", home=home)
    assert deployed.code == 0, deployed.stderr
    registry = deployed.json["contracts"]["TrackRegistry"]["address"]
    assert (home / "deployments" / "31337.json").exists()

    # redeploying over a live deployment is refused, and the record is untouched
    record = (home / "deployments" / "31337.json").read_text()
    assert_one_line_error(run_qfzz("chain", "deploy", home=home), "already has a live deployment", "QFZZ_REDEPLOY")
    assert (home / "deployments" / "31337.json").read_text() == record

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


def test_a_reset_chain_makes_the_record_stale(home):
    port = str(free_port())
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    assert run_qfzz("chain", "deploy", home=home).code == 0
    run_qfzz("chain", "down", home=home)
    (home / "chain" / "state.json").unlink()  # a new chain instance, same chain id
    assert run_qfzz("chain", "up", "--port", port, home=home).code == 0
    assert_one_line_error(run_qfzz("track", "list", home=home), "belongs to another chain")
    assert run_qfzz("chain", "deploy", home=home).code == 0  # the stale record is archived, not refused
    assert run_qfzz("track", "list", home=home).code == 0


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
