"""Hostile and broken inputs: memory, recursion and time stay bounded, bad records are quarantined.

Every input is generated here. Imports run ``whuffie ingest`` in a subprocess, as users
run it; its peak memory is read with ``resource.getrusage(RUSAGE_CHILDREN)`` in a small
wrapper process (so earlier children of the test process do not count), under an address
space limit that stops a runaway import before it takes the machine.
"""

from __future__ import annotations

import base64
import csv
import functools
import gzip
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.sources.base import Bad, Raw, csv_rows
from whuffie.sources.io import MAX_JSON_DEPTH, Input, TextLines, TooDeep, depth_limited, loads_json_line
from whuffie.sources.mbox import parse_address, parse_message, split_mbox

#: Peak memory allowed to one import of a hostile file (an empty import takes ~220 MB).
PEAK_MB = 600

_WRAPPER = """
import os, resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
stdin = os.environ.get("WHUFFIE_TEST_STDIN")
r = subprocess.run(sys.argv[1:], capture_output=True, text=True, stdin=open(stdin, "rb") if stdin else None)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(r.returncode)
"""


def _whuffie() -> str:
    exe = Path(sys.executable).parent / "whuffie"
    return str(exe) if exe.exists() else shutil.which("whuffie")


def ingest(path: Path, db: Path, *options: str, stdin: bool = False) -> tuple[int, str, float]:
    """Run ``whuffie ingest`` (of ``-`` fed from ``path`` with ``stdin``); return its exit code,
    its output and its peak memory in MB."""
    env = {**os.environ, "WHUFFIE_TEST_STDIN": str(path)} if stdin else None
    r = subprocess.run([sys.executable, "-c", _WRAPPER, _whuffie(), "ingest", "-" if stdin else str(path),
                        "--db", str(db), *options], capture_output=True, text=True, timeout=300, env=env)
    *err, peak = r.stderr.rstrip().split("\n")
    return r.returncode, r.stdout + "\n".join(err), int(peak) / 1024


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _tweet(i: int, **more) -> dict:
    return {"id": str(1000 + i), "text": f"tweet {i}", "author_id": "7",
            "conversation_id": str(1000 + i), "created_at": "2021-03-01T10:00:00.000Z", **more}


def _nested(depth: int) -> str:
    return '{"a":\n' * depth + "1" + "}\n" * depth


# -- item 1: memory bombs ----------------------------------------------------------------------


def test_document_nested_50000_deep_is_quarantined_in_bounded_memory(tmp_path):
    # Two twarc2 pages in a pretty-printed array (400 KB), the second nesting 50,000 levels:
    # ijson kept the path of every open level (3 GB). The first page is read, the second
    # quarantined.
    page = ('[\n{"data": [' + json.dumps(_tweet(1)) + '], "includes": {}},\n{"data": ['
            + json.dumps(_tweet(2))[:-1] + ', "x": ' + _nested(50_000) + '}], "includes": {}}\n]\n')
    path = tmp_path / "deep.json"
    path.write_text(page)
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db)
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert rows(db, "SELECT message_id FROM messages") == [("twitter:1001",)]
    [(line, reason)] = rows(db, "SELECT line, reason FROM quarantine")
    assert line == 2
    assert f"nested more than {MAX_JSON_DEPTH} levels deep (the limit)" in reason
    assert rows(db, "SELECT status FROM imports") == [("complete",)]


