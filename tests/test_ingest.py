"""Ingest-level behaviour: folders, damaged compressed files, parallel mapping, implausible times,
reader options, skipped files, progress events and streams."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import zstandard

import whuffie
from tests.conftest import ingest_counts, scalar
from whuffie.sources.base import OptionError
from whuffie.store import ingest as ingest_mod


def _replay_reddit(shared, path, copies: int) -> int:
    """Write ``copies`` replicas of RC_2005-12 with distinct ids; return the line count."""
    lines = (shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson").read_bytes()
    lines = lines.splitlines()
    with open(path, "wb") as fh:
        for r in range(copies):
            for line in lines:
                fh.write(line.replace(b'"id":"', b'"id":"r%d' % r)
                         .replace(b'"parent_id":"t1_', b'"parent_id":"t1_r%d' % r) + b"\n")
    return len(lines) * copies


@pytest.mark.slow
def test_parallel_mapping_stores_exactly_what_serial_mapping_stores(shared, tmp_path, monkeypatch):
    path = tmp_path / "replayed.ndjson"
    n = _replay_reddit(shared, path, 40)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "CHUNK_BYTES", 2 * 2**20)
    monkeypatch.setenv("WHUFFIE_WORKERS", "2")
    calls = []
    real = ingest_mod._parallel_tables
    monkeypatch.setattr(ingest_mod, "_parallel_tables",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    with whuffie.open(tmp_path / "p.duckdb") as par:
        par_counts = ingest_counts(par, [path])
        par_rows = par.sql("SELECT * EXCLUDE (import_id) FROM messages ORDER BY message_id")
        par_inter = par.sql("SELECT * FROM interactions ORDER BY message_id, kind, target")
    assert calls, "the parallel path was not taken"
    monkeypatch.setenv("WHUFFIE_WORKERS", "1")
    with whuffie.open(tmp_path / "s.duckdb") as ser:
        ser_counts = ingest_counts(ser, [path])
        ser_rows = ser.sql("SELECT * EXCLUDE (import_id) FROM messages ORDER BY message_id")
        ser_inter = ser.sql("SELECT * FROM interactions ORDER BY message_id, kind, target")
    assert par_counts == ser_counts == (n, n, 0, 0)
    assert par_rows == ser_rows
    assert par_inter == ser_inter


def test_a_truncated_gzip_keeps_what_was_read_and_quarantines_the_rest(shared, tmp_path, store):
    src = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    data = gzip.compress(src.read_bytes())
    path = tmp_path / "RC_cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    read, stored, duplicate, bad = ingest_counts(store, [path])
    assert 0 < stored < 1075
    assert (bad, duplicate, read) == (1, 0, stored + 1)
    row = store.quarantine()[0]
    assert "the rest of the file cannot be read" in row["reason"]
    assert scalar(store, "SELECT status FROM imports") == "complete"


def test_folders_are_walked_and_unknown_files_skipped(shared, tmp_path, store):
    folder = tmp_path / "exports"
    (folder / "nested").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    src = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    shutil.copy(src, folder / "nested" / "a.ndjson")
    shutil.copy(src, folder / ".hidden" / "b.ndjson")
    (folder / "notes.txt").write_text("just some notes\n")
    report = store.ingest([folder])
    assert [f.format for f in report.files] == ["reddit"]
    assert report.skipped == [(str(folder / "notes.txt"), "format not recognised")]
    assert report.total("stored") == 1075


def test_overlapping_exports_store_each_record_once(shared, tmp_path, store):
    src = (shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson").read_bytes()
    lines = src.splitlines(keepends=True)
    (tmp_path / "first.ndjson").write_bytes(b"".join(lines[:700]))
    (tmp_path / "second.ndjson").write_bytes(b"".join(lines[500:]))
    assert ingest_counts(store, [tmp_path / "first.ndjson"]) == (700, 700, 0, 0)
    assert ingest_counts(store, [tmp_path / "second.ndjson"]) == (575, 375, 200, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 1075


@pytest.mark.parametrize("strict", [False, True])
def test_damaged_zstd_header(tmp_path, store, strict):
    path = tmp_path / "bad.zst"
    path.write_bytes(b"(\xb5/\xfd" + b"\xff" * 40)  # a zstd magic number, then nonsense
    if strict:
        with pytest.raises(zstandard.ZstdError):
            store.ingest([path], format="reddit", strict=True)
    else:
        assert ingest_counts(store, [path], format="reddit") == (1, 0, 0, 1)


# -- implausible times ----------------------------------------------------------------------------

def _sample_with_times(shared, path, header: str, times: dict[str, str]) -> None:
    """The toolkit's sample_data.csv (100 rows) under another header, some timestamps replaced."""
    import csv

    src = shared / "formats" / "qut_coordination_csv" / "sample_data.csv"
    rows = list(csv.reader(src.open(newline="", encoding="utf-8")))
    rows[0] = header.split(",")
    for row in rows[1:]:
        row[6] = times.get(row[0], row[6])
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def test_placeholder_times_are_kept_without_a_time_and_flagged(shared, tmp_path, store):
    # A CSV export named by its columns (not the toolkit's layout): times are absolute there.
    path = tmp_path / "export" / "posts.csv"
    path.parent.mkdir()
    _sample_with_times(shared, path, "id,user_id,username,repost_id,reply_id,text,created_at,urls",
                       {"2": "0", "3": "-86400", "4": "4102444800"})
    report = store.ingest([path])
    assert ingest_counts(store, [path]) == (100, 0, 100, 0)  # nothing new the second time
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined, f.flagged, f.relative_times) == (100, 100, 0, 3, False)
    rows = store.sql("SELECT message_id, created_at, extra->>'original_created_at' AS original "
                     "FROM messages WHERE created_at IS NULL ORDER BY message_id")
    assert [(r["message_id"], r["original"]) for r in rows] == [
        ("export:2", "1970-01-01T00:00:00"), ("export:3", "1969-12-31T00:00:00"),
        ("export:4", "2100-01-01T00:00:00")]
    # The other 97 keep the sample's own times (1606451170.518101 .. 1606451170.52075).
    assert scalar(store, "SELECT min(created_at) FROM messages").isoformat() == "2020-11-27T04:26:10.518101"
    flagged = store.quarantine()
    assert [(q["line"], q["format"], q["severity"]) for q in flagged] == [
        (3, "csv", "flag"), (4, "csv", "flag"), (5, "csv", "flag")]
    # The store's status tells records left out from records kept without a time.
    assert (store.status()["quarantined"], store.status()["flagged"]) == (0, 3)
    assert flagged[0]["reason"] == ("time 1970-01-01T00:00:00 of message export:2 is implausible "
                                    "(before 1971: a placeholder?): kept without a time")
    assert flagged[2]["reason"] == ("time 2100-01-01T00:00:00 of message export:4 is implausible "
                                    "(more than a day after the import started: a placeholder?): "
                                    "kept without a time")
    # Flagged records are stored, so the import row does not count them as quarantined.
    assert store.sql("SELECT read, stored, quarantined FROM imports WHERE import_id = 1") == [
        {"read": 100, "stored": 100, "quarantined": 0}]


