"""What every contract client shares: binding to a deployment, calls, transactions, event history."""

from __future__ import annotations

from web3 import Web3

from qfzz_chain.chain.abi import load_abi
from qfzz_chain.chain.deployment import DeploymentRecord
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, call, transact

# Public RPC nodes cap eth_getLogs ranges (commonly 10,000 blocks): history is read in chunks.
LOG_CHUNK_BLOCKS = 10_000


class ContractClient:
    """One deployment of ``CONTRACT`` on one chain; ``first_block`` is where its history starts."""

    CONTRACT: str

    def __init__(self, w3: Web3, address: str, abi: list | None = None, first_block: int = 0):
        self.w3 = w3
        self.abi = abi or load_abi(self.CONTRACT)
        self.address = Web3.to_checksum_address(address)
        self.first_block = first_block
        self.contract = w3.eth.contract(address=self.address, abi=self.abi)

    @classmethod
    def from_record(cls, w3: Web3, record: DeploymentRecord):
        deployment = record.contract(cls.CONTRACT)
        return cls(w3, deployment.address, deployment.abi or None, deployment.block)

    def _call(self, function, block: int | str = "latest"):
        return call(self.abi, function, block)

    def _send(self, sender: Sender, function, **kwargs) -> Receipt:
        return transact(self.w3, sender, self.abi, function, **kwargs)

    def logs(self, event_name: str, filters: dict | None = None, to_block: int | None = None) -> list:
        """Every ``event_name`` log from ``first_block`` to ``to_block`` (the head), in chain order."""
        event = getattr(self.contract.events, event_name)
        latest = self.w3.eth.block_number if to_block is None else to_block
        found = []
        for start in range(self.first_block, latest + 1, LOG_CHUNK_BLOCKS):
            end = min(start + LOG_CHUNK_BLOCKS - 1, latest)
            found.extend(event.get_logs(from_block=start, to_block=end, argument_filters=filters or {}))
        return sorted(found, key=lambda log: (log.blockNumber, log.logIndex))
