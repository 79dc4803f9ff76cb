"""``qfzz verify``: a listener checks a recommendation they got, link by link, against the chain."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option


def _history(path: Path) -> dict[int, float]:
    """A listening history file: JSON {"artist id": plays, ...} or lines of `artist_id plays`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise click.ClickException(f"cannot read --history {path}: {exc.strerror}") from exc
    try:
        if text.lstrip().startswith("{"):
            return {int(k): float(v) for k, v in json.loads(text).items()}
        return {int(a): float(p) for a, p in (line.split() for line in text.splitlines() if line.strip())}
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"--history {path} is not artist-id/plays pairs: {exc}") from exc


def _render(custody) -> str:
    lines = []
    for link in custody.links:
        name = link["link"]
        facts = {k: v for k, v in link.items() if k not in ("link", "document")}
        if name == "explanation":
            document = link["document"]
            why = document["explanation"]
            played = ", ".join(f"{p['name']} ({p['contribution']:+.3f})" for p in why.get("prototypes", ()))
            tags = ", ".join(f["feature"] for f in why.get("matched_features", ()))
            facts = {"cid": link["cid"], "item": document["item"]["name"], "because you played": played or "-",
                     "matching tags": tags or "-"}
            if why.get("model") == "content-cold-start":  # a registered track: no listens yet, placed by its tags
                facts["new track"] = (f"content rank {why['content_rank']} of the catalogue for your tags"
                                      + (" (the list's new-release slot)" if why.get("slot") == "new-release" else ""))
            if why.get("fairness_boost"):  # a curated emerging artist: the epoch's lists lifted it
                facts["curated emerging artist"] = (f"lifted +{why['fairness_boost']:.4f} on a model score of "
                                                    f"{why['score']:.4f}")  # fmt: skip
        rendered = "; ".join(f"{k} {v}" for k, v in facts.items() if v not in (None, ""))
        lines.append(f"  ✓ {name:<14} {rendered}")
    return "verified: every link holds\n" + "\n".join(lines)


@click.command()
@click.argument("receipt_file", metavar="RECEIPT.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--recompute", is_flag=True, help="Also recompute the recommendation from your own history "
                                                "with the model version's manifest (fetches the model).")
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path),
              help="With --recompute: your whole listening history (JSON {artist id: plays} or `id plays` lines).")
@chain_options(sends=False)
@json_option
def verify(session: ChainSession, receipt_file: Path, recompute: bool, history: Path | None, as_json: bool) -> None:
    """Check that a recommendation you got (a receipt from `qfzz oracle receipts`) is the one the
    committee anchored: Merkle proof, anchored root, committee quorum, model version, explanation,
    the item's attribution, sponsored or organic. The first broken link is named.
    """
    from qfzz_chain.oracle.chain import RecommendationOracle
    from qfzz_chain.oracle.receipts import ReceiptFile
    from qfzz_chain.oracle.verify import recompute_check, verify_receipt

    if recompute and history is None:
        raise click.UsageError("--recompute needs --history FILE (your listening history)")
    try:
        text = receipt_file.read_text()
    except OSError as exc:
        raise click.ClickException(f"cannot read {receipt_file}: {exc.strerror}") from exc
    file = ReceiptFile.from_json(text)
    oracle = RecommendationOracle(session.w3, file.oracle)
    from qfzz_chain.chain.deployment import find_record
    from qfzz_chain.chain.track_registry import TrackRegistry

    found = find_record(session.w3)
    registry = TrackRegistry.from_record(session.w3, found[1]) if found and "TrackRegistry" in found[1].contracts else None
    check = None
    if recompute:
        listening = _history(history)

        def check(receipt, custody):
            from qfzz_chain.config import lastfm_data_path
            from qfzz_chain.oracle.manifest import load_engine
            from qfzz_chain.recommender.data import load_lastfm

            manifest = oracle.model_manifest(receipt.receipt.model_version)
            checksums = (lastfm_data_path() / "SHA256SUMS").read_bytes()
            engine, _ = load_engine(session.store, str(manifest[0]), load_lastfm(), checksums)
            recompute_check(engine, listening, receipt, custody)

    custody = verify_receipt(file, oracle, session.store, registry=registry, recompute=check)
    emit({"verified": True, "links": custody.links}, as_json, lambda _: _render(custody))
