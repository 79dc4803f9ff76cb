"""``qfzz chain``: the local chain (up, down, status) and deploying the contract suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import click

from qfzz_chain.chain import local_node
from qfzz_chain.cli._output import emit, json_option
from qfzz_chain.config import PROJECT_ROOT
from qfzz_chain.chain.errors import ChainError, DeploymentError


@click.group()
def chain() -> None:
    """Run a local chain and deploy the QFZZ contracts to it (or to any EVM RPC).

    \b
    qfzz chain up        start anvil in the background; its state is saved in $QFZZ_HOME/chain
    qfzz chain deploy    deploy the suite and write the deployment record
    qfzz chain status    what runs, and what is deployed
    qfzz chain down      stop anvil, keeping every track, payment and vote for the next `up`
    """


@chain.command()
@click.option("--port", type=click.IntRange(1, 65535), default=local_node.DEFAULT_PORT, show_default=True,
              help="Port for anvil's JSON-RPC.")
@json_option
def up(port: int, as_json: bool) -> None:
    """Start the local chain (loading its saved state), unless it already runs."""
    node, started = local_node.up(port)
    emit({"rpc_url": node.rpc_url, "pid": node.pid, "started": started, "state_file": node.state_file}, as_json,
         lambda v: f"{'Started' if started else 'Already running:'} anvil at {v['rpc_url']} (pid {v['pid']}); "
                   f"state saved in {v['state_file']}")  # fmt: skip


@chain.command()
@json_option
def down(as_json: bool) -> None:
    """Stop the local chain; its state is written to disk first."""
    node = local_node.down()
    emit({"stopped": node is not None, "state_file": node.state_file if node else None}, as_json,
         lambda v: f"Stopped anvil; state saved in {v['state_file']}" if node else "No local chain is running.")


@chain.command()
@click.option("--rpc-url", envvar="QFZZ_RPC_URL", metavar="URL", help="Chain to inspect [env QFZZ_RPC_URL].")
@json_option
def status(rpc_url: str | None, as_json: bool) -> None:
    """Show the node in use, its head block and this node's deployment record."""
    from qfzz_chain.chain.connection import connect, resolve_rpc_url
    from qfzz_chain.chain.deployment import load_record, record_path

    url = resolve_rpc_url(rpc_url)
    w3 = connect(url)
    node = local_node.status()
    info: dict = {"rpc_url": url, "chain_id": w3.eth.chain_id, "block": w3.eth.block_number, "deployment": None,
                  "local_node": node.rpc_url if node and node.rpc_url == url else None}  # fmt: skip
    try:
        record = load_record(w3)
        info["deployment"] = {"record": str(record_path(record)), "deployed_at": record.deployed_at,
                              "contracts": {n: c.address for n, c in record.contracts.items()}}  # fmt: skip
    except DeploymentError as exc:
        info["deployment_problem"] = str(exc)

    def render(v: dict) -> str:
        where = " (the local anvil of `qfzz chain up`)" if v["local_node"] else ""
        lines = [f"{v['rpc_url']}{where}: chain {v['chain_id']} at block {v['block']}"]
        if v["deployment"]:
            lines.append(f"deployed {v['deployment']['deployed_at']} ({v['deployment']['record']})")
            lines += [f"  {name:<16} {address}" for name, address in v["deployment"]["contracts"].items()]
        else:
            lines.append(f"not deployed: {v['deployment_problem']}")
        return "\n".join(lines)

    emit(info, as_json, render)


def _brownie_env(**extra: str) -> dict[str, str]:
    """The environment for Brownie: this checkout's compiler (tools/install-solc.sh) and anvil."""
    env = dict(os.environ, **extra)
    env.setdefault("SOLCX_BINARY_PATH", str(PROJECT_ROOT / ".venv" / "solcx"))
    env["PATH"] = os.pathsep.join([str(PROJECT_ROOT / "node_modules" / ".bin"), env.get("PATH", "")])
    return env


def _deploy_target(rpc_url: str | None) -> list[str]:
    """The runner's arguments for the node in use: its URL, and its port when it is the local node.

    The local chain is a Brownie *development* network: Brownie attaches to the running anvil,
    leaves it running, and keeps no deployment artifacts of its own that would go stale when the
    chain is reset. Any other RPC is a live network, whose artifacts for its chain id are dropped
    first (they may be another node's).
    """
    from qfzz_chain.chain.brownie_networks import forget_brownie_deployments
    from qfzz_chain.chain.connection import connect, resolve_rpc_url

    url = resolve_rpc_url(rpc_url)
    node = local_node.status()
    if node is not None and url == node.rpc_url:
        return ["--rpc-url", url, "--local-port", str(node.port)]
    forget_brownie_deployments(connect(url).eth.chain_id)
    return ["--rpc-url", url]


@chain.command()
@click.option("--rpc-url", envvar="QFZZ_RPC_URL", metavar="URL",
              help="Deploy to this EVM RPC [env QFZZ_RPC_URL]; default: the chain of `qfzz chain up`.")
@click.option("--redeploy", is_flag=True,
              help="Deploy the whole suite afresh even where it is live (the old record is archived; "
                   "tracks on the old contracts stay there).")
@json_option
def deploy(rpc_url: str | None, redeploy: bool, as_json: bool) -> None:
    """Deploy the contract suite with Brownie (scripts/deploy.py) and write the deployment record.

    On a node that already holds the suite, only contracts the record lacks are deployed, beside
    the live ones, so the registry and its tracks stay. The deployer is QFZZ_PRIVATE_KEY, the
    Brownie account named by QFZZ_DEPLOYER_ACCOUNT, or the node's first unlocked account.
    """
    from qfzz_chain.chain.connection import connect
    from qfzz_chain.chain.deployment import find_record, load_record, record_path

    redeploy = redeploy or os.environ.get("QFZZ_REDEPLOY") == "1"
    find_record(connect(rpc_url))  # a damaged suite is named before anything is compiled
    target = _deploy_target(rpc_url)
    env = _brownie_env(QFZZ_REDEPLOY="1" if redeploy else "0")
    click.echo(f"Compiling and deploying with Brownie to {target[1]}...", err=True)
    # `brownie run scripts/deploy.py --network NETWORK`, by a runner that also works in a checkout
    # whose path has a dot in it and needs no global network entry (brownie_script says why).
    result = subprocess.run([sys.executable, "-m", "qfzz_chain.chain.brownie_script", "scripts/deploy.py", *target],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    problem = next((line for line in lines if line.startswith("error: ")), None)
    if result.returncode != 0 or problem:
        raise DeploymentError((problem or (lines[-1] if lines else "brownie run failed")).removeprefix("error: "))
    record = load_record(connect(rpc_url))
    kept = any(line.startswith("Nothing to deploy") for line in lines)
    summary = {"record": str(record_path(record)), "chain_id": record.chain_id, "deployer": record.deployer,
               "nothing_to_deploy": kept,
               "contracts": {n: {"address": c.address, "block": c.block, "transaction": c.transaction}
                             for n, c in record.contracts.items()}}  # fmt: skip
    emit(summary, as_json, lambda v: "\n".join(
        [("The suite is already live" if kept else "Deployed") + f" on chain {v['chain_id']}; record {v['record']}"]
        + [f"  {n:<16} {c['address']}  (block {c['block']})" for n, c in v["contracts"].items()]))
