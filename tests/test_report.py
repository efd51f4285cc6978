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
