"""EmergingArtistCuration on anvil: proposals with their ties (artist, split recipients and
controllers, parents' artists) out of the vote, commit-reveal votes per segment, the pass rule,
the emerging-artist index, exclusion by attester proof, non-reveal slashing, and gas."""

import os
import random

import brownie
import pytest

from qfzz_chain.curation import votes
from qfzz_chain.curation.votes import Outcome, Tally, Vote
from qfzz_chain.reputation import rules
from qfzz_chain.reputation.identity import Attestation
from tests.contracts.curation_helpers import (  # noqa: F401
    COMMIT_SECONDS,
    COMPOSITION,
    LISTING_SECONDS,
    MASTER,
    NO_SEGMENT,
    OUTSIDE,
    QUORUM_BPS,
    REVEAL_SECONDS,
    STAKE_SATURATION,
    World,
    identity_of,
    tree_isolation,
    world,
)
from tests.contracts.helpers import REMIX, plain, register, reverts_with

W = rules.compute_weight(rules.PRIOR_SCORE, 0, STAKE_SATURATION)
CURATOR = 0
VOTER_SEGMENTS = (0, 0, 0, 0, 0, 1, 1, 1, NO_SEGMENT, NO_SEGMENT)  # ten voters: electronic, jazz, none


class Panel:
    """Ten voters in segments, an artist with a final track split with a collaborator."""

    def __init__(self, world: World):
        self.world = world
        self.voters = world.people[:10]
        self.artist, self.collaborator = world.people[10], world.people[11]
        self.late, self.second = world.people[12], world.people[13]  # bound later; the collaborator's other account
        attested = [Attestation(p.address, identity_of(p)) for p in world.people[:13]]
        attested.append(Attestation(self.second.address, identity_of(self.collaborator)))
        world.post_tree(attested)
        for person in world.people[:12]:
            world.bind(person)
        world.post([(CURATOR, world.index(v), rules.PRIOR_SCORE, s) for v, s in zip(self.voters, VOTER_SEGMENTS)])
        self.track = world.final_track(self.artist)
        world.set_split(self.track, COMPOSITION, [self.artist, self.collaborator], [7000, 3000], self.artist)
        self.ties = [world.ties(self.track, composition=([self.artist, self.collaborator], [7000, 3000]))]

    def propose(self, proposer=None, segments=0b11):
        return self.world.propose(proposer or self.voters[0], self.artist, self.ties, segments)

    def run(self, ballots: dict[int, Vote], proposal_id=None):
        """Commit and reveal ``ballots`` (voter position -> vote); returns the proposal id."""
        proposal_id = proposal_id or self.propose().return_value
        salts = {i: self.world.vote(proposal_id, self.voters[i], vote)[0] for i, vote in ballots.items()}
        self.world.to_reveal_phase(proposal_id)
        for i, vote in ballots.items():
            self.world.curation.reveal(proposal_id, vote, salts[i], {"from": self.voters[i]})
        self.world.to_settlement(proposal_id)
        return proposal_id


@pytest.fixture(scope="module")
def panel(world):
    """Set up once per module, before each test's snapshot (module fixtures come first)."""
    return Panel(world)


# ---- proposals and their ties ----------------------------------------------------------------


def test_a_proposal_takes_the_artist_and_collaborators_out_of_the_vote(world, panel):
    tx = panel.propose()
    event = plain(tx.events["ProposalCreated"])
    assert event == {
        "proposalId": 1, "artist": panel.artist.address, "proposer": 1, "segments": 0b11, "tracks": (panel.track,),
        "tied": (panel.artist.address, panel.artist.address, panel.collaborator.address, panel.artist.address),
        "eligibleWeight": 10 * W, "excludedWeight": 2 * W, "commitEnd": tx.timestamp + COMMIT_SECONDS,
        "revealEnd": tx.timestamp + COMMIT_SECONDS + REVEAL_SECONDS}  # fmt: skip
    stored = world.curation.proposal(1)
    assert (stored["status"], stored["eligibleWeight"], stored["artist"]) == (1, 10 * W, panel.artist.address)
    for tied in (panel.artist, panel.collaborator):
        assert world.curation.voteOf(1, world.index(tied))["state"] == 2
        with reverts_with("SelfDealing", 1, world.index(tied), tied):
            world.vote(1, tied, Vote.STRONGLY_AGREE)


