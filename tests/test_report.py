"""The HTML report: self-contained, offline, and every string from data escaped."""

from __future__ import annotations

import re

import pytest

from whuffie.model import Message, Records
from whuffie.privacy.disclosure import Disclosure
from whuffie.report.html import write_report

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _fill(store):
    assert store.add(Records(messages=[
        Message("x:1", "x", "x:" + EVIL, None, text=EVIL),
        Message("x:2", "x", "x:bob", None, kind="reply", reply_to="x:1"),
    ])) == (2, 0)


def test_report_escapes_data_and_needs_no_network(store, tmp_path):
    _fill(store)
    # The handle shown as it is (--show-private): the escaping must hold for what data holds.
    everyone = Disclosure(show_private=True).bind(store)
    index, sections = write_report(store, tmp_path / "report", shown=everyone)
    assert index == tmp_path / "report" / "index.html" and sections[0] == "overview"
    html = index.read_text()
    assert EVIL not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    # Scripts come from the report folder only.
    srcs = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert srcs == ["plotly.min.js"]
    assert (tmp_path / "report" / "plotly.min.js").stat().st_size > 1_000_000
    assert "http://" not in re.sub(r'xmlns="http://[^"]+"', "", html.split("<main>")[0])
    # Figures are JSON inside <script type="application/json">: no raw "<" from data there.
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block


def test_report_of_an_empty_store(store, tmp_path):
    index, sections = write_report(store, tmp_path / "r")
    assert "What the store holds" in index.read_text()
    assert sections == ["overview", "provenance"]
    # The library call writes the same report.
    result = store.report(tmp_path / "lib")
    assert result.path == tmp_path / "lib" / "index.html" and result.summary["sections"] == sections
    assert "What the store holds" in result.path.read_text()


@pytest.mark.slow
def test_voice_section_escapes_data(store, tmp_path):
    """The community-voice section (sentiment, concerns, inbox, advocates) escapes messages and names."""
    from datetime import datetime

    t = datetime(2024, 5, 1, 12)
    store.add(Records(messages=[
        Message("x:1", "x", "x:brand", t, text="Our new product is out"),
        Message("x:2", "x", "x:" + EVIL, t.replace(hour=13), kind="reply", reply_to="x:1",
                text="Terrible service, a total rip-off " + EVIL),
        Message("x:3", "x", "x:" + EVIL, t.replace(hour=14), kind="reply", reply_to="x:1",
                text="Awful, broke after two days and nobody answers " + EVIL),
    ]))
    voice = store.voice()
    inbox = store.inbox(["x:brand"])
    advocates = store.advocates()
    assert inbox.inputs["voice"] == advocates.inputs["voice"] == voice.run_id  # the voice run just made
    index, sections = write_report(store, tmp_path / "report")
    assert "voice" in sections
    html = index.read_text()
    assert "What the community says" in html and "Who is waiting for an answer" in html
    assert "Detractors whose voice carries furthest" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block


def test_times_on_a_relative_clock_stay_out_of_the_report_dates(tmp_path, shared):
    # The coordination-network toolkit's CSV counts seconds from an arbitrary start (stored
    # from 1970): with dated messages beside them, the report said "Messages from 1970-01-01"
    # and drew 35 years of empty weeks.
    import whuffie
    from whuffie.report.summary import overview

    toolkit = tmp_path / "toolkit" / "coretweet.csv"  # platform "toolkit", from the folder's name
    toolkit.parent.mkdir()
    toolkit.write_bytes((shared / "formats/qut_coordination_csv/coretweet_test_input.csv").read_bytes())
    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.ingest([toolkit, shared / "formats/reddit_pushshift_ndjson/RC_2005-12.ndjson"])
        span = store.status()["span"]
        assert span["first"].startswith("2005-12") and span["relative"] == 15
        section = overview(store)
        texts = [b[1] for b in section.blocks if b[0] == "text"]
        dates = next(t for t in texts if t.startswith("Messages from"))
        assert dates.startswith("Messages from 2005-12-")
        assert "Not counted in these dates: 15 messages" in dates
        [weekly] = [b[1] for b in section.blocks if b[0] == "figure" and "week" in b[1].layout.title.text]
        assert all(min(trace.x).year == 2005 for trace in weekly.data)
    with whuffie.open(tmp_path / "relative.duckdb") as store:
        store.ingest([toolkit])
        texts = [b[1] for b in overview(store).blocks if b[0] == "text"]
        assert any(t.startswith("No message has a calendar date: 15 messages") for t in texts)


def test_time_analyses_of_a_mixed_store_start_with_its_calendar(tmp_path, shared):
    # With the toolkit's relative clock beside dated messages, the pyramid counted 669 months
    # from 1970-01 on the store of shared/data/formats.
    import whuffie

    toolkit = tmp_path / "toolkit" / "coretweet.csv"
    toolkit.parent.mkdir()
    toolkit.write_bytes((shared / "formats/qut_coordination_csv/coretweet_test_input.csv").read_bytes())
    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.ingest([toolkit, shared / "formats/reddit_pushshift_ndjson/RC_2005-12.ndjson"])
        counts = store.pyramid(window="month")["pyramid_counts"].to_pylist()
        assert {r["window_start"].year for r in counts} == {2005}
        weekly = store.engine.message_counts(["platform"], unit="week").to_pylist()
        assert {r["platform"] for r in weekly} == {"reddit"}
    with whuffie.open(tmp_path / "relative.duckdb") as store:
        store.ingest([toolkit])
        # Only relative times: they are the store's clock (week one starts on Monday 1969-12-29).
        weeks = store.engine.message_counts([], unit="week").to_pylist()
        assert weeks and {r["created_at"].year for r in weeks} <= {1969, 1970}
