"""Oracle benchmark: anchor gas with a committee of 16, the receipt pipeline's throughput, and a
listener's verification time. Writes benchmarks/results/oracle.json.

Goals (issue 11): anchor ≤ 200,000 gas with 16 of 16 signing, whatever the batch size, and the
cost of each non-signer; ≥ 50,000 receipts/s on one core from explained recommendations to an
anchored root (leaves, tree, every proof, 16 signatures aggregated, the anchor transaction);
≥ 5,000 explained recommendations/s (the recommender with explanations, explanation documents
and their hashes: the batch computation); gas per receipt falling as 1/batch size (1k to 1M);
listener verification < 50 ms without --recompute (in-process: the CLI's own start-up, mostly
web3's import, is reported apart).

    python benchmarks/bench_oracle.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _chain import deployed_suite  # noqa: E402
from _results import write_results  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from eth_utils import keccak  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from qfzz_chain.chain.signer import Sender  # noqa: E402
from qfzz_chain.chain.types import CidParts  # noqa: E402
from qfzz_chain.oracle.chain import BatchHeader, RecommendationOracle  # noqa: E402
from qfzz_chain.oracle.receipts import Receipt  # noqa: E402
from qfzz_chain.oracle.tree import ReceiptTree  # noqa: E402
from qfzz_chain.zk import bls  # noqa: E402

EPOCH_SECONDS = 3600
COMMITTEE = 16
TARGETS = {"anchor_gas": 200_000, "receipts_per_s": 50_000, "explained_recs_per_s": 5_000, "verify_ms": 50}


def _advance(w3, oracle: RecommendationOracle) -> None:
    start = oracle.genesis_time() + (oracle.current_epoch() + 1) * EPOCH_SECONDS
    w3.provider.make_request("evm_setNextBlockTimestamp", [max(start, w3.eth.get_block("latest")["timestamp"] + 1)])
    w3.provider.make_request("evm_mine", [])


def _committee(w3, oracle: RecommendationOracle, owner: Sender):
    secrets_ = [bls.keygen(keccak(b"bench member" + bytes([i]))) for i in range(COMMITTEE)]
    publics = [bls.public_key(s) for s in secrets_]
    for index, (secret, public) in enumerate(zip(secrets_, publics)):
        operator = Sender(w3.eth.accounts[1 + index % 9])
        if index >= 9:  # anvil unlocks ten accounts: more operators are fresh funded keys
            from eth_account import Account

            account = Account.create()
            w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
                {"from": owner.address, "to": account.address, "value": 10**18}))
            operator = Sender(account.address, bytes(account.key))
        oracle.approve_operator(owner, operator.address)
        oracle.join(operator, bls.to_eip2537(public), bls.to_eip2537(bls.prove_possession(secret)))
    return secrets_, publics


def _anchor(w3, oracle, owner, secrets_, publics, header: BatchHeader, signers: list[int]) -> int:
    committee = oracle.committee_at(header.epoch)
    message = oracle.message(header)
    signature = bls.aggregate_signatures([bls.sign(secrets_[i], message) for i in signers])
    missing = b"".join(bls.to_eip2537(publics[i]) for i in committee.indices if i not in signers)
    receipt = oracle.anchor(owner, header, committee.committee_id, sum(1 << i for i in signers),
                            bls.to_eip2537(signature), oracle.committee_keys(committee.committee_id), missing)
    return receipt.gas_used


def gas_figures(quick: bool) -> dict:
    figures = {}
    with deployed_suite(("RecommendationOracle", (lambda owner: owner, EPOCH_SECONDS))) as (w3, record):
        oracle = RecommendationOracle.from_record(w3, record)
        owner = Sender(w3.eth.accounts[0])
        secrets_, publics = _committee(w3, oracle, owner)
        oracle.register_model_version(owner, 1, CidParts(1, 0x55, 0x12, keccak(b"manifest")), 1)
        sizes = (1_000, 10_000, 100_000, 1_000_000)
        for _ in range(len(sizes) + 4):
            _advance(w3, oracle)
        everyone = list(range(COMMITTEE))
        per_size = {}
        for epoch, size in enumerate(sizes, start=1):
            header = BatchHeader(epoch, os.urandom(32), size, 1, os.urandom(32))
            per_size[size] = _anchor(w3, oracle, owner, secrets_, publics, header, everyone)
        figures["anchor_gas"] = per_size[sizes[0]]
        for size, gas in per_size.items():
            figures[f"gas_per_receipt_{size // 1000}k" if size < 1_000_000 else "gas_per_receipt_1m"] = gas / size
        figures["anchor_gas_by_batch_size"] = ", ".join(f"{size:,}: {gas:,}" for size, gas in per_size.items())
        one_missing = _anchor(w3, oracle, owner, secrets_, publics, BatchHeader(5, os.urandom(32), 1000, 1, os.urandom(32)),
                              everyone[1:])  # fmt: skip
        five_missing = _anchor(w3, oracle, owner, secrets_, publics,
                               BatchHeader(6, os.urandom(32), 1000, 1, os.urandom(32)), everyone[5:])  # fmt: skip
        figures["anchor_gas_one_nonsigner"] = one_missing
        figures["anchor_gas_five_nonsigners"] = five_missing
        figures["anchor_gas_per_nonsigner"] = (five_missing - figures["anchor_gas"]) / 5
    return figures


def throughput(quick: bool) -> dict:
    """Receipts from explained recommendations to an anchored root, on one core."""
    count = 100_000 if quick else 1_000_000
    figures = {}
    with threadpool_limits(limits=1):
        receipts = [Receipt(7, 1, os.urandom(32), os.urandom(32), i % 10 + 1, i * 37, os.urandom(32), os.urandom(32),
                            i % 97 == 0, bytes(20)) for i in range(count)]  # fmt: skip
        secrets_ = [bls.keygen(keccak(b"bench member" + bytes([i]))) for i in range(COMMITTEE)]
        with deployed_suite(("RecommendationOracle", (lambda owner: owner, EPOCH_SECONDS))) as (w3, record):
            oracle = RecommendationOracle.from_record(w3, record)
            owner = Sender(w3.eth.accounts[0])
            secrets_, publics = _committee(w3, oracle, owner)
            oracle.register_model_version(owner, 1, CidParts(1, 0x55, 0x12, keccak(b"manifest")), 1)
            _advance(w3, oracle)
            _advance(w3, oracle)
            start = time.perf_counter()
            tree = ReceiptTree(receipts)
            built = time.perf_counter()
            proofs = tree.proofs()
            proved = time.perf_counter()
            header = BatchHeader(1, tree.root, count, 1, os.urandom(32))
            _anchor(w3, oracle, owner, secrets_, publics, header, list(range(COMMITTEE)))
            done = time.perf_counter()
        assert len(proofs) == count
    figures.update(receipts_per_s=count / (done - start), pipeline_receipts=count,
                   tree_us_per_receipt=(built - start) / count * 1e6, proofs_us_per_receipt=(proved - built) / count * 1e6,
                   sign_and_anchor_s=done - proved)  # fmt: skip
    return figures


def explained(quick: bool) -> dict:
    """Explained recommendations per second: the batch computation of real listeners' top-10s."""
    from qfzz_chain.config import lastfm_data_path, qfzz_home
    from qfzz_chain.oracle.batch import compute_batch
    from qfzz_chain.oracle.catalogue import Catalogue
    from qfzz_chain.oracle.epoch import EpochInputs, Request
    from qfzz_chain.recommender.cache import fitted_engine
    from qfzz_chain.recommender.data import load_lastfm

    dataset = load_lastfm()
    engine = fitted_engine(dataset, "hybrid", qfzz_home() / "models", (lastfm_data_path() / "SHA256SUMS").read_bytes())
    listeners = [int(u) for u in dataset.interactions.user_ids[: 100 if quick else 500]]
    inputs = EpochInputs(1, 1, tuple(Request(f"lastfm:{u}", "0x" + keccak(str(u).encode()).hex()) for u in listeners))
    catalogue = Catalogue(engine)
    compute_batch(engine, EpochInputs(1, 1, inputs.requests[:5]), catalogue)  # warm up
    start = time.perf_counter()
    batch = compute_batch(engine, inputs, catalogue)
    elapsed = time.perf_counter() - start
    from qfzz_chain.oracle.epoch import RegisteredTrack

    popular_tags = [engine.tag_names[t] for t in np.argsort(-np.diff(sp.csc_matrix(engine.content).indptr))[:30]]
    tracks = tuple(RegisteredTrack(keccak(b"bench track" + bytes([i])), f"Track {i}", "0x" + "00" * 20,
                                   tuple(popular_tags[(3 * i + k) % 30] for k in range(3))) for i in range(10))  # fmt: skip
    with_tracks = EpochInputs(1, 1, inputs.requests, (), 1, tracks)
    start = time.perf_counter()
    batch_with_tracks = compute_batch(engine, with_tracks, catalogue)
    elapsed_with_tracks = time.perf_counter() - start
    return {"explained_recs_per_s": len(batch.receipts) / elapsed, "explained_top10_batch_ms": elapsed / len(listeners) * 1e3,
            "explained_recs_per_s_with_10_registered_tracks": len(batch_with_tracks.receipts) / elapsed_with_tracks,
            "registered_tracks_placed": sum(p.lastfm_id is None for p in batch_with_tracks.placements)}


