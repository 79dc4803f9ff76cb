"""Gossip recommender benchmark: quality, bandwidth, convergence, churn, attacks and scale.

Run as ``.venv/bin/python benchmarks/bench_p2p.py`` (``make bench``; ``--quick`` for a small
network while iterating, ``--chart out.png`` for the trade-off curves). Every Last.fm user is a
node with only its training history of the recommender's random split (seed 42, and seed 1 for
the main configuration); all nodes run in this one process on one event loop, each with its own
UDP socket on 127.0.0.1. The centralized user-kNN, item-kNN, EASE and hybrid are tuned on
validation and measured on the same split by the recommender's own evaluation code. Writes
``benchmarks/results/p2p.json`` (docs/p2p.md explains every key).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, write_results  # noqa: E402
from qfzz_chain.p2p.protocol import ProtocolConfig  # noqa: E402
from qfzz_chain.p2p.simulation import (  # noqa: E402
    SimulationConfig,
    SimulationData,
    SimulationResult,
    default_target,
    simulate,
)
from qfzz_chain.recommender.data import load_lastfm  # noqa: E402
from qfzz_chain.recommender.evaluation import run_evaluation  # noqa: E402
from qfzz_chain.recommender.split import random_holdout  # noqa: E402

SEEDS = (42, 1)
CENTRAL = ("userknn", "itemknn", "ease", "hybrid")
SUMMARY_BYTES = (128, 256, 480, 512, 1024, 4096)
BUDGET = 1024  # the goal's bytes per node per period
ATTACK_SHARES = (0.1, 0.2, 0.3)
ATTACKS = ("shilling", "hub")
SCALES = (500, 1000, 1892)
# Attacks run on a seeded random 500 of the users for 20 periods (what two busy cores allow for 12
# attacked networks of up to 714 nodes); the same 500 run clean for 20 periods are their baseline,
# and that clean run is also the 500-node point of the scale figures.
ATTACK_NODES = 500
NAIVE_BYTES_PER_SECOND_1M = 20e9  # seed §8.2: 1 M users × 20 KB per query, per second


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def central_baselines(dataset: Any, seed: int) -> dict[str, float]:
    results, _ = run_evaluation(dataset, list(CENTRAL), protocols=["random"], seed=seed, progress=progress)
    return {name: results["random"][name].metrics["ndcg_at_10"] for name in CENTRAL}


_SPLITS: dict[int, SimulationData] = {}


def _split(seed: int) -> SimulationData:
    """The seed's split, loaded once per worker process."""
    if seed not in _SPLITS:
        dataset = load_lastfm()
        split = random_holdout(dataset.interactions.plays, seed)
        _SPLITS[seed] = SimulationData(split.train, split.test, dataset.interactions.item_ids, dataset.friends)
    return _SPLITS[seed]


def _simulate(label: str, split_seed: int, settings: dict[str, Any]) -> SimulationResult:
    """One network run (in a worker process: each run has its own event loop and sockets)."""
    settings = dict(settings)
    protocol = ProtocolConfig(summary_bytes=settings.pop("summary_bytes"), defence=settings.pop("defence"),
                              **settings.pop("protocol", {}))
    config = SimulationConfig(protocol=protocol, **settings)
    started = time.perf_counter()
    result = simulate(_split(split_seed), config)
    m = result.summary()
    progress(f"  {label}: NDCG@10 {m['ndcg_at_10']:.4f}  {m['bytes_per_node_per_period']:.0f} B/node/period  "
             f"hit ratio {m['target_hit_ratio']:.4f}  T {m['period_seconds']:.2f} s  "
             f"({time.perf_counter() - started:.0f} s)")
    return result


def run_all(pool: ProcessPoolExecutor, specs: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, SimulationResult]:
    """Run every ``label: (split seed, settings)`` on the pool; the results by label."""
    futures = {label: pool.submit(_simulate, label, seed, settings) for label, (seed, settings) in specs.items()}
    return {label: future.result() for label, future in futures.items()}


