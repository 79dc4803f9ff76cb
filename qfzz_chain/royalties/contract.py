"""Client of the ``Royalties`` contract (and of the ERC-20 tokens it is paid in): typed reads,
writes and event history. The chain edge of royalties: nothing here computes a split."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from web3 import Web3

from qfzz_chain.chain.contract import ContractClient
from qfzz_chain.chain.errors import ChainError, DeploymentError
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, transact
from qfzz_chain.chain.types import Parent
from qfzz_chain.royalties.splits import ETH, Right, Split


# the ERC-20 functions royalties use; every standard token answers them
ERC20_ABI = [
    {"type": "function", "name": name, "stateMutability": mutability,
     "inputs": [{"name": n, "type": t} for n, t in inputs], "outputs": [{"name": "", "type": out}]}
    for name, mutability, inputs, out in (
        ("balanceOf", "view", (("owner", "address"),), "uint256"),
        ("allowance", "view", (("owner", "address"), ("spender", "address")), "uint256"),
        ("approve", "nonpayable", (("spender", "address"), ("amount", "uint256")), "bool"),
        ("decimals", "view", (), "uint8"),
        ("symbol", "view", (), "string"),
    )
]  # fmt: skip


@dataclass(frozen=True)
class TrackState:
    """What the contract holds about a track (``trackState``)."""

    lineage_recorded: bool
    depth: int
    has_parents: bool
    has_master_parents: bool
    split_set: tuple[bool, bool]
    locked: tuple[bool, bool]
    versions: tuple[int, int]

    def version(self, right: Right) -> int:
        return self.versions[right]

    def is_set(self, right: Right) -> bool:
        return self.split_set[right]

    def is_locked(self, right: Right) -> bool:
        return self.locked[right]


@dataclass(frozen=True)
class SplitVersion:
    """A ``SplitSet`` event: one version of a right's split."""

    track_id: bytes
    right: Right
    version: int
    split: Split
    hash: bytes
    block: int
    transaction: str


@dataclass(frozen=True)
class Payment:
    track_id: bytes
    payer: str
    token: str
    composition: int
    master: int
    block: int
    transaction: str


@dataclass(frozen=True)
class PushEvent:
    track_id: bytes
    parent_id: bytes
    right: Right
    version: int
    token: str
    amount: int
    block: int
    transaction: str


@dataclass(frozen=True)
class EpochClaim:
    epoch_id: int
    track_id: bytes
    index: int
    composition: int
    master: int
    block: int
    transaction: str


@dataclass(frozen=True)
class EpochPosting:
    epoch_id: int
    operator: str
    token: str
    amount: int
    root: bytes
    leaf_count: int
    block: int
    transaction: str