def test_zst_line_without_end_is_skipped_in_bounded_memory(tmp_path):
    # Two good lines, then 96 MiB without a new line, then a good line: the line was read whole
    # (4.4 GB for 1 GiB). It is skipped in bounded chunks and quarantined. (Random text, which
    # compresses like real data: a line of one repeated byte is a decompression bomb, below.)
    good = [json.dumps({"id": f"c{i}", "author": "bob", "body": "hello", "subreddit": "test",
                        "created_utc": 1600000000 + i, "link_id": "t3_x",
                        "parent_id": "t3_x"}).encode() + b"\n" for i in range(3)]
    z = zstandard.ZstdCompressor(level=1).compressobj()
    parts = [z.compress(good[0] + good[1])]
    rng = random.Random(7)
    parts += [z.compress(base64.b64encode(rng.randbytes(3 << 18))) for _ in range(96)]
    parts += [z.compress(b"\n" + good[2]), z.flush()]
    path = tmp_path / "RC_long.zst"
    path.write_bytes(b"".join(parts))
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db, "--format", "reddit")
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [
        ("reddit:t1_c0",), ("reddit:t1_c1",), ("reddit:t1_c2",)]
    [(line, reason)] = rows(db, "SELECT line, reason FROM quarantine")
    assert line == 3
    assert reason == ("line 3 is 100663297 bytes long, more than the limit of one record "
                      "(64 MiB); it was skipped")


@pytest.mark.slow
def test_decompression_bomb_is_stopped_and_the_rest_quarantined(tmp_path):
    # Two good lines, then 4 GiB of new lines (130 KB of zstd), then a good line: read line by
    # line it takes over an hour for nothing; it stops at 200 times its size (26 MB).
    good = [json.dumps({"id": f"c{i}", "author": "bob", "body": "hello", "subreddit": "test",
                        "created_utc": 1600000000 + i, "link_id": "t3_x",
                        "parent_id": "t3_x"}).encode() + b"\n" for i in range(3)]
    z = zstandard.ZstdCompressor(level=1).compressobj()
    block = b"\n" * (1 << 20)
    parts = [z.compress(good[0] + good[1]), *(z.compress(block) for _ in range(4096)),
             z.compress(good[2]), z.flush()]
    path = tmp_path / "RC_newlines.zst"
    path.write_bytes(b"".join(parts))
    db = tmp_path / "s.duckdb"
    started = time.perf_counter()
    code, out, peak = ingest(path, db, "--format", "reddit")
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [("reddit:t1_c0",), ("reddit:t1_c1",)]
    [(reason,)] = rows(db, "SELECT reason FROM quarantine")
    assert "gives more than 200 times its size once decompressed" in reason
    # Read to the end, the 4 GiB would take over an hour; stopped, a fraction of it is read.
    assert time.perf_counter() - started < 120


def test_huge_string_in_a_streamed_document_is_quarantined(tmp_path):
    # A pretty-printed array whose second page holds a 100 MB string: ijson held it whole,
    # in time growing with the square of its length.
    path = tmp_path / "big.json"
    with open(path, "w") as fh:
        fh.write('[\n{"data": [' + json.dumps(_tweet(1)) + '], "includes": {}},\n{"data": ['
                 + json.dumps(_tweet(2))[:-1] + ', "x": "')
        for _ in range(100):
            fh.write("b" * (1 << 20))
        fh.write('"}], "includes": {}}\n]\n')
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db)
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert rows(db, "SELECT message_id FROM messages") == [("twitter:1001",)]
    [(reason,)] = rows(db, "SELECT reason FROM quarantine")
    assert "a JSON value is longer than the limit of 8 MiB" in reason


def test_depth_limit_sees_through_strings_and_escapes():
    # Brackets in strings, escaped quotes and chunks cut anywhere do not count.
    text = json.dumps([{"s": 'a\\"[[[{{{', "t": ["]]]}", [1, [2]]]}] * 50).encode()
    for size in (1, 2, 3, 7, 64):
        stream = depth_limited(io.BytesIO(text), 5)
        assert b"".join(iter(functools.partial(stream.read, size), b"")) == text
    stream = depth_limited(io.BytesIO(text), 4)
    assert stream.read() == text[:text.index(b"[2]")]
    with pytest.raises(TooDeep, match="nested more than 4 levels deep"):
        stream.read()


def test_json_line_nested_deeper_than_the_limit_is_refused():
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ValueError, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        loads_json_line(deep)
    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert loads_json_line(ok) is not None


