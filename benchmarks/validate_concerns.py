"""How precise is concern tagging? Re-tag a hand-labelled sample of real messages.

The question (voice issue): "Concern tagging: precision on a sample you label by hand, in both
languages." Recall is not measured: nobody has labelled every message of these corpora.

Corpora (``../shared/data``, read-only; ``line`` identifies a message within its file):

* English: SemEval 2017 tweets ``tweet_sentiment_fr_en/english/{train,val}_text.txt`` (line = 1-based
  line), Reddit comments ``fanchuan_reddit_trump/comments_*.csv`` (``content``; line = 1-based CSV
  record), RumourEval 2017 / PHEME tweets ``rumoureval2017/traindev/posts.json`` (line = post id),
  Reddit comments ``formats/reddit_pushshift_ndjson/RC_2005-12.ndjson`` (``body``; line = 1-based line);
  the English messages of the twarc2, Twitter v1.1, Mastodon, Bluesky and Discourse samples in ``formats/``
  and of ``stackexchange_conlang_meta``, read with Whuffie's readers (file = platform, line = message id;
  the few French ones count as French).
* French: DEFT 2017 tweets ``tweet_sentiment_fr_en/french/{train,val}_text.txt`` and Allociné TV-series
  reviews ``allocine_fr/{train,dev}.tsv`` (line = 1-based line).

Method
------
1. ``--draw N --seed S --out FILE`` tags every message with the default lexicon and draws a sample of
   *tagged* (message, concern) pairs, stratified by language and concern: up to ``N`` pairs per
   concern and language, picked at random with the seed; pairs already in ``--skip FILE`` (an
   earlier sample) are left out so a second sample is fresh. It writes them with an empty
   ``correct`` column for a person to fill in: 1 when the message really raises the concern, 0 when
   not.
2. Without ``--draw``, the labelled rows (default ``tests/data/voice/concerns_labelled.csv``, columns
   ``dataset, file, line, lang, concern, correct, text, sample``) are re-tagged with the current
   lexicon, from the stored text: a 300-character excerpt of the message, the first window that was
   tagged with the concern when it was drawn (so a phrase cut by the window's edge is lost). For
   each language and concern it prints, as Markdown: the labelled rows, how many are still tagged
   with their concern, and precision = correct / still tagged, overall and per sample. ``sample``
   says in which round a row was drawn and labelled: 1 with the first lexicon, before any tuning;
   2 (fresh rows) after tuning on sample 1; 3 (fresh rows) with the final lexicon. Precision on a
   sample the lexicon was tuned on is optimistic: quote each sample's precision from its own round.

Run: ``.venv/bin/python benchmarks/validate_concerns.py [--labelled FILE] [--speed]``; ``--speed``
also times tagging of one million tweet-length messages (the English and French tweets repeated).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import whuffie
from whuffie.voice.concerns import ConcernLexicon

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LABELLED = ROOT / "tests" / "data" / "voice" / "concerns_labelled.csv"
COLUMNS = ["dataset", "file", "line", "lang", "concern", "correct", "text", "sample"]


def corpus(shared: Path = SHARED):
    """Yield (dataset, file, line, lang, text) for every message of the validation corpora."""
    tw = shared / "tweet_sentiment_fr_en"
    for lang, folder in (("en", "english"), ("fr", "french")):
        for split in ("train", "val"):
            name = f"{folder}/{split}_text.txt"
            for i, text in enumerate((tw / name).read_text(encoding="utf-8").splitlines(), 1):
                yield "tweet_sentiment_fr_en", name, str(i), lang, text
    for split in ("train", "val", "test"):
        name = f"comments_{split}.csv"
        with open(shared / "fanchuan_reddit_trump" / name, newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.DictReader(f), 1):
                yield "fanchuan_reddit_trump", name, str(i), "en", row["content"]
    posts = json.loads((shared / "rumoureval2017" / "traindev" / "posts.json").read_text(encoding="utf-8"))
    for pid, post in posts.items():
        yield "rumoureval2017", "traindev/posts.json", pid, "en", post["text"]
    name = "reddit_pushshift_ndjson/RC_2005-12.ndjson"
    for i, line in enumerate((shared / "formats" / name).read_text(encoding="utf-8").splitlines(), 1):
        yield "formats", name, str(i), "en", json.loads(line).get("body") or ""
    for split in ("train", "dev"):
        name = f"{split}.tsv"
        for i, line in enumerate((shared / "allocine_fr" / name).read_text(encoding="utf-8").splitlines(), 1):
            yield "allocine_fr", name, str(i), "fr", line.rstrip("\r").split("\t", 1)[1]
    yield from ingested(shared)


def ingested(shared: Path):
    """The English and French messages of the social-media format samples, read with Whuffie's readers.

    ``line`` is the message id. Discourse and Stack Exchange posts have no language field; both sites
    are English-speaking, so they count as English.
    """
    folders = {"formats": ["twarc2_v2_jsonl", "twitter_v1_1_json", "mastodon_api_json",
                           "bluesky_atproto_json", "discourse_topic_json"],
               ".": ["stackexchange_conlang_meta"]}
    with tempfile.TemporaryDirectory() as tmp:
        store = whuffie.open(Path(tmp) / "corpus.duckdb")
        try:
            store.ingest([str(shared / parent / f) for parent, names in folders.items() for f in names])
            rows = store.sql("""
                SELECT platform, message_id, coalesce(lang, 'en') AS lang, text FROM messages
                WHERE NOT is_stub AND text IS NOT NULL
                  AND (lang IN ('en', 'fr') OR (lang IS NULL AND platform IN ('discourse', 'stackexchange')))
                ORDER BY message_id""")
        finally:
            store.close()
    for r in rows:
        yield "formats" if r["platform"] != "stackexchange" else "stackexchange_conlang_meta", \
            r["platform"], r["message_id"], r["lang"], r["text"]


def excerpt(lex: ConcernLexicon, text: str, lang: str, concern: str, size: int = 300) -> str:
    """The first window of ``size`` characters (stepping by half) that is still tagged with ``concern``."""
    text = " ".join(text.split())
    for start in range(0, max(len(text) - size // 2, 1), size // 2):
        window = text[start:start + size]
        if concern in lex.tag([window], [lang])[0]:
            return window
    return text[:size]


def draw(per: int, seed: int, skip: Path | None, out: Path) -> None:
    """Write a stratified random sample of tagged (message, concern) pairs, to be labelled by hand."""
    lex = ConcernLexicon.load()
    done = set()
    if skip:
        with open(skip, newline="", encoding="utf-8") as f:
            done = {(r["dataset"], r["file"], r["line"], r["concern"]) for r in csv.DictReader(f)}
    messages = list(corpus())
    tags = lex.tag([m[4] for m in messages], [m[3] for m in messages])
    strata: dict[tuple[str, str], list] = defaultdict(list)
    for m, concerns in zip(messages, tags, strict=True):
        for c in concerns:
            if (*m[:3], c) not in done:
                strata[m[3], c].append(m)
    rng = random.Random(seed)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for (lang, concern), rows in sorted(strata.items()):
            for ds, file, line, _, text in rng.sample(rows, min(per, len(rows))):
                w.writerow([ds, file, line, lang, concern, "", excerpt(lex, text, lang, concern), ""])
            print(f"{lang} {concern}: {len(rows)} tagged, {min(per, len(rows))} drawn", file=sys.stderr)


def validate(labelled: Path) -> str:
    """Precision per language and concern of the current lexicon on the labelled sample, as Markdown."""
    lex = ConcernLexicon.load()
    with open(labelled, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tags = lex.tag([r["text"] for r in rows], [r["lang"] for r in rows])
    stats: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r, found in zip(rows, tags, strict=True):
        for key in ((r["sample"], r["lang"], r["concern"]), (r["sample"], r["lang"], "all"),
                    ("all", r["lang"], r["concern"]), ("all", r["lang"], "all")):
            s = stats[key]
            s[0] += 1
            if r["concern"] in found:
                s[1] += 1
                s[2] += int(r["correct"])

    def pct(s: list[int]) -> str:
        return f"{s[2] / s[1]:.0%} ({s[2]}/{s[1]})" if s[1] else "-"

    samples = sorted({r["sample"] for r in rows})
    out = [f"Labelled rows: {len(rows)} ({labelled.name}); precision = correct / still tagged.", "",
           "| lang | concern | labelled | still tagged | precision | "
           + " | ".join(f"precision, sample {s}" for s in samples) + " |",
           "|---|---|---:|---:|---:|" + "---:|" * len(samples)]
    for lang in sorted({r["lang"] for r in rows}):
        for concern in [*lex.concerns, "all"]:
            s = stats.get(("all", lang, concern))
            if s:
                per_sample = " | ".join(pct(stats.get((x, lang, concern), [0, 0, 0])) for x in samples)
                name = f"**{concern}**" if concern == "all" else concern
                out.append(f"| {lang} | {name} | {s[0]} | {s[1]} | {pct(s)} | {per_sample} |")
    return "\n".join(out)


def speed(n: int = 1_000_000) -> str:
    """Messages per second tagging ``n`` real tweets (the English and French sets repeated)."""
    lex = ConcernLexicon.load()
    tweets = [(m[4], m[3]) for m in corpus() if m[0] == "tweet_sentiment_fr_en"]
    texts = [tweets[i % len(tweets)][0] for i in range(n)]
    langs = [tweets[i % len(tweets)][1] for i in range(n)]
    start = time.perf_counter()
    tagged = lex.tag(texts, langs)
    elapsed = time.perf_counter() - start
    hits = sum(bool(t) for t in tagged)
    return (f"Tagged {n:,} tweets (the {len(tweets):,} EN+FR tweets repeated, languages given) in "
            f"{elapsed:.1f} s: {n / elapsed:,.0f} messages/s on one core; {hits:,} have a concern.")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--labelled", type=Path, default=LABELLED)
    p.add_argument("--draw", type=int, metavar="N", help="draw up to N tagged pairs per concern and language")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", type=Path, help="with --draw: leave out the pairs of this labelled file")
    p.add_argument("--out", type=Path, help="with --draw: where to write the sample to label")
    p.add_argument("--speed", action="store_true", help="also time tagging a million messages")
    a = p.parse_args()
    if a.draw:
        draw(a.draw, a.seed, a.skip, a.out or Path("concerns_sample.csv"))
        return
    print(validate(a.labelled))
    if a.speed:
        print()
        print(speed())


if __name__ == "__main__":
    main()
