"""Mutational fuzzing of the readers through ``whuffie ingest``.

Every case starts from a real sample of one registered format (``../shared/data``; the project's
fixtures in ``tests/data`` when the shared folder is absent), applies one seeded mutation (or a
stack of them) and runs ``whuffie -q ingest FILE --db STORE [--format F]`` in a child process
under a memory limit (resident memory, watched) and a time limit. The child then re-runs the same ingest and
``whuffie status --json``, so a case also checks that the store stays consistent: a second import
of the same file stores nothing new.

Outcome classes: ``ok`` (exit 0), ``clean`` (exit 1 or 2 with one ``Error:`` line and no
traceback), ``CRASH`` (a traceback, an exit by signal or an error without its ``Error:`` line),
``HANG`` (time limit), ``OOM`` (resident memory above the limit, or ``MemoryError``) and
``INCONSISTENT`` (the re-run stored rows, or ``status`` failed). The upper-case classes are
failures.

A case is fully determined by ``(format, seed, case number)``: the sample is drawn from the same
seeded :class:`random.Random` as the mutation, so ``python tests/fuzzing.py --format F --seed S
--case N`` (from the project root) rebuilds the file and runs it again.

The child is a small driver (this file run as a script) that calls the ``whuffie`` command line
in-process for the three steps: starting Python and importing Whuffie costs about two seconds,
which three separate processes per case would pay three times.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import gzip
import json
import lzma
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Real public data sets (same default as tests/conftest.py); absent on a user's machine.
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = ROOT / "tests" / "data"
#: Where the findings of a run (reproducer files and notes) are written by default.
FINDINGS = Path(tempfile.gettempdir()) / "whuffie-fuzz-findings"

#: The resident memory a case may use. A watchdog kills the case above it; the address space
#: (RLIMIT_AS) is only capped at ADDRESS_SPACE_FACTOR times it, because a plain ingest of a 48 MB
#: file reserves 2.7 GB of address space for 440 MB resident (DuckDB, allocator arenas): an
#: address-space limit of 2 GiB fails on address space no page of which is ever touched.
MEMORY_LIMIT = 2 << 30
ADDRESS_SPACE_FACTOR = 4
TIME_LIMIT = 60.0
#: The sniffers' and json readers' one-line limit (whuffie.sources.base.LINE_LIMIT): long lines
#: are made just below, just above and far above it.
LINE_LIMIT = 8 << 20

FAILURES = ("CRASH", "HANG", "OOM", "INCONSISTENT")
CLASSES = ("ok", "clean", *FAILURES)
#: The import log gains one row per run by design; every other table must not change on a re-run.
GROWING_TABLES = frozenset({"imports"})

#: Samples per format: globs under the shared folder, then under tests/data (used only when the
#: shared folder is absent). A format with neither is skipped with a reason.
SAMPLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "4cat": ((), ("fourcat/*.ndjson", "fourcat/*.csv")),
    "bluesky": (("formats/bluesky_atproto_json/**/*.json",), ("bluesky/*.jsonl",)),
    "cascade-tree": (("twitter15/twitter15/tree/*.txt",), ()),
    "csv": (("formats/qut_coordination_csv/*.csv",), ("tabular/*.csv",)),
    "discourse": (("formats/discourse_topic_json/**/*.json",), ("discourse/*.json", "discourse/*.jsonl")),
    "edges": (("small_community_graphs/*.gml", "zachary_karate/karate_edges.tsv", "bitcoin_otc/*.csv"),
              ()),
    "feed": (("formats/rss_atom_blogs/*.atom", "formats/rss_atom_blogs/*.rss", "formats/rss_atom_blogs/*.rdf",
              "formats/rss_atom_blogs/*.xml", "formats/rss_atom_blogs/*.opml",
              "formats/rss_atom_blogs/jsonfeed/*.json"),
             ("feed/*.rss", "feed/*.json", "feed/*.opml")),
    "jsonl": ((), ("tabular/*.jsonl",)),
    "mastodon": (("formats/mastodon_api_json/*.json",), ("mastodon/*.json",)),
    "mbox": (("mailinglist_3gpp_mbox/*.mbox",), ("mbox/*.mbox", "mbox/*.eml")),
    "reddit": (("formats/reddit_pushshift_ndjson/RC_*",), ("reddit/*.json", "reddit/*.ndjson")),
    "stackexchange": (("stackexchange_conlang_meta/Posts.xml", "stackexchange_conlang_meta/Comments.xml",
                       "stackexchange_conlang_meta/Users.xml", "stackexchange_conlang_meta/Votes.xml"),
                      ("../../src/whuffie/data/sample/*/*.xml.gz",)),
    "telegram": (("formats/telegram_telethon_jsonl/*.txt",), ("telegram/*.json", "telegram/*.txt")),
    "twarc2": (("formats/twarc2_v2_jsonl/*.jsonl", "formats/twarc2_v2_jsonl/csv/*.csv"),
               ("twarc2/*.jsonl",)),
    "twitter-v1": (("formats/twitter_v1_1_json/**/*.json", "formats/twitter_v1_1_json/*.jsonl"),
                   ("twitter-v1/*.jsonl",)),
    "zeeschuimer": ((), ("zeeschuimer/*.ndjson",)),
}


def samples(fmt: str, shared: Path = SHARED) -> list[Path]:
    """The sample files a format is fuzzed from, sorted (so a seed always draws the same one).

    Raises
    ------
    LookupError
        When the format has no sample here (its reason says which folders were searched).

    Examples
    --------
    >>> [p.name for p in samples("zeeschuimer")][:1]
    ['zeeschuimer-export-instagram.com-2021-09-22T172000.ndjson']
    """
    shared_globs, fixture_globs = SAMPLES.get(fmt, ((), ()))
    for base, globs in ((shared, shared_globs), (FIXTURES, fixture_globs)):
        if not globs or not base.is_dir():
            continue
        found = sorted({p for g in globs for p in base.glob(g) if p.is_file()})
        if found:
            return found
    raise LookupError(f"no sample for format {fmt!r}: the shared folder {shared} is absent or has none, "
                      f"and tests/data has no fixture for it")


# ----------------------------------------------------------------------------------------------
# Mutations: each takes the seeded generator and the sample's bytes and returns new bytes and a
# short label; compression mutations also return the file name suffix they imply.


@dataclass
class Mutated:
    """The bytes of a case, what was done to them and the suffix the file name gets."""

    data: bytes
    labels: list[str] = field(default_factory=list)
    suffix: str = ""


_INTERESTING = (b'"', b"{", b"}", b"[", b"]", b",", b":", b"\n", b"\r", b"\x00", b"\xff", b"\xc3",
                b"<", b">", b"&", b"\\", b"0", b"-", b"9" * 30, b"\t", b";", b"'", b"\xef\xbb\xbf")
_BAD_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3\x28", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\xe2\x82")


def _offset(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _is_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def m_truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = _offset(rng, data)
    return data[:cut], f"truncate@{cut}"


def m_flip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    buf = bytearray(data)
    k = rng.randint(1, 32)
    for _ in range(k if buf else 0):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf), f"flip x{k}"


def m_insert(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    k = rng.randint(1, 16)
    for _ in range(k):
        chunk = rng.choice(_INTERESTING) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 64))
        i = _offset(rng, data)
        data = data[:i] + chunk + data[i:]
    return data, f"insert x{k}"


def m_delete(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    k = rng.randint(1, 8)
    for _ in range(k):
        i = _offset(rng, data)
        data = data[:i] + data[i + rng.randint(1, 256):]
    return data, f"delete x{k}"


def m_lines(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    lines = _lines(data)
    if len(lines) < 2:
        return data + data, "duplicate whole"
    if rng.random() < 0.5:
        k = rng.randint(1, 8)
        for _ in range(k):
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
        return b"".join(lines), f"duplicate lines x{k}"
    k = rng.randint(1, 8)
    for _ in range(k):
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines), f"swap lines x{k}"


def m_nesting(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    depth = rng.choice((300, 1_100, 20_000, 200_000, 1_000_000))
    if _is_xml(data):
        spots = [m.end() for m in re.finditer(rb">\s*<[A-Za-z]", data)][:10_000]
        payload = b"<x>" * depth + b"</x>" * depth
        at = rng.choice(spots) - 1 if spots else len(data)
        return data[:at] + payload + data[at:], f"xml nesting {depth}"
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    payload = b'"fuzz":' + opener * depth + b"0" + closer * depth + b","
    spots = [m.end() for m in re.finditer(rb'\{\s*"', data)][:10_000]
    at = rng.choice(spots) - 1 if spots else _offset(rng, data)
    return data[:at] + payload + data[at:], f"json nesting {depth}"


def m_huge_field(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    size = rng.choice((1, 4, 9, 24)) << 20
    unit = rng.choice((b"A", "\u00e9".encode(), b"\\u00e9", b"\\\\", b"&amp;", b" "))
    payload = unit * (size // len(unit))
    pattern = rb'="' if _is_xml(data) else rb'":\s*"'
    spots = [m.end() for m in re.finditer(pattern, data)][:10_000]
    if not spots:
        spots = [m.end() for m in re.finditer(rb",", data)][:10_000]
    at = rng.choice(spots) if spots else _offset(rng, data)
    return data[:at] + payload + data[at:], f"huge field {size >> 20} MiB of {unit[:8]!r}"


def m_long_line(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    where = rng.choice(("end", "middle", "joined"))
    if where == "joined":
        return data.replace(b"\n", b" ").replace(b"\r", b" "), "file joined into one line"
    size = rng.choice((LINE_LIMIT - 1, LINE_LIMIT + 1, 3 * LINE_LIMIT))
    payload = rng.choice((b"x", b"{", b"[", b'"', b"9")) * size
    if where == "end":
        return data.rstrip(b"\r\n") + b"\n" + payload, f"long last line {size} bytes without newline"
    lines = _lines(data)
    lines.insert(rng.randrange(len(lines) + 1), payload + b"\n")
    return b"".join(lines), f"long line {size} bytes"


def m_encoding(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    how = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "bom", "bom-middle",
                      "invalid-utf8"))
    text = data.decode("utf-8", errors="replace")
    if how in ("latin-1", "cp1252"):
        return text.encode(how, errors="replace"), f"re-encoded {how}"
    if how.startswith("utf-"):
        return text.encode(how), f"re-encoded {how}"
    if how == "bom":
        return b"\xef\xbb\xbf" + data, "utf-8 BOM"
    if how == "bom-middle":
        i = _offset(rng, data)
        return data[:i] + b"\xef\xbb\xbf" + data[i:], f"utf-8 BOM at {i}"
    k = rng.randint(1, 16)
    for _ in range(k):
        i = _offset(rng, data)
        data = data[:i] + rng.choice(_BAD_UTF8) + data[i:]
    return data, f"invalid utf-8 x{k}"


_COMPRESSORS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": (".gz", lambda b: gzip.compress(b, compresslevel=6, mtime=0)),
    "bzip2": (".bz2", bz2.compress),
    "xz": (".xz", lzma.compress),
    "zstd": (".zst", lambda b: _zstd().ZstdCompressor(level=3).compress(b)),
}


def _zstd():
    import zstandard  # a dependency of Whuffie (its zstd reader)

    return zstandard


def m_compress(rng: random.Random, data: bytes) -> tuple[bytes, str, str]:
    name = rng.choice(sorted(_COMPRESSORS))
    suffix, compress = _COMPRESSORS[name]
    packed = compress(data)
    damage = rng.choice(("none", "none", "truncated", "trailing garbage", "two members", "flipped"))
    if damage == "truncated":
        packed = packed[:rng.randrange(len(packed))]
    elif damage == "trailing garbage":
        packed += rng.randbytes(rng.randint(1, 64))
    elif damage == "two members":
        packed += compress(data[: len(data) // 2])
    elif damage == "flipped":
        buf = bytearray(packed)
        i = rng.randrange(min(len(buf), 16), len(buf)) if len(buf) > 16 else 0
        buf[i] ^= 0xFF
        packed = bytes(buf)
    if rng.random() < 0.3:
        return packed, f"{name} ({damage}) without suffix", ""
    return packed, f"{name} ({damage})", suffix


@cache
def _bomb(name: str, fill: bytes, size: int) -> bytes:
    """Compress ``size`` bytes of ``fill`` in 16 MiB chunks (the payload is never held whole)."""
    chunk = fill * ((16 << 20) // len(fill))
    n, rest = divmod(size, len(chunk))
    if name == "zstd":
        cobj = _zstd().ZstdCompressor(level=1).compressobj()
    elif name == "gzip":
        import zlib

        cobj = zlib.compressobj(1, wbits=31)
    else:
        cobj = bz2.BZ2Compressor(9)
    out = [cobj.compress(chunk) for _ in range(n)]
    out.append(cobj.compress(chunk[:rest]))
    out.append(cobj.flush())
    return b"".join(out)


def m_bomb(rng: random.Random, data: bytes) -> tuple[bytes, str, str]:
    name = rng.choice(("zstd", "zstd", "gzip", "bzip2"))
    # bzip2 decompresses at some tens of MB/s: a large bzip2 bomb only measures the time limit.
    size = rng.choice((256, 1024) if name == "bzip2" else (256, 1024, 4096)) << 20
    # Degenerate payloads only: a bomb of valid records is a large input, which takes its time.
    fill = rng.choice((b"\x00", b"A", b"\n", b"{", b"[", b'"', b"\r\n "))
    suffix = {"zstd": ".zst", "gzip": ".gz", "bzip2": ".bz2"}[name]
    return _bomb(name, fill, size), f"{name} bomb {size >> 20} MiB of {fill[:12]!r}", suffix


def m_degenerate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    body = rng.choice((b"", b"\n", b"\r\n" * 3, b"\xef\xbb\xbf", b"{}", b"[]", b"null", b"\x00", b"0", b'""',
                       b"<?xml version='1.0'?>", b"<a/>", data[:1]))
    return body, f"degenerate {body[:24]!r}"


def m_nul(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    how = rng.choice(("runs", "all", "interleaved"))
    if how == "all":
        return b"\x00" * max(len(data), 1), "all NUL"
    if how == "interleaved":
        return bytes(b for c in data[:1 << 20] for b in (c, 0)), "NUL after every byte (first MiB)"
    k = rng.randint(1, 16)
    for _ in range(k):
        i = _offset(rng, data)
        data = data[:i] + b"\x00" * rng.randint(1, 4096) + data[i:]
    return data, f"NUL runs x{k}"


def m_entities(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """An XML document type with expanding entities (billion laughs, quadratic blow-up) or an
    external entity, referenced in the first element's text."""
    how = rng.choice(("laughs", "quadratic", "external"))
    if how == "laughs":
        decl = [b'<!ENTITY l0 "lol">']
        decl += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">'.encode() for i in range(1, 10)]
        ref = b"&l9;"
    elif how == "quadratic":
        decl, ref = [b'<!ENTITY q "' + b"q" * 50_000 + b'">'], b"&q;" * 50_000
    else:
        decl, ref = [b'<!ENTITY x SYSTEM "file:///etc/passwd">'], b"&x;"
    body = data.split(b"?>", 1)[1] if data.lstrip().startswith(b"<?xml") else data
    root = re.search(rb"<([A-Za-z][\w:.-]*)", body)
    name = root.group(1) if root else b"x"
    doctype = b"<?xml version=\"1.0\"?>\n<!DOCTYPE " + name + b" [" + b"".join(decl) + b"]>\n"
    close = re.search(rb"<[A-Za-z][^>]*[^/]>", body)
    at = close.end() if close else 0
    return doctype + body[:at] + ref + body[at:], f"xml entities ({how})"


