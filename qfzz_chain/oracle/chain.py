"""Client of the ``RecommendationOracle`` contract: epochs, committees, model versions, anchors."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from qfzz_chain.chain.contract import ContractClient
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, transact
from qfzz_chain.chain.types import CidParts



@dataclass(frozen=True)
class BatchHeader:
    """What the committee signs and the contract anchors (``IRecommendationOracle.Batch``)."""

    epoch: int
    root: bytes
    leaf_count: int
    model_version: int
    inputs: bytes

    def as_tuple(self) -> tuple:
        return (self.epoch, self.root, self.leaf_count, self.model_version, self.inputs)


def batch_message(chain_id: int, oracle: str, header: BatchHeader) -> bytes:
    """``keccak256(abi.encode(block.chainid, oracle, batch))``: the 32 bytes members sign."""
    return keccak(encode(["uint256", "address", "uint64", "bytes32", "uint64", "uint32", "bytes32"],
                         [chain_id, Web3.to_checksum_address(oracle), *header.as_tuple()]))  # fmt: skip


@dataclass(frozen=True)
class Committee:
    committee_id: int
    apk_hash: bytes
    members: int  # bitmap
    from_epoch: int
    until_epoch: int
    size: int

    @property
    def indices(self) -> list[int]:
        return [i for i in range(256) if self.members >> i & 1]

    def quorum(self) -> int:
        """The fewest signers the contract accepts: at least two thirds, never zero."""
        return max(1, -(-2 * self.size // 3))


@dataclass(frozen=True)
class Anchor:
    """A ``BatchAnchored`` event."""

    header: BatchHeader
    signers: int
    committee_id: int
    anchored_by: str
    block: int
    transaction: str


class RecommendationOracle(ContractClient):
    CONTRACT = "RecommendationOracle"

    # ---- reads -----------------------------------------------------------------------------

    def current_epoch(self) -> int:
        return self._call(self.contract.functions.currentEpoch())

    def epoch_length(self) -> int:
        return self._call(self.contract.functions.epochLength())

    def genesis_time(self) -> int:
        return self._call(self.contract.functions.genesisTime())

    def anchored_root(self, epoch: int, block: int | str = "latest") -> bytes:
        return bytes(self._call(self.contract.functions.anchoredRoot(epoch), block))

    def committee_at(self, epoch: int) -> Committee:
        committee_id, (apk_hash, members, start, until, size) = self._call(self.contract.functions.committeeAt(epoch))
        return Committee(committee_id, bytes(apk_hash), members, start, until, size)

    def member(self, index: int) -> tuple[str, bytes]:
        operator, key_hash = self._call(self.contract.functions.member(index))
        return operator, bytes(key_hash)

    def active_model_version(self, epoch: int) -> int:
        return self._call(self.contract.functions.activeModelVersion(epoch))

    def model_version(self, version: int) -> tuple[int, int]:
        return tuple(self._call(self.contract.functions.modelVersion(version)))

    def message(self, header: BatchHeader) -> bytes:
        return batch_message(self.w3.eth.chain_id, self.address, header)

    # ---- events ----------------------------------------------------------------------------

    def member_keys(self) -> dict[int, bytes]:
        """Every member's 256-byte G2 key, by index (from ``MemberJoined``)."""
        return {int(log.args.index): bytes(log.args.publicKey) for log in self.logs("MemberJoined")}

    def committee_keys(self, committee_id: int) -> bytes:
        """The aggregate key of a committee (256 bytes), as scheduled (``CommitteeScheduled``)."""
        scheduled = [log for log in self.logs("CommitteeScheduled", {"committeeId": committee_id})]
        if not scheduled:
            return bytes(256)  # the committee before anyone joined
        return bytes(scheduled[-1].args.aggregatePublicKey)

    def latest_aggregate_key(self) -> bytes:
        scheduled = self.logs("CommitteeScheduled")
        return bytes(scheduled[-1].args.aggregatePublicKey) if scheduled else bytes(256)

    def model_manifest(self, version: int, to_block: int | None = None) -> tuple[CidParts, int] | None:
        logs = self.logs("ModelVersionRegistered", {"version": version}, to_block)
        if not logs:
            return None
        return CidParts.from_tuple(logs[-1].args.manifest), int(logs[-1].args.activationEpoch)

    def anchor_event(self, epoch: int, to_block: int | None = None) -> Anchor | None:
        logs = self.logs("BatchAnchored", {"epoch": epoch}, to_block)
        if not logs:
            return None
        args = logs[-1].args
        header = BatchHeader(int(args.epoch), bytes(args.root), int(args.leafCount), int(args.modelVersion),
                             bytes(args.inputs))  # fmt: skip
        return Anchor(header, int(args.signers), int(args.committeeId), args.anchoredBy, logs[-1].blockNumber,
                      logs[-1].transactionHash.to_0x_hex())  # fmt: skip

    # ---- writes ----------------------------------------------------------------------------

    def anchor(self, sender: Sender, header: BatchHeader, committee_id: int, signers: int, signature: bytes,
               aggregate_key: bytes, non_signer_keys: bytes) -> Receipt:  # fmt: skip
        function = self.contract.functions.anchor(header.as_tuple(), committee_id, signers, signature, aggregate_key,
                                                  non_signer_keys)  # fmt: skip
        return transact(self.w3, sender, self.abi, function)

    def approve_operator(self, sender: Sender, operator: str) -> Receipt:
        return transact(self.w3, sender, self.abi,
                        self.contract.functions.approveOperator(Web3.to_checksum_address(operator)))  # fmt: skip

    def join(self, sender: Sender, public_key: bytes, proof: bytes) -> Receipt:
        function = self.contract.functions.join(public_key, proof, self.latest_aggregate_key())
        return transact(self.w3, sender, self.abi, function)

    def leave(self, sender: Sender, index: int, public_key: bytes) -> Receipt:
        function = self.contract.functions.leave(index, public_key, self.latest_aggregate_key())
        return transact(self.w3, sender, self.abi, function)

    def register_model_version(self, sender: Sender, version: int, manifest: CidParts, activation_epoch: int) -> Receipt:
        function = self.contract.functions.registerModelVersion(version, manifest.as_tuple(), activation_epoch)
        return transact(self.w3, sender, self.abi, function)
