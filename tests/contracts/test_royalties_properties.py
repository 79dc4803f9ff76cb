"""Property test: random splits (and new versions of them), payments in ETH and a token by any
ratio, cascade pushes, listening epochs and withdrawals keep Royalties equal to a plain Python
model built on the pure core, and no wei is ever lost or created:

    everything withdrawable + everything withdrawn == everything paid,

with the contract's balance of each token equal to what is still owed plus what epochs hold."""

import brownie
import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from qfzz_chain.chain.types import Parent, Relation
from qfzz_chain.royalties import cascade, epochs
from qfzz_chain.royalties.splits import UPSTREAM, Right, Split
from tests.contracts.helpers import COVER, REMIX, SAMPLE, register
from tests.contracts.royalties_helpers import BPS, ETH, pass_finality

picks = st.integers(min_value=0, max_value=255)
amounts = st.integers(min_value=1, max_value=10**6)


class RoyaltiesModel:
    """The contract's state in plain Python, and each operation applied to both."""

    def __init__(self, royalties, token, people, tracks, payer):
        self.royalties, self.token, self.people, self.tracks, self.payer = royalties, token, people, tracks, payer
        self.parents = {t: tuple(Parent(p, Relation(r)) for p, r in ps) for t, ps in self.tracks}
        self.current = {}  # (track, right) -> current version
        self.splits = {}  # (track, right, version) -> Split
        self.received = {}  # (track, right, version, token) -> total
        self.withdrawn = {}  # (track, right, version, holder, token) -> paid out (holder UPSTREAM: pushed)
        self.paid_in = {ETH: 0, self.token.address: 0}
        self.paid_out = {ETH: 0, self.token.address: 0}
        self.epochs = []  # [tree, token, remaining, claimed positions]

    # ---- helpers ---------------------------------------------------------------------------

    def _token(self, pick):
        return ETH if pick % 2 == 0 else self.token.address

    def _owed(self, track, right, version, holder, token):
        split = self.splits.get((track, right, version))
        runs = split.runs() if split else {}
        if holder not in runs:
            return 0
        total = self.received.get((track, right, version, token), 0)
        return runs[holder].entitled(total) - self.withdrawn.get((track, right, version, holder, token), 0)

    def _credit(self, track, right, token, amount):
        version = self.current.get((track, right), 0)
        key = (track, right, version, token)
        self.received[key] = self.received.get(key, 0) + amount

    def _splits_ready(self, track, composition, master):
        return all(not amount or (track, right) in self.current
                   for right, amount in ((Right.COMPOSITION, composition), (Right.MASTER, master)))  # fmt: skip

    # ---- operations --------------------------------------------------------------------------

    def set_split(self, track, right, chosen, cuts, upstream):
        """A new version of a split (or the first), by its controller: the artist."""
        track_id, _ = self.tracks[track % len(self.tracks)]
        ups = self.parents[track_id]
        upstream = upstream if cascade.eligible_parents(ups, right) else 0
        people = sorted({self.people[c % len(self.people)].address for c in chosen})
        # random basis points for the people, summing with the upstream share to 10,000
        marks = sorted(set(c % (BPS - upstream) for c in cuts[: len(people) - 1]) - {0})
        bounds = [0, *marks, BPS - upstream]
        bps = [b - a for a, b in zip(bounds, bounds[1:])]
        people = people[: len(bps)]
        split = Split(tuple(people), tuple(bps), upstream)
        artist = self.people[0]
        self.royalties.setSplit(track_id, int(right), list(people), bps, upstream, {"from": artist})
        version = self.current[(track_id, right)] + 1 if (track_id, right) in self.current else 0
        self.current[(track_id, right)] = version
        self.splits[(track_id, right, version)] = split

    def round_of_payment(self, track, ratio, amount, token, then_push, then_withdraw):
        """A payment, then perhaps the cascade pushed and someone withdrawing (rounds keep runs rich)."""
        self.pay(track, ratio, amount, token)
        if then_push:
            self.push_everything(token)
        if then_withdraw is not None:
            self.withdraw(then_withdraw, token)

    def pay(self, track, ratio, amount, token):
        track_id, _ = self.tracks[track % len(self.tracks)]
        token = self._token(token)
        composition = amount * ratio // BPS
        master = amount - composition
        if not self._splits_ready(track_id, composition, master):
            with pytest.raises(brownie.exceptions.VirtualMachineError, match="SplitNotSet"):
                self._send_payment(track_id, ratio, amount, token)
            return
        self._send_payment(track_id, ratio, amount, token)
        self.paid_in[token] += amount
        self._credit(track_id, Right.COMPOSITION, token, composition)
        self._credit(track_id, Right.MASTER, token, master)

    def _send_payment(self, track_id, ratio, amount, token):
        if token == ETH:
            return self.royalties.pay(track_id, ratio, {"from": self.payer, "value": amount})
        return self.royalties.payToken(track_id, ratio, token, amount, {"from": self.payer})

    def push_everything(self, token):
        """The core's simulation chooses the pushes; the contract must agree on every amount."""
        token = self._token(token)
        versions = [cascade.VersionState(t, r, v, s, self.received.get((t, r, v, token), 0),
                                         self.withdrawn.get((t, r, v, UPSTREAM, token), 0))
                    for (t, r, v), s in self.splits.items()]  # fmt: skip
        after, steps = cascade.simulate(versions, self.parents, self.current)
        if not steps:
            return
        nodes = [(s.track_id, int(s.right), s.version, [p.as_tuple() for p in s.parents]) for s in steps]
        tx = self.royalties.push(token, nodes, {"from": self.payer})
        assert [(bytes(e["parentId"]), e["amount"]) for e in tx.events["Pushed"]] == [
            c for s in steps for c in s.credits]
        for (t, r, v), state in after.items():
            self.received[(t, r, v, token)] = state.received
            if state.split is not None and state.split.upstream_bps:
                self.withdrawn[(t, r, v, UPSTREAM, token)] = state.pushed

    def withdraw(self, person, token):
        holder = self.people[person % len(self.people)].address
        token = self._token(token)
        refs = [(t, r, v) for (t, r, v), s in self.splits.items() if holder in s.recipients]
        due = sum(self._owed(t, r, v, holder, token) for t, r, v in refs)
        if not refs or not due:
            if refs:
                with pytest.raises(brownie.exceptions.VirtualMachineError, match="NothingToWithdraw"):
                    self.royalties.withdraw([(t, int(r), v) for t, r, v in refs], [token], {"from": holder})
            return
        tx = self.royalties.withdraw([(t, int(r), v) for t, r, v in refs], [token], {"from": holder})
        assert tx.events["Withdrawn"]["amount"] == due
        for t, r, v in refs:
            key = (t, r, v, holder, token)
            self.withdrawn[key] = self.withdrawn.get(key, 0) + self._owed(t, r, v, holder, token)
        self.paid_out[token] += due

    def epoch(self, plays, pool, token, ratio, claims):
        """An epoch posted, and some of its leaves (or earlier epochs') claimed right away."""
        self.post_epoch(plays, pool, token, ratio)
        for pick in claims:
            self.claim(pick // 16, pick)

    def post_epoch(self, plays, pool, token, ratio):
        token = self._token(token)
        if not any(plays):
            return
        amounts_by_track = epochs.pro_rata({t: p for (t, _), p in zip(self.tracks, plays)}, pool)
        tree = epochs.epoch_tree(amounts_by_track, ratio)
        value = pool if token == ETH else 0
        self.royalties.postEpoch(token, pool, tree.root, len(tree), {"from": self.payer, "value": value})
        self.paid_in[token] += pool
        self.epochs.append([tree, token, pool, set()])

    def claim(self, epoch, leaf):
        if not self.epochs:
            return
        epoch_id = epoch % len(self.epochs)
        tree, token, remaining, claimed = self.epochs[epoch_id]
        position = leaf % len(tree)
        index, track_id, composition, master = tree.values[position]
        call = (epoch_id, index, track_id, composition, master, tree.proof(position), {"from": self.payer})
        if position in claimed:
            with pytest.raises(brownie.exceptions.VirtualMachineError, match="AlreadyClaimed"):
                self.royalties.claimEpoch(*call)
            return
        if not self._splits_ready(track_id, composition, master):
            with pytest.raises(brownie.exceptions.VirtualMachineError, match="SplitNotSet"):
                self.royalties.claimEpoch(*call)
            return
        self.royalties.claimEpoch(*call)
        claimed.add(position)
        self.epochs[epoch_id][2] = remaining - composition - master
        self._credit(track_id, Right.COMPOSITION, token, composition)
        self._credit(track_id, Right.MASTER, token, master)

    # ---- what must always hold ---------------------------------------------------------------

    def no_wei_is_lost_or_created(self):
        for token in (ETH, self.token.address):
            owed = sum(self._owed(t, r, v, holder, tok)
                       for (t, r, v), split in self.splits.items() for holder in split.runs()
                       for tok in (token,))  # fmt: skip
            # money credited to a version whose split is not set yet waits for it, owed to nobody yet
            waiting = sum(total for (t, r, v, tok), total in self.received.items()
                          if tok == token and (t, r, v) not in self.splits)  # fmt: skip
            held = sum(e[2] for e in self.epochs if e[1] == token)
            assert owed + waiting + held + self.paid_out[token] == self.paid_in[token]
            balance = self.royalties.balance() if token == ETH else self.token.balanceOf(self.royalties)
            assert balance == self.paid_in[token] - self.paid_out[token]

    def check_every_share(self):
        """Every holder's due, upstream shares included, as the contract answers it."""
        for (t, r, v), split in self.splits.items():
            for token in (ETH, self.token.address):
                for holder in split.runs():
                    assert self.royalties.owed(t, int(r), v, holder, token) == self._owed(t, r, v, holder, token)


split_args = (picks, st.sampled_from(list(Right)), st.sets(picks, min_size=1, max_size=3),
              st.lists(st.integers(1, 9_999), min_size=3, max_size=3), st.integers(1, 9_000))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("round_of_payment"), picks, st.sampled_from([0, 1, 3333, 5000, 9999, BPS]), amounts, picks,
                  st.sampled_from([True, True, False]), st.one_of(st.none(), picks)),
        st.tuples(st.just("set_split"), *split_args),
        st.tuples(st.just("push_everything"), picks),
        st.tuples(st.just("withdraw"), picks, picks),
        st.tuples(st.just("epoch"), st.lists(st.integers(0, 50), min_size=4, max_size=4), amounts, picks,
                  st.sampled_from([0, 2000, BPS]), st.lists(picks, max_size=3)),
        st.tuples(st.just("claim"), picks, picks),
    ),
    min_size=6,
    max_size=12,
)  # fmt: skip
first_splits = st.lists(st.tuples(*split_args[2:]), min_size=8, max_size=8)