#: The mutation kinds, by name. "stack" applies two or three of the byte-level ones in a row.
MUTATIONS: dict[str, Callable] = {
    "truncate": m_truncate, "flip": m_flip, "insert": m_insert, "delete": m_delete, "lines": m_lines,
    "nesting": m_nesting, "huge-field": m_huge_field, "long-line": m_long_line, "encoding": m_encoding,
    "compress": m_compress, "bomb": m_bomb, "degenerate": m_degenerate, "nul": m_nul, "entities": m_entities,
}
KINDS = (*MUTATIONS, "stack")
_STACKABLE = ("truncate", "flip", "insert", "delete", "lines", "nesting", "encoding", "nul", "compress")


def mutate(rng: random.Random, data: bytes, kind: str) -> Mutated:
    """Apply the mutation ``kind`` (one of :data:`KINDS`) to ``data`` with the generator ``rng``.

    Examples
    --------
    >>> out = mutate(random.Random(1), b'{"id": 1, "text": "hi"}\\n' * 3, "truncate")
    >>> out.labels, len(out.data) < 75
    (['truncate@17'], True)
    >>> mutate(random.Random(1), b"abc", "compress").data[:2]
    b'\\x1f\\x8b'
    """
    out = Mutated(data)
    steps = [kind]
    if kind == "stack":
        steps = rng.sample(_STACKABLE, rng.randint(2, 3))
        # Compression wraps everything else: it goes last.
        steps.sort(key=lambda s: s == "compress")
    for step in steps:
        result = MUTATIONS[step](rng, out.data)
        out.data, label = result[0], result[1]
        out.labels.append(label)
        if len(result) == 3:
            out.suffix = result[2]
    return out