def stage2_specs(goal_m: int, base: dict[str, Any], small: bool, attack_periods: int, shares: tuple[float, ...],
                 scales: tuple[int, ...], n_users: int) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every run after the bandwidth curve, at the chosen M: ``label: (split seed, settings)``."""
    at_goal = {**base, "summary_bytes": goal_m}
    attack_nodes = 200 if small else ATTACK_NODES
    attack = {**at_goal, "nodes": attack_nodes, "periods": attack_periods, "checkpoints": ()}
    clean_attack = {**attack, "checkpoints": ()}
    specs: dict[str, tuple[int, dict[str, Any]]] = {
        "no defence": (SEEDS[0], {**at_goal, "defence": False}),
        f"seed {SEEDS[1]}": (SEEDS[1], {**at_goal, "defence": True, "seed": SEEDS[1], "target": None,
                                        "checkpoints": ()}),
        "churn": (SEEDS[0], {**at_goal, "defence": True, "churn": 0.3, "loss": 0.05, "checkpoints": ()}),
        "no attack, defence": (SEEDS[0], {**clean_attack, "defence": True}),
        "no attack, no defence": (SEEDS[0], {**clean_attack, "defence": False}),
    }
    for kind in ATTACKS:
        for share in shares:
            for defended in (True, False):
                tag = f"{kind}_{int(share * 100)}pct_{'defence' if defended else 'no_defence'}"
                specs[tag] = (SEEDS[0], {**attack, "defence": defended, "attackers": share, "attack": kind})
    for n in scales:
        if n < n_users and n != attack_nodes and n != base["nodes"]:
            specs[f"scale {n}"] = (SEEDS[0], {**attack, "defence": True, "nodes": n})
    return specs


def _save(path: Path, stash: dict[str, Any]) -> None:
    """Keep finished runs on disk, so a failure later does not cost the hour of simulation."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(stash))