def test_the_artist_and_collaborators_cannot_propose(world, panel):
    for tied in (panel.artist, panel.collaborator):
        with reverts_with("SelfDealing", 1, world.index(tied), tied):
            panel.propose(tied)


def test_a_derivative_ties_the_artist_of_its_parent(world, panel):
    remixer = panel.voters[9]
    remix = world.final_track(remixer, parents=[(panel.track, REMIX)])
    ties = [world.ties(remix, parents=[(panel.track, REMIX)])]
    with reverts_with("SelfDealing", 1, world.index(panel.artist), panel.artist):
        world.propose(panel.artist, remixer, ties)
    with reverts_with("ParentsMismatch", remix, plain(world.registry.parentsHash(remix)), bytes(32)):
        world.propose(panel.voters[1], remixer, [world.ties(remix)])
    tx = world.propose(panel.voters[0], remixer, ties)
    assert plain(tx.events["ProposalCreated"]["tied"]) == (remixer.address, panel.artist.address)


def test_split_lists_must_be_the_current_ones(world, panel):
    stale = [world.ties(panel.track, composition=([panel.artist], [10_000]))]
    stored = plain(world.royalties.splitHash(panel.track, COMPOSITION, 0))
    given = plain(brownie.web3.keccak(brownie.web3.codec.encode(["address[]", "uint16[]", "uint16"],
                                                               [[panel.artist.address], [10_000], 0])))  # fmt: skip
    with reverts_with("SplitMismatch", panel.track, COMPOSITION, stored, given):
        world.propose(panel.voters[0], panel.artist, stale)
    with reverts_with("SplitMismatch", panel.track, COMPOSITION, stored, bytes(32)):
        world.propose(panel.voters[0], panel.artist, [world.ties(panel.track)])
    # a new version of the master split, controlled by someone else, ties them too
    world.set_split(panel.track, MASTER, [panel.voters[8]], [10_000], panel.artist)
    world.royalties.transferControl(panel.track, MASTER, panel.voters[9], {"from": panel.artist})
    ties = [world.ties(panel.track, composition=([panel.artist, panel.collaborator], [7000, 3000]),
                       master=([panel.voters[8]], [10_000]))]  # fmt: skip
    tx = world.propose(panel.voters[0], panel.artist, ties)
    assert plain(tx.events["ProposalCreated"]["tied"])[-3:] == (panel.voters[8].address, panel.artist.address,
                                                                panel.voters[9].address)
    assert tx.events["ProposalCreated"]["excludedWeight"] == 4 * W


def test_a_proposal_is_checked_before_it_is_made(world, panel):
    sybil = brownie.accounts.add()
    world.owner.transfer(sybil, "1 ether")
    with reverts_with("NoVotingWeight", sybil):
        panel.propose(sybil)
    other = world.final_track(panel.voters[9])
    with reverts_with("NotArtistTrack", other, panel.voters[9]):
        world.propose(panel.voters[0], panel.artist, [world.ties(other)])
    fresh, _ = register(world.registry, panel.artist)
    with reverts_with("TrackNotFinal", fresh):
        world.propose(panel.voters[0], panel.artist, [world.ties(fresh)])
    with reverts_with("DuplicateTrack", panel.track):
        world.propose(panel.voters[0], panel.artist, panel.ties * 2)
    with reverts_with("InvalidTrackCount", 0, 8):
        world.propose(panel.voters[0], panel.artist, [])
    for mask in (0, 1 << 4, 1 << 63):
        with reverts_with("InvalidSegments", mask, 8, 4):
            panel.propose(segments=mask)
    with reverts_with("InvalidArtist"):
        world.propose(panel.voters[0], brownie.ZERO_ADDRESS, panel.ties)
    panel.propose()
    with reverts_with("ProposalAlreadyOpen", panel.artist, 1):
        panel.propose(panel.voters[1])


