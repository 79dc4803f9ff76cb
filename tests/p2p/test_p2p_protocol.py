"""The pure protocol core: size bound, similarity, discovery, defence logic (no sockets here)."""

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qfzz_chain.p2p import defence
from qfzz_chain.p2p.attack import Attacker
from qfzz_chain.p2p.errors import InvalidConfigError
from qfzz_chain.p2p.protocol import IDF_TABLE, NodeState, ProtocolConfig
from qfzz_chain.p2p.summary import Profile, encode_summary
from qfzz_chain.p2p.wire import GOSSIP_REPLY, GOSSIP_REQUEST, Message, encode
from tests.p2p.harness import CLUSTERS, addresses, clustered_profiles, drive, ring_network


def test_config_refuses_out_of_range_parameters():
    with pytest.raises(InvalidConfigError, match="summary bytes"):
        ProtocolConfig(summary_bytes=32)
    with pytest.raises(InvalidConfigError, match="peer table"):
        ProtocolConfig(neighbours=50, table_size=10)
    with pytest.raises(InvalidConfigError, match="withheld"):
        ProtocolConfig(withheld_share=0.7)


@settings(max_examples=8, deadline=None)
@given(st.sampled_from([64, 128, 256, 512, 1024]), st.booleans(), st.integers(0, 1000))
def test_every_datagram_a_node_sends_fits_in_m(summary_bytes, use_defence, seed):
    config = ProtocolConfig(summary_bytes=summary_bytes, defence=use_defence)
    nodes = ring_network(clustered_profiles(16, per_user=45, seed=seed), config)
    largest = drive(nodes, 6, limit=summary_bytes, seed=seed)  # encode() raises past the limit
    assert 0 < largest <= summary_bytes


def test_similarity_is_the_idf_weighted_shrunk_cosine():
    config = ProtocolConfig(defence=False)
    own = Profile.from_plays(np.array([1, 2, 3, 4]), np.array([10.0, 20.0, 5.0, 1.0]))
    other = Profile.from_plays(np.array([2, 3, 9]), np.array([7.0, 100.0, 3.0]))
    third = Profile.from_plays(np.array([3, 9, 11]), np.array([2.0, 2.0, 2.0]))
    node = NodeState(("127.0.0.1", 1), own, config, seed=0)
    for address, profile in ((("127.0.0.1", 2), other), (("127.0.0.1", 3), third)):
        node.inbox.append((address, encode_summary(profile, 1024), True, None))
    node.tick()
    # Three profiles seen (own included) plus the prior's 10: idf = log(14 / (n_i + 1)).
    counts = {1: 1, 2: 2, 3: 3, 4: 1, 9: 2, 11: 1}
    idf = {i: np.log(14.0 / (c + 1.0)) for i, c in counts.items()}
    u = {i: w * idf[i] for i, w in zip(own.items.tolist(), own.weights.tolist())}
    v = {i: w * idf[i] for i, w in zip(other.items.tolist(), other.weights.tolist())}
    dot = sum(u[i] * v[i] for i in u if i in v)
    expected = dot / (np.sqrt(sum(x * x for x in u.values())) * np.sqrt(sum(x * x for x in v.values())) + 10.0)
    assert node.peers[("127.0.0.1", 2)].similarity == pytest.approx(expected, rel=1e-5)
    assert node.idf_counts[3 % IDF_TABLE] == 3


def test_nodes_find_their_own_taste_cluster_from_a_ring():
    profiles = clustered_profiles(48, seed=3)
    nodes = ring_network(profiles, ProtocolConfig(neighbours=8, defence=False))
    drive(nodes, 25, limit=1024)
    index = {n.address: k for k, n in enumerate(nodes)}
    same = [index[a] % CLUSTERS == k % CLUSTERS for k, n in enumerate(nodes) for a, _ in n.neighbours()]
    assert len(same) >= 48 * 6
    assert np.mean(same) > 0.95
    # Recommendations come from the cluster's block of artists, and never repeat a known one.
    node = nodes[0]
    recs = node.recommend(5)
    assert recs and not set(r.item for r in recs) & set(node.profile.items.tolist())
    block = np.array_split(np.arange(1, 401), CLUSTERS)[0]
    assert np.mean([r.item in block for r in recs]) >= 0.8
    credit = recs[0].peers[0]
    assert index[credit.peer] % CLUSTERS == 0 and credit.shared_items and 0 < credit.share <= 1


