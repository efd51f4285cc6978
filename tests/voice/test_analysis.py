"""The voice step over a real store: every message with text read once, languages, runs saved."""

from __future__ import annotations

import collections
import json

import pytest

from whuffie.store import results
from whuffie.voice.analysis import VoiceParams, summarise, voice_messages
from whuffie.voice.language import detect_languages, message_languages, source_language


def _mastodon_statuses(folder):
    """Statuses with content in the raw Mastodon pages (reblogged ones included), by id, with language.

    Read with ``json`` directly, not through Whuffie's reader.
    """
    out = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else data.get("ancestors", []) + data.get("descendants", [])
        for status in items:
            for s in (status, status.get("reblog")):
                if s and s.get("content"):
                    out[s["id"]] = s.get("language")
    return out


@pytest.fixture
def mastodon(store, shared):
    folder = shared / "formats" / "mastodon_api_json"
    store.ingest([str(folder)])
    return store, _mastodon_statuses(folder)


@pytest.mark.slow
def test_every_message_with_text_is_read_once_with_the_source_language(mastodon):
    store, raw = mastodon
    table = voice_messages(store.engine)
    assert table.num_rows == len(raw) == 339
    ids = table.column("message_id").to_pylist()
    assert len(set(ids)) == len(ids)
    by_source = collections.Counter(
        lang for lang, src in zip(table.column("lang").to_pylist(), table.column("lang_source").to_pylist(),
                                  strict=True) if src == "source")
    assert by_source == collections.Counter(v for v in raw.values() if v)
    # The two statuses without a language tag were detected; both are German hashtag posts.
    detected = [r for r in table.to_pylist() if r["lang_source"] == "detected"]
    assert len(detected) == sum(1 for v in raw.values() if not v) == 2


@pytest.mark.slow
def test_languages_the_analyzer_does_not_read_get_no_sentiment(mastodon):
    """No sentiment rather than a wrong one: the German of #ichbinhanna is not read as English."""
    store, _raw = mastodon
    table = voice_messages(store.engine)
    rows = table.to_pylist()
    read = [r for r in rows if r["lang"] in ("en", "fr", None)]
    unread = [r for r in rows if r["lang"] not in ("en", "fr", None)]
    assert all(r["sentiment"] in ("negative", "neutral", "positive") and -1 <= r["score"] <= 1 for r in read)
    assert all(r["sentiment"] is None and r["score"] is None for r in unread)
    german = [r for r in rows if r["lang"] == "de"]
    # Before: 65 of these 136 German toots were "negative", most of them for the article "die".
    assert len(german) == 136 and not any(r["concerns"] for r in german)
    s = summarise(table)
    assert (s["read"], s["unread"], s["unread_languages"]["de"]) == (len(read), len(unread), 136)


@pytest.mark.slow
def test_several_processes_give_the_same_rows_as_one(mastodon):
    store, _raw = mastodon
    one = voice_messages(store.engine, VoiceParams(workers=1, batch=50))
    two = voice_messages(store.engine, VoiceParams(workers=2, batch=50))
    assert one.equals(two)


@pytest.mark.slow
def test_worker_processes_are_spawned_and_a_script_needs_no_main_guard(tmp_path):
    """Workers are spawned (the semantics of macOS and Windows), never forked with the open store;
    a user's script without an ``if __name__ == "__main__"`` guard does not run again in them."""
    import subprocess
    import sys

    script = tmp_path / "listen.py"
    script.write_text(
        "import whuffie\n"
        "from whuffie.model import Message, Records\n"
        "from whuffie.voice.analysis import VoiceParams\n"
        "print('script body runs', flush=True)\n"
        "store = whuffie.open('s.duckdb')\n"
        "store.add(Records(messages=[Message(f'x:{i}', 'x', f'x:a{i % 7}', None, lang='en',\n"
        "    text='great service, thanks' if i % 2 else 'awful and too expensive') for i in range(400)]))\n"
        "one = store.voice(VoiceParams(workers=1, batch=50)).to_arrow()\n"
        "two = store.voice(VoiceParams(workers=2, batch=50), fresh=True).to_arrow()\n"
        "print(one.num_rows, one.equals(two))\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script body runs", "400 True"]


@pytest.mark.slow
def test_a_run_is_saved_with_its_parameters_and_filters(mastodon):
    store, _raw = mastodon
    result = store.voice(VoiceParams(platforms=("mastodon",)))
    table = result.to_arrow()
    info = results.run_info(store, result.run_id)
    assert info["analysis"] == "voice" and info["params"]["analyzer"] == "lexicon"
    assert info["params"]["platforms"] == ["mastodon"] and result.params == info["params"]
    # Workers and batch size do not change the rows: they are not parameters of the run.
    assert "workers" not in info["params"] and "batch" not in info["params"]
    assert results.load(store, "voice_messages").num_rows == table.num_rows == 339
    assert result.summary == summarise(table) and not result.reused
    # Asked again on the same data: the saved run; fresh=True computes a new one with the same rows.
    again = store.voice(VoiceParams(platforms=("mastodon",), workers=1, batch=50))
    assert again.reused and again.run_id == result.run_id and again.to_arrow().equals(table)
    fresh = store.voice(VoiceParams(platforms=("mastodon",)), fresh=True)
    assert not fresh.reused and fresh.run_id != result.run_id and fresh.to_arrow().equals(table)
    none = voice_messages(store.engine, VoiceParams(platforms=("twitter",)))
    assert none.num_rows == 0


def test_languages_of_real_tweets(shared):
    """The first 200 validation tweets of each language are recognised (measured: 200 of 200)."""
    for folder, code in (("english", "en"), ("french", "fr")):
        lines = (shared / "tweet_sentiment_fr_en" / folder / "val_text.txt").read_text().split("\n")[:200]
        found = detect_languages(lines)
        right = sum(1 for f in found if f == code)
        assert right >= 190, (code, collections.Counter(found).most_common(4))


def test_source_tags_win_and_undetermined_tags_are_detected():
    langs, sources = message_languages(
        ["Le service client ne répond jamais", "Le service client ne répond jamais", "wow"],
        ["en", "und", None])
    assert langs == ["en", "fr", None] and sources == ["source", "detected", None]
    assert source_language("pt-BR") == "pt" and source_language("zxx") is None
