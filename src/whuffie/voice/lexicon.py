"""Whuffie's default sentiment analyzer: a bilingual (English, French) lexicon and rule scorer.

The method is VADER's (Hutto & Gilbert, ICWSM 2014): each word of a sentiment
lexicon carries a valence from -4 to +4; rules adjust it (boosters and dampeners
before it, negation, ALL-CAPS emphasis, a contrast word such as "but" that
shifts the weight to the clause after it, exclamation and question marks); the
sum is squashed to a compound score ``s / sqrt(s**2 + 15)`` in [-1, 1]. The
lexicons are those published on PyPI under the MIT licence, read as data files:
``vaderSentiment`` (``vader_lexicon.txt``, ``emoji_utf8_lexicon.txt``) and
``vaderSentiment-fr`` (``fr_lexicon.txt``, ``no_negate.txt``), completed and
corrected by Whuffie's own hand-written words (``data/sentiment/en.tsv`` and
``fr.tsv``).

Why our own scorer rather than the vaderSentiment classes: they handle one
language per class, re-read and re-tokenise everything per call (the French port
also runs fuzzy string matching), and are too slow for a whole store; and the
French port misses French syntax (``ne ... pas`` around the verb, ``j'aime
pas``, elision ``n'``/``l'``/``qu'``, text typed without accents). Here the
lexicons are loaded once, tokens are found with one precompiled regular
expression, and each distinct token is resolved once (lexicon, accents,
elongation) and cached, so a tweet costs a few dictionary look-ups.

Whuffie's rules beyond VADER: French elision and ``ne ... pas``/``pas``
after the verb, "peu"/"moins"/"sans"/"aucun" as French negators,
accent-insensitive matching, elongated words ("soooo", "géniaaal") matched and
counted as emphasis, plurals the lexicon lacks matched to their singular, a
booster that is also a sentiment word ("super bien", "pretty bad") acting only
as a booster, English "like" counted only as a verb ("I like", not "looks
like"), phrases of any length ("pas mal", "can't wait", "bien sûr" as neutral),
emoji scored from their Unicode names with hand-written values for the most
frequent ones, per-language label thresholds, and corrections of the French
lexicon's machine-translation errors ("sur" from "sure", "prix" from "prize").
Since version 1.1: inflected French forms the lexicon lacks are matched to a
sibling form by their ending ("contente" -> "content", "menacée" -> "menacé",
"détruisent" -> "détruire"); a title-case sentiment word next to another
title-case word is taken as part of a name or title ("Poetic Justice", "Sud
Ouest") and ignored; camel-case hashtags are split into words ("#NotHappy");
HTML entities of the Twitter API ("&lt;3") are decoded.
"""

from __future__ import annotations

import functools
import html
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources

import numpy as np

from whuffie.errors import WhuffieError

#: Changes whenever the lexicons, rules or thresholds change (stored with every score).
VERSION = "1.1"

# VADER's published constants (empirically derived by its authors), kept as they are.
B_INCR = 0.293      # booster / dampener step
C_INCR = 0.733      # ALL-CAPS emphasis on a sentiment word
N_SCALAR = -0.74    # negation flips and damps
ALPHA = 15.0        # normalisation of the sum to [-1, 1]
EXCL_INCR = 0.292   # per "!", at most 4
QUEST_INCR = 0.18   # per "?" when there are two or more, at most 0.96
BEFORE_CONTRAST = 0.5
AFTER_CONTRAST = 1.5
# Whuffie's: an elongated word ("goooood") is emphasised like a booster would.
ELONG_INCR = B_INCR

#: Label thresholds on the compound score, per language: (negative below, positive above).
#: Fitted on the *train* splits only (never val/dev/test), by grid search of macro-F1 in steps
#: of 0.01: "en" on tweet_sentiment_fr_en/english/train (1,839 tweets), "fr" on
#: tweet_sentiment_fr_en/french/train (1,839 tweets). See benchmarks/validate_sentiment.py --fit.
THRESHOLDS: dict[str, tuple[float, float]] = {"en": (-0.11, 0.37), "fr": (-0.02, 0.10)}


