"""``qfzz royalties``: split a track's composition and master, pay it, push its cascade to the
tracks it derives from, see and withdraw what you are owed, trace where its money went, and run
listening-epoch payouts."""

from __future__ import annotations

import re
from pathlib import Path

import click

from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option, key_values, table
from qfzz_chain.royalties.errors import RoyaltiesError, SplitInputError

ETH = "0x0000000000000000000000000000000000000000"
_TRACK_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


@click.group()
def royalties() -> None:
    """Royalty splits, payments, cascades and listening epochs for registered tracks.

    Each track has two rights, as the industry has them: the composition (writers, publishers)
    and the master recording (performers, label), each split in basis points (10,000 = 100%) or
    percentages. A derivative routes a share of each right to its parents: a cover to its
    parents' composition, a remix or a sample to both.

    \b
    qfzz royalties split TRACK --composition 0xWRITER=60%,0xPUBLISHER=40% --master 0xARTIST=100%
    qfzz royalties split REMIX --composition parents=30%,0xME=70% --master parents=30%,0xME=70%
    qfzz royalties pay TRACK 0.05 --right both --ratio 50%     # 0.05 ETH, half to each right
    qfzz royalties pay TRACK 12.5 --token 0xUSDC --right master
    qfzz royalties push REMIX                                  # carry its parents' share up the tree
    qfzz royalties balance 0xWRITER                            # per track and token, and what is waiting
    qfzz royalties withdraw                                    # everything owed to you, one transaction
    qfzz royalties flow TRACK --chart flow.png                 # where every wei it earned went
    qfzz royalties epoch build plays.csv --pool 1000 --token 0xUSDC --scheme user-centric --out epoch.json
    qfzz royalties epoch post epoch.json && qfzz royalties epoch claim epoch.json

    A registration becomes final a day after it is made (until then an older commitment could
    take it over); splits are set on final registrations only.
    """


# ---- shared helpers -------------------------------------------------------------------------


def _service(session: ChainSession):
    from qfzz_chain.royalties.contract import RoyaltiesContract
    from qfzz_chain.royalties.service import RoyaltiesService

    return RoyaltiesService(RoyaltiesContract.from_record(session.w3, session.record), session.registry)


def _track(session: ChainSession, text: str) -> bytes:
    if _TRACK_ID.match(text):
        return bytes.fromhex(text[2:])
    from qfzz_chain.tracks import resolve_track_ref  # a CID: look it up among the registrations

    return resolve_track_ref(session.registry, text)


def _token(text: str | None) -> str:
    if not text or text.lower() in ("eth", "ether"):
        return ETH
    from web3 import Web3

    if not Web3.is_address(text):
        raise RoyaltiesError(f"--token {text!r} is not an address (or eth)")
    return Web3.to_checksum_address(text)


def _ratio(text: str) -> int:
    from qfzz_chain.royalties.splits import BPS, parse_bps

    value = parse_bps(text)
    if value > BPS:
        raise SplitInputError(f"{text} is more than 100%")
    return value


def _amount_text(service, token: str, value: int) -> str:
    from qfzz_chain.royalties.amounts import format_amount

    return format_amount(value, service.decimals(token), service.token_label(token))


def _split_option(right_name: str):
    return click.option(f"--{right_name}", "splits_" + right_name, metavar="SPEC",
                        help=f"The {right_name} split: ADDRESS=SHARE,... with shares in bps or %; parents=SHARE routes "
                             "that share to the track's parents. Listed order is the order each block is filled.")  # fmt: skip


def _parse_split(spec: str):
    from qfzz_chain.royalties.splits import Split, parse_bps, parse_split

    upstream, rest = 0, []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, share = part.partition("=")
        if name.strip().lower() == "parents":
            upstream = parse_bps(share)
        else:
            rest.append(part)
    if not rest:
        return Split((), (), upstream)
    return parse_split(",".join(rest), upstream)


