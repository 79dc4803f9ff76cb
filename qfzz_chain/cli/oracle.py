"""``qfzz oracle``: the committee that anchors recommendation batches, and the listener's side of it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click

from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option, table


@click.group()
def oracle() -> None:
    """Committee nodes batch each epoch's recommendations, sign the Merkle root of their receipts
    with BLS, and anchor it on-chain; listeners fetch their receipts and verify them.

    \b
    qfzz oracle committee init --size 4 --dir committee/    keys, ports, homes for four nodes
    qfzz oracle committee join --committee committee/committee.json
    qfzz oracle model publish --activate-next              the model version nodes serve
    qfzz oracle node --committee committee/committee.json --index 0     one node (a process each)
    qfzz oracle request lastfm:2 --node 127.0.0.1:7700 --listen 89:3    a listener asks
    qfzz oracle epoch --advance                            (local chain) close the epoch
    qfzz oracle receipts lastfm:2 --node 127.0.0.1:7700 --out receipts/
    qfzz verify receipts/…json
    """


def _oracle(session: ChainSession):
    from qfzz_chain.oracle.chain import RecommendationOracle

    return RecommendationOracle.from_record(session.w3, session.record)


def _node_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{text!r} is not HOST:PORT")
    return host, int(port)


node_option = click.option("--node", "node_address", required=True, metavar="HOST:PORT",
                           help="The committee node that serves you.")  # fmt: skip


# ---- the committee --------------------------------------------------------------------------


@oracle.group()
def committee() -> None:
    """Set up committee members: keys, homes and ports, then their on-chain membership."""


@committee.command("init")
@click.option("--size", type=click.IntRange(1, 256), default=4, show_default=True, help="How many members.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where each member's home, BLS key and operator key go (created).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the nodes listen.")
@click.option("--base-port", type=click.IntRange(1, 65000), default=7700, show_default=True,
              help="Member i listens on base-port + i.")
@click.option("--grace", type=float, default=0.5, show_default=True, help="Seconds a leader waits after an epoch closes.")
@click.option("--attempt", type=float, default=8.0, show_default=True,
              help="Seconds before the next leader takes over an epoch not anchored.")
@chain_options(sends=False)
@json_option
def committee_init(session: ChainSession, size: int, folder: Path, host: str, base_port: int, grace: float,
                   attempt: float, as_json: bool) -> None:  # fmt: skip
    """Make keys for SIZE members and the committee file every node reads (keys stay owner-only)."""
    from eth_account import Account

    from qfzz_chain.config import ipfs_repo_path, lastfm_data_path
    from qfzz_chain.zk import bls

    record = session.record
    oracle_address = record.contract("RecommendationOracle").address
    if (folder / "committee.json").exists():
        raise click.ClickException(f"{folder / 'committee.json'} exists: use another --dir")
    members = []
    for index in range(size):
        home = folder / f"member-{index}"
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = bls.keygen(secrets.token_bytes(32))
        operator = Account.create()
        for name, text in (("bls.key", bls.secret_key_to_bytes(secret).hex()), ("operator.key", bytes(operator.key).hex())):
            path = home / name
            path.write_text(text + "\n")
            path.chmod(0o600)
        members.append({"index": index, "host": host, "port": base_port + index, "home": str(home.resolve()),
                        "bls_key_file": str((home / "bls.key").resolve()),
                        "operator_key_file": str((home / "operator.key").resolve()),
                        "operator": operator.address, "public_key": bls.to_eip2537(bls.public_key(secret)).hex()})
    document = {"rpc_url": session.w3.provider.endpoint_uri, "oracle": oracle_address, "members": members,
                "ipfs_repo": str(ipfs_repo_path().resolve()), "dataset": str(lastfm_data_path().resolve()),
                "grace_seconds": grace, "attempt_seconds": attempt}  # fmt: skip
    if "TrackRegistry" in record.contracts:  # its tagged tracks join the catalogue (oracle.catalogue)
        registry = record.contract("TrackRegistry")
        document.update(registry=registry.address, registry_first_block=registry.block)
        if "EmergingArtistCuration" in record.contracts:  # its listed artists are lifted in the lists
            document.update(curation=record.contract("EmergingArtistCuration").address)
    (folder / "committee.json").write_text(json.dumps(document, indent=2) + "\n")
    emit({"committee": str(folder / "committee.json"), "members": [
        {"index": m["index"], "listen": f"{m['host']}:{m['port']}", "operator": m["operator"]} for m in members]},
        as_json, lambda v: f"Committee of {size} in {v['committee']}\n" + table(v["members"], ["index", "listen", "operator"]))


@committee.command("join")
@click.option("--committee", "committee_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              required=True, help="The file `committee init` wrote.")
@click.option("--fund", type=float, default=1.0, show_default=True, help="Ether sent to each operator for gas.")
@chain_options(sends=True)
@json_option
def committee_join(session: ChainSession, committee_file: Path, fund: float, as_json: bool) -> None:
    """Approve, fund and join every member of the committee file (the sender is the oracle's owner).

    Each member joins from the next epoch with a proof of possession of its BLS key.
    """
    from qfzz_chain.chain.signer import Sender
    from qfzz_chain.zk import bls

    oracle_client = _oracle(session)
    owner = session.sender()
    document = json.loads(committee_file.read_text())
    joined = []
    for member in document["members"]:
        key = bytes.fromhex(Path(member["operator_key_file"]).read_text().strip())
        operator = Sender(member["operator"], key)
        secret = bls.secret_key_from_bytes(bytes.fromhex(Path(member["bls_key_file"]).read_text().strip()))
        oracle_client.approve_operator(owner, operator.address)
        if fund:
            send = {"from": owner.address, "to": operator.address, "value": int(fund * 10**18)}
            if owner.signs_locally:
                from eth_account import Account

                send.update(nonce=session.w3.eth.get_transaction_count(owner.address), gas=21_000,
                            gasPrice=session.w3.eth.gas_price, chainId=session.w3.eth.chain_id)  # fmt: skip
                session.w3.eth.wait_for_transaction_receipt(session.w3.eth.send_raw_transaction(
                    Account.sign_transaction(send, owner.private_key).raw_transaction))
            else:
                session.w3.eth.wait_for_transaction_receipt(session.w3.eth.send_transaction(send))
        receipt = oracle_client.join(operator, bls.to_eip2537(bls.public_key(secret)),
                                     bls.to_eip2537(bls.prove_possession(secret)))  # fmt: skip
        joined.append({"index": member["index"], "operator": operator.address, "transaction": receipt.transaction,
                       "gas_used": receipt.gas_used})  # fmt: skip
    epoch = oracle_client.current_epoch()
    emit({"joined": joined, "from_epoch": epoch + 1}, as_json,
         lambda v: f"{len(joined)} members join from epoch {v['from_epoch']}\n"
                   + table(v["joined"], ["index", "operator", "transaction", "gas_used"]))


committee_file_option = click.option("--committee", "committee_file", required=True,
                                     type=click.Path(dir_okay=False, exists=True, path_type=Path),
                                     help="The file `committee init` wrote.")  # fmt: skip
members_option = click.option("--member", "members", multiple=True, type=click.IntRange(0, 255),
                              help="Only this member (repeatable); default every member.")  # fmt: skip


@committee.command("start")
@committee_file_option
@members_option
@json_option
def committee_start(committee_file: Path, members: tuple[int, ...], as_json: bool) -> None:
    """Start the members' nodes as background processes on this machine (logs: MEMBER_HOME/node.log)."""
    from qfzz_chain.oracle import localnet

    started = localnet.start(committee_file, list(members) or None)
    emit({"started": started, "running": localnet.running(committee_file)}, as_json,
         lambda v: f"started {len(started)} node(s); running: {sorted(v['running'])}")


@committee.command("stop")
@committee_file_option
@members_option
@click.option("--kill", is_flag=True, help="SIGKILL, as a crash (the journal makes it safe).")
@json_option
def committee_stop(committee_file: Path, members: tuple[int, ...], kill: bool, as_json: bool) -> None:
    """Stop the members' nodes; each resumes from its journal when started again."""
    from qfzz_chain.oracle import localnet

    stopped = localnet.stop(committee_file, list(members) or None, kill=kill)
    emit({"stopped": stopped}, as_json, lambda v: f"stopped node(s) {v['stopped'] or 'none'}")


# ---- model versions ------------------------------------------------------------------------


@oracle.group()
def model() -> None:
    """Model versions: the manifest nodes serve, registered on-chain with an activation epoch."""


@model.command("publish")
@click.option("--model", "model_name", default="hybrid", show_default=True, help="The recommender model to publish.")
@click.option("--activate-at", type=click.IntRange(1), help="The first epoch this version serves (a future one).")
@click.option("--activate-next", is_flag=True, help="Activate from the next epoch.")
@chain_options(sends=True)
@json_option
def model_publish(session: ChainSession, model_name: str, activate_at: int | None, activate_next: bool,
                  as_json: bool) -> None:  # fmt: skip
    """Publish the fitted model's arrays and manifest to IPFS and register them as the next version."""
    from qfzz_chain.chain.types import CidParts
    from qfzz_chain.config import lastfm_data_path, qfzz_home
    from qfzz_chain.ipfs import parse_cid
    from qfzz_chain.oracle.manifest import publish_manifest
    from qfzz_chain.recommender.cache import cache_key, cache_path, fitted_engine
    from qfzz_chain.recommender.data import load_lastfm
    from qfzz_chain.recommender.models import build_model

    if (activate_at is None) == (not activate_next):
        raise click.UsageError("give --activate-at EPOCH or --activate-next")
    oracle_client = _oracle(session)
    sender = session.sender()
    epoch = oracle_client.current_epoch()
    activation = epoch + 1 if activate_next else activate_at
    version = 1
    while oracle_client.model_version(version)[0] != 0:
        version += 1
    checksums = (lastfm_data_path() / "SHA256SUMS").read_bytes()
    engine = fitted_engine(load_lastfm(), model_name, qfzz_home() / "models", checksums,
                           lambda message: click.echo(message, err=True))  # fmt: skip
    key = cache_key(checksums, model_name, build_model(model_name).params())
    manifest = publish_manifest(session.store, engine, cache_path(qfzz_home() / "models", model_name, key), key, checksums)
    receipt = oracle_client.register_model_version(sender, version, CidParts.from_cid(parse_cid(manifest)), activation)
    emit({"version": version, "manifest": manifest, "activation_epoch": activation, "model": model_name,
          "transaction": receipt.transaction}, as_json)  # fmt: skip


# ---- nodes and epochs ------------------------------------------------------------------------


@oracle.command()
@click.option("--committee", "committee_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file `committee init` wrote.")
@click.option("--index", type=click.IntRange(0, 255), required=True, help="This node's member index.")
@click.option("--json", "as_json", is_flag=True, help="Log JSON lines ({time, level, message}) instead of text.")
def node(committee_file: Path, index: int, as_json: bool) -> None:
    """Run committee member INDEX in the foreground (Ctrl-C stops it; it resumes from its journal)."""
    from qfzz_chain.oracle.node import NodeConfig, run_node

    run_node(NodeConfig.load(committee_file, index), json_logs=as_json)


@oracle.command()
@click.option("--advance", is_flag=True, help="On a local dev chain: move time to the next epoch and mine a block.")
@click.option("--last", type=click.IntRange(1), default=5, show_default=True, help="How many past epochs to show.")
@chain_options(sends=False)
@json_option
def epoch(session: ChainSession, advance: bool, last: int, as_json: bool) -> None:
    """The current epoch and the anchors of the last ones."""
    oracle_client = _oracle(session)
    if advance:
        genesis, length = oracle_client.genesis_time(), oracle_client.epoch_length()
        now = session.w3.eth.get_block("latest")["timestamp"]
        target = genesis + (oracle_client.current_epoch() + 1) * length
        response = session.w3.provider.make_request("evm_setNextBlockTimestamp", [max(target, now + 1)])
        if "error" in response:
            raise click.ClickException("--advance needs a local dev chain (anvil): this node refused evm_setNextBlockTimestamp")
        session.w3.provider.make_request("evm_mine", [])
        from qfzz_chain.chain import local_node

        local_node.persist_if_local(session.w3)
    current = oracle_client.current_epoch()
    rows = []
    for number in range(max(0, current - last), current + 1):
        anchor = oracle_client.anchor_event(number)
        rows.append({"epoch": number, "anchored": bool(anchor), "receipts": anchor.header.leaf_count if anchor else "",
                     "model": anchor.header.model_version if anchor else oracle_client.active_model_version(number),
                     "signers": bin(anchor.signers).count("1") if anchor else "",
                     "transaction": anchor.transaction if anchor else ""})  # fmt: skip
    emit({"current_epoch": current, "epochs": rows}, as_json,
         lambda v: f"current epoch {current}\n" + table(rows, ["epoch", "anchored", "receipts", "model", "signers", "transaction"]))


@oracle.command()
@node_option
@json_option
def status(node_address: str, as_json: bool) -> None:
    """Ask a node how far it is: last applied epoch, pending requests, model version."""
    from qfzz_chain.oracle.node import ask_blocking

    emit(ask_blocking(*_node_address(node_address), {"type": "status"}), as_json)


# ---- the listener's side ---------------------------------------------------------------------


def _salts(listener: str):
    from qfzz_chain.config import qfzz_home
    from qfzz_chain.journal import Journal

    return Journal(qfzz_home() / "listener" / listener.replace(":", "-"))


def _check_listener(listener: str) -> None:
    kind, _, number = listener.partition(":")
    if kind != "lastfm" or not number.isdigit():
        raise click.BadParameter(f"{listener!r} is not lastfm:<user id>", param_hint="LISTENER")


def _listen(text: str) -> tuple[int, float]:
    artist, _, plays = text.partition(":")
    try:
        value = (int(artist), float(plays or 1))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not ARTIST_ID[:PLAYS]") from None
    if value[1] <= 0:
        raise click.BadParameter(f"{text!r}: plays must be positive")
    return value


@oracle.command()
@click.argument("listener")
@node_option
@click.option("--listen", "listens", multiple=True, metavar="ARTIST_ID[:PLAYS]", help="A listen this epoch. Repeatable.")
@click.option("-n", "count", type=click.IntRange(1, 50), default=10, show_default=True, help="How many recommendations.")
@json_option
def request(listener: str, node_address: str, listens: tuple[str, ...], count: int, as_json: bool) -> None:
    """As LISTENER (lastfm:<user id>), report this epoch's listens and ask for recommendations.

    A fresh salt hides you on-chain behind a commitment; it is kept in $QFZZ_HOME/listener/ and
    goes into the receipts `qfzz oracle receipts` writes, never to the node.
    """
    from qfzz_chain.oracle.epoch import Request
    from qfzz_chain.oracle.node import ask_blocking
    from qfzz_chain.zk.commitments import commit

    _check_listener(listener)
    made_commitment, salt = commit(listener.encode())
    commitment = "0x" + made_commitment.hex()
    host, port = _node_address(node_address)
    _salts(listener).put(commitment[2:], {"salt": "0x" + salt.hex(), "node": node_address, "listens": list(listens)})
    made = Request(listener, commitment, tuple(_listen(t) for t in listens), count)
    reply = ask_blocking(host, port, {"type": "request", "request": made.to_json()})
    if reply.get("type") == "error":
        raise click.ClickException(f"the node refused the request: {reply['error']}")
    emit({"listener": listener, "commitment": commitment, "epoch": reply.get("epoch"), "node": node_address}, as_json)


@oracle.command()
@click.option("--item", "artist", type=int, required=True, help="The Last.fm artist id placed.")
@click.option("--listener", "listeners", multiple=True, required=True, help="Whose lists it goes into. Repeatable.")
@click.option("--rank", type=click.IntRange(1, 50), default=1, show_default=True, help="The rank bought.")
@click.option("--sponsor", required=True, metavar="ADDRESS", help="Who pays for the placement (shown to listeners).")
@node_option
@json_option
def sponsor(artist: int, listeners: tuple[str, ...], rank: int, sponsor: str, node_address: str, as_json: bool) -> None:
    """Place an artist at a rank in listeners' lists this epoch, as a paid placement: receipts say so."""
    from web3 import Web3

    from qfzz_chain.oracle.epoch import Sponsorship
    from qfzz_chain.oracle.node import ask_blocking
    from qfzz_chain.oracle.receipts import lastfm_item_id

    for listener in listeners:
        _check_listener(listener)
    if not Web3.is_address(sponsor):
        raise click.BadParameter(f"{sponsor!r} is not an address", param_hint="--sponsor")
    placement = Sponsorship("0x" + lastfm_item_id(artist).hex(), sponsor.lower(), rank, tuple(listeners))
    reply = ask_blocking(*_node_address(node_address), {"type": "sponsor", "sponsorship": placement.to_json()})
    if reply.get("type") == "error":
        raise click.ClickException(f"the node refused the sponsorship: {reply['error']}")
    emit(placement.to_json(), as_json)


@oracle.command()
@click.argument("listener")
@node_option
@click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write one receipt file per recommendation.")
@json_option
def receipts(listener: str, node_address: str, folder: Path, as_json: bool) -> None:
    """Fetch LISTENER's anchored receipts, with their Merkle proofs, from the node that served them."""
    from qfzz_chain.oracle.node import ask_blocking
    from qfzz_chain.oracle.receipts import Receipt, ReceiptFile

    _check_listener(listener)
    salts = {key: entry for key, entry in _salts(listener).entries()}
    if not salts:
        raise click.ClickException(f"no requests of {listener} in this QFZZ_HOME: ask with `qfzz oracle request` first")
    reply = ask_blocking(*_node_address(node_address), {"type": "receipts", "listener": listener,
                                                        "commitments": ["0x" + k for k in salts]})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in reply.get("receipts", []):
        fields = {k: (bytes.fromhex(v[2:]) if isinstance(v, str) else v) for k, v in entry["receipt"].items()}
        receipt = Receipt(**fields)
        salt = bytes.fromhex(salts[receipt.listener_commitment.hex()]["salt"][2:])
        file = ReceiptFile(reply["chain_id"], reply["oracle"], receipt, bytes.fromhex(entry["root"]), entry["leaf_count"],
                           tuple(bytes.fromhex(p) for p in entry["proof"]), listener, salt, entry["name"],
                           "lastfm-artist" if entry.get("lastfm_id") is not None else "track", entry.get("lastfm_id"))  # fmt: skip
        path = folder / f"epoch{receipt.epoch}-rank{receipt.rank:02d}-{receipt.listener_commitment.hex()[:8]}.json"
        path.write_text(file.to_json())
        written.append({"file": str(path), "epoch": receipt.epoch, "rank": receipt.rank, "item": entry["name"],
                        "sponsored": receipt.sponsored})  # fmt: skip
    emit(written, as_json, lambda rows: table(rows, ["epoch", "rank", "item", "sponsored", "file"]) if rows
         else "No anchored receipts yet (their epoch may not be anchored).")
