"""Sending contract transactions with one clear error per failure, custom errors decoded by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from eth_abi import decode
from eth_account import Account
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError

from qfzz_chain.chain.errors import ChainError, NoFundsError, TransactionReverted
from qfzz_chain.chain.signer import Sender

RECEIPT_TIMEOUT_SECONDS = 120
NO_FUNDS_HINT = (
    "this account has no ether to pay gas ({address}); sign with `qfzz track sign` and have it relayed, "
    "or fund the account"
)


@dataclass(frozen=True)
class Receipt:
    transaction: str
    block: int
    gas_used: int
    logs: list


def _abi_type(entry: dict) -> str:
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")" + entry["type"][len("tuple"):]
    return entry["type"]


def decode_custom_error(abi: list, data: str | bytes) -> TransactionReverted:
    """The ``TransactionReverted`` for revert data of an error declared in ``abi``."""
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    for entry in abi:
        if entry.get("type") != "error" or function_abi_to_4byte_selector(entry) != raw[:4]:
            continue
        values = decode([_abi_type(i) for i in entry["inputs"]], raw[4:])
        return TransactionReverted(entry["name"], {i["name"]: _plain(v) for i, v in zip(entry["inputs"], values)})
    return TransactionReverted("", message=f"reverted with unknown error data 0x{raw.hex()}")


def _plain(value: Any) -> Any:
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return value


def _reverted(abi: list, exc: Exception) -> TransactionReverted:
    if isinstance(exc, ContractCustomError):
        return decode_custom_error(abi, exc.data)
    return TransactionReverted("", message=getattr(exc, "message", None) or str(exc))


def call(abi: list, function, block: int | str = "latest"):
    """A read-only contract call (at ``block``); a revert becomes ``TransactionReverted`` naming the error."""
    try:
        return function.call(block_identifier=block)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _reverted(abi, exc) from exc
    except requests.exceptions.RequestException as exc:
        raise ChainError(f"the chain stopped answering ({type(exc).__name__})") from exc


def _refused(exc: Web3RPCError, sender: Sender) -> ChainError:
    message = exc.message or str(exc)
    if "insufficient funds" in message.lower():
        return NoFundsError(NO_FUNDS_HINT.format(address=sender.address))
    return ChainError(f"the node refused the transaction: {message}")


def transact(
    w3: Web3, sender: Sender, abi: list, function, *, estimate_block: str = "latest", value: int = 0
) -> Receipt:
    """Estimate (which surfaces any revert before spending gas), sign or have the node sign, wait.

    ``value`` is the wei sent with the call (a payment); the balance check covers it with the fee.

    ``estimate_block="pending"`` estimates in the context of the next block, for a call that is
    valid only after the latest block (a reveal right after its commitment's block).

    On the local chain of ``qfzz chain up`` the node's state is written to disk before this
    returns, so a transaction reported as done survives a crash of the node.
    """
    from qfzz_chain.chain import local_node

    try:
        fields = {"from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending")}
        if value:
            fields["value"] = value
        fields["gas"] = function.estimate_gas(dict(fields), block_identifier=estimate_block)
        tx = function.build_transaction(fields)
        fee = tx["gas"] * int(tx.get("maxFeePerGas", tx.get("gasPrice", 0)))
        if (fee or value) and w3.eth.get_balance(sender.address) < fee + value:
            raise NoFundsError(NO_FUNDS_HINT.format(address=sender.address))
        if sender.signs_locally:
            signed = Account.sign_transaction(tx, sender.private_key)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        else:
            tx_hash = w3.eth.send_transaction(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _reverted(abi, exc) from exc
    except Web3RPCError as exc:
        raise _refused(exc, sender) from exc
    except TimeExhausted as exc:
        raise ChainError(f"no receipt after {RECEIPT_TIMEOUT_SECONDS} s; the transaction may still be mined") from exc
    except requests.exceptions.RequestException as exc:
        raise ChainError(f"the chain stopped answering ({type(exc).__name__})") from exc
    if receipt["status"] != 1:
        raise TransactionReverted("", message=f"transaction {tx_hash.to_0x_hex()} reverted")
    local_node.persist_if_local(w3)
    return Receipt(tx_hash.to_0x_hex(), receipt["blockNumber"], receipt["gasUsed"], list(receipt["logs"]))
