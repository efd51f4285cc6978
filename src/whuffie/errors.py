"""Exceptions raised by Whuffie.

Every error a user can meet derives from :class:`WhuffieError`; the CLI prints
``Error: <message>`` for it and exits with status 1. Messages say what is
wrong, where (file, line, value) and, when it helps, what to do.
"""

from __future__ import annotations


class WhuffieError(Exception):
    """Base class of every error Whuffie raises on purpose."""


class SourceError(WhuffieError):
    """A file or a record that cannot be read.

    Parameters
    ----------
    reason : str
        What is wrong, in one sentence.
    path : str, optional
        The file the record came from.
    line : int, optional
        The 1-based line (or record number) of the record in ``path``.
    offset : int, optional
        The byte offset of the record in the (decompressed) file.

    Examples
    --------
    >>> str(SourceError("field 'created_at' is 'yesterday', expected ISO 8601 or epoch",
    ...                 path="posts.jsonl", line=4812))
    "posts.jsonl line 4812: field 'created_at' is 'yesterday', expected ISO 8601 or epoch"
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.offset = offset
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where} line {self.line}".strip()
        elif self.offset is not None:
            where = f"{where} byte {self.offset}".strip()
        return f"{where}: {self.reason}" if where else self.reason

    def at(self, path: str | None, line: int | None = None, offset: int | None = None):
        """Return a copy of this error located in ``path`` at ``line`` / ``offset``."""
        return SourceError(
            self.reason,
            path=path or self.path,
            line=line if line is not None else self.line,
            offset=offset if offset is not None else self.offset,
        )


class SchemaError(WhuffieError):
    """The store's schema is missing, too new, or cannot be migrated."""


class EngineError(WhuffieError):
    """A compute engine is unavailable or failed."""