# ---- splits ---------------------------------------------------------------------------------


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@_split_option("composition")
@_split_option("master")
@click.option("--lock", is_flag=True, help="Lock the given splits forever (no controller can change them again).")
@chain_options(sends=True)
@json_option
def split(session: ChainSession, track_ref: str, splits_composition, splits_master, lock: bool, as_json: bool):
    """Set TRACK's composition and/or master split (a new version if one is set already).

    The first split of a right is the registered artist's, on a final registration; later
    versions are the controller's (the artist, until `qfzz royalties control`). Money already
    paid stays with the version it was paid under. A derivative's lineage, and its ancestors',
    is recorded first when needed (anyone may: it is the registry's).
    """
    from qfzz_chain.royalties.splits import Right

    given = {Right.COMPOSITION: splits_composition, Right.MASTER: splits_master}
    splits = {right: _parse_split(spec) for right, spec in given.items() if spec}
    service = _service(session)
    track_id = _track(session, track_ref)
    done = service.set_splits(session.sender(), track_id, splits, lock=lock)

    def render(value: dict) -> str:
        lines = [f"track {value['track_id']}"]
        if value["lineage_transactions"]:
            lines.append(f"  recorded the lineage of {len(value['lineage_transactions'])} track(s) first")
        for right, entry in value["splits"].items():
            state = "locked forever" if entry["locked"] else "controller can change it"
            lines.append(f"  {right} split version {entry['version']} ({state}), gas {entry['gas_used']:,}, tx "
                         f"{entry['transaction']}")  # fmt: skip
        return "\n".join(lines)

    emit(done, as_json, render)


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@chain_options(sends=False)
@json_option
def show(session: ChainSession, track_ref: str, as_json: bool):
    """Show TRACK's splits (every version), controllers, lineage and ERC-2981 receiver."""
    from qfzz_chain.royalties.splits import Right

    service = _service(session)
    track_id = _track(session, track_ref)
    state = service.contract.track_state(track_id)
    versions = service.contract.split_versions(track_id)
    sale = service.contract.sale_royalty(track_id)
    view = {
        "track_id": "0x" + track_id.hex(),
        "lineage": {"recorded": state.lineage_recorded, "depth": state.depth,
                    "parents": [{"track_id": "0x" + p.track_id.hex(), "relation": p.relation.name.lower()}
                                for p in service.graph.parents.get(track_id, ())]},  # fmt: skip
        "rights": {},
        "sale_royalty": {"set": sale[0], "royalty_bps": sale[1], "composition_bps": sale[2],
                         "receiver": service.contract.receiver_of(track_id)},  # fmt: skip
    }
    for right in Right:
        controller, pending = service.contract.controller_of(track_id, right)
        view["rights"][right.label] = {
            "set": state.is_set(right), "locked": state.is_locked(right), "current_version": state.version(right),
            "controller": controller, "pending_controller": pending,
            "versions": [{"version": v.version, "recipients": dict(zip(v.split.recipients, v.split.bps)),
                          "upstream_bps": v.split.upstream_bps, "hash": "0x" + v.hash.hex(), "block": v.block}
                         for v in versions if v.right == right],
        }  # fmt: skip

    def render(value: dict) -> str:
        lines = [f"track {value['track_id']}  (lineage {'recorded, depth ' + str(value['lineage']['depth']) if value['lineage']['recorded'] else 'not recorded'})"]
        for p in value["lineage"]["parents"]:
            lines.append(f"  parent {p['track_id']} ({p['relation']})")
        for right, r in value["rights"].items():
            if not r["set"]:
                lines.append(f"{right}: no split yet")
                continue
            who = "locked forever" if r["locked"] else f"controller {r['controller']}"
            lines.append(f"{right}: version {r['current_version']}, {who}")
            for v in r["versions"]:
                shares = ", ".join(f"{a} {b / 100:g}%" for a, b in v["recipients"].items())
                upstream = f", parents {v['upstream_bps'] / 100:g}%" if v["upstream_bps"] else ""
                lines.append(f"  v{v['version']}: {shares}{upstream}")
        s = value["sale_royalty"]
        if s["set"]:
            lines.append(f"ERC-2981: {s['royalty_bps'] / 100:g}% of a sale to {s['receiver']} "
                         f"({s['composition_bps'] / 100:g}% of it to the composition)")  # fmt: skip
        return "\n".join(lines)

    emit(view, as_json, render)


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.argument("right_name", metavar="RIGHT", type=click.Choice(["composition", "master"]))
@click.argument("new_controller", metavar="ADDRESS", required=False)
@click.option("--cancel", is_flag=True, help="Withdraw a pending offer instead of making one.")
@chain_options(sends=True)
@json_option
def control(session: ChainSession, track_ref, right_name, new_controller, cancel, as_json):
    """Offer control of TRACK's RIGHT split to ADDRESS, who takes it with `qfzz royalties accept`."""
    from qfzz_chain.royalties.splits import Right

    if cancel == (new_controller is not None):
        raise RoyaltiesError("give either the new controller's ADDRESS or --cancel")
    service = _service(session)
    track_id = _track(session, track_ref)
    receipt = service.contract.transfer_control(session.sender(), track_id, Right.parse(right_name),
                                                new_controller or ETH)  # fmt: skip
    emit({"track_id": "0x" + track_id.hex(), "right": right_name, "offered_to": new_controller,
          "transaction": receipt.transaction}, as_json)  # fmt: skip


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.argument("right_name", metavar="RIGHT", type=click.Choice(["composition", "master"]))
@chain_options(sends=True)
@json_option
def accept(session: ChainSession, track_ref, right_name, as_json):
    """Accept control of TRACK's RIGHT split offered to you."""
    from qfzz_chain.royalties.splits import Right

    service = _service(session)
    track_id = _track(session, track_ref)
    sender = session.sender()
    receipt = service.contract.accept_control(sender, track_id, Right.parse(right_name))
    emit({"track_id": "0x" + track_id.hex(), "right": right_name, "controller": sender.address,
          "transaction": receipt.transaction}, as_json)  # fmt: skip


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.argument("rate")
@click.option("--composition", "composition", default="50%", show_default=True, metavar="SHARE",
              help="Of what the receiver collects, the part credited to the composition (the rest: the master).")