# ---- votes -----------------------------------------------------------------------------------


def test_votes_are_hidden_until_revealed_then_counted_in_their_segments(world, panel):
    proposal_id = panel.propose().return_value
    ballots = {0: Vote.STRONGLY_AGREE, 1: Vote.AGREE, 5: Vote.AGREE, 6: Vote.DISAGREE, 8: Vote.NEUTRAL}
    salts = {}
    for i, vote in ballots.items():
        salts[i], tx = world.vote(proposal_id, panel.voters[i], vote)
        commitment = world.commitment(proposal_id, panel.voters[i], vote, salts[i])
        assert plain(tx.events["VoteCommitted"]) == {"proposalId": 1, "identity": world.index(panel.voters[i]),
                                                     "commitment": commitment}  # fmt: skip
        state, weight, segment, prefix = plain(world.curation.voteOf(1, world.index(panel.voters[i])))
        assert (state, weight, segment, prefix) == (1, W, VOTER_SEGMENTS[i], commitment[:24])
    assert plain(world.curation.tally(1, 0)) == (0, 0, 0, 0, 0, True)  # nothing shows while voting
    world.to_reveal_phase(proposal_id)
    for i, vote in ballots.items():
        tx = world.curation.reveal(proposal_id, vote, salts[i], {"from": panel.voters[i]})
        assert plain(tx.events["VoteRevealed"]) == {"proposalId": 1, "identity": world.index(panel.voters[i]),
                                                    "vote": int(vote), "weight": W, "segment": VOTER_SEGMENTS[i]}
        assert world.curation.voteOf(1, world.index(panel.voters[i]))["state"] == 0
    assert plain(world.curation.tally(1, 0)) == (W, W, 0, 0, 2, True)
    assert plain(world.curation.tally(1, 1)) == (0, W, 0, W, 2, True)
    assert plain(world.curation.tally(1, OUTSIDE)) == (0, 0, W, 0, 1, True)
    world.to_settlement(proposal_id)
    tx = world.curation.finalize(proposal_id, {"from": panel.voters[9]})
    assert [plain(e)["segment"] for e in tx.events["SegmentResult"]] == [0, 1, OUTSIDE]
    assert [e["passed"] for e in tx.events["SegmentResult"]] == [True, False, False]
    # 3W of 5W agree (60%): not more than 60%
    assert plain(tx.events["ProposalFinalized"]) == {
        "proposalId": 1, "artist": panel.artist.address, "outcome": int(Outcome.NO_AGREEMENT), "agreeWeight": 3 * W,
        "revealedWeight": 5 * W, "eligibleWeight": 10 * W, "passedSegments": 0b01}  # fmt: skip
    assert world.curation.proposal(1)["status"] == 3 and world.curation.openProposalOf(panel.artist) == 0


def test_a_proposal_agreed_across_segments_lists_the_artist(world, panel):
    ballots = {0: Vote.AGREE, 1: Vote.STRONGLY_AGREE, 2: Vote.DISAGREE, 5: Vote.AGREE, 6: Vote.AGREE, 8: Vote.AGREE}
    proposal_id = panel.run(ballots)
    tx = world.curation.finalize(proposal_id, {"from": panel.voters[9]})
    assert tx.events["ProposalFinalized"]["outcome"] == int(Outcome.PASSED)
    listing = tx.events["ArtistListed"]
    assert plain(listing) == {"artist": panel.artist.address, "proposalId": 1, "segments": 0b11,
                              "until": tx.timestamp + LISTING_SECONDS}  # fmt: skip
    assert world.curation.isEmerging(panel.artist)
    assert plain(world.curation.listingOf(panel.artist)) == (1, tx.timestamp, tx.timestamp + LISTING_SECONDS, 0b11)
    assert (world.curation.listedCount(), world.curation.listedArtist(0)) == (1, panel.artist.address)
    until = tx.timestamp + LISTING_SECONDS
    with reverts_with("AlreadyListed", panel.artist, until):
        panel.propose()
    brownie.chain.sleep(LISTING_SECONDS)
    brownie.chain.mine()
    assert not world.curation.isEmerging(panel.artist)
    proposal_id = panel.run(ballots, panel.propose().return_value)
    world.curation.finalize(proposal_id)
    assert world.curation.listedCount() == 1 and world.curation.isEmerging(panel.artist)