def test_toolkit_relative_seconds_are_kept_and_noted_once(shared, store):
    # coretweet_test_input.csv: timestamps 0, 59, 60, ... 300, "seconds on any consistent offset".
    path = shared / "formats" / "qut_coordination_csv" / "coretweet_test_input.csv"
    report = store.ingest([path])
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined, f.flagged, f.relative_times) == (15, 15, 0, 0, True)
    assert scalar(store, "SELECT count(*) FROM messages WHERE created_at IS NULL") == 0
    assert scalar(store, "SELECT max(created_at) - min(created_at) FROM messages").total_seconds() == 300
    notes = store.quarantine()
    assert [(q["line"], q["reason"].split(" (")[0]) for q in notes] == [(2, "times are relative")]


def test_toolkit_times_read_as_absolute_on_request(shared, store):
    path = shared / "formats" / "qut_coordination_csv" / "coretweet_test_input.csv"
    report = store.ingest([path], options={"times": "absolute"})
    assert (report.total("flagged"), report.files[0].relative_times) == (15, False)
    assert scalar(store, "SELECT count(*) FROM messages WHERE created_at IS NULL") == 15


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_placeholder_times_in_a_dump_serial_and_parallel(shared, tmp_path, monkeypatch, workers):
    # RC_2005-12 with three created_utc replaced: epoch 0, -1 and 9999-12-31T23:59:59Z (a value
    # the time parser refused before: the comment was lost to the quarantine).
    lines = (shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson").read_bytes()
    lines = lines.splitlines(keepends=True)
    for n, value in ((10, b"0"), (500, b"-1"), (1000, b'"9999-12-31T23:59:59Z"')):
        lines[n - 1] = re.sub(rb'"created_utc":\s*"?\d+"?', b'"created_utc":' + value, lines[n - 1])
    path = tmp_path / "RC_placeholders.ndjson"
    path.write_bytes(b"".join(lines))
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "CHUNK_BYTES", 100_000)  # 7 ranges: flags' lines are shifted
    monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 0)
    monkeypatch.setenv("WHUFFIE_WORKERS", workers)
    with whuffie.open(tmp_path / "s.duckdb") as store:
        report = store.ingest([path])
        assert (report.total("read"), report.total("stored"), report.total("flagged")) == (1075, 1075, 3)
        assert [(q["line"], q["reason"].split(" is ")[0]) for q in store.quarantine()] == [
            (10, "time 1970-01-01T00:00:00 of message reddit:" + _id(lines[9])),
            (500, "time 1969-12-31T23:59:59 of message reddit:" + _id(lines[499])),
            (1000, "time 9999-12-31T23:59:59+00:00 of message reddit:" + _id(lines[999]))]
        assert scalar(store, "SELECT min(created_at) FROM messages").year == 2005
        assert scalar(store, "SELECT max(created_at) FROM messages").year == 2005