# ----------------------------------------------------------------------------------------------
# Cases and their outcomes


@dataclass
class Case:
    """One fuzz case: rebuilt from ``(format, seed, number)`` by :func:`make_case`."""

    format: str
    seed: int
    number: int
    sample: Path
    kind: str
    labels: list[str]
    explicit_format: bool
    filename: str
    data: bytes = field(repr=False)

    @property
    def description(self) -> str:
        return f"{self.sample.name}: {'; '.join(self.labels)}"

    def replay(self) -> str:
        """The command that rebuilds and runs this case again (from the project root)."""
        return (f"python tests/fuzzing.py --format {self.format} --seed {self.seed} --case {self.number}"
                f" --kind {self.kind}")

    def ingest_args(self, path: Path, db: Path) -> list[str]:
        """The ``whuffie`` arguments of the case's ingest."""
        args = ["-q", "ingest", str(path), "--db", str(db)]
        return [*args, "--format", self.format] if self.explicit_format else args


def make_case(fmt: str, seed: int, number: int, kind: str | None = None, sample: Path | None = None,
              shared: Path = SHARED) -> Case:
    """Build case ``number`` of format ``fmt`` for ``seed``: the same arguments give the same bytes.

    ``kind`` forces a mutation kind (default: drawn from the seed); ``sample`` forces the sample
    file (the generator still draws one, so the rest of the case is unchanged).

    Examples
    --------
    >>> a, b = make_case("zeeschuimer", 7, 3), make_case("zeeschuimer", 7, 3)
    >>> a.data == b.data and a.labels == b.labels and a.sample == b.sample
    True
    >>> make_case("zeeschuimer", 7, 3, kind="degenerate").kind
    'degenerate'
    """
    rng = random.Random(f"whuffie-fuzz:{fmt}:{seed}:{number}")
    files = samples(fmt, shared)
    drawn = files[rng.randrange(len(files))]
    sample = sample or drawn
    drawn_kind = rng.choice(KINDS)
    kind = kind or drawn_kind
    explicit = rng.random() < 0.75
    out = mutate(rng, sample.read_bytes(), kind)
    name = sample.name
    if out.suffix and not name.endswith(out.suffix):
        name += out.suffix
    return Case(fmt, seed, number, sample, kind, out.labels, explicit, name, out.data)