def test_one_segments_votes_alone_cannot_carry_a_proposal(world, panel):
    proposal_id = panel.run({i: Vote.STRONGLY_AGREE for i in range(5)})  # every revealed vote is electronic's
    tx = world.curation.finalize(proposal_id)
    assert tx.events["ProposalFinalized"]["outcome"] == int(Outcome.ONE_SEGMENT)
    assert tx.events["ProposalFinalized"]["passedSegments"] == 0b01
    assert "ArtistListed" not in tx.events


def test_too_little_revealed_weight_is_no_quorum(world, panel):
    proposal_id = panel.run({0: Vote.AGREE})  # 10% of the eligible weight; 20% is needed
    assert world.curation.finalize(proposal_id).events["ProposalFinalized"]["outcome"] == int(Outcome.NO_QUORUM)


def test_the_pass_rule_is_the_python_replica(world, panel):
    rng = random.Random(12)
    proposal_id = None
    for round_ in range(3):
        ballots = {i: Vote(rng.randrange(4)) for i in range(10) if rng.random() < 0.8}
        if proposal_id is not None:  # each round proposes the artist anew
            brownie.chain.sleep(LISTING_SECONDS)
        proposal_id = panel.run(ballots, panel.propose(panel.voters[round_]).return_value)
        tx = world.curation.finalize(proposal_id)
        buckets = {0: Tally(), 1: Tally(), OUTSIDE: Tally()}
        for i, vote in ballots.items():
            segment = VOTER_SEGMENTS[i] if VOTER_SEGMENTS[i] in (0, 1) else OUTSIDE
            buckets[segment] = buckets[segment].add(vote, W)
        expected = votes.outcome(buckets, 10 * W, QUORUM_BPS)
        event = tx.events["ProposalFinalized"]
        assert (event["outcome"], event["agreeWeight"], event["revealedWeight"]) == (
            int(expected.outcome), expected.agreeing, expected.revealed)
        assert event["passedSegments"] == votes.segment_mask(expected.passed_segments)


def test_commits_need_an_identity_older_than_the_proposal(world, panel):
    proposal_id = panel.propose().return_value
    created = world.curation.proposal(proposal_id)["createdAt"]
    tx = world.bind(panel.late)
    with reverts_with("IdentityTooNew", world.index(panel.late), tx.timestamp, created):
        world.vote(proposal_id, panel.late, Vote.AGREE)
    sybil = brownie.accounts.add()
    world.owner.transfer(sybil, "1 ether")
    with reverts_with("NoVotingWeight", sybil):
        world.curation.commit(proposal_id, os.urandom(32), {"from": sybil})
    world.vote(proposal_id, panel.voters[0], Vote.AGREE)
    with reverts_with("AlreadyCommitted", proposal_id, 1):
        world.vote(proposal_id, panel.voters[0], Vote.DISAGREE)
    with reverts_with("UnknownProposal", 9):
        world.curation.commit(9, os.urandom(32), {"from": panel.voters[1]})
    world.to_reveal_phase(proposal_id)
    with reverts_with("CommitPhaseOver", proposal_id, created + COMMIT_SECONDS):
        world.vote(proposal_id, panel.voters[1], Vote.AGREE)
    brownie.chain.sleep(60)
    brownie.chain.mine()  # a minute into the reveal phase, not just its first second
    with reverts_with("CommitPhaseOver", proposal_id, created + COMMIT_SECONDS):
        world.vote(proposal_id, panel.voters[1], Vote.AGREE)


