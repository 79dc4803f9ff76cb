"""`qfzz reputation` and `qfzz curate` end to end: identities attested and bound, curators put in
segments, a proposal, commit-reveal votes with their refusals, settlement with a non-revealer
penalized, the index the recommender reads, the factors the updater posts.

It moves the chain's clock days ahead, which a snapshot revert does not undo on anvil; it lives
here, after tests/cli, because `qfzz track sign` dates its deadline by the wall clock."""

import json

import pytest

from tests.cli.conftest import assert_one_line_error, audio, run_qfzz  # noqa: F401 (audio: a fixture)

OWNER, ARTIST, STRANGER = 0, 1, 8
CURATORS = (3, 4, 5, 6, 7)
SEGMENTS = {3: "genre:jazz", 4: "region:west-africa", 5: "genre:jazz", 6: "region:west-africa", 7: "genre:jazz"}
VOTES = {3: "agree", 4: "strongly-agree", 5: "agree", 6: "agree", 7: "disagree"}  # 7 never reveals
DAY = 86_400


@pytest.fixture(scope="module")
def home(tmp_path_factory, module_isolation, TrackRegistry):
    import os

    from scripts import deploy

    path = tmp_path_factory.mktemp("qfzz-home")
    previous = os.environ.get("QFZZ_HOME")
    os.environ["QFZZ_HOME"] = str(path)
    try:
        deploy.main(replace=True)
    finally:
        if previous is None:
            os.environ.pop("QFZZ_HOME")
        else:
            os.environ["QFZZ_HOME"] = previous
    return path


@pytest.fixture(scope="module")
def qfzz(home):
    """The real `qfzz` in a subprocess: what a refusal prints and its exit status."""
    import brownie

    url = brownie.web3.provider.endpoint_uri

    def run(*args, **env):
        return run_qfzz(*args, home=home, rpc_url=url, **env)

    return run


@pytest.fixture(scope="module")
def ok(home):
    """A command that succeeds, run in this process (a subprocess pays ~2 s of imports per call), its JSON."""
    import brownie
    from click.testing import CliRunner

    from qfzz_chain.cli import cli

    env = {"QFZZ_HOME": str(home), "QFZZ_RPC_URL": brownie.web3.provider.endpoint_uri}

    def run(*args):
        result = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def sleep(seconds):
    import brownie

    brownie.chain.sleep(seconds)
    brownie.chain.mine()