def _words(text: str) -> list[str]:
    return text.split()


_DECAY = (0.0, 1.0, 0.95, 0.9)  # booster effect by distance (1, 2, 3 words before), as VADER

_EN_NEGATORS = frozenset(_words("""
not no never none nobody nothing nowhere neither nor without cannot dont cant wont isnt arent wasnt
werent didnt doesnt hasnt havent hadnt shouldnt wouldnt couldnt aint mustnt neednt
"""))
_FR_NEGATORS = frozenset(_words("""
ne n' n pas jamais rien aucun aucune sans ni non nullement aucunement guère peu moins
"""))
#: French negation after the verb, without "ne": "j'aime pas", "ça marche jamais".
_FR_AFTER_NEGATORS = frozenset(("pas", "jamais"))

_EN_BOOSTERS = dict.fromkeys([*_words("""
absolutely amazingly awfully completely considerably decidedly deeply effing enormously entirely
especially exceptionally extremely fabulously flipping freaking fricking frigging fucking fully
greatly hella highly hugely incredibly intensely majorly more most particularly purely quite really
remarkably so soo sooo substantially super thoroughly totally tremendously truly uber unbelievably
unusually utterly very pretty
""")], B_INCR) | dict.fromkeys([*_words("""
almost barely hardly kinda kindof less little marginally occasionally partly scarcely slightly
somewhat sorta sortof
"""), "kind of", "sort of", "a bit", "just enough"], -B_INCR)
_FR_BOOSTERS = dict.fromkeys([*_words("""
très trop vraiment tellement tant super hyper ultra méga vachement carrément complètement totalement
absolument extrêmement énormément franchement sacrément drôlement hautement particulièrement
incroyablement terriblement beaucoup
"""), "à fond", "le plus"], B_INCR) | dict.fromkeys([*_words("""
assez plutôt presque légèrement moyennement quasi quasiment relativement
"""), "un peu", "à peine", "un brin", "quelque peu"], -B_INCR)

#: Words whose sentiment is in their verb sense only ("I like it", not "looks like rain"): they
#: count when the word before is one of these (a subject, an auxiliary, an adverb, a negator).
_EN_VERB_ONLY = {"like": frozenset(_words("""
i you we they people who really would do does did don't doesn't didn't dont doesnt didnt to also
actually still totally definitely kinda i'd you'd we'd they'd i'll we'll you'll they'll always
genuinely honestly truly certainly
""")) | _EN_NEGATORS}
_EN_CONTRAST = frozenset(("but", "however"))
_FR_CONTRAST = frozenset(("mais", "cependant", "pourtant", "toutefois", "néanmoins"))

#: Hand-written valences of frequent emoji whose Unicode name says little ("face with tears
#: of joy" is mostly laughter; "fire" is praise); others get the sum of their name's words.
_EMOJI_VALENCE = {
    "❤": 3.0, "♥": 3.0, "💕": 3.0, "💖": 3.0, "💗": 3.0, "💙": 2.5, "💚": 2.5, "💜": 2.5, "🧡": 2.5,
    "😍": 3.0, "🥰": 3.0, "😘": 2.2, "😊": 2.2, "🙂": 1.5, "😀": 2.0, "😃": 2.2, "😄": 2.2, "😁": 2.0,
    "😆": 2.0, "😂": 1.5, "🤣": 1.8, "😅": 0.5, "😉": 1.5, "😎": 1.8, "🤩": 3.0, "🥳": 2.8,
    "👍": 2.0, "👌": 1.8, "👏": 2.0, "🙌": 2.2, "💪": 1.8, "🙏": 1.2, "🎉": 2.5, "🔥": 1.5, "💯": 2.0,
    "✨": 1.2, "⭐": 1.5, "🌟": 1.8, "✅": 1.0, "🏆": 2.0,
    "😭": -1.0, "😢": -2.0, "😞": -2.0, "😔": -1.8, "😩": -1.8, "😫": -1.8, "😟": -1.8, "😕": -1.2,
    "🙁": -1.5, "☹": -1.8, "😒": -1.8, "🙄": -1.5, "😤": -1.8, "😠": -2.5, "😡": -2.8, "🤬": -3.0,
    "😱": -1.5, "😨": -1.8, "😰": -1.8, "🤮": -2.8, "🤢": -2.2, "💩": -2.0, "👎": -2.0, "💔": -2.5,
    "🤔": -0.3, "😬": -0.8, "🤦": -1.8, "😑": -1.0, "😐": -0.5, "❌": -1.0,
}

