"""Sentiment analyzers: one contract, several back ends, chosen by name.

An analyzer turns texts (with their language, when known) into a score in
[-1, 1] and a label: -1 negative, 0 neutral, 1 positive. Scores are stored per
message with the analyzer's name and version, so two analyzers can be compared
on the same store.

Built-in analyzers:

``lexicon`` (the default)
    Whuffie's own bilingual (English, French) lexicon scorer, see
    :mod:`whuffie.voice.lexicon`.
``vader``
    Plain vaderSentiment (English) and its French port vaderSentiment-fr, as
    published: the baseline the default is measured against.
``transformer``
    A sequence-classification model from a local folder the user provides
    (``model=PATH``); never downloaded. Needs the ``transformers`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from whuffie.errors import WhuffieError

LABELS = ("negative", "neutral", "positive")


@runtime_checkable
class Analyzer(Protocol):
    """What every sentiment analyzer provides.

    ``analyse`` returns two arrays as long as ``texts``: ``scores`` (float32 in
    [-1, 1]) and ``labels`` (int8: -1 negative, 0 neutral, 1 positive). A text
    that is empty or ``None`` scores 0, neutral. ``langs`` holds ISO 639-1
    codes or ``None``; an analyzer reads ``None`` and languages it was not built
    for as best it can (every message gets a label).
    """

    name: str
    version: str
    #: The languages it was built for (``None``: any); others are read as best it can.
    languages: frozenset[str] | None

    def analyse(self, texts: Sequence[str | None], langs: Sequence[str | None]
                ) -> tuple[np.ndarray, np.ndarray]: ...


def label_names(labels: np.ndarray) -> list[str]:
    """Label codes (-1, 0, 1) as names.

    Examples
    --------
    >>> label_names(np.array([-1, 0, 1], dtype=np.int8))
    ['negative', 'neutral', 'positive']
    """
    return [LABELS[int(v) + 1] for v in labels]


def band_labels(scores: np.ndarray, band: float) -> np.ndarray:
    """Labels from scores with a neutral band: below -band negative, above +band positive.

    Examples
    --------
    >>> band_labels(np.array([-0.5, 0.1, 0.3]), 0.2).tolist()
    [-1, 0, 1]
    """
    scores = np.asarray(scores)
    return (np.where(scores > band, 1, 0) - np.where(scores < -band, 1, 0)).astype(np.int8)


class VaderAnalyzer:
    """vaderSentiment for English and vaderSentiment-fr for French, as published.

    The label uses the compound score with a neutral band (±0.2 by default,
    the band of the baselines in ``docs/validation.md``).

    Examples
    --------
    >>> texts = ["I love it", "service nul, je suis très déçu"]
    >>> scores, labels = VaderAnalyzer().analyse(texts, ["en", "fr"])
    >>> label_names(labels)
    ['positive', 'negative']
    """

    name = "vader"
    languages = frozenset({"en", "fr"})

    def __init__(self, band: float = 0.2) -> None:
        import warnings
        from importlib.metadata import version

        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as English

        with warnings.catch_warnings():
            # The French port imports fuzzywuzzy, which warns that it runs in pure Python.
            warnings.simplefilter("ignore")
            from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as French

        self.band = band
        self.version = f"vaderSentiment {version('vaderSentiment')}, " \
                       f"vaderSentiment-fr {version('vaderSentiment-fr')}, band {band}"
        self._en = English()
        self._fr = French()

    def analyse(self, texts, langs):
        scores = np.zeros(len(texts), dtype=np.float32)
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            if text:
                model = self._fr if lang == "fr" else self._en
                scores[i] = model.polarity_scores(text)["compound"]
        return scores, band_labels(scores, self.band)


def _lexicon(**options) -> Analyzer:
    from whuffie.voice.lexicon import LexiconAnalyzer

    return LexiconAnalyzer(**options)


def _transformer(**options) -> Analyzer:
    from whuffie.voice.transformer import TransformerAnalyzer

    return TransformerAnalyzer(**options)


#: Analyzer factories by name; ``lexicon`` is the default.
ANALYZERS: dict[str, Callable[..., Analyzer]] = {
    "lexicon": _lexicon,
    "vader": VaderAnalyzer,
    "transformer": _transformer,
}


def get_analyzer(name: str = "lexicon", **options) -> Analyzer:
    """The analyzer registered under ``name``, built with ``options``.

    Raises
    ------
    WhuffieError
        For an unknown name, naming the known ones.

    Examples
    --------
    >>> get_analyzer("vader").name
    'vader'
    >>> get_analyzer("nope")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: unknown sentiment analyzer 'nope'; choose one of lexicon, transformer, vader
    """
    try:
        factory = ANALYZERS[name]
    except KeyError:
        raise WhuffieError(f"unknown sentiment analyzer {name!r}; choose one of "
                           f"{', '.join(sorted(ANALYZERS))}") from None
    return factory(**options)
