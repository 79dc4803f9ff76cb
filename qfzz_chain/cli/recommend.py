"""``qfzz recommend``: evaluate the models, recommend with explanations, and show artist insights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qfzz_chain.cli._output import emit, json_option, table

MODEL_HELP = "Model to use (see `qfzz recommend evaluate --help` for the list)."


def _status(message: str) -> None:
    click.echo(message, err=True)


def load_dataset(data: Path | None):
    """The Last.fm dataset (checksums verified), saying where it is read from."""
    from qfzz_chain.recommender.data import load_lastfm

    _status(f"loading Last.fm 2K from {data or 'the default folder'} (checksums verified)")
    return load_lastfm(data)


def _model_choice() -> click.Choice:
    from qfzz_chain.recommender.names import MODEL_NAMES  # no numpy: `--help` stays fast

    return click.Choice(MODEL_NAMES)


cache_option = click.option("--no-cache", is_flag=True,
                            help="Fit afresh and neither read nor write the fitted-model cache ($QFZZ_HOME/models/).")


def serving_engine(dataset, model: str, data: Path | None, no_cache: bool):
    """The fitted engine: from the model cache when it is valid, otherwise fitted (and cached)."""
    from qfzz_chain.config import lastfm_data_path, qfzz_home
    from qfzz_chain.recommender.cache import fitted_engine

    folder = Path(data) if data is not None else lastfm_data_path()
    checksums = (folder / "SHA256SUMS").read_bytes()
    return fitted_engine(dataset, model, None if no_cache else qfzz_home() / "models", checksums, _status)


data_option = click.option("--data", type=click.Path(path_type=Path), default=None,
                           help="Dataset folder (default: $QFZZ_LASTFM_DIR or the shared copy).")


@click.group()
def recommend() -> None:
    """Recommend artists from real Last.fm listening data, with explanations and fairness metrics.

    \b
      qfzz recommend evaluate --protocol cold-start
      qfzz recommend for 2 -n 10 --counterfactual
      qfzz recommend insights "Pet Shop Boys" --chart psb.png
    """


@recommend.command("evaluate")
@click.option("--model", "models", multiple=True, type=_model_choice(),
              help="Model(s) to evaluate (repeatable; default: all).")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the random splits.")
@click.option("--protocol", type=click.Choice(["random", "cold-start", "temporal"]), default="random",
              show_default=True, help="Holdout protocol (documented in docs/recommender.md).")
@click.option("--budget", type=click.IntRange(1, 1000), default=None,
              help="Distinct settings each model may try on validation (default: the benchmark's, 32).")
@data_option
@json_option
def evaluate(models: tuple[str, ...], seed: int, protocol: str, budget: int | None, data: Path | None,
             as_json: bool) -> None:
    """Choose hyperparameters on the protocol's validation split, refit, and print the test metrics.

    Every model searches its settings with the same budget (the hybrid's parts are searched too).
    With all models and the default budget this takes tens of minutes on two cores.
    """
    from qfzz_chain.recommender.evaluation import TUNING_BUDGET, run_evaluation
    from qfzz_chain.recommender.names import MODEL_NAMES

    dataset = load_dataset(data)
    chosen_models = list(models) or list(MODEL_NAMES)
    results, _ = run_evaluation(dataset, chosen_models, [protocol], seed, progress=_status,
                                budget=budget or TUNING_BUDGET)
    rows = []
    for name, result in results[protocol].items():
        row: dict[str, Any] = {"model": name, **{k: round(v, 4) for k, v in result.metrics.items()}}
        row.update({"validation_ndcg_at_10": round(result.validation_ndcg, 4), "fit_s": round(result.fit_seconds, 2),
                    "params": result.params, "grid_edges": list(result.edges), "evaluations": result.evaluations})
        rows.append(row)
    columns = ["model", "ndcg_at_10", "precision_at_10", "recall_at_10", "map_at_10", "coverage", "gini", "novelty",
               "serendipity", "emerging_share", "new_item_recall_at_10", "validation_ndcg_at_10", "fit_s"]
    emit({"protocol": protocol, "seed": seed, "models": rows}, as_json,
         lambda value: f"protocol {protocol}, seed {seed}\n" + table(value["models"], columns))


@recommend.command("for")
@click.argument("user", type=int)
@click.option("-n", "count", type=click.IntRange(1, 100), default=10, show_default=True, help="How many artists.")
@click.option("--model", type=_model_choice(), default="hybrid", show_default=True, help=MODEL_HELP)
@click.option("--fairness-boost", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Lift emerging artists by this share of the user's top score.")
@click.option("--counterfactual", is_flag=True,
              help="Also find, per item, the smallest set (≤ 3) of the user's artists without which it would not "
                   "be recommended, checked by refitting the model without those listens (slow: seconds per refit).")
@click.option("--refits", type=click.IntRange(0, 20), default=3, show_default=True,
              help="With --counterfactual: refits allowed per item to confirm a set (0: re-score only, unconfirmed).")
@data_option
@cache_option
@json_option
def for_user(user: int, count: int, model: str, fairness_boost: float, counterfactual: bool, refits: int,
             data: Path | None, no_cache: bool, as_json: bool) -> None:
    """Top-N artists for USER (a Last.fm user id) with explanations and their keccak-256 hashes.

    The model uses its validation-chosen default settings; the fitted model is cached under
    $QFZZ_HOME/models/ (keyed by data checksums, model, settings and code version), so only the
    first call fits. Each explanation's canonical JSON (format version 2, specified in
    qfzz_chain/recommender/explain.py) and its keccak-256 are what an oracle anchors.

    \b
    --counterfactual answers "not without A, B" only when a refit without those listens agrees;
    otherwise it says no set of at most three artists was found.
    """
    dataset = load_dataset(data)
    dataset.interactions.user_index(user)  # fail fast on an unknown user, before fitting
    engine = serving_engine(dataset, model, data, no_cache)
    recommendations = engine.recommend(user, count, fairness_boost=fairness_boost)
    records = []
    for rec in recommendations:
        record: dict[str, Any] = {"rank": rec.rank, "item": rec.item, "name": rec.name, "score": round(rec.score, 6),
                                  "explanation": rec.explanation.to_dict(),
                                  "explanation_canonical": rec.explanation.canonical_bytes().decode("ascii"),
                                  "explanation_keccak": rec.explanation_hash}
        if counterfactual:
            _status(f"counterfactual for {rec.name}")
            found = engine.counterfactual(user, rec.item, n=count, refits=refits, progress=_status)
            record["counterfactual"] = {"removed": [p.name for p in found.removed], "rank_after": found.rank_after,
                                        "rank_after_refit": found.rank_after_refit,
                                        "holds_under_refit": found.holds_under_refit, "refits": found.refits,
                                        "exact": found.exact, "verified": found.verified}
        records.append(record)
    emit({"user": user, "model": model, "recommendations": records}, as_json, _render_recommendations)


def _render_recommendations(value: dict[str, Any]) -> str:
    lines = [f"user {value['user']}, model {value['model']}"]
    for record in value["recommendations"]:
        explanation = record["explanation"]
        because = ", ".join(f"{p['name']} ({p['contribution']:+.3f})" for p in explanation["prototypes"]) or "-"
        tags = ", ".join(m["feature"] for m in explanation["matched_features"]) or "-"
        lines.append(f"{record['rank']:>3}. {record['name']} (artist {record['item']})  score {record['score']:.4f}")
        lines.append(f"     because you played: {because}")
        lines.append(f"     matching tags: {tags}")
        if explanation["cf_weight"] is not None:
            lines.append(f"     CF weight λ {explanation['cf_weight']:.3f}")
        if explanation["fairness_boost"]:
            lines.append(f"     emerging-artist boost +{explanation['fairness_boost']:.4f}")
        if "counterfactual" in record:
            cf = record["counterfactual"]
            if cf["removed"] and cf["holds_under_refit"]:
                lines.append(f"     not recommended without: {', '.join(cf['removed'])} (rank {cf['rank_after_refit']} "
                             f"after refitting without them{', smallest such set' if cf['exact'] else ''})")
            elif cf["removed"]:
                lines.append(f"     re-scored without {', '.join(cf['removed'])} it drops to rank {cf['rank_after']} "
                             "(not checked by a refit)")
            else:
                lines.append("     no set of at most 3 of your artists keeps it out of your list"
                             + (f" after a refit ({cf['refits']} checked)" if cf["refits"] else ""))
        lines.append(f"     explanation keccak {record['explanation_keccak']}")
    return "\n".join(lines)


@recommend.command("insights")
@click.argument("artist")
@click.option("-n", "count", type=click.IntRange(1, 100), default=10, show_default=True, help="Top-N list length.")
@click.option("--model", type=_model_choice(), default="hybrid", show_default=True, help=MODEL_HELP)
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write a chart here (.png, .svg or .pdf; the folder must exist): where the artist lands by reach, and why.")
@data_option
@cache_option
@json_option
def insights(artist: str, count: int, model: str, chart: Path | None, data: Path | None, no_cache: bool,
             as_json: bool) -> None:
    """What drives ARTIST's recommendations (artist id or exact name), and who never sees them."""
    from qfzz_chain.cli._output import to_jsonable
    from qfzz_chain.recommender.insights import artist_insights, check_chart_path, insights_chart
    from qfzz_chain.recommender.split import visible_tag_counts

    if chart is not None:
        check_chart_path(chart)  # before the ranking: a mistyped folder costs nothing
    dataset = load_dataset(data)
    item_id = _artist_id(dataset, artist)
    engine = serving_engine(dataset, model, data, no_cache)
    tag_counts = visible_tag_counts(dataset.tags, dataset.interactions.n_items)
    with click.progressbar(length=dataset.interactions.n_users, label="ranking every listener",
                           file=click.get_text_stream("stderr")) as bar:
        last = [0]

        def advance(done: int, total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        result = artist_insights(engine, item_id, tag_counts, n=count, progress=advance)
    if chart is not None:
        insights_chart(result, chart)
        _status(f"wrote {chart}")
    value = to_jsonable(result)
    value["never_seen_by"] = [f"{s.kind}: {s.name}" for s in result.never_seen_by]
    value["reached_segments"] = [f"{s.kind}: {s.name}" for s in result.reached_segments]
    emit(value, as_json, _render_insights)


def _artist_id(dataset, artist: str) -> int:
    from qfzz_chain.recommender.errors import UnknownItemError

    if artist.isdigit():
        dataset.interactions.item_index(int(artist))
        return int(artist)
    wanted = artist.casefold()
    for index, name in enumerate(dataset.item_names):
        if name.casefold() == wanted:
            return int(dataset.interactions.item_ids[index])
    raise UnknownItemError(f"no artist named {artist!r}")


def _render_insights(value: dict[str, Any]) -> str:
    lines = [
        f"{value['name']} (artist {value['item']}), model {value['model']}, top-{value['n']} lists",
        f"  listeners in the data     {value['listeners']} (popularity rank {value['popularity_rank']})",
        f"  recommended to            {value['recommended_to']} of {value['eligible_users']} listeners who do not know it yet"
        f" (exposure rank {value['exposure_rank']})",
    ]
    if value["mean_position"] is not None:
        lines.append(f"  mean position when shown  {value['mean_position']:.1f}")
    lines.append("  prototypes driving it     " + (", ".join(f"{d['name']} ({d['weight']:.2f})" for d in value["prototypes"]) or "-"))
    lines.append("  tags driving it           " + (", ".join(f"{d['name']} ({d['weight']:.2f})" for d in value["tags"]) or "-"))
    if not value["recommended_to"]:
        lines.append(f"  nobody is recommended {value['name']} yet: it is in none of the {value['eligible_users']} "
                     f"top-{value['n']} lists of listeners who do not know it, so no segment, prototype or tag drives it")
        return "\n".join(lines)
    # Segments come ordered by reach (listeners reached, then share), where the artist lands first.
    rows = [{"segment": f"{s['kind']}: {s['name']}", "listeners reached": s["recommended"],
             "share": f"{100 * s['recommended'] / s['eligible']:.1f}%" if s["eligible"] else "-",
             "could reach": s["eligible"], "segment size": s["users"]} for s in value["segments"] if s["recommended"]]
    lines.append(f"  where it lands, by reach   {len(rows)} segments (share: of the segment's listeners who do not know it)")
    lines.append(table(rows, ["segment", "listeners reached", "share", "could reach", "segment size"]))
    lines.append("  never shown to: " + (", ".join(value["never_seen_by"]) or "(every segment sees it)"))
    return "\n".join(lines)
