"""Thousands of nodes on one event loop over real loopback sockets, measured like the recommender.

Every listener of the split is a node that knows only its own training row; the evaluation asks
each node for its own top-10 and scores the lists with the recommender's
:func:`~qfzz_chain.recommender.metrics.evaluate_top_n` on the split's held-out part, exactly as the
centralized models are scored. Bootstrap is the Last.fm friend graph (a node's first view is its
friends; a node without friends in the network gets three random nodes, as from a public
bootstrap list). Churn is a two-state Markov chain per node and period (offline → online with
probability 0.25, so a phone sleeps four periods on average, and online → offline at the rate
that keeps ``churn`` of the nodes offline); it starts in its stationary state.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.p2p.attack import ATTACKS, Attacker
from qfzz_chain.p2p.errors import InvalidConfigError
from qfzz_chain.p2p.protocol import NodeState, ProtocolConfig
from qfzz_chain.p2p.summary import Profile, quantize
from qfzz_chain.p2p.transport import Clock, Endpoint, open_endpoint
from qfzz_chain.recommender.metrics import evaluate_top_n

WAKE_PROBABILITY = 0.25
# One node's period costs ≈ 0.5 ms of CPU here (a tick plus the two or three datagrams it causes).
# The period must leave the loop idle most of the time, or replies queue for whole periods and
# time out: T = 0.8 ms × nodes (1.5 s for 1,892 nodes, 2.2 s with 30 % attackers added).
SECONDS_PER_NODE = 0.0008
MIN_PERIOD_SECONDS = 0.2
# Pacing: when a period's sleep overshoots by half a period (and by 0.3 s at least: on a busy machine
# the scheduler alone delays a wake-up by tens of milliseconds), every period is stretched.
PACING_LAG = 0.5
PACING_MIN_LAG = 0.3
PACING_STRETCH = 1.25
PACING_SLACK = 0.1
FRIENDLESS_BOOTSTRAP = 3

Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    """Default progress sink."""


@dataclass(frozen=True)
class SimulationData:
    """What the experiment needs of a split: train/test plays (users × items), ids, the friend graph."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    item_ids: np.ndarray
    friends: sp.csr_matrix

    def profile(self, user: int) -> Profile:
        start, end = self.train.indptr[user], self.train.indptr[user + 1]
        return Profile.from_plays(self.item_ids[self.train.indices[start:end]], self.train.data[start:end])


