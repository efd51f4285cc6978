"""Opening input files: compression, hashing, progress, line splitting and encodings.

Readers never open files themselves; they get an :class:`Input`, whose
``stream`` yields the decompressed bytes. Compression is recognised by its
magic bytes, not by the file name (gzip, bzip2, xz, and zstd with windows up to
2 GiB, as in the Pushshift / Arctic Shift dumps). While a reader consumes the
stream the raw bytes are hashed (sha256, recorded with the import) and counted
(for the progress bar), so a file is read only once. An input may also be an
open binary stream (standard input): it is hashed and measured as it streams.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import hashlib
import io
import lzma
import os
import re
import zlib
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import charset_normalizer
import ijson
import numpy as np
import orjson
import zstandard

#: How much of a file the sniffers see.
HEAD_SIZE = 64 * 1024

# -- limits -----------------------------------------------------------------------------------
#
# Whatever the input, memory stays bounded: a record (a line of JSON lines, an email, a
# whole-file JSON document parsed at once) is never held beyond MAX_RECORD_BYTES, and JSON
# streamed with ijson is never nested beyond MAX_JSON_DEPTH. Real data is far below both:
# a twarc2 page of 500 tweets with its expansions is 2-5 MB, a Pushshift line under 1 MB,
# and API responses nest a few dozen levels (a Bluesky thread of 200 replies ~400).

#: The longest record (a line, an email, a JSON document read whole) kept, in bytes.
MAX_RECORD_BYTES = 64 << 20
#: The deepest nesting of a JSON value read from a streamed document. ijson keeps the path
#: of every open level, so its memory grows with the square of the depth (3 GB at 50,000).
#: The same bound lets the store encode any record's fields without deep recursion.
MAX_JSON_DEPTH = 512
#: The longest single value (a string, a number) of a JSON document streamed with ijson.
#: ijson's time grows with the square of a string's length (8 MiB: 0.5 s, 16 MiB: 2 s,
#: 64 MiB: 32 s); real text fields are far shorter (a Telegram message: 4096 characters).
MAX_JSON_VALUE_BYTES = 8 << 20
#: The most bytes a compressed file may give per byte it holds, once it has given
#: :data:`BOMB_FLOOR_BYTES`: real exports compress 5-20 times (Pushshift's zstd --long dumps
#: about 10); a file that gives two hundred times its size is a decompression bomb, and reading
#: it on would take hours (2.5 GB of newlines fit in 2.4 MB of gzip).
MAX_COMPRESSION_RATIO = 200
#: Bytes a compressed file gives before its ratio is checked.
BOMB_FLOOR_BYTES = 16 << 20
#: How much of an over-long line is kept for the quarantine excerpt.
_LONG_HEAD = 1024

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zstd")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def compression_of(path: str | os.PathLike) -> str | None:
    """Name the compression of a file from its first bytes, or ``None``.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> with tempfile.NamedTemporaryFile(suffix=".x", delete=False) as fh:
    ...     _ = fh.write(gzip.compress(b"hello"))
    >>> compression_of(fh.name)
    'gzip'
    >>> os.remove(fh.name)
    """
    with open(path, "rb") as fh:
        return _compression(fh.read(8))


class DecompressionBomb(OSError):
    """A compressed file that gives more than :data:`MAX_COMPRESSION_RATIO` times its size."""


class _BombGuard:
    """The decompressed bytes of ``stream``; raises :class:`DecompressionBomb` once they pass
    :data:`BOMB_FLOOR_BYTES` and :data:`MAX_COMPRESSION_RATIO` times the compressed bytes read.

    A proxy, not a buffer: the decompressor's own ``readline`` and ``peek`` give the lines
    before a damaged block, which a buffer filled in large reads would lose with the error.

    Examples
    --------
    >>> import gzip
    >>> raw = _HashingFile(io.BytesIO(gzip.compress(b"\\n" * (BOMB_FLOOR_BYTES + 1))))
    >>> guard = _BombGuard(gzip.GzipFile(fileobj=raw), raw, Path("x.gz"))
    >>> while guard.read(1 << 20):
    ...     pass
    Traceback (most recent call last):
    ...
    whuffie.sources.io.DecompressionBomb: x.gz gives more than 200 times its size once decompressed ...
    """

    def __init__(self, stream, raw: _HashingFile, path: Path) -> None:
        self._stream, self._raw, self._path = stream, raw, path
        self.given = 0

    def _count(self, n: int) -> None:
        self.given += n
        if self.given > BOMB_FLOOR_BYTES and self.given > MAX_COMPRESSION_RATIO * max(self._raw.consumed, 1):
            raise DecompressionBomb(
                f"{self._path} gives more than {MAX_COMPRESSION_RATIO} times its size once decompressed "
                f"({self.given >> 20} MiB from {self._raw.consumed:,} bytes): a decompression bomb? "
                "Decompress it yourself if it is genuine")

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._count(len(data))
        return data

    def read1(self, size: int = -1) -> bytes:
        data = self._stream.read1(size)
        self._count(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self._count(len(data))
        return data

    def readinto(self, buffer) -> int:
        n = self._stream.readinto(buffer)
        self._count(n or 0)
        return n

    def peek(self, size: int = 0) -> bytes:
        return self._stream.peek(size)

    def readable(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _HashingFile(io.RawIOBase):
    """A raw file that hashes and counts every byte read through it.

    ``owned=False`` wraps a stream somebody else opened (standard input): it is
    read to its end but not closed.
    """

    def __init__(self, fh: BinaryIO, owned: bool = True) -> None:
        self._fh = fh
        self._owned = owned
        self._read_some = getattr(fh, "readinto", None) or self._read_copy
        self._hash = hashlib.sha256()
        self._digest: str | None = None
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def _read_copy(self, view: memoryview) -> int:
        """readinto() for a stream that only has read()."""
        data = self._fh.read(len(view))
        view[:len(data)] = data
        return len(data)

    def readinto(self, buffer) -> int:
        # A pipe returns what it holds; filling the buffer makes peek() see whole magic
        # numbers and sniffing heads, as with a file.
        view = memoryview(buffer).cast("B")
        n = 0
        while n < len(view):
            got = self._read_some(view[n:])
            if not got:
                break
            n += got
        if n:
            self._hash.update(view[:n])
            self.consumed += n
        return n

    def finish(self) -> str:
        """Hash whatever the reader did not consume and return the hex digest."""
        if self._digest is None:
            while chunk := self._fh.read(1 << 20):
                self._hash.update(chunk)
                self.consumed += len(chunk)
            self._digest = self._hash.hexdigest()
        return self._digest

    def close(self) -> None:
        # Wrappers (a TextIOWrapper a reader dropped) may close us early: hash first.
        if not getattr(self._fh, "closed", False):
            self.finish()
            if self._owned:
                self._fh.close()
        super().close()


class Input:
    """One input file, opened for a reader.

    Parameters
    ----------
    path : str, Path or binary stream
        The file to read, or an open binary stream such as ``sys.stdin.buffer``.
        Compressed data is decompressed transparently.
    name : str, optional
        What to call a stream (default: its ``name`` attribute, else ``<stream>``).

    Attributes
    ----------
    path : Path
        The file (for a stream, its name: ``<stdin>``).
    name : str
        The file name without a compression suffix (``RC_2005-12.zst`` -> ``RC_2005-12``).
    size : int or None
        Size of the file on disk in bytes; for a stream, ``None`` until it has
        been read to its end (after :meth:`sha256` or :meth:`close`).
    compression : str or None
        ``gzip``, ``bzip2``, ``xz``, ``zstd`` or ``None``.
    stream : BinaryIO
        The decompressed bytes.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as fh:
    ...     _ = fh.write(b'{"a": 1}\\n{"a": 2}\\n')
    >>> with Input(fh.name) as inp:
    ...     [(n, off, line) for n, off, line in inp.lines()]
    [(1, 0, b'{"a": 1}\\n'), (2, 9, b'{"a": 2}\\n')]
    >>> os.remove(fh.name)
    >>> import gzip, hashlib
    >>> data = gzip.compress(b'{"a": 1}\\n')
    >>> with Input(io.BytesIO(data), name="<stdin>") as inp:
    ...     inp.compression, inp.head(), inp.stream.read(), inp.size
    ('gzip', b'{"a": 1}\\n', b'{"a": 1}\\n', None)
    >>> inp.size == len(data), inp.sha256() == hashlib.sha256(data).hexdigest()
    (True, True)
    """

    def __init__(self, path: str | os.PathLike | BinaryIO, name: str | None = None) -> None:
        if hasattr(path, "read"):
            self.path = Path(name or str(getattr(path, "name", "") or "<stream>"))
            self.is_stream = True
            self.size: int | None = None
            self._raw = _HashingFile(path, owned=False)  # type: ignore[arg-type]
        else:
            self.path = Path(path)  # type: ignore[arg-type]
            self.is_stream = False
            self.size = self.path.stat().st_size
            self._raw = _HashingFile(open(self.path, "rb"))  # noqa: SIM115 - closed by close()
        buffered = io.BufferedReader(self._raw, 1 << 20)
        self.compression = _compression(buffered.peek(8)[:8])
        name = self.path.name
        if self.compression and name.lower().endswith(COMPRESSED_SUFFIXES):
            name = name.rsplit(".", 1)[0]
        self.name = name
        self.stream: BinaryIO = self._decompressing(buffered)
        self._sha256: str | None = None

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first ``size`` decompressed bytes, without consuming them (for sniffing).

        Damaged compressed data gives what could be decompressed, possibly nothing.
        """
        try:
            head = self.stream.read(size)
        except DAMAGED_INPUT:
            head = b""
        # Put the bytes back in front of the rest, behind a buffer readers can peek into.
        self.stream = io.BufferedReader(_Replay(head, self.stream), 1 << 20)  # type: ignore[assignment]
        return head

    def _zstd(self, raw: BinaryIO) -> BinaryIO:
        # Pushshift dumps use a 2 GiB window ("--long=31"); the default decoder refuses them.
        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        return self._guarded(io.BufferedReader(dctx.stream_reader(raw, read_across_frames=True), 1 << 20))

    def _decompressing(self, raw: BinaryIO) -> BinaryIO:
        c = self.compression
        if c is None:
            return raw
        if c == "gzip":
            return self._guarded(gzip.GzipFile(fileobj=raw, mode="rb"))
        if c == "bzip2":
            return self._guarded(bz2.BZ2File(raw, "rb"))
        if c == "xz":
            return self._guarded(lzma.LZMAFile(raw, "rb"))
        return self._zstd(raw)

    def _guarded(self, stream) -> BinaryIO:
        return _BombGuard(stream, self._raw, self.path)  # type: ignore[return-value]

    @property
    def consumed(self) -> int:
        """Bytes of the file on disk read so far (for progress bars)."""
        return self._raw.consumed

    def sha256(self) -> str:
        """The sha256 of the file on disk; reads the rest of the file if needed."""
        if self._sha256 is None:
            self._sha256 = self._raw.finish()
            if self.is_stream:
                self.size = self._raw.consumed
        return self._sha256

    def lines(self, limit: int = MAX_RECORD_BYTES) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(line_number, byte_offset, raw_line)`` from the decompressed stream.

        Line numbers are 1-based and byte offsets are into the decompressed
        bytes, so a quarantined record can be found again with ``sed -n`` or
        ``tail -c``. A line longer than ``limit`` bytes is never held whole: it is
        skipped in bounded chunks and yielded as a :class:`LongLine` (its first
        bytes, and its length), which the reader quarantines.
        """
        offset, n = 0, 1
        for line in bounded_lines(self.stream, limit):
            yield n, offset, line
            offset += line_length(line)
            n += line_count(line)

    def close(self) -> None:
        """Close the file (the hash is completed first)."""
        self.sha256()
        self.stream.close()
        self._raw.close()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bounded_lines(stream, limit: int = MAX_RECORD_BYTES) -> Iterator[bytes]:
    """The lines of a binary stream, none held beyond ``limit`` bytes: a longer one is skipped
    in bounded chunks and yielded as a :class:`LongLine`; a run of blank lines (empty or white
    space, from a stream that can ``peek``) is one item, whose new lines :func:`line_count` counts.

    A flood of new lines (2.5 GB fit in 2.4 MB of gzip) would otherwise cost a Python loop turn
    per line: hours for nothing.

    Examples
    --------
    >>> import io
    >>> lines = bounded_lines(io.BufferedReader(io.BytesIO(b"ab\\nabcdefg\\n\\n\\n\\nc")), 4)
    >>> [(bytes(x), line_length(x), line_count(x)) for x in lines]
    [(b'ab\\n', 3, 1), (b'abcd', 8, 1), (b'\\n\\n\\n', 3, 3), (b'c', 1, 1)]
    """
    readline = stream.readline
    peek = getattr(stream, "peek", None)
    while line := readline(limit):
        if len(line) >= limit and not line.endswith(b"\n"):
            line = LongLine.skip_rest(line, readline)
        elif peek is not None and line.isspace():
            line += blank_lines(stream, limit - len(line))
        yield line


def blank_lines(stream, limit: int = MAX_RECORD_BYTES) -> bytes:
    """The blank lines (empty or white space) at the head of a stream that can ``peek``, read in
    bulk up to ``limit`` bytes, up to the end of the last whole one.

    Examples
    --------
    >>> stream = io.BufferedReader(io.BytesIO(b"\\n \\r\\n\\t\\n  x\\n"))
    >>> blank_lines(stream), stream.read()
    (b'\\n \\r\\n\\t\\n', b'  x\\n')
    """
    run, size = [], 0
    while size < limit:
        head = stream.peek(1 << 16)[:limit - size]
        k = head.rfind(b"\n", 0, len(head) - len(head.lstrip())) + 1
        if not k:
            break
        run.append(stream.read(k))
        size += k
    return b"".join(run)


def line_length(line: bytes) -> int:
    """The length in the file of a line :func:`bounded_lines` gave (a :class:`LongLine`'s whole length)."""
    return line.length if isinstance(line, LongLine) else len(line)


def line_count(line: bytes) -> int:
    """How many lines of the file an item of :func:`bounded_lines` stands for."""
    return 1 if isinstance(line, LongLine) else (line.count(b"\n") or 1)


class LongLine(bytes):
    """The first bytes of a line longer than the record limit; ``length`` is its full length.

    Examples
    --------
    >>> chunks = iter([b"bbbb", b"cc\\n"])
    >>> long = LongLine.skip_rest(b"aaaa", lambda size: next(chunks))
    >>> bytes(long), long.length
    (b'aaaa', 11)
    >>> too_long(long, 7)
    'line 7 is 11 bytes long, more than the limit of one record (64 MiB); it was skipped'
    """

    length: int

    @classmethod
    def skip_rest(cls, start: bytes, readline) -> LongLine:
        """Read the rest of a line whose first bytes are ``start`` in bounded chunks, keeping none."""
        length = len(start)
        while part := readline(1 << 20):
            length += len(part)
            if part.endswith(b"\n"):
                break
        line = cls(start[:_LONG_HEAD])
        line.length = length
        return line


def too_long(line: LongLine, n: int | None) -> str:
    """The quarantine reason of an over-long line (see :class:`LongLine`)."""
    where = f"line {n}" if n is not None else "a line"
    return (f"{where} is {line.length} bytes long, more than the limit of one record "
            f"({MAX_RECORD_BYTES >> 20} MiB); it was skipped")


class TooDeep(ijson.common.JSONError):
    """A streamed JSON document nested deeper than :data:`MAX_JSON_DEPTH`, or holding a
    value longer than :data:`MAX_JSON_VALUE_BYTES`.

    It is an ijson error, so a reader streaming with ijson reports it where it reports
    broken JSON.
    """


def depth_limited(stream, limit: int = MAX_JSON_DEPTH) -> _DepthLimited:
    """Wrap a binary stream of JSON so that reading past ``limit`` levels of nesting raises
    :class:`TooDeep` (before a parser such as ijson builds those levels).

    Examples
    --------
    >>> depth_limited(io.BytesIO(b'[[1], {"a": "[[[["}]'), 2).read()
    b'[[1], {"a": "[[[["}]'
    >>> stream = depth_limited(io.BytesIO(b'[[[1]]]'), 2)
    >>> stream.read()
    b'[['
    >>> stream.read()
    Traceback (most recent call last):
    ...
    whuffie.sources.io.TooDeep: the JSON is nested more than 2 levels deep (the limit) at byte 2
    """
    return _DepthLimited(stream, limit)


#: An escape sequence inside a JSON string: its second byte is never a quote that counts.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
#: Byte -> 1 opening bracket, 3 closing bracket, 2 quote, 4 comma or colon, 0 anything else.
_KIND = np.zeros(256, np.int8)
_KIND[[ord("["), ord("{")]] = 1
_KIND[[ord("]"), ord("}")]] = 3
_KIND[ord('"')] = 2
_KIND[[ord(","), ord(":")]] = 4
#: Bytes scanned at once (the scan's arrays take about 20 bytes per byte scanned).
_SCAN_SLICE = 1 << 20
#: Kind -> change of depth.
_STEP = np.array([0, 1, 0, -1, 0], np.int8)


class _DepthLimited:
    """See :func:`depth_limited`.

    No JSON library reports the depth of a stream without building it, so the bytes are
    scanned here, vectorised with numpy (hundreds of MB/s): escapes are dropped, quotes
    counted to tell string bytes from structure, and the brackets outside strings summed.
    """

    def __init__(self, stream, limit: int) -> None:
        self._stream, self._limit = stream, limit
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._at = 0
        self._last = 0  # position of the last token boundary
        self._error: TooDeep | None = None

    def read(self, size: int = -1) -> bytes:
        # The bytes before the problem are returned first, so that the parser yields the
        # records before it; the next read raises.
        if self._error is not None:
            raise self._error
        data = self._stream.read(size)
        keep = 0
        # In slices, so that the scan's arrays stay small whatever the read's size.
        for start in range(0, len(data), _SCAN_SLICE):
            keep = start + self._scan(data[start:start + _SCAN_SLICE])
            if self._error is not None:
                break
        return data[:keep] if keep < len(data) else data

    def _scan(self, data: bytes) -> int:
        """Follow ``data``; return how much of it comes before a problem (all, if none)."""
        at, self._at = self._at, self._at + len(data)
        scanned = data
        if self._escaped:
            scanned, self._escaped = b"_" + data[1:], False
        if b"\\" in scanned:
            # Escape pairs become two neutral bytes: positions stay those of the data.
            scanned = _ESCAPE.sub(b"__", scanned)
            if scanned.endswith(b"\\"):  # an escape cut by the chunk's end
                scanned, self._escaped = scanned[:-1] + b"_", True
        a = np.frombuffer(scanned, np.uint8)
        where = np.flatnonzero(_KIND[a])  # quotes, brackets, commas and colons only
        kind = _KIND[a[where]]
        quotes = np.cumsum(kind == 2, dtype=np.int32) + self._in_string
        outside = (quotes & 1) == 0
        if len(where):
            depth = np.cumsum(np.where(outside, _STEP[kind], 0), dtype=np.int64) + self._depth
            over = depth > self._limit
            if over.any():
                cut = int(where[over.argmax()])
                self._error = TooDeep(f"the JSON is nested more than {self._limit} levels deep "
                                      f"(the limit) at byte {at + cut}")
                return cut
            self._depth = int(depth[-1])
            self._in_string = bool(quotes[-1] & 1)
        # A token (string, number) is what lies between two structural bytes outside strings
        # or between two quotes: ijson holds it whole, so its length is bounded too.
        bounds = where[np.flatnonzero(outside | (kind == 2))] + at
        gaps = np.diff(bounds, prepend=self._last, append=at + len(data))
        if len(gaps) and int(gaps.max()) > MAX_JSON_VALUE_BYTES:
            self._error = TooDeep(f"a JSON value is longer than the limit of "
                                  f"{MAX_JSON_VALUE_BYTES >> 20} MiB before byte {at + len(data)}")
        if len(bounds):
            self._last = int(bounds[-1])
        return len(data)


#: What a damaged or truncated compressed file raises while it is read.
DAMAGED_INPUT = (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError, zlib.error)


def _compression(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class _Replay(io.RawIOBase):
    """A raw stream that returns ``prefix``, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def head_bytes(path: str | os.PathLike, size: int = HEAD_SIZE) -> bytes:
    """The first ``size`` decompressed bytes of a file (for sniffing).

    A damaged compressed file gives what could be decompressed, possibly nothing.
    """
    inp = Input(path)
    try:
        return inp.stream.read(size)
    except DAMAGED_INPUT:
        return b""
    finally:
        inp.stream.close()
        inp._raw.close()


def detect_encoding(sample: bytes) -> str:
    """Guess the text encoding of a byte sample.

    A BOM wins; then UTF-8 if the sample decodes (a multi-byte character cut at
    the end of the sample is allowed); otherwise charset-normalizer's best
    guess, and cp1252 when it has none.

    Examples
    --------
    >>> detect_encoding(b"\\xef\\xbb\\xbfid,name\\n")
    'utf-8-sig'
    >>> detect_encoding("caf\\u00e9".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("Le caf\\u00e9 est tr\\u00e8s bon, merci beaucoup".encode("cp1252"))
    'cp1252'
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(sample).best()
    name = codecs.lookup(best.encoding).name if best is not None else None
    if name in _MULTIBYTE_PREFIXES or (name or "").startswith(_MULTIBYTE_PREFIXES):
        return name
    # Short samples make single-byte guesses unreliable (cp1250, cp775 for French
    # text); cp1252 is by far the most common legacy encoding of real exports,
    # so it wins whenever it decodes the sample.
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return name or "latin-1"


_MULTIBYTE_PREFIXES = ("gb", "big5", "shift_jis", "euc", "utf-16", "utf-32", "cp932", "cp949",
                       "cp950", "iso2022", "hz", "johab", "koi8")


def open_text(inp: Input, sample_size: int = HEAD_SIZE) -> io.TextIOWrapper:
    """Wrap an :class:`Input` as text, detecting the encoding from its first bytes.

    Undecodable bytes later in the file become U+FFFD rather than aborting the
    import: the record survives, the damage is visible in its text.
    """
    buffered = inp.stream if isinstance(inp.stream, io.BufferedReader) else io.BufferedReader(inp.stream)  # type: ignore[arg-type]
    inp.stream = buffered
    encoding = detect_encoding(buffered.peek(sample_size)[:sample_size])
    return io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline="")  # type: ignore[arg-type]


#: Characters :class:`TextLines` reads at a time.
_TEXT_CHUNK = 1 << 20
#: A stretch of white space at least this long is taken by :class:`TextLines` in one step.
BLANK_STRETCH = 1 << 16
_TERMINATOR = re.compile(r"\r\n?|\n")
_TEXT_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)")


class TextLines:
    """The lines of a text stream for line-oriented readers (CSV, edge lists), bounded in memory
    and in time whatever the input.

    Iterating gives the lines with their ends (``\\n``, ``\\r\\n`` or a bare ``\\r``, as a
    ``newline=""`` text file does), one *item* per line, with two exceptions:

    * a line longer than ``limit`` characters is never held whole: its item is its first and
      last characters, with a quote between them when the part left out holds an odd number
      of quotes (so a CSV parser's quoting state is that of the whole line); :meth:`cut`
      tells a reader which items were cut and how long their lines were;
    * a stretch of white space of :data:`BLANK_STRETCH` characters or more over several
      lines is one item, a new line: a flood of blank lines (2.5 GB of them fit in a few
      MB of gzip) would otherwise cost a Python loop turn per line, hours for nothing.

    :meth:`line_of` gives the line of the file an item starts on. Item numbers are those a
    :func:`csv.reader` over this iterator counts in ``line_num``.

    ``io.TextIOWrapper`` has neither bound: its lines are held whole, however long. This
    class reads the text in chunks of a megabyte and splits them with one regular expression
    (written here, since no library bounds line length while keeping CSV quoting).

    Examples
    --------
    >>> text = "a,b\\r\\n" + "x" * 12 + '"' + "x" * 20 + "\\n" + " \\n" * 20 + "c,d"
    >>> lines = TextLines(io.StringIO(text), limit=20, stretch=8)
    >>> [(lines.line_of(i), line) for i, line in enumerate(lines, 1)]  # doctest: +NORMALIZE_WHITESPACE
    [(1, 'a,b\\r\\n'), (2, 'xxxxxxxxxx"xxxxxxxxx\\n'), (3, ' \\n'), (4, '\\n'), (13, ' \\n'),
     (14, '\\n'), (23, 'c,d')]
    >>> lines.cut(1, 3)
    34
    """

    def __init__(self, text, limit: int = MAX_RECORD_BYTES, chunk: int = _TEXT_CHUNK,
                 stretch: int = BLANK_STRETCH) -> None:
        self.text = text
        # A line longer than the limit then always spans chunks, where it is measured.
        self.limit, self.chunk, self.stretch = limit, min(chunk, limit), stretch
        self.keep = min(_LONG_HEAD, max(limit // 2, 1))
        self.encoding = getattr(text, "encoding", None)
        self.items = 0
        self._line = 1  # the line of the file the next item starts on
        self._breaks: deque[tuple[int, int]] = deque([(1, 1)])  # (item, line): one line per item from there
        self._cuts: deque[tuple[int, int]] = deque()  # (item, length of its line)

    def line_of(self, item: int) -> int:
        """The line of the file item ``item`` (1-based) starts on. Ask in increasing order:
        what is behind the last item asked for is forgotten."""
        breaks = self._breaks
        while len(breaks) > 1 and breaks[1][0] <= item:
            breaks.popleft()
        first, line = breaks[0]
        return line + item - first

    def cut(self, first: int, last: int) -> int | None:
        """The length of the longest line cut (see above) among items ``first`` to ``last``,
        or None; items up to ``last`` are then forgotten."""
        found = None
        while self._cuts and self._cuts[0][0] <= last:
            item, length = self._cuts.popleft()
            if item >= first:
                found = max(found or 0, length)
        return found

    def too_long(self, line: int, length: int) -> str:
        """The quarantine reason of line ``line`` cut at ``length`` characters (see :meth:`cut`)."""
        shown = f"{self.limit >> 20} MiB" if self.limit >= 1 << 20 else f"{self.limit} characters"
        return (f"line {line} is {length} characters long, more than the limit of one record "
                f"({shown}); it was skipped")

    def _one(self, line: str) -> str:
        self.items += 1
        self._line += 1
        return line

    def _blank(self, stretch: str) -> str:
        # The stretch's lines, "\r\n" counting once, become one item.
        lines = stretch.count("\n") + stretch.count("\r") - stretch.count("\r\n")
        self.items += 1
        self._line += lines
        if lines != 1:
            self._breaks.append((self.items + 1, self._line))
        return "\n"

    def _long(self, head: str, quotes: int, tail: str, length: int) -> str:
        # ``quotes`` counts the quotes after the head, the tail's included.
        self._cuts.append((self.items + 1, length))
        odd = (quotes - tail.count('"')) % 2
        return self._one(head + '"' * odd + tail)

    def __iter__(self) -> Iterator[str]:
        read, limit, keep, stretch = self.text.read, self.limit, self.keep, self.stretch
        parts: list[str] = []  # the start of an unfinished line
        size = 0
        cut: list | None = None  # [head, quotes after it, tail, length] of an over-long line
        carry = ""
        while True:
            data = read(self.chunk)
            chunk = carry + data
            if not chunk:
                break
            carry = ""
            if data and chunk[-1] == "\r":
                # Perhaps the first half of a "\r\n": decided with the next chunk.
                chunk, carry = chunk[:-1], "\r"
            end = len(chunk)
            pos = 0
            if parts or cut is not None:
                m = _TERMINATOR.search(chunk)
                pos = m.end() if m else end
                piece = chunk[:pos]
                if cut is None:
                    parts.append(piece)
                    size += len(piece)
                    if size > limit:
                        whole = "".join(parts)
                        after = whole[keep:]
                        cut = [whole[:keep], after.count('"'), after[-keep:], size]
                        parts, size = [], 0
                else:
                    cut[1] += piece.count('"')
                    cut[2] = (cut[2] + piece)[-keep:]
                    cut[3] += len(piece)
                if m is None:
                    continue
                if cut is not None:
                    yield self._long(*cut)
                    cut = None
                else:
                    yield self._one("".join(parts))
                    parts, size = [], 0
            last = max(chunk.rfind("\n", pos), chunk.rfind("\r", pos)) + 1  # 0: no line ends here
            if last > pos:
                lead = last - pos - len(chunk[pos:last].lstrip())
                if lead >= stretch:
                    # Blank lines first: up to the end of the last whole line of white space.
                    k = max(chunk.rfind("\n", pos, pos + lead), chunk.rfind("\r", pos, pos + lead)) + 1
                    if k > pos:
                        yield self._blank(chunk[pos:k])
                        pos = k
                trail = last - len(chunk[pos:last].rstrip()) - pos
                body_end = last
                if trail >= stretch and pos < last - trail:
                    m = _TERMINATOR.search(chunk, last - trail)
                    body_end = m.end() if m else last
                for line in _TEXT_LINE.findall(chunk, pos, body_end):
                    self.items += 1
                    self._line += 1
                    yield line
                if body_end < last:
                    yield self._blank(chunk[body_end:last])
                pos = last
            if pos < end:
                rest = chunk[pos:]
                if len(rest) > limit:
                    after = rest[keep:]
                    cut = [rest[:keep], after.count('"'), after[-keep:], len(rest)]
                else:
                    parts, size = [rest], len(rest)
        if cut is not None:
            yield self._long(*cut)
        elif parts:
            yield self._one("".join(parts))


def text_lines(inp: Input, sample_size: int = HEAD_SIZE) -> TextLines:
    """The lines of an :class:`Input` as text (see :func:`open_text` and :class:`TextLines`)."""
    return TextLines(open_text(inp, sample_size))


def loads_json_line(line: bytes):
    """Parse one JSON value from a line of bytes, tolerating a BOM and legacy encodings.

    Raises
    ------
    orjson.JSONDecodeError
        When the line is not JSON in any encoding.

    Examples
    --------
    >>> loads_json_line(b'\\xef\\xbb\\xbf{"a": 1}\\n')
    {'a': 1}
    >>> loads_json_line('{"name": "Zo\\u00eb"}'.encode("cp1252"))
    {'name': 'Zoë'}
    >>> loads_json_line(b"[" * 600 + b"]" * 600)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orjson.JSONDecodeError: the JSON is nested more than 512 levels deep (the limit) at byte 512...
    """
    if line.count(b"[") + line.count(b"{") > MAX_JSON_DEPTH:
        # Possibly nested deeper than the store encodes (orjson itself parses 1024 levels).
        stream = depth_limited(io.BytesIO(line))
        try:
            stream.read()
            stream.read()
        except TooDeep as exc:
            raise orjson.JSONDecodeError(str(exc), "", 0) from None
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        if line.startswith(codecs.BOM_UTF8):
            return orjson.loads(line[3:])
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return orjson.loads(line.decode(detect_encoding(line), errors="replace"))
        raise


def excerpt(value: bytes | str, limit: int = 500) -> str:
    """A printable excerpt of a raw record for the quarantine.

    Examples
    --------
    >>> excerpt(b"abc\\xff" * 2, limit=6)
    'abc\\ufffdab...'
    """
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
    text = text.rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + "..."