def periods_to_95pct(convergence: dict[int, float]) -> int:
    final = convergence[max(convergence)]
    return min(p for p, v in convergence.items() if v >= 0.95 * final)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 nodes, 12 periods, fewer settings (minutes).")
    parser.add_argument("--reduced", action="store_true",
                        help="Every experiment, on 300 nodes for 12 periods (attacks: 200 nodes, 10 periods): what a "
                             "saturated machine allows; the full run needs ~1 h of one free core.")
    parser.add_argument("--chart", type=Path, default=None, help="Write the trade-off curves as a PNG.")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="Networks simulated at once, one process (and event loop) each.")
    parser.add_argument("--stage2-only", type=int, default=None, metavar="M",
                        help="Run only the stage-2 networks at this M (beside a stage-1 run) and save them.")
    parser.add_argument("--goal-m", type=int, default=None,
                        help="Take this M as the main configuration instead of the best one within 1 KiB.")
    parser.add_argument("--resume", action="store_true",
                        help="Reuse the runs saved by an interrupted benchmark (benchmarks/results/p2p_runs*.pickle).")
    args = parser.parse_args()
    started = time.perf_counter()
    small = args.quick or args.reduced
    nodes = 300 if small else None
    periods = 12 if small else 30
    attack_periods = (10 if args.reduced else 8) if small else 20
    sizes = (128, 480, 1024) if args.quick else SUMMARY_BYTES
    shares = (0.2,) if args.quick else ATTACK_SHARES
    scales = (100, 200, 300) if args.quick else (300, 500, 1000) if args.reduced else SCALES
    # (quick: the attack baseline has 200 nodes, so it is the 200-node scale point)
    step = 2 if small else 5
    checkpoints = tuple(p for p in range(step, periods, step))

    dataset = load_lastfm()
    main_split = _split(SEEDS[0])
    # The attackers' target, named up front so every run (attacked or not) reports its hit ratio.
    target = default_target(main_split.train, main_split.item_ids)
    figures: dict[str, Any] = {"quick": int(args.quick), "reduced": int(args.reduced), "seed": SEEDS[0], "periods": periods,
                               "attack_periods": attack_periods, "nodes": nodes or dataset.interactions.n_users,
                               "attack_target_artist": target,
                               "attack_target_name": dataset.item_names[int(dataset.interactions.item_index(target))]}
    base = dict(nodes=nodes, periods=periods, seed=SEEDS[0], target=target, checkpoints=checkpoints)

    mode = "_quick" if args.quick else "_reduced" if args.reduced else ""
    saved = RESULTS_DIR / f"p2p_runs{mode}.pickle"
    stage2 = RESULTS_DIR / f"p2p_runs_stage2{mode}.pickle"
    stash: dict[str, Any] = pickle.loads(saved.read_bytes()) if args.resume and saved.is_file() else {}
    if args.resume and "done" not in stash and stage2.is_file():
        stash["done"] = pickle.loads(stage2.read_bytes())["done"]
    if args.stage2_only is not None:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            specs = stage2_specs(args.stage2_only, base, small, attack_periods, shares, scales,
                                 dataset.interactions.n_users)
            _save(stage2, {"done": run_all(pool, specs), "summary_bytes": args.stage2_only})
        progress(f"saved {stage2}")
        return
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        progress(f"stage 1: bandwidth curve, M in {sizes} (defence on), beside the centralized baselines")
        if "by_size" not in stash:
            curve_futures = {m: pool.submit(_simulate, f"M={m}", SEEDS[0],
                                            {**base, "summary_bytes": m, "defence": True}) for m in sizes}
            stash["central"] = {seed: central_baselines(dataset, seed) for seed in SEEDS}
            stash["by_size"] = {m: f.result() for m, f in curve_futures.items()}
            _save(saved, stash)
        central, by_size = stash["central"], stash["by_size"]
        for seed in SEEDS:
            suffix = "" if seed == SEEDS[0] else f"_seed{seed}"
            for name, value in central[seed].items():
                figures[f"central_{name}_ndcg_at_10{suffix}"] = round(value, 6)
        best_name = max(CENTRAL, key=lambda n: central[SEEDS[0]][n])
        figures["best_central_model"] = best_name
        for m in sizes:
            r = by_size[m]
            figures[f"ndcg_at_10_m{m}"] = round(r.metrics["ndcg_at_10"], 6)
            figures[f"bytes_per_node_per_period_m{m}"] = round(r.bytes_per_node_per_period, 1)
            figures[f"periods_to_95pct_m{m}"] = periods_to_95pct(r.convergence)
            for p, v in sorted(r.convergence.items()):
                figures[f"convergence_m{m}_period{p}"] = round(v, 6)
        within = [m for m in sizes if by_size[m].bytes_per_node_per_period <= BUDGET]
        goal_m = max(within, key=lambda m: by_size[m].metrics["ndcg_at_10"]) if within else min(sizes)
        if args.goal_m is not None:
            goal_m = args.goal_m
        figures["goal_bytes_within_1kib_met"] = int(by_size[goal_m].bytes_per_node_per_period <= BUDGET)
        main_run = by_size[goal_m]
        figures["summary_bytes"] = goal_m
        for key in ("ndcg_at_10", "recall_at_10", "precision_at_10", "coverage", "emerging_share", "novelty"):
            figures[key] = round(main_run.metrics[key], 6)
        figures["bytes_per_node_per_period"] = round(main_run.bytes_per_node_per_period, 1)
        figures["messages_per_node_per_period"] = round(main_run.messages_per_node_per_period, 3)
        figures["max_datagram_bytes"] = main_run.max_datagram_bytes
        figures["periods_to_95pct"] = periods_to_95pct(main_run.convergence)
        figures["ratio_vs_userknn"] = round(main_run.metrics["ndcg_at_10"] / central[SEEDS[0]]["userknn"], 4)
        figures["ratio_vs_best_central"] = round(main_run.metrics["ndcg_at_10"] / central[SEEDS[0]][best_name], 4)
        figures["goal_ratio_vs_userknn_met"] = int(figures["ratio_vs_userknn"] >= 0.95)
        figures["goal_ratio_vs_best_central_met"] = int(figures["ratio_vs_best_central"] >= 0.85)
        figures["period_seconds"] = round(main_run.period_seconds, 3)
        figures["run_wall_s"] = round(main_run.wall_seconds, 1)
        figures["peak_memory_mb"] = round(main_run.peak_memory_mb, 1)

        progress(f"stage 2 at M = {goal_m}: no defence, seed {SEEDS[1]}, churn, attacks, scale")
        specs = stage2_specs(goal_m, base, small, attack_periods, shares, scales, dataset.interactions.n_users)
        attack_nodes = 200 if small else ATTACK_NODES
        if "done" not in stash:
            stash["done"] = run_all(pool, specs)
            _save(saved, stash)
        done = stash["done"]

    undefended = done["no defence"]
    figures["no_defence_ndcg_at_10"] = round(undefended.metrics["ndcg_at_10"], 6)
    figures["no_defence_ratio_vs_userknn"] = round(undefended.metrics["ndcg_at_10"] / central[SEEDS[0]]["userknn"], 4)
    figures["no_defence_ratio_vs_best_central"] = round(
        undefended.metrics["ndcg_at_10"] / central[SEEDS[0]][best_name], 4)
    second = done[f"seed {SEEDS[1]}"]
    s = f"_seed{SEEDS[1]}"
    figures[f"ndcg_at_10{s}"] = round(second.metrics["ndcg_at_10"], 6)
    figures[f"ratio_vs_userknn{s}"] = round(second.metrics["ndcg_at_10"] / central[SEEDS[1]]["userknn"], 4)
    figures[f"ratio_vs_best_central{s}"] = round(second.metrics["ndcg_at_10"] / max(central[SEEDS[1]].values()), 4)

    churned = done["churn"]
    figures["churn_ndcg_at_10"] = round(churned.metrics["ndcg_at_10"], 6)
    figures["churn_ratio_vs_no_churn"] = round(churned.metrics["ndcg_at_10"] / main_run.metrics["ndcg_at_10"], 4)
    figures["churn_ratio_vs_userknn"] = round(churned.metrics["ndcg_at_10"] / central[SEEDS[0]]["userknn"], 4)
    figures["churn_bytes_per_node_per_period"] = round(churned.bytes_per_node_per_period, 1)
    figures["churn_dropped_lost"] = churned.drops.get("lost", 0)
    figures["churn_dropped_offline"] = churned.drops.get("offline", 0)

    # Attacked runs: attack_nodes honest nodes plus the attackers for attack_periods periods, against
    # the same honest nodes run clean for as long.
    clean = {True: done["no attack, defence"], False: done["no attack, no defence"]}
    figures["attack_honest_nodes"] = attack_nodes
    for defended in (True, False):
        tag = "defence" if defended else "no_defence"
        figures[f"no_attack_{tag}_hit_ratio"] = round(clean[defended].target_hit_ratio, 6)
        figures[f"no_attack_{tag}_ndcg_at_10"] = round(clean[defended].metrics["ndcg_at_10"], 6)
    for kind in ATTACKS:
        for share in shares:
            for defended in (True, False):
                tag = f"{kind}_{int(share * 100)}pct_{'defence' if defended else 'no_defence'}"
                r = done[tag]
                baseline = figures[f"no_attack_{'defence' if defended else 'no_defence'}_ndcg_at_10"]
                figures[f"attack_{tag}_hit_ratio"] = round(r.target_hit_ratio, 6)
                figures[f"attack_{tag}_ndcg_at_10"] = round(r.metrics["ndcg_at_10"], 6)
                figures[f"attack_{tag}_ndcg_vs_no_attack"] = round(r.metrics["ndcg_at_10"] / baseline, 4)
                figures[f"attack_{tag}_attacker_share_of_neighbours"] = round(r.neighbour_attacker_share, 4)
                figures[f"attack_{tag}_attackers"] = r.attacker_nodes
    users = clean[True].metrics["users"]
    for kind in ATTACKS:
        tag = f"{kind}_20pct_defence"
        if f"attack_{tag}_hit_ratio" in figures:
            # "Within 2x" of a no-attack ratio of 0 would demand exactly 0; one user's list is the floor.
            bound = max(2 * figures["no_attack_defence_hit_ratio"], 1.0 / users)
            figures[f"goal_{kind}_hit_ratio_within_2x_met"] = int(figures[f"attack_{tag}_hit_ratio"] <= bound)
            figures[f"goal_{kind}_ndcg_within_5pct_met"] = int(figures[f"attack_{tag}_ndcg_vs_no_attack"] >= 0.95)

    for n in scales:
        if n >= dataset.interactions.n_users or n == nodes:
            r = main_run
        else:
            r = done.get(f"scale {n}", done["no attack, defence"])
        figures[f"scale_{n}_bytes_per_node_per_period"] = round(r.bytes_per_node_per_period, 1)
        figures[f"scale_{n}_messages_per_node_per_period"] = round(r.messages_per_node_per_period, 3)
        figures[f"scale_{n}_ndcg_at_10"] = round(r.metrics["ndcg_at_10"], 6)
    # Per node per period is independent of the network size, so at T = 1 s a million nodes send:
    figures["million_nodes_bytes_per_second_at_t1s"] = round(main_run.bytes_per_node_per_period * 1e6, 0)
    figures["million_nodes_vs_naive_ratio"] = round(main_run.bytes_per_node_per_period * 1e6
                                                    / NAIVE_BYTES_PER_SECOND_1M, 8)
    figures["benchmark_wall_s"] = round(time.perf_counter() - started, 1)
    path = write_results("p2p", figures)
    if args.chart is not None:
        chart(figures, sizes, periods, checkpoints, goal_m, args.chart)
    for key in sorted(figures):
        if not key.startswith("convergence_"):
            print(f"{key:60s} {figures[key]}")
    print(f"wrote {path}")


