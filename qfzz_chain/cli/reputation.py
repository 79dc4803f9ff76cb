"""``qfzz reputation``: identities, stakes and scores of curators and oracle members; slashing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option, key_values, table

SCALE = 1_000_000


@click.group()
def reputation() -> None:
    """Reputation of curators and oracle members: attested identities, stake, scores, slashing.

    Voting weight needs an identity the attester (a personhood provider) put in its Merkle tree;
    weight = (sqrt(score) + sqrt(score x stake share)) / 2, capped at 1 per identity, so a fresh
    unstaked identity weighs 0.2236 and an address without identity nothing. Scores move towards
    the updater's targets (the seed's four factors) by at most 0.05 per epoch and decay towards the
    prior 0.2.

    \b
    qfzz reputation attest attestations.json        # the attester posts its tree's root
    qfzz reputation bind                             # an account binds its identity
    qfzz reputation stake 0.5                        # ether behind your identity
    qfzz reputation show 0xADDRESS                   # or: --member N for an oracle member
    qfzz reputation score --post                     # the updater posts this epoch's targets
    qfzz reputation slash evidence.json              # an oracle member's two roots for one epoch
    """


def _ledger(session: ChainSession):
    from qfzz_chain.reputation.chain import ReputationLedger

    return ReputationLedger.from_record(session.w3, session.record)


def _score(value: int) -> str:
    return f"{value / SCALE:.4f}"


def _ether(wei: int) -> str:
    return f"{wei / 10**18:g} ETH"


@reputation.command()
@click.argument("address", required=False)
@click.option("--member", type=click.IntRange(0, 255), help="Show oracle committee member N instead of an account.")
@chain_options(sends=False)
@json_option
def show(session: ChainSession, address: str | None, member: int | None, as_json: bool) -> None:
    """ADDRESS's identity, voting weight, curator score and stake (or oracle member N's score and stake)."""
    from web3 import Web3

    from qfzz_chain.reputation.chain import Role
    from qfzz_chain.reputation.errors import ReputationError

    ledger = _ledger(session)
    if member is not None:
        role, subject, value = Role.ORACLE_NODE, member, {"member": member}
    else:
        if address is None or not Web3.is_address(address):
            raise ReputationError(f"{address!r} is not an address: give ADDRESS or --member N")
        voter = ledger.voter_of(address)
        value = {"address": Web3.to_checksum_address(address), "identity": voter.identity, "weight": voter.weight}
        if voter.identity == 0:
            value.update({"bound": False, "score": None, "stake": None, "segment": None})
            emit(value, as_json, lambda v: f"{v['address']} has no identity bound: weight 0 (it cannot propose or vote)")
            return
        record = ledger.identity(voter.identity)
        names = ledger.segments()
        value.update({"bound": True, "identity_id": record.identity_id, "bound_at": record.bound_at,
                      "segment": names[record.segment] if record.segment < len(names) else None})  # fmt: skip
        role, subject = Role.CURATOR, voter.identity
    rep = ledger.reputation_of(role, subject)
    stake = ledger.stake_of(role, subject)
    value.update({"role": role.label, "score": rep.score, "stored_score": rep.stored, "epoch": ledger.current_epoch(),
                  "last_posted_epoch": rep.last_posted_epoch, "stake": stake.active, "unbonding": stake.unbonding,
                  "release_at": stake.release_at})  # fmt: skip

    def render(v: dict) -> str:
        rows = {"role": v["role"]}
        if "address" in v:
            rows.update({"address": v["address"], "identity": f"{v['identity']} (segment {v['segment'] or '-'})",
                         "weight": f"{_score(v['weight'])} of 1.0"})  # fmt: skip
        else:
            rows["member"] = str(v["member"])
        rows.update({"score": f"{_score(v['score'])} (epoch {v['epoch']}; last posted "
                              f"{'never: the prior' if v['last_posted_epoch'] is None else v['last_posted_epoch']})",
                     "stake": _ether(v["stake"]) + (f", {_ether(v['unbonding'])} unbonding" if v["unbonding"] else "")})  # fmt: skip
        return key_values(rows)

    emit(value, as_json, render)


@reputation.command()
@click.argument("attestations", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the tree's dump here (it is added to IPFS either way).")
@chain_options(sends=True)
@json_option
def attest(session: ChainSession, attestations: Path, out: Path | None, as_json: bool) -> None:
    """As the attester: build the identity tree of ATTESTATIONS and post its root.

    ATTESTATIONS is a JSON array of {"account": "0x…", "identity": "0x…32 bytes"} or
    {"account": "0x…", "namespace": "…", "reference": "…"}; one person may hold several accounts
    (one identity id). The tree's dump goes to IPFS (its CID in the event), whence accounts
    take their proofs.
    """
    from qfzz_chain.chain.types import CidParts
    from qfzz_chain.ipfs import parse_cid
    from qfzz_chain.reputation.identity import IdentityTree, read_attestations

    tree = IdentityTree.build(read_attestations(attestations))
    data = tree.to_json().encode()
    cid = session.store.add_bytes(data, cid_version=1).cid
    if out is not None:
        out.write_bytes(data)
    receipt = _ledger(session).post_identity_root(session.sender(), tree.root, len(tree), CidParts.from_cid(parse_cid(cid)))
    value = {"root": tree.root, "identities": len({a.identity_id for a in tree.attestations}), "accounts": len(tree),
             "tree_cid": cid, "transaction": receipt.transaction, "gas_used": receipt.gas_used}  # fmt: skip
    emit(value, as_json, lambda v: f"Posted identity root 0x{tree.root.hex()} ({v['accounts']} accounts, {v['identities']} "
                                   f"identities); tree {v['tree_cid']}")


def _tree(session: ChainSession, ledger, path: Path | None):
    from qfzz_chain.reputation.errors import IdentityError
    from qfzz_chain.reputation.identity import IdentityTree

    if path is not None:
        return IdentityTree.read(path)
    parts = ledger.latest_tree_cid()
    if parts is None:
        raise IdentityError("the attester has posted no identity tree yet")
    data = b"".join(session.store.cat(str(parts)))
    try:
        return IdentityTree.load(json.loads(data))
    except ValueError as exc:
        raise IdentityError(f"the identity tree at {parts} is not JSON: {exc}") from exc


@reputation.command()
@click.option("--tree", "tree_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The attester's tree dump (default: fetched from IPFS by the CID the ledger's last root names).")
@chain_options(sends=True)
@json_option
def bind(session: ChainSession, tree_path: Path | None, as_json: bool) -> None:
    """Bind the sender's attested identity to it: from now on it has voting weight."""
    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.reputation.errors import IdentityError

    ledger = _ledger(session)
    sender = session.sender()
    tree = _tree(session, ledger, tree_path)
    identity_id = tree.identity_of(sender.address)
    if tree.root != ledger.identity_root():
        raise IdentityError("that tree is not the one the ledger holds (its root differs): use the attester's latest")
    try:
        receipt = ledger.bind(sender, identity_id, tree.proof(sender.address))
    except TransactionReverted as exc:
        raise IdentityError(f"the ledger refused the binding: {exc}") from exc
    voter = ledger.voter_of(sender.address)
    value = {"address": sender.address, "identity": voter.identity, "identity_id": identity_id, "weight": voter.weight,
             "transaction": receipt.transaction, "gas_used": receipt.gas_used}  # fmt: skip
    emit(value, as_json, lambda v: f"{v['address']} is identity {v['identity']}: weight {_score(v['weight'])}")


