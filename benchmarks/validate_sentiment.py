"""How good and how fast is the ``lexicon`` sentiment analyzer? Against plain VADER, on real labelled text.

Data (``../shared/data``, read-only):

- ``tweet_sentiment_fr_en``: SemEval-2017 (English) and DEFT-2017 (French) tweets, 3 classes
  (0 negative, 1 neutral, 2 positive), balanced; the ``val`` splits are reported. The text
  files carry CSV-style quoting (``"..."`` with doubled quotes) and literal ``\\u2019``-style
  escapes, which :func:`decode_tweet` undoes.
- ``allocine_fr/dev.tsv``: French TV-series reviews, binary (1 positive, 0 negative). A
  predicted neutral is mapped to the class on the side of its score's sign (a score of
  exactly 0 goes to positive, the majority class of the train split); macro-F1 over the two
  classes.
- ``fanchuan_reddit_trump/comments_val.csv``: English Reddit comments, column ``support``
  (0 neutral, 1 positive, 2 negative), text in ``content``.

Macro-F1 and confusion matrices are computed with numpy (scikit-learn is not a dependency).
Speed: messages per second of ``analyse`` on one core (single process, single thread), over
the English and French tweet val splits together, best of ``--repeat`` runs, after a warm-up.

``--fit`` prints the label thresholds (negative below, positive above) that maximise macro-F1
on the *train* splits of the tweets, the only data the analyzer's constants are fitted on
(``whuffie.voice.lexicon.THRESHOLDS``).

Run: ``.venv/bin/python benchmarks/validate_sentiment.py [--fit] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from whuffie.voice.lexicon import LexiconAnalyzer
from whuffie.voice.sentiment import VaderAnalyzer

SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def decode_tweet(line: str) -> str:
    """A tweet of the UMSAB text files as written: outer quotes, doubled quotes and ``\\uXXXX`` undone."""
    text = line.rstrip("\r\n").strip()
    if text.startswith('"'):
        text = text[1:-1] if text.endswith('"') and len(text) > 1 else text[1:]
        text = text.replace('""', '"')
    text = text.replace('\\"', '"')
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def tweets(lang: str, split: str, root: Path = SHARED) -> tuple[list[str], np.ndarray]:
    """Texts and labels (-1, 0, 1) of a tweet split; ``lang`` is ``english`` or ``french``."""
    folder = root / "tweet_sentiment_fr_en" / lang
    texts = [decode_tweet(t) for t in (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")]
    codes = (folder / f"{split}_labels.txt").read_text().split()
    labels = np.array([int(v) - 1 for v in codes], dtype=np.int8)
    assert len(texts) == len(labels), (lang, split)
    return texts, labels


def allocine(split: str, root: Path = SHARED) -> tuple[list[str], np.ndarray]:
    """Texts and labels (-1 negative, 1 positive) of an Allociné split."""
    texts, labels = [], []
    with open(root / "allocine_fr" / f"{split}.tsv", encoding="utf-8", newline="") as f:
        for line in f:
            label, _, text = line.rstrip("\r\n").partition("\t")
            texts.append(text)
            labels.append(1 if label == "1" else -1)
    return texts, np.array(labels, dtype=np.int8)


def fanchuan(split: str, root: Path = SHARED) -> tuple[list[str], np.ndarray]:
    """Texts and labels (-1, 0, 1) of the labelled Reddit comments (support 0 neutral, 1 pos, 2 neg)."""
    code = {"0": 0, "1": 1, "2": -1}
    with open(root / "fanchuan_reddit_trump" / f"comments_{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["content"] for r in rows], np.array([code[r["support"]] for r in rows], dtype=np.int8)


def confusion(truth: np.ndarray, pred: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """Counts, rows = truth, columns = prediction, in the order of ``classes``."""
    index = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(m, ([index[int(t)] for t in truth], [index[int(p)] for p in pred]), 1)
    return m


def macro_f1(m: np.ndarray) -> float:
    """Mean over classes of F1 = 2 TP / (2 TP + FP + FN) from a confusion matrix."""
    tp = np.diag(m).astype(float)
    denom = 2 * tp + (m.sum(axis=0) - tp) + (m.sum(axis=1) - tp)
    return float(np.mean(np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)))


def binary(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Three-class labels to two: a neutral goes to the side of its score (0 to positive)."""
    return np.where(labels != 0, labels, np.where(scores >= 0, 1, -1)).astype(np.int8)