@dataclass
class Outcome:
    """What a case did: its class, the step it concerns, the figures and the evidence."""

    case: Case
    kind: str
    step: str = "ingest"
    detail: str = ""
    key: str = ""
    exit: int | None = None
    seconds: float = 0.0
    max_rss_mb: float = 0.0
    stderr: str = ""
    command: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+),? in (\S+)', re.M)
_OOM = ("MemoryError", "can't start new thread", "Out of Memory", "std::bad_alloc",
        "Cannot allocate memory", "OutOfMemoryException")


def classify(exit_code: int | None, stderr: str, timed_out: bool = False) -> tuple[str, str]:
    """Class and deduplication key of one ``whuffie`` run from its exit code and standard error.

    ``exit_code`` is negative for a signal (as :mod:`subprocess` reports it).

    Examples
    --------
    >>> classify(0, "")
    ('ok', '')
    >>> classify(1, "Error: a.jsonl line 3: field 'id' is missing\\n")
    ('clean', '')
    >>> tb = 'Traceback (most recent call last):\\n  File "/x/base.py", line 9, in read\\nKeyError: 1\\n'
    >>> classify(1, tb)
    ('CRASH', 'KeyError at base.py:9 in read')
    >>> classify(1, tb.replace("KeyError: 1", "MemoryError"))
    ('OOM', 'MemoryError at base.py:9 in read')
    >>> classify(-11, "")
    ('CRASH', 'killed by SIGSEGV')
    >>> classify(None, "", timed_out=True)
    ('HANG', 'time limit')
    >>> dump = ('Thread 0x1 (most recent call first):\\n  File "/x/gml.py", line 5 in parse\\n'
    ...         '  File "/x/f.py", line 9 in _drive\\n')
    >>> classify(None, dump, timed_out=True)
    ('HANG', 'time limit at gml.py:5 in parse')
    """
    if timed_out:
        return "HANG", f"time limit{_dumped_frame(stderr)}"
    frames = _FRAME.findall(stderr)
    last = ""
    if frames:
        tail = stderr.rstrip().splitlines()[-1] if stderr.strip() else ""
        exc = tail.split(":", 1)[0].strip() or "exception"
        last = f"{exc} at {_where(frames[-1], frames)}"
    if any(marker in stderr for marker in _OOM):
        return "OOM", last or "memory limit"
    if exit_code is not None and exit_code < 0:
        if -exit_code == signal.SIGKILL:
            return "OOM", "killed by SIGKILL (memory)"
        return "CRASH", f"killed by {signal.Signals(-exit_code).name}"
    if "Traceback (most recent call last)" in stderr:
        return "CRASH", last or "traceback"
    if exit_code == 0:
        return "ok", ""
    errors = [ln for ln in stderr.splitlines() if ln.startswith("Error:")]
    if exit_code in (1, 2) and len(errors) == 1:
        return "clean", ""
    return "CRASH", f"exit {exit_code} with {len(errors)} 'Error:' line(s)"