@pytest.mark.slow
@pytest.mark.parametrize("stdin", [False, True], ids=["file-ranges", "stdin-chunks"])
def test_long_line_in_a_file_mapped_in_parallel_is_quarantined_in_bounded_memory(tmp_path, stdin):
    # A JSON-lines file over 32 MiB is mapped by worker processes, from byte ranges of the file
    # or from chunks of a stream: a 70 MiB line was read whole there (and its head mapped as
    # invalid JSON, shifting the offsets of the lines after it).
    good = [json.dumps({"id": f"c{i}", "author": "bob", "body": "hello", "subreddit": "test",
                        "created_utc": 1600000000 + i, "link_id": "t3_x",
                        "parent_id": "t3_x"}).encode() + b"\n" for i in range(3)]
    broken = b'{"id": "c9", "body": \n'
    path = tmp_path / "RC_long.jsonl"
    with open(path, "wb") as fh:
        fh.write(good[0])
        fh.write(b"a" * (70 << 20) + b"\n")
        fh.write(good[1])
        offset = fh.tell()
        fh.write(broken + good[2])
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db, "--format", "reddit", stdin=stdin)
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [
        ("reddit:t1_c0",), ("reddit:t1_c1",), ("reddit:t1_c2",)]
    (long, bad) = rows(db, "SELECT line, byte_offset, reason FROM quarantine ORDER BY line")
    assert long == (2, len(good[0]), f"line 2 is {(70 << 20) + 1} bytes long, more than the limit of "
                    "one record (64 MiB); it was skipped")
    assert bad[:2] == (4, offset) and bad[2].startswith("invalid JSON")