def test_a_curation_round_from_identities_to_the_index(qfzz, ok, accounts, audio, tmp_path, home, monkeypatch):
    a = {i: accounts[i].address for i in range(10)}
    owner = a[OWNER]
    settings = ok("reputation", "admin", "--attester", owner, "--updater", owner, "--add-segment", "genre:jazz",
                       "--add-segment", "region:west-africa", "--from", owner)  # fmt: skip
    assert settings["segments"] == ["genre:jazz", "region:west-africa"] and settings["attester"] == owner
    registered = ok("track", "register", str(audio()), "--title", "Emerging", "--metadata", '{"lastfm_id": 89}',
                         "--from", a[ARTIST])  # fmt: skip

    attestations = tmp_path / "attestations.json"
    attestations.write_text(json.dumps([{"account": a[i], "namespace": "test", "reference": f"person-{i}"}
                                        for i in (ARTIST, *CURATORS)]))  # fmt: skip
    posted = ok("reputation", "attest", str(attestations), "--from", owner)
    assert posted["accounts"] == 6
    for i in (ARTIST, *CURATORS):
        bound = ok("reputation", "bind", "--from", a[i])
        assert bound["weight"] == 223_606  # the prior 0.2, unstaked: (sqrt(0.2) + 0) / 2
    assert_one_line_error(qfzz("reputation", "bind", "--from", a[STRANGER]), "no identity for")
    ok("reputation", "assign", *(f"{a[i]}={SEGMENTS[i]}" for i in CURATORS), "--from", owner)
    staked = ok("reputation", "stake", "1", "--from", a[3])
    assert staked["weight"] == 447_213  # stake at saturation doubles a fresh identity's weight
    stranger = ok("reputation", "show", a[STRANGER])
    assert stranger["bound"] is False and stranger["weight"] == 0

    sleep(DAY + 1)  # the track is final
    assert_one_line_error(qfzz("curate", "propose", a[ARTIST], "--segment", "genre:jazz", "--from", a[ARTIST]),
                          "you cannot propose", "the artist")  # fmt: skip
    assert_one_line_error(qfzz("curate", "propose", a[ARTIST], "--segment", "genre:jazz", "--from", a[STRANGER]),
                          "no voting weight")  # fmt: skip
    assert_one_line_error(qfzz("curate", "propose", a[ARTIST], "--segment", "techno", "--from", a[3]),
                          "no segment 'techno'")  # fmt: skip
    proposal = ok("curate", "propose", a[ARTIST], "--segment", "genre:jazz", "--segment", "region:west-africa",
                       "--from", a[3])  # fmt: skip
    pid = str(proposal["proposal"])
    assert proposal["tracks"] == [registered["track_id"]]
    assert [t["account"] for t in proposal["tied"]] == [a[ARTIST]] and proposal["excluded_weight"] == 223_606

    for i in CURATORS:
        voted = ok("curate", "vote", pid, VOTES[i], "--from", a[i])
        assert voted["gas_used"] <= 60_000
    assert_one_line_error(qfzz("curate", "vote", pid, "agree", "--from", a[ARTIST]), "self-dealing")
    assert_one_line_error(qfzz("curate", "vote", pid, "agree", "--from", a[STRANGER]), "has no identity bound")
    assert_one_line_error(qfzz("curate", "vote", pid, "maybe", "--from", a[3]), "'maybe' is not a vote")
    assert_one_line_error(qfzz("curate", "vote", pid, "agree", "--from", a[3]), "already voted")
    assert_one_line_error(qfzz("curate", "reveal", pid, "--from", a[3]), "takes reveals from")
    hidden = ok("curate", "status", pid)
    assert hidden["phase"] == "commit" and hidden["committed"] == 5 and hidden["revealed_weight"] == 0

    import brownie

    sleep(max(0, proposal["commit_end"] - brownie.chain.time()) + 1)
    assert_one_line_error(qfzz("curate", "vote", pid, "agree", "--from", a[4]), "voting on proposal", "closed")
    for i in CURATORS[:-1]:
        revealed = ok("curate", "reveal", pid, "--from", a[i])
        assert revealed["vote"] == VOTES[i] and revealed["gas_used"] <= 60_000
    assert_one_line_error(qfzz("curate", "reveal", pid, "--vote", "agree", "--from", a[7]), "reveal mismatch")

    sleep(DAY + 1)
    before_listing = brownie.web3.eth.block_number
    settled = ok("curate", "finalize", pid, "--from", owner)
    assert settled["outcome"] == "passed" and settled["listed_until"]
    seventh = ok("reputation", "show", a[7])
    assert settled["reported_non_reveals"] == [seventh["identity"]]
    assert seventh["score"] == 150_000  # the prior 0.2 less the 0.05 non-reveal penalty
    buckets = {b["segment"]: b for b in settled["buckets"]}
    assert buckets["genre:jazz"]["passes"] and buckets["region:west-africa"]["passes"]

    index = ok("curate", "index")
    assert [(e["artist"], e["lastfm_ids"]) for e in index] == [(a[ARTIST], [89])]
    # What an oracle epoch lifts: the index as of its catalogue block, before and after the listing.
    from qfzz_chain.cli._chain import ChainSession
    from qfzz_chain.curation.ballots import curated_items
    from qfzz_chain.curation.chain import EmergingArtistCuration

    monkeypatch.setenv("QFZZ_HOME", str(home))
    session = ChainSession(brownie.web3.provider.endpoint_uri, None, None, None, None)
    curation = EmergingArtistCuration.from_record(session.w3, session.record)
    head = brownie.web3.eth.block_number
    assert curated_items(curation, session.registry, session.store, head) == (89,)
    assert curated_items(curation, session.registry, session.store, before_listing) == ()
    scored = ok("reputation", "score")
    targets = {s["subject"]: s for s in scored["subjects"] if s["role"] == "curator"}
    assert len(targets) == 4  # the four who revealed
    assert all(0 <= s["target"] <= 1_000_000 and abs(s["score_after"] - s["score_now"]) <= 50_000 for s in targets.values())

    # Confirmation measured from a member's epochs equals the same rate handed in as a file.
    from qfzz_chain.oracle.epoch import EpochInputs
    from tests.curation.test_confirmations import _member_home, _placement, _request

    (tmp_path / "member").mkdir()
    member = _member_home(tmp_path / "member", {
        1: (EpochInputs(1, 1, (_request(2), _request(3)), emerging=(89,)), [_placement(2, 89), _placement(3, 90)]),
        2: (EpochInputs(2, 1, (_request(2, [(89, 1.0)]), _request(3, [(90, 1.0)]))), []),
    })  # fmt: skip
    measured = ok("reputation", "score", "--confirmations-from", str(member))
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({a[ARTIST]: 1.0}))
    handed_in = ok("reputation", "score", "--confirmations", str(rates))
    assert measured["subjects"] == handed_in["subjects"] != scored["subjects"]
    assert_one_line_error(qfzz("reputation", "score", "--confirmations", str(rates), "--confirmations-from", str(member)),
                          "not both")  # fmt: skip

    # The stake leaves again: its weight at once, the ether after the unbonding period.
    unstaked = ok("reputation", "unstake", "0.4", "--from", a[3])
    assert unstaked["unbonding"] == 4 * 10**17 and unstaked["stake"] == 6 * 10**17
    assert unstaked["weight"] < staked["weight"]
    assert_one_line_error(qfzz("reputation", "unstake", "5", "--from", a[3]), "cannot unstake 5 ETH", "0.6 ETH is staked")
    assert_one_line_error(qfzz("reputation", "withdraw-stake", "--from", a[3]), "unbonding until")
    assert_one_line_error(qfzz("reputation", "unstake", "1", "--from", a[STRANGER]), "has no identity bound")
    sleep(21 * DAY + 1)
    before = brownie.web3.eth.get_balance(a[3])
    withdrawn = ok("reputation", "withdraw-stake", "--from", a[3])
    assert withdrawn["withdrawn"] == 4 * 10**17 and withdrawn["unbonding"] == 0
    assert brownie.web3.eth.get_balance(a[3]) > before + 4 * 10**17 - 10**15  # less the gas
    assert_one_line_error(qfzz("reputation", "withdraw-stake", "--from", a[3]), "nothing is unbonding")
