"""The HTML report: self-contained, offline, and every string from data escaped."""

from __future__ import annotations

import re

from whuffie.report.html import write_report
from whuffie.store.model import Message, Records
from whuffie.store.writer import Batch

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _fill(store):
    batch = Batch()
    batch.add(Records(messages=[
        Message("x:1", "x", "x:" + EVIL, None, text=EVIL),
        Message("x:2", "x", "x:bob", None, kind="reply", reply_to="x:1"),
    ]))
    store.con.execute("BEGIN")
    batch.flush(store.con, None)
    store.con.execute("COMMIT")


def test_report_escapes_data_and_needs_no_network(store, tmp_path):
    _fill(store)
    index = write_report(store, tmp_path / "report")
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
    index = write_report(store, tmp_path / "r")
    assert "What the store holds" in index.read_text()


def test_voice_section_escapes_data(store, tmp_path):
    """The community-voice section (sentiment, concerns, inbox, advocates) escapes messages and names."""
    from datetime import datetime

    from whuffie.cli.voice import run_advocates, run_inbox
    from whuffie.voice.analysis import run_voice

    batch = Batch()
    t = datetime(2024, 5, 1, 12)
    batch.add(Records(messages=[
        Message("x:1", "x", "x:brand", t, text="Our new product is out"),
        Message("x:2", "x", "x:" + EVIL, t.replace(hour=13), kind="reply", reply_to="x:1",
                text="Terrible service, a total rip-off " + EVIL),
        Message("x:3", "x", "x:" + EVIL, t.replace(hour=14), kind="reply", reply_to="x:1",
                text="Awful, broke after two days and nobody answers " + EVIL),
    ]))
    store.con.execute("BEGIN")
    batch.flush(store.con, None)
    store.con.execute("COMMIT")
    _run, voice = run_voice(store)
    run_inbox(store, ["x:brand"], voice=voice)
    run_advocates(store, voice)
    html = write_report(store, tmp_path / "report").read_text()
    assert "What the community says" in html and "Who is waiting for an answer" in html
    assert "Detractors whose voice carries furthest" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block
