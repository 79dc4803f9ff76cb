"""Curation under attack, on anvil: gas per voter and the outcome with Sybils, colluders,
non-revealers and a collaborator ring (issue 12's adversarial simulation).

    python benchmarks/bench_curation.py            # 40 honest voters, 1,000 Sybil addresses
    python benchmarks/bench_curation.py --quick    # 20 honest voters, 100 Sybil addresses

Every run is one anvil with the suite deployed from Brownie's artifacts, driven by the package's
own clients (the CLI's code paths). Honest identities hold a view that agrees with weight share
``HONEST_AGREEMENT`` (0.95 by default); each scenario is a fresh proposal on a fresh artist:

- **base**: honest voters alone;
- **(a) Sybils**: plus 1,000 fresh addresses without identity trying to vote disagree (each
  refused, ``NoVotingWeight``: weight 0);
- **(b) colluders**: plus identities holding 1/3 of the weight voting disagree;
- **(c) non-revealers**: a quarter of the honest voters commit and never reveal; reported, each
  loses 0.05 reputation and 5% of its stake;
- **(d) collaborator ring**: the artist's split recipients, with identities, try to vote strongly
  agree (refused, ``SelfDealing``; their weight is out of the eligible weight).

The outcome is unchanged for (a), (b) and (d) when the honest agreement share ``h`` satisfies
``h·(1 − 1/3) > 0.6``, i.e. ``h > 0.9``: a third of the weight voting against can flip any
honest view below that; the benchmark reports the largest collusion share the chosen view
withstands (``1 − 0.6/h``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402

from _chain import deploy_artifact, deployed_suite  # noqa: E402
from _results import write_results  # noqa: E402
from qfzz_chain.chain.errors import TransactionReverted  # noqa: E402
from qfzz_chain.chain.signer import Sender  # noqa: E402
from qfzz_chain.chain.track_registry import TrackRegistry, make_commitment  # noqa: E402
from qfzz_chain.chain.types import CidParts  # noqa: E402
from qfzz_chain.curation.chain import EmergingArtistCuration, RoyaltySplits, SplitList, TrackTies  # noqa: E402
from qfzz_chain.curation.votes import Vote  # noqa: E402
from qfzz_chain.curation.votes import make_commitment as vote_commitment  # noqa: E402
from qfzz_chain.reputation.chain import ReputationLedger, Role, ScoreUpdate, create_address  # noqa: E402
from qfzz_chain.reputation.identity import Attestation, IdentityTree  # noqa: E402

EPOCH, PHASE, QUORUM_BPS, LISTING = 3600, 3600, 2000, 30 * 86400
SEGMENTS = ("genre:jazz", "region:west-africa", "culture:k-pop")
HONEST_AGREEMENT = 0.95
COLLUSION_SHARE = 1 / 3
ONE_ETHER = 10**18
CID = CidParts(1, 0x55, 0x12, keccak(b"qfzz bench content"))  # any nonzero sha2-256 digest


def _travel(w3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def _now(w3) -> int:
    return w3.eth.get_block("latest")["timestamp"]


class World:
    def __init__(self, w3, record):
        self.w3 = w3
        owner = w3.eth.accounts[0]
        self.owner = Sender(owner)
        nonce = w3.eth.get_transaction_count(owner)
        oracle = record.contract("RecommendationOracle").address
        ledger = deploy_artifact(w3, "ReputationLedger", owner, oracle, create_address(owner, nonce + 1), ONE_ETHER)
        registry = record.contract("TrackRegistry").address
        royalties = record.contract("Royalties").address
        curation = deploy_artifact(w3, "EmergingArtistCuration", ledger.address, registry, royalties, PHASE, PHASE,
                                   QUORUM_BPS, LISTING)  # fmt: skip
        self.ledger = ReputationLedger(w3, ledger.address, ledger.abi, ledger.block)
        self.curation = EmergingArtistCuration(w3, curation.address, curation.abi, curation.block)
        self.registry = TrackRegistry(w3, registry, record.contract("TrackRegistry").abi, record.contract("TrackRegistry").block)
        self.royalties_abi = record.contract("Royalties").abi
        self.royalties = w3.eth.contract(address=royalties, abi=self.royalties_abi)
        self.splits = RoyaltySplits(w3, royalties, record.contract("Royalties").block)
        self.ledger.set_attester(self.owner, owner)
        self.ledger.set_updater(self.owner, owner)
        for name in SEGMENTS:
            self.ledger.add_segment(self.owner, name)

    def fund(self, count: int, ether: float = 2.0) -> list[Sender]:
        people = []
        for _ in range(count):
            account = Account.create()
            self.w3.eth.send_transaction({"from": self.owner.address, "to": account.address, "value": int(ether * ONE_ETHER)})
            people.append(Sender(account.address, bytes(account.key)))
        return people


def _send(w3, sender: Sender, abi: list, function):
    from qfzz_chain.chain.transactions import transact

    return transact(w3, sender, abi, function)


def run(honest_count: int, sybil_count: int) -> dict:
    started = time.perf_counter()
    with deployed_suite("TrackRegistry", ("RecommendationOracle", (lambda a: a, EPOCH))) as (w3, record):
        record.contracts["Royalties"] = deploy_artifact(w3, "Royalties", record.contract("TrackRegistry").address)
        world = World(w3, record)
        return simulate(world, honest_count, sybil_count, started)


def simulate(world: World, honest_count: int, sybil_count: int, started: float) -> dict:
    w3, ledger, curation = world.w3, world.ledger, world.curation
    honest = world.fund(honest_count)
    colluders_needed = round(honest_count * COLLUSION_SHARE / (1 - COLLUSION_SHARE))
    colluders = world.fund(colluders_needed)
    artists = world.fund(5)
    ring = world.fund(3)  # the collaborators of the ring's artist
    proposer = honest[0]
    everyone = honest + colluders + ring
    tree = IdentityTree.build([Attestation(p.address, keccak(b"bench identity:" + p.address.encode())) for p in everyone])
    ledger.post_identity_root(world.owner, tree.root, len(tree), CID)
    bind_gas = []
    for person in everyone:
        bind_gas.append(ledger.bind(person, tree.identity_of(person.address), tree.proof(person.address)).gas_used)
        ledger.stake(person, Role.CURATOR, ledger.voter_of(person.address).identity, ONE_ETHER)
    # listener segments: spread every group over the three segments (the updater's assignment)
    updates = [ScoreUpdate(Role.CURATOR, ledger.voter_of(p.address).identity, 200_000, i % len(SEGMENTS))
               for group in (honest, colluders, ring) for i, p in enumerate(group)]  # fmt: skip
    ledger.post_scores(world.owner, ledger.current_epoch(), updates)
    honest_weights = [ledger.voter_of(p.address).weight for p in honest]  # before any penalty
    collusion_weight = sum(ledger.voter_of(p.address).weight for p in colluders)

    # the artists' tracks; the ring's artist pays its collaborators through its master split
    tracks = {}
    for n, artist in enumerate(artists):
        audio = keccak(b"bench track %d" % n)
        salt = os.urandom(32)
        world.registry.commit(artist, make_commitment(audio, artist.address, salt))
        w3.provider.make_request("evm_mine", [])
        world.registry.register(artist, audio, salt, CID, CID)
        tracks[artist.address] = audio
    _travel(w3, 86_400 + 1)  # registrations final
    ring_artist = artists[-1]
    ring_track = tracks[ring_artist.address]
    recipients = sorted([p.address for p in ring] + [ring_artist.address], key=lambda a: int(a, 16))
    _send(w3, ring_artist, world.royalties_abi,
          world.royalties.functions.setSplit(ring_track, 1, recipients, [2500, 2500, 2500, 2500], 0))

    honest_votes = _honest_votes(honest_count)
    scenarios = {}

    def scenario(name: str, artist: Sender, extra) -> dict:
        track = tracks[artist.address]
        versions = world.splits.versions(track)
        master = world.splits.split_lists(track, 1, versions[1]) if 1 in versions else SplitList()
        receipt = curation.propose(proposer, artist.address, [TrackTies(track, (), SplitList(), master)], 0b111)
        proposal_id = curation.proposal_count()
        commit_gas, reveal_gas, salts = [], [], {}
        skip_reveal = extra.get("skip_reveal", set())
        voters = [(p, v) for p, v in zip(honest, honest_votes)] + [(p, Vote.DISAGREE) for p in extra.get("colluders", [])]
        for person, vote in voters:
            salt = os.urandom(32)
            identity = ledger.voter_of(person.address).identity
            commit_gas.append(curation.commit(person, proposal_id,
                                              vote_commitment(curation.address, proposal_id, identity, vote, salt)).gas_used)
            salts[person.address] = (vote, salt)
        refused = {}
        for attacker in extra.get("sybils", []):
            try:
                curation.contract.functions.commit(proposal_id, os.urandom(32)).call({"from": attacker})
                refused.setdefault("accepted", 0)
                refused["accepted"] += 1
            except Exception as exc:  # the revert's selector names the error
                refused["NoVotingWeight"] = refused.get("NoVotingWeight", 0) + ("NoVotingWeight" in _error_name(curation, exc))
        for person in extra.get("ring", []):
            try:
                curation.commit(person, proposal_id, os.urandom(32))
                refused["ring_accepted"] = refused.get("ring_accepted", 0) + 1
            except TransactionReverted as exc:
                refused[exc.error] = refused.get(exc.error, 0) + 1
        _travel(w3, PHASE)
        for person, _ in voters:
            if person.address in skip_reveal:
                continue
            vote, salt = salts[person.address]
            reveal_gas.append(curation.reveal(person, proposal_id, vote, salt).gas_used)
        _travel(w3, PHASE)
        lost = {}
        if skip_reveal:
            before = {a: _curator_state(ledger, a) for a in skip_reveal}
            missing = curation.vote_history(proposal_id).unrevealed
            curation.report_non_reveals(world.owner, proposal_id, missing)
            after = {a: _curator_state(ledger, a) for a in skip_reveal}
            lost = {"score_lost_each": [before[a][0] - after[a][0] for a in skip_reveal][0],
                    "stake_lost_wei_each": [before[a][1] - after[a][1] for a in skip_reveal][0],
                    "reported": len(missing)}  # fmt: skip
        finalize = curation.finalize(world.owner, proposal_id)
        proposal = curation.proposal(proposal_id)
        buckets = curation.buckets(proposal)
        agreeing = sum(t.agreeing for t in buckets.values())
        revealed = sum(t.revealed for t in buckets.values())
        created = curation.created(proposal_id)
        return {"outcome": proposal.outcome.label, "agreement": round(agreeing / revealed, 4) if revealed else None,
                "turnout": round(revealed / proposal.eligible_weight, 4), "excluded_weight": created.excluded_weight,
                "passed_segments": len(proposal.passed_segments), "propose_gas": receipt.gas_used,
                "commit_gas": max(commit_gas), "commit_gas_mean": round(sum(commit_gas) / len(commit_gas)),
                "reveal_gas": max(reveal_gas), "reveal_gas_mean": round(sum(reveal_gas) / len(reveal_gas)),
                "finalize_gas": finalize.gas_used, "refused": refused, **lost}  # fmt: skip

    sybils = [Account.create().address for _ in range(sybil_count)]
    scenarios["base"] = scenario("base", artists[0], {})
    scenarios["sybils"] = scenario("sybils", artists[1], {"sybils": sybils})
    scenarios["colluders"] = scenario("colluders", artists[2], {"colluders": colluders})
    quarter = {p.address for p in honest[1: 1 + max(1, honest_count // 4)]}
    scenarios["non_revealers"] = scenario("non_revealers", artists[3], {"skip_reveal": quarter})
    scenarios["ring"] = scenario("ring", ring_artist, {"ring": ring})

    agree_weight = sum(w for w, v in zip(honest_weights, honest_votes) if v.agrees)
    honest_share = agree_weight / sum(honest_weights)
    figures = {
        "honest_voters": honest_count, "sybil_addresses": sybil_count, "colluding_identities": len(colluders),
        "collusion_weight_share": round(collusion_weight / (sum(honest_weights) + collusion_weight), 4),
        "honest_agreement": round(honest_share, 4), "max_collusion_share_unchanged": round(1 - 0.6 / honest_share, 4),
        "propose_gas": max(s["propose_gas"] for s in scenarios.values()),
        "commit_gas": max(s["commit_gas"] for s in scenarios.values()),
        "reveal_gas": max(s["reveal_gas"] for s in scenarios.values()),
        "finalize_gas": max(s["finalize_gas"] for s in scenarios.values()),
        "commit_gas_mean": scenarios["base"]["commit_gas_mean"], "reveal_gas_mean": scenarios["base"]["reveal_gas_mean"],
        "bind_gas": max(bind_gas),
        "base_outcome": scenarios["base"]["outcome"], "base_agreement": scenarios["base"]["agreement"],
        "sybil_outcome": scenarios["sybils"]["outcome"], "sybil_refused": scenarios["sybils"]["refused"].get("NoVotingWeight", 0),
        "sybil_accepted": scenarios["sybils"]["refused"].get("accepted", 0),
        "collusion_outcome": scenarios["colluders"]["outcome"], "collusion_agreement": scenarios["colluders"]["agreement"],
        "non_reveal_outcome": scenarios["non_revealers"]["outcome"],
        "non_revealers": scenarios["non_revealers"]["reported"],
        "non_reveal_score_lost": scenarios["non_revealers"]["score_lost_each"],
        "non_reveal_stake_lost_wei": scenarios["non_revealers"]["stake_lost_wei_each"],
        "ring_outcome": scenarios["ring"]["outcome"], "ring_refused": scenarios["ring"]["refused"].get("SelfDealing", 0),
        "ring_excluded_weight": scenarios["ring"]["excluded_weight"],
        "unchanged_a_b_d": all(scenarios[k]["outcome"] == scenarios["base"]["outcome"] for k in ("sybils", "colluders", "ring")),
        "wall_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return figures


def _honest_votes(count: int) -> list[Vote]:
    """``HONEST_AGREEMENT`` of the (equal) weights agree, the rest split neutral/disagree."""
    agreeing = round(count * HONEST_AGREEMENT)
    votes = [Vote.STRONGLY_AGREE if i % 2 else Vote.AGREE for i in range(agreeing)]
    return votes + [Vote.NEUTRAL if i % 2 else Vote.DISAGREE for i in range(count - agreeing)]


def _curator_state(ledger: ReputationLedger, address: str) -> tuple[int, int]:
    identity = ledger.voter_of(address).identity
    return ledger.reputation_of(Role.CURATOR, identity).score, ledger.stake_of(Role.CURATOR, identity).active


def _error_name(curation: EmergingArtistCuration, exc: Exception) -> str:
    from qfzz_chain.chain.transactions import decode_custom_error

    data = getattr(exc, "data", None)
    return decode_custom_error(curation.abi, data).error if isinstance(data, (str, bytes)) else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 honest voters and 100 Sybil addresses")
    args = parser.parse_args()
    figures = run(20 if args.quick else 40, 100 if args.quick else 1000)
    figures["mode"] = "quick" if args.quick else "full"
    path = write_results("curation", figures)
    for key in ("commit_gas", "reveal_gas", "propose_gas", "finalize_gas", "base_outcome", "sybil_outcome",
                "collusion_outcome", "collusion_agreement", "non_reveal_score_lost", "ring_outcome", "wall_s"):
        print(f"{key:>24}: {figures[key]}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