def _id(line: bytes) -> str:
    return "t1_" + json.loads(line)["id"]


# -- reader options -------------------------------------------------------------------------------

def test_a_misspelled_option_is_refused_before_anything_is_stored(shared, store):
    path = shared / "formats" / "qut_coordination_csv" / "coretweet_test_input.csv"
    with pytest.raises(OptionError) as err:
        store.ingest([path], options={"platfrom": "qut"})
    assert str(err.value) == (
        "option 'platfrom' is taken by no reader of these files (csv: columns, delimiter, map, "
        "platform, times); did you mean 'platform'?")
    assert scalar(store, "SELECT count(*) FROM imports") == 0
    with pytest.raises(OptionError, match=r"reader 'csv' has no option 'platfrom' .*did you mean"):
        store.ingest([path], format="csv", options={"platfrom": "qut"})


def test_an_option_of_one_reader_of_a_mixed_folder_goes_to_that_reader(shared, tmp_path, store):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(shared / "formats" / "qut_coordination_csv" / "coretweet_test_input.csv", folder)
    shutil.copy(shared / "mailinglist_3gpp_mbox" / "3GPP_TSG_SA_WG4_EVS.mbox", folder)
    report = store.ingest([folder], options={"platform": "qut"})
    assert sorted(f.format for f in report.files) == ["csv", "mbox"]
    assert dict(store.con.execute("SELECT platform, count(*) FROM messages WHERE NOT is_stub "
                                  "GROUP BY platform").fetchall())["qut"] == 15


# -- skipped files --------------------------------------------------------------------------------

