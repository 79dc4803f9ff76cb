"""Who sends transactions: a key that never leaves the process, or an account the node unlocks.

In order: a keystore file (``--keystore``) or a Brownie account id (``--account``, from
``~/.brownie/accounts``), decrypted with ``QFZZ_KEYSTORE_PASSWORD`` or a hidden prompt; else
``QFZZ_PRIVATE_KEY``; else an account the node itself unlocks (a local anvil's), ``--from``
picking one. Keys are never printed or logged: ``Sender`` keeps its key out of its fields, so
neither ``repr`` nor serialising a ``Sender`` can show it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from eth_account import Account
from web3 import Web3

from qfzz_chain.errors import ConfigError


class Sender:
    """An address to send from, with the key that signs for it when signing happens here."""

    __slots__ = ("address", "_key")

    def __init__(self, address: str, private_key: bytes | None = None):
        self.address = address
        self._key = private_key

    @property
    def private_key(self) -> bytes | None:
        return self._key

    @property
    def signs_locally(self) -> bool:
        return self._key is not None

    def __repr__(self) -> str:
        return f"Sender({self.address}, {'local key' if self._key else 'node account'})"


def _from_key(key_text: str, origin: str) -> Sender:
    try:
        account = Account.from_key(key_text.strip())
    except Exception as exc:  # eth-keys raises a bare Exception for keys outside the curve order
        raise ConfigError(f"{origin} is not a valid private key (expected 32 bytes of hex)") from exc
    return Sender(account.address, bytes(account.key))


def _from_keystore(path: Path) -> Sender:
    try:
        keystore = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not a JSON keystore") from exc
    password = os.environ.get("QFZZ_KEYSTORE_PASSWORD")
    if password is None:
        password = click.prompt(f"Password for {path.name}", hide_input=True, err=True)
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        raise ConfigError(f"wrong password for keystore {path}") from exc
    except Exception as exc:  # eth-keyfile raises KeyError/TypeError/NotImplementedError on bad files
        raise ConfigError(f"{path} is not a keystore eth-account can read ({type(exc).__name__})") from exc
    return Sender(Account.from_key(key).address, bytes(key))


def brownie_account_path(account_id: str) -> Path:
    return Path.home() / ".brownie" / "accounts" / f"{account_id}.json"


def resolve_sender(
    w3: Web3, *, account: str | None = None, keystore: Path | None = None, from_address: str | None = None
) -> Sender:
    """The sender for this command, by the rules in the module docstring."""
    if keystore is not None:
        return _from_keystore(keystore)
    if account is not None:
        path = brownie_account_path(account)
        if not path.exists():
            raise ConfigError(f"no Brownie account {account!r} (looked for {path}; create it with `brownie accounts new`)")
        return _from_keystore(path)
    env_key = os.environ.get("QFZZ_PRIVATE_KEY")
    if env_key:
        return _from_key(env_key, "QFZZ_PRIVATE_KEY")
    unlocked = w3.eth.accounts
    if from_address is not None:
        if not Web3.is_address(from_address):
            raise ConfigError(f"--from {from_address!r} is not an address")
        wanted = Web3.to_checksum_address(from_address)
        if wanted not in unlocked:
            raise ConfigError(f"the node does not unlock {wanted}; give its key with QFZZ_PRIVATE_KEY or --keystore")
        return Sender(wanted)
    if not unlocked:
        raise ConfigError(
            "no account to send from: set QFZZ_PRIVATE_KEY, or pass --keystore FILE or --account ID (a Brownie account)"
        )
    return Sender(Web3.to_checksum_address(unlocked[0]))