@chain_options(sends=True)
@json_option
def sale(session: ChainSession, track_ref, rate, composition, as_json):
    """Set TRACK's ERC-2981 royalty: RATE (e.g. 10%) of a sale, paid to its receiver address."""
    service = _service(session)
    track_id = _track(session, track_ref)
    receipt = service.contract.set_sale_royalty(session.sender(), track_id, _ratio(rate), _ratio(composition))
    emit({"track_id": "0x" + track_id.hex(), "royalty_bps": _ratio(rate), "composition_bps": _ratio(composition),
          "receiver": service.contract.receiver_of(track_id), "transaction": receipt.transaction}, as_json)  # fmt: skip


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.option("--token", "token_text", metavar="ADDRESS", help="Collect this token instead of ETH.")
@chain_options(sends=True)
@json_option
def flush(session: ChainSession, track_ref, token_text, as_json):
    """Credit what TRACK's ERC-2981 receiver holds to its splits (anyone may)."""
    service = _service(session)
    track_id = _track(session, track_ref)
    receipt = service.contract.flush_receiver(session.sender(), track_id, _token(token_text))
    emit({"track_id": "0x" + track_id.hex(), "receiver": service.contract.receiver_of(track_id),
          "transaction": receipt.transaction, "gas_used": receipt.gas_used}, as_json)  # fmt: skip


# ---- paying and pushing ---------------------------------------------------------------------


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.argument("amount_text", metavar="AMOUNT")
@click.option("--token", "token_text", metavar="ADDRESS", help="Pay in this ERC-20 token (approved as needed) instead of ETH.")
@click.option("--right", "right_name", type=click.Choice(["composition", "master", "both"]), default="both",
              show_default=True, help="Which right the payment is for.")
@click.option("--ratio", default="50%", show_default=True, metavar="SHARE",
              help="With --right both: the composition's part (the master gets the rest).")
@chain_options(sends=True)
@json_option
def pay(session: ChainSession, track_ref, amount_text, token_text, right_name, ratio, as_json):
    """Pay TRACK AMOUNT (whole ETH or token units, e.g. 0.05; or 1000wei) for one right or both.

    The cost does not grow with the number of recipients: each withdraws its share later.
    """
    from qfzz_chain.royalties.amounts import parse_amount
    from qfzz_chain.royalties.splits import BPS

    service = _service(session)
    token = _token(token_text)
    amount = parse_amount(amount_text, service.decimals(token))
    composition_bps = {"composition": BPS, "master": 0}.get(right_name) if right_name != "both" else _ratio(ratio)
    track_id = _track(session, track_ref)
    done = service.pay(session.sender(), track_id, amount, token, composition_bps)
    emit(done, as_json, lambda v: (
        f"paid track {v['track_id']}: {_amount_text(service, token, v['composition'])} to the composition, "
        f"{_amount_text(service, token, v['master'])} to the master (gas {v['gas_used']:,}, tx {v['transaction']})"))