def test_skipped_files_say_why(shared, tmp_path, store):
    folder = tmp_path / "exports"
    folder.mkdir()
    qut = shared / "formats" / "qut_coordination_csv"
    for name in ("coretweet_test_input.csv", "SOURCE.md", "README.upstream.md"):
        shutil.copy(qut / name, folder)
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "blank.csv").write_bytes(b"\r\n \n")
    (folder / "cut.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 20)
    report = store.ingest([folder])
    assert [f.format for f in report.files] == ["csv"]
    assert sorted((Path(p).name, r) for p, r in report.skipped) == [
        ("README.upstream.md", "format not recognised"), ("SOURCE.md", "format not recognised"),
        ("blank.csv", "empty file"), ("cut.jsonl.gz", "compressed data empty or damaged"),
        ("empty.jsonl", "empty file")]
    assert report.skipped_by_reason() == {"format not recognised": 2, "empty file": 2,
                                          "compressed data empty or damaged": 1}


@pytest.mark.slow
def test_every_real_sample_folder_is_planned_with_its_skipped_files(shared):
    # The folder a new user points at: 1,760 files read, 60 skipped (52 notes, READMEs, labels and
    # plain texts; 8 companions: RumourEval's 7 label and structure files, Twitter15's label.txt).
    work, skipped = ingest_mod.plan([shared])
    report = ingest_mod.IngestReport(skipped=skipped)
    assert (len(work), len(skipped)) == (1760, 60)
    assert report.skipped_by_reason() == {"format not recognised": 52,
                                          "read together with its companion file": 8}


# -- progress events ------------------------------------------------------------------------------

class Events:
    """A progress object that keeps every event."""

    def __init__(self):
        self.events = []

    def __getattr__(self, name):
        if name in ("begin", "start", "advance", "finish", "skip"):
            return lambda *args: self.events.append((name, *args))
        raise AttributeError(name)


def _telegram_and_reddit(shared, tmp_path) -> Path:
    folder = tmp_path / "mixed"
    shutil.copytree(shared / "formats" / "telegram_telethon_jsonl", folder)
    shutil.copy(shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.zst", folder)
    return folder


@pytest.mark.slow
def test_progress_events_count_bytes_on_disk_and_records_per_file(shared, tmp_path, store, monkeypatch):
    folder = _telegram_and_reddit(shared, tmp_path)
    # Files up to 100 kB are grouped (3 telegram files), the others are imported one by one
    # (2 telegram files and the zstd-compressed reddit dump, 143,122 bytes for 671,841 decompressed).
    monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 100_000)
    monkeypatch.setenv("WHUFFIE_WORKERS", "1")
    progress = Events()
    report = store.ingest([folder], batch_size=200, progress=progress)
    events = progress.events
    sizes = {str(p): p.stat().st_size for p in folder.iterdir() if p.name != "SOURCE.md"}
    assert events[0] == ("skip", folder / "SOURCE.md", "format not recognised")
    assert events[1] == ("begin", 6, sum(sizes.values()))
    results = {r.path: r for r in report.files}
    assert (len(results), sum(r.read for r in results.values())) == (6, report.total("read"))
    current = None
    seen: dict[str, list[tuple[int, int]]] = {}
    for name, *args in events[2:]:
        if name == "start":
            current = str(args[0])
            assert args[1] == sizes[current]
            seen[current] = [(0, 0)]
        elif name == "advance":
            done, read = args
            previous = seen[current][-1]
            assert previous[0] <= done <= sizes[current] and previous[1] <= read, (current, args)
            seen[current].append((done, read))
        else:
            result = args[0]
            assert result.size == sizes[result.path]
            # Every file is read to its end before it is committed, and the records read count
            # the quarantined ones too.
            assert seen[result.path][-1] == (sizes[result.path], result.read)
    assert set(seen) == set(sizes) == set(results)
    # The reddit dump advances in several steps, not in one jump from 0 to its size.
    assert len(seen[str(folder / "RC_2005-12.zst")]) > 4
    assert results[str(folder / "RC_2005-12.zst")].read == 1075


@pytest.mark.slow
@pytest.mark.parametrize("many", [False, True])
def test_rich_progress_ends_at_the_true_totals(shared, tmp_path, store, monkeypatch, many):
    import io

    from rich.console import Console
    from rich.progress import Progress

    from whuffie.cli.ingest import RichProgress

    folder = _telegram_and_reddit(shared, tmp_path)
    # Five files up to 150 kB are committed together, after the last of them started.
    monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 150_000)
    monkeypatch.setattr(RichProgress, "MANY", 3 if many else 12)
    overshoots = []

    class Checked(Progress):
        def update(self, task_id, **kw):
            super().update(task_id, **kw)
            task = self._tasks[task_id]
            if task.total is not None and task.completed > task.total:
                overshoots.append((task.description, task.completed, task.total))

    with Checked(console=Console(file=io.StringIO())) as bars:
        report = store.ingest([folder], progress=RichProgress(bars))
    assert not overshoots
    tasks = bars.tasks
    if many:
        assert len(tasks) == 1
        assert tasks[0].description == "6/6 files"
        assert (tasks[0].completed, tasks[0].fields["records"]) == (tasks[0].total, report.total("read"))
    else:
        by_name = {t.description.split(" [")[0]: t for t in tasks}
        for f in report.files:
            task = by_name[Path(f.path).name]
            assert (task.completed, task.total, task.fields["records"]) == (f.size, f.size, f.read)


