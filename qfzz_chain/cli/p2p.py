"""``qfzz p2p``: simulate a gossip recommender network, run one real node, ask a node for its list."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from qfzz_chain.cli._output import emit, json_option, key_values


def _status(message: str) -> None:
    click.echo(message, err=True)


def _protocol(summary_bytes: int, defence: bool, fanout: int = 1):
    from qfzz_chain.p2p.protocol import ProtocolConfig

    return ProtocolConfig(summary_bytes=summary_bytes, defence=defence, fanout=fanout)


summary_option = click.option("--summary-bytes", "-M", "summary_bytes", type=click.IntRange(64, 65507), default=480,
                              show_default=True, help="M: the largest gossip datagram a node sends or accepts.")
defence_option = click.option("--defence/--no-defence", default=True, show_default=True,
                              help="Withheld probes, claim cross-checks and bounded influence (docs/p2p.md).")


@click.group()
def p2p() -> None:
    """Decentralised recommendation: listener nodes gossip bounded summaries over UDP and
    recommend from the peers they found similar (docs/p2p.md).

    \b
      qfzz p2p simulate --nodes 300 --periods 20             every Last.fm user a node, on loopback
      qfzz p2p simulate --attackers 0.2 --attack hub --no-defence
      qfzz p2p node --port 9001 --history me.tsv              a first node
      qfzz p2p node --port 9002 --bootstrap 127.0.0.1:9001 --history you.tsv
      qfzz p2p recommend --node 127.0.0.1:9002                its list, with the peers behind it
    """


@p2p.command("simulate")
@click.option("--nodes", type=click.IntRange(2, 1892), default=None,
              help="Honest nodes: a seeded random subset of the Last.fm users (default: all 1,892).")
@summary_option
@click.option("--periods", "-R", type=click.IntRange(1, 1000), default=30, show_default=True,
              help="Protocol periods to run before every node is asked for its top-10.")
@click.option("--attackers", type=click.FloatRange(0.0, 0.8), default=0.0, show_default=True,
              help="Share of all nodes that are attackers pushing one target artist.")
@click.option("--attack", type=click.Choice(["shilling", "hub"]), default="shilling", show_default=True,
              help="shilling: crafted popular profiles plus the target; hub: mirror each victim to be its neighbour.")
@click.option("--churn", type=click.FloatRange(0.0, 0.8), default=0.0, show_default=True,
              help="Share of nodes offline at any moment (they come back with their state).")
@click.option("--loss", type=click.FloatRange(0.0, 0.8), default=0.0, show_default=True,
              help="Share of datagrams lost.")
@defence_option
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the recommender's random split.")
@click.option("--period-seconds", type=click.FloatRange(0.01, 60.0), default=None,
              help="Period T in seconds (default: 0.8 ms per node, so the event loop keeps up).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (default: $QFZZ_LASTFM_DIR or the shared copy).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write NDCG@10 against periods elapsed as a PNG.")
@json_option
def simulate(nodes: int | None, summary_bytes: int, periods: int, attackers: float, attack: str, churn: float,
             loss: float, defence: bool, seed: int, period_seconds: float | None, data: Path | None,
             chart: Path | None, as_json: bool) -> None:
    """Run a whole network on this machine: every node its own UDP socket on 127.0.0.1, one event
    loop, each node knowing only its training history of the recommender's random split; then
    score every node's own top-10 on the held-out listens (NDCG@10, recall, coverage, ...).

    With --attackers the report adds the target artist's hit ratio among honest nodes.
    """
    from qfzz_chain.p2p.simulation import SimulationConfig, SimulationData, simulate as run
    from qfzz_chain.recommender.data import load_lastfm
    from qfzz_chain.recommender.split import random_holdout

    checkpoints = tuple(sorted({max(1, round(periods * f / 6)) for f in range(1, 6)}))
    config = SimulationConfig(nodes=nodes, protocol=_protocol(summary_bytes, defence), periods=periods,
                              period_seconds=period_seconds, churn=churn, loss=loss, attackers=attackers,
                              attack=attack, checkpoints=checkpoints, seed=seed)
    _status(f"loading Last.fm 2K from {data or 'the default folder'} (checksums verified)")
    dataset = load_lastfm(data)
    split = random_holdout(dataset.interactions.plays, seed)
    sim_data = SimulationData(split.train, split.test, dataset.interactions.item_ids, dataset.friends)
    with click.progressbar(length=periods, label="gossip periods", file=sys.stderr) as bar:
        result = run(sim_data, config, lambda done, total: bar.update(1))
    summary = result.summary()
    value: dict[str, Any] = {"config": {"nodes": result.honest_nodes, "attackers": result.attacker_nodes,
                                        "attack": attack if attackers else None, "summary_bytes": summary_bytes,
                                        "periods": periods, "churn": churn, "loss": loss, "defence": defence,
                                        "seed": seed},
                             "metrics": summary, "convergence": {str(k): round(v, 6) for k, v in result.convergence.items()},
                             "target": result.target}
    if chart is not None:
        _chart(result.convergence, chart, f"{result.honest_nodes} nodes, M = {summary_bytes} B")
        value["chart"] = str(chart)

    def render(v: dict[str, Any]) -> str:
        keys = ("ndcg_at_10", "recall_at_10", "coverage", "emerging_share", "bytes_per_node_per_period",
                "messages_per_node_per_period", "max_datagram_bytes", "target_hit_ratio", "honest_nodes",
                "attacker_nodes", "mean_ticks", "wall_seconds")
        lines = key_values({k: v["metrics"][k] for k in keys})
        curve = "  ".join(f"{p}:{n:.4f}" for p, n in v["convergence"].items())
        drops = {k: n for k, n in v["metrics"].items() if k.startswith("dropped_")}
        return f"{lines}\nNDCG@10 by period  {curve}\n{key_values(drops) if drops else ''}".rstrip()

    emit(value, as_json, render)


def _chart(convergence: dict[int, float], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = sorted(convergence)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(periods, [convergence[p] for p in periods], marker="o")
    axis.set_xlabel("protocol periods elapsed")
    axis.set_ylabel("NDCG@10 of the nodes' own lists")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


@p2p.command("node")
@click.option("--port", type=click.IntRange(0, 65535), required=True, help="UDP port to listen on (127.0.0.1).")
@click.option("--bootstrap", "bootstraps", multiple=True,
              help="HOST:PORT of a running node to join through (repeatable; none for the first node).")
@click.option("--history", type=click.Path(path_type=Path), required=True,
              help="Your listening history: one 'artist_id<TAB>plays' per line (Last.fm ids).")
@summary_option
@defence_option
@click.option("--period-seconds", type=click.FloatRange(0.05, 3600.0), default=1.0, show_default=True,
              help="Period T: one exchange started every T seconds (±10 % skew).")
@click.option("--periods", type=click.IntRange(0, None), default=0, show_default=True,
              help="Stop after this many periods (0: run until Ctrl-C).")
@click.option("--bootstrap-timeout", type=click.FloatRange(0.1, 60.0), default=3.0, show_default=True,
              help="Seconds to wait for the bootstrap peer's first answer.")
@json_option
def node(port: int, bootstraps: tuple[str, ...], history: Path, summary_bytes: int, defence: bool,
         period_seconds: float, periods: int, bootstrap_timeout: float, as_json: bool) -> None:
    """Run one node in this process and report the neighbours it finds (JSON lines with --json).

    Only a summary of at most M bytes of your history ever leaves the process. Ask it for its
    list from another terminal with `qfzz p2p recommend --node 127.0.0.1:PORT`.
    """
    from qfzz_chain.p2p.node import parse_address, read_history, run_node

    addresses = [parse_address(b) for b in bootstraps]
    profile = read_history(history)

    def on_event(event: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(event, sort_keys=True))
        elif event["event"] == "listening":
            click.echo(f"listening on {event['node']} ({event['artists']} artists, M = {event['summary_bytes']} B, "
                       f"defence {'on' if event['defence'] else 'off'})")
        elif event["event"] == "bootstrapped":
            click.echo(f"joined through {', '.join(event['peers'])}")
        elif event["event"] == "neighbour":
            shared = ", ".join(str(i) for i in event["shared"]) or "none"
            click.echo(f"period {event['period']}: neighbour {event['peer']} similarity {event['similarity']:.4f} "
                       f"(shared artists {shared})")

    try:
        asyncio.run(run_node(profile, port, addresses, _protocol(summary_bytes, defence), period_seconds,
                             periods or None, on_event, bootstrap_timeout=bootstrap_timeout))
    except KeyboardInterrupt:
        pass


def _artist_names(data: Path | None) -> dict[int, str]:
    """Artist names from artists.dat when the dataset is at hand (ids alone otherwise)."""
    from qfzz_chain.config import lastfm_data_path

    path = (Path(data) if data is not None else lastfm_data_path()) / "artists.dat"
    names: dict[int, str] = {}
    try:
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split("\t")
            if len(fields) > 1 and fields[0].isdigit():
                names[int(fields[0])] = fields[1]
    except (OSError, UnicodeDecodeError):
        return {}
    return names


@p2p.command("recommend")
@click.option("--node", "node_address", required=True, help="HOST:PORT of a running `qfzz p2p node`.")
@click.option("-n", "count", type=click.IntRange(1, 50), default=10, show_default=True, help="How many artists.")
@click.option("--timeout", type=click.FloatRange(0.1, 60.0), default=3.0, show_default=True,
              help="Seconds to wait for the node's answer.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Dataset folder, for artist names (default: $QFZZ_LASTFM_DIR or the shared copy).")
@json_option
def recommend(node_address: str, count: int, timeout: float, data: Path | None, as_json: bool) -> None:
    """Ask a running node for its top-N; each artist names the peers it came from (their share
    of the score, their similarity) and the artists you share with each of them."""
    from qfzz_chain.p2p.node import ask_node, parse_address

    address = parse_address(node_address)
    answer = asyncio.run(ask_node(address, count, timeout))
    names = _artist_names(data)
    for item in answer.get("items", []):
        item["name"] = names.get(item["artist"], "")
        for peer in item["peers"]:
            peer["shared_names"] = [names.get(i, str(i)) for i in peer["shared"]]

    def render(v: dict[str, Any]) -> str:
        lines = [f"node {v.get('node')}: period {v.get('period')}, {v.get('neighbours')} neighbours"]
        if not v.get("items"):
            lines.append("no recommendations yet: the node has found no similar peer")
        for rank, item in enumerate(v.get("items", []), start=1):
            label = item["name"] or f"artist {item['artist']}"
            lines.append(f"{rank:2d}. {label} (artist {item['artist']}, score {item['score']:.4f})")
            for peer in item["peers"]:
                lines.append(f"      from {peer['peer']} ({peer['share']:.0%} of the score, similarity {peer['sim']:.3f}), "
                             f"who also plays {', '.join(peer['shared_names']) or '-'}")
        return "\n".join(lines)

    emit(answer, as_json, render)


__all__ = ["p2p"]