@royalties.command()
@click.argument("track_ref", metavar="TRACK", required=False)
@click.option("--all", "everything", is_flag=True, help="Push every pending cascade, not one track's.")
@click.option("--token", "token_text", metavar="ADDRESS", help="Push this token instead of ETH.")
@chain_options(sends=True)
@json_option
def push(session: ChainSession, track_ref, everything, token_text, as_json):
    """Push what TRACK owes its parents, and what that brings them on up the tree, in one
    transaction (anyone may: a parent never has to chase its derivatives)."""
    if everything == (track_ref is not None):
        raise RoyaltiesError("give a TRACK or --all")
    service = _service(session)
    token = _token(token_text)
    done = service.push(session.sender(), None if everything else _track(session, track_ref), token)

    def render(value: dict) -> str:
        lines = [f"pushed {len(value['pushes'])} cascade step(s), gas {value['gas_used']:,}, tx {value['transaction']}"]
        for p in value["pushes"]:
            to = ", ".join(f"{t['parent'][:10]}.. {_amount_text(service, token, t['amount'])}" for t in p["to"])
            lines.append(f"  {p['from'][:10]}.. {p['right']} v{p['version']}: {to}")
        return "\n".join(lines)

    emit(done, as_json, render)


# ---- balances, withdrawals, flows ---------------------------------------------------------------


@royalties.command()
@click.argument("address", required=False)
@click.option("--token", "tokens", multiple=True, metavar="ADDRESS", help="Only this token (repeatable; eth for ETH).")
@chain_options(sends=True)
@json_option
def balance(session: ChainSession, address, tokens, as_json):
    """What ADDRESS (default: you) can withdraw, per track, right and token, and what is still
    waiting in a cascade (it arrives with a push)."""
    service = _service(session)
    address = address or session.sender().address
    rows = service.balance(address, [_token(t) for t in tokens] or None)
    view = [{"track_id": "0x" + r.track_id.hex(), "right": r.right.label, "version": r.version, "bps": r.bps,
             "token": r.token, "withdrawable": r.withdrawable, "waiting_in_cascade": r.waiting} for r in rows]  # fmt: skip

    def render(_) -> str:
        if not rows:
            return f"Nothing is owed to {address}."
        shown = [{"track": "0x" + r.track_id.hex()[:8] + "..", "right": f"{r.right.label} v{r.version}",
                  "share": f"{r.bps / 100:g}%", "withdrawable": _amount_text(service, r.token, r.withdrawable),
                  "waiting in cascade": _amount_text(service, r.token, r.waiting)} for r in rows]  # fmt: skip
        return f"{address}\n" + table(shown, ["track", "right", "share", "withdrawable", "waiting in cascade"])

    emit({"address": address, "balances": view}, as_json, render)


@royalties.command()
@click.option("--token", "tokens", multiple=True, metavar="ADDRESS", help="Only this token (repeatable; eth for ETH).")
@chain_options(sends=True)
@json_option
def withdraw(session: ChainSession, tokens, as_json):
    """Withdraw everything owed to you, every track and token, in one transaction."""
    service = _service(session)
    done = service.withdraw(session.sender(), [_token(t) for t in tokens] or None)
    emit(done, as_json, lambda v: (
        f"withdrew {', '.join(_amount_text(service, t, a) for t, a in v['paid'].items())} from {v['shares']} share(s) "
        f"to {v['recipient']} (gas {v['gas_used']:,}, tx {v['transaction']})"))


@royalties.command()
@click.argument("track_ref", metavar="TRACK")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), metavar="PNG",
              help="Also draw the flows of one token (--token, default ETH): what came in against where it went.")