def test_the_room_left_in_m_carries_first_hand_neighbours_as_hints():
    profiles = clustered_profiles(40, per_user=30, seed=5)
    hints = {}
    for m in (128, 512, 4096):
        nodes = ring_network(profiles, ProtocolConfig(summary_bytes=m, defence=False))
        drive(nodes, 10, limit=m)
        sent = [message for node in nodes for _, message in node.tick()]
        hints[m] = np.mean([len(message.hints) for message in sent])
        for node in nodes:
            first_hand = {a for a, r in node.peers.items() if r.first_hand}
            assert set(node._hint_pool.addresses) <= first_hand
    assert hints[128] == 0 < hints[512] < hints[4096]


def test_hypergeometric_probe_matches_a_direct_count():
    # 40 artists, 6 withheld; a peer shares 10, none withheld.
    assert defence.probe_p_value(40, 6, 10, 0) == pytest.approx(comb(34, 10) / comb(40, 10))
    # A copy of the 34 sent artists: the only way to hit none of the withheld ones.
    assert defence.probe_p_value(40, 6, 34, 0) == pytest.approx(1 / comb(40, 6))
    assert defence.probe_p_value(40, 6, 10, 6) == pytest.approx(1.0)
    assert defence.probe_p_value(40, 0, 10, 0) == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(5, 60), st.data())
def test_probe_p_value_is_a_distribution_function(size, data):
    withheld = data.draw(st.integers(1, size - 1))
    overlap = data.draw(st.integers(1, size))
    values = [defence.probe_p_value(size, withheld, overlap, h) for h in range(0, withheld + 1)]
    assert all(0.0 <= v <= 1.0 + 1e-12 for v in values)
    assert all(a <= b + 1e-12 for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(1.0)


def test_claims_agree_tolerates_truncation_not_forgery():
    observed = np.arange(1, 41)
    assert defence.claims_agree(observed[:36], observed)
    forged = np.append(observed[:30], [500, 501, 502, 503, 504, 505])
    assert not defence.claims_agree(forged, observed)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.05, 13.0), min_size=1, max_size=60))
def test_bounded_weights_have_unit_norm(values):
    weights = defence.bounded_weights(np.array(values, dtype=np.float32))
    assert float(np.linalg.norm(weights)) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("use_defence", [True, False])
def test_a_mirroring_hub_attacker_is_caught_only_by_the_withheld_probe(use_defence):
    profile = clustered_profiles(1, n_items=400, per_user=40, seed=9)[0]
    config = ProtocolConfig(defence=use_defence)
    node = NodeState(("127.0.0.1", 1), profile, config, seed=1, bootstrap=[("127.0.0.1", 2)])
    popular = Profile.from_plays(np.arange(1, 101), np.full(100, 50.0))
    attacker = Attacker(("127.0.0.1", 2), "hub", target=999, popular=popular, config=config, seed=2,
                        bootstrap=[node.address])
    attacker.sybils = [attacker.address]
    # The node's first exchange goes to the attacker, which answers with a copy of it plus the target.
    [(destination, request)] = node.tick()
    assert destination == attacker.address
    [(_, reply)] = attacker.receive(node.address, request)
    node.receive(attacker.address, reply)
    node.tick()
    record = node.peers[attacker.address]
    assert 999 in record.items.tolist()
    assert record.similarity > 0.5  # it looks like the best neighbour anyone could have
    if use_defence:
        assert attacker.address in node.suspects
        assert all(a != attacker.address for a, _ in node.neighbours())
        assert 999 not in node.top_items(10).tolist()
    else:
        assert node.neighbours()[0][0] == attacker.address
        assert 999 in node.top_items(10).tolist()


