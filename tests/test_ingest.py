"""Ingest-level behaviour: folders, damaged compressed files, parallel mapping, memory."""

from __future__ import annotations

import gzip
import shutil

import pytest
import zstandard

import whuffie
from tests.conftest import ingest_counts, scalar
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
