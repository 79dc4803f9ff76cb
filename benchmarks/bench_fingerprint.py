"""Fingerprint benchmark: is a near-duplicate caught, and is distinct audio left alone?

Run: ``.venv/bin/python benchmarks/bench_fingerprint.py [--quick]`` (``tools/bootstrap.sh --bench``
installs the audio it needs). Writes ``benchmarks/results/fingerprint.json``; docs/fingerprint.md
explains the figures.

Corpus of originals, all real files on this machine, none made for the occasion by hand:
- real music: the 31 pieces of Debian's ``drascula-music`` (a 1996 adventure game's soundtrack,
  OGG) and the 3 of ``asc-music`` (MP3, another composer); each original is its first
  ``--excerpt-seconds`` (40 s), decoded and kept as FLAC, so 17 edits of 34 tracks stay in time;
- speech: 12 different English sentences spoken by espeak-ng in 12 voices;
- synthetic music: 12 random melodies from ``qfzz_chain.audio.synthesize_melody`` (the demo's and
  the test suite's generator) and 12 seeds of ``synthesize_distinct_track``.
Each original is edited by every transform in ``qfzz_chain.fingerprint.transforms``. True pairs are
(original, edit) for the in-scope edits; false pairs are two originals of different sources, and
an edit of one against the other original. Similarity is ``qfzz_chain.fingerprint.similarity``;
a pair is flagged when it reaches ``MATCH_THRESHOLD``.

Then the project's own audio (issue 8, point 4 of the brief): the demo's three tracks
(tools/demo_audio.py), the CLI tests' fixture tracks (tests/cli/conftest.py), and 200 seeds of
``synthesize_distinct_track`` pairwise. Timings: one fpcalc run per file, as registration does,
on a machine whose 2 cores are shared (see the results' ``machine``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile
from _results import write_results  # benchmarks/ is on sys.path when run as a script

from qfzz_chain.audio import synthesize_distinct_track, synthesize_melody
from qfzz_chain.fingerprint import (
    MATCH_THRESHOLD,
    MIN_AUDIBLE_ITEMS,
    Fingerprint,
    align,
    compute_fingerprint,
    find_near_duplicates,
)
from qfzz_chain.fingerprint.codec import FIRST_ITEM_SAMPLES, ITEM_HOP_SAMPLES, SAMPLE_RATE_HZ
from qfzz_chain.fingerprint.compare import _align, _Spectra
from qfzz_chain.fingerprint.fpcalc import compute_fingerprints
from qfzz_chain.fingerprint.transforms import BEYOND_SCOPE, IN_SCOPE, apply, read_samples

REAL_MUSIC = (Path("/usr/share/scummvm/drascula/audio"), Path("/usr/share/games/asc/music"))
SENTENCES = (  # two sentences each: 12 to 16 s of speech at 150 words a minute
    "The river ran quietly past the old mill, carrying leaves from the hills toward the harbour. "
    "By evening the fishing boats were back, and the gulls followed them in, crying over the nets.",
    "Seven trains leave the northern station every morning, and the first one never waits for anyone. "
    "Passengers who miss it sit in the cafe by the platform and complain about the timetable.",
    "She counted the stars above the lighthouse until the fog rolled in and hid them all away. "
    "Then she lit the lamp, wound the clock, and wrote the weather in the keeper's heavy book.",
    "Bring three apples, a loaf of bread and the blue umbrella, because the forecast promises rain. "
    "We will walk along the ridge to the chapel and eat our lunch under the chestnut trees.",
    "Our committee will meet on Thursday to discuss the budget for the new public library wing. "
    "Please read the architect's report in advance and bring your questions about the heating.",
    "A violin maker needs patience, dry spruce, sharp tools and a very good ear for small sounds. "
    "The varnish alone can take a whole summer, one thin coat after another, drying in the sun.",
    "Turn left at the bakery, walk past two bridges, and the museum entrance is on your right. "
    "The guided tour starts at ten, and the tickets are cheaper for students and for children.",
    "Winter came early that year; the lake froze in November and the geese flew south in a hurry. "
    "The farmers brought their cattle down from the high pastures a full month before the usual day.",
    "The recipe calls for butter, sugar, four eggs and a pinch of salt, mixed slowly by hand. "
    "Bake it for forty minutes in a moderate oven, and let it cool before you cut the first slice.",
    "Engineers tested the tunnel for weeks before the first cars were allowed to drive through it. "
    "They measured the air, the lights and the drains, and they listened for water behind the walls.",
    "Every Sunday the market square fills with flowers, cheese, honey and the smell of fresh coffee. "
    "By noon the stalls are nearly empty, and the musicians by the fountain start to pack away.",
    "He wrote the letter twice, then tore both copies up and decided to call his brother instead. "
    "They talked for an hour about their father's garden, and neither of them mentioned the money.",
)
VOICES = (
    *("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan"),
    *("en-gb-x-gbcwmd", "en-us+f2", "en-gb+f3", "en-us+m3", "en-gb-scotland+f4", "en-029+m5"),
)
NOTES_HZ = [220.0 * 2 ** (k / 12) for k in range(-5, 20)]  # E3 .. B5


def make_originals(folder: Path, quick: bool, excerpt_seconds: float) -> dict[str, tuple[str, Path]]:
    """name -> (category, path) for every original of the corpus."""
    originals: dict[str, tuple[str, Path]] = {}
    real = sorted(p for d in REAL_MUSIC if d.is_dir() for p in d.iterdir() if p.suffix in (".ogg", ".mp3"))
    if not real:
        sys.exit("error: no real music found: run tools/bootstrap.sh --bench (installs drascula-music, asc-music)")
    per_category = 4 if quick else 12
    for path in real[: 8 if quick else len(real)]:
        samples, rate = read_samples(path)
        excerpt = samples[: int(excerpt_seconds * rate)]
        source = "asc" if path.parent.name == "music" else "drascula"
        target = folder / f"real-{source}-{path.stem}.flac"
        soundfile.write(str(target), excerpt, rate)
        originals[target.stem] = ("real", target)
    for index, (sentence, voice) in enumerate(list(zip(SENTENCES, VOICES))[:per_category]):
        target = folder / f"speech-{index:02d}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(target), sentence], check=True)
        originals[target.stem] = ("speech", target)
    draw = random.Random(8)
    for index in range(per_category):
        target = folder / f"melody-{index:02d}.wav"
        notes = [draw.choice(NOTES_HZ) for _ in range(draw.randint(18, 24))]
        synthesize_melody(target, notes, note_seconds=draw.choice([0.4, 0.5, 0.6]))
        originals[target.stem] = ("melody", target)
    for index in range(per_category):
        target = folder / f"distinct-{index:02d}.wav"
        synthesize_distinct_track(target, 10_000 + index)
        originals[target.stem] = ("distinct", target)
    return originals


def _apply(job: tuple[str, Path, Path]) -> Path:
    name, source, folder = job
    return apply(name, source, folder)


def fingerprints_of(paths: list[Path]) -> list[Fingerprint]:
    return compute_fingerprints(paths, workers=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus (~2 min), for iterating")
    parser.add_argument("--excerpt-seconds", type=float, default=40.0, help="length kept of each real track")
    parser.add_argument("--seeds", type=int, default=None, help="synthesize_distinct_track seeds compared pairwise")
    options = parser.parse_args()
    quick = options.quick
    seeds = options.seeds or (40 if quick else 200)
    figures: dict[str, float | int | str] = {"threshold": MATCH_THRESHOLD, "mode": "quick" if quick else "full"}
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="qfzz-bench-fingerprint-") as scratch:
        folder = Path(scratch)
        originals = make_originals(folder, quick, options.excerpt_seconds if not quick else 30.0)
        names = list(originals)
        original_fps = dict(zip(names, fingerprints_of([originals[n][1] for n in names])))
        # Long enough to be registered, and still after a 1 s trim.
        usable = [n for n in names if original_fps[n].audible_items >= MIN_AUDIBLE_ITEMS + 9]
        print(f"{len(names)} originals, {len(usable)} long enough to be registered and trimmed", flush=True)
        figures["originals"] = len(usable)
        for category in ("real", "speech", "melody", "distinct"):
            figures[f"originals_{category}"] = sum(originals[n][0] == category for n in usable)

        transforms = IN_SCOPE + BEYOND_SCOPE
        jobs = [(t.name, originals[n][1], folder) for n in usable for t in transforms]
        with ProcessPoolExecutor(max_workers=2) as pool:
            edited_paths = list(pool.map(_apply, jobs, chunksize=4))
        edited_fps = fingerprints_of(edited_paths)
        edits = {(job[1].stem, job[0]): fp for job, fp in zip(jobs, edited_fps)}
        print(f"{len(edits)} edits made and fingerprinted ({time.perf_counter() - started:.0f} s)", flush=True)

        spectra = {n: _Spectra(original_fps[n].items) for n in usable}
        edit_spectra = {key: _Spectra(fp.items) for key, fp in edits.items() if fp.audible_items >= MIN_AUDIBLE_ITEMS}
        in_scope = [t.name for t in IN_SCOPE]
        true_scores: list[float] = []
        too_short = 0
        for transform in transforms:
            scores, worst = [], ("", 1.0)
            for name in usable:
                edited = edits[(name, transform.name)]
                if edited.audible_items < MIN_AUDIBLE_ITEMS:
                    too_short += transform.name in in_scope  # registration refuses it outright
                    continue
                score = _align(spectra[name], edit_spectra[(name, transform.name)], _min_overlap()).similarity
                scores.append(score)
                worst = min(worst, (name, score), key=lambda pair: pair[1])
            key = "min_similarity_" + transform.name.replace(".", "_")
            figures[key] = round(min(scores), 4)
            figures[key.replace("min_", "median_")] = round(statistics.median(scores), 4)
            if transform.name in in_scope:
                true_scores.extend(scores)
                missed = sum(s < MATCH_THRESHOLD for s in scores)
                figures[f"false_negatives_{transform.name.replace('.', '_')}"] = missed
            else:
                caught = sum(s >= MATCH_THRESHOLD for s in scores) / len(scores)
                figures[f"caught_share_{transform.name}"] = round(caught, 4)
            median = statistics.median(scores)
            print(f"  {transform.name:28s} min {min(scores):.3f}  median {median:.3f}  worst {worst[0]}")
        figures["edits_refused_as_too_short"] = too_short

        false_scores: list[float] = []
        worst_false = (0.0, "", "", 0)
        by_categories: dict[str, float] = {}
        for a, b in itertools.combinations(usable, 2):
            pairs = [(a, spectra[a], b, spectra[b])]
            for one, other in ((a, b), (b, a)):  # each edit of one against the other original
                for t in in_scope:
                    if (one, t) in edit_spectra:
                        pairs.append((f"{one}.{t}", edit_spectra[(one, t)], other, spectra[other]))
            for left, left_spectra, right, right_spectra in pairs:
                result = _align(left_spectra, right_spectra, _min_overlap())
                false_scores.append(result.similarity)
                worst_false = max(worst_false, (result.similarity, left, right, result.overlap_items))
            key = "-".join(sorted((originals[a][0], originals[b][0])))
            by_categories[key] = max(by_categories.get(key, 0.0), max(false_scores[-len(pairs):]))
        print(f"{len(false_scores)} false pairs ({time.perf_counter() - started:.0f} s)", flush=True)

        true_array, false_array = np.array(true_scores), np.array(false_scores)
        figures.update(
            true_pairs=len(true_array),
            false_pairs=len(false_array),
            false_negative_rate=float(np.mean(true_array < MATCH_THRESHOLD)),
            false_positive_rate=float(np.mean(false_array >= MATCH_THRESHOLD)),
            min_true_similarity=round(float(true_array.min()), 4),
            max_false_similarity=round(float(false_array.max()), 4),
            max_false_pair=f"{worst_false[1]} vs {worst_false[2]}",
            max_false_pair_overlap_items=worst_false[3],
            false_similarity_p99=round(float(np.percentile(false_array, 99)), 4),
            false_similarity_median=round(float(np.median(false_array)), 4),
        )
        for key, value in sorted(by_categories.items()):
            figures[f"max_false_similarity_{key.replace('-', '_vs_')}"] = round(value, 4)
        for threshold in (0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.95):
            tag = f"{threshold:.2f}".replace(".", "_")
            figures[f"false_negative_rate_at_{tag}"] = float(np.mean(true_array < threshold))
            figures[f"false_positive_rate_at_{tag}"] = float(np.mean(false_array >= threshold))
        second = sorted(false_scores)[-2] if len(false_scores) > 1 else 0.0
        figures["second_max_false_similarity"] = round(second, 4)

        measure_costs(figures, originals, usable, original_fps, quick)
        measure_project_audio(figures, folder, seeds)

    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("fingerprint", figures)
    print(json.dumps(figures, indent=2, sort_keys=True))
    print(f"wrote {path}")


def _min_overlap() -> int:
    from qfzz_chain.fingerprint import MIN_OVERLAP_ITEMS

    return MIN_OVERLAP_ITEMS


def measure_costs(figures: dict, originals: dict, usable: list[str], fps: dict, quick: bool) -> None:
    """Seconds per fingerprint (one fpcalc run, as registration does), stored size, comparison cost."""
    full_tracks = sorted(p for d in REAL_MUSIC if d.is_dir() for p in d.iterdir() if p.suffix in (".ogg", ".mp3"))
    full_tracks = full_tracks[:6] if quick else full_tracks
    seconds_per_track, json_bytes_per_second, three_minute = [], [], []
    long_fps: list[Fingerprint] = []
    for path in full_tracks:
        start = time.perf_counter()
        fp = compute_fingerprint(path)
        elapsed = time.perf_counter() - start
        size = len(json.dumps(fp.to_metadata(), sort_keys=True, separators=(",", ":")))
        if fp.duration_seconds >= 60:
            json_bytes_per_second.append(size / min(fp.duration_seconds, 600))
            seconds_per_track.append(elapsed / fp.duration_seconds * 180)
            long_fps.append(fp)
        if 150 <= fp.duration_seconds <= 210:
            three_minute.append(size)
    short_clips = [originals[n][1] for n in usable if originals[n][0] in ("speech", "distinct")][:12]
    clip_seconds = []
    for path in short_clips:
        start = time.perf_counter()
        compute_fingerprint(path)
        clip_seconds.append(time.perf_counter() - start)
    figures["fingerprint_seconds_10s_clip_median"] = round(statistics.median(clip_seconds), 3)
    figures["fingerprint_seconds_3min_track_median"] = round(statistics.median(seconds_per_track), 3)
    figures["fingerprint_json_bytes_per_minute_median"] = round(60 * statistics.median(json_bytes_per_second))
    figures["fingerprint_json_bytes_per_minute_max"] = round(60 * max(json_bytes_per_second))
    figures["fingerprint_json_bytes_3min_tracks_median"] = round(statistics.median(three_minute)) if three_minute else 0
    figures["fingerprint_json_bytes_3min_tracks_max"] = max(three_minute) if three_minute else 0
    items_3min = (180 * SAMPLE_RATE_HZ - FIRST_ITEM_SAMPLES) // ITEM_HOP_SAMPLES + 1
    figures["items_3min"] = items_3min
    figures["raw_uint32_base64_chars_3min"] = 4 * -(-4 * items_3min // 3)  # the alternative: base64 of the raw array

    # Comparison: the query against every long real track, as find_near_duplicates does at registration.
    query = long_fps[0]
    candidates = [(index, fp) for index, fp in enumerate(long_fps)] * (20 if quick else 10)
    start = time.perf_counter()
    find_near_duplicates(query, candidates)
    elapsed = time.perf_counter() - start
    figures["compare_ms_per_candidate_real_tracks"] = round(1000 * elapsed / len(candidates), 2)
    figures["compare_candidates_per_second"] = round(len(candidates) / elapsed)
    start = time.perf_counter()
    for fp in long_fps:
        align(query, fp)
    figures["align_ms_per_pair_real_tracks"] = round(1000 * (time.perf_counter() - start) / len(long_fps), 2)


def measure_project_audio(figures: dict, folder: Path, seeds: int) -> None:
    """The demo's tracks, the CLI tests' fixture tracks, and synthesize_distinct_track, pairwise."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import demo_audio  # tools/demo_audio.py: the three melodies the demo registers

    demo = {"original": demo_audio.A_MINOR_WALK, "remix": demo_audio.REMIX, "cover": demo_audio.COVER}
    demo_fps = {}
    for name, notes in demo.items():
        path = folder / f"demo-{name}.wav"
        synthesize_melody(path, notes)
        demo_fps[name] = compute_fingerprint(path)
        figures[f"demo_{name}_seconds"] = round(demo_fps[name].duration_seconds, 2)
        figures[f"demo_{name}_items"] = len(demo_fps[name])
    for name in ("remix", "cover"):  # with the minimum overlap waived: what little they share
        result = align(demo_fps["original"], demo_fps[name], min_overlap_items=1)
        figures[f"demo_{name}_vs_original_similarity_unguarded"] = round(result.similarity, 4)
        figures[f"demo_{name}_vs_original_overlap_items"] = result.overlap_items

    fixture_fps = []
    for n in range(40):  # as tests/cli/conftest.py's `audio` fixture makes them
        path = folder / f"fixture-{n}.wav"
        synthesize_melody(path, [220.0 + 7 * n, 330.0 + 5 * n, 440.0 + 3 * n], note_seconds=0.2)
        fixture_fps.append(path)
    fixture = compute_fingerprints(fixture_fps, workers=2)
    figures["fixture_track_seconds"] = fixture[0].duration_seconds
    figures["fixture_tracks_with_any_item"] = sum(len(fp) > 0 for fp in fixture)
    # The same fixture with notes long enough to fingerprint (3 s each, 9 s in all): do neighbours collide?
    long_paths = []
    for n in range(40):
        path = folder / f"fixture-long-{n}.wav"
        synthesize_melody(path, [220.0 + 7 * n, 330.0 + 5 * n, 440.0 + 3 * n], note_seconds=3.0)
        long_paths.append(path)
    long_fixture = [_Spectra(fp.items) for fp in compute_fingerprints(long_paths, workers=2)]
    scores = [_align(x, y, _min_overlap()).similarity for x, y in itertools.combinations(long_fixture, 2)]
    figures["fixture_lengthened_pairs"] = len(scores)
    figures["fixture_lengthened_pairs_flagged"] = sum(s >= MATCH_THRESHOLD for s in scores)
    figures["fixture_lengthened_max_similarity"] = round(max(scores), 4)
    neighbours = [_align(x, y, _min_overlap()).similarity for x, y in zip(long_fixture, long_fixture[1:])]
    figures["fixture_lengthened_neighbour_min_similarity"] = round(min(neighbours), 4)

    paths = []
    start = time.perf_counter()
    for seed in range(seeds):
        path = folder / f"seed-{seed}.wav"
        synthesize_distinct_track(path, seed)
        paths.append(path)
    figures["distinct_track_generate_seconds_median"] = round((time.perf_counter() - start) / seeds, 4)
    distinct = [_Spectra(fp.items) for fp in compute_fingerprints(paths, workers=2)]
    scores = [_align(x, y, _min_overlap()).similarity for x, y in itertools.combinations(distinct, 2)]
    figures["distinct_track_seeds"] = seeds
    figures["distinct_track_pairs"] = len(scores)
    figures["distinct_track_pairs_flagged"] = sum(s >= MATCH_THRESHOLD for s in scores)
    figures["distinct_track_max_similarity"] = round(max(scores), 4)
    figures["distinct_track_p99_similarity"] = round(float(np.percentile(scores, 99)), 4)


if __name__ == "__main__":
    main()
