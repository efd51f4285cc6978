"""The ``lexicon`` sentiment analyzer: its rules one by one, then its quality on real labelled text."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.conftest import ROOT
from whuffie.errors import WhuffieError
from whuffie.voice.lexicon import THRESHOLDS, LexiconAnalyzer
from whuffie.voice.sentiment import VaderAnalyzer, get_analyzer


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


def test_is_the_registered_default_and_returns_the_contract_types(analyzer):
    assert get_analyzer().name == "lexicon" == analyzer.name
    scores, labels = analyzer.analyse(["I love it", "this is awful", "the bus leaves at noon"], ["en"] * 3)
    assert scores.dtype == np.float32 and labels.dtype == np.int8
    assert labels.tolist() == [1, -1, 0]
    assert np.all(np.abs(scores) <= 1)


def test_empty_and_none_texts_are_neutral_zero(analyzer):
    scores, labels = analyzer.analyse([None, "", "   ", "@user http://t.co/x"], ["en", "fr", None, None])
    assert scores.tolist() == [0, 0, 0, 0]
    assert labels.tolist() == [0, 0, 0, 0]


def test_lengths_must_match(analyzer):
    with pytest.raises(WhuffieError, match="one language per text"):
        analyzer.analyse(["a", "b"], ["en"])


def test_negation_english(analyzer):
    s = analyzer.score
    assert s("good", "en") > 0 > s("not good", "en")
    assert s("I don't like it", "en") < 0 < s("I like it", "en")
    assert s("it isnt great", "en") < 0
    assert s("not bad", "en") > 0  # a negated negative leans positive, as in VADER


def test_negation_french_around_and_after_the_verb(analyzer):
    s = analyzer.score
    assert s("j'aime ce film", "fr") > 0
    assert s("je n'aime pas ce film", "fr") < 0       # ne ... pas around the verb
    assert s("j'aime pas ce film", "fr") < 0          # spoken French, no "ne"
    assert s("ce n'est jamais bon", "fr") < 0
    assert s("un film sans intérêt", "fr") < 0
    assert s("aucun problème", "fr") > 0
    assert s("c'est pas mal", "fr") > 0               # the idiom, written as a phrase
    assert s("c'est pas terrible", "fr") < 0


def test_boosters_and_dampeners(analyzer):
    s = analyzer.score
    assert s("very good", "en") > s("good", "en") > s("kind of good", "en") > 0
    assert s("très bon", "fr") > s("bon", "fr") > s("assez bon", "fr") > 0
    assert s("super bien", "fr") > s("bien", "fr")  # "super" boosts "bien" rather than adding to it


def test_contrast_weights_the_clause_after_it(analyzer):
    assert analyzer.score("the cast is good but the film is awful", "en") < 0
    assert analyzer.score("the cast is awful but the film is good", "en") > 0
    assert analyzer.score("les acteurs sont bons mais le film est décevant", "fr") < 0


def test_capitals_and_punctuation_emphasise(analyzer):
    s = analyzer.score
    assert s("this is GOOD news", "en") > s("this is good news", "en")
    assert s("THIS IS GOOD NEWS", "en") == s("this is good news", "en")  # all capitals: no emphasis
    assert s("great!!!", "en") > s("great!", "en") > s("great", "en")


def test_elongation_hashtags_emoji_and_emoticons(analyzer):
    s = analyzer.score
    assert s("soooo goooood", "en") > s("so good", "en") > 0
    assert s("géniaaaal", "fr") > 0
    assert s("#génial", "fr") > 0 and s("#fail", "en") < 0
    assert s("😍", "en") > 0 > s("😡", "en")
    assert s("❤️", "fr") > 0  # with the variation selector
    assert s("ok :)", "en") > 0 > s("ok :(", "en")
    assert s("@happy http://love.example", "en") == 0  # handles and links carry no sentiment


def test_french_elision_and_accents(analyzer):
    s = analyzer.score
    assert s("c'est une arnaque", "fr") < 0 and s("quelle arnaque", "fr") < 0
    assert s("c’est génial", "fr") == s("c'est génial", "fr") > 0  # typographic apostrophe
    assert s("c'est genial", "fr") == s("c'est génial", "fr")      # typed without accents
    assert s("je suis decu", "fr") < 0 and s("tres decevant", "fr") < s("decevant", "fr")
    assert s("n'importe quoi", "fr") < 0


def test_french_inflected_forms_find_a_sibling_form(analyzer):
    s = analyzer.score
    # Neither form is in fr_lexicon.txt nor in fr.tsv (`grep -c '^charmante->'` and `'^adorait->'` give 0);
    # "charmant" (fr_lexicon.txt) and "adorer" (fr.tsv) are.
    assert s("elle est charmante", "fr") == s("il est charmant", "fr") > 0
    assert s("il adorait ce film", "fr") == s("il adorer ce film", "fr") > 0
    assert s("il n'adorait pas ce film", "fr") < 0
    assert s("la France", "fr") == 0  # "-e" alone is not stripped: "France" is not "franc"


def test_title_case_words_next_to_each_other_are_a_name(analyzer):
    s = analyzer.score
    assert s("listening to Poetic Justice tonight", "en") == 0 < s("poetic justice tonight", "en")
    assert s("un film sur la Belle Époque", "fr") == 0 < s("une belle époque", "fr")
    assert s("Happy Birthday Mike", "en") > 0  # the first word of a text is not taken for a name
    assert s("Tom Hardy is Great", "en") > 0   # a lone title-case word still counts


def test_camel_case_hashtags_and_html_entities(analyzer):
    s = analyzer.score
    assert s("#NotHappy", "en") == s("not happy", "en") < 0
    assert s("#nothappy", "en") == 0  # one case: no split (no dictionary segmentation)
    assert s("I &lt;3 it", "en") == s("I <3 it", "en") > 0


def test_language_codes_unknown_and_guessed(analyzer):
    texts = ["I love it", "je n'aime pas du tout ce film"]
    en = analyzer.analyse(texts[:1], ["en"])[0]
    assert analyzer.analyse(texts[:1], ["de"])[0] == en       # unknown language: English
    assert analyzer.analyse(texts[1:], ["fr-CA"])[0] == analyzer.analyse(texts[1:], ["fr"])[0]
    scores, labels = analyzer.analyse(texts, [None, None])  # None: guessed from function words
    assert labels.tolist() == [1, -1]
    assert scores[1] == analyzer.analyse(texts[1:], ["fr"])[0][0]


def test_band_option_overrides_the_fitted_thresholds():
    wide = LexiconAnalyzer(band=0.9)
    assert wide.version == "1.1, band 0.9"
    assert wide.analyse(["good"], ["en"])[1].tolist() == [0]
    assert LexiconAnalyzer().analyse(["good"], ["en"])[1].tolist() == [1]
    assert THRESHOLDS["en"][0] < 0 < THRESHOLDS["en"][1]
    with pytest.raises(WhuffieError, match="band"):
        LexiconAnalyzer(band=1.5)


# --- real labelled data (skipped without ../shared/data) -------------------------------------

def _bench():
    """The data loaders and metrics of benchmarks/validate_sentiment.py (one implementation)."""
    path = ROOT / "benchmarks" / "validate_sentiment.py"
    spec = importlib.util.spec_from_file_location("validate_sentiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


def test_metrics_of_the_benchmark(bench):
    m = bench.confusion(np.array([-1, -1, 0, 1]), np.array([-1, 0, 0, 1]), (-1, 0, 1))
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    # per class F1: 2/3, 2/3, 1 (worked by hand)
    assert bench.macro_f1(m) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert bench.decode_tweet('"He said ""hi\\u2019"" \\u002c ok" ') == 'He said "hi\u2019" , ok'


@pytest.mark.parametrize(("folder", "lang", "measured", "margin"),
                         [("english", "en", 0.615, -0.02), ("french", "fr", 0.602, 0.05)])
def test_macro_f1_on_tweet_val_splits_against_vader(shared, bench, analyzer, folder, lang, measured, margin):
    texts, truth = bench.tweets(folder, "val", shared)
    # 324 tweets, 108 per class (tweet_sentiment_fr_en/SOURCE.md; `sort | uniq -c` of val_labels.txt)
    assert len(texts) == 324 and np.bincount(truth + 1).tolist() == [108, 108, 108]
    _, labels = analyzer.analyse(texts, [lang] * len(texts))
    f1 = bench.macro_f1(bench.confusion(truth, labels, (-1, 0, 1)))
    _, vader = VaderAnalyzer().analyse(texts, [lang] * len(texts))
    baseline = bench.macro_f1(bench.confusion(truth, vader, (-1, 0, 1)))
    assert f1 >= measured - 0.01  # measured with benchmarks/validate_sentiment.py
    # French: well above vaderSentiment-fr (0.540). English val: 0.615 against VADER's 0.627, within
    # the sampling error of 324 tweets (the train split, 1,839 tweets, gives 0.610 against 0.566).
    assert f1 > baseline + margin


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "lang"), [("english", "en"), ("french", "fr")])
def test_macro_f1_on_tweet_train_splits_beats_vader(shared, bench, analyzer, folder, lang):
    # The thresholds were fitted on these splits, so the margin is optimistic; measured 0.610 vs 0.566
    # (English) and 0.664 vs 0.594 (French) with the same loaders.
    texts, truth = bench.tweets(folder, "train", shared)
    assert len(texts) == 1839
    _, labels = analyzer.analyse(texts, [lang] * len(texts))
    _, vader = VaderAnalyzer().analyse(texts, [lang] * len(texts))
    f1 = bench.macro_f1(bench.confusion(truth, labels, (-1, 0, 1)))
    assert f1 > bench.macro_f1(bench.confusion(truth, vader, (-1, 0, 1))) + 0.03


def test_macro_f1_on_allocine_dev_and_reddit_val(shared, bench, analyzer):
    texts, truth = bench.allocine("dev", shared)
    assert len(texts) == 391 and int((truth == 1).sum()) == 223  # allocine_fr/SOURCE.md: 223 pos / 168 neg
    scores, labels = analyzer.analyse(texts, ["fr"] * len(texts))
    assert bench.macro_f1(bench.confusion(truth, bench.binary(scores, labels), (-1, 1))) >= 0.775
    texts, truth = bench.fanchuan("val", shared)
    _, labels = analyzer.analyse(texts, ["en"] * len(texts))
    assert bench.macro_f1(bench.confusion(truth, labels, (-1, 0, 1))) >= 0.45  # measured 0.459
