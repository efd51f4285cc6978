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
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import charset_normalizer
import orjson
import zstandard

#: How much of a file the sniffers see.
HEAD_SIZE = 64 * 1024

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

    def _decompressing(self, raw: BinaryIO) -> BinaryIO:
        c = self.compression
        if c is None:
            return raw
        if c == "gzip":
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        if c == "bzip2":
            return bz2.BZ2File(raw, "rb")  # type: ignore[return-value]
        if c == "xz":
            return lzma.LZMAFile(raw, "rb")  # type: ignore[return-value]
        # Pushshift dumps use a 2 GiB window ("--long=31"); the default decoder refuses them.
        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        return io.BufferedReader(dctx.stream_reader(raw, read_across_frames=True), 1 << 20)  # type: ignore[return-value]

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

    def lines(self) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(line_number, byte_offset, raw_line)`` from the decompressed stream.

        Line numbers are 1-based and byte offsets are into the decompressed
        bytes, so a quarantined record can be found again with ``sed -n`` or
        ``tail -c``.
        """
        offset = 0
        for n, line in enumerate(self.stream, 1):
            yield n, offset, line
            offset += len(line)

    def close(self) -> None:
        """Close the file (the hash is completed first)."""
        self.sha256()
        self.stream.close()
        self._raw.close()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
    """
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