@dataclass(frozen=True)
class SimulationConfig:
    nodes: int | None = None  # honest nodes (None: every user of the split)
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    periods: int = 40
    period_seconds: float | None = None  # None: SECONDS_PER_NODE × nodes, at least MIN_PERIOD_SECONDS
    skew: float = 0.1
    churn: float = 0.0  # share of honest nodes offline at any moment
    loss: float = 0.0  # share of datagrams lost
    attackers: float = 0.0  # share of all nodes that are attackers
    attack: str = "shilling"
    target: int | None = None  # external id of the attackers' target artist
    checkpoints: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.nodes is not None and self.nodes < 2:
            raise InvalidConfigError("a network needs at least 2 nodes")
        if self.periods < 1 or (self.period_seconds is not None and self.period_seconds <= 0):
            raise InvalidConfigError("periods and the period length must be positive")
        for name in ("churn", "loss", "attackers"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.9:
                raise InvalidConfigError(f"{name} must be a share in [0, 0.9), got {value}")
        if self.attack not in ATTACKS:
            raise InvalidConfigError(f"unknown attack {self.attack!r}; choose one of {', '.join(ATTACKS)}")


@dataclass
class SimulationResult:
    metrics: dict[str, float]
    convergence: dict[int, float]
    convergence_hits: dict[int, float]  # the target's hit ratio at the same checkpoints
    bytes_per_node_per_period: float
    messages_per_node_per_period: float
    max_datagram_bytes: int
    target_hit_ratio: float
    target: int | None
    drops: dict[str, int]
    honest_nodes: int
    attacker_nodes: int
    periods_elapsed: float
    mean_ticks: float
    period_seconds: float
    loop_lag_seconds: float
    wall_seconds: float
    peak_memory_mb: float
    neighbour_attacker_share: float

    def summary(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {k: round(v, 6) if isinstance(v, float) else v for k, v in self.metrics.items()}
        out.update(bytes_per_node_per_period=round(self.bytes_per_node_per_period, 1),
                   messages_per_node_per_period=round(self.messages_per_node_per_period, 3),
                   max_datagram_bytes=self.max_datagram_bytes, target_hit_ratio=round(self.target_hit_ratio, 6),
                   honest_nodes=self.honest_nodes, attacker_nodes=self.attacker_nodes,
                   periods_elapsed=round(self.periods_elapsed, 2), mean_ticks=round(self.mean_ticks, 2),
                   period_seconds=round(self.period_seconds, 3), loop_lag_seconds=round(self.loop_lag_seconds, 3),
                   wall_seconds=round(self.wall_seconds, 2), neighbour_attacker_share=round(self.neighbour_attacker_share, 6),
                   **{f"dropped_{k}": v for k, v in sorted(self.drops.items())})
        return out


def default_target(train: sp.csr_matrix, item_ids: np.ndarray, listeners: int = 20) -> int:
    """The attackers' target: the lowest-id artist with the training listener count closest to ``listeners``.

    A mid-tail artist: known enough that the honest system recommends it to a few users (so
    "within 2× the no-attack hit ratio" is a measurable bar), rare enough to be worth pushing.
    """
    counts = np.diff(sp.csc_matrix(train).indptr)
    distance = np.abs(counts - listeners)
    return int(item_ids[int(np.argmin(distance))])


def popular_profile(train: sp.csr_matrix, item_ids: np.ndarray, count: int = 100) -> Profile:
    """The ``count`` most-listened artists with their median listener's code: the attackers' filler."""
    csc = sp.csc_matrix(train)
    listeners = np.diff(csc.indptr)
    top = np.argsort(-listeners, kind="stable")[:count]
    codes = np.array([int(np.median(quantize(csc.data[csc.indptr[i]:csc.indptr[i + 1]]))) for i in top], dtype=np.uint8)
    order = np.argsort(item_ids[top])
    return Profile(item_ids[top][order].astype(np.int64), codes[order])


def raise_file_limit(needed: int) -> None:
    """Lift the soft open-file limit towards ``needed`` sockets (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, needed + 64)) if hard != resource.RLIM_INFINITY else max(soft, needed + 64)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def evaluate_nodes(nodes: dict[int, NodeState], data: SimulationData, k: int = 10,
                   target: int | None = None) -> tuple[dict[str, float], float]:
    """Each node's own top-``k`` scored on the held-out part; (metrics, target hit ratio)."""
    has_test = np.diff(data.test.indptr) > 0
    has_train = np.diff(data.train.indptr) > 0
    users = np.array(sorted(u for u in nodes if has_test[u] and has_train[u]), dtype=np.int64)
    top = np.full((len(users), k), -1, dtype=np.int64)
    hits = 0
    for row, user in enumerate(users):
        ids = nodes[int(user)].top_items(k)
        if target is not None and target in ids:
            hits += 1
        positions = np.searchsorted(data.item_ids, ids)
        top[row, : len(ids)] = positions
    metrics = evaluate_top_n(top, users, data.test, data.train, k)
    return metrics, hits / len(users) if len(users) else 0.0


async def run_simulation(data: SimulationData, config: SimulationConfig, progress: Progress = _quiet
                         ) -> SimulationResult:
    """Run the network for ``config.periods`` periods of ``config.period_seconds`` and evaluate it."""
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    n_users = data.train.shape[0]
    if config.nodes is None or config.nodes >= n_users:
        users = np.arange(n_users)
    else:
        users = np.sort(rng.choice(n_users, size=config.nodes, replace=False))
    n_attackers = int(round(config.attackers / (1.0 - config.attackers) * len(users))) if config.attackers else 0
    raise_file_limit(len(users) + n_attackers)
    limit = config.protocol.summary_bytes
    endpoints: list[Endpoint] = []
    addresses = []
    for k in range(len(users) + n_attackers):
        endpoint, address = await open_endpoint(limit, loss=config.loss, seed=config.seed * 100003 + k)
        endpoints.append(endpoint)
        addresses.append(address)
    honest_endpoints = endpoints[: len(users)]
    attacker_endpoints = endpoints[len(users):]
    address_of = {int(u): addresses[k] for k, u in enumerate(users)}
    nodes: dict[int, NodeState] = {}
    for k, user in enumerate(users):
        friends = data.friends.indices[data.friends.indptr[user]:data.friends.indptr[user + 1]]
        view = [address_of[int(f)] for f in rng.permutation(friends) if int(f) in address_of]
        ties = frozenset(view)  # only real friends: a friendless node's random bootstrap peers are no ties
        if not view:
            view = [addresses[int(j)] for j in rng.choice(len(users), size=FRIENDLESS_BOOTSTRAP + 1, replace=False)
                    if int(j) != k][:FRIENDLESS_BOOTSTRAP]
        node = NodeState(addresses[k], data.profile(int(user)), config.protocol, seed=config.seed * 7919 + k,
                         bootstrap=view, friends=ties)
        nodes[int(user)] = node
        endpoints[k].node = node
    target = config.target
    attackers: list[Attacker] = []
    if n_attackers and target is None:
        target = default_target(data.train, data.item_ids)
    if n_attackers:
        popular = popular_profile(data.train, data.item_ids)
        sybils = addresses[len(users):]
        for k, endpoint in enumerate(attacker_endpoints):
            known = [addresses[int(j)] for j in rng.choice(len(users), size=config.protocol.view_size, replace=False)]
            attacker = Attacker(sybils[k], config.attack, target, popular, config.protocol,
                                seed=config.seed * 104729 + k, bootstrap=known)
            attacker.sybils = sybils
            attackers.append(attacker)
            endpoint.node = attacker
        crafted = {a.address: a.crafted_raw for a in attackers}
        for attacker in attackers:
            attacker.sybil_summaries = crafted

    if config.churn:
        sleep_probability = WAKE_PROBABILITY * config.churn / (1.0 - config.churn)
        for endpoint in honest_endpoints:
            endpoint.online = bool(rng.random() >= config.churn)
    period_seconds = config.period_seconds or max(MIN_PERIOD_SECONDS, SECONDS_PER_NODE * len(endpoints))
    clock = Clock(period_seconds, config.skew, config.seed)
    clock.start(endpoints)
    convergence: dict[int, float] = {}
    convergence_hits: dict[int, float] = {}
    loop_started = time.perf_counter()
    evaluating = 0.0
    lag_total = 0.0
    for period in range(1, config.periods + 1):
        asked = clock.period
        slept = time.perf_counter()
        await asyncio.sleep(asked)
        lag = time.perf_counter() - slept - asked
        lag_total += max(lag, 0.0)
        if config.period_seconds is None and lag > max(PACING_LAG * asked, PACING_MIN_LAG):
            # The loop could not keep up (a busy machine): stretch every node's period, so replies do
            # not queue for whole periods and time out (that would measure the CPU, not the protocol).
            clock.period = asked * PACING_STRETCH
        elif config.period_seconds is None and lag < PACING_SLACK * asked and asked > period_seconds:
            clock.period = max(period_seconds, asked / PACING_STRETCH)  # the load went away: speed up again
        if config.churn:
            draws = rng.random(len(honest_endpoints))
            for endpoint, draw in zip(honest_endpoints, draws):
                endpoint.online = bool(draw >= WAKE_PROBABILITY) if not endpoint.online else bool(draw >= sleep_probability)
        if period in config.checkpoints and period != config.periods:
            paused = time.perf_counter()
            metrics, hits = evaluate_nodes(nodes, data, target=target)
            convergence[period] = metrics["ndcg_at_10"]
            convergence_hits[period] = hits
            evaluating += time.perf_counter() - paused
        progress(period, config.periods)
    clock.stop()
    elapsed = time.perf_counter() - loop_started - evaluating
    await asyncio.sleep(0)
    metrics, hit_ratio = evaluate_nodes(nodes, data, target=target)
    convergence[config.periods] = metrics["ndcg_at_10"]
    convergence_hits[config.periods] = hit_ratio
    sybil_set = set(addresses[len(users):])
    attacker_share = 0.0
    if sybil_set:
        total = in_neighbourhood = 0
        for node in nodes.values():
            for address, _ in node.neighbours():
                total += 1
                in_neighbourhood += address in sybil_set
        attacker_share = in_neighbourhood / total if total else 0.0
    drops: dict[str, int] = {}
    for endpoint in honest_endpoints:
        for reason, count in endpoint.ledger.dropped.items():
            drops[reason] = drops.get(reason, 0) + count
    for node in nodes.values():
        for reason in ("requests_refused", "unsolicited_replies", "malformed_summaries"):
            drops[reason] = drops.get(reason, 0) + getattr(node.stats, reason)
    periods_elapsed = float(config.periods)
    sent_bytes = sum(e.ledger.bytes_sent for e in honest_endpoints)
    sent_messages = sum(e.ledger.messages_sent for e in honest_endpoints)
    largest = max(e.ledger.largest_sent for e in honest_endpoints)
    for endpoint in endpoints:
        if endpoint.transport is not None:
            endpoint.transport.close()
    await asyncio.sleep(0)
    return SimulationResult(
        metrics=metrics, convergence=convergence, convergence_hits=convergence_hits,
        bytes_per_node_per_period=sent_bytes / (len(users) * config.periods),
        messages_per_node_per_period=sent_messages / (len(users) * config.periods),
        max_datagram_bytes=largest, target_hit_ratio=hit_ratio, target=target, drops=drops,
        honest_nodes=len(users), attacker_nodes=n_attackers, periods_elapsed=periods_elapsed,
        mean_ticks=float(np.mean([e.ticks for e in honest_endpoints])),
        period_seconds=clock.period, loop_lag_seconds=lag_total / config.periods,
        wall_seconds=time.perf_counter() - started,
        peak_memory_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        neighbour_attacker_share=attacker_share)


def simulate(data: SimulationData, config: SimulationConfig, progress: Progress = _quiet) -> SimulationResult:
    """:func:`run_simulation` on a fresh event loop, with the cyclic garbage collector paused.

    Thousands of nodes hold millions of small arrays; a full collection walks them all and
    stalled the loop for seconds (measured: the pacer stretched T from 1.5 s to 27 s). The
    protocol's data has no reference cycles, so nothing accumulates while it is paused; one
    collection runs at the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return asyncio.run(run_simulation(data, config, progress))
    finally:
        if enabled:
            gc.enable()
        gc.collect()
