"""Import integrity: re-imports store nothing twice, a full disk is told the truth, workers die
with their parent, and a killed import re-run equals a clean one."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import whuffie
from whuffie.errors import WhuffieError
from whuffie.store import ingest as ingest_mod

from .conftest import DATA, SHARED

#: Tables whose rows are records (not bookkeeping: imports, meta, runs).
RECORD_TABLES = ("actors", "messages", "mentions", "links", "tags", "recipients", "ratings", "ties",
                 "quarantine")
#: The natural key of every record table: no two rows may share one.
NATURAL_KEYS = {
    "actors": ("actor_id",),
    "messages": ("message_id",),
    "ratings": ("rating_id",),
    "ties": ("tie_id",),
    "quarantine": ("quarantine_id",),
    "mentions": ("message_id", "actor_id"),
    "links": ("message_id", "url"),
    "tags": ("message_id", "tag"),
    "recipients": ("message_id", "actor_id", "role"),
}

FORMATS = SHARED / "formats"
#: One real sample per reader (the project's fixtures for readers without one), with the format
#: when it cannot be sniffed.
SAMPLES = [
    ("twarc2-csv", FORMATS / "twarc2_v2_jsonl" / "csv", "auto"),
    ("twarc2", FORMATS / "twarc2_v2_jsonl", "auto"),
    ("twitter-v1", FORMATS / "twitter_v1_1_json", "auto"),
    ("bluesky", FORMATS / "bluesky_atproto_json", "auto"),
    ("discourse", FORMATS / "discourse_topic_json", "auto"),
    ("mastodon", FORMATS / "mastodon_api_json", "auto"),
    ("csv", FORMATS / "qut_coordination_csv", "auto"),
    ("reddit", FORMATS / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson", "auto"),
    ("feed", FORMATS / "rss_atom_blogs", "auto"),
    ("telegram", FORMATS / "telegram_telethon_jsonl", "auto"),
    ("mbox", SHARED / "mailinglist_3gpp_mbox", "auto"),
    ("stackexchange", SHARED / "stackexchange_conlang_meta", "auto"),
    ("edges", SHARED / "bitcoin_otc" / "soc-sign-bitcoinotc.csv", "auto"),
    ("rumoureval", SHARED / "rumoureval2017", "auto"),
    ("4cat", DATA / "fourcat", "auto"),
    ("zeeschuimer", DATA / "zeeschuimer", "auto"),
    ("jsonl", DATA / "tabular" / "messages.jsonl", "jsonl"),
    ("telegram-export", DATA / "telegram", "auto"),
    ("reddit-api", DATA / "reddit", "auto"),
    ("discourse-fixture", DATA / "discourse", "auto"),
]


def table_counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in RECORD_TABLES}


def duplicate_keys(con) -> dict[str, int]:
    """Rows beyond the first of each natural key, per table."""
    out = {}
    for table, key in NATURAL_KEYS.items():
        cols = ", ".join(key)
        out[table] = con.execute(
            f"SELECT count(*) - count(DISTINCT ({cols})) FROM {table}").fetchall()[0][0]
    return out


def _cascade_sample(tmp_path: Path) -> Path:
    """Three Twitter15 propagation trees (the whole folder takes minutes)."""
    tree = SHARED / "twitter15" / "twitter15" / "tree"
    if not tree.is_dir():
        pytest.skip(f"{tree} is absent")
    folder = tmp_path / "tree"
    folder.mkdir()
    for name in sorted(os.listdir(tree))[:3]:
        shutil.copy(tree / name, folder / name)
    return folder


@pytest.mark.parametrize(("name", "path", "fmt"),
                         [*SAMPLES, ("cascade-tree", None, "cascade-tree")],
                         ids=[s[0] for s in SAMPLES] + ["cascade-tree"])
def test_a_second_import_stores_nothing_in_any_table(name, path, fmt, tmp_path):
    if path is None:
        path = _cascade_sample(tmp_path)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with whuffie.open(tmp_path / "s.duckdb") as store:
        first = store.ingest([path], format=fmt)
        assert first.total("stored") > 0
        before = table_counts(store.con)
        second = store.ingest([path], format=fmt)
        after = table_counts(store.con)
        assert after == before
        assert second.total("stored") == 0
        assert second.total("read") == first.total("read")
        assert duplicate_keys(store.con) == dict.fromkeys(NATURAL_KEYS, 0)


def test_children_of_a_stub_are_stored_once_whatever_the_import(tmp_path):
    """The twarc-csv sample: retweeted originals stay stubs, and their tags, links and mention
    were stored again by every import (237, 59 and 1 rows each time)."""
    path = FORMATS / "twarc2_v2_jsonl" / "csv" / "2sets.twarc-csv-0.7.2.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.ingest([path])
        stubs = store.con.execute("SELECT count(*) FROM messages WHERE is_stub").fetchall()[0][0]
        assert stubs > 0
        once = table_counts(store.con)
        for _ in range(2):
            store.ingest([path])
        assert table_counts(store.con) == once
        assert (once["tags"], once["links"], once["mentions"]) == (446, 105, 155)


# -- a full disk ------------------------------------------------------------------------------

REDDIT = FORMATS / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
NO_SPACE = 'IO Error: Could not write file "{}.wal": No space left on device'


class _FullAtCommit:
    """A connection whose ``n``-th COMMIT fails as DuckDB's does on a full disk: the
    transaction is rolled back and the error raised."""

    def __init__(self, con, n: int, path: Path) -> None:
        self._con, self._left, self._path = con, n, path

    def execute(self, sql, *args, **kwargs):
        if sql.strip().upper() == "COMMIT":
            self._left -= 1
            if self._left == 0:
                self._con.execute("ROLLBACK")
                raise duckdb.TransactionException(
                    "TransactionContext Error: Failed to commit: " + NO_SPACE.format(self._path))
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize("where", ["write", "commit"])
def test_a_full_disk_is_told_and_the_import_row_counts_what_is_stored(where, tmp_path, monkeypatch):
    """The third of six batches fails on a full disk, while it is written or at its COMMIT."""
    if not REDDIT.exists():
        pytest.skip(f"{REDDIT} is absent")
    with whuffie.open(tmp_path / "clean.duckdb") as clean:
        clean_stored = clean.ingest([REDDIT]).total("stored")
        clean_counts = table_counts(clean.con)
    db = tmp_path / "s.duckdb"
    real_write = ingest_mod.write_tables
    calls = []

    def write_then_fill(con, tables, import_id):
        calls.append(import_id)
        out = real_write(con, tables, import_id)
        if len(calls) == 3:
            raise duckdb.IOException(NO_SPACE.format(db))
        return out

    # Files this small are written in one transaction with other small files: one per batch here.
    monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 0)
    with whuffie.open(db) as store:
        if where == "write":
            monkeypatch.setattr(ingest_mod, "write_tables", write_then_fill)
        else:
            store.con = _FullAtCommit(store.con, 3, db)
        with pytest.raises(WhuffieError) as info:
            store.ingest([REDDIT], batch_size=200)
        message = str(info.value)
        if where == "commit":
            store.con = store.con._con
        monkeypatch.undo()
        status, stored, duplicate, read = store.con.execute(
            "SELECT status, stored, duplicate, read FROM imports").fetchall()[0]
        messages = store.con.execute("SELECT count(*) FROM messages WHERE NOT is_stub").fetchall()[0][0]
        # Two batches were committed: the import row counts what they hold, not the third.
        assert status == "failed"
        assert 0 < stored == messages < clean_stored
        assert read == stored + duplicate
        assert message.startswith("disk full") and str(db) in message
        assert f"with {stored:,} records stored" in message
        # Room again: the same import completes, and the records add up to a clean import's.
        monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 0)
        store.ingest([REDDIT])
        assert store.con.execute("SELECT sum(stored) FROM imports").fetchall()[0][0] == clean_stored
        assert table_counts(store.con) == clean_counts
        assert duplicate_keys(store.con) == dict.fromkeys(NATURAL_KEYS, 0)


def _reddit_copies(path: Path, copies: int) -> Path:
    """The real Reddit sample repeated ``copies`` times, each copy with new comment ids."""
    lines = REDDIT.read_bytes().splitlines()
    with open(path, "wb") as out:
        for k in range(copies):
            for line in lines:
                record = json.loads(line)
                record["id"] = f"{record['id']}x{k}"
                out.write(json.dumps(record).encode() + b"\n")
    return path


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root and mount")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.mark.slow
def test_a_full_disk_at_the_commit_of_small_files_stores_none_of_them(tmp_path):
    """Small files are committed together: a full disk at that COMMIT leaves no import row."""
    folder = FORMATS / "twarc2_v2_jsonl"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    db = tmp_path / "s.duckdb"
    with whuffie.open(db) as store:
        store.con = _FullAtCommit(store.con, 1, db)
        with pytest.raises(WhuffieError, match=r"^disk full: the store .* of .* and \d+ more files stopped "
                                               r"with 0 records stored"):
            store.ingest([folder])
        store.con = store.con._con
        assert table_counts(store.con) == dict.fromkeys(RECORD_TABLES, 0)
        assert store.con.execute("SELECT count(*) FROM imports").fetchall()[0][0] == 0
        assert store.ingest([folder]).total("stored") > 0


@pytest.mark.slow
def test_a_really_full_disk_keeps_the_store_and_its_import_rows_true(tmp_path):
    """A store on a 6 MiB tmpfs fills up during an import of 21,500 comments."""
    if not REDDIT.exists():
        pytest.skip(f"{REDDIT} is absent")
    source = _reddit_copies(tmp_path / "comments.ndjson", 20)
    small = tmp_path / "small"
    _mount_tmpfs(small, "6m")
    try:
        db = small / "s.duckdb"
        with whuffie.open(db) as store, pytest.raises(WhuffieError) as info:
            store.ingest([source], batch_size=2000)
        message = str(info.value)
        assert message.startswith("disk full") and str(db) in message
        subprocess.run(["mount", "-o", "remount,size=256m", str(small)], check=True)
        with whuffie.open(db) as store:
            stored, = store.con.execute("SELECT sum(stored) FROM imports").fetchall()[0]
            messages = store.con.execute("SELECT count(*) FROM messages").fetchall()[0][0]
            assert 0 < stored == messages < 21_500
            store.ingest([source], batch_size=2000)
            assert store.con.execute("SELECT sum(stored) FROM imports").fetchall()[0][0] == 21_500
            assert store.con.execute("SELECT count(*) FROM messages").fetchall()[0][0] == 21_500
            assert duplicate_keys(store.con) == dict.fromkeys(NATURAL_KEYS, 0)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


# -- workers die with their parent ------------------------------------------------------------

def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc: psutil is not a dependency)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended; only its parent's wait is missing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _survivors(workers: list[int], seconds: float) -> list[int]:
    """The processes still running ``seconds`` later (killed then, so that none is left behind)."""
    deadline = time.monotonic() + seconds
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    return left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the workers")
def test_mapping_workers_die_when_the_import_is_killed(tmp_path):
    if not REDDIT.exists():
        pytest.skip(f"{REDDIT} is absent")
    copies = ingest_mod.PARALLEL_MIN_BYTES // REDDIT.stat().st_size + 2
    source = _reddit_copies(tmp_path / "comments.ndjson", copies)
    assert source.stat().st_size > ingest_mod.PARALLEL_MIN_BYTES
    script = "import sys, whuffie; whuffie.open(sys.argv[1]).ingest([sys.argv[2]])"
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "s.duckdb"), str(source)],
                            env={**os.environ, "WHUFFIE_WORKERS": "2"})
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert workers, "the import started no worker"
    finally:
        proc.kill()
        proc.wait()
    assert _survivors(workers, 5) == []


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the workers")
def test_voice_workers_die_at_once_when_the_analysis_is_killed(tmp_path):
    # The voice step scores texts in a pool of spawned workers. Its parent killed by kill -9,
    # they scored their batch to the end (with a transformer model, minutes), then left; now
    # the kernel ends them with their parent.
    if not REDDIT.exists():
        pytest.skip(f"{REDDIT} is absent")
    db = tmp_path / "s.duckdb"
    with whuffie.open(db) as store:
        store.ingest([_reddit_copies(tmp_path / "comments.ndjson", 80)])
    # Three batches of 30,000 messages (76,400 have a text): some seconds of scoring each.
    script = ("import sys, whuffie; from whuffie.voice.analysis import VoiceParams; "
              "whuffie.open(sys.argv[1]).voice(VoiceParams(workers=2, batch=30_000))")
    proc = subprocess.Popen([sys.executable, "-c", script, str(db)])
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        # Wait until the workers are scoring: past the second of CPU their start takes.
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) >= 2 and sorted(_cpu_seconds(w) for w in workers)[-2] > 2.5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the analysis ended before its workers were seen scoring"
    finally:
        proc.kill()
        proc.wait()
    assert _survivors(workers, 1) == []


# -- killed at random moments -----------------------------------------------------------------

def _whuffie_ingest(db: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "whuffie", "ingest", str(folder), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_imports_killed_at_random_moments_then_rerun_equal_a_clean_import(tmp_path):
    """Small files are committed in groups and a larger file in its own transactions: the
    sample folder is the twarc exports (CSV, with stubs, first; JSON lines last) around a Reddit
    dump of 4.6 MB, so an import commits three times."""
    twarc = FORMATS / "twarc2_v2_jsonl"
    if not twarc.is_dir() or not REDDIT.exists():
        pytest.skip(f"{twarc} or {REDDIT} is absent")
    folder = tmp_path / "sample"
    shutil.copytree(twarc / "csv", folder / "a_csv")
    _reddit_copies(folder / "b_comments.ndjson", 7)
    assert (folder / "b_comments.ndjson").stat().st_size > ingest_mod.SMALL_FILE_BYTES
    shutil.copytree(twarc, folder / "c_jsonl", ignore=shutil.ignore_patterns("csv"))
    clean_db = tmp_path / "clean.duckdb"
    started = time.monotonic()
    clean = _whuffie_ingest(clean_db, folder)
    assert clean.wait() == 0, clean.stderr.read().decode()
    duration = time.monotonic() - started
    db = tmp_path / "killed.duckdb"
    rng = random.Random(20261207)
    for moment in sorted(rng.uniform(0.1, duration) for _ in range(5)):
        proc = _whuffie_ingest(db, folder)
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    rerun = _whuffie_ingest(db, folder)
    assert rerun.wait() == 0, rerun.stderr.read().decode()
    with duckdb.connect(str(clean_db), read_only=True) as a, duckdb.connect(str(db), read_only=True) as b:
        assert table_counts(b) == table_counts(a)
        assert duplicate_keys(b) == dict.fromkeys(NATURAL_KEYS, 0)
        # The import rows count what each import committed: together, the clean import's.
        total = "SELECT sum(stored) FROM imports"
        assert b.execute(total).fetchall()[0][0] == a.execute(total).fetchall()[0][0]
        assert b.execute("SELECT count(*) FROM imports WHERE status = 'running'").fetchall()[0][0] == 0
