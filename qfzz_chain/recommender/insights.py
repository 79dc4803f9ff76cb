"""Artist-driven insights (the seed's "artist feedback loop" gap), from the serving model itself.

For one artist: how often the model puts them in listeners' top-N and how that compares with
their popularity, which prototypes (artists in the listeners' histories) and which tags carry
those recommendations, and which listener segments it reaches. Segments are the listeners'
dominant tag (their most weighted tag in the TF-IDF profile) and their activity tercile (plays).

Everything is in the artist's terms: a segment's *reach* is how many of its listeners (those who do
not know the artist yet) have it in their top-N, and its *share* is that count over those
listeners. Segments are ordered by reach, not by size: an artist wants to see where they land
first, and a big segment they never reach says less than a small one they reach well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import ChartPathError
from qfzz_chain.recommender.models.base import top_n
from qfzz_chain.recommender.models.content import tfidf_rows

SEGMENT_MIN_USERS = 10  # smaller dominant-tag groups are too noisy to report
SCORING_BATCH = 256
CHART_FORMATS = ("png", "svg", "pdf")  # what matplotlib's Agg backend writes without extra libraries
CHART_SEGMENTS = 15  # bars in the reach panel (the best-reached segments)


@dataclass(frozen=True)
class Driver:
    """Something that carries an artist's recommendations, with its summed weight."""

    name: str
    weight: float


@dataclass(frozen=True)
class Segment:
    """A group of listeners and how many of them (who do not know the artist yet) see it."""

    kind: str
    name: str
    users: int
    eligible: int
    recommended: int

    @property
    def share(self) -> float:
        return self.recommended / self.eligible if self.eligible else 0.0


@dataclass(frozen=True)
class ArtistInsights:
    """Exposure, drivers and blind spots of one artist under the serving model."""

    item: int
    name: str
    model: str
    n: int
    listeners: int
    popularity_rank: int
    recommended_to: int
    eligible_users: int
    exposure_rank: int
    mean_position: float | None
    prototypes: tuple[Driver, ...]
    tags: tuple[Driver, ...]
    segments: tuple[Segment, ...]

    @property
    def never_seen_by(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.eligible and not s.recommended)

    @property
    def reached_segments(self) -> tuple[Segment, ...]:
        """The segments where the artist lands in someone's top-N, by reach (``segments``' order)."""
        return tuple(s for s in self.segments if s.recommended)


def artist_insights(engine: RecommendationEngine, item_id: int, tag_counts: sp.csr_matrix, n: int = 10,
                    top: int = 5, progress=None) -> ArtistInsights:
    """Insights for ``item_id``: everyone's top-``n`` is computed once with the engine's model."""
    item = engine.interactions.item_index(item_id)
    history = engine.history
    n_users = history.shape[0]
    lists = np.empty((n_users, n), dtype=np.int64)
    for start in range(0, n_users, SCORING_BATCH):
        users = np.arange(start, min(start + SCORING_BATCH, n_users))
        lists[users] = top_n(engine.model.score(history[users], users), history[users], n)
        if progress:
            progress(min(start + SCORING_BATCH, n_users), n_users)
    listeners_per_item = np.diff(sp.csc_matrix(engine.interactions.plays).indptr)
    exposure = np.bincount(lists[lists >= 0], minlength=history.shape[1])
    hit_rows, hit_positions = np.nonzero(lists == item)
    knows = np.zeros(n_users, dtype=bool)
    knows[sp.csc_matrix(history)[:, item].nonzero()[0]] = True

    prototype_weights: dict[int, float] = {}
    if engine.model.explainable:
        for user in hit_rows:
            for j, value in engine.model.contributions(history[user], item, int(user)).items():
                prototype_weights[j] = prototype_weights.get(j, 0.0) + value
    # Tags: what the reached listeners' tag profiles share with the artist's (for any model).
    tag_vectors = tfidf_rows(tag_counts)
    profiles = sp.csr_matrix(history.sign() @ tag_vectors)
    shared = np.asarray(profiles[hit_rows].sum(axis=0)).ravel() * tag_vectors[item].toarray().ravel()
    tag_weights = {_tag_name(engine, int(t)): float(shared[t]) for t in np.flatnonzero(shared > 0)}

    return ArtistInsights(
        item=int(item_id), name=engine.item_names[item], model=engine.model.name, n=n,
        listeners=int(listeners_per_item[item]),
        popularity_rank=int(np.count_nonzero(listeners_per_item > listeners_per_item[item]) + 1),
        recommended_to=int(len(hit_rows)), eligible_users=int(np.count_nonzero(~knows)),
        exposure_rank=int(np.count_nonzero(exposure > exposure[item]) + 1),
        mean_position=float(hit_positions.mean() + 1) if len(hit_positions) else None,
        prototypes=_strongest({engine.item_names[j]: w for j, w in prototype_weights.items()}, top),
        tags=_strongest(tag_weights, top),
        segments=_segments(engine, profiles, knows, set(hit_rows.tolist())),
    )


def _strongest(weights: dict[str, float], top: int) -> tuple[Driver, ...]:
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(Driver(name, float(w)) for name, w in ranked[:top] if w > 0)


def _tag_name(engine: RecommendationEngine, tag: int) -> str:
    return engine.tag_names[tag] if tag < len(engine.tag_names) else str(tag)