def _dumped_frame(stderr: str) -> str:
    """`` at file:line in function``: the innermost frame of the driver's thread in a stack dump.

    The driver dumps its threads (faulthandler) before the time limit and when the watchdog
    finds it above the memory limit, innermost frame first; its main thread runs ``_drive``.
    """
    for block in stderr.split("(most recent call first):")[1:]:
        frames = _FRAME.findall(block.split("\n\n", 1)[0])
        if frames and any(f[2] == "_drive" for f in frames):
            return " at " + _where(frames[0], frames)
    return ""


def _where(last: tuple[str, str, str], frames: list[tuple[str, str, str]]) -> str:
    """``file:line in function`` of the last frame, and of the innermost frame of Whuffie's
    own code when the last one is in a library (``numpy``, ``orjson``...)."""
    here = f"{Path(last[0]).name}:{last[1]} in {last[2]}"
    if "/whuffie/" in last[0]:
        return here
    own = [f for f in frames if "/whuffie/" in f[0]]
    if own:
        mine = own[0] if frames[0] is last else own[-1]
        return f"{here} via {Path(mine[0]).name}:{mine[1]} in {mine[2]}"
    return here


def _limits(memory: int) -> Callable[[], None]:
    def apply() -> None:
        space = memory * ADDRESS_SPACE_FACTOR
        resource.setrlimit(resource.RLIMIT_AS, (space, space))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_case(case: Case, workdir: Path, timeout: float = TIME_LIMIT, memory: int = MEMORY_LIMIT,
             check: bool = True) -> Outcome:
    """Write the case's file in ``workdir``, run it in a child process and classify what happened.

    With ``check`` (the default) an ingest that ends ``ok`` or ``clean`` is followed by the same
    ingest again, which must not change any table but the import log, and by
    ``whuffie status --json``, which must succeed.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / case.filename
    path.write_bytes(case.data)
    db = workdir / "store.duckdb"
    spec = {"args": case.ingest_args(path, db), "db": str(db), "dir": str(workdir), "check": check,
            "dump_after": max(timeout - 3, 1)}
    (workdir / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", "PYTHONFAULTHANDLER": "1"}
    env.pop("WHUFFIE_DB", None)
    start = time.perf_counter()
    timed_out = threading.Event()
    with open(workdir / "driver.err", "wb") as errors:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--drive",
                                 str(workdir / "spec.json")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                preexec_fn=_limits(memory), start_new_session=True, env=env, cwd=workdir)

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        over_memory, finished = threading.Event(), threading.Event()

        def watch() -> None:
            page = os.sysconf("SC_PAGE_SIZE")
            while not finished.wait(0.05):
                try:
                    with open(f"/proc/{proc.pid}/statm") as fh:
                        resident = int(fh.read().split()[1]) * page
                except (OSError, ValueError, IndexError):
                    return
                if resident > memory:
                    over_memory.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGUSR1)  # the driver dumps its stacks
                        time.sleep(0.5)
                        os.killpg(proc.pid, signal.SIGKILL)
                    return

        # os.wait4 rather than Popen.wait: it also returns the child's peak resident memory.
        timer = threading.Timer(timeout, kill)
        watcher = threading.Thread(target=watch, daemon=True)
        timer.start()
        watcher.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            finished.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    outcome = Outcome(case, "ok", seconds=seconds, max_rss_mb=usage.ru_maxrss / 1024,
                      command="whuffie " + " ".join(_quote(a) for a in spec["args"]))
    if over_memory.is_set() or usage.ru_maxrss * 1024 > memory:
        marker = workdir / "step"
        outcome.step = marker.read_text().strip() if marker.exists() else "ingest"
        outcome.kind, outcome.exit = "OOM", proc.returncode
        outcome.stderr = _read(workdir / f"{outcome.step}.err")
        outcome.key = f"resident memory above {memory >> 20} MiB{_dumped_frame(outcome.stderr)}"
        return outcome
    marker = workdir / "step"
    step = marker.read_text().strip() if marker.exists() else "ingest"
    outcome.step = step
    result_file = workdir / "result.json"
    driver_err = (workdir / "driver.err").read_text(errors="replace")
    if timed_out.is_set() or not result_file.exists():
        err = _read(workdir / f"{step}.err") + driver_err
        kind, key = classify(proc.returncode if not timed_out.is_set() else None, err, timed_out.is_set())
        if kind in ("ok", "clean"):
            kind, key = "CRASH", f"driver ended with {proc.returncode} without a result"
        outcome.kind, outcome.key, outcome.exit, outcome.stderr = kind, key, proc.returncode, err
        outcome.detail = f"{kind} in step {step}"
        return outcome
    result = json.loads(result_file.read_text())
    first = result["steps"]["ingest"]
    outcome.exit = first["exit"]
    outcome.stderr = _read(workdir / "ingest.err")
    outcome.kind, outcome.key = classify(first["exit"], outcome.stderr)
    outcome.step = "ingest"
    if outcome.failed or not check:
        return outcome
    for name in ("reingest", "status"):
        got = result["steps"].get(name)
        if got is None:
            continue
        err = _read(workdir / f"{name}.err")
        kind, key = classify(got["exit"], err)
        differs = kind != ("ok" if name == "status" else outcome.kind)
        if kind in FAILURES or differs:
            outcome.kind = kind if kind in FAILURES else "INCONSISTENT"
            outcome.key = key or f"ended {kind} after {outcome.kind}: {err.strip()[-200:]}"
            outcome.step, outcome.stderr = name, err
            return outcome
    if result.get("status_error"):
        outcome.kind, outcome.step = "INCONSISTENT", "status"
        outcome.key = f"status --json: {result['status_error']}"
        return outcome
    before, after = result.get("before", {}), result.get("after", {})
    grown = {t: (before.get(t, 0), n) for t, n in after.items()
             if t.rsplit(".", 1)[-1] not in GROWING_TABLES and n != before.get(t, 0)}
    if grown:
        outcome.kind, outcome.step = "INCONSISTENT", "reingest"
        outcome.key = "re-run changed " + ", ".join(sorted(grown))
        outcome.detail = ", ".join(f"{t}: {a} -> {b}" for t, (a, b) in sorted(grown.items()))
    return outcome


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def failure_key(outcome: Outcome) -> str:
    """The deduplication key of a failure: class, step and the last traceback frame (or the symptom).

    Examples
    --------
    >>> case = make_case("zeeschuimer", 1, 0, kind="degenerate")
    >>> failure_key(Outcome(case, "CRASH", key="KeyError at base.py:9 in read"))
    'CRASH ingest: KeyError at base.py:9 in read'
    """
    key = outcome.key
    symptom_only = key.startswith(("time limit", "memory limit", "killed by SIGKILL", "resident memory"))
    if symptom_only and " at " not in key:
        key = f"{key} ({outcome.case.format}, {outcome.case.kind})"
    return f"{outcome.kind} {outcome.step}: {key}"


def save_finding(outcome: Outcome, folder: Path = FINDINGS, smaller: Case | None = None) -> Path:
    """Keep a failing case: its input file and a note with the commands and the error.

    ``smaller`` is a minimized case with the same failure (see :func:`minimize`), kept beside it.
    Returns the note's path.
    """
    case = outcome.case
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{outcome.kind.lower()}-{case.format}-s{case.seed}-c{case.number}"
    data = folder / f"{stem}-{case.filename}"
    data.write_bytes(case.data)
    note = folder / f"{stem}.txt"
    command = " ".join(["whuffie", *case.ingest_args(data, folder / f"{stem}.duckdb")])
    note.write_text(
        f"{failure_key(outcome)}\n\n"
        f"format: {case.format}  sample: {case.sample}\nmutation: {'; '.join(case.labels)}\n"
        f"step: {outcome.step}  exit: {outcome.exit}  seconds: {outcome.seconds:.1f}  "
        f"peak RSS: {outcome.max_rss_mb:.0f} MiB\n\n"
        f"reproduce:\n  rm -f {folder / stem}.duckdb*; {command}\n"
        f"replay from the seed (project root):\n  {case.replay()}\n\n"
        f"stderr (last 4000 characters):\n{outcome.stderr[-4000:]}\n{outcome.detail}\n")
    if smaller is not None:
        small = folder / f"{stem}-min-{case.filename}"
        small.write_bytes(smaller.data)
        command = " ".join(["whuffie", *case.ingest_args(small, folder / f"{stem}-min.duckdb")])
        with note.open("a") as fh:
            fh.write(f"\nminimized ({len(smaller.data):,} of {len(case.data):,} bytes):\n"
                     f"  rm -f {folder / stem}-min.duckdb*; {command}\n")
    return note


_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def minimize(outcome: Outcome, workdir: Path, tries: int = 12, timeout: float = TIME_LIMIT,
             memory: int = MEMORY_LIMIT) -> Case | None:
    """A smaller case with the same failure key, by removing blocks of lines (delta debugging).

    Each try runs the case again, so ``tries`` bounds the time spent. Hangs, memory blow-ups,
    compressed inputs and inputs of one line are left as they are (``None``); so is a case no try
    could shrink.
    """
    import dataclasses

    case, key = outcome.case, failure_key(outcome)
    lines = _lines(case.data)
    # Hangs and memory blow-ups depend on size: shrinking them only spends time limits.
    if outcome.kind in ("HANG", "OOM") or case.data.startswith(_COMPRESSED) or len(lines) < 2:
        return None
    best: Case | None = None
    n, attempt = 2, 0
    while attempt < tries and len(lines) >= 2:
        size = -(-len(lines) // n)
        for i in range(0, len(lines), size):
            if attempt >= tries:
                break
            attempt += 1
            rest = lines[:i] + lines[i + size:]
            trial = dataclasses.replace(case, data=b"".join(rest), labels=[*case.labels, "minimized"])
            got = run_case(trial, workdir / f"min{attempt}", timeout=timeout, memory=memory,
                           check=outcome.step != "ingest")
            if got.failed and failure_key(got) == key:
                lines, best = rest, trial
                n = max(n - 1, 2)
                break
        else:
            if n >= len(lines):
                break
            n = min(2 * n, len(lines))
    return best


def cases(formats: list[str], seed: int, start: int = 0, shared: Path = SHARED) -> Iterator[Case]:
    """Cases ``start, start+1, ...`` of every format in turn, forever (formats without samples skipped)."""
    usable = []
    for fmt in formats:
        try:
            samples(fmt, shared)
            usable.append(fmt)
        except LookupError:
            continue
    n = start
    while usable:
        for fmt in usable:
            yield make_case(fmt, seed, n, shared=shared)
        n += 1


# ----------------------------------------------------------------------------------------------
# The child: run the steps of a case in one process, each with its own stdout and stderr files.


@contextlib.contextmanager
def _redirected(out: Path, err: Path) -> Iterator[None]:
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fo = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    fe = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fo, 1)
    os.dup2(fe, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (fo, fe, *saved):
            os.close(fd)


def _step(folder: Path, name: str, args: list[str]) -> int:
    """Run one ``whuffie`` command in this process as the console script would; its exit code."""
    import traceback

    from whuffie.cli import app

    (folder / "step").write_text(name)
    code: int = 0
    with _redirected(folder / f"{name}.out", folder / f"{name}.err"):
        try:
            app(args=args, prog_name="whuffie")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - reported as the interpreter would, then classified
            traceback.print_exc()
            code = 1
    return code


def table_counts(db: str) -> dict[str, int]:
    """Row count of every table of a store (opened read-only), keyed ``schema.table``."""
    import duckdb

    if not Path(db).exists():
        return {}
    con = duckdb.connect(db, read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}
    finally:
        con.close()


def _drive(spec_path: str) -> None:
    import faulthandler

    spec = json.loads(Path(spec_path).read_text())
    # Where a hang spends its time: the stacks go to the standard error of the step then running.
    faulthandler.dump_traceback_later(spec["dump_after"], exit=False)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    folder = Path(spec["dir"])
    result: dict = {"steps": {}}
    start = time.perf_counter()
    code = _step(folder, "ingest", spec["args"])
    result["steps"]["ingest"] = {"exit": code, "seconds": round(time.perf_counter() - start, 2)}
    if spec["check"] and code in (0, 1, 2):
        (folder / "step").write_text("reingest")
        result["before"] = table_counts(spec["db"])
        result["steps"]["reingest"] = {"exit": _step(folder, "reingest", spec["args"])}
        (folder / "step").write_text("status")
        result["after"] = table_counts(spec["db"])
        if Path(spec["db"]).exists():
            status = _step(folder, "status", ["status", "--db", spec["db"], "--json"])
            result["steps"]["status"] = {"exit": status}
            if status == 0:
                try:
                    parsed = json.loads((folder / "status.out").read_text())
                    if not isinstance(parsed, dict):
                        result["status_error"] = f"not a JSON object: {type(parsed).__name__}"
                except ValueError as exc:
                    result["status_error"] = f"not JSON ({exc})"
    (folder / "result.json").write_text(json.dumps(result))


def replay(argv: list[str] | None = None) -> int:
    """Rebuild one case from its seed and run it (the ``python tests/fuzzing.py`` command)."""
    parser = argparse.ArgumentParser(description=replay.__doc__)
    parser.add_argument("--format", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--case", type=int, required=True)
    parser.add_argument("--kind", choices=KINDS, help="the mutation kind (default: drawn from the seed)")
    parser.add_argument("--sample", type=Path, help="another sample file than the one the seed draws")
    parser.add_argument("--keep", type=Path, help="folder to write the case's file and store into")
    parser.add_argument("--timeout", type=float, default=TIME_LIMIT)
    args = parser.parse_args(argv)
    case = make_case(args.format, args.seed, args.case, kind=args.kind, sample=args.sample)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="whuffie-fuzz-"))
    outcome = run_case(case, folder, timeout=args.timeout)
    print(f"{case.format} case {case.number} (seed {case.seed}): {case.description}")
    print(f"outcome: {outcome.kind} in {outcome.step} {outcome.key} ({outcome.seconds:.1f} s, "
          f"peak RSS {outcome.max_rss_mb:.0f} MiB)")
    print(f"command: {outcome.command}")
    if outcome.stderr.strip():
        print(outcome.stderr[-3000:])
    print(f"files in {folder}")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--drive":
        _drive(sys.argv[2])
    else:
        sys.exit(replay())
