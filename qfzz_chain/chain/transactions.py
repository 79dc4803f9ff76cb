"""Sending contract transactions with one clear error per failure, custom errors decoded by name."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from eth_abi import decode
from eth_account import Account
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError

from qfzz_chain.chain.signer import Sender
from qfzz_chain.errors import ChainError, TransactionReverted

RECEIPT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Receipt:
    transaction: str
    block: int
    gas_used: int
    logs: list


def _format_arg(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def decode_custom_error(abi: list, data: str | bytes) -> str:
    """``Name(arg=value, ...)`` for revert data of an error in ``abi``, else the raw data."""
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    for entry in abi:
        if entry.get("type") != "error" or function_abi_to_4byte_selector(entry) != raw[:4]:
            continue
        types = [i["type"] if i["type"] != "tuple" else "(" + ",".join(c["type"] for c in i["components"]) + ")"
                 for i in entry["inputs"]]
        values = decode(types, raw[4:])
        args = ", ".join(f"{i['name']}={_format_arg(v)}" for i, v in zip(entry["inputs"], values))
        return f"{entry['name']}({args})"
    return f"unknown error 0x{raw.hex()}"


def _reverted(abi: list, exc: Exception) -> TransactionReverted:
    if isinstance(exc, ContractCustomError):
        return TransactionReverted(decode_custom_error(abi, exc.data))
    return TransactionReverted(getattr(exc, "message", None) or str(exc))


def call(abi: list, function):
    """A read-only contract call; a revert becomes ``TransactionReverted`` naming the error."""
    try:
        return function.call()
    except (ContractCustomError, ContractLogicError) as exc:
        raise _reverted(abi, exc) from exc
    except requests.exceptions.RequestException as exc:
        raise ChainError(f"the chain stopped answering ({type(exc).__name__})") from exc


def transact(w3: Web3, sender: Sender, abi: list, function) -> Receipt:
    """Estimate (which surfaces any revert before spending gas), sign or have the node sign, wait."""
    try:
        tx = function.build_transaction(
            {"from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending")}
        )
        if sender.signs_locally:
            signed = Account.sign_transaction(tx, sender.private_key)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        else:
            tx_hash = w3.eth.send_transaction(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _reverted(abi, exc) from exc
    except Web3RPCError as exc:
        raise ChainError(f"the node refused the transaction: {exc.message or exc}") from exc
    except TimeExhausted as exc:
        raise ChainError(f"no receipt after {RECEIPT_TIMEOUT_SECONDS} s; the transaction may still be mined") from exc
    except requests.exceptions.RequestException as exc:
        raise ChainError(f"the chain stopped answering ({type(exc).__name__})") from exc
    if receipt["status"] != 1:
        raise TransactionReverted(f"transaction {tx_hash.to_0x_hex()} reverted")
    return Receipt(tx_hash.to_0x_hex(), receipt["blockNumber"], receipt["gasUsed"], list(receipt["logs"]))
