"""A real network: dozens of nodes, each its own UDP socket on 127.0.0.1, on one event loop."""

import asyncio
import socket

import cbor2
import numpy as np
import pytest

from qfzz_chain.p2p.errors import PortInUseError
from qfzz_chain.p2p.protocol import NodeState, ProtocolConfig
from qfzz_chain.p2p.transport import Clock, open_endpoint
from tests.p2p.harness import CLUSTERS, clustered_profiles

NODES = 40
PERIOD = 0.04


async def _network(config: ProtocolConfig, periods: int, loss: float = 0.0, junk: bool = False):
    profiles = clustered_profiles(NODES, seed=11)
    opened = [await open_endpoint(config.summary_bytes, loss=loss, seed=k) for k in range(NODES)]
    endpoints = [e for e, _ in opened]
    addresses = [a for _, a in opened]
    nodes = []
    for k, endpoint in enumerate(endpoints):
        node = NodeState(addresses[k], profiles[k], config, seed=k,
                         bootstrap=[addresses[(k + 1) % NODES], addresses[(k + 5) % NODES]])
        endpoint.node = node
        nodes.append(node)
    clock = Clock(PERIOD, 0.1, seed=1)
    clock.start(endpoints)
    if junk:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            for payload in (b"\x00" * (config.summary_bytes + 1), b"\xff\x00junk", cbor2.dumps([9, 1, 1]),
                            cbor2.dumps([2, 1, 1, b"\x02", b"\x01", []])):
                raw.sendto(payload, addresses[0])
    # Until every node has ticked ``periods`` times: on a busy machine periods stretch, they are not skipped.
    deadline = asyncio.get_running_loop().time() + 30.0
    while min(e.ticks for e in endpoints) < periods and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(PERIOD)
    clock.stop()
    for endpoint in endpoints:
        endpoint.transport.close()
    await asyncio.sleep(0)
    return nodes, endpoints, addresses


def _purity(nodes, addresses) -> float:
    index = {a: k for k, a in enumerate(addresses)}
    same = [index[a] % CLUSTERS == k % CLUSTERS for k, n in enumerate(nodes) for a, _ in n.neighbours()]
    return float(np.mean(same)) if same else 0.0


@pytest.mark.parametrize("use_defence", [False, True])
def test_forty_nodes_on_loopback_find_their_cluster_and_recommend(use_defence):
    config = ProtocolConfig(summary_bytes=512, neighbours=8, defence=use_defence)
    nodes, endpoints, addresses = asyncio.run(_network(config, periods=30, junk=True))
    assert _purity(nodes, addresses) > 0.9
    assert all(len(n.neighbours()) >= 4 for n in nodes)
    assert all(n.recommend(5) for n in nodes)
    ticks = [e.ticks for e in endpoints]
    assert min(ticks) >= 30  # every node gossiped on its own clock (skewed, not in lockstep)
    assert len(set(ticks)) > 1
    assert max(e.ledger.largest_sent for e in endpoints) <= 512
    # The junk sent to node 0 was dropped and counted, and node 0 kept working.
    assert endpoints[0].ledger.dropped.get("oversized") == 1
    assert endpoints[0].ledger.dropped.get("malformed") == 3
    assert nodes[0].recommend(5)


def test_lost_datagrams_are_counted_and_the_network_still_converges():
    config = ProtocolConfig(summary_bytes=512, neighbours=8, defence=False)
    nodes, endpoints, addresses = asyncio.run(_network(config, periods=40, loss=0.3))
    lost = sum(e.ledger.dropped.get("lost", 0) for e in endpoints)
    received = sum(e.ledger.messages_received for e in endpoints)
    assert 0.2 < lost / (lost + received) < 0.4
    # Chance is 0.25 (four clusters); with 30 % loss the neighbourhoods are still mostly right.
    assert _purity(nodes, addresses) > 0.7


def test_a_taken_port_is_a_port_in_use_error():
    async def clash():
        endpoint, address = await open_endpoint(512)
        try:
            await open_endpoint(512, port=address[1])
        finally:
            endpoint.transport.close()

    with pytest.raises(PortInUseError, match="already in use"):
        asyncio.run(clash())
