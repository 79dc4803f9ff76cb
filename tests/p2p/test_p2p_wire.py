"""The wire format: versioned CBOR, the size limit on both sides, and junk that never crashes a parser."""

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qfzz_chain.p2p.errors import MalformedMessageError, MessageTooLargeError
from qfzz_chain.p2p.wire import (
    GOSSIP_REPLY,
    GOSSIP_REQUEST,
    RECOMMEND_REPLY,
    RECOMMEND_REQUEST,
    Descriptor,
    Message,
    decode,
    encode,
    gossip_size,
)

addresses = st.tuples(st.just("127.0.0.1"), st.integers(1, 65535))
summaries = st.binary(min_size=1, max_size=120)
gossip = st.builds(
    Message,
    kind=st.sampled_from([GOSSIP_REQUEST, GOSSIP_REPLY]),
    nonce=st.integers(0, 2**32 - 1),
    summary=summaries,
    view=st.lists(st.builds(Descriptor, addresses, st.integers(0, 255)), max_size=8).map(tuple),
    hints=st.lists(st.tuples(addresses, summaries), max_size=30).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(gossip)
def test_gossip_messages_round_trip_and_their_size_is_known_before_encoding(message):
    data = encode(message, 65507)
    assert len(data) == gossip_size(message.nonce, len(message.summary), len(message.view),
                                    [len(s) for _, s in message.hints])
    assert decode(data, 65507) == message


@settings(max_examples=40, deadline=None)
@given(gossip, st.integers(20, 600))
def test_the_limit_is_enforced_on_send_and_on_receive(message, limit):
    size = len(encode(message, 65507))
    if size > limit:
        with pytest.raises(MessageTooLargeError):
            encode(message, limit)
        with pytest.raises(MessageTooLargeError):
            decode(encode(message, 65507), limit)
    else:
        assert decode(encode(message, limit), limit) == message


def test_query_messages_round_trip():
    request = Message(RECOMMEND_REQUEST, 7, count=10)
    assert decode(encode(request, 100), 100) == request
    reply = Message(RECOMMEND_REPLY, 7, body={"items": [{"artist": 89, "score": 1.5}]})
    assert decode(encode(reply, 1000), 1000).body == reply.body


@pytest.mark.parametrize("value, reason", [
    ([1, GOSSIP_REQUEST, 1, b"\x02", b"", []], "version"),  # the 8-bit-code format
    ([3, GOSSIP_REQUEST, 1, b"\x02", b"", []], "version"),
    ([2, 9, 1], "kind"),
    ({"v": 1}, "array"),
    ([2, GOSSIP_REQUEST, -1, b"\x02", b"", []], "32-bit"),
    ([2, GOSSIP_REQUEST, 1, "text", b"", []], "byte string"),
    ([2, GOSSIP_REQUEST, 1, b"\x02", b"\x01\x02", []], "descriptors"),
    ([2, GOSSIP_REQUEST, 1, b"\x02", b"", [[b"\x01", b"\x02"]]], "address"),
    ([2, GOSSIP_REQUEST, 1, b"\x02", b""], "6 fields"),
    ([2, RECOMMEND_REQUEST, 1, 1000], "1 … 100"),
    ([True, GOSSIP_REQUEST, 1, b"\x02", b"", []], "version"),
])
def test_malformed_messages_are_refused_with_the_reason(value, reason):
    with pytest.raises(MalformedMessageError, match=reason):
        decode(cbor2.dumps(value), 65507)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_only_protocol_errors(data):
    try:
        decode(data, 256)
    except (MalformedMessageError, MessageTooLargeError):
        pass


@settings(max_examples=60, deadline=None)
@given(gossip, st.data())
def test_truncated_or_corrupted_datagrams_never_escape_the_parser(message, data):
    blob = bytearray(encode(message, 65507))
    cut = data.draw(st.integers(0, len(blob)))
    flips = data.draw(st.lists(st.integers(0, len(blob) - 1), max_size=4))
    for position in flips:
        blob[position] ^= 0xFF
    try:
        decode(bytes(blob[:cut] if cut < len(blob) else blob), 65507)
    except (MalformedMessageError, MessageTooLargeError):
        pass
