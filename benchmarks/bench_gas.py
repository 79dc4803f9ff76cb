"""Gas of every TrackRegistry state change, as whole transactions (what a receipt reports).

Targets (issue 8): a direct registration, commitment plus reveal, <= 110,000 gas together; a
relayed one (the relayer sends both, the reveal carrying the artist's EIP-712 signature)
<= 140,000. Anchors: an EAS attestation of the same fields costs ~316,000 on the same anvil; ENS
registration is commit + register too. Each registration is a new artist's first. Writes
benchmarks/results/gas.json (`--quick` is accepted: this benchmark is quick already).
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
from qfzz_chain.chain.track_registry import TrackRegistry, make_commitment  # noqa: E402
from qfzz_chain.chain.types import CidParts, Parent, Relation  # noqa: E402

TARGETS = {"register_total_gas": 110_000, "register_relayed_total_gas": 140_000}
ANCHORS = {"register_total_gas": "EAS attestation of the same fields: ~316,000"}


def random_cid(version: int = 0) -> CidParts:
    """A CID of random content: real digests are random bytes, as calldata pricing cares."""
    codec = "dag-pb" if version == 0 else "raw"
    return CidParts.from_cid(CID("base58btc" if version == 0 else "base32", version, codec, ("sha2-256", os.urandom(32))))


def main() -> None:
    figures: dict[str, int] = {}
    with deployed_suite("TrackRegistry") as (w3, record):
        registry = TrackRegistry.from_record(w3, record)
        unlocked = [Sender(a) for a in w3.eth.accounts]
        relayer = unlocked[9]

        def new_artist() -> Sender:
            account = Account.create()
            return Sender(account.address, bytes(account.key))

        def direct(artist: Sender, content: CidParts, parents=()) -> tuple[int, int, bytes]:
            audio_hash, salt = os.urandom(32), os.urandom(32)
            commit = registry.commit(artist, make_commitment(audio_hash, artist.address, salt)).gas_used
            reveal = registry.register(artist, audio_hash, salt, content, random_cid(), tuple(parents)).gas_used
            return commit, reveal, audio_hash

        def relayed(artist: Sender, parents=()) -> tuple[int, int]:
            audio_hash, salt, content, metadata = os.urandom(32), os.urandom(32), random_cid(), random_cid()
            commit = registry.commit(relayer, make_commitment(audio_hash, artist.address, salt)).gas_used
            deadline = int(time.time()) + 3600
            typed = register_track_typed_data(
                chain_id=w3.eth.chain_id, registry=registry.address, artist=artist.address, audio_hash=audio_hash,
                content=content, metadata=metadata, parents=parents, nonce=registry.nonce(artist.address),
                deadline=deadline,
            )  # fmt: skip
            reveal = registry.register_for(
                relayer, artist=artist.address, audio_hash=audio_hash, salt=salt, content=content, metadata=metadata,
                parents=tuple(parents), deadline=deadline, signature=sign_typed_data(artist.private_key, typed),
            ).gas_used  # fmt: skip
            return commit, reveal

        commit, reveal, _ = direct(unlocked[1], random_cid())
        figures.update(register_commit_gas=commit, register_reveal_gas=reveal, register_total_gas=commit + reveal)
        figures["register_cidv1_total_gas"] = sum(direct(unlocked[2], random_cid(1))[:2])
        figures["register_second_track_total_gas"] = sum(direct(unlocked[1], random_cid())[:2])
        *_, first = direct(unlocked[3], random_cid())
        parent = (Parent(first, Relation.REMIX),)
        figures["register_with_parent_total_gas"] = sum(direct(unlocked[4], random_cid(), parent)[:2])
        artist = new_artist()
        commit, reveal = relayed(artist)
        figures.update(register_relayed_reveal_gas=reveal, register_relayed_total_gas=commit + reveal)
        figures["register_relayed_second_track_total_gas"] = sum(relayed(artist))
        figures["register_relayed_with_parent_total_gas"] = sum(relayed(new_artist(), parent))
        figures["update_metadata_gas"] = registry.update_metadata(unlocked[3], first, random_cid()).gas_used
        figures["propose_transfer_gas"] = registry.propose_transfer(unlocked[3], first, unlocked[5].address).gas_used
        figures["accept_transfer_gas"] = registry.accept_transfer(unlocked[5], first).gas_used
        figures["invalidate_nonce_gas"] = registry.invalidate_nonce(unlocked[6]).gas_used
        figures["deploy_track_registry_gas"] = w3.eth.get_transaction_receipt(record.contracts["TrackRegistry"].transaction)["gasUsed"]

    print(f"{'TrackRegistry':<40}{'gas':>10}  target / anchor")
    for key, gas in figures.items():
        note = []
        if key in TARGETS:
            note.append(f"<= {TARGETS[key]:,} {'ok' if gas <= TARGETS[key] else 'OVER'}")
        if key in ANCHORS:
            note.append(ANCHORS[key])
        print(f"{key.removesuffix('_gas'):<40}{gas:>10,}  {'; '.join(note)}")
    path = write_results("gas", figures)
    print(f"wrote {path}")
    if any(figures[k] > limit for k, limit in TARGETS.items()):
        raise SystemExit("a gas target is missed")


if __name__ == "__main__":
    main()