class RoyaltiesContract(ContractClient):
    """Bound to one deployment of ``Royalties`` on one chain."""

    CONTRACT = "Royalties"

    # ---- reads -----------------------------------------------------------------------------

    @cached_property
    def registry_address(self) -> str:
        return self._call(self.contract.functions.registry())

    def track_state(self, track_id: bytes) -> TrackState:
        lineage, depth, has_parents, has_master, split_set, locked, versions = self._call(
            self.contract.functions.trackState(track_id)
        )
        return TrackState(lineage, depth, has_parents, has_master, tuple(split_set), tuple(locked), tuple(versions))

    def controller_of(self, track_id: bytes, right: Right) -> tuple[str, str]:
        controller, pending = self._call(self.contract.functions.controllerOf(track_id, int(right)))
        return controller, pending

    def split_hash(self, track_id: bytes, right: Right, version: int) -> bytes:
        return bytes(self._call(self.contract.functions.splitHash(track_id, int(right), version)))

    def received(self, track_id: bytes, right: Right, version: int, token: str = ETH) -> int:
        return self._call(self.contract.functions.received(track_id, int(right), version, token))

    def withdrawn(self, track_id: bytes, right: Right, version: int, recipient: str, token: str = ETH) -> int:
        return self._call(self.contract.functions.withdrawn(track_id, int(right), version, recipient, token))

    def owed(self, track_id: bytes, right: Right, version: int, recipient: str, token: str = ETH) -> int:
        return self._call(self.contract.functions.owed(track_id, int(right), version, recipient, token))

    def receiver_of(self, track_id: bytes) -> str:
        return self._call(self.contract.functions.receiverOf(track_id))

    def sale_royalty(self, track_id: bytes) -> tuple[bool, int, int]:
        return tuple(self._call(self.contract.functions.saleRoyaltyOf(track_id)))

    def royalty_info(self, track_id: bytes, sale_price: int) -> tuple[str, int]:
        return tuple(self._call(self.contract.functions.royaltyInfo(int.from_bytes(track_id, "big"), sale_price)))

    def epoch(self, epoch_id: int) -> tuple[bytes, str, int]:
        root, token, remaining = self._call(self.contract.functions.epoch(epoch_id))
        return bytes(root), token, remaining

    def epoch_count(self) -> int:
        return self._call(self.contract.functions.epochCount())

    def is_claimed(self, epoch_id: int, index: int) -> bool:
        return self._call(self.contract.functions.isClaimed(epoch_id, index))

    # ---- writes ----------------------------------------------------------------------------

    def record_lineage(self, sender: Sender, track_id: bytes, parents: tuple[Parent, ...]) -> Receipt:
        return self._send(sender, self.contract.functions.recordLineage(track_id, [p.as_tuple() for p in parents]))

    def set_split(self, sender: Sender, track_id: bytes, right: Right, split: Split) -> Receipt:
        function = self.contract.functions.setSplit(
            track_id, int(right), list(split.recipients), list(split.bps), split.upstream_bps
        )
        return self._send(sender, function)

    def lock_split(self, sender: Sender, track_id: bytes, right: Right) -> Receipt:
        return self._send(sender, self.contract.functions.lockSplit(track_id, int(right)))

    def transfer_control(self, sender: Sender, track_id: bytes, right: Right, to: str) -> Receipt:
        return self._send(sender, self.contract.functions.transferControl(track_id, int(right), to))

    def accept_control(self, sender: Sender, track_id: bytes, right: Right) -> Receipt:
        return self._send(sender, self.contract.functions.acceptControl(track_id, int(right)))

    def set_sale_royalty(self, sender: Sender, track_id: bytes, royalty_bps: int, composition_bps: int) -> Receipt:
        return self._send(sender, self.contract.functions.setSaleRoyalty(track_id, royalty_bps, composition_bps))

    def pay(self, sender: Sender, track_id: bytes, amount: int, composition_bps: int) -> Receipt:
        return self._send(sender, self.contract.functions.pay(track_id, composition_bps), value=amount)

    def pay_token(self, sender: Sender, track_id: bytes, token: str, amount: int, composition_bps: int) -> Receipt:
        return self._send(sender, self.contract.functions.payToken(track_id, composition_bps, token, amount))

    def flush_receiver(self, sender: Sender, track_id: bytes, token: str = ETH) -> Receipt:
        return self._send(sender, self.contract.functions.flushReceiver(track_id, token))

    def push(self, sender: Sender, token: str, nodes: list[tuple[bytes, Right, int, tuple[Parent, ...]]]) -> Receipt:
        pushes = [(track, int(right), version, [p.as_tuple() for p in parents]) for track, right, version, parents in nodes]
        return self._send(sender, self.contract.functions.push(token, pushes))

    def withdraw(self, sender: Sender, shares: list[tuple[bytes, Right, int]], tokens: list[str]) -> Receipt:
        """Pay the sender what it is owed in ``shares`` for each of ``tokens``."""
        refs = [(track, int(right), version) for track, right, version in shares]
        return self._send(sender, self.contract.functions.withdraw(refs, tokens))

    def post_epoch(self, sender: Sender, token: str, amount: int, root: bytes, leaf_count: int) -> Receipt:
        function = self.contract.functions.postEpoch(token, amount, root, leaf_count)
        return self._send(sender, function, value=amount if token == ETH else 0)

    def claim_epoch(self, sender: Sender, epoch_id: int, index: int, track_id: bytes, composition: int, master: int,
                    proof: list[bytes]) -> Receipt:  # fmt: skip
        function = self.contract.functions.claimEpoch(epoch_id, index, track_id, composition, master, proof)
        return self._send(sender, function)

    # ---- tokens ----------------------------------------------------------------------------

    def token(self, address: str):
        if not Web3.is_address(address):
            raise ChainError(f"{address!r} is not a token address")
        address = Web3.to_checksum_address(address)
        if not bytes(self.w3.eth.get_code(address)):
            raise DeploymentError(f"no token contract at {address} on chain {self.w3.eth.chain_id}")
        return self.w3.eth.contract(address=address, abi=ERC20_ABI)

    def token_decimals(self, address: str) -> int:
        if address == ETH:
            return 18
        try:
            return self.token(address).functions.decimals().call()
        except (ValueError, ChainError) as exc:
            raise ChainError(f"{address} does not answer decimals(): is it an ERC-20 token?") from exc

    def token_symbol(self, address: str) -> str:
        if address == ETH:
            return "ETH"
        try:
            return self.token(address).functions.symbol().call()
        except Exception:  # a token without symbol() (it is optional in ERC-20) is shown by address
            return address[:10]

    def approve_if_needed(self, sender: Sender, token: str, amount: int) -> Receipt | None:
        erc20 = self.token(token)
        if erc20.functions.allowance(sender.address, self.address).call() >= amount:
            return None
        return transact(self.w3, sender, ERC20_ABI, erc20.functions.approve(self.address, amount))

    # ---- history from events ---------------------------------------------------------------

    def split_versions(self, track_id: bytes | None = None) -> list[SplitVersion]:
        """Every split version set (of one track, or of all), oldest first."""
        found = []
        for log in self.logs("SplitSet", {"trackId": track_id} if track_id is not None else None):
            split = Split(tuple(log.args.recipients), tuple(log.args.bps), log.args.upstreamBps)
            found.append(SplitVersion(bytes(log.args.trackId), Right(log.args.right), log.args.version, split,
                                      bytes(log.args.splitHash), log.blockNumber, log.transactionHash.to_0x_hex()))
        return found

    def payments(self, track_id: bytes | None = None) -> list[Payment]:
        return [Payment(bytes(log.args.trackId), log.args.payer, log.args.token, log.args.composition, log.args.master,
                        log.blockNumber, log.transactionHash.to_0x_hex())
                for log in self.logs("Paid", {"trackId": track_id} if track_id is not None else None)]  # fmt: skip

    def pushes(self, *, track_id: bytes | None = None, parent_id: bytes | None = None) -> list[PushEvent]:
        filters = {}
        if track_id is not None:
            filters["trackId"] = track_id
        if parent_id is not None:
            filters["parentId"] = parent_id
        return [PushEvent(bytes(log.args.trackId), bytes(log.args.parentId), Right(log.args.right), log.args.version,
                          log.args.token, log.args.amount, log.blockNumber, log.transactionHash.to_0x_hex())
                for log in self.logs("Pushed", filters)]  # fmt: skip

    def epoch_claims(self, track_id: bytes | None = None) -> list[EpochClaim]:
        return [EpochClaim(log.args.epochId, bytes(log.args.trackId), log.args.index, log.args.composition,
                           log.args.master, log.blockNumber, log.transactionHash.to_0x_hex())
                for log in self.logs("EpochClaimed", {"trackId": track_id} if track_id is not None else None)]  # fmt: skip

    def epoch_postings(self) -> list[EpochPosting]:
        return [EpochPosting(log.args.epochId, log.args.operator, log.args.token, log.args.amount, bytes(log.args.root),
                             log.args.leafCount, log.blockNumber, log.transactionHash.to_0x_hex())
                for log in self.logs("EpochPosted")]  # fmt: skip

    def tokens_seen(self) -> list[str]:
        """ETH and every token the contract was paid or funded in, in first-seen order."""
        seen = [ETH]
        for payment in self.payments():
            if payment.token not in seen:
                seen.append(payment.token)
        for posting in self.epoch_postings():
            if posting.token not in seen:
                seen.append(posting.token)
        return seen