def chart(figures: dict[str, Any], sizes: tuple[int, ...], periods: int, checkpoints: tuple[int, ...], goal_m: int,
          path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = [figures[f"bytes_per_node_per_period_m{m}"] for m in sizes]
    ys = [figures[f"ndcg_at_10_m{m}"] for m in sizes]
    left.plot(xs, ys, marker="o", label="gossip (defence on)")
    for m, x, y in zip(sizes, xs, ys):
        left.annotate(f"M={m}", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    for name, style in (("userknn", ":"), ("hybrid", "--")):
        left.axhline(figures[f"central_{name}_ndcg_at_10"], linestyle=style, color="grey", label=f"central {name}")
    left.axvline(BUDGET, color="red", alpha=0.3, label="1 KiB per node per period")
    left.set_xscale("log")
    left.set_xlabel("bytes sent per node per period")
    left.set_ylabel("NDCG@10")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for m in sizes:
        points = sorted((p, figures[f"convergence_m{m}_period{p}"]) for p in list(checkpoints) + [periods]
                        if f"convergence_m{m}_period{p}" in figures)
        right.plot([p for p, _ in points], [v for _, v in points], marker=".", label=f"M={m}",
                   linewidth=2.5 if m == goal_m else 1.0)
    right.set_xlabel("protocol periods elapsed")
    right.set_ylabel("NDCG@10")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    figure.suptitle(f"{figures['nodes']} Last.fm nodes on loopback UDP, one event loop")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