def fit_thresholds(scores: np.ndarray, truth: np.ndarray, step: float = 0.01) -> tuple[float, float, float]:
    """The (negative-below, positive-above) pair maximising macro-F1, by grid search; and that F1."""
    best = (-1.0, 0.0, 0.0)
    grid = np.round(np.arange(0, 0.9 + step / 2, step), 4)
    for lo in -grid:
        for hi in grid:
            pred = (np.where(scores > hi, 1, 0) - np.where(scores < lo, 1, 0)).astype(np.int8)
            f1 = macro_f1(confusion(truth, pred, (-1, 0, 1)))
            if f1 > best[0] + 1e-12:
                best = (f1, float(lo), float(hi))
    return best[1], best[2], best[0]


def table(m: np.ndarray, classes: tuple[str, ...]) -> str:
    head = "| truth \\ predicted | " + " | ".join(classes) + " |"
    rule = "|---|" + "---:|" * len(classes)
    rows = [f"| {c} | " + " | ".join(str(v) for v in m[i]) + " |" for i, c in enumerate(classes)]
    return "\n".join([head, rule, *rows])


def speed(analyzer, texts: list[str], langs: list[str], repeat: int) -> float:
    analyzer.analyse(texts[:200], langs[:200])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        analyzer.analyse(texts, langs)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the label thresholds on the train splits")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs (best is kept)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    if args.fit:
        analyzer = LexiconAnalyzer()
        print("| train split | negative below | positive above | macro-F1 (train) |\n|---|---:|---:|---:|")
        for folder, code in (("english", "en"), ("french", "fr")):
            texts, truth = tweets(folder, "train")
            scores, _ = analyzer.analyse(texts, [code] * len(texts))
            lo, hi, f1 = fit_thresholds(scores, truth)
            print(f"| tweet_sentiment_fr_en/{folder}/train | {lo:.2f} | {hi:.2f} | {f1:.3f} |")
        return 0

    analyzers = {"lexicon": LexiconAnalyzer(), "vader": VaderAnalyzer()}
    datasets = [
        ("tweets English val", *tweets("english", "val"), "en", 3),
        ("tweets French val", *tweets("french", "val"), "fr", 3),
        ("Allociné dev (French reviews)", *allocine("dev"), "fr", 2),
        ("Reddit Trump comments val (English)", *fanchuan("val"), "en", 3),
    ]
    summary = []
    for title, texts, truth, lang, k in datasets:
        print(f"\n### {title} ({len(texts):,} texts)\n")
        for name, analyzer in analyzers.items():
            scores, labels = analyzer.analyse(texts, [lang] * len(texts))
            if k == 2:
                m = confusion(truth, binary(scores, labels), (-1, 1))
                names: tuple[str, ...] = ("negative", "positive")
            else:
                m = confusion(truth, labels, (-1, 0, 1))
                names = ("negative", "neutral", "positive")
            f1 = macro_f1(m)
            summary.append((title, name, f1))
            print(f"`{name}` ({analyzer.version}): macro-F1 **{f1:.3f}**\n\n{table(m, names)}\n")

    print("\n### Summary\n\n| data | " + " | ".join(f"`{n}` macro-F1" for n in analyzers) + " |")
    print("|---|" + "---:|" * len(analyzers))
    for title, *_ in datasets:
        print(f"| {title} | " + " | ".join(f"{f:.3f}" for t, n, f in summary if t == title) + " |")

    en, _ = tweets("english", "val")
    fr, _ = tweets("french", "val")
    texts, langs = en + fr, ["en"] * len(en) + ["fr"] * len(fr)
    print("\n### Speed (one core, tweet val splits EN + FR, best of "
          f"{args.repeat})\n\n| analyzer | messages / s |\n|---|---:|")
    for name, analyzer in analyzers.items():
        print(f"| `{name}` | {speed(analyzer, texts * 10, langs * 10, args.repeat):,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
