"""Artist insights: segments in reach order and in the artist's terms, the empty state, chart paths."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import ChartPathError
from qfzz_chain.recommender.insights import Segment, artist_insights, check_chart_path, insights_chart, reach_order
from qfzz_chain.recommender.models import build_model

PNG = b"\x89PNG\r\n\x1a\n"


def _svg_text(result, path):
    """The chart as SVG with its text kept as text (matplotlib draws glyphs as paths by default)."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return insights_chart(result, path).read_text()


def _engine(name, interactions, tags):
    model = build_model(name).fit(interactions.plays, tags)
    names = tuple(f"artist {i}" for i in interactions.item_ids)
    return RecommendationEngine(model, interactions, names, tuple(f"tag{t}" for t in range(tags.shape[1])),
                                content=tags)


def _reached_by_hand(engine, item, n):
    """Users (rows) who do not know ``item`` and have it in their own top-``n``, one engine call each."""
    reached = set()
    for user in range(engine.interactions.n_users):
        if engine.history[user, item] == 0 and item in engine.top_items(user, n).tolist():
            reached.add(user)
    return reached


def test_segments_are_ordered_by_reach_and_count_listeners_reached(interactions, tags):
    engine = _engine("itemknn", interactions, tags)
    counts = np.diff(sp.csc_matrix(interactions.plays).indptr)
    item = int(np.argsort(counts)[len(counts) // 2])  # a mid-popularity artist: reached, not by everyone
    result = artist_insights(engine, int(interactions.item_ids[item]), tags, n=5)
    reached = _reached_by_hand(engine, item, 5)
    assert result.recommended_to == len(reached) > 0
    assert result.segments == tuple(sorted(result.segments, key=reach_order))
    landed = result.reached_segments
    assert landed and all(s.recommended for s in landed) and landed == result.segments[:len(landed)]
    assert [s.recommended for s in landed] == sorted((s.recommended for s in landed), reverse=True)
    activity = [s for s in result.segments if s.kind == "activity"]
    # The activity terciles partition the listeners: their reach adds up to everyone reached.
    assert sum(s.recommended for s in activity) == len(reached)
    assert sum(s.users for s in activity) == interactions.n_users
    for segment in result.segments:
        assert 0 <= segment.recommended <= segment.eligible <= segment.users
        assert segment.share == pytest.approx(segment.recommended / segment.eligible if segment.eligible else 0.0)


def test_reach_order_puts_reach_before_size():
    big = Segment("dominant tag", "rock", users=900, eligible=800, recommended=3)
    small = Segment("dominant tag", "synthpop", users=40, eligible=30, recommended=12)
    same_reach = Segment("activity", "light", users=300, eligible=240, recommended=12)
    assert sorted([big, same_reach, small], key=reach_order) == [small, same_reach, big]


def test_an_artist_nobody_is_recommended_gets_a_clear_empty_state(interactions, tags, tmp_path):
    engine = _engine("popularity", interactions, tags)
    counts = np.diff(sp.csc_matrix(interactions.plays).indptr)
    least = int(np.argmin(counts))  # popularity never ranks the least played artist into a top-5
    result = artist_insights(engine, int(interactions.item_ids[least]), tags, n=5)
    assert result.recommended_to == 0 and result.mean_position is None
    assert result.reached_segments == () and result.prototypes == () and result.tags == ()
    assert {s.name for s in result.never_seen_by} == {s.name for s in result.segments if s.eligible}
    chart = insights_chart(result, tmp_path / "empty.png")
    assert chart.read_bytes()[:8] == PNG
    svg = _svg_text(result, tmp_path / "empty.svg")
    assert "is not in any listener" in svg and "top 5 yet" in svg


def test_chart_of_a_reached_artist_labels_reach_and_share(interactions, tags, tmp_path):
    engine = _engine("itemknn", interactions, tags)
    counts = np.diff(sp.csc_matrix(interactions.plays).indptr)
    item = int(np.argsort(counts)[len(counts) // 2])
    result = artist_insights(engine, int(interactions.item_ids[item]), tags, n=5)
    svg = _svg_text(result, tmp_path / "reach.svg")
    best = result.reached_segments[0]
    assert "Where it lands, by reach" in svg and "listeners reached" in svg
    assert f"{best.recommended} of {best.eligible} ({100 * best.share:.1f}%)" in svg
    assert insights_chart(result, tmp_path / "reach.png").read_bytes()[:8] == PNG


def test_chart_paths_that_cannot_be_written_are_refused_up_front(tmp_path):
    with pytest.raises(ChartPathError, match="folder .*missing.* does not exist"):
        check_chart_path(tmp_path / "missing" / "x.png")
    (tmp_path / "file").write_text("")
    with pytest.raises(ChartPathError, match="is not a folder"):
        check_chart_path(tmp_path / "file" / "x.png")
    with pytest.raises(ChartPathError, match=r"\.png, \.svg, \.pdf"):
        check_chart_path(tmp_path / "x.jpeg")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(ChartPathError, match="it is a folder"):
        check_chart_path(tmp_path / "d.png")
    assert check_chart_path(tmp_path / "ok.PNG") == tmp_path / "ok.PNG"


def test_text_output_lists_where_the_artist_lands_or_says_nobody_is_recommended_it(interactions, tags):
    from qfzz_chain.cli._output import to_jsonable
    from qfzz_chain.cli.recommend import _render_insights

    counts = np.diff(sp.csc_matrix(interactions.plays).indptr)
    reached = artist_insights(_engine("itemknn", interactions, tags), int(interactions.item_ids[np.argsort(counts)[20]]),
                              tags, n=5)
    value = to_jsonable(reached)
    value["never_seen_by"] = [f"{s.kind}: {s.name}" for s in reached.never_seen_by]
    text = _render_insights(value)
    best = reached.reached_segments[0]
    header = next(line for line in text.splitlines() if line.startswith("segment"))
    first_row = text.splitlines()[text.splitlines().index(header) + 1]
    assert "listeners reached" in header and "share" in header
    assert first_row.startswith(f"{best.kind}: {best.name}") and f"{100 * best.share:.1f}%" in first_row

    nobody = artist_insights(_engine("popularity", interactions, tags), int(interactions.item_ids[np.argmin(counts)]),
                             tags, n=5)
    value = to_jsonable(nobody)
    value["never_seen_by"] = []
    text = _render_insights(value)
    assert f"nobody is recommended {nobody.name} yet" in text and "segment" not in text.splitlines()[-1][:8]
