"""``qfzz curate``: propose emerging artists, vote by commit-reveal, settle, read the index."""

from __future__ import annotations

from pathlib import Path

import click

from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option, key_values, table


@click.group()
def curate() -> None:
    """Curators propose emerging artists for listener segments and vote on them, reputation-weighted.

    A vote is committed (a hash of the vote and a salt kept in $QFZZ_HOME/curation/votes/)
    while voting is open and revealed after, so nobody sees the trend while voting. A proposal
    passes with more than 60% agreement (strongly agree + agree) of the revealed weight, a quorum
    of the eligible weight revealed, and not on one segment's votes alone; the artist then enters
    the on-chain emerging-artist index the recommender boosts. The artist and everyone the
    registry and royalty splits tie to them are out of the vote.

    \b
    qfzz curate propose 0xARTIST --segment genre:jazz --segment region:west-africa
    qfzz curate vote 1 agree          # strongly-agree, agree, neutral or disagree
    qfzz curate reveal 1              # after voting closes, from the kept salt
    qfzz curate finalize 1            # after the reveal phase: the result, the listing
    qfzz curate status 1
    qfzz curate index                 # the emerging artists listed now
    """


def _clients(session: ChainSession):
    from qfzz_chain.curation.chain import EmergingArtistCuration
    from qfzz_chain.reputation.chain import ReputationLedger

    return (EmergingArtistCuration.from_record(session.w3, session.record),
            ReputationLedger.from_record(session.w3, session.record))  # fmt: skip