def test_a_reveal_must_open_the_identitys_own_commitment_in_the_reveal_phase(world, panel):
    proposal_id = panel.propose().return_value
    created = world.curation.proposal(proposal_id)["createdAt"]
    phases = (proposal_id, created + COMMIT_SECONDS, created + COMMIT_SECONDS + REVEAL_SECONDS)
    salt, tx = world.vote(proposal_id, panel.voters[0], Vote.AGREE)
    copied = tx.events["VoteCommitted"]["commitment"]
    world.curation.commit(proposal_id, copied, {"from": panel.voters[1]})  # a copier of a trusted voter
    with reverts_with("NotRevealPhase", *phases):
        world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[0]})
    world.to_reveal_phase(proposal_id)
    with reverts_with("RevealMismatch", proposal_id, 1):
        world.curation.reveal(proposal_id, Vote.DISAGREE, salt, {"from": panel.voters[0]})
    world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[0]})
    with reverts_with("RevealMismatch", proposal_id, 2):  # the copy is bound to the first voter's identity
        world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[1]})
    with reverts_with("NothingToReveal", proposal_id, 1):
        world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[0]})
    with reverts_with("NothingToReveal", proposal_id, 3):
        world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[2]})
    world.to_settlement(proposal_id)
    with reverts_with("NotRevealPhase", *phases):
        world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[1]})


def test_a_tied_identity_bound_from_another_account_is_excluded_by_proof(world, panel):
    # the collaborator's identity moves to their second account, which the splits do not name
    world.bind(panel.second, identity_of(panel.collaborator))
    collaborator = world.index(panel.second)
    brownie.chain.sleep(1)
    tx = panel.propose()
    proposal_id, tied = tx.return_value, list(tx.events["ProposalCreated"]["tied"])
    assert tx.events["ProposalCreated"]["excludedWeight"] == W  # only the artist's identity was found
    world.vote(proposal_id, panel.second, Vote.STRONGLY_AGREE)
    position = tied.index(panel.collaborator.address)
    proof = world.tree.proof(panel.collaborator.address)
    ident = identity_of(panel.collaborator)
    with reverts_with("TiedListMismatch", proposal_id):
        world.curation.excludeTiedIdentity(proposal_id, tied[:-1], position, ident, proof)
    with reverts_with("TiedListMismatch", proposal_id):  # a position one past the list
        world.curation.excludeTiedIdentity(proposal_id, tied, len(tied), ident, proof)
    with reverts_with("NotTiedIdentity", panel.collaborator, identity_of(panel.late)):
        world.curation.excludeTiedIdentity(proposal_id, tied, position, identity_of(panel.late), proof)
    tx = world.curation.excludeTiedIdentity(proposal_id, tied, position, ident, proof, {"from": panel.voters[7]})
    assert plain(tx.events["TiedIdentityExcluded"]) == {"proposalId": proposal_id, "identity": collaborator,
                                                        "account": panel.collaborator.address, "weight": W}
    assert world.curation.proposal(proposal_id)["eligibleWeight"] == 10 * W  # 12 bound, the artist and now the collaborator out
    with reverts_with("AlreadyExcluded", proposal_id, collaborator):
        world.curation.excludeTiedIdentity(proposal_id, tied, position, ident, proof)
    world.to_reveal_phase(proposal_id)
    with reverts_with("NothingToReveal", proposal_id, collaborator):
        world.curation.reveal(proposal_id, Vote.STRONGLY_AGREE, os.urandom(32), {"from": panel.second})
    for _ in range(2):  # at the reveal phase's start and a minute into it
        with reverts_with("CommitPhaseOver", proposal_id, world.curation.phases(proposal_id)[0]):
            world.curation.excludeTiedIdentity(proposal_id, tied, 0, identity_of(panel.artist),
                                               world.tree.proof(panel.artist.address))  # fmt: skip
        brownie.chain.sleep(60)
        brownie.chain.mine()