@pytest.mark.parametrize("blank", [b"\n", b" \r\n"], ids=["empty", "white"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain-parallel", "gzip-serial"])
def test_a_flood_of_empty_lines_is_crossed_at_once_with_true_line_numbers(tmp_path, compressed, blank):
    # 128 Mi new lines between two records cost a Python loop turn each (minutes); a run of
    # blank lines (empty, or white space: found by the fuzzer) is now one item, and the lines
    # after it keep their numbers and offsets.
    good = [json.dumps({"id": f"c{i}", "author": "bob", "body": "hello", "subreddit": "test",
                        "created_utc": 1600000000 + i, "link_id": "t3_x",
                        "parent_id": "t3_x"}).encode() + b"\n" for i in range(2)]
    flood = (128 << 20 if not compressed else 8 << 20) // len(blank)  # gzip: under the bomb floor
    data = good[0] + blank * flood + b'{"broken\n' + good[1]
    path = tmp_path / ("RC_flood.jsonl.gz" if compressed else "RC_flood.jsonl")
    path.write_bytes(gzip.compress(data, 1) if compressed else data)
    db = tmp_path / "s.duckdb"
    started = time.perf_counter()
    code, out, _ = ingest(path, db, "--format", "reddit")
    assert code == 0, out
    assert time.perf_counter() - started < 60
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [("reddit:t1_c0",), ("reddit:t1_c1",)]
    [(line, offset)] = rows(db, "SELECT line, byte_offset FROM quarantine")
    assert (line, offset) == (2 + flood, len(good[0]) + flood * len(blank))


@pytest.mark.parametrize("fmt", ["mastodon", "twarc2"])
def test_a_flood_of_white_space_lines_before_a_document_is_crossed_at_once(tmp_path, shared, fmt):
    # Found by the fuzzer: a JSON reader looked for its first two lines one blank line at a time.
    sample = {"mastodon": "mastodon_api_json/public_timeline_fosstodon.json",
              "twarc2": "twarc2_v2_jsonl/brexit.jsonl"}[fmt]
    path = tmp_path / ("x.json.gz" if fmt == "mastodon" else "x.jsonl.gz")
    body = (shared / "formats" / sample).read_bytes()
    # Random white space (about 64 million lines) compresses too little to look like a bomb.
    white = random.Random(3).randbytes(128 << 20).translate(bytes.maketrans(
        bytes(range(256)), b" \t\r\n" * 64))
    path.write_bytes(gzip.compress(white + b"\n" + body, 1))
    clean = tmp_path / ("c.json" if fmt == "mastodon" else "c.jsonl")
    clean.write_bytes(body)
    started = time.perf_counter()
    code, out, _ = ingest(path, tmp_path / "s.duckdb", "--format", fmt)
    assert code == 0, out
    assert time.perf_counter() - started < 30
    code, out, _ = ingest(clean, tmp_path / "c.duckdb", "--format", fmt)
    assert code == 0, out
    assert _counts(tmp_path / "s.duckdb") == _counts(tmp_path / "c.duckdb")


def test_long_line_is_yielded_as_its_head_and_length(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"ab\n" + b"c" * 5000 + b"\nd\n")
    with Input(path) as inp:
        got = [(n, off, bytes(line)[:3], getattr(line, "length", len(line)))
               for n, off, line in inp.lines(limit=100)]
    assert got == [(1, 0, b"ab\n", 3), (2, 3, b"ccc", 5001), (3, 5004, b"d\n", 2)]


# -- item 2: recursion -------------------------------------------------------------------------


def test_folder_with_a_record_nested_5000_deep_imports_the_rest(tmp_path):
    # A record 5,000 levels deep in a JSON array stopped the whole import with a
    # RecursionError (writing its fields); the other file of the folder was not imported.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_text("[\n" + json.dumps(_tweet(1)) + ",\n"
                                   + json.dumps(_tweet(2))[:-1] + ', "x": ' + _nested(5000) + "}\n]\n")
    (folder / "b.jsonl").write_text(json.dumps({"data": _tweet(3)}) + "\n"
                                    + json.dumps({"data": _tweet(4)}) + "\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = ingest(folder, db, "--format", "twarc2")
    assert code == 0, out
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [
        ("twitter:1001",), ("twitter:1003",), ("twitter:1004",)]
    [(path, reason)] = rows(db, "SELECT path, reason FROM quarantine")
    assert path.endswith("a.json") and "levels deep (the limit)" in reason


def test_excerpt_and_json_of_deep_values_do_not_recurse():
    from whuffie.store.writer import _json

    deep: list = []
    for _ in range(20_000):
        deep = [deep]
    assert Raw(deep).excerpt() == "<a list nested too deeply to show>"
    assert json.loads(_json({"x": deep})) == {"_whuffie": "value nested too deeply to store"}
    value: dict = {}
    for _ in range(MAX_JSON_DEPTH):
        value = {"a": value}
    assert json.loads(_json(value)) == value


# -- item 3: time linear in the size of a message ----------------------------------------------


def _best_time(fn, arg) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - started)
    return best


def _folded(n: int) -> bytes:
    return (b"From: a@example.org\nSubject: s\nMessage-ID: <m@example.org>\nReferences: <r0@x>\n"
            + b"".join(b" <r%d@example.org>\n" % i for i in range(1, n)) + b"\nbody\n")


def test_header_unfolding_is_linear():
    # One References header folded over 100,000 lines took time growing with the square of
    # their number (400,000 lines: 246 s).
    small = _best_time(parse_message, _folded(50_000))
    large = _best_time(parse_message, _folded(100_000))
    assert large < 3 * small + 0.05, (small, large)
    assert len(parse_message(_folded(1000)).references) == 1000


def test_address_search_is_linear_in_the_header():
    # A From header of 100,000 address characters without "@" (found by tests/fuzzing.py):
    # every search start scanned to its end.
    small = _best_time(parse_address, "x" * 50_000)
    large = _best_time(parse_address, "x" * 100_000)
    assert large < 3 * small + 0.05, (small, large)
    assert parse_address("Jo <" + "a" * 70 + "@example.com>")[0] == "a" * 64 + "@example.com"


def _one_big_message(size: int) -> bytes:
    line = b"x" * 75 + b"\n"
    return (b"From a@example.org Mon Jan  6 09:00:00 2020\nFrom: a@example.org\n"
            b"Message-ID: <big@example.org>\n\n" + line * (size // len(line))
            + b"\nFrom b@example.org Mon Jan  6 10:00:00 2020\nFrom: b@example.org\n\nhi\n")


def test_split_of_a_large_message_is_linear():
    # Each chunk of a message copied and rescanned all of it before (128 MiB: 48 s). A
    # decompressing stream hands over small chunks (read1), as here: 4 MiB took 5 s, 8 MiB 24 s.
    def split(data: bytes) -> list:
        return list(split_mbox(io.BytesIO(data), chunk_size=1 << 16))

    small = _best_time(split, _one_big_message(8 << 20))
    large = _best_time(split, _one_big_message(16 << 20))
    assert large < 3 * small + 0.05, (small, large)
    data = _one_big_message(16 << 20)
    [(first, line, offset), (second, line2, offset2)] = split(data)
    assert (line, offset, len(first)) == (1, 0, data.index(b"\nFrom b@") - data.index(b"\n") - 1)
    assert second.endswith(b"\n\nhi\n") and offset2 == data.index(b"\nFrom b@") + 1
    assert line2 == data[:offset2].count(b"\n") + 1


# -- item 4: silent loss -----------------------------------------------------------------------


def test_rdf_feed_cut_before_its_first_item_is_reported(tmp_path):
    path = tmp_path / "cut.rdf"
    path.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/">\n'
        b'<channel rdf:about="http://example.org/">\n<title>Example</title>\n'
        b"<link>http://example.org/</link>\n<description>d</description>\n"
        b'<items><rdf:Seq><rdf:li rdf:resource="http://example.org/1"/></rdf:Seq></items>\n'
        b"</channel>\n<ite")
    db = tmp_path / "s.duckdb"
    code, out, _ = ingest(path, db, "--format", "feed")
    assert code == 0, out
    [(line, offset, reason)] = rows(db, "SELECT line, byte_offset, reason FROM quarantine")
    assert line == 9 and offset == path.read_bytes().rindex(b"<ite")
    assert reason.startswith("the feed is cut off or broken before its first entry")
    assert rows(db, "SELECT read, quarantined FROM imports") == [(1, 1)]


def test_mbox_starting_with_a_bom_keeps_its_first_message(tmp_path):
    path = tmp_path / "bom.mbox"
    path.write_bytes(
        b"\xef\xbb\xbfFrom a@example.org Mon Jan  6 09:00:00 2020\nFrom: a@example.org\n"
        b"Message-ID: <one@example.org>\nSubject: one\n\nfirst\n\n"
        b"From b@example.org Mon Jan  6 10:00:00 2020\nFrom: b@example.org\n"
        b"Message-ID: <two@example.org>\nSubject: two\n\nsecond\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = ingest(path, db)
    assert code == 0, out
    assert rows(db, "SELECT count(*) FROM quarantine") == [(0,)]
    assert sorted(rows(db, "SELECT text FROM messages")) == [("first",), ("second",)]


# -- item 1: field sizes -----------------------------------------------------------------------


def test_oversized_fields_are_quarantined_and_the_rest_stored(tmp_path):
    # A 100 MB text ran DuckDB's import out of memory and failed the whole file.
    def comment(i: int, body: str) -> str:
        return json.dumps({"id": f"c{i}", "author": "bob", "body": body, "subreddit": "test",
                           "created_utc": 1600000000 + i, "link_id": "t3_x", "parent_id": "t3_x"})

    path = tmp_path / "RC_big.jsonl"
    path.write_text("\n".join([comment(1, "hi"), comment(2, "b" * (20 << 20)), comment(3, "ok")]) + "\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = ingest(path, db, "--format", "reddit")
    assert code == 0, out
    assert sorted(rows(db, "SELECT message_id FROM messages")) == [("reddit:t1_c1",), ("reddit:t1_c3",)]
    [(line, reason)] = rows(db, "SELECT line, reason FROM quarantine")
    assert line == 2
    assert reason == ("field 'text' of message 'reddit:t1_c2' is 20971520 characters long, more than "
                      "the limit of 16 MiB for such a field; the record is not stored")

    feed = tmp_path / "big.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>E</title>'
        "<link>http://example.org/</link><description>d</description>\n"
        + "".join(f"<item><title>t{i}</title><link>http://example.org/{i}</link><description>"
                  f"{'d' * (20 << 20) if i == 2 else 'ok'}</description></item>\n" for i in (1, 2, 3))
        + "</channel></rss>\n")
    db = tmp_path / "f.duckdb"
    code, out, _ = ingest(feed, db, "--format", "feed")
    assert code == 0, out
    assert rows(db, "SELECT count(*) FROM messages") == [(2,)]
    [(line, reason)] = rows(db, "SELECT line, reason FROM quarantine")
    assert line == 3 and "'text' of message 'web:http://example.org/2' is 20971520 characters" in reason


def test_gml_with_a_huge_string_is_refused_before_igraph_reads_it(tmp_path):
    # igraph's GML parser takes time growing with the square of a string's length (a 9 MiB
    # label: minutes; found by tests/fuzzing.py).
    path = tmp_path / "g.gml"
    path.write_text('graph [\n node [ id 0 label "' + "x" * (9 << 20) + '" ]\n node [ id 1 label "b" ]\n'
                    ' edge [ source 0 target 1 ]\n]\n')
    db = tmp_path / "s.duckdb"
    started = time.perf_counter()
    code, out, _ = ingest(path, db, "--format", "edges")
    assert code == 0, out
    assert time.perf_counter() - started < 60
    [(reason,)] = rows(db, "SELECT reason FROM quarantine")
    assert reason.startswith("a GML string is longer than the limit of 1 MiB")


def test_broken_json_feed_nested_40000_deep_is_quarantined_in_bounded_memory(tmp_path):
    # A JSON Feed that orjson refuses is salvaged with ijson, whose memory grows with the square
    # of the depth (20,000 levels: 1.2 GB; found by tests/fuzzing.py).
    path = tmp_path / "feed.json"
    path.write_text('{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1", '
                    '"content_text": "x", "tags": ' + "[" * 40_000 + "]" * 39_999 + "}]}")
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db, "--format", "feed")
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    [(reason,)] = rows(db, "SELECT reason FROM quarantine")
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in reason


# -- item 2: the text layer of CSV and edge lists ----------------------------------------------

_TEXT_SAMPLES = {
    "csv": ("formats/qut_coordination_csv/sample_data.csv", "csv"),
    "twarc-csv": ("formats/twarc2_v2_jsonl/csv/2sets.twarc-csv-0.7.2.csv", "twarc2"),
    "4cat-csv": ("4chan.csv", "4cat"),
    "edges": (None, "edges"),
}
_TEXT_OPTIONS = {"twarc2": ()}


def _text_sample(shared_or_none, name: str, tmp_path: Path) -> tuple[bytes, str]:
    where, fmt = _TEXT_SAMPLES[name]
    if where is None:
        return "".join(f"u{i} u{(i * 7) % 50}\n" for i in range(200)).encode(), fmt
    if where == "4chan.csv":
        return (Path(__file__).parent.parent / "data" / "fourcat" / where).read_bytes(), fmt
    return (shared_or_none / where).read_bytes(), fmt


def _counts(db: Path) -> dict[str, int]:
    tables = [t for (t,) in rows(db, "SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = 'main' AND table_name NOT IN "
                                     "('imports', 'quarantine', 'store_info', 'runs')")]
    return {t: rows(db, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}


@pytest.mark.parametrize("name", list(_TEXT_SAMPLES))
def test_long_line_of_a_text_table_is_quarantined_in_bounded_memory(tmp_path, shared, name):
    # A line of 72 Mi characters was read whole by the text layer (an 8 GiB one, whole too).
    # Now it is cut in bounded chunks and quarantined with its true length; its quotes keep
    # the CSV parser's state, so every row after it is read as in the file without it.
    data, fmt = _text_sample(shared, name, tmp_path)
    head, rest = data.split(b"\n", 1)
    first, rest = rest.split(b"\n", 1)
    rng = random.Random(5)
    half = base64.b64encode(rng.randbytes(27 << 20))  # 36 Mi characters
    long = b'9,"' + half + b'"' + half + b"\n"  # the quote closes in the part left out
    clean = tmp_path / "clean" / f"sample.{'txt' if fmt == 'edges' else 'csv'}"
    hostile = tmp_path / "hostile" / clean.name
    for path, body in ((clean, data), (hostile, head + b"\n" + first + b"\n" + long + rest)):
        path.parent.mkdir()
        path.write_bytes(body)
    opts = ("--format", fmt, *_TEXT_OPTIONS.get(fmt, ("-o", "platform=x")))
    code, out, _ = ingest(clean, tmp_path / "clean.duckdb", *opts)
    assert code == 0, out
    code, out, peak = ingest(hostile, tmp_path / "hostile.duckdb", *opts)
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    assert _counts(tmp_path / "hostile.duckdb") == _counts(tmp_path / "clean.duckdb")
    [(line, reason)] = rows(tmp_path / "hostile.duckdb", "SELECT line, reason FROM quarantine "
                                                        "WHERE reason LIKE '%characters long%'")
    assert line == 3
    assert reason == (f"line 3 is {len(long)} characters long, more than the limit of one record "
                      "(64 MiB); it was skipped")


@pytest.mark.parametrize("fmt", ["csv", "edges"])
def test_whitespace_flood_is_crossed_at_once_with_true_line_numbers(tmp_path, shared, fmt):
    # 128 Mi lines of " \r\n" between two rows cost the edge-list reader a Python loop turn
    # each (minutes); a stretch of white space is now one item, and the rows after it keep
    # their line numbers.
    if fmt == "csv":
        data = (shared / "formats/qut_coordination_csv/sample_data.csv").read_bytes()
        head, rest = data.split(b"\n", 1)
        first, rest = rest.split(b"\n", 1)
        start, broken = head + b"\n" + first + b"\n", b'2,"broken\n\n'
    else:
        start, broken, rest = b"a b\n", b"c\n", b"d e\n"
    flood = 128 << 20
    path = tmp_path / "flood.txt"
    with path.open("wb") as fh:
        fh.write(start)
        for _ in range(flood >> 20):
            fh.write(b" \r\n" * (1 << 20))
        fh.write(broken + rest)
    db = tmp_path / "s.duckdb"
    started = time.perf_counter()
    code, out, _ = ingest(path, db, "--format", fmt, "-o", "platform=x")
    path.unlink()
    assert code == 0, out
    assert time.perf_counter() - started < 30
    [(line, reason)] = rows(db, "SELECT line, reason FROM quarantine")
    assert line == start.count(b"\n") + 1 + flood, reason
    if fmt == "csv":
        assert rows(db, "SELECT count(*) FROM messages WHERE NOT is_stub")[0][0] >= 98
    else:
        assert rows(db, "SELECT count(*) FROM ties")[0][0] == 2


_PIECES = ["a", ",", '"', " ", "\t", "\r", "\n", "\r\n", "é"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(1, 9))
def test_text_lines_are_the_lines_of_a_text_file(text, chunk):
    # Below the limits, TextLines gives exactly what a newline="" text file gives, however the
    # text falls into chunks (a "\r\n" split between two chunks stays one line end).
    lines = TextLines(io.StringIO(text), chunk=chunk, stretch=1 << 30)
    got = [(lines.line_of(i), line) for i, line in enumerate(lines, 1)]
    assert got == list(enumerate(io.StringIO(text, newline=""), 1))
    assert lines.cut(1, len(got)) is None


def _csv_file_rows(text: str) -> list[tuple[int, int, list[str]]]:
    """(first line, last line, row) of what csv.reader reads from the file, errors skipped."""
    out, done = [], 0
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return out
        except csv.Error:
            done = reader.line_num
            continue
        out.append((done + 1, reader.line_num, row))
        done = reader.line_num


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(1, 9), st.integers(4, 40))
def test_csv_rows_are_the_rows_of_the_file_up_to_a_cut_or_a_stretch(text, chunk, limit):
    # Below the limits, csv_rows gives the rows csv.reader reads from the file, on their lines.
    want = _csv_file_rows(text)
    got = list(csv_rows(TextLines(io.StringIO(text), chunk=chunk, stretch=1 << 30)))
    assert got == [(first, row) for first, _, row in want]
    # A line over the limit is one Bad on its line, and the rows before it are untouched.
    got = list(csv_rows(TextLines(io.StringIO(text), limit=limit, chunk=chunk, stretch=1 << 30)))
    lines = io.StringIO(text, newline="").readlines()
    cut = next((n for n, line in enumerate(lines, 1) if len(line) > limit), None)
    before = [(first, row) for first, last, row in want if cut is None or last < cut]
    assert got[:len(before)] == before
    if cut is not None:
        assert any(isinstance(r, Bad) and "characters long" in r.reason for r in got)
    # A stretch of white space is one line end, and the rows before it are untouched.
    got = list(csv_rows(TextLines(io.StringIO(text), chunk=chunk, stretch=6)))
    blank = re.search(r"\s{6,}", text)
    first_blank = text[:blank.start()].count("\n") + 1 if blank else None
    before = [(first, row) for first, last, row in want if first_blank is None or last < first_blank - 1]
    assert got[:len(before)] == before


def test_a_flood_of_tiny_bad_records_is_bounded_and_counted(tmp_path):
    # Found by the fuzzer: 2 KB of zstd holding 16 MiB of '"' are 8 million bad JSON values (""),
    # each a quarantine row, all held at once (5.4 GB) because a small compressed file was read
    # whole. Identical bad records in a row are now one row that counts them; nothing is hidden.
    z = zstandard.ZstdCompressor(level=1).compressobj()
    path = tmp_path / "posts.json.zst"
    path.write_bytes(b"".join([z.compress(b'"' * (16 << 20)) for _ in range(4)] + [z.flush()]))
    db = tmp_path / "s.duckdb"
    code, out, peak = ingest(path, db, "--format", "bluesky")
    assert code == 0, out
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    reasons = [r for (r,) in rows(db, "SELECT reason FROM quarantine ORDER BY line")]
    assert reasons[0].startswith("8,388,608 identical records in a row (lines 1 to 8,388,608), each: ")
    assert "decompression bomb" in reasons[1]
    assert rows(db, "SELECT quarantined FROM imports") == [(8_388_609,)]


def test_identical_bad_lines_are_counted_on_one_row_and_different_ones_kept(tmp_path):
    good = json.dumps({"id": "c1", "author": "bob", "body": "hi", "subreddit": "t",
                       "created_utc": 1600000000, "link_id": "t3_x", "parent_id": "t3_x"})
    path = tmp_path / "RC.ndjson"
    path.write_text("null\n" * 1000 + "{broken\n" + "null\n" * 2 + good + "\n" + "{other\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = ingest(path, db, "--format", "reddit")
    assert code == 0, out
    got = rows(db, "SELECT line, reason, excerpt FROM quarantine ORDER BY line")
    assert [(line, excerpt) for line, _, excerpt in got] == [
        (1, "null"), (1001, "{broken"), (1002, "null"), (1005, "{other")]
    assert got[0][1].startswith("1,000 identical records in a row (lines 1 to 1,000), each: ")
    assert got[2][1].startswith("2 identical records in a row (lines 1,002 to 1,003), each: ")
    assert rows(db, "SELECT read, stored, quarantined FROM imports") == [(1005, 1, 1004)]
    assert rows(db, "SELECT count(*) FROM messages") == [(1,)]
