"""Concern tagging: which complaints a message raises, from an editable bilingual lexicon.

A *concern* is something a customer can hold against a brand: pollution, working conditions, animal
testing, things that break, addiction, health, children's safety, price, customer service, privacy.
Each message is tagged with the concerns whose words it uses. The words live in a YAML file, so an
analyst can read them, add their own and see exactly why a message was tagged
(:meth:`ConcernLexicon.explain`).

The lexicon file
----------------
The defaults ship in ``whuffie/voice/data/concerns.yaml``; ``whuffie concerns --lexicon`` prints the
merged lexicon in the same format. A file looks like this::

    concerns:
      price:                          # the concern id: lower-case letters, digits and hyphens
        label: {en: Price, fr: Prix}  # optional, one label per language; defaults to the id
        terms:                        # words and phrases, one list per language (ISO 639-1 code)
          en: [overpriced, too expensive, rip off, ripoff]
          fr: [trop cher*, hors de prix, arnaque*]
        exclude:                      # optional: phrases whose text no term may match
          en: [rip off the band-aid]

Pattern syntax. Text and terms are compared after the same normalisation: lower case, accents
removed (``é`` -> ``e``), ``œ`` -> ``oe``, ``æ`` -> ``ae``.

* A plain word matches a whole word: ``scam`` matches "Scam!" and "#scam" but not "scammer".
* ``*`` at the end of a word matches any ending: ``pollu*`` matches "pollution", "polluée"; it needs
  at least three letters before it.
* A phrase is words separated by spaces, hyphens or apostrophes; each separator matches any run of
  spaces or punctuation, so ``cruelty free`` matches "cruelty-free" and ``service client`` matches
  "Service-Client". Every word of a phrase may end in ``*``: ``tomb* en panne``.
* Only letters, digits, spaces, hyphens, apostrophes and a final ``*`` per word are allowed.
* ``exclude`` phrases use the same syntax. Text is scanned left to right; at each word an exclusion
  is tried before the terms, and the text an exclusion matches is skipped, so no term of *any*
  concern matches inside it ("in charge" excluded keeps "charge" from matching there, while
  "charge" elsewhere in the message still counts).

A message in a language the lexicon has terms for is matched with that language's terms only; a
message whose language is unknown (``None``) or has no terms is matched with the terms of every
language. Matches do not overlap: where terms of two concerns match at the same word, the longer
literal wins, and a matched text that fits the terms of two concerns (a prefix of one, a word of
another) goes to the one listed first.

User files
----------
``ConcernLexicon.load(extra=[path, ...])`` reads the defaults, then each extra file in order, in the
same format. A concern id that is new is added. For an id that exists, the file's terms and
exclusions are *added* to the existing ones (and a label given replaces the label for that language);
with ``replace: true`` under the concern, its terms and exclusions replace the existing ones
instead. A concern left with no terms at all (e.g. ``replace: true`` and no ``terms``) is dropped,
which is how a user switches a default concern off. The same term may not belong to two concerns
of one language: that is an error naming both.

Every problem in a file (bad YAML, an unknown key, a bad term) raises
:class:`~whuffie.errors.WhuffieError` naming the file, the concern and the bad value.

Examples
--------
>>> lex = ConcernLexicon.load()
>>> lex.tag(["Way too expensive and it broke after two weeks", "Testé sur les animaux ?"], ["en", "fr"])
[['price', 'quality'], ['animal-testing']]
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from whuffie.errors import WhuffieError

#: The lexicon shipped with Whuffie.
DEFAULT_PATH = Path(str(resources.files("whuffie.voice") / "data" / "concerns.yaml"))

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LANG = re.compile(r"[a-z]{2,3}")
#: A word of a term: letters or digits, optionally ending in ``*`` (after >= 3 characters).
_WORD = re.compile(r"(\w+?)(\*?)")
_SEPARATORS = re.compile(r"[\s'’\-]+")
_MARKS = re.compile(r"[\u0300-\u036f]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_CONCERN_KEYS = {"label", "terms", "exclude", "replace"}
_STAR, _SEP, _END = "\x00*", "\x00 ", ""
#: Messages are tagged in batches joined by NUL; no term may match across it.
_JOIN, _BATCH = "\x00", 20_000
_NON_WORD = re.compile(r"\W+")


def normalise(text: str) -> str:
    """Lower-case a text and strip its accents, the way terms and messages are compared.

    Underscores become spaces.

    Examples
    --------
    >>> normalise("Pollué, ŒUVRE à Montréal #climate_change")
    'pollue, oeuvre a montreal #climate change'
    """
    # "_" joins words in hashtags and handles (#climate_change): treat it as a space.
    text = text.lower().replace("_", " ")
    if text.isascii():
        return text
    # NFD splits "é" into "e" + a combining accent that the regex drops; much faster than a
    # per-character loop, and most tweets are ASCII and skip it.
    return _MARKS.sub("", unicodedata.normalize("NFD", text.translate(_LIGATURES)))


def _atoms(term: str) -> tuple[str, ...]:
    """A normalised term as trie atoms: single characters, word separators and prefix stars.

    Raises ValueError (with the reason) for a term outside the pattern syntax.
    """
    words = [w for w in _SEPARATORS.split(normalise(term).strip()) if w]
    if not words:
        raise ValueError("it is empty")
    atoms: list[str] = []
    for i, word in enumerate(words):
        m = _WORD.fullmatch(word)
        if m is None:
            raise ValueError(f"{word!r} is not a word (use letters, digits and a final '*')")
        if m.group(2) and len(m.group(1)) < 3:
            raise ValueError(f"{word!r}: a prefix needs at least three letters before '*'")
        if i:
            atoms.append(_SEP)
        atoms.extend(m.group(1))
        if m.group(2):
            atoms.append(_STAR)
    return tuple(atoms)


def _trie_regex(terms: Iterable[tuple[str, ...]]) -> str:
    """One regex alternation of many terms, factored as a trie.

    Python's ``re`` tries the branches of an alternation one by one at every position; with
    hundreds of terms that is the whole cost of tagging. Sharing prefixes means a word start is
    rejected after one character test per distinct first letter instead of one per term.
    (Hand-written because the standard library has no trie-regex builder and the ``regex``
    module's named lists would be a new dependency.)
    """
    trie: dict[str, Any] = {}
    for atoms in terms:
        node = trie
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[_END] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = []
        # Literal continuations before "*" so that "dechets plastiques" is preferred to "dechet*".
        for atom in sorted((k for k in node if k != _END), key=lambda k: (k == _STAR, k)):
            head = r"\w*" if atom == _STAR else r"[^\w\x00]+" if atom == _SEP else re.escape(atom)
            branches.append(head + emit(node[atom]))
        if not branches:
            return ""
        group = branches[0] if len(branches) == 1 and len(branches[0]) == 1 else f"(?:{'|'.join(branches)})"
        if _END in node:
            return f"{group}?"
        return branches[0] if len(branches) == 1 else group

    return emit(trie)


@dataclass
class _Concern:
    labels: dict[str, str] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)


class _Matcher:
    """The compiled terms of some languages: one regex for all of them, and a way back to the concern.

    One trie of every concern's terms is much faster than one group per concern (the regex engine
    tries alternatives in turn at every word); the concern of a match is then found by its text,
    cached, since the same few words match again and again.
    """

    def __init__(self, concerns: dict[str, _Concern], langs: Sequence[str]):
        def atoms(field_name: str, concern: _Concern) -> set[tuple[str, ...]]:
            return {_atoms(t) for lang in langs for t in getattr(concern, field_name).get(lang, ())}

        exclude = set().union(*(atoms("exclude", c) for c in concerns.values()))
        terms = {cid: atoms("terms", c) for cid, c in concerns.items()}
        self._owners = [(cid, re.compile(_trie_regex(t))) for cid, t in terms.items() if t]
        self._cache: dict[str, str | None] = {}
        groups = [f"(?P<x>{_trie_regex(exclude)})"] if exclude else []
        if self._owners:
            groups.append(f"(?P<t>{_trie_regex(set().union(*terms.values()))})")
        # Matches start and end at word boundaries; exclusions come first so that at a given word
        # they win over a term starting there.
        self.pattern = re.compile(rf"(?<!\w)(?:{'|'.join(groups) or '(?!)'})(?!\w)")

    def concern(self, matched: str) -> str | None:
        """The concern whose terms match this matched text (the first in file order)."""
        key = _NON_WORD.sub(" ", matched)
        if key not in self._cache:
            self._cache[key] = next((cid for cid, r in self._owners if r.fullmatch(key)), None)
        return self._cache[key]

    def scan(self, texts: list[str], rows: Sequence[int], found: dict[int, set[str]]) -> None:
        """Add the concerns of ``texts`` (message ``rows[k]`` for ``texts[k]``) to ``found``."""
        joined = _JOIN.join(texts)
        if joined.count(_JOIN) != len(texts) - 1:  # a NUL inside a message would shift the rows
            joined = _JOIN.join(t.replace(_JOIN, " ") for t in texts)
        # Normalising and scanning one long string instead of each message saves the per-call
        # overhead that dominates on tweet-length texts (about 3x faster).
        joined = normalise(joined)
        bounds = [m.start() for m in re.finditer(_JOIN, joined)]
        for m in self.pattern.finditer(joined):
            if m.lastgroup == "t":
                cid = self.concern(m.group())
                if cid:
                    found.setdefault(rows[bisect_right(bounds, m.start())], set()).add(cid)


class ConcernLexicon:
    """Concerns with their words in several languages, compiled for fast tagging.

    Build it with :meth:`load`. See the module documentation for the file format.

    Examples
    --------
    >>> lex = ConcernLexicon.load()
    >>> lex.concerns["service"]["fr"]
    'Service client'
    >>> lex.tag(["Le service client ne répond jamais", "Nice weather"], [None, "en"])
    [['service'], []]
    """

    def __init__(self, concerns: dict[str, _Concern]):
        self._concerns = concerns
        self.languages = sorted({lang for c in concerns.values() for lang in c.terms})
        self._matchers = {lang: _Matcher(concerns, [lang]) for lang in self.languages}
        self._matcher_all = _Matcher(concerns, self.languages)

    @property
    def concerns(self) -> dict[str, dict[str, str]]:
        """Concern ids (in file order) with their label in each language of the lexicon."""
        return {cid: {lang: c.labels.get(lang, cid) for lang in self.languages}
                for cid, c in self._concerns.items()}

    def _matcher(self, lang: str | None) -> _Matcher | None:
        # A language the lexicon has no words for is not read: its words are not ours ("die",
        # "gift" and "rot" mean something else in German). An unknown language is tried in all.
        return self._matchers.get(lang.lower()) if lang else self._matcher_all

    def tag(self, texts: Sequence[str | None], langs: Sequence[str | None] | None = None) -> list[list[str]]:
        """The concerns each text raises.

        Parameters
        ----------
        texts : sequence of str or None
            The messages; ``None`` or empty raises no concern.
        langs : sequence of str or None, optional
            ISO 639-1 codes, one per text (``None`` for unknown); default all unknown. A text of
            unknown language is matched with every language's terms; a text in a language the
            lexicon has no terms for raises no concern (add terms in that language to read it).

        Returns
        -------
        list of list of str
            Sorted unique concern ids, one list per text.

        Examples
        --------
        >>> lex = ConcernLexicon.load()
        >>> lex.tag(["This is a total rip-off", "Fuite de données personnelles", "Hello"])
        [['price'], ['privacy'], []]
        >>> lex.tag(["This is a total rip-off", "This is a total rip-off"], ["en", "de"])
        [['price'], []]
        """
        if langs is None:
            langs = [None] * len(texts)
        elif len(langs) != len(texts):
            raise WhuffieError(f"tag: {len(texts)} texts but {len(langs)} languages; give one per text")
        todo: dict[int, list[int]] = {}
        matchers: dict[int, _Matcher] = {}
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            m = self._matcher(lang) if text else None
            if m is not None:
                matchers[id(m)] = m
                todo.setdefault(id(m), []).append(i)
        found: dict[int, set[str]] = {}
        for key, rows in todo.items():
            for start in range(0, len(rows), _BATCH):
                matchers[key].scan([texts[i] for i in rows[start:start + _BATCH]], rows[start:], found)
        return [sorted(found[i]) if i in found else [] for i in range(len(texts))]

    def explain(self, text: str, lang: str | None = None) -> list[tuple[str, str]]:
        """Each match in a text as (concern id, matched text), exclusions as ("exclude", text).

        The matched text is shown normalised (lower case, no accents).

        Examples
        --------
        >>> ConcernLexicon.load().explain("Trop cher pour ce que c'est !", "fr")
        [('price', 'trop cher')]
        """
        matcher = self._matcher(lang)
        if matcher is None:
            return []
        return [("exclude" if m.lastgroup == "x" else matcher.concern(m.group()) or "", m.group())
                for m in matcher.pattern.finditer(normalise(text.replace(_JOIN, " ")))]

    def to_dict(self) -> dict[str, Any]:
        """The merged lexicon as plain data, in the file format (``yaml.safe_dump`` writes it back)."""
        out: dict[str, Any] = {}
        for cid, c in self._concerns.items():
            entry: dict[str, Any] = {"label": self.concerns[cid], "terms": c.terms}
            if any(c.exclude.values()):
                entry["exclude"] = {k: v for k, v in c.exclude.items() if v}
            out[cid] = entry
        return {"concerns": out}

    def dump(self) -> str:
        """The merged lexicon as YAML, loadable again with :meth:`load`.

        Examples
        --------
        >>> print(ConcernLexicon.load().dump().splitlines()[0])
        concerns:
        """
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=110)

    @classmethod
    def load(cls, path: str | Path | None = None, extra: Iterable[str | Path] = ()) -> ConcernLexicon:
        """Read a lexicon file (default: the one shipped), then merge extra files into it.

        Parameters
        ----------
        path : str or Path, optional
            The base lexicon; default :data:`DEFAULT_PATH`.
        extra : iterable of str or Path
            Files read after it, in order: new concerns are added, existing ones extended (or
            replaced with ``replace: true``), see the module documentation.

        Raises
        ------
        WhuffieError
            A file is missing, is not valid YAML or has a bad entry (the message names the file,
            the concern and the value).

        Examples
        --------
        >>> sorted(ConcernLexicon.load().concerns)[:3]
        ['addiction', 'animal-testing', 'children']
        """
        concerns: dict[str, _Concern] = {}
        for file in [path or DEFAULT_PATH, *extra]:
            _merge(concerns, Path(file))
            _check_duplicates(concerns, Path(file))
        return cls({cid: c for cid, c in concerns.items() if any(c.terms.values())})


def _merge(concerns: dict[str, _Concern], path: Path) -> None:
    """Read one lexicon file into ``concerns``, validating every entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WhuffieError(f"cannot read concern lexicon {path}: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WhuffieError(f"concern lexicon {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("concerns"), dict) or set(data) != {"concerns"}:
        raise WhuffieError(f"concern lexicon {path}: expected a single top-level key 'concerns' holding a "
                           "mapping of concern ids (see whuffie concerns --lexicon for an example)")
    for cid, entry in data["concerns"].items():
        where = f"concern lexicon {path}, concern {cid!r}"
        if not isinstance(cid, str) or not _ID.fullmatch(cid):
            raise WhuffieError(f"{where}: the id must be lower-case letters, digits and hyphens")
        if entry is None:
            entry = {}
        if not isinstance(entry, dict) or set(entry) - _CONCERN_KEYS:
            bad = sorted(map(str, set(entry) - _CONCERN_KEYS)) if isinstance(entry, dict) else entry
            raise WhuffieError(f"{where}: unknown key(s) or value {bad!r}; allowed keys are "
                               f"{', '.join(sorted(_CONCERN_KEYS))}")
        replace = entry.get("replace", False)
        if not isinstance(replace, bool):
            raise WhuffieError(f"{where}: 'replace' must be true or false, not {replace!r}")
        concern = concerns.get(cid)
        if concern is None or replace:
            labels = concern.labels if concern else {}
            concern = concerns[cid] = _Concern(labels=dict(labels))
        concern.labels.update(_strings(entry.get("label"), f"{where}, label", single=True))
        for key in ("terms", "exclude"):
            for lang, terms in _strings(entry.get(key), f"{where}, {key}").items():
                for term in terms:
                    try:
                        _atoms(term)
                    except ValueError as exc:
                        raise WhuffieError(f"{where}, {key} ({lang}): bad term {term!r}: {exc}") from None
                have = getattr(concern, key).setdefault(lang, [])
                have.extend(t for t in terms if t not in have)


def _strings(value: Any, where: str, single: bool = False) -> dict[str, Any]:
    """A ``{lang: str}`` (single) or ``{lang: [str, ...]}`` mapping, validated."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WhuffieError(f"{where}: expected a mapping of language codes (en, fr, ...), not {value!r}")
    for lang, item in value.items():
        if not isinstance(lang, str) or not _LANG.fullmatch(lang):
            raise WhuffieError(f"{where}: {lang!r} is not a language code (two or three lower-case letters)")
        ok = isinstance(item, str) if single else (
            isinstance(item, list) and all(isinstance(t, str) for t in item))
        if not ok:
            what = "a string" if single else "a list of strings"
            raise WhuffieError(f"{where} ({lang}): expected {what}, not {item!r}")
    return value


def _check_duplicates(concerns: dict[str, _Concern], path: Path) -> None:
    """The same term under two concerns would tag only the first: make the user choose."""
    owner: dict[tuple[str, tuple[str, ...]], str] = {}
    for cid, c in concerns.items():
        for lang, terms in c.terms.items():
            for term in terms:
                other = owner.setdefault((lang, _atoms(term)), cid)
                if other != cid:
                    raise WhuffieError(f"concern lexicon {path}: term {term!r} ({lang}) is in both {other!r} "
                                       f"and {cid!r}; remove it from one (replace: true overrides a concern)")