def test_a_forged_second_hand_summary_costs_the_forwarder_its_trust():
    profiles = clustered_profiles(3, seed=4)
    config = ProtocolConfig(defence=True)
    a, b, c = addresses(3)
    node = NodeState(a, profiles[0], config, seed=0)
    honest_c = encode_summary(profiles[0].without(profiles[0].items[:2]), 1024)
    forged_c = encode_summary(Profile.from_plays(np.array([7, 8, 999]), np.array([5.0, 5.0, 500.0])), 1024)
    for round_ in range(2):
        node.inbox.append((c, honest_c, True, None))
        node.tick()
        node.receive(b, Message(GOSSIP_REQUEST, 10 + round_, encode_summary(profiles[1], 1024), (),
                                ((c, forged_c),)))
        node.tick()
        node.peers.pop(c, None)
    assert node.strikes[b] >= defence.STRIKES_TO_DISTRUST
    # b is now distrusted: its summary is not scored, its hints are ignored.
    node.receive(b, Message(GOSSIP_REQUEST, 99, encode_summary(profiles[1], 1024), (), ((c, forged_c),)))
    assert all(entry[0] != c for entry in node.inbox)


def test_requests_beyond_the_rate_limit_and_unsolicited_replies_are_ignored():
    profiles = clustered_profiles(12, seed=2)
    config = ProtocolConfig(max_replies_per_period=3)
    node = NodeState(("127.0.0.1", 1), profiles[0], config, seed=0)
    summary = encode_summary(profiles[1], 1024)
    answered = sum(len(node.receive(("127.0.0.1", 100 + k), Message(GOSSIP_REQUEST, k, summary))) for k in range(8))
    assert answered == 3 and node.stats.requests_refused == 5
    assert node.receive(("127.0.0.1", 200), Message(GOSSIP_REPLY, 12345, summary)) == []
    assert node.stats.unsolicited_replies == 1
    assert len(node.inbox) == 3


def test_malformed_summary_in_a_hint_is_counted_and_struck():
    profiles = clustered_profiles(2, seed=1)
    node = NodeState(("127.0.0.1", 1), profiles[0], ProtocolConfig(), seed=0)
    node.receive(("127.0.0.1", 2), Message(GOSSIP_REQUEST, 1, encode_summary(profiles[1], 1024), (),
                                           ((("127.0.0.1", 3), b"\x07junk"),)))
    node.tick()
    assert node.stats.malformed_summaries == 1 and node.strikes[("127.0.0.1", 2)] == 1


def test_withheld_artists_never_leave_the_node():
    profile = clustered_profiles(1, per_user=40, seed=6)[0]
    node = NodeState(("127.0.0.1", 1), profile, ProtocolConfig(defence=True), seed=0, bootstrap=[("127.0.0.1", 2)])
    assert len(node.withheld) == 6
    for _, message in node.tick():
        from qfzz_chain.p2p.summary import decode_summary

        sent = decode_summary(message.summary).items
        assert not set(sent.tolist()) & set(node.withheld.tolist())
        assert len(encode(message, 1024)) <= 1024


def _node_with_peers(config: ProtocolConfig, own: Profile, peers: dict[int, Profile],
                     friends: frozenset = frozenset()) -> NodeState:
    node = NodeState(("127.0.0.1", 1), own, config, seed=0, friends=friends)
    for port, profile in peers.items():
        node.inbox.append((("127.0.0.1", port), encode_summary(profile, 1024), True, None))
    node.tick()
    return node


def test_a_friend_outranks_an_equally_similar_stranger_by_the_bonus():
    own = Profile.from_plays(np.array([1, 2, 3, 4]), np.array([10.0, 20.0, 5.0, 1.0]))
    twin = Profile.from_plays(np.array([1, 2, 3, 50]), np.array([10.0, 20.0, 5.0, 9.0]))
    peers = {2: twin, 3: twin}
    friend = ("127.0.0.1", 3)
    plain = _node_with_peers(ProtocolConfig(defence=False, friend_bonus=0.0), own, peers, frozenset([friend]))
    tied = dict(plain.neighbours())
    assert tied[("127.0.0.1", 2)] == pytest.approx(tied[friend])
    node = _node_with_peers(ProtocolConfig(defence=False, friend_bonus=0.1), own, peers, frozenset([friend]))
    ranked = node.neighbours()
    assert ranked[0][0] == friend
    assert ranked[0][1] == pytest.approx(node.peers[friend].similarity + 0.1)
    assert ranked[1][1] == pytest.approx(node.peers[("127.0.0.1", 2)].similarity)
    # the bonus ranks and weighs neighbours; the similarity itself (hints, exploration) is untouched
    assert node.peers[friend].similarity == pytest.approx(plain.peers[friend].similarity)