def verification(quick: bool) -> dict:
    """A listener's check of a real receipt, in-process (median), and through the CLI."""
    from qfzz_chain.config import lastfm_data_path, qfzz_home
    from qfzz_chain.ipfs import open_store
    from qfzz_chain.oracle.batch import compute_batch
    from qfzz_chain.oracle.epoch import EpochInputs, Request
    from qfzz_chain.oracle.manifest import publish_manifest
    from qfzz_chain.oracle.receipts import ReceiptFile
    from qfzz_chain.oracle.verify import recompute_check, verify_receipt
    from qfzz_chain.recommender.cache import cache_key, cache_path, fitted_engine
    from qfzz_chain.recommender.data import load_lastfm
    from qfzz_chain.recommender.models import build_model
    from qfzz_chain.zk.commitments import commit

    models = qfzz_home() / "models"
    checksums = (lastfm_data_path() / "SHA256SUMS").read_bytes()
    dataset = load_lastfm()
    engine = fitted_engine(dataset, "hybrid", models, checksums)
    key = cache_key(checksums, "hybrid", build_model("hybrid").params())
    with tempfile.TemporaryDirectory(prefix="qfzz-bench-ipfs-") as repo:
        os.environ["QFZZ_IPFS_REPO"] = repo
        store = open_store()
        manifest = publish_manifest(store, engine, cache_path(models, "hybrid", key), key, checksums)
        with deployed_suite(("RecommendationOracle", (lambda owner: owner, EPOCH_SECONDS))) as (w3, record):
            oracle = RecommendationOracle.from_record(w3, record)
            owner = Sender(w3.eth.accounts[0])
            secrets_, publics = _committee(w3, oracle, owner)
            from qfzz_chain.ipfs import parse_cid

            oracle.register_model_version(owner, 1, CidParts.from_cid(parse_cid(manifest)), 1)
            _advance(w3, oracle)
            _advance(w3, oracle)
            commitment, salt = commit(b"lastfm:2")
            inputs = EpochInputs(1, 1, (Request("lastfm:2", "0x" + commitment.hex()),
                                        *(Request(f"lastfm:{u}", "0x" + keccak(str(u).encode()).hex())
                                          for u in dataset.interactions.user_ids[1:40])))  # fmt: skip
            batch = compute_batch(engine, inputs)
            for document in batch.documents.values():
                store.add_bytes(document, cid_version=1)
            tree = ReceiptTree(batch.receipts)
            header = BatchHeader(1, tree.root, len(batch.receipts), 1, inputs.digest)
            _anchor(w3, oracle, owner, secrets_, publics, header, list(range(COMMITTEE)))
            index = next(i for i, p in enumerate(batch.placements) if p.listener == "lastfm:2")
            placement = batch.placements[index]
            file = ReceiptFile(w3.eth.chain_id, oracle.address, placement.receipt, tree.root, len(batch.receipts),
                               tree.proof(index), "lastfm:2", salt, placement.item_name, "lastfm-artist",
                               placement.lastfm_id)  # fmt: skip
            times = []
            for _ in range(5 if quick else 20):
                start = time.perf_counter()
                verify_receipt(file, oracle, store)
                times.append((time.perf_counter() - start) * 1e3)
            history = {int(dataset.interactions.item_ids[i]): float(p) for i, p in
                       zip(engine.history[engine.interactions.user_index(2)].indices,
                           engine.history[engine.interactions.user_index(2)].data)}  # fmt: skip
            recompute_times = []
            for _ in range(1 if quick else 3):
                from qfzz_chain.oracle.manifest import load_engine

                start = time.perf_counter()
                fresh, _ = load_engine(store, manifest, dataset, checksums)
                verify_receipt(file, oracle, store, recompute=lambda f, c: recompute_check(fresh, history, f, c))
                recompute_times.append((time.perf_counter() - start) * 1e3)
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
                handle.write(file.to_json())
            env = {k: v for k, v in os.environ.items() if not k.startswith("QFZZ_")} | {
                "QFZZ_IPFS_REPO": repo, "QFZZ_RPC_URL": w3.provider.endpoint_uri, "QFZZ_HOME": os.environ["QFZZ_HOME"]}
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "qfzz_chain", "verify", handle.name], capture_output=True,
                                  text=True, env=env)  # fmt: skip
            cli_ms = (time.perf_counter() - start) * 1e3
            if done.returncode != 0:
                raise SystemExit(f"qfzz verify failed: {done.stderr}")
            os.unlink(handle.name)
    return {"verify_ms": statistics.median(times), "verify_p90_ms": sorted(times)[int(0.9 * (len(times) - 1))],
            "recompute_verify_ms": statistics.median(recompute_times), "verify_cli_ms": cli_ms}


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    figures = {**gas_figures(quick), **throughput(quick), **explained(quick), **verification(quick), "quick": quick}
    print(f"{'oracle':<34}{'value':>16}  target")
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = ""
        if target is not None:
            ok = value <= target if key in ("anchor_gas", "verify_ms") else value >= target
            verdict = f"{'<=' if key in ('anchor_gas', 'verify_ms') else '>='} {target:,} {'ok' if ok else 'MISSED'}"
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<34}{shown:>16}  {verdict}")
    print(f"wrote {write_results('oracle', figures)}")


if __name__ == "__main__":
    main()