def _when(timestamp: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@curate.command()
@click.argument("artist")
@click.option("--segment", "segments", multiple=True, metavar="NAME",
              help="A listener segment to propose the artist for (a name the ledger defines, e.g. genre:jazz). Repeatable.")
@click.option("--track", "tracks", multiple=True, metavar="ID_OR_CID",
              help="A registered, final track of the artist's to name (default: their latest, up to 8). Repeatable.")
@chain_options(sends=True)
@json_option
def propose(session: ChainSession, artist: str, segments: tuple[str, ...], tracks: tuple[str, ...], as_json: bool) -> None:
    """Propose ARTIST (an address with registered tracks) for the emerging-artist index.

    The proposal carries each track's parents and royalty splits, checked on-chain; every
    account they name (collaborators, split controllers, parents' artists) is out of the vote,
    and a proposer tied to the artist is refused.
    """
    from qfzz_chain.curation.chain import RoyaltySplits
    from qfzz_chain.curation.proposals import propose as send_proposal
    from qfzz_chain.tracks import resolve_track_ref

    curation, ledger = _clients(session)
    splits = RoyaltySplits(session.w3, curation.royalties_address(), session.record.contract("Royalties").block)
    track_ids = [resolve_track_ref(session.registry, t) for t in tracks] or None
    done = send_proposal(curation, ledger, session.registry, splits, session.sender(), artist, list(segments), track_ids)
    value = {"proposal": done.proposal_id, "artist": done.artist, "tracks": done.tracks,
             "segments": [ledger.segments()[s] for s in done.segments],
             "tied": [{"account": t.account, "reason": t.reason} for t in done.tied],
             "eligible_weight": done.eligible_weight, "excluded_weight": done.excluded_weight,
             "commit_end": done.commit_end, "reveal_end": done.reveal_end, "transaction": done.receipt.transaction,
             "gas_used": done.receipt.gas_used}  # fmt: skip

    def render(v: dict) -> str:
        lines = [f"Proposal {v['proposal']}: {v['artist']} for {', '.join(v['segments'])} ({len(v['tracks'])} track(s))",
                 f"  out of the vote: {len(v['tied'])} tied account(s), weight {v['excluded_weight']}; "
                 f"eligible weight {v['eligible_weight']}",
                 f"  voting until {_when(v['commit_end'])}, reveals until {_when(v['reveal_end'])}",
                 f"  transaction {v['transaction']} ({v['gas_used']:,} gas)"]  # fmt: skip
        return "\n".join(lines)

    emit(value, as_json, render)


@curate.command()
@click.argument("proposal_id", metavar="ID", type=click.IntRange(1))
@click.argument("vote", metavar="VOTE")
@chain_options(sends=True)
@json_option
def vote(session: ChainSession, proposal_id: int, vote: str, as_json: bool) -> None:
    """Commit VOTE on proposal ID: strongly-agree, agree, neutral or disagree.

    Only the commitment (a keccak-256 hash of the vote, a random 32-byte salt, the proposal and
    your identity) goes on-chain; the salt is written owner-only to $QFZZ_HOME/curation/votes/
    before it is sent. Reveal with `qfzz curate reveal ID` once voting closes: an unrevealed
    vote costs reputation and stake.
    """
    from qfzz_chain.curation.ballots import commit_vote
    from qfzz_chain.curation.votes import parse_vote

    chosen = parse_vote(vote)
    curation, ledger = _clients(session)
    done = commit_vote(curation, ledger, session.sender(), proposal_id, chosen)
    value = {"proposal": proposal_id, "identity": done.identity, "weight": done.weight, "commitment": done.commitment,
             "reveal_from": done.reveal_from, "reveal_until": done.reveal_until, "salt_kept_in": done.kept_at,
             "transaction": done.receipt.transaction, "gas_used": done.receipt.gas_used}  # fmt: skip
    emit(value, as_json, lambda v: (
        f"Committed a vote on proposal {proposal_id} (identity {v['identity']}, weight {v['weight']}); the salt is kept in "
        f"{v['salt_kept_in']}\n  reveal it between {_when(v['reveal_from'])} and {_when(v['reveal_until'])}: "
        f"qfzz curate reveal {proposal_id}\n  transaction {v['transaction']} ({v['gas_used']:,} gas)"))


@curate.command()
@click.argument("proposal_id", metavar="ID", type=click.IntRange(1))
@click.option("--vote", "vote_text", metavar="VOTE", help="The vote committed (default: the one kept here).")
@click.option("--salt", metavar="HEX", help="The 32-byte salt committed, 0x-hex (default: the one kept here).")
@chain_options(sends=True)
@json_option
def reveal(session: ChainSession, proposal_id: int, vote_text: str | None, salt: str | None, as_json: bool) -> None:
    """Reveal your vote on proposal ID (during its reveal phase), from the salt kept at voting."""
    from qfzz_chain.curation.ballots import reveal_vote
    from qfzz_chain.curation.errors import VoteError
    from qfzz_chain.curation.votes import parse_vote

    salt_bytes = None
    if salt is not None:
        try:
            salt_bytes = bytes.fromhex(salt.removeprefix("0x"))
        except ValueError:
            salt_bytes = b""
        if len(salt_bytes) != 32:
            raise VoteError(f"--salt {salt!r} is not 32 bytes of hex")
    chosen = parse_vote(vote_text) if vote_text is not None else None
    curation, ledger = _clients(session)
    done = reveal_vote(curation, ledger, session.sender(), proposal_id, chosen, salt_bytes)
    value = {"proposal": proposal_id, "identity": done.identity, "vote": done.vote.label,
             "transaction": done.receipt.transaction, "gas_used": done.receipt.gas_used}  # fmt: skip
    emit(value, as_json, lambda v: f"Revealed {v['vote']} on proposal {proposal_id} (identity {v['identity']}); "
                                   f"transaction {v['transaction']} ({v['gas_used']:,} gas)")


def _standing_value(found) -> dict:
    proposal, result = found.proposal, found.result
    buckets = []
    for bucket, tally in result.buckets.items():
        buckets.append({"segment": found.segment_names[bucket], "strongly_agree": tally.strongly_agree, "agree": tally.agree,
                        "neutral": tally.neutral, "disagree": tally.disagree, "voters": tally.voters,
                        "agreement": None if tally.agreement is None else round(tally.agreement, 4),
                        "passes": bucket in result.passed_segments})  # fmt: skip
    return {"proposal": proposal.proposal_id, "artist": proposal.artist, "phase": found.phase,
            "status": proposal.status.name.lower(), "outcome": proposal.outcome.label,
            "outcome_if_settled_now": result.outcome.label,
            "segments": [found.segment_names[s] for s in proposal.segments],
            "commit_end": proposal.commit_end, "reveal_end": proposal.reveal_end,
            "eligible_weight": proposal.eligible_weight, "revealed_weight": result.revealed,
            "agreeing_weight": result.agreeing, "turnout": round(result.turnout, 4), "quorum_bps": result.quorum_bps,
            "committed": found.committed, "revealed": found.revealed, "unrevealed": found.unrevealed,
            "tied": list(found.tied), "excluded_weight": found.excluded_weight, "buckets": buckets}  # fmt: skip


def _render_standing(v: dict) -> str:
    head = key_values({
        "proposal": f"{v['proposal']}: {v['artist']}", "phase": v["phase"],
        "outcome": v["outcome"] if v["status"] != "open" else f"pending ({v['outcome_if_settled_now']} on the votes revealed)",
        "segments": ", ".join(v["segments"]),
        "voting until": _when(v["commit_end"]), "reveals until": _when(v["reveal_end"]),
        "votes": f"{v['committed']} committed, {v['revealed']} revealed",
        "turnout": f"{v['revealed_weight']} of {v['eligible_weight']} eligible weight ({v['turnout']:.1%}; quorum "
                   f"{v['quorum_bps'] / 100:g}%)",
        "tied (out of the vote)": f"{len(v['tied'])} account(s), weight {v['excluded_weight']}",
    })  # fmt: skip
    rows = [{**b, "agreement": "-" if b["agreement"] is None else f"{b['agreement']:.1%}", "passes": "yes" if b["passes"] else ""}
            for b in v["buckets"]]  # fmt: skip
    return head + "\n" + table(rows, ["segment", "strongly_agree", "agree", "neutral", "disagree", "voters", "agreement", "passes"])


@curate.command()
@click.argument("proposal_id", metavar="ID", type=click.IntRange(1))
@chain_options(sends=False)
@json_option
def status(session: ChainSession, proposal_id: int, as_json: bool) -> None:
    """Proposal ID: its phase, the revealed tally per segment, and the pass rule applied to it."""
    from qfzz_chain.curation.ballots import standing

    curation, ledger = _clients(session)
    emit(_standing_value(standing(curation, ledger, proposal_id)), as_json, _render_standing)


@curate.command()
@click.argument("proposal_id", metavar="ID", type=click.IntRange(1))
@click.option("--report/--no-report", default=True, show_default=True,
              help="Also report the votes committed and never revealed (their curators lose reputation and stake).")
@chain_options(sends=True)
@json_option
def finalize(session: ChainSession, proposal_id: int, report: bool, as_json: bool) -> None:
    """Settle proposal ID after its reveal phase: the result per segment, and the listing if it passed."""
    from qfzz_chain.curation.ballots import finalize as settle
    from qfzz_chain.curation.ballots import report_non_reveals, standing

    curation, ledger = _clients(session)
    sender = session.sender()
    reported: list[int] = []
    if report and curation.vote_history(proposal_id).unrevealed:
        reported, _ = report_non_reveals(curation, sender, proposal_id)
    receipt = settle(curation, sender, proposal_id)
    value = _standing_value(standing(curation, ledger, proposal_id))
    value.update({"reported_non_reveals": reported, "transaction": receipt.transaction, "gas_used": receipt.gas_used})
    listing = curation.listing_of(value["artist"])
    value["listed_until"] = listing.until if listing and listing.proposal_id == proposal_id else None
    emit(value, as_json, lambda v: _render_standing(v) + (
        f"\nreported {len(v['reported_non_reveals'])} non-reveal(s): identities {v['reported_non_reveals']}" if v["reported_non_reveals"] else "")
        + (f"\n{v['artist']} is in the emerging-artist index until {_when(v['listed_until'])}" if v["listed_until"] else ""))  # fmt: skip


@curate.command("list")
@chain_options(sends=False)
@json_option
def list_proposals(session: ChainSession, as_json: bool) -> None:
    """Every proposal: artist, phase and outcome."""
    curation, _ = _clients(session)
    now = session.w3.eth.get_block("latest")["timestamp"]
    rows = []
    for created in curation.all_created():
        proposal = curation.proposal(created.proposal_id)
        rows.append({"proposal": created.proposal_id, "artist": created.artist, "phase": proposal.phase(now),
                     "outcome": proposal.outcome.label, "tracks": len(created.tracks), "tied": len(created.tied)})  # fmt: skip
    emit(rows, as_json, lambda v: table(v, ["proposal", "artist", "phase", "outcome", "tracks", "tied"]) if v else "No proposals yet.")


@curate.command()
@chain_options(sends=False)
@json_option
def index(session: ChainSession, as_json: bool) -> None:
    """The emerging-artist index: artists listed now, their segments, and the catalogue items their
    tracks name (the `lastfm_id` field of a track's metadata), which recommendations boost."""
    from qfzz_chain.curation.ballots import emerging_index

    curation, ledger = _clients(session)
    entries = emerging_index(curation, ledger, session.registry, session.store)
    rows = [{"artist": e.artist, "proposal": e.proposal_id, "until": e.until, "segments": list(e.segments),
             "lastfm_ids": list(e.lastfm_ids)} for e in entries]  # fmt: skip
    emit(rows, as_json, lambda v: table([{**r, "until": _when(r["until"]), "segments": ", ".join(r["segments"]),
                                          "lastfm_ids": ", ".join(map(str, r["lastfm_ids"])) or "-"} for r in v],
                                        ["artist", "proposal", "until", "segments", "lastfm_ids"]) if v else "No artist is listed.")  # fmt: skip


@curate.command()
@click.argument("user", type=int)
@click.option("-n", "count", type=click.IntRange(1, 100), default=10, show_default=True, help="How many artists.")
@click.option("--boost", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="Lift the curated emerging artists by this share of the user's top score.")
@click.option("--model", default="hybrid", show_default=True, help="Recommendation model (as `qfzz recommend for`).")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: the shared copy).")
@chain_options(sends=False)
@json_option
def recommend(session: ChainSession, user: int, count: int, boost: float, model: str, data: Path | None,
              as_json: bool) -> None:  # fmt: skip
    """USER's recommendations with the curated emerging artists boosted, each boost explained.

    The recommender's `emerging_ids` hook takes the index's catalogue items, and only they are
    lifted here (`qfzz recommend for --fairness-boost` lifts the long tail): an item within
    BOOST of the user's top score of a place moves up; the explanation keeps the model's score
    and the boost apart, and names the proposal that listed the artist.
    """
    import numpy as np

    from qfzz_chain.cli.recommend import load_dataset, serving_engine
    from qfzz_chain.curation.ballots import emerging_index
    from qfzz_chain.recommender.fairness import emerging_mask

    curation, ledger = _clients(session)
    listed = {i: e for e in emerging_index(curation, ledger, session.registry, session.store) for i in e.lastfm_ids}
    dataset = load_dataset(data)
    dataset.interactions.user_index(user)
    engine = serving_engine(dataset, model, data, False)
    engine.emerging_ids = set(listed)
    engine.emerging = emerging_mask(np.zeros(dataset.interactions.n_items, dtype=bool), engine.interactions.item_ids,
                                    engine.emerging_ids)  # fmt: skip
    records = []
    for rec in engine.recommend(user, count, fairness_boost=boost):
        curated = listed.get(rec.item)
        records.append({"rank": rec.rank, "item": rec.item, "name": rec.name, "score": round(rec.score, 6),
                        "model_score": round(rec.explanation.score, 6), "boost": round(rec.explanation.fairness_boost, 6),
                        "curated": {"artist": curated.artist, "proposal": curated.proposal_id,
                                    "segments": list(curated.segments)} if curated else None,
                        "explanation": rec.explanation.to_dict(), "explanation_keccak": rec.explanation_hash})  # fmt: skip

    def render(v: list) -> str:
        lines = [f"user {user}, model {model}, emerging boost {boost:g} ({len(listed)} curated catalogue item(s))"]
        for r in v:
            lines.append(f"{r['rank']:>3}. {r['name']} (artist {r['item']})  score {r['score']:.4f}")
            because = ", ".join(p["name"] for p in r["explanation"]["prototypes"]) or "-"
            lines.append(f"     because you played: {because}")
            if r["curated"]:
                lines.append(f"     curated emerging artist: proposal {r['curated']['proposal']} passed for "
                             f"{', '.join(r['curated']['segments'])}; boost +{r['boost']:.4f} on model score {r['model_score']:.4f}")
        return "\n".join(lines)

    emit(records, as_json, render)