def test_a_friend_with_nothing_in_common_gains_nothing():
    own = Profile.from_plays(np.array([1, 2, 3]), np.array([10.0, 20.0, 5.0]))
    stranger = Profile.from_plays(np.array([70, 80]), np.array([10.0, 20.0]))
    friend = ("127.0.0.1", 2)
    node = _node_with_peers(ProtocolConfig(defence=False, friend_bonus=0.1), own, {2: stranger}, frozenset([friend]))
    assert node.neighbours() == []


def test_item_part_is_the_asymmetric_cosine_over_the_held_summaries():
    config = ProtocolConfig(defence=False, friend_bonus=0.0, item_alpha=0.5)
    own = Profile.from_plays(np.array([1, 2]), np.array([10.0, 20.0]))
    a = Profile.from_plays(np.array([1, 7]), np.array([5.0, 5.0]))
    b = Profile.from_plays(np.array([1, 2, 8]), np.array([3.0, 3.0, 30.0]))
    c = Profile.from_plays(np.array([2, 7, 8]), np.array([4.0, 8.0, 2.0]))
    node = _node_with_peers(config, own, {2: a, 3: b, 4: c})
    got = node._item_scores(np.array([7, 8, 99]))
    # Direct: x_v = unit-length weights, c_i = column norm, score(j) = Σ_v Σ_i u_i idf_i x_vi x_vj / (c_i^½ c_j^½)
    rows = []
    for profile in (a, b, c):
        w = profile.weights.astype(np.float64)
        rows.append(dict(zip(profile.items.tolist(), (w / np.sqrt(w @ w)).tolist())))
    norm = {i: np.sqrt(sum(r.get(i, 0.0) ** 2 for r in rows)) for i in (1, 2, 7, 8)}
    u = dict(zip(own.items.tolist(), (own.weights * node.idf(own.items)).astype(np.float64).tolist()))
    expected = [sum(u[i] * r.get(i, 0.0) * r.get(j, 0.0) / np.sqrt(norm[i] * norm[j]) for r in rows for i in u)
                for j in (7, 8)]
    assert got[:2] == pytest.approx(expected, rel=1e-5)
    assert got[2] == 0.0  # an artist nobody listed


def test_the_item_part_changes_the_ranking_and_can_be_switched_off():
    own = Profile.from_plays(np.array([1, 2, 3]), np.array([10.0, 10.0, 10.0]))
    # 41 is listed once, beside all three of the node's artists; 40 by four peers that share one
    # artist each. User-kNN sums four weak similarities (40 wins); the item part divides by the
    # candidate's column norm in the table (c_40 = 2 · c_41), so with it weighted enough 41 wins.
    peers = {2: Profile.from_plays(np.array([1, 2, 3, 41]), np.full(4, 10.0))}
    for j in range(4):
        peers[3 + j] = Profile.from_plays(np.array([1 + j % 3, 40, 100 + 2 * j, 101 + 2 * j]), np.full(4, 10.0))
    settings = dict(defence=False, popularity_damping=0.0, friend_bonus=0.0)
    without = _node_with_peers(ProtocolConfig(item_weight=0.0, **settings), own, peers)
    with_items = _node_with_peers(ProtocolConfig(item_weight=5.0, **settings), own, peers)
    assert without.top_items(2).tolist() == [40, 41]
    assert with_items.top_items(2).tolist() == [41, 40]
    assert [r.item for r in with_items.recommend(2)] == [41, 40]


def test_at_the_default_m_a_lastfm_sized_node_sends_three_hints_in_under_480_bytes():
    # 40 training artists, 34 sent (defence on): an 86-byte summary; three such hints beside it
    # and a full view sample fit in M = 480, where the 8-bit codes (103 B) needed M = 512.
    config = ProtocolConfig(neighbours=8, table_size=20)
    assert config.summary_bytes == 480
    profiles = clustered_profiles(30, per_user=40, seed=9)
    nodes = ring_network(profiles, config)
    drive(nodes, 12, limit=config.summary_bytes)
    node = nodes[0]
    assert len(node._own_summary) == 1 + 2 * 34 + 17
    sizes, hint_counts = [], []
    for partner in nodes[1:]:
        message = node._gossip(GOSSIP_REQUEST, 7, partner.address)
        data = encode(message, config.summary_bytes)
        sizes.append(len(data))
        hint_counts.append(len(message.hints))
        assert len(message.view) == config.descriptors_per_message
    assert max(hint_counts) == 3 and max(sizes) <= 480