def _stake_subject(ledger, sender, member: int | None):
    """(role, subject) of the sender's own stake: its bound identity, or oracle member N."""
    from qfzz_chain.reputation.chain import Role
    from qfzz_chain.reputation.errors import ReputationError

    if member is not None:
        return Role.ORACLE_NODE, member
    identity = ledger.voter_of(sender.address).identity
    if identity == 0:
        raise ReputationError(f"{sender.address} has no identity bound: bind one before staking")
    return Role.CURATOR, identity


def _stake_refused(exc, what: str) -> Exception:
    """A ledger revert on a stake as one line naming the problem."""
    from datetime import datetime, timezone

    from qfzz_chain.reputation.errors import ReputationError

    args = exc.arguments
    if exc.error == "InsufficientStake":
        return ReputationError(f"cannot unstake {_ether(args['amount'])}: {_ether(args['active'])} is staked")
    if exc.error == "StakeLocked":
        when = datetime.fromtimestamp(args["releaseAt"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return ReputationError(f"the unstaked ether is unbonding until {when}: withdraw it then")
    if exc.error == "ZeroAmount" and what == "withdraw":
        return ReputationError("nothing is unbonding: `qfzz reputation unstake ETHER` first")
    return ReputationError(f"the ledger refused the {what}: {exc}")


def _stake_result(session, ledger, sender, role, subject, receipt) -> dict:
    from qfzz_chain.reputation.chain import Role

    held = ledger.stake_of(role, subject)
    weight = ledger.voter_of(sender.address).weight if role == Role.CURATOR else None
    return {"role": role.label, "subject": subject, "stake": held.active, "unbonding": held.unbonding,
            "release_at": held.release_at or None, "weight": weight, "transaction": receipt.transaction,
            "gas_used": receipt.gas_used}  # fmt: skip


def _stake_transaction(session: ChainSession, member: int | None, what: str, send) -> tuple:
    """Send ``send(ledger, sender, role, subject)`` for the sender's own stake: (the stake after,
    the subject, what was unbonding before)."""
    from qfzz_chain.chain.errors import TransactionReverted

    ledger, sender = _ledger(session), session.sender()
    role, subject = _stake_subject(ledger, sender, member)
    unbonding = ledger.stake_of(role, subject).unbonding
    try:
        receipt = send(ledger, sender, role, subject)
    except TransactionReverted as exc:
        raise _stake_refused(exc, what) from exc
    return _stake_result(session, ledger, sender, role, subject, receipt), subject, unbonding


def _positive_wei(amount: float, what: str) -> int:
    from qfzz_chain.reputation.errors import ReputationError

    if amount <= 0:
        raise ReputationError(f"{what} a positive amount, not {amount:g}")
    return int(round(amount * 10**18))


@reputation.command()
@click.argument("amount", metavar="ETHER", type=float)
@click.option("--member", type=click.IntRange(0, 255), help="Stake for oracle member N (as its operator).")
@chain_options(sends=True)
@json_option
def stake(session: ChainSession, amount: float, member: int | None, as_json: bool) -> None:
    """Stake ETHER behind the sender's identity (or oracle member N): more weight, slashable."""
    wei = _positive_wei(amount, "stake")
    value, subject, _ = _stake_transaction(session, member, "stake", lambda ledger, sender, role, subject:
                                        ledger.stake(sender, role, subject, wei))  # fmt: skip
    emit(value, as_json, lambda v: f"{v['role']} {subject} stakes {_ether(v['stake'])}"
                                   + (f": weight {_score(v['weight'])}" if v["weight"] is not None else ""))


@reputation.command()
@click.argument("amount", metavar="ETHER", type=float)
@click.option("--member", type=click.IntRange(0, 255), help="Unstake oracle member N's stake (as its operator).")
@chain_options(sends=True)
@json_option
def unstake(session: ChainSession, amount: float, member: int | None, as_json: bool) -> None:
    """Start unbonding ETHER of the sender's stake: its weight goes at once, the ether can be
    withdrawn after the unbonding period (until then it can still be slashed for what it backed)."""
    wei = _positive_wei(amount, "unstake")
    value, subject, _ = _stake_transaction(session, member, "unstake", lambda ledger, sender, role, subject:
                                        ledger.request_unstake(sender, role, subject, wei))  # fmt: skip
    emit(value, as_json, lambda v: f"{v['role']} {subject}: {_ether(v['unbonding'])} unbonding, "
                                   f"{_ether(v['stake'])} still staked" + (f" (weight {_score(v['weight'])})" if v["weight"] is not None else ""))  # fmt: skip


@reputation.command("withdraw-stake")
@click.option("--member", type=click.IntRange(0, 255), help="Withdraw oracle member N's unbonded stake (as its operator).")
@chain_options(sends=True)
@json_option
def withdraw_stake(session: ChainSession, member: int | None, as_json: bool) -> None:
    """Withdraw the sender's unbonded stake once its unbonding period is over."""
    value, subject, unbonding = _stake_transaction(session, member, "withdraw", lambda ledger, sender, role, subject:
                                                   ledger.withdraw_stake(sender, role, subject))  # fmt: skip
    value["withdrawn"] = unbonding
    emit(value, as_json, lambda v: f"{v['role']} {subject}: withdrew {_ether(v['withdrawn'])}")


@reputation.command("withdraw-reward")
@chain_options(sends=True)
@json_option
def withdraw_reward(session: ChainSession, as_json: bool) -> None:
    """Withdraw what the ledger owes the sender for reporting (a share of a slashed stake)."""
    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.reputation.errors import ReputationError

    ledger, sender = _ledger(session), session.sender()
    owed = ledger.reward_of(sender.address)
    if owed == 0:
        raise ReputationError(f"the ledger owes {sender.address} no reward")
    try:
        receipt = ledger.withdraw_reward(sender)
    except TransactionReverted as exc:
        raise ReputationError(f"the ledger refused the withdrawal: {exc}") from exc
    value = {"account": sender.address, "withdrawn": owed, "transaction": receipt.transaction,
             "gas_used": receipt.gas_used}  # fmt: skip
    emit(value, as_json, lambda v: f"withdrew {_ether(v['withdrawn'])} of reporting rewards to {v['account']}")


def _measured_confirmations(session: ChainSession, member_home: Path) -> dict[str, float]:
    """Confirmation rates by artist address: the artist's registered tracks name the catalogue
    items (their metadata's ``lastfm_id``) whose lifted recommendations count for them."""
    from qfzz_chain.curation.ballots import LASTFM_FIELD
    from qfzz_chain.reputation.confirmations import FollowUps, confirmation_rates, follow_ups
    from qfzz_chain.tracks import read_metadata

    lifted, organic = follow_ups(member_home)
    by_artist: dict[str, FollowUps] = {}
    for history in session.registry.histories().values():
        item = (read_metadata(session.store, str(history.metadata.metadata)) or {}).get(LASTFM_FIELD)
        if isinstance(item, int) and item in lifted:
            by_artist[history.artist.lower()] = by_artist.get(history.artist.lower(), FollowUps()) + lifted.pop(item)
    return confirmation_rates(by_artist, organic)


@reputation.command()
@click.option("--post", is_flag=True, help="Post the targets (as the ledger's updater) for the current epoch.")
@click.option("--confirmations", type=click.Path(dir_okay=False, path_type=Path),
              help='Listener confirmation of listed artists: JSON {"0xARTIST": rate}, 1.0 = as often listened as organic picks.')
@click.option("--confirmations-from", "member_home", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Measure them instead from an oracle member's home (its applied epochs: lifted "
                   "recommendations of curated artists followed by a listen, against organic ones).")
@chain_options(sends=True)
@json_option
def score(session: ChainSession, post: bool, confirmations: Path | None, member_home: Path | None, as_json: bool) -> None:
    """Compute every curator's and oracle member's factors and target from the chain's record.

    Factors (seed 6.2): historical agreement, preference stability, network validation,
    recommendation diversity; target = 0.4 A + 0.25 V + A (0.15 S + 0.2 D), shrunk towards the prior
    0.2 by 5 pseudo-observations (docs/curation.md). With --post the ledger moves each score by
    at most 0.05 towards its target.
    """
    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.curation.chain import EmergingArtistCuration
    from qfzz_chain.oracle.chain import RecommendationOracle
    from qfzz_chain.reputation.errors import EvidenceError, ReputationError
    from qfzz_chain.reputation.scoring import score_all, updates_of

    rates = {}
    if confirmations is not None and member_home is not None:
        raise EvidenceError("give --confirmations or --confirmations-from, not both")
    if member_home is not None:
        rates = _measured_confirmations(session, member_home)
    if confirmations is not None:
        try:
            rates = {str(k): float(v) for k, v in json.loads(confirmations.read_text()).items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise EvidenceError(f"{confirmations}: not a JSON object of artist -> rate ({exc})") from exc
    ledger = _ledger(session)
    curation = EmergingArtistCuration.from_record(session.w3, session.record)
    oracle = RecommendationOracle.from_record(session.w3, session.record)
    scored = score_all(ledger, curation, oracle, rates)
    rows = [{"role": s.role.label, "subject": s.subject, **s.factors.as_dict(), "score_now": s.score_now,
             "score_after": s.score_after} for s in scored]  # fmt: skip
    value: dict = {"epoch": ledger.current_epoch(), "subjects": rows, "posted": None}
    if post and scored:
        try:
            receipt = ledger.post_scores(session.sender(), value["epoch"], updates_of(scored, ledger))
        except TransactionReverted as exc:
            raise ReputationError(f"the ledger refused the scores: {exc}") from exc
        value["posted"] = {"transaction": receipt.transaction, "gas_used": receipt.gas_used}

    def render(v: dict) -> str:
        if not v["subjects"]:
            return f"epoch {v['epoch']}: no curator or member has anything on record yet"
        shown = [{**r, **{k: f"{r[k]:.3f}" for k in ("agreement", "stability", "validation", "diversity")},
                  "target": _score(r["target"]), "score_now": _score(r["score_now"]), "score_after": _score(r["score_after"])}
                 for r in v["subjects"]]  # fmt: skip
        text = f"epoch {v['epoch']}\n" + table(shown, ["role", "subject", "agreement", "stability", "validation", "diversity",
                                                      "observations", "target", "score_now", "score_after"])  # fmt: skip
        if v["posted"]:
            text += f"\nposted: transaction {v['posted']['transaction']} ({v['posted']['gas_used']:,} gas)"
        return text

    emit(value, as_json, render)


@reputation.command()
@click.argument("evidence", type=click.Path(dir_okay=False, path_type=Path))
@chain_options(sends=True)
@json_option
def slash(session: ChainSession, evidence: Path, as_json: bool) -> None:
    """Slash an oracle member with EVIDENCE of two roots signed for one epoch (the file a committee
    node keeps in its evidence folder): checked on-chain by BLS; its score goes to zero, its stake
    is taken, the reporter gets 10%."""
    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.reputation.errors import EvidenceError
    from qfzz_chain.zk import bls

    try:
        data = json.loads(evidence.read_text())
        batches = data["batches"]
        proof = [int(data["member"]), bytes.fromhex(data["public_key"])]
        for batch in batches[:2]:
            fields = batch["fields"]
            proof += [(int(fields["epoch"]), bytes.fromhex(fields["root"]), int(fields["leaf_count"]),
                       int(fields["model_version"]), bytes.fromhex(fields["inputs"])),
                      bls.to_eip2537(bls.signature_from_bytes(bytes.fromhex(batch["signature"])))]  # fmt: skip
        if len(batches) != 2:
            raise ValueError(f"{len(batches)} batches, not 2")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"{evidence}: not equivocation evidence ({exc})") from exc
    ledger = _ledger(session)
    try:
        receipt = ledger.slash_equivocation(session.sender(), tuple(proof))
    except TransactionReverted as exc:
        raise EvidenceError(f"the ledger refused the evidence: {exc}") from exc
    value = {"member": proof[0], "epoch": proof[2][0], "transaction": receipt.transaction, "gas_used": receipt.gas_used}
    emit(value, as_json, lambda v: f"member {v['member']} slashed for epoch {v['epoch']} ({v['gas_used']:,} gas)")


@reputation.command()
@click.option("--attester", metavar="ADDRESS", help="Name the attester (the personhood provider that posts identity roots).")
@click.option("--updater", metavar="ADDRESS", help="Name the updater (who posts score targets each epoch).")
@click.option("--add-segment", "new_segments", multiple=True, metavar="NAME",
              help="Define a listener segment (genre, culture or region tag, e.g. region:west-africa). Repeatable.")
@chain_options(sends=True)
@json_option
def admin(session: ChainSession, attester: str | None, updater: str | None, new_segments: tuple[str, ...],
          as_json: bool) -> None:  # fmt: skip
    """As the ledger's owner: name the attester and the updater, define listener segments; shows the settings."""
    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.reputation.errors import ReputationError

    ledger = _ledger(session)
    try:
        if attester:
            ledger.set_attester(session.sender(), attester)
        if updater:
            ledger.set_updater(session.sender(), updater)
        defined = ledger.segments()
        for name in new_segments:
            if name not in defined:
                ledger.add_segment(session.sender(), name)
    except TransactionReverted as exc:
        raise ReputationError(f"the ledger refused: {exc} (only its owner administers it)") from exc
    value = {"attester": ledger.attester(), "updater": ledger.updater(), "segments": ledger.segments(),
             "stake_saturation": ledger.stake_saturation(), "epoch": ledger.current_epoch()}  # fmt: skip
    emit(value, as_json, lambda v: key_values({**v, "segments": ", ".join(v["segments"]) or "-",
                                               "stake_saturation": _ether(v["stake_saturation"])}))


@reputation.command()
@click.argument("assignments", nargs=-1, required=True, metavar="ADDRESS=SEGMENT...")
@chain_options(sends=True)
@json_option
def assign(session: ChainSession, assignments: tuple[str, ...], as_json: bool) -> None:
    """As the updater: put curators in listener segments (their score unchanged), for this epoch.

    Segments weigh votes across cultures: a proposal cannot pass on one segment's votes alone.
    This uses the curators' one score update of the epoch.
    """
    from web3 import Web3

    from qfzz_chain.chain.errors import TransactionReverted
    from qfzz_chain.reputation.chain import Role, ScoreUpdate
    from qfzz_chain.reputation.errors import ReputationError

    ledger = _ledger(session)
    names = ledger.segments()
    updates, rows = [], []
    for text in assignments:
        address, _, segment = text.partition("=")
        if not Web3.is_address(address) or segment not in names:
            raise ReputationError(f"{text!r} is not ADDRESS=SEGMENT with a defined segment ({', '.join(names) or 'none'})")
        identity = ledger.voter_of(address).identity
        if identity == 0:
            raise ReputationError(f"{address} has no identity bound")
        score_now = ledger.reputation_of(Role.CURATOR, identity).score
        updates.append(ScoreUpdate(Role.CURATOR, identity, score_now, names.index(segment)))
        rows.append({"address": Web3.to_checksum_address(address), "identity": identity, "segment": segment})
    try:
        receipt = ledger.post_scores(session.sender(), ledger.current_epoch(), updates)
    except TransactionReverted as exc:
        raise ReputationError(f"the ledger refused: {exc} (only the updater assigns, once per curator and epoch)") from exc
    emit({"assigned": rows, "transaction": receipt.transaction, "gas_used": receipt.gas_used}, as_json,
         lambda v: table(v["assigned"], ["address", "identity", "segment"]))