@click.option("--token", "token_text", metavar="ADDRESS", help="The token the chart draws (default ETH).")
@chain_options(sends=False)
@json_option
def flow(session: ChainSession, track_ref, chart, token_text, as_json):
    """Where every wei TRACK earned went: what came in (payments, derivatives, epochs) and what
    went out (each recipient's withdrawn and owed, each parent's push, what waits), balanced."""
    from qfzz_chain.royalties import flows as flow_core

    service = _service(session)
    track_id = _track(session, track_ref)
    rows = service.flows(track_id)
    if chart is not None:
        token = _token(token_text)
        flow_core.draw_flows(rows, token, f"Track 0x{track_id.hex()[:10]}.. in {service.token_label(token)}", chart,
                              lambda v: _amount_text(service, token, v))  # fmt: skip
    view = {"track_id": "0x" + track_id.hex(), "chart": str(chart) if chart else None,
            "totals": flow_core.totals(rows),
            "flows": [{"direction": r.direction, "from": r.source, "to": r.destination, "right": r.right.label,
                       "version": r.version, "token": r.token, "amount": r.amount, "state": r.state} for r in rows]}  # fmt: skip

    def render(value: dict) -> str:
        if not rows:
            return f"track {value['track_id']} has received nothing yet"
        shown = [{"": "in" if r.direction == "in" else "out", "from": r.source, "to": r.destination,
                  "right": r.right.label + (f" v{r.version}" if r.version is not None else ""),
                  "amount": _amount_text(service, r.token, r.amount), "state": r.state} for r in rows]  # fmt: skip
        sums = "; ".join(f"{_amount_text(service, t, s['in'])} in = {_amount_text(service, t, s['out'])} out"
                         for t, s in value["totals"].items())  # fmt: skip
        drawn = f"\nchart: {value['chart']}" if value["chart"] else ""
        return f"track {value['track_id']}\n" + table(shown, ["", "from", "to", "right", "amount", "state"]) + \
            f"\nbalanced: {sums}{drawn}"  # fmt: skip

    emit(view, as_json, render)


# ---- listening epochs -------------------------------------------------------------------------


@royalties.group()
def epoch() -> None:
    """Listening epochs: a funded pool shared by play counts, claimed per track with a proof.

    \b
    qfzz royalties epoch build plays.csv --pool 1000 --token 0xUSDC --out epoch.json
    qfzz royalties epoch post epoch.json                      # fund it and post its Merkle root
    qfzz royalties epoch claim epoch.json [TRACK ...]         # credit each track's splits, once
    qfzz royalties epoch compare --chart schemes.png          # pro-rata vs user-centric on Last.fm
    """


