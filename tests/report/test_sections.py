"""What the report's sections show on real-sized data: what is missing, folded lists, handles, zeros."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from whuffie.model import Actor, Message, Records
from whuffie.privacy.disclosure import Disclosure
from whuffie.report import influence, summary, voice
from whuffie.report.html import write_report


def _section(html: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}".*?</section>', html, re.S)
    assert match, f"no section {sid}"
    return match.group(0)


def _crowd(store, people: int = 300) -> None:
    """A community where everyone replies to a few earlier members; handles differ from ids."""
    t0 = datetime(2024, 1, 1)
    actors = [Actor(f"x:{i}", "x", handle=f"member{i}") for i in range(people)]
    messages = [Message(f"x:m{i}", "x", f"x:{i}", t0 + timedelta(hours=i), text=f"post {i}")
                for i in range(people)]
    messages += [Message(f"x:r{i}-{j}", "x", f"x:{i}", t0 + timedelta(hours=i, minutes=j + 1),
                         kind="reply", reply_to=f"x:m{(i * 7 + j * 13) % max(i, 1)}")
                 for i in range(1, people) for j in range(3)]
    store.add(Records(actors=actors, messages=messages))


def test_report_says_what_is_missing_and_how_to_get_it(sample_store, tmp_path):
    index, sections = write_report(sample_store, tmp_path / "r")
    assert "missing" in sections
    missing = _section(index.read_text(), "missing")
    assert f"whuffie efluentials --db {sample_store.path}" in missing
    assert f"whuffie analyze --db {sample_store.path}" in missing
    assert "whuffie voice" in missing
    sample_store.efluentials()
    index, _ = write_report(sample_store, tmp_path / "r")
    missing = _section(index.read_text(), "missing")
    assert "whuffie efluentials" not in missing and "whuffie voice" in missing


def test_report_of_a_fully_analysed_store_has_nothing_missing(store, tmp_path):
    _crowd(store, 40)
    for name in ("efluentials", "pyramid", "niches", "voice", "advocates", "cascades"):
        getattr(store, name)()
    store.buzz("term", "week")
    seeds = store.seeds(2, prob=0.1, runs=50)
    store.inbox(["x:0"])
    assert summary.missing(store) is None
    # The report names the set to approach: the one the comparison finds best, not IMM's by default.
    best = seeds.summary["recommended"]
    index, _ = write_report(store, tmp_path / "r")
    reach = seeds.summary["recommended_mean"]
    assert f"the {best} set, which reaches {reach:,.1f} people" in index.read_text()


def test_who_matters_lists_handles_folds_long_lists_and_keeps_ids_on_hover(store, tmp_path):
    _crowd(store)
    efl = store.efluentials().to_arrow()
    assert efl.num_rows > influence.FOLD
    index, _ = write_report(store, tmp_path / "r", shown=Disclosure(show_private=True).bind(store))
    part = _section(index.read_text(), "who-matters")
    shown, folded = part.split("<details>", 1)
    assert len(re.findall(r"<tr>", shown)) - 1 == influence.FOLD       # header row + FOLD rows
    assert f"{min(efl.num_rows, influence.SHOWN) - influence.FOLD} more" in folded
    first = efl.sort_by("rank").column("actor_id")[0].as_py()
    handle = "member" + first.split(":")[1]
    assert f'<td title="{first}">{handle}</td>' in shown
    # Ids appear only as hover titles, never as the cell's text.
    assert not re.search(r">x:\d+<", part)


def test_series_show_silent_weeks_as_zeros(store):
    t = datetime(2024, 1, 1, 9)     # a Monday
    store.add(Records(messages=[
        Message("x:1", "x", "x:a", t, text="hello"),
        Message("x:2", "x", "x:a", t + timedelta(days=1), text="again"),
        Message("x:3", "x", "x:b", t + timedelta(weeks=3), text="back"),
    ]))
    section = summary.overview(store)
    weekly = next(fig for kind, fig in section.blocks if kind == "figure"
              and fig.layout.title.text == "Messages per week")
    assert list(weekly.data[0].y) == [2, 0, 0, 1]


def test_bursts_show_their_days_not_midnight_timestamps(store):
    t0 = datetime(2024, 1, 1, 10)
    messages = [Message(f"x:{d}-{k}", "x", f"x:{k}", t0 + timedelta(days=d), text=f"weather talk {d}")
                for d in range(60) for k in range(2)]
    messages += [Message(f"x:b{k}", "x", f"x:{k}", t0 + timedelta(days=50, hours=k % 8),
                         text="the outage again, outage everywhere") for k in range(40)]
    store.add(Records(messages=messages))
    assert store.buzz("term", "day").to_arrow().num_rows
    s = summary.Section("voice", "v")
    voice._buzz_blocks(store, s)
    rows = next(payload for kind, payload in s.blocks if kind == "table")["rows"]
    outage = next(r for r in rows if r["key"] == "outage")
    assert outage["from"] == outage["to"] == outage["peak"] == "2024-02-20"
    assert voice._period_end(datetime(2024, 1, 29), "week") == datetime(2024, 2, 5)
    assert voice._period_end(datetime(2024, 12, 1), "month") == datetime(2025, 1, 1)


def test_provenance_summarises_many_imports_by_format(store, tmp_path):
    for i in range(12):
        (tmp_path / f"f{i}.csv").write_text(
            f"id,author,text,created_at\n{i},ann,hi {i},2024-01-0{1 + i % 9}\n")
    store.ingest([str(p) for p in sorted(tmp_path.glob("f*.csv"))], format="csv")
    section = summary.provenance(store)
    tables = [payload for kind, payload in section.blocks if kind == "table"]
    assert tables[0]["rows"] == [{"format": "csv", "files": 12, "read": 12, "stored": 12,
                                  "duplicate": 0, "quarantined": 0}]
    assert tables[1]["fold"] == 10 and len(tables[1]["rows"]) == 12
    assert tables[1]["rows"][0]["file@title"].endswith(".csv")