def _segments(engine: RecommendationEngine, profiles: sp.csr_matrix, knows: np.ndarray,
              reached: set[int]) -> tuple[Segment, ...]:
    history = engine.history
    n_users = history.shape[0]
    dominant = np.asarray(profiles.argmax(axis=1)).ravel()
    has_profile = np.diff(profiles.indptr) > 0
    # Total plays, not artist count: Last.fm 2K keeps at most 50 artists per user.
    activity = np.asarray(history.sum(axis=1)).ravel()
    low, high = np.quantile(activity, [1 / 3, 2 / 3])
    groups: dict[tuple[str, str], list[int]] = {}
    for user in range(n_users):
        if has_profile[user]:
            tag = dominant[user]
            groups.setdefault(("dominant tag", _tag_name(engine, int(tag))), []).append(user)
        level = "light" if activity[user] <= low else ("heavy" if activity[user] > high else "medium")
        groups.setdefault(("activity", level), []).append(user)
    segments = []
    for (kind, name), members in groups.items():
        if kind == "dominant tag" and len(members) < SEGMENT_MIN_USERS:
            continue
        eligible = [u for u in members if not knows[u]]
        segments.append(Segment(kind, name, len(members), len(eligible), sum(1 for u in eligible if u in reached)))
    return tuple(sorted(segments, key=reach_order))


def reach_order(segment: Segment) -> tuple:
    """Most listeners reached first, then the larger share, then the larger segment, then the name."""
    return (-segment.recommended, -segment.share, -segment.users, segment.kind, segment.name)


def check_chart_path(path: Path | str) -> Path:
    """``path`` if a chart can be written there (its folder exists, a known format), else one clear error.

    Called before the minutes of ranking that precede the chart, so a typo loses nothing.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        raise ChartPathError(f"cannot write the chart to {path}: name it .{', .'.join(CHART_FORMATS)} "
                             f"(got {'.' + suffix if suffix else 'no extension'})")
    folder = path.parent
    if not folder.exists():
        raise ChartPathError(f"cannot write the chart to {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise ChartPathError(f"cannot write the chart to {path}: {folder} is not a folder")
    if path.is_dir():
        raise ChartPathError(f"cannot write the chart to {path}: it is a folder")
    return path


def insights_chart(insights: ArtistInsights, path: Path | str) -> Path:
    """A chart (PNG, SVG or PDF by the name's extension) of where the artist lands and why.

    Left: the segments where the artist is in someone's top-N, ordered by reach, each bar the
    listeners reached with "reached of eligible (share)" beside it. Middle and right: the prototype
    artists and the tags that carry those recommendations. An artist nobody is recommended to yet
    gets one panel that says so, with what the data knows about them, instead of empty axes.
    """
    path = check_chart_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reached = insights.reached_segments
    if not reached:
        figure, axis = plt.subplots(figsize=(10, 3.5))
        axis.axis("off")
        axis.text(0.5, 0.62, f"{insights.name} is not in any listener's top {insights.n} yet", ha="center",
                  va="center", fontsize=15, weight="bold", transform=axis.transAxes)
        axis.text(0.5, 0.35, f"{insights.listeners} listeners in the data play it (popularity rank "
                  f"{insights.popularity_rank}); none of the other {insights.eligible_users} has it in their "
                  f"top {insights.n} under the {insights.model} model,\nso no segment, prototype or tag drives "
                  "it yet. The chart fills in once the model recommends it to someone.",
                  ha="center", va="center", fontsize=10, transform=axis.transAxes)
    else:
        figure, axes = plt.subplots(1, 3, figsize=(16, 5.5), gridspec_kw={"width_ratios": [1.5, 1, 1]})
        shown = reached[:CHART_SEGMENTS]
        counts = [s.recommended for s in shown]
        axes[0].barh([f"{s.kind}: {s.name}" for s in shown], counts, color="#4c72b0")
        for position, segment in enumerate(shown):
            axes[0].text(segment.recommended, position, f"  {segment.recommended} of {segment.eligible} "
                         f"({100 * segment.share:.1f}%)", va="center", fontsize=8)
        axes[0].set_xlim(0, max(counts) * 1.45)
        axes[0].set_xlabel(f"listeners reached (have it in their top {insights.n}; share of those who do not know it)")
        more = len(reached) - len(shown)
        axes[0].set_title(f"Where it lands, by reach ({len(reached)} segments"
                          + (f", best {len(shown)} shown)" if more else ")"))
        axes[0].invert_yaxis()
        for axis, drivers, title, colour in ((axes[1], insights.prototypes, "Prototype artists driving it", "#55a868"),
                                             (axes[2], insights.tags, "Tags driving it", "#c44e52")):
            if drivers:
                axis.barh([d.name for d in drivers], [d.weight for d in drivers], color=colour)
                axis.invert_yaxis()
            else:
                axis.text(0.5, 0.5, "none for this model", ha="center", va="center", transform=axis.transAxes)
                axis.set_yticks([])
            axis.set_title(title)
            axis.set_xlabel("summed weight over the listeners reached")
    figure.suptitle(f"{insights.name}: recommended to {insights.recommended_to} of {insights.eligible_users} listeners "
                    f"who do not know it yet (exposure rank {insights.exposure_rank}, popularity rank "
                    f"{insights.popularity_rank}, model {insights.model})")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        raise ChartPathError(f"cannot write the chart to {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return path
