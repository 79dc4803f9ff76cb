"""Gas of every TrackRegistry state change, as whole transactions (what a receipt reports).

Targets (issue 2): a direct registration <= 60,000 gas and a relayed one <= 85,000; an EAS
attestation of the same fields costs ~316,000 on the same anvil (figure quoted in the issue).
Each registration is a new artist's first, the worst case (the relayed one creates the
artist's nonce slot). Writes benchmarks/results/gas.json.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _chain import deployed_suite  # noqa: E402
from _results import write_results  # noqa: E402
from eth_account import Account  # noqa: E402
from multiformats import CID  # noqa: E402

from qfzz_chain.chain.signatures import register_track_typed_data, sign_typed_data  # noqa: E402
from qfzz_chain.chain.signer import Sender  # noqa: E402
from qfzz_chain.chain.track_registry import TrackRegistry  # noqa: E402
from qfzz_chain.chain.transactions import transact  # noqa: E402
from qfzz_chain.chain.types import CidParts, Parent, Relation  # noqa: E402

TARGETS = {"register_gas": 60_000, "register_relayed_gas": 85_000}
ANCHORS = {"register_gas": "EAS attestation of the same fields: ~316,000"}


def random_cid(version: int = 0) -> CidParts:
    """A CID of random content: real digests are random bytes, as calldata pricing cares."""
    codec = "dag-pb" if version == 0 else "raw"
    return CidParts.from_cid(CID("base58btc" if version == 0 else "base32", version, codec, ("sha2-256", os.urandom(32))))


def main() -> None:
    figures: dict[str, int] = {}
    with deployed_suite("TrackRegistry") as (w3, record):
        registry = TrackRegistry(w3, record)
        unlocked = [Sender(a) for a in w3.eth.accounts]
        relayer = unlocked[9]

        def new_artist() -> Sender:
            account = Account.create()
            return Sender(account.address, bytes(account.key))

        def relayed(artist: Sender, parents=()) -> int:
            content, metadata = random_cid(), random_cid()
            deadline = int(time.time()) + 3600
            typed = register_track_typed_data(
                chain_id=w3.eth.chain_id, registry=registry.address, artist=artist.address, content=content,
                metadata=metadata, parents=parents, nonce=registry.nonce(artist.address), deadline=deadline,
            )  # fmt: skip
            return registry.register_for(
                relayer, artist=artist.address, content=content, metadata=metadata, parents=tuple(parents),
                deadline=deadline, signature=sign_typed_data(artist.private_key, typed),
            ).gas_used  # fmt: skip

        figures["register_gas"] = registry.register(unlocked[1], random_cid(), random_cid()).gas_used
        figures["register_cidv1_gas"] = registry.register(unlocked[2], random_cid(1), random_cid(1)).gas_used
        figures["register_second_track_gas"] = registry.register(unlocked[1], random_cid(), random_cid()).gas_used
        first = random_cid()
        registry.register(unlocked[3], first, random_cid())
        parent = (Parent(first.digest, Relation.REMIX),)
        figures["register_with_parent_gas"] = registry.register(unlocked[4], random_cid(), random_cid(), parent).gas_used
        artist = new_artist()
        figures["register_relayed_gas"] = relayed(artist)
        figures["register_relayed_second_track_gas"] = relayed(artist)
        figures["register_relayed_with_parent_gas"] = relayed(new_artist(), parent)
        figures["update_metadata_gas"] = registry.update_metadata(unlocked[3], first.digest, random_cid()).gas_used
        contract = registry.contract
        figures["propose_transfer_gas"] = transact(
            w3, unlocked[3], registry.abi, contract.functions.proposeAttributionTransfer(first.digest, unlocked[5].address)
        ).gas_used
        figures["accept_transfer_gas"] = transact(
            w3, unlocked[5], registry.abi, contract.functions.acceptAttributionTransfer(first.digest)
        ).gas_used
        figures["invalidate_nonce_gas"] = transact(w3, unlocked[6], registry.abi, contract.functions.invalidateNonce()).gas_used
        figures["deploy_track_registry_gas"] = w3.eth.get_transaction_receipt(record.contracts["TrackRegistry"].transaction)["gasUsed"]

    print(f"{'TrackRegistry':<36}{'gas':>10}  target / anchor")
    for key, gas in figures.items():
        note = []
        if key in TARGETS:
            note.append(f"<= {TARGETS[key]:,} {'ok' if gas <= TARGETS[key] else 'OVER'}")
        if key in ANCHORS:
            note.append(ANCHORS[key])
        print(f"{key.removesuffix('_gas'):<36}{gas:>10,}  {'; '.join(note)}")
    path = write_results("gas", figures)
    print(f"wrote {path}")
    if any(figures[k] > limit for k, limit in TARGETS.items()):
        raise SystemExit("a gas target is missed")


if __name__ == "__main__":
    main()