# -- standard input and streams -------------------------------------------------------------------

@pytest.mark.slow
def test_a_stream_is_imported_with_its_hash_and_size(shared, tmp_path, monkeypatch):
    data = (shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.zst").read_bytes()
    # Parallel mapping of a stream (its size is unknown, so it is split as it is read).
    monkeypatch.setattr(ingest_mod, "CHUNK_BYTES", 200_000)
    monkeypatch.setenv("WHUFFIE_WORKERS", "2")
    calls = []
    real = ingest_mod._parallel_tables
    monkeypatch.setattr(ingest_mod, "_parallel_tables",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    with whuffie.open(tmp_path / "s.duckdb") as store:
        report = store.ingest([io.BytesIO(data)])
        assert calls
        f = report.files[0]
        assert (f.path, f.format, f.read, f.stored, f.size) == ("<stream>", "reddit", 1075, 1075, len(data))
        row = store.sql("SELECT path, sha256, size, status FROM imports")[0]
        assert row == {"path": "<stream>", "sha256": hashlib.sha256(data).hexdigest(),
                       "size": len(data), "status": "complete"}


@pytest.mark.slow
def test_a_real_placeholder_account_creation_time_is_flagged(shared, store):
    # A Bluesky account bridged from the fediverse (Bridgy Fed) declares its creation as
    # 0001-01-01T00:00:00.000Z, Go's zero time; it authors three of the 100 posts of this search.
    path = shared / "formats" / "bluesky_atproto_json" / "atrrr_recorded" / "searchPosts_q-hash-rstats.json"
    report = store.ingest([path])
    assert (report.total("read"), report.total("quarantined"), report.total("flagged")) == (100, 0, 3)
    actor = "bluesky:did:plc:gd6jjptb35wro6fg4x6axg55"
    assert [q["line"] for q in store.quarantine()] == [75, 80, 85]
    assert store.quarantine()[0]["reason"] == (
        f"time 0001-01-01T00:00:00+00:00 of actor {actor} is implausible (before 1971: a "
        "placeholder?): kept without a time")
    assert store.sql("SELECT created_at, extra->>'original_created_at' AS original FROM actors "
                     "WHERE actor_id = ?", [actor]) == [
        {"created_at": None, "original": "0001-01-01T00:00:00+00:00"}]