def test_a_curator_who_never_reveals_loses_reputation_and_stake(world, panel):
    quiet, honest = panel.voters[3], panel.voters[4]
    world.ledger.stake(CURATOR, world.index(quiet), {"from": quiet, "value": STAKE_SATURATION})
    proposal_id = panel.propose().return_value
    world.vote(proposal_id, quiet, Vote.DISAGREE)
    salt, _ = world.vote(proposal_id, honest, Vote.AGREE)
    world.to_reveal_phase(proposal_id)
    world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": honest})
    with reverts_with("VotingNotOver", proposal_id, world.curation.phases(proposal_id)[1]):
        world.curation.reportNonReveals(proposal_id, [world.index(quiet)])
    world.to_settlement(proposal_id)
    reporter = panel.voters[9]
    tx = world.curation.reportNonReveals(proposal_id, [world.index(quiet), world.index(honest), 7],
                                         {"from": reporter})  # fmt: skip
    assert [plain(e)["identity"] for e in tx.events["NonRevealReported"]] == [world.index(quiet)]
    taken = STAKE_SATURATION * rules.NON_REVEAL_SLASH_BPS // rules.BPS
    assert plain(tx.events["NonRevealPenalized"]) == {"identity": world.index(quiet), "proposalId": proposal_id,
                                                      "scoreLost": rules.NON_REVEAL_PENALTY, "stakeSlashed": taken,
                                                      "reporter": reporter.address}  # fmt: skip
    assert world.ledger.reputationOf(CURATOR, world.index(quiet))["score"] == rules.PRIOR_SCORE - 50_000
    assert world.ledger.stakeOf(CURATOR, world.index(quiet))[0] == STAKE_SATURATION - taken
    assert world.ledger.weightOf(world.index(quiet)) == rules.compute_weight(150_000, STAKE_SATURATION - taken,
                                                                             STAKE_SATURATION)  # fmt: skip
    assert world.ledger.rewardOf(reporter) == rules.reporter_reward(taken)
    with reverts_with("NothingToReport", proposal_id):
        world.curation.reportNonReveals(proposal_id, [world.index(quiet)])


def test_settlement_comes_once_after_the_reveal_phase(world, panel):
    proposal_id = panel.propose().return_value
    with reverts_with("VotingNotOver", proposal_id, world.curation.phases(proposal_id)[1]):
        world.curation.finalize(proposal_id)
    with reverts_with("UnknownProposal", 5):
        world.curation.finalize(5)
    world.to_settlement(proposal_id)
    world.curation.finalize(proposal_id)
    with reverts_with("AlreadySettled", proposal_id):
        world.curation.finalize(proposal_id)


def test_the_constructor_checks_the_ledger_and_the_settings(world, accounts):
    args = (world.ledger, world.registry, world.royalties)
    with reverts_with("LedgerMismatch", world.curation):
        brownie.EmergingArtistCuration.deploy(*args, 3600, 3600, 2000, 86400 * 30, {"from": accounts[0]})
    owner = accounts[0]
    ledger = brownie.ReputationLedger.deploy(owner, world.oracle, owner.get_deployment_address(owner.nonce + 1),
                                             STAKE_SATURATION, {"from": owner})  # fmt: skip
    with reverts_with("InvalidSettings"):
        brownie.EmergingArtistCuration.deploy(ledger, world.registry, world.royalties, 0, 3600, 2000, 86400 * 30,
                                              {"from": owner})  # fmt: skip


# ---- gas -------------------------------------------------------------------------------------


def test_commit_and_reveal_stay_within_their_gas_budgets(world, panel):
    """Gas from fixed inputs, pinned (the benchmark reports the same on fresh voters)."""
    proposal_id = panel.propose().return_value
    salt = bytes(range(32))
    commit = world.curation.commit(proposal_id, world.commitment(proposal_id, panel.voters[0], Vote.AGREE, salt),
                                   {"from": panel.voters[0]})  # fmt: skip
    world.to_reveal_phase(proposal_id)
    reveal = world.curation.reveal(proposal_id, Vote.AGREE, salt, {"from": panel.voters[0]})
    assert (commit.gas_used, reveal.gas_used) == (55_155, 41_045)
    assert commit.gas_used <= 60_000 and reveal.gas_used <= 60_000