@epoch.command()
@click.argument("plays", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pool", "pool_text", required=True, metavar="AMOUNT", help="What the epoch pays out, in whole units.")
@click.option("--token", "token_text", metavar="ADDRESS", help="The pool's ERC-20 token (default ETH).")
@click.option("--scheme", type=click.Choice(["pro-rata", "user-centric"]), default="pro-rata", show_default=True,
              help="pro-rata: shared by total plays; user-centric: each listener's equal part shared among what they "
                   "played (needs a listener column).")
@click.option("--composition", "composition", default="20%", show_default=True, metavar="SHARE",
              help="The part of each track's amount credited to its composition (the rest: the master).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The epoch file to write.")
@chain_options(sends=False)
@json_option
def build(session: ChainSession, plays, pool_text, token_text, scheme, composition, out, as_json):
    """Compute each track's amount from PLAYS (CSV: track,plays or listener,track,plays; tracks by
    id or CID) and write the epoch file: the amounts and their OpenZeppelin standard Merkle tree."""
    from qfzz_chain.royalties import epochs
    from qfzz_chain.royalties.amounts import parse_amount
    from qfzz_chain.royalties.service import build_epoch, read_plays, write_epoch_file

    if not out.parent.is_dir():
        raise RoyaltiesError(f"--out {out}: the folder {out.parent} does not exist")
    from qfzz_chain.royalties.amounts import format_amount

    token = _token(token_text)
    service = None if token == ETH else _service(session)
    decimals = 18 if service is None else service.decimals(token)
    label = "ETH" if service is None else service.token_label(token)
    pool = parse_amount(pool_text, decimals)
    totals, listens = read_plays(plays, lambda ref: _track(session, ref))
    if scheme == "user-centric":
        if not listens:
            raise RoyaltiesError(f"{plays} has no listener column: user-centric shares each listener's part")
        amounts = epochs.user_centric(listens, pool)
    else:
        amounts = epochs.pro_rata(totals, pool)
    epoch_data = build_epoch(amounts, pool=pool, token=token, scheme=scheme, composition_bps=_ratio(composition))
    write_epoch_file(out, epoch_data)
    emit({"file": str(out), "root": epoch_data["root"], "leaves": epoch_data["leaves"], "pool": pool, "token": token,
          "scheme": scheme}, as_json, lambda v: (
        f"wrote {v['file']}: {format_amount(pool, decimals, label)} over {v['leaves']} track(s) ({scheme}), "
        f"root {v['root']}"))  # fmt: skip


@epoch.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@chain_options(sends=True)
@json_option
def post(session: ChainSession, file, as_json):
    """Fund the epoch in FILE and post its root; the epoch's number is written back to FILE."""
    service = _service(session)
    emit(service.post_epoch(session.sender(), file), as_json, lambda v: (
        f"posted epoch {v['epoch_id']}: {_amount_text(service, v['token'], v['pool'])} over {v['leaves']} track(s), "
        f"root {v['root']} (gas {v['gas_used']:,}, tx {v['transaction']})"))


@epoch.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("track_refs", metavar="[TRACK]...", nargs=-1)
@click.option("--epoch", "epoch_id", type=int, help="The epoch's number (default: the one FILE was posted as).")
@chain_options(sends=True)
@json_option
def claim(session: ChainSession, file, track_refs, epoch_id, as_json):
    """Credit each track's amount of the epoch in FILE to its splits, with its proof (default:
    every leaf not yet claimed whose track has its splits set)."""
    service = _service(session)
    tracks = [_track(session, t) for t in track_refs] or None
    done = service.claim_epoch(session.sender(), file, tracks, epoch_id)
    rows = [{"track": d["track_id"][:12] + "..", "leaf": d["index"], "claimed": d["claimed"],
             "gas": f"{d['gas_used']:,}" if "gas_used" in d else ""} for d in done]  # fmt: skip
    emit(done, as_json, lambda _: table(rows, ["track", "leaf", "claimed", "gas"]) if rows else "Nothing left to claim.")


@epoch.command()
@click.option("--pool", "pool_text", default="1000000", show_default=True, metavar="AMOUNT",
              help="The pool shared, in whole units of a 6-decimal dollar token.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), metavar="PNG",
              help="Also draw the shares per popularity group and the Lorenz curves.")
@json_option
def compare(pool_text, chart, as_json):
    """Pro-rata against user-centric on the Last.fm 2K play counts: how much of the pool each
    scheme gives the most-played artists and the long tail. Needs no chain."""
    from qfzz_chain.royalties import lastfm
    from qfzz_chain.royalties.amounts import parse_amount

    result = lastfm.compare(parse_amount(pool_text, 6))
    if chart is not None:
        lastfm.draw(result, chart)
    view = {
        "pool": result.pool, "listeners": result.listeners, "artists": result.artists, "pairs": result.pairs,
        "groups": [{"group": g.label, "artists": g.tracks, "plays_share": round(g.plays_share, 6),
                    "pro_rata_share": round(g.pro_rata_share, 6), "user_centric_share": round(g.user_centric_share, 6),
                    "moved": round(g.moved, 6)} for g in result.groups],
        "gainers": result.gainers, "losers": result.losers, "moved": result.moved,
        "top_artist": result.top_artist, "top_pro_rata": result.top_pro_rata,
        "top_user_centric": result.top_user_centric, "gini_pro_rata": round(result.gini_pro_rata, 4),
        "gini_user_centric": round(result.gini_user_centric, 4), "chart": str(chart) if chart else None,
    }  # fmt: skip

    def render(value: dict) -> str:
        rows = [{"artists (by plays)": f"{g['group']} ({g['artists']:,})", "plays": f"{100 * g['plays_share']:.2f}%",
                 "pro-rata": f"{100 * g['pro_rata_share']:.2f}%", "user-centric": f"{100 * g['user_centric_share']:.2f}%",
                 "moved": f"{100 * g['moved']:+.2f} pt"} for g in value["groups"]]  # fmt: skip
        dollars = value["moved"] / 10**6
        return (table(rows, ["artists (by plays)", "plays", "pro-rata", "user-centric", "moved"]) + "\n" + key_values({
            "moved": f"${dollars:,.2f} of ${value['pool'] / 10**6:,.0f} changes hands "
                     f"({value['gainers']:,} artists gain, {value['losers']:,} lose)",
            "top artist": f"{value['top_artist']}: ${value['top_pro_rata'] / 10**6:,.2f} pro-rata, "
                          f"${value['top_user_centric'] / 10**6:,.2f} user-centric",
            "Gini": f"{value['gini_pro_rata']} pro-rata, {value['gini_user_centric']} user-centric",
        }) + (f"\nchart: {value['chart']}" if value["chart"] else ""))  # fmt: skip

    emit(view, as_json, render)