@pytest.fixture(scope="module")
def world(Royalties, TrackRegistry, TestStablecoin, accounts):
    """An original A, an original B, D remixing A and covering B, E sampling D: final, lineage recorded."""
    registry = TrackRegistry.deploy({"from": accounts[0]})
    royalties = Royalties.deploy(registry, {"from": accounts[0]})
    token = TestStablecoin.deploy({"from": accounts[0]})
    artist, payer = accounts[1], accounts[9]
    token.mint(payer, 10**30, {"from": payer})
    token.approve(royalties, 2**256 - 1, {"from": payer})
    a, _ = register(registry, artist)
    b, _ = register(registry, artist)
    d, _ = register(registry, artist, parents=[(a, REMIX), (b, COVER)])
    e, _ = register(registry, artist, parents=[(d, SAMPLE)])
    pass_finality()
    tracks = ((a, ()), (b, ()), (d, ((a, REMIX), (b, COVER))), (e, ((d, SAMPLE),)))
    for track, parents in tracks:
        royalties.recordLineage(track, list(parents), {"from": payer})
    return royalties, token, (artist, *accounts[2:5]), tracks, payer


def test_royalties_keep_every_wei(world):
    # Hypothesis 6.27 (Brownie's pin) keeps its first examples short; a list of operations with a
    # minimum length gives every example a real history (and data_too_large is its early cap, not ours)
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(first=first_splits, ops=operations)
    def run(first, ops):
        brownie.chain.snapshot()
        try:
            model = RoyaltiesModel(*world)
            for n, args in enumerate(first):  # every right of every track starts with a split
                model.set_split(n // 2, list(Right)[n % 2], *args)
            for name, *args in ops:
                getattr(model, name)(*args)
                model.no_wei_is_lost_or_created()
            model.check_every_share()
        finally:
            brownie.chain.revert()

    run()
