"""Pro-rata against user-centric on real listening: the HetRec 2011 Last.fm 2K play counts
(1,892 listeners, 17,632 artists, 92,834 listener-artist pairs), each artist standing for a
track whose split would be paid. The I/O edge over ``epochs``: it loads the data, runs both
schemes on one pool, and summarises how the money moves between the head and the long tail.
"""

from __future__ import annotations

from dataclasses import dataclass

from qfzz_chain.royalties import epochs

# one million dollars of a 6-decimal stablecoin: large enough that rounding (below a cent per
# artist) does not show in any share
DEFAULT_POOL = 1_000_000 * 10**6


@dataclass(frozen=True)
class SchemeComparison:
    pool: int
    listeners: int
    artists: int
    pairs: int
    groups: list[epochs.GroupShare]
    gainers: int  # artists paid more under user-centric
    losers: int
    top_artist: str
    top_pro_rata: int
    top_user_centric: int
    gini_pro_rata: float
    gini_user_centric: float
    pro_rata: dict[int, int]
    user_centric: dict[int, int]
    plays: dict[int, int]

    @property
    def moved(self) -> int:
        """Units user-centric moves from the artists it pays less to those it pays more."""
        return sum(max(self.user_centric.get(a, 0) - self.pro_rata.get(a, 0), 0) for a in self.plays)


def gini(values: list[int]) -> float:
    """The Gini coefficient of payouts (0: everyone equal, 1: one takes all)."""
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if not n or not total:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def compare(pool: int = DEFAULT_POOL, folder=None) -> SchemeComparison:
    from qfzz_chain.recommender.data import load_lastfm

    data = load_lastfm(folder)
    interactions = data.interactions
    matrix = interactions.plays.tocoo()
    users = interactions.user_ids[matrix.row]
    artists = interactions.item_ids[matrix.col]
    counts = matrix.data.astype(int)
    listens = list(zip(users.tolist(), artists.tolist(), counts.tolist()))
    plays: dict[int, int] = {}
    for _, artist, count in listens:
        plays[artist] = plays.get(artist, 0) + count
    pro = epochs.pro_rata(plays, pool)
    centric = epochs.user_centric(listens, pool)
    top = max(plays, key=lambda a: (plays[a], -a))
    names = dict(zip(interactions.item_ids.tolist(), data.item_names))
    return SchemeComparison(
        pool=pool, listeners=len(set(users.tolist())), artists=len(plays), pairs=len(listens),
        groups=epochs.head_tail(plays, pro, centric),
        gainers=sum(1 for a in plays if centric.get(a, 0) > pro[a]),
        losers=sum(1 for a in plays if centric.get(a, 0) < pro[a]),
        top_artist=names.get(top, str(top)), top_pro_rata=pro[top], top_user_centric=centric.get(top, 0),
        gini_pro_rata=gini(list(pro.values())), gini_user_centric=gini([centric.get(a, 0) for a in plays]),
        pro_rata=pro, user_centric=centric, plays=plays,
    )  # fmt: skip


def draw(comparison: SchemeComparison, path) -> None:
    """Bars of the pool's share per popularity group under each scheme, and the Lorenz curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = comparison.groups
    figure, (bars, lorenz) = plt.subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(groups))
    width = 0.38
    bars.bar(x - width / 2, [100 * g.pro_rata_share for g in groups], width, label="pro-rata")
    bars.bar(x + width / 2, [100 * g.user_centric_share for g in groups], width, label="user-centric")
    for i, g in enumerate(groups):
        bars.annotate(f"{100 * g.moved:+.1f} pt", (x[i], max(g.pro_rata_share, g.user_centric_share) * 100 + 1),
                      ha="center", fontsize=8)  # fmt: skip
    bars.set_xticks(x, [f"{g.label}\n({g.tracks:,} artists)" for g in groups], fontsize=8)
    bars.set_ylabel("share of the pool (%)")
    bars.set_title("Who the pool pays, by artist popularity")
    bars.legend()
    for label, payouts in (("pro-rata", comparison.pro_rata), ("user-centric", comparison.user_centric)):
        values = np.sort(np.array([payouts.get(a, 0) for a in comparison.plays], dtype=float))
        curve = np.concatenate([[0], np.cumsum(values) / values.sum()])
        lorenz.plot(np.linspace(0, 1, len(curve)), curve, label=f"{label} (Gini {gini(values.astype(int).tolist()):.3f})")
    lorenz.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--")
    lorenz.set_xlabel("share of artists, least paid first")
    lorenz.set_ylabel("share of the pool")
    lorenz.set_title("Lorenz curves of artist payouts")
    lorenz.legend(fontsize=8)
    figure.suptitle(f"Last.fm 2K: {comparison.listeners:,} listeners, {comparison.artists:,} artists", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