_SKIP_RE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_EN_WORD_RE = re.compile(r"\w+(?:'\w+)*")
# French: an elided article/pronoun is a token of its own ("n'", "l'", "qu'"), so "n'aime"
# gives the negator "n'" and "aime"; words with an inner apostrophe ("aujourd'hui") stay whole.
_FR_WORD_RE = re.compile(r"(?i:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'(?=\w)|\w+(?:'\w+)*")
_WORDLIKE_RE = re.compile(r"[\w' -]+")
_ELONG_RE = re.compile(r"([^\W\d_])\1{2,}")
_EMOJI_RE = re.compile("[\u2190-\u21ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_GUESS_RE = re.compile(r"[^\W\d_]+")
_FR_FUNCTION = frozenset(_words("le la les un une des du de et est je tu il elle nous vous ils pas que qui "
                                 "dans pour sur avec ce cette mais ou très sont être avoir ça au aux"))
_EN_FUNCTION = frozenset(_words("the a an and is are was were i you he she we they not that this with for "
                                "of to in on it my your but be have has do does what"))
_MISS = object()
_CACHE_LIMIT = 500_000
_HASHTAG_RE = re.compile(r"#(\w+)")
_CAMEL_RE = re.compile(r"(?<=[^\W\d_])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])")


def _split_hashtag(m: re.Match) -> str:
    """A camel-case hashtag as lower-case words ("#NotHappy" -> "not happy"); a one-case one as it is.

    Lower case, so that the words are not taken for a name by the title-case rule of ``_rules``.
    """
    tag = m.group(1)
    return _CAMEL_RE.sub(" ", tag).lower() if not tag.islower() and not tag.isupper() else tag


def _title(tok: str) -> bool:
    return len(tok) > 1 and tok[0].isupper() and tok[1:].islower()


def fold(text: str) -> str:
    """``text`` without accents and with French ligatures spelt out, for accent-free matching.

    Examples
    --------
    >>> fold("génial, cœur, très")
    'genial, coeur, tres'
    """
    text = text.replace("œ", "oe").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _read(package: str, name: str) -> Iterable[str]:
    try:
        text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise WhuffieError(f"the lexicon file {name} of the package {package} cannot be read ({exc}); "
                           f"install it with `pip install {package.replace('_', '-')}`") from exc
    return text.splitlines()


#: French inflections the lexicon may lack, each with the endings of the forms to try instead
#: (first found wins): feminine and plural adjectives, past participles, and conjugated verbs
#: to their infinitive or third person ("contente" -> "content", "menacée" -> "menacé",
#: "polluent" -> "pollue", "échoué" -> "échouer", "détruisent" -> "détruire").
_FR_INFLECTIONS = (
    ("euses", ("eux",)), ("euse", ("eux",)), ("ives", ("if",)), ("ive", ("if",)),
    ("elles", ("el",)), ("elle", ("el",)), ("ennes", ("en",)), ("enne", ("en",)),
    ("ères", ("er",)), ("ère", ("er",)),
    ("ées", ("é", "er")), ("ée", ("é", "er")), ("és", ("é", "er")), ("é", ("er", "e")),
    ("issent", ("ir", "it")), ("isent", ("ire",)), ("aient", ("er", "e")), ("ait", ("er", "e")),
    ("ais", ("er", "e")), ("ent", ("e", "er")), ("ons", ("er", "e")), ("ez", ("er", "e")),
    ("erait", ("er",)), ("era", ("er",)), ("antes", ("ant",)), ("ante", ("ant",)), ("entes", ("ent",)),
    ("ente", ("ent",)), ("ues", ("u",)), ("ue", ("u",)), ("ies", ("i",)), ("ie", ("i",)),
    ("it", ("ir",)), ("i", ("ir",)), ("er", ("e", "é")), ("ir", ("i",)),
)


def _own(name: str) -> dict[str, float]:
    """A hand-written ``term<TAB>valence`` file of ``data/sentiment``."""
    lines = resources.files("whuffie.voice").joinpath("data", "sentiment", name).read_text(encoding="utf-8")
    out = {}
    for line in lines.splitlines():
        if line and not line.startswith("#"):
            term, value = line.split("\t")
            out[term.lower()] = float(value)
    return out


class _Language:
    """One language's lexicon and rule words, with a cache of resolved tokens."""

    def __init__(self, code: str, word_re: re.Pattern, lexicon: dict[str, float],
                 boosters: dict[str, float], negators: frozenset[str], contrast: frozenset[str],
                 after_negators: frozenset[str] = frozenset(), no_negate: Iterable[str] = (),
                 verb_only: dict[str, frozenset[str]] | None = None) -> None:
        self.code = code
        self.verb_only = verb_only or {}
        self.word_re = word_re
        self.after_negators = after_negators
        self.emoticons: dict[str, float] = {}
        # One entry per term: (valence, booster scalar, is negator, is contrast, elongated).
        entries: dict[str, tuple] = {}
        terms: dict[str, float] = {}
        for term, value in lexicon.items():
            if _WORDLIKE_RE.fullmatch(term):
                # tokenised as texts are: "s'il vous plait" -> "s' il vous plait" in French
                terms[" ".join(word_re.findall(term.lower()))] = value
            else:
                self.emoticons[term] = value  # ":)", ":-(", "<3", matched as written and lower-cased
        # Rule words are written as the tokeniser gives them ("n'", "un peu", "kind of").
        for key in set(terms) | set(boosters) | negators | contrast:
            entries[key] = (terms.get(key, 0.0), boosters.get(key, 0.0), key in negators,
                            key in contrast, False)
        for key, entry in list(entries.items()):
            entries.setdefault(fold(key), entry)
        self.entries = entries
        # Multi-word terms by first word, longest first, with their accent-free spellings.
        phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for key in entries:
            words = key.split(" ")
            if len(words) > 1:
                for variant in {tuple(words), tuple(fold(key).split(" "))}:
                    phrases.setdefault(variant[0], []).append((variant[1:], key))
        for cands in phrases.values():
            cands.sort(key=lambda c: -len(c[0]))
        self.phrases = phrases
        self.phrase_first = frozenset(phrases)
        self.no_negate = frozenset(no_negate) | frozenset(fold(w) for w in no_negate)
        self.cache: dict[str, tuple | None] = {}

    def _lookup(self, word: str) -> tuple | None:
        entry = self.entries.get(word)
        if entry is None and not word.isascii():
            entry = self.entries.get(fold(word))
        if entry is None and self.code == "en" and word.endswith("n't"):
            entry = (0.0, 0.0, True, False, False)
        return entry

    def resolve(self, word: str) -> tuple | None:
        """The entry of a lower-case token, or None when it carries nothing; cached."""
        entry = self._lookup(word)
        if entry is None and len(word) > 4 and word[-1] == "s" and word[-2] != "s":
            entry = self._lookup(word[:-1])  # a plural the lexicon lacks: "arnaques", "trolls"
        if entry is None and self.code == "fr" and len(word) > 4:
            entry = self._inflected(word)
        if entry is None and len(word) > 3 and _ELONG_RE.search(word):
            for repl in (r"\1\1", r"\1"):
                entry = self._lookup(_ELONG_RE.sub(repl, word))
                if entry is not None:
                    entry = (*entry[:4], True)
                    break
        if len(self.cache) > _CACHE_LIMIT:
            self.cache.clear()
        self.cache[word] = entry
        return entry

    def _inflected(self, word: str) -> tuple | None:
        for suffix, endings in _FR_INFLECTIONS:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: len(word) - len(suffix)]
                for ending in endings:
                    entry = self._lookup(stem + ending)
                    if entry is not None and entry[0]:
                        return entry
        return None

    def merge_phrases(self, lows: list[str], toks: list[str]) -> tuple[list[str], list[str]]:
        out_l: list[str] = []
        out_t: list[str] = []
        i, n = 0, len(lows)
        while i < n:
            word = lows[i]
            for rest, key in self.phrases.get(word, ()):
                m = len(rest)
                if tuple(lows[i + 1:i + 1 + m]) == rest:
                    out_l.append(key)
                    out_t.append(key)
                    i += m + 1
                    break
            else:
                out_l.append(word)
                out_t.append(toks[i])
                i += 1
        return out_l, out_t


