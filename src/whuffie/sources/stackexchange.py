"""Stack Exchange data dumps: ``Posts.xml``, ``Comments.xml``, ``Users.xml``, ``Votes.xml``.

What it reads
-------------
The Stack Exchange data dump (archive.org ``<site>.7z``, or the site's own
"download data" export) unpacks into one XML file per table. Each file has a
root element named after the table (``<posts>``, ``<users>``, ...) holding one
``<row Attr="..." />`` per record; every value is an attribute, HTML bodies
are escaped inside attributes, and times are ISO 8601 without a zone, meaning
UTC. The files are streamed element by element, so a multi-gigabyte
``Posts.xml`` is read in bounded memory, and each file is read on its own: a
folder walk imports them in any order, and ids join them afterwards.

Identifiers
-----------
All ids carry the site, because every site numbers its users and posts from 1:
``stackexchange:<site>/u<Id>`` (users), ``/p<Id>`` (questions, answers, tag
wikis), ``/c<Id>`` (comments), ``/v<Id>`` (vote rows) and ``/accept<Id>`` (the
acceptance of the answer to question ``Id``). ``<site>`` is the ``site``
option, by default the lower-cased name of the folder holding the XML files
(real dumps unpack into ``conlang.meta.stackexchange.com``; such a host-like
site also gives messages their ``https://<site>/q/<Id>`` URL). Import every
file of one dump with the same ``site``.

Mapping
-------
``Posts.xml`` -> messages
    ``PostTypeId`` 1 is a ``question`` (``Title``, tags from ``Tags`` written
    ``<a><b>`` or ``|a|b|``, ``Score``, ``ViewCount`` as views, ``AnswerCount``
    and ``CommentCount`` in ``extra``; its ``thread_id`` is itself); 2 is an
    ``answer`` (``reply_to`` and ``thread_id`` are the question ``ParentId``);
    any other type (tag wiki excerpts 4 and bodies 5, moderator nominations,
    ...) is a ``post`` with ``extra.post_type``. The text is the ``Body`` as plain
    text, links are its ``href`` targets. ``OwnerUserId`` is the author; ``-1``
    is the Community bot and is kept as the real actor ``u-1``. A post of a
    deleted user has no ``OwnerUserId``, only ``OwnerDisplayName``: it has no
    author (display names are neither unique nor stable) and the name is kept in
    ``extra.owner_display_name``.
``AcceptedAnswerId`` -> a rating
    A question with an accepted answer also gives ``Rating(<site>/accept<question
    Id>, kind="accept", value=1)`` from the question's owner to the answer,
    without a time (the dump does not date the acceptance here): this is the
    ``vote`` interaction "the asker accepted this answer".
``Comments.xml`` -> messages of kind ``comment``
    ``reply_to`` is the ``PostId``; the author is ``UserId`` (a deleted user
    leaves only ``UserDisplayName``, kept in ``extra``). Comment text is plain
    text already (Markdown-like, not HTML); links are the URLs in it. Comments
    carry no ``thread_id`` (the row does not say whether it sits under the
    question or an answer; follow ``reply_to``). ``@name`` replies are not
    turned into mentions, since display names are not ids.
``Users.xml`` -> profiles
    ``handle`` and ``name`` are ``DisplayName``, ``description`` is ``AboutMe`` as
    plain text, ``url`` is ``WebsiteUrl``, ``created_at`` is ``CreationDate``;
    ``Reputation``, ``Views``, ``UpVotes``, ``DownVotes``, ``Location``,
    ``AccountId`` (the network-wide account) go to ``extra``.
``Votes.xml`` -> ratings on the post ``PostId``
    ``VoteTypeId`` 2 ``upvote`` (+1), 3 ``downvote`` (-1), 5 ``favourite`` (+1),
    8 ``bounty`` (value ``BountyAmount``) and 1 ``accept`` (+1). The dump makes
    votes anonymous: ``rater_id`` is ``UserId`` when the row has one
    (favourites and bounties) and ``None`` otherwise, so an anonymous vote is
    counted on its post but gives no interaction. Note the two ``accept``
    records of an accepted answer: the anonymous, dated vote row ``v<Id>`` here,
    and the undated ``accept<question Id>`` from ``Posts.xml`` whose rater is the
    asker. Other vote types (moderation: 4 offensive, 6 close, 7 reopen, 9
    bounty close, 10 deletion, 11 undeletion, 12 spam, 15 moderator review, 16
    approve edit, ...) produce no record; they are neither counted nor
    quarantined.
``Badges.xml``, ``Tags.xml``, ``PostLinks.xml``, ``PostHistory.xml``
    Recognised, so that a folder walk does not call them unknown, but they
    produce no records.

Damaged files
-------------
A row that is not well-formed XML is quarantined with its line number and the
rows after it are still read (the parser restarts on the next line); a file
cut short keeps every complete row before the cut. A row with a bad value (a
``CreationDate`` that is not a time, a non-integer ``Score``) is quarantined
with the field named.

Examples
--------
>>> tags_of("<discussion><on-topic>"), tags_of("|Python|pandas|")
(['discussion', 'on-topic'], ['python', 'pandas'])
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Message, Rating, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of
from whuffie.sources.io import DAMAGED_INPUT, Input, LongLine, excerpt, too_long
from whuffie.sources.text import html_links, html_to_text, urls
from whuffie.sources.times import parse_time

PLATFORM = "stackexchange"
#: What a damaged compressed stream raises while it is read.
#: Tables that produce records.
_MAPPED = ("posts", "comments", "users", "votes")
#: Tables recognised but not mapped.
_IGNORED = ("badges", "tags", "postlinks", "posthistory")
_TABLES = frozenset(_MAPPED + _IGNORED)
# The root element, after an optional BOM, XML declaration, comments and DOCTYPE.
_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([A-Za-z]+)[\s/>]",
    re.S,
)
_POSITION = re.compile(r",? ?(line \d+, column \d+|\(<string>, line \d+\))")
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
#: VoteTypeId -> (rating kind, value; None = take BountyAmount).
_VOTES: dict[str, tuple[str, float | None]] = {
    "1": ("accept", 1.0),
    "2": ("upvote", 1.0),
    "3": ("downvote", -1.0),
    "5": ("favourite", 1.0),
    "8": ("bounty", None),
}
_KINDS = {"1": "question", "2": "answer"}


def tags_of(value: str | None) -> list[str]:
    """Split a ``Tags`` attribute written ``<a><b>`` (old dumps) or ``|a|b|`` (2024 on).

    Parameters
    ----------
    value : str or None
        The attribute value.

    Returns
    -------
    list of str
        Lower-case tag names, in order, without repeats.

    Examples
    --------
    >>> tags_of("<c++><templates>")
    ['c++', 'templates']
    >>> tags_of(None)
    []
    """
    if not value:
        return []
    s = value.strip()
    parts = s.strip("|").split("|") if s.startswith("|") else s.strip("<>").split("><")
    return list(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))


def root_of(head: bytes) -> str | None:
    """The lower-cased root element name of an XML head, or ``None``.

    Examples
    --------
    >>> root_of(b'<?xml version="1.0" encoding="utf-8"?>\\n<posts>\\n  <row Id="1" />')
    'posts'
    >>> root_of(b'{"a": 1}') is None
    True
    """
    m = _ROOT.match(head)
    return m.group(1).decode("ascii").lower() if m else None


def default_site(path: Path) -> str:
    """The default ``site``: the lower-cased name of the folder holding ``path``.

    Examples
    --------
    >>> default_site(Path("/dumps/Conlang.Meta.StackExchange.com/Posts.xml"))
    'conlang.meta.stackexchange.com'
    """
    return path.resolve().parent.name.lower() or "site"


def _site_option(value: str) -> str:
    s = value.strip().lower()
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return s.strip("/") or "site"


def _int(row: dict[str, str], field: str) -> int | None:
    """An optional integer attribute; a present but non-integer value is an error."""
    v = row.get(field)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise SourceError(f"field '{field}' is {v!r}, expected an integer") from None


def _id(row: dict[str, str], field: str, table: str) -> str:
    """A required integer id attribute, as its canonical string."""
    v = _int(row, field)
    if v is None:
        raise SourceError(f"{table} row has no '{field}'")
    return str(v)


class StackExchangeReader(Reader):
    """Stack Exchange data dump XML: posts, comments, users and votes.

    See the module documentation for the id scheme and the mapping.

    Parameters
    ----------
    **options : str
        ``site``: the site the dump is of (default: the folder's name).

    Examples
    --------
    >>> r = StackExchangeReader(site="demo")
    >>> raw = {"site": "demo", "table": "votes",
    ...        "row": {"Id": "7", "PostId": "3", "VoteTypeId": "2", "CreationDate": "2020-01-02T00:00:00"}}
    >>> vote = r.map_record(raw).ratings[0]
    >>> vote.id, vote.kind, vote.value, vote.target_message_id, vote.rater_id
    ('stackexchange:demo/v7', 'upvote', 1.0, 'stackexchange:demo/p3', None)
    """

    id = "stackexchange"
    platform = PLATFORM
    title = "Stack Exchange data dump XML (Posts, Comments, Users, Votes; Badges/Tags/... recognised)"
    options_help = {
        "site": "the site the dump is of, used in every id "
                "(default: the name of the folder holding the XML files, lower-cased)",
    }

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise a dump table by its root element and its ``<row`` records."""
        root = root_of(sample.head[:4096])
        if root not in _TABLES:
            return 0.0
        if re.search(rb"<row\s", sample.head):
            return 0.95
        # An empty table (<votes />) or a head that ends before the first row.
        return 0.6

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Stream the ``<row>`` elements of one table file.

        The bytes are fed to lxml's pull parser line by line (the dumps put one
        row per line), so that after a syntax error the parser can be restarted
        on the next line: a damaged row is quarantined with its line number and
        the rows after it are still read. Elements are cleared once read, so
        memory stays bounded.
        """
        stream = inp.stream
        if not hasattr(stream, "peek"):
            stream = io.BufferedReader(stream)  # type: ignore[arg-type]
            inp.stream = stream
        try:
            head = stream.peek(4096)[:4096]
        except DAMAGED_INPUT as exc:
            yield Bad(f"the compressed data is damaged ({exc})", None, 0, "")
            return
        table = root_of(head)
        if table is None:
            yield Bad("not a Stack Exchange dump table (no XML root element found)", 1, 0,
                      excerpt(head[:200]))
            return
        if table not in _MAPPED:
            # Badges, Tags, PostLinks, PostHistory (or an unknown table): nothing to map.
            return
        site = _site_option(self.options["site"]) if self.options.get("site") else default_site(inp.path)
        restart = f"<{table}>".encode()

        def parser() -> etree.XMLPullParser:
            return etree.XMLPullParser(events=("end",), tag="row", resolve_entities=False,
                                       no_network=True, huge_tree=False)

        p = parser()
        base = 0  # lines before the current parser's first line
        last = b""
        n = 0
        lines = inp.lines()
        while True:
            try:
                n, _offset, line = next(lines)
            except StopIteration:
                break
            except SourceError as exc:
                # Damaged compressed data: the rows before it are kept.
                yield Bad(exc.reason, n + 1, None, "")
                return
            if isinstance(line, LongLine):
                # One row per line: the row is skipped, the rows after it are read.
                yield Bad(too_long(line, n), n, _offset, excerpt(line))
                continue
            last = line
            try:
                p.feed(line)
                events = p.read_events()
                for _event, el in events:
                    row_line = el.sourceline + base if el.sourceline else n
                    yield Raw({"site": site, "table": table, "row": dict(el.attrib)}, row_line)
                    el.clear()
                    # Rows already read stay attached to the root: drop them.
                    parent = el.getparent()
                    if parent is not None:
                        while el.getprevious() is not None:
                            del parent[0]
            except etree.XMLSyntaxError as exc:
                yield Bad(f"invalid XML ({_reason(exc)})", n, None, excerpt(line))
                p = parser()
                p.feed(restart)
                # The restart tag has no newline: the next line is the parser's line 1.
                base = n
        try:
            p.close()
        except etree.XMLSyntaxError as exc:
            # A file cut short: the last row has no end. A well-formed file whose
            # root was closed, then damaged after, lands here too.
            yield Bad(f"invalid XML at the end of the file ({_reason(exc)})", n or None, None,
                      excerpt(last))

    def map_record(self, raw: dict[str, Any]) -> Records:
        """Map one row of a table (see the module documentation)."""
        try:
            site, table, row = raw["site"], raw["table"], raw["row"]
        except (KeyError, TypeError):
            raise SourceError("record is not a Stack Exchange row") from None
        pre = f"{PLATFORM}:{site}/"
        if table == "posts":
            return _post(pre, site, row)
        if table == "comments":
            return _comment(pre, site, row)
        if table == "users":
            return _user(pre, row)
        if table == "votes":
            return _vote(pre, row)
        return Records()


def _reason(exc: etree.XMLSyntaxError) -> str:
    msg = str(exc.msg if getattr(exc, "msg", None) else exc)
    # lxml's positions are relative to the (possibly restarted) parser: misleading, and the
    # quarantine has the real line number anyway.
    return _POSITION.sub("", msg).strip()


def _host_site(site: str) -> bool:
    return bool(_HOST.match(site))


def _post(pre: str, site: str, row: dict[str, str]) -> Records:
    pid = _id(row, "Id", "posts")
    ptype = _id(row, "PostTypeId", "posts")
    mid = pre + "p" + pid
    owner = _int(row, "OwnerUserId")
    actor = f"{pre}u{owner}" if owner is not None else None
    kind = _KINDS.get(ptype, "post")
    parent = _int(row, "ParentId")
    extra: dict[str, Any] = {}
    for field, key in (("AnswerCount", "answer_count"), ("CommentCount", "comment_count"),
                       ("FavoriteCount", "favorite_count")):
        v = _int(row, field)
        if v is not None:
            extra[key] = v
    if kind == "post":
        extra["post_type"] = int(ptype)
    if actor is None and row.get("OwnerDisplayName"):
        extra["owner_display_name"] = row["OwnerDisplayName"]
    if row.get("ClosedDate"):
        extra["closed_at"] = row["ClosedDate"]
    body = row.get("Body")
    if kind == "question":
        thread = mid
    elif parent is not None:
        thread = f"{pre}p{parent}"
    else:
        thread = None
    url = None
    if _host_site(site) and kind in ("question", "answer"):
        url = f"https://{site}/{kind[0]}/{pid}"
    msg = Message(
        mid, PLATFORM, actor, parse_time(row.get("CreationDate"), "CreationDate"), kind,
        text=html_to_text(body), title=row.get("Title") or None,
        reply_to=f"{pre}p{parent}" if kind == "answer" and parent is not None else None,
        thread_id=thread, url=url, score=_int(row, "Score"), views=_int(row, "ViewCount"),
        extra=extra or None,
    )
    out = Records(messages=[msg])
    out.tags.extend(Tag(mid, t) for t in tags_of(row.get("Tags")))
    out.links.extend(Link(mid, u, host_of(u)) for u in html_links(body))
    accepted = _int(row, "AcceptedAnswerId")
    if accepted is not None:
        out.ratings.append(Rating(f"{pre}accept{pid}", PLATFORM, actor, None,
                                  f"{pre}p{accepted}", "accept", 1.0, None))
    return out


def _comment(pre: str, site: str, row: dict[str, str]) -> Records:
    cid = _id(row, "Id", "comments")
    post = _id(row, "PostId", "comments")
    mid = pre + "c" + cid
    user = _int(row, "UserId")
    extra = None
    if user is None and row.get("UserDisplayName"):
        extra = {"user_display_name": row["UserDisplayName"]}
    text = row.get("Text")
    msg = Message(
        mid, PLATFORM, f"{pre}u{user}" if user is not None else None,
        parse_time(row.get("CreationDate"), "CreationDate"), "comment",
        text=text.strip() if text is not None else None, reply_to=f"{pre}p{post}",
        url=f"https://{site}/posts/comments/{cid}" if _host_site(site) else None,
        score=_int(row, "Score"), extra=extra,
    )
    out = Records(messages=[msg])
    out.links.extend(Link(mid, u, host_of(u)) for u in urls(text))
    return out


def _user(pre: str, row: dict[str, str]) -> Records:
    uid = _id(row, "Id", "users")
    extra: dict[str, Any] = {}
    for field, key in (("Reputation", "reputation"), ("Views", "views"), ("UpVotes", "upvotes"),
                       ("DownVotes", "downvotes"), ("AccountId", "account_id")):
        v = _int(row, field)
        if v is not None:
            extra[key] = v
    if row.get("Location"):
        extra["location"] = row["Location"]
    name = row.get("DisplayName") or None
    return Records(profiles=[Actor(
        f"{pre}u{uid}", PLATFORM, handle=name, name=name,
        url=row.get("WebsiteUrl") or None, description=html_to_text(row.get("AboutMe")) or None,
        created_at=parse_time(row.get("CreationDate"), "CreationDate"), extra=extra or None,
    )])


def _vote(pre: str, row: dict[str, str]) -> Records:
    vid = _id(row, "Id", "votes")
    vtype = _id(row, "VoteTypeId", "votes")
    spec = _VOTES.get(vtype)
    if spec is None:
        return Records()
    post = _id(row, "PostId", "votes")
    kind, value = spec
    if value is None:
        value = _int(row, "BountyAmount")
        value = float(value) if value is not None else None
    user = _int(row, "UserId")
    return Records(ratings=[Rating(
        f"{pre}v{vid}", PLATFORM, f"{pre}u{user}" if user is not None else None, None,
        f"{pre}p{post}", kind, value, parse_time(row.get("CreationDate"), "CreationDate"),
    )])
