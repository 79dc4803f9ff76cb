"""Options shared by every command that reads or writes the chain or the IPFS store."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import click

from qfzz_chain.chain.connection import connect
from qfzz_chain.chain.deployment import DeploymentRecord, load_record
from qfzz_chain.chain.signer import Sender, resolve_sender
from qfzz_chain.chain.track_registry import TrackRegistry


@dataclass
class ChainSession:
    """What a command needs from the chain, connected on first use."""

    rpc_url: str | None
    account: str | None
    keystore: Path | None
    from_address: str | None
    ipfs_api: str | None

    @cached_property
    def w3(self):
        return connect(self.rpc_url)

    @cached_property
    def record(self) -> DeploymentRecord:
        return load_record(self.w3)

    @cached_property
    def registry(self) -> TrackRegistry:
        return TrackRegistry.from_record(self.w3, self.record)

    def registry_at(self, address: str) -> TrackRegistry:
        """The registry at ``address``: this node's deployment when it is that one, else bound by
        address alone (a relayer on another machine has no record of the artist's chain)."""
        from qfzz_chain.chain.deployment import find_record

        found = find_record(self.w3)
        if found is not None and "TrackRegistry" in found[1].contracts:
            registry = TrackRegistry.from_record(self.w3, found[1])
            if registry.address.lower() == address.lower():
                return registry
        return TrackRegistry.at(self.w3, address)

    @cached_property
    def store(self):
        from qfzz_chain.ipfs import open_store

        return open_store(self.ipfs_api)

    def sender(self) -> Sender:
        return resolve_sender(self.w3, account=self.account, keystore=self.keystore, from_address=self.from_address)


def chain_options(*, sends: bool, node_accounts: bool = True):
    """Add --rpc-url and --ipfs-api (and, for commands that send or sign, --account, --keystore, and
    --from unless ``node_accounts`` is False: a signature needs a key held here); the command
    receives a ``session``."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, rpc_url, ipfs_api, account=None, keystore=None, from_address=None, **kwargs):
            session = ChainSession(rpc_url, account, keystore, from_address, ipfs_api)
            return command(*args, session=session, **kwargs)

        options = [
            click.option("--rpc-url", envvar="QFZZ_RPC_URL", metavar="URL",
                         help="EVM JSON-RPC endpoint [env QFZZ_RPC_URL; default: the chain of `qfzz chain up`]."),
            click.option("--ipfs-api", envvar="QFZZ_IPFS_API", metavar="URL",
                         help="kubo RPC API to use instead of the embedded store [env QFZZ_IPFS_API]."),
        ]  # fmt: skip
        if sends:
            options += [
                click.option("--account", metavar="ID",
                             help="Send from this Brownie account (~/.brownie/accounts/ID.json)."),
                click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                             help="Send from this JSON keystore (password: env QFZZ_KEYSTORE_PASSWORD or a prompt)."),
            ]  # fmt: skip
            if node_accounts:
                options.append(click.option(
                    "--from", "from_address", metavar="ADDRESS",
                    help="Send from this account the node unlocks (a local anvil's); default its first."))  # fmt: skip
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate
