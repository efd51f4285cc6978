"""What Whuffie writes when the data or the output paths are hostile.

* CSV: a value that a spreadsheet runs as a formula (also after white space or a carriage return)
  is neutralised, and a field holding a bare ``\\r`` is quoted, so every reader sees one row per
  record.
* Terminal: escape sequences and bidi overrides in handles never reach the terminal.
* Output paths: a device, a named pipe or a folder where a file is expected is refused before
  anything is written; a read-only or full file system is one ``Error:`` sentence.
* Damaged stores: one ``Error:`` sentence naming the store, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import whuffie
from tests.conftest import cli

#: Sets the window title (OSC 0, ended by BEL) and clears the screen (CSI 2J).
EVIL = "\x1b]0;pwned\x07evil\x1b[2J"
HANDLES = {"u1": EVIL, "u2": "=1+1", "u3": "\r=2+2", "u4": "@SUM(A1)\u202e", "u5": " -3+3", "u6": "carol",
           "u7": "dave"}
#: Display names keep their leading white space where handles lose it.
NAMES = {"u1": EVIL, "u2": "\r=HYPERLINK(\"http://x\")", "u3": "\r\n@SUM(A1)", "u4": "\t+1", "u5": "a\rb"}
GOOD = "I love this, great wonderful product, thanks so much"
FORMULA_STARTS = ("=", "+", "-", "@")


def _hostile_rows() -> list[dict]:
    """Posts by every user, each replied to and reshared by every other (cascades, voice, a graph)."""
    rows: list[dict] = []

    def add(uid: str, text: str, **more) -> str:
        n = len(rows) + 1
        rows.append({"message_id": f"m{n}", "user_id": uid, "username": HANDLES[uid], "name": NAMES.get(uid),
                     "message": text,
                     "timestamp": f"2024-05-01T{10 + n // 60:02d}:{n % 60:02d}:00Z", **more})
        return f"m{n}"

    for _ in range(3):
        for u in HANDLES:
            root = add(u, GOOD + ' \r=HYPERLINK("http://x")' if u == "u1" else GOOD)
            for v in HANDLES:
                if v != u:
                    add(v, "reply " + GOOD, reply_id=root, reply_user_id=u)
                    add(v, "", repost_id=root, repost_user_id=u)
    return rows


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    """A store ingested from a JSON-lines table whose handles hold escapes, formulas and a bare CR."""
    folder = tmp_path_factory.mktemp("hostile") / "h3"  # the folder's name is the platform of the ids
    folder.mkdir()
    source = folder / "hostile.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in _hostile_rows()), encoding="utf-8")
    path = folder / "hostile.duckdb"
    with whuffie.open(path) as s:
        s.ingest([str(source)])
        assert s.sql("SELECT count(*) AS n FROM actors")[0]["n"] == len(HANDLES)
    return path


@pytest.fixture
def hostile_copy(hostile_db, tmp_path) -> Path:
    path = tmp_path / "hostile.duckdb"
    shutil.copy(hostile_db, path)
    return path


@pytest.fixture
def sample_copy(sample_db, tmp_path) -> Path:
    """A copy of the sample store: the commands save their runs into it."""
    path = tmp_path / "sample.duckdb"
    shutil.copy(sample_db, path)
    return path


# -- 1. CSV ------------------------------------------------------------------------------


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _check_csv(text: str, records: int, path: Path) -> list[dict]:
    """Parse CSV text with Python's csv, pandas and DuckDB: one row per record, no live formula."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == records
    for row in rows:
        for cell in row.values():
            # Numbers are computed, not data (a negative score is no formula).
            assert _is_number(cell) or not cell.strip().startswith(FORMULA_STARTS), row
    path.write_text(text, encoding="utf-8", newline="")
    assert len(pd.read_csv(path, dtype=str, keep_default_na=False)) == records
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', header=true, all_varchar=true)"
                      ).fetchall()[0][0] == records
    return rows


@pytest.mark.parametrize("command", [["influence"], ["efluentials"], ["niches"],
                                     ["advocates"]])
def test_listing_csv_is_one_row_per_record_without_formulas(hostile_copy, tmp_path, command):
    records = json.loads(cli(*command, "--db", hostile_copy, "--json").stdout)
    result = cli(*command, "--db", hostile_copy, "--csv")
    assert result.exit_code == 0, result.output
    rows = _check_csv(result.stdout_bytes.decode(), len(records), tmp_path / "listing.csv")
    if "handle" in rows[0] and len(rows) == len(HANDLES):
        assert {"'=1+1", "'=2+2"} <= {r["handle"] for r in rows}


def test_sql_csv_quotes_a_bare_carriage_return(hostile_copy, tmp_path):
    result = cli("sql", "SELECT actor_id, name FROM actors ORDER BY 1", "--db", hostile_copy, "--csv")
    assert result.exit_code == 0, result.output
    # Result.stdout turns "\r\n" into "\n": the bytes are what was written.
    rows = _check_csv(result.stdout_bytes.decode(), len(HANDLES), tmp_path / "names.csv")
    assert [r["name"] for r in rows[:5]] == ["\x1b]0;pwned\x07evil\x1b[2J", "'\r=HYPERLINK(\"http://x\")",
                                            "'\r\n@SUM(A1)", "'\t+1", "a\rb"]


def test_graph_export_csv_is_one_row_per_record_without_formulas(hostile_copy, tmp_path):
    out = tmp_path / "tables"
    result = cli("export", "--db", hostile_copy, "--out", out, "--format", "csv")
    assert result.exit_code == 0, result.output
    nodes = _check_csv((out / "nodes.csv").read_bytes().decode(), len(HANDLES),
                       tmp_path / "n.csv")
    assert {r["Label"] for r in nodes} >= {"'=2+2", "'=1+1", "'-3+3"}
    assert {r["name"] for r in nodes} >= {"'\r=HYPERLINK(\"http://x\")", "'\r\n@SUM(A1)", "a\rb"}
    edges = (out / "edges.csv").read_bytes().decode()
    streamed = cli("export", "--db", hostile_copy, "--out", "-", "--format", "csv").stdout_bytes.decode()
    assert streamed == edges
    _check_csv(edges, len(HANDLES) * (len(HANDLES) - 1), tmp_path / "e.csv")


def test_why_csv_keeps_a_bare_carriage_return_in_its_row(hostile_copy, tmp_path):
    records = json.loads(cli("why", "h3:u2", "h3:u1", "--db", hostile_copy, "--json").stdout)
    assert records
    result = cli("why", "h3:u2", "h3:u1", "--db", hostile_copy, "--csv")
    _check_csv(result.stdout_bytes.decode(), len(records), tmp_path / "why.csv")


# -- 3. the terminal ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["influence"], ["efluentials"], ["niches"],
                                     ["advocates"], ["seeds", "--k", "2", "--no-compare"],
                                     ["why", "h3:u2", "h3:u1"]])
def test_no_escape_sequence_reaches_the_terminal(hostile_copy, command):
    result = cli(*command, "--db", hostile_copy)
    assert result.exit_code == 0, result.output
    assert "\ufffd" in result.stdout or command[0] in ("seeds", "why")  # what replaced ESC
    for byte in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
        assert byte not in result.stdout, (command, byte)


# -- 2. output paths that are not regular files ------------------------------------------


@pytest.fixture
def fifo(tmp_path) -> Path:
    """A named pipe with a reader draining it, so that a wrong write shows instead of hanging."""
    import threading

    path = tmp_path / "pipe"
    os.mkfifo(path)
    drained = []

    def drain() -> None:
        with open(path, "rb") as f:
            drained.append(f.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    yield path
    if reader.is_alive() and path.exists() and not path.is_file():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # nobody wrote: release the reader
    reader.join(5)
    assert not any(drained), "something was written into the pipe"


@pytest.mark.parametrize("args", [["export", "--format", "graphml"], ["export", "--format", "gexf"],
                                  ["map"], ["report"], ["export", "--format", "csv"],
                                  ["export", "--format", "parquet-store"]])
def test_a_named_pipe_is_refused_before_writing(sample_copy, fifo, args):
    before = os.stat(fifo)
    # The fixture drains the pipe: a write into it fails the test instead of hanging it.
    result = cli(*args, "--db", sample_copy, "--out", fifo)
    assert result.exit_code == 1 and result.stdout == ""
    assert "Error: cannot write" in result.stderr and "named pipe" in result.stderr
    after = os.stat(fifo)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_a_named_pipe_inside_an_output_folder_is_refused(sample_copy, tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    os.mkfifo(folder / "edges.csv")
    result = cli("export", "--db", sample_copy, "--out", folder, "--format", "csv")
    assert result.exit_code == 1
    assert f"Error: cannot write {folder / 'edges.csv'}: it is a named pipe" in result.stderr
    assert not (folder / "nodes.csv").exists()


def test_a_folder_where_a_file_is_expected_is_refused(sample_copy, tmp_path):
    with whuffie.open(sample_copy) as store, pytest.raises(whuffie.WhuffieError,
                                                           match="it is a folder, not a regular file"):
        store.map(tmp_path)
    result = cli("export", "--db", sample_copy, "--out", tmp_path, "--format", "graphml")
    assert result.exit_code == 1 and "is a folder; a graphml export is one file" in result.stderr


@pytest.fixture
def no_writes_under_dev(monkeypatch):
    """Make any attempt to create or replace a file under /dev fail loudly instead of happening."""
    real_open, real_replace = os.open, os.replace

    def guarded_open(path, flags, *args, **kwargs):
        if str(path).startswith("/dev/") and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise AssertionError(f"opened {path} for writing")
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src, dst, *args, **kwargs):
        if str(dst).startswith("/dev/") or str(src).startswith("/dev/"):
            raise AssertionError(f"replaced {dst}")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)


@pytest.mark.parametrize("args", [["export", "--format", "graphml"], ["map"], ["report"],
                                  ["export", "--format", "csv"], ["export", "--format", "parquet-store"]])
def test_dev_null_is_refused_and_left_alone(sample_copy, no_writes_under_dev, args):
    before = os.stat("/dev/null")
    result = cli(*args, "--db", sample_copy, "--out", "/dev/null")
    assert result.exit_code == 1 and "Error: cannot write" in result.stderr
    assert "/dev/null: it is a character device" in result.stderr
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)
    assert not Path("/dev/null.part").exists()


# -- 4. read-only and full file systems --------------------------------------------------


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nothing can be written into: a read-only tmpfs when root may mount, else chmod 0o500."""
    path = tmp_path / "ro"
    if os.geteuid() == 0:
        if shutil.which("mount") is None or not _mount_tmpfs(path, "ro,size=64k"):
            pytest.skip("as root a chmod 0o500 folder stays writable, and mount is not permitted here")
        yield path
        subprocess.run(["umount", str(path)], check=True)
        return
    path.mkdir()
    path.chmod(0o500)
    yield path
    path.chmod(0o700)


@pytest.fixture
def full_dir(tmp_path, monkeypatch):
    """A folder on a full file system: a 16 KiB tmpfs when root may mount, else writes that fail."""
    path = tmp_path / "full"
    if os.geteuid() == 0 and shutil.which("mount") and _mount_tmpfs(path, "size=16k"):
        yield path
        subprocess.run(["umount", str(path)], check=True)
        return
    import errno

    from whuffie.report import export as export_module

    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_open(fd, mode="r", **kwargs):  # the outputs' writes all go through this open
        os.close(fd)
        return Full() if "b" in mode else io.TextIOWrapper(Full(), **kwargs)

    monkeypatch.setattr(export_module, "open", full_open, raising=False)
    path.mkdir(exist_ok=True)
    yield path


@pytest.mark.parametrize("args,target", [(["report"], "r"), (["map"], "m.html"),
                                         (["export", "--format", "gexf"], "g.gexf"),
                                         (["export", "--format", "csv"], "c")])
def test_a_read_only_folder_is_one_error(sample_copy, read_only_dir, args, target):
    result = cli(*args, "--db", sample_copy, "--out", read_only_dir / target)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: cannot write {read_only_dir / target}".replace(
        "write", "write the report to" if args == ["report"] else "write"))
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr


@pytest.mark.parametrize("args,target,written", [
    (["report"], "r", "r/index.html"), (["map"], "m.html", "m.html"),
    (["export", "--format", "gexf"], "g.gexf", "g.gexf"),
    (["export", "--format", "csv"], "c", "c/edges.csv")])
def test_a_full_disk_is_one_error_and_leaves_no_half_file(sample_copy, full_dir, args, target, written):
    result = cli(*args, "--db", sample_copy, "--out", full_dir / target)
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.stderr
    assert result.stderr.startswith("Error: cannot write " + str(full_dir / target))
    assert not (full_dir / written).exists()
    assert not list(full_dir.rglob("*.part"))


# -- 4. damaged stores -------------------------------------------------------------------


def _damaged_error(result, store: Path) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: store {store} is damaged or not a Whuffie store (")
    assert result.stderr.rstrip().endswith("restore it from a copy or re-import")


@pytest.mark.parametrize("command", [["report", "--out", "r"], ["export", "--out", "g.gexf"], ["influence"]])
def test_a_truncated_store_is_one_error(sample_db, tmp_path, monkeypatch, command):
    store = tmp_path / "half.duckdb"
    shutil.copy(sample_db, store)
    os.truncate(store, store.stat().st_size // 2)
    monkeypatch.chdir(tmp_path)
    _damaged_error(cli(*command, "--db", store), store)


@pytest.mark.parametrize("command", [["report", "--out", "r"], ["export", "--out", "g.gexf"], ["influence"]])
def test_a_store_with_corrupt_blocks_is_one_error(tmp_path, monkeypatch, command):
    # Big enough that the tables' blocks lie between the header and the catalog at the end: the
    # store opens, and the damage is met by the first query that reads them.
    rows = [{"message_id": f"m{n}", "user_id": f"u{n % 997}", "message": f"words {n * 7919 % 100003}",
             "reply_id": f"m{n // 2}" if n else None, "timestamp": "2024-05-01T10:00:00Z"}
            for n in range(40_000)]
    source = tmp_path / "big.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store = tmp_path / "corrupt.duckdb"
    with whuffie.open(store) as s:
        s.ingest([str(source)])
    size = store.stat().st_size
    with open(store, "r+b") as f:
        f.seek(size // 4)
        f.write(b"\0" * (size // 3))
    monkeypatch.chdir(tmp_path)
    result = cli(*command, "--db", store)
    _damaged_error(result, store)
    assert "Corrupt database file" in result.stderr


@pytest.mark.parametrize("command", [["report", "--out", "r"], ["export", "--out", "g.gexf"], ["status"]])
def test_a_store_missing_a_table_is_one_error(sample_db, tmp_path, monkeypatch, command):
    store = tmp_path / "missing.duckdb"
    shutil.copy(sample_db, store)
    with duckdb.connect(str(store)) as con:
        con.execute("DROP TABLE ratings")
    monkeypatch.chdir(tmp_path)
    result = cli(*command, "--db", store)
    _damaged_error(result, store)
    assert "table 'ratings' missing" in result.stderr


def test_a_file_that_is_no_store_is_one_error(tmp_path):
    store = tmp_path / "notes.duckdb"
    store.write_text("not a database\n")
    _damaged_error(cli("influence", "--db", store), store)


def test_an_existing_file_as_out(sample_copy, tmp_path):
    taken = tmp_path / "taken.html"
    taken.write_text("mine")
    result = cli("report", "--db", sample_copy, "--out", taken)
    assert result.exit_code == 1 and result.stderr.startswith(
        f"Error: cannot write the report to {taken}: it is a file")
    assert taken.read_text() == "mine"
    # The map is one file: an existing regular file is replaced, through a temporary file.
    result = cli("map", "--db", sample_copy, "--out", taken)
    assert result.exit_code == 0, result.output
    assert taken.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not taken.with_name("taken.html.part").exists()
