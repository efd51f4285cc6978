"""Concern tagging: pattern syntax, user lexicons, errors, hand-written and real messages."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
import yaml

from whuffie.errors import WhuffieError
from whuffie.voice.concerns import DEFAULT_PATH, ConcernLexicon, normalise

from ..conftest import DATA

LABELLED = DATA / "voice" / "concerns_labelled.csv"
IDS = {"environment", "labour", "animal-testing", "quality", "addiction", "health", "children", "price",
       "service", "privacy"}


def lexicon(tmp_path: Path, text: str, name: str = "lex.yaml", **kwargs) -> ConcernLexicon:
    """A lexicon read from a YAML file written in tmp_path (instead of the shipped one)."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return ConcernLexicon.load(path, **kwargs)


def extra(tmp_path: Path, text: str, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lex() -> ConcernLexicon:
    return ConcernLexicon.load()


SMALL = """
    concerns:
      price:
        label: {en: Price, fr: Prix}
        terms:
          en: [overpriced, rip off, scam]
          fr: [trop cher*, arnaque]
        exclude:
          en: [rip off the band aid]
      environment:
        terms:
          en: [pollu*, climate change]
          fr: [pollu*, dechet*]
"""


def test_default_lexicon_has_the_ten_concerns_with_labels(lex):
    assert set(lex.concerns) == IDS
    assert lex.languages == ["en", "fr"]
    assert lex.concerns["animal-testing"] == {"en": "Animal testing", "fr": "Tests sur les animaux"}


def test_plain_word_matches_whole_words_only(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    got = lex.tag(["What a scam!", "#scam", "the scammer", "scams"], ["en"] * 4)
    assert got == [["price"], ["price"], [], []]


def test_case_and_accents_are_ignored(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    assert lex.tag(["C'est une ARNAQUE", "c'est TROP CHÈRE", "Déchèterie pleine"], ["fr"] * 3) == [
        ["price"], ["price"], ["environment"]]
    assert normalise("Œuf À l'ÉTÉ") == "oeuf a l'ete"


def test_prefix_star(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    got = lex.tag(["Polluée", "pollution", "POLLUERS", "apollo", "pol"], ["fr", "en", "en", "en", "en"])
    assert got == [["environment"], ["environment"], ["environment"], [], []]


def test_phrase_separators_match_any_punctuation(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    texts = ["a rip-off", "rip  off", "RIP...OFF!", "#climate_change", "ripoff", "climate, change", "rip"]
    assert lex.tag(texts, ["en"] * 7) == [["price"], ["price"], ["price"], ["environment"], [],
                                         ["environment"], []]


def test_exclusion_cancels_only_the_text_it_covers(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    got = lex.tag(["Just rip off the band-aid", "Rip off the band aid; this is a rip off"], ["en", "en"])
    assert got == [[], ["price"]]
    assert lex.explain("rip off the band aid, overpriced", "en") == [
        ("exclude", "rip off the band aid"), ("price", "overpriced")]


def test_language_selects_terms_and_unknown_uses_all(tmp_path):
    lex = lexicon(tmp_path, SMALL)
    texts = ["overpriced", "overpriced", "overpriced", "arnaque", None, ""]
    got = lex.tag(texts, ["fr", "en", None, "de", "en", None])
    # A language the lexicon has no words for is not read (German "Gift" is poison, not a present):
    # the French word in a text said to be German raises nothing.
    assert got == [[], ["price"], ["price"], [], [], []]
    assert lex.tag(["arnaque"]) == [["price"]]
    with pytest.raises(WhuffieError, match="2 texts but 1 languages"):
        lex.tag(["a", "b"], ["en"])


def test_many_messages_in_batches_keep_their_rows(tmp_path):
    # More than one batch (20,000) and a NUL inside a message, which is the batch joiner.
    lex = lexicon(tmp_path, SMALL)
    texts = ["nothing here", "so overpriced", "pollution\x00 scam"] * 9000
    got = lex.tag(texts, ["en"] * len(texts))
    assert got[:3] == [[], ["price"], ["environment", "price"]]
    assert got == [[], ["price"], ["environment", "price"]] * 9000


def test_extra_file_extends_by_default_and_adds_concerns(tmp_path):
    more = extra(tmp_path, """
        concerns:
          price:
            label: {fr: Tarifs}
            terms:
              en: [too pricey]
          delivery:
            label: {en: Delivery}
            terms:
              en: [parcel never came]
    """)
    lex = lexicon(tmp_path, SMALL, extra=[more])
    assert lex.tag(["scam", "too pricey", "the parcel never came"], ["en"] * 3) == [
        ["price"], ["price"], ["delivery"]]
    assert lex.concerns["price"] == {"en": "Price", "fr": "Tarifs"}
    assert lex.concerns["delivery"] == {"en": "Delivery", "fr": "delivery"}


def test_extra_file_replace_overrides_and_empty_drops(tmp_path):
    more = extra(tmp_path, """
        concerns:
          price:
            replace: true
            terms:
              en: [too pricey]
          environment:
            replace: true
    """)
    lex = lexicon(tmp_path, SMALL, extra=[more])
    assert lex.tag(["scam", "too pricey", "pollution"], ["en"] * 3) == [[], ["price"], []]
    assert list(lex.concerns) == ["price"]
    assert lex.concerns["price"]["en"] == "Price"  # labels survive a replace that gives none


@pytest.mark.slow
def test_extra_extends_the_default_lexicon(tmp_path):
    more = extra(tmp_path, "concerns:\n  quality:\n    terms:\n      en: [lemon]\n")
    lex = ConcernLexicon.load(extra=[more])
    got = lex.tag(["this car is a lemon", "it broke after a week"], ["en", "en"])
    assert got == [["quality"], ["quality"]]


def test_dump_round_trips(tmp_path, lex):
    path = tmp_path / "dumped.yaml"
    path.write_text(lex.dump(), encoding="utf-8")
    again = ConcernLexicon.load(path)
    assert again.to_dict() == lex.to_dict()
    assert yaml.safe_load(lex.dump())["concerns"]["price"]["terms"]["fr"][0] == "trop cher*"


@pytest.mark.parametrize(("text", "message"), [
    ("concerns: [price", "not valid YAML"),
    ("price: {}", "single top-level key 'concerns'"),
    ("concerns:\n  Price!: {terms: {en: [x]}}", "concern 'Price!': the id must be"),
    ("concerns:\n  price: {words: {en: [x]}}", r"concern 'price': unknown key\(s\) or value \['words'\]"),
    ("concerns:\n  price: {terms: {english: [x]}}", "'price', terms: 'english' is not a language code"),
    ("concerns:\n  price: {terms: {en: cheap}}", r"'price', terms \(en\): expected a list of strings"),
    ("concerns:\n  price: {terms: {en: [no]}}", r"expected a list of strings, not \[False\]"),
    ("concerns:\n  price: {terms: {en: ['pri(ce']}}", r"concern 'price', terms \(en\): bad term 'pri\(ce'"),
    ("concerns:\n  price: {terms: {en: ['pr*']}}", "'pr\\*': a prefix needs at least three letters"),
    ("concerns:\n  price: {terms: {en: ['ex*pensive']}}", "bad term 'ex\\*pensive'"),
    ("concerns:\n  price: {exclude: {en: ['   ']}}", "exclude \\(en\\): bad term '   ': it is empty"),
    ("concerns:\n  price: {replace: yes please}", "'replace' must be true or false"),
    ("concerns:\n  price: {label: {en: [Price]}}", r"concern 'price', label \(en\): expected a string"),
    ("concerns:\n  a: {terms: {en: [scam]}}\n  b: {terms: {en: [SCAM]}}",
     "term 'SCAM' \\(en\\) is in both 'a' and 'b'"),
])
def test_bad_files_name_file_concern_and_value(tmp_path, text, message):
    with pytest.raises(WhuffieError, match=message) as info:
        lexicon(tmp_path, text, name="mine.yaml")
    assert "mine.yaml" in str(info.value)


def test_bad_extra_file_is_named(tmp_path):
    bad = extra(tmp_path, "concerns:\n  price: {terms: {fr: ['arna(que']}}\n", name="user.yaml")
    with pytest.raises(WhuffieError, match=r"user\.yaml, concern 'price', terms \(fr\): bad term 'arna\("):
        ConcernLexicon.load(extra=[bad])
    with pytest.raises(WhuffieError, match=r"cannot read concern lexicon .*missing\.yaml"):
        ConcernLexicon.load(extra=[tmp_path / "missing.yaml"])


def test_default_lexicon_is_valid_and_documented():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert text.startswith("# Whuffie's default concern lexicon")
    assert "replace: true" in text


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Way too expensive and it broke after two weeks", "en", ["price", "quality"]),
    ("Still no response from your customer service, I want a refund", "en", ["service"]),
    ("Is this cruelty-free or tested on animals?", "en", ["animal-testing"]),
    ("They use child labour in sweatshops", "en", ["labour"]),
    ("Another data breach: my personal data is out there", "en", ["privacy"]),
    ("Choking hazard: not safe for kids. Protect our kids!", "en", ["children"]),
    ("So much plastic packaging, bad for the environment", "en", ["environment"]),
    ("Gave me food poisoning", "en", ["health"]),
    ("The opioid crisis is driven by addiction", "en", ["addiction"]),
    ("I love this phone, great camera", "en", []),
    ("I'm so addicted to this show", "en", []),
    ("Mon lave-linge est tombé en panne au bout de deux mois", "fr", ["quality"]),
    ("Trop cher pour ce que c'est, une vraie arnaque", "fr", ["price"]),
    ("Le SAV ne répond pas, toujours pas de réponse à ma réclamation", "fr", ["service"]),
    ("Produit testé sur les animaux ?", "fr", ["animal-testing"]),
    ("Fuite de données personnelles chez mon opérateur", "fr", ["privacy"]),
    ("Travail des enfants dans les usines de leurs fournisseurs", "fr", ["labour"]),
    ("Ces emballages plastiques polluent les océans", "fr", ["environment"]),
    ("Des perturbateurs endocriniens dans les biberons, dangereux pour les enfants", "fr",
     ["children", "health"]),
    ("Je suis accro à cette série, vraiment addictive", "fr", []),
    ("Le climat social est tendu", "fr", []),
    ("Un écrivain en panne d'inspiration", "fr", []),
])
def test_hand_written_messages(lex, text, lang, expected):
    assert lex.tag([text], [lang]) == [expected]


def test_precision_on_the_hand_labelled_sample(lex):
    # tests/data/voice/concerns_labelled.csv: 169 (message, concern) pairs drawn at random from the
    # tagged messages of ../shared/data (stratified by language and concern, at most 10 per stratum,
    # in three rounds, see benchmarks/validate_concerns.py) and judged by reading each message. With
    # the final lexicon, benchmarks/validate_concerns.py measured 81% (47/58 still tagged) in English
    # and 72% (36/50) in French; these figures are optimistic for rounds 1-2 (the lexicon was tuned on
    # them). The margin allows small lexicon edits; a change that tags many wrong rows fails.
    with open(LABELLED, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 169
    assert {r["correct"] for r in rows} == {"0", "1"}
    tags = lex.tag([r["text"] for r in rows], [r["lang"] for r in rows])
    for lang, floor in (("en", 0.75), ("fr", 0.65)):
        kept = [r for r, t in zip(rows, tags, strict=True) if r["lang"] == lang and r["concern"] in t]
        precision = sum(int(r["correct"]) for r in kept) / len(kept)
        assert len(kept) >= 45, lang
        assert precision >= floor, (lang, precision)


def test_counts_on_real_french_tweets(shared, tmp_path):
    # Counted independently with grep on tweet_sentiment_fr_en/french/train_text.txt:
    #   grep -ciE '(^|[^[:alnum:]_])pollu' train_text.txt                      -> 21
    #   grep -iE 'r[ée]chauffement[^[:alnum:]]+climatique' train_text.txt | wc -l  -> 98
    lex = lexicon(tmp_path, """
        concerns:
          pollution: {terms: {fr: [pollu*]}}
          warming: {terms: {fr: [réchauffement climatique]}}
    """)
    lines = (shared / "tweet_sentiment_fr_en" / "french" / "train_text.txt").read_text(encoding="utf-8")
    tags = lex.tag(lines.splitlines(), ["fr"] * len(lines.splitlines()))
    assert sum("pollution" in t for t in tags) == 21
    assert sum("warming" in t for t in tags) == 98