def _emoji_lexicon(words: dict[str, float]) -> dict[str, float]:
    """Emoji valences: the sum of the English valences of the words of each emoji's name."""
    out = {}
    for line in _read("vaderSentiment", "emoji_utf8_lexicon.txt"):
        emoji, _, name = line.partition("\t")
        emoji = emoji.replace("\ufe0f", "")
        value = sum(words.get(w, 0.0) for w in name.lower().split())
        if len(emoji) == 1 and value:
            out[emoji] = value
    out.update(_EMOJI_VALENCE)
    return out


@functools.lru_cache(maxsize=1)
def words() -> frozenset[str]:
    """Every single-word term of the English and French sentiment lexicons, in lower case (what a
    pseudonymised store must leave in texts for sentiment to score the same).

    Examples
    --------
    >>> {"love", "horrible", "génial"} <= words()
    True
    """
    found = {line.split("\t")[0] for line in _read("vaderSentiment", "vader_lexicon.txt")}
    found |= {line.rpartition("->")[0] for line in _read("vaderSentiment_fr", "fr_lexicon.txt")}
    found |= set(_own("en.tsv")) | set(_own("fr.tsv"))
    return frozenset(w.lower() for w in found if w and " " not in w)


class LexiconAnalyzer:
    """Bilingual (English, French) VADER-style lexicon scorer, Whuffie's default analyzer.

    Parameters
    ----------
    band : float, optional
        A symmetric neutral band on the compound score for every language
        (``-band <= score <= band`` is neutral). By default the per-language
        thresholds fitted on training data, :data:`THRESHOLDS`.

    Notes
    -----
    ``langs`` holds ISO 639-1 codes (a region suffix such as ``fr-CA`` is
    ignored). French texts use the French lexicon and rules; every other known
    code uses English. For ``None`` the language is guessed cheaply from
    function words ("le", "est", "pas" versus "the", "is", "not"), English when
    in doubt.

    Examples
    --------
    >>> from whuffie.voice.sentiment import label_names
    >>> analyzer = LexiconAnalyzer()
    >>> texts = ["I love it", "je n'aime pas du tout", "not bad", "c'est pas terrible", None]
    >>> scores, labels = analyzer.analyse(texts, ["en", "fr", "en", "fr", None])
    >>> label_names(labels)
    ['positive', 'negative', 'positive', 'negative', 'neutral']
    >>> bool(scores[0] > 0.5), float(scores[4])
    (True, 0.0)
    """

    name = "lexicon"
    #: The languages it has lexicons for; others are read with the closer of the two.
    languages = frozenset({"en", "fr"})

    def __init__(self, band: float | None = None) -> None:
        if band is not None and not 0 <= band < 1:
            raise WhuffieError(f"the lexicon analyzer's band must be in [0, 1), got {band}")
        self.band = band
        self.version = VERSION if band is None else f"{VERSION}, band {band}"
        self.thresholds = {lang: (-band, band) if band is not None else t for lang, t in THRESHOLDS.items()}

        english = {}
        for line in _read("vaderSentiment", "vader_lexicon.txt"):
            term, value = line.split("\t")[:2]
            english[term] = float(value)
        english_words = {k: v for k, v in english.items() if k.isalpha()}
        english.update(_own("en.tsv"))
        self._en = _Language("en", _EN_WORD_RE, english, _EN_BOOSTERS, _EN_NEGATORS, _EN_CONTRAST,
                             verb_only=_EN_VERB_ONLY)

        french = {}
        for line in _read("vaderSentiment_fr", "fr_lexicon.txt"):
            term, _, value = line.rpartition("->")
            if term:
                french[term] = float(value)
        for word in _FR_BOOSTERS:  # "vraiment" 1.9, "très": degree words, not sentiment, in French
            french.pop(word, None)
        french.update(_own("fr.tsv"))
        no_negate = [w.strip() for w in _read("vaderSentiment_fr", "no_negate.txt") if w.strip()]
        self._fr = _Language("fr", _FR_WORD_RE, french, _FR_BOOSTERS, _FR_NEGATORS, _FR_CONTRAST,
                             _FR_AFTER_NEGATORS, no_negate)
        # Emoticons are the same in both languages; VADER's English list is the reference.
        self._fr.emoticons = self._en.emoticons
        self._emoji = _emoji_lexicon(english_words)
        self._langs = {"en": self._en, "fr": self._fr}

    def _guess(self, text: str) -> _Language:
        words = set(_GUESS_RE.findall(text.lower()))
        return self._fr if len(words & _FR_FUNCTION) > len(words & _EN_FUNCTION) else self._en

    def score(self, text: str | None, lang: str | None = None) -> float:
        """The compound score of one text in [-1, 1] (0 for an empty text).

        Examples
        --------
        >>> a = LexiconAnalyzer()
        >>> a.score("GREAT!!!", "en") > a.score("great", "en") > a.score("kind of great", "en") > 0
        True
        >>> a.score("c'est génial", "fr") == a.score("c'est genial", "fr") > 0
        True
        >>> a.score("it was good but the end was awful", "en") < 0
        True
        """
        if not text:
            return 0.0
        language = self._langs.get(lang[:2].lower()) if lang else None
        language = language or self._guess(text)
        return self._score(text, language)

    def _score(self, text: str, L: _Language) -> float:
        total = 0.0
        if not text.isascii():
            text = text.translate(_QUOTES)
            emoji = self._emoji
            for ch in _EMOJI_RE.findall(text):
                total += emoji.get(ch, 0.0)
        if "&" in text:
            text = html.unescape(text)  # "&lt;3", "&amp;" as tweets come from the Twitter API
        if "#" in text:
            text = _HASHTAG_RE.sub(_split_hashtag, text)
        if "@" in text or "http" in text or "www." in text:
            text = _SKIP_RE.sub(" ", text)
        if ":" in text or ";" in text or "<" in text or "=" in text or "XD" in text or "xD" in text:
            emoticons = L.emoticons
            for piece in text.split():
                value = emoticons.get(piece)
                if value is None:
                    piece = piece.rstrip(".,!?")
                    value = emoticons.get(piece)
                    if value is None:
                        value = emoticons.get(piece.lower(), 0.0)
                total += value
        toks = L.word_re.findall(text)
        lows = [t.lower() for t in toks]
        if not L.phrase_first.isdisjoint(lows):
            lows, toks = L.merge_phrases(lows, toks)
        cache = L.cache
        ents = []
        found = False
        for w in lows:
            e = cache.get(w, _MISS)
            if e is _MISS:
                e = L.resolve(w)
            if e is not None:
                found = True
            ents.append(e)
        if found:
            total += self._rules(toks, lows, ents, L)
        if total:
            bang = min(text.count("!"), 4) * EXCL_INCR
            asks = text.count("?")
            emphasis = bang + (min(asks * QUEST_INCR, 0.96) if asks > 1 else 0.0)
            total += emphasis if total > 0 else -emphasis
            return total / math.sqrt(total * total + ALPHA)
        return 0.0

    @staticmethod
    def _rules(toks: list[str], lows: list[str], ents: list, L: _Language) -> float:
        n = len(ents)
        contrast = next((i for i, e in enumerate(ents) if e is not None and e[3]), None)
        shouting = None
        total = 0.0
        for i, e in enumerate(ents):
            if e is None or not e[0]:
                continue
            if e[1] and i + 1 < n and ents[i + 1] is not None and ents[i + 1][0]:
                continue  # "super bien", "pretty bad": a booster here, not a sentiment word
            if L.verb_only and lows[i] in L.verb_only and (i == 0 or lows[i - 1] not in L.verb_only[lows[i]]):
                continue
            if i > 0 and _title(toks[i]) and (_title(toks[i - 1]) or (i + 1 < n and _title(toks[i + 1]))):
                continue  # inside a name or title ("Poetic Justice", "Sud Ouest"), not an opinion
            v = e[0]
            sign = 1.0 if v > 0 else -1.0
            if e[4]:
                v += sign * ELONG_INCR
            tok = toks[i]
            if tok.isupper() and len(tok) > 1:
                if shouting is None:  # capitals stand out only if the text is not all capitals
                    shouting = any(not t.isupper() for t in toks if len(t) > 1)
                if shouting:
                    v += sign * C_INCR
            negated = False
            for j in (1, 2, 3):
                if i < j:
                    break
                b = ents[i - j]
                if b is not None:
                    if b[1]:
                        v += sign * b[1] * _DECAY[j]
                    if b[2]:
                        negated = True
            if not negated and i + 1 < n and lows[i + 1] in L.after_negators:
                negated = True
            if negated and lows[i] not in L.no_negate:
                v *= N_SCALAR
            if contrast is not None:
                v *= BEFORE_CONTRAST if i < contrast else AFTER_CONTRAST
            total += v
        return total

    def analyse(self, texts: Sequence[str | None], langs: Sequence[str | None]
                ) -> tuple[np.ndarray, np.ndarray]:
        """Scores (float32 in [-1, 1]) and labels (int8: -1, 0, 1) of ``texts``.

        Raises
        ------
        WhuffieError
            When ``texts`` and ``langs`` differ in length.

        Examples
        --------
        >>> scores, labels = LexiconAnalyzer().analyse(["Trop bien 😍", "this sucks"], ["fr", "en"])
        >>> labels.tolist()
        [1, -1]
        """
        if len(texts) != len(langs):
            raise WhuffieError(f"sentiment analysis needs one language per text: got {len(texts)} texts "
                               f"and {len(langs)} languages")
        scores = np.zeros(len(texts), dtype=np.float32)
        lows = np.zeros(len(texts), dtype=np.float32)
        highs = np.zeros(len(texts), dtype=np.float32)
        known = self._langs
        thresholds = self.thresholds
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            # Unknown and other languages: the closer of English and French by function words
            # (a German or Spanish text still says something through emoji and shared words).
            language = known.get(lang[:2].lower()) if lang else None
            if language is None:
                language = self._guess(text) if text else self._en
            lows[i], highs[i] = thresholds[language.code]
            if text:
                scores[i] = self._score(text, language)
        labels = (np.where(scores > highs, 1, 0) - np.where(scores < lows, 1, 0)).astype(np.int8)
        return scores, labels
