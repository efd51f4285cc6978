"""Voice benchmark: Whuffie's default sentiment analyzer against plain vaderSentiment, and the whole
voice step on a million stored messages.

One run:

1. **Sentiment, one core**: the same real messages (the French and English tweets of
   ``../shared/data/tweet_sentiment_fr_en``, train and val, repeated to 100,000) scored by
   Whuffie's ``lexicon`` analyzer and by plain vaderSentiment (English texts) with
   vaderSentiment-fr (French texts), in this process. Prints messages/second and the ratio.
   Target: >= 10,000 messages/s for the default.
2. **Language detection**: fastText's ``lid.176.ftz`` (Whuffie's detector) against lingua (all
   languages, and its low-accuracy mode) on 3,000 of the same tweets: speed and share correct.
3. **The whole voice step** on a store of 1,000,000 messages (``--messages``) built from the real
   texts above plus the Reddit comments of ``fanchuan_reddit_trump`` and the reviews of
   ``allocine_fr``, with no language tag (so every message goes through detection), spread over a
   year, 20,000 authors, a tag on a fifth of them: language, sentiment and concerns
   (``whuffie voice``, every core), then buzz by tag, by term and by concern (per day). Target:
   under 3 minutes on this 2-core machine.

Run: ``python benchmarks/voice.py [--messages 1000000]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
TWEETS = SHARED / "tweet_sentiment_fr_en"


def tweets() -> tuple[list[str], list[str]]:
    texts, langs = [], []
    for folder, lang in (("english", "en"), ("french", "fr")):
        for split in ("train", "val"):
            lines = (TWEETS / folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
            texts += lines
            langs += [lang] * len(lines)
    return texts, langs


def other_texts() -> tuple[list[str], list[str]]:
    texts, langs = [], []
    with open(SHARED / "fanchuan_reddit_trump" / "comments_train.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["content"])
            langs.append("en")
    for line in (SHARED / "allocine_fr" / "train.tsv").read_text(encoding="utf-8").splitlines():
        texts.append(line.rstrip("\r").split("\t", 1)[-1])
        langs.append("fr")
    return texts, langs


def bench_sentiment(n: int) -> None:
    from whuffie.voice.sentiment import VaderAnalyzer, get_analyzer

    texts, langs = tweets()
    reps = -(-n // len(texts))
    texts, langs = (texts * reps)[:n], (langs * reps)[:n]
    print(f"## Sentiment on one core: {n:,} real tweets (English and French)\n")
    print("| analyzer | seconds | messages/s |\n|---|---|---|")
    rates = {}
    analyzers = (("whuffie lexicon", get_analyzer("lexicon")), ("vaderSentiment (+fr)", VaderAnalyzer()))
    for name, analyzer in analyzers:
        analyzer.analyse(texts[:1000], langs[:1000])  # warm-up: lexicons loaded, regexes compiled
        start = time.perf_counter()
        analyzer.analyse(texts, langs)
        seconds = time.perf_counter() - start
        rates[name] = n / seconds
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} |")
    ratio = rates["whuffie lexicon"] / rates["vaderSentiment (+fr)"]
    print(f"\nWhuffie's default: {rates['whuffie lexicon']:,.0f} messages/s "
          f"({'meets' if rates['whuffie lexicon'] >= 10_000 else 'MISSES'} the 10,000/s target), "
          f"{ratio:.2f}x plain vaderSentiment.\n")


def bench_language(n: int = 3000) -> None:
    from lingua import Language, LanguageDetectorBuilder

    from whuffie.voice.language import detect_languages

    texts, langs = tweets()
    rng = np.random.default_rng(1)
    pick = rng.choice(len(texts), size=n, replace=False)
    texts, langs = [texts[i] for i in pick], [langs[i] for i in pick]
    print(f"## Language detection: {n:,} real tweets (English and French)\n")
    print("| detector | seconds | texts/s | correct |\n|---|---|---|---|")
    codes = {Language.ENGLISH: "en", Language.FRENCH: "fr"}
    detect_languages(texts[:10])
    start = time.perf_counter()
    got = detect_languages(texts, min_confidence=0.0)
    seconds = time.perf_counter() - start
    print(f"| whuffie (fastText lid.176.ftz) | {seconds:.2f} | {n / seconds:,.0f} | "
          f"{np.mean([g == w for g, w in zip(got, langs, strict=True)]):.1%} |")
    for name, builder in (("lingua, all languages", LanguageDetectorBuilder.from_all_languages()),
                          ("lingua, all languages, low accuracy",
                           LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode())):
        detector = builder.with_preloaded_language_models().build()
        start = time.perf_counter()
        found = [codes.get(x) for x in detector.detect_languages_in_parallel_of(texts)]
        seconds = time.perf_counter() - start
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | "
              f"{np.mean([g == w for g, w in zip(found, langs, strict=True)]):.1%} |")
    print()


def build_store(path: Path, n: int) -> None:
    import whuffie

    texts, _ = tweets()
    more, _ = other_texts()
    texts = [t for t in texts + more if t.strip()]
    rng = np.random.default_rng(7)
    pick = rng.integers(0, len(texts), size=n)
    start = np.datetime64("2025-01-01T00:00:00")
    seconds = np.sort(rng.integers(0, 365 * 86400, size=n))
    tags = np.array(["bug", "support", "price", "launch", "ecologie", "climat", "greve", "promo"])
    table = pa.table({
        "message_id": [f"bench:{i}" for i in range(n)],
        "platform": ["bench"] * n,
        "actor_id": [f"bench:u{u}" for u in rng.integers(0, 20_000, size=n)],
        "created_at": pa.array(start + seconds.astype("timedelta64[s]"), pa.timestamp("us")),
        "text": [texts[i] for i in pick],
    })
    tagged = rng.random(n) < 0.2
    tag_rows = pa.table({"message_id": pa.array(np.array(table.column("message_id").to_pylist())[tagged]),
                         "tag": pa.array(tags[rng.integers(0, len(tags), size=int(tagged.sum()))])})
    with whuffie.open(path) as store:
        store.con.register("_m", table)
        store.con.execute(
            "INSERT INTO messages (message_id, platform, actor_id, created_at, kind, text, is_stub) "
            "SELECT message_id, platform, actor_id, created_at, 'post', text, false FROM _m")
        store.con.register("_t", tag_rows)
        store.con.execute("INSERT INTO tags SELECT * FROM _t")


def bench_step(n: int) -> None:
    import whuffie
    from whuffie.voice.analysis import VoiceParams
    from whuffie.voice.buzz import buzz

    print(f"## The whole voice step on {n:,} stored messages ({os.cpu_count()} cores)\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "voice.duckdb"
        start = time.perf_counter()
        build_store(path, n)
        print(f"(store built in {time.perf_counter() - start:.1f} s, not counted)\n")
        print("| step | seconds |\n|---|---|")
        total = 0.0
        with whuffie.open(path) as store:
            start = time.perf_counter()
            table = store.voice(VoiceParams()).to_arrow()
            seconds = time.perf_counter() - start
            total += seconds
            langs = table.column("lang").value_counts().to_pylist()
            print(f"| language, sentiment, concerns (saved) | {seconds:.1f} |")
            for dimension in ("tag", "term", "concern"):
                start = time.perf_counter()
                result = buzz(store.engine, dimension, "day", voice=table)
                seconds = time.perf_counter() - start
                total += seconds
                episodes = result.episodes.num_rows
                print(f"| buzz by {dimension} ({episodes:,} burst episodes) | {seconds:.1f} |")
        print(f"| **total** | **{total:.1f}** |\n")
        top = sorted(langs, key=lambda d: -d["counts"])[:3]
        print("Languages found: " + ", ".join(f"{d['values']} {d['counts']:,}" for d in top))
        print(f"Voice step: {n / total:,.0f} messages/s; "
              f"{'meets' if total < 180 else 'MISSES'} the 3-minute target for {n:,} messages.")
        main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"Peak resident memory: main process {main:,.0f} MiB (the whole run, store building "
              f"included), largest worker {worker:,.0f} MiB.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--sentiment-messages", type=int, default=100_000)
    args = parser.parse_args()
    if not TWEETS.is_dir():
        sys.exit(f"the real data folder {SHARED} is missing (set WHUFFIE_SHARED_DATA)")
    bench_sentiment(args.sentiment_messages)
    bench_language()
    bench_step(args.messages)


if __name__ == "__main__":
    main()
