"""Web feeds and blogrolls: RSS 0.9x / 1.0 (RDF) / 2.0, Atom, JSON Feed, RSS-in-JSON and OPML.

What it reads
-------------
* **RSS 0.9x, RSS 1.0 (RDF), RSS 2.0 and Atom 0.3 / 1.0**, parsed with
  ``feedparser`` from the bytes of the file (never from a URL or a path:
  nothing is fetched, external entities are not resolved). ``feedparser``
  detects the encoding (``gb2312`` declarations included), decodes entities,
  sanitises the HTML and resolves relative links against ``xml:base``.
* **JSON Feed** 1 and 1.1 (``"version": "https://jsonfeed.org/version/1..."``).
* **RSS-in-JSON** (``{"rss": {"channel": {"item": [...]}}}``, Dave Winer's
  format), mapped like RSS 2.0.
* **OPML** subscription lists (blogrolls): one profile per outline with an
  ``xmlUrl``.

The format is recognised from the content (root element, JSON keys), never
from the file extension: real feeds lie (an ``.rss`` that is Atom).

Feeds are small documents, so a feed file is read whole into memory
(at most 256 MiB); the records are then produced one entry at a time.

Identifiers
-----------
A blog is an actor identified by its site: ``web:<host>`` (lower-case, without
``www.``). The host comes from the feed's ``alternate`` link (RSS ``<link>``,
JSON Feed ``home_page_url``); without one (``research.swtch.com`` has only a
``self`` link), from the host most entry links share; failing that, from the
feed's ``self`` link or id.

An entry is ``web:<permalink>``. The permalink is the entry link on the blog's
own host: the ``alternate`` link, else a ``related`` link (link blogs such as
Daring Fireball point ``alternate`` at the article they comment on), else the
guid / id when it is a URL on that host; failing those, the ``alternate`` link,
the guid / id, in that order. A link that several entries of one feed share
(a broken ``<link>`` pointing at the feed itself, as in some WordPress feeds)
is not used as a permalink. The link is kept as written (``http`` and
``https`` versions of a post are two ids). The same post read from an Atom and
a JSON Feed snapshot gets the same id.

Mapping
-------
========================  =========================================================
feed                      Whuffie
========================  =========================================================
feed / channel            ``actors``: ``web:<host>``, handle = host, name = feed
                          title, url = site link, description = subtitle,
                          ``extra.feed`` = the feed's ``self`` link
entry / item              ``messages``, kind ``entry``, ``actor_id`` = the blog
title                     ``title`` (HTML titles converted to text)
content, else summary     ``text`` (HTML converted to plain text)
published, else updated   ``created_at``, keeping the offset when the feed gives one;
                          a date without zone (``2020/1/10 14:33:00``) is kept as
                          written (read as UTC)
author                    ``extra.author`` (the name)
categories / tags         ``tags`` (lower-case)
comment count             ``replies`` (``slash:comments``, ``thr:total``)
hrefs in the entry HTML   ``links``; a link to another host names that site
                          (``target_actor_id = web:<host>``: a ``link`` interaction
                          blog -> site); links to the blog's own host have no
                          target. Hosts are compared exactly (without ``www.``):
                          ``pic.example.org`` is another site than ``example.org``.
                          The entry's ``alternate`` / ``external_url`` link, when it
                          is not the permalink, is a link too.
OPML outline (xmlUrl)     ``profiles``: ``web:<host of htmlUrl, else xmlUrl>``,
                          name = title / text, url = htmlUrl, ``extra.feed`` =
                          xmlUrl, ``extra.category`` = the enclosing outlines
OPML owner                when the head names one (``ownerHtmlUrl`` / ``ownerId``
                          -> ``web:<host>``, else ``ownerEmail`` -> ``email:<address>``):
                          a ``link`` tie owner -> each subscribed site (a blogroll);
                          without an owner, profiles only
========================  =========================================================

Several feeds on one host (``medium.com/...``) share one actor: the site is
the unit of a blog network here.

Bad input: an entry without link or id, or with a date that cannot be read,
is quarantined with the line where it starts. XML that is not well-formed
(an undefined entity, a bare ``&``) is read by feedparser's lenient parser;
a feed cut off inside an entry quarantines that entry and keeps the entries
before it. A JSON feed that is cut off keeps the items before the break, a
broken OPML the outlines before it (the break is quarantined). A document
that is not a feed at all is quarantined as a whole.

Examples
--------
>>> reader = FeedReader()
>>> raw = {"format": "jsonfeed", "site": site_record("https://blog.example.org/", "A blog"),
...        "entry": {"url": "https://blog.example.org/1", "title": "Hello",
...                  "content_html": '<p>See <a href="https://other.example.net/x">this</a></p>',
...                  "date_published": "2020-01-02T03:04:05+01:00", "tags": ["Python"]}}
>>> out = reader.map_record(raw)
>>> m = out.messages[0]
>>> m.id, m.actor_id, m.text, m.created_at.isoformat()
('web:https://blog.example.org/1', 'web:blog.example.org', 'See this', '2020-01-02T03:04:05+01:00')
>>> [(x.url, x.target_actor_id) for x in out.links], [t.tag for t in out.tags]
([('https://other.example.net/x', 'web:other.example.net')], ['python'])
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Message, Records, Tag, Tie
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of
from whuffie.sources.io import MAX_RECORD_BYTES, Input, depth_limited, detect_encoding, excerpt
from whuffie.sources.text import html_links, html_to_text, urls
from whuffie.sources.times import parse_time

PLATFORM = "web"
#: The largest feed document read: it is parsed whole, so it is one record (feedparser holds
#: it several times over: a 100 MB feed took 800 MB). Real feeds are well under 20 MB.
MAX_FEED_BYTES = MAX_RECORD_BYTES

_JSONFEED = re.compile(r'"version"\s*:\s*"https?://jsonfeed\.org/version/1')
_RSS_IN_JSON = re.compile(r'^\{\s*"rss"\s*:\s*\{')
_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)([^>]*)")
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")
_SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d\d)(?::(\d\d))?)?$")
_ATOM_NS = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RDF_NS = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")


# -- recognising the format --------------------------------------------------------------------


def root_element(text: str) -> tuple[str, str] | None:
    """The name and attribute text of the first element of an XML document.

    Parameters
    ----------
    text : str
        The beginning of the document.

    Returns
    -------
    (str, str) or None
        ``None`` when the text does not start like XML.

    The XML declaration, processing instructions, comments, a DOCTYPE and
    white space before it are skipped.

    Examples
    --------
    >>> root_element('<?xml version="1.0"?><!-- hi --><rss version="2.0"><channel>')
    ('rss', ' version="2.0"')
    >>> root_element("not xml") is None
    True
    """
    pos, n = 0, len(text)
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch != "<":
            return None
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif text.startswith("<!", pos):
            close = text.find(">", pos)
            bracket = text.find("[", pos)
            if 0 <= bracket < close:
                close = text.find("]>", bracket)
                if close < 0:
                    return None
                close += 1
            if close < 0:
                return None
            pos = close + 1
        else:
            m = _TAG.match(text, pos)
            return (m.group(1), m.group(2)) if m else None
    return None


def feed_kind(head: bytes) -> str | None:
    """Which feed format a document is, from its first bytes.

    Parameters
    ----------
    head : bytes
        The first bytes of the (decompressed) file.

    Returns ``"xml"`` (RSS / Atom / RDF, read with feedparser), ``"opml"``,
    ``"jsonfeed"``, ``"rss-json"`` or ``None``.

    Examples
    --------
    >>> feed_kind(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>')
    'xml'
    >>> feed_kind(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}')
    'jsonfeed'
    >>> feed_kind(b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">') is None
    True
    """
    text = _head_text(head)
    if text.startswith("{"):
        if _JSONFEED.search(text):
            return "jsonfeed"
        if _RSS_IN_JSON.match(text) and '"channel"' in text:
            return "rss-json"
        return None
    root = root_element(text)
    if root is None:
        return None
    name, attrs = root
    local = name.rsplit(":", 1)[-1].lower()
    if local == "rss":
        return "xml"
    if local == "feed" and any(ns in attrs for ns in _ATOM_NS):
        return "xml"
    if local == "rdf" and any(ns in text for ns in _RDF_NS):
        return "xml"
    if local == "opml":
        return "opml"
    return None


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace").lstrip("\ufeff").lstrip()
    return head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()


# -- shared helpers ------------------------------------------------------------------------------


def site_record(link: str | None, title: str | None = None, description: str | None = None,
                feed: str | None = None, entry_links: Iterable[str | None] = ()) -> dict[str, Any]:
    """Describe the blog a feed belongs to (see "Identifiers" in the module documentation).

    Parameters
    ----------
    link : str or None
        The site's own link (the feed's ``alternate`` link).
    title, description : str or None
        The feed's title and subtitle.
    feed : str or None
        The feed's ``self`` link or id, the last resort for the host.
    entry_links : iterable of str
        The entries' links, for the majority host when ``link`` is missing.

    Examples
    --------
    >>> site_record(None, "research!rsc", feed="tag:x,2012:y",
    ...             entry_links=["http://research.swtch.com/a", "http://research.swtch.com/b"])["id"]
    'web:research.swtch.com'
    """
    host = host_of(link)
    if host is None:
        counts = Counter(h for h in map(host_of, entry_links) if h)
        if counts:
            host = counts.most_common(1)[0][0]
    if host is None:
        host = host_of(feed)
    return {
        "id": f"{PLATFORM}:{host}" if host else None,
        "host": host,
        "name": title or None,
        "url": link if host_of(link) else None,
        "description": description or None,
        "feed": feed if host_of(feed) else None,
    }


def _text(value: Any) -> str | None:
    """A plain string from a feed value (a string, a number, or RSS-in-JSON ``{"#value": ...}``)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("#value", value.get("value", value.get("name")))
        return _text(value)
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        s = str(value).strip()
        return s or None
    return None


def _plain(value: Any, html: bool | None = None) -> str | None:
    """Plain text of a title-like value that may hold HTML."""
    s = _text(value)
    if s is None:
        return None
    if html or (html is None and ("<" in s or "&" in s)):
        s = html_to_text(s)
    return s or None


def _time(raw: Any, parsed: Any, field: str) -> datetime | None:
    """Parse a feed date: the raw string (keeps its offset), a slash date, or feedparser's UTC tuple."""
    if raw is None or raw == "":
        return None
    try:
        return parse_time(raw, field)
    except SourceError:
        pass
    if isinstance(raw, str):
        m = _SLASH_DATE.match(raw.strip())
        if m:
            y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
            try:
                return datetime(y, mo, d, hh, mm, ss)
            except ValueError:
                pass
    if parsed is not None:
        try:
            return datetime(*tuple(parsed)[:6])
        except (TypeError, ValueError):
            pass
    return parse_time(raw, field)  # raises the SourceError naming the field


def _count(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _tag_terms(values: Iterable[Any]) -> list[str]:
    out: dict[str, None] = {}
    for v in values:
        if isinstance(v, dict) and ("term" in v or "label" in v):
            v = v.get("term") or v.get("label")
        s = _text(v)
        if s:
            out.setdefault(s.lower(), None)
    return list(out)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _permalink(host: str | None, alternate: str | None, related: Iterable[str],
               guid: str | None, shared: Iterable[str] = ()) -> str | None:
    """Choose the entry's own link (see "Identifiers" in the module documentation).

    ``shared`` are links several entries of the feed carry (a broken
    ``<link>`` pointing at the feed itself): they cannot identify an entry.
    """
    given = alternate
    if alternate in shared:
        alternate = None
    if host:
        if _is_url(alternate) and host_of(alternate) == host:
            return alternate
        for r in related:
            if _is_url(r) and host_of(r) == host:
                return r
        if _is_url(guid) and host_of(guid) == host:
            return guid
    if _is_url(alternate):
        return alternate
    return guid or given or None


# -- the reader ----------------------------------------------------------------------------------


class FeedReader(Reader):
    """Blogs and blogrolls: RSS, Atom, RDF, JSON Feed, RSS-in-JSON and OPML files."""

    id = "feed"
    platform = PLATFORM
    title = "Web feeds: RSS 0.9x/1.0/2.0, Atom, JSON Feed, RSS-in-JSON, and OPML blogrolls"

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise a feed by its root element or JSON keys (see :func:`feed_kind`).

        Examples
        --------
        >>> FeedReader.sniff(Sample("a.atom", b'<?xml version="1.0"?>\\n<rss version="2.0">'))
        0.95
        >>> FeedReader.sniff(Sample("posts.xml", b'<?xml version="1.0"?>\\n<posts><row Id="1"/>'))
        0.0
        """
        kind = feed_kind(sample.head)
        if kind is None:
            return 0.0
        return 0.9 if kind == "rss-json" else 0.95

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Read the whole (small) document and yield one raw record per entry or outline.

        Parameters
        ----------
        inp : Input
            The opened feed, OPML or JSON file.

        Yields
        ------
        Raw or Bad
            ``Raw({"entry": ..., "format": ..., "site": ...})`` per entry or item
            (``site`` describes the blog, shared by the entries of the file),
            ``Raw({"outline": ..., "format": "opml", ...})`` per OPML outline with
            an ``xmlUrl``; :class:`Bad` for a cut-off entry or a broken document.
        """
        data = inp.stream.read(MAX_FEED_BYTES + 1)
        if len(data) > MAX_FEED_BYTES:
            yield Bad(f"the feed is larger than {MAX_FEED_BYTES >> 20} MiB; not read", None, 0,
                      excerpt(data[:500]))
            return
        kind = feed_kind(data[:65536])
        if kind is None:
            yield Bad("not an RSS, Atom, RDF, JSON Feed, RSS-in-JSON or OPML document", 1, 0,
                      excerpt(data[:500]))
        elif kind == "xml":
            yield from self._read_xml(data)
        elif kind == "opml":
            yield from self._read_opml(data)
        else:
            yield from self._read_json(data, kind)

    # -- RSS / Atom / RDF --------------------------------------------------------------------

    def _read_xml(self, data: bytes) -> Iterator[Raw | Bad]:
        import feedparser

        # A file object, not bytes: feedparser.parse tries open(bytes) as a path first.
        try:
            parsed = feedparser.parse(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - feedparser catches parse errors itself; a last resort
            yield Bad(f"cannot parse the feed ({type(exc).__name__}: {exc})", None, 0, excerpt(data[:500]))
            return
        feed = parsed.get("feed", {})
        entries = parsed.get("entries", [])
        if not entries and not feed.get("title") and not parsed.get("version"):
            exc = parsed.get("bozo_exception")
            yield Bad(f"not a readable feed ({exc or 'no feed found'})", _error_line(exc), None,
                      excerpt(data[:500]))
            return
        broken_at = _error_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None
        if not entries and broken_at is not None:
            # A document cut (or broken) before its first entry: nothing is read, and the
            # file must not pass for an empty feed.
            reason = " ".join(str(parsed.get("bozo_exception")).split())
            offset = _line_offset(data, broken_at)
            yield Bad(f"the feed is cut off or broken before its first entry ({reason}); "
                      "no entry was read", broken_at, offset, excerpt(data[offset:offset + 500]))
            return
        alternate = None
        self_link = None
        for link in feed.get("links", []):
            rel = link.get("rel", "alternate")
            if rel == "alternate" and alternate is None and _is_url(link.get("href")) and \
                    "xml" not in (link.get("type") or ""):
                alternate = link.get("href")
            elif rel == "self" and self_link is None:
                self_link = link.get("href")
        site = site_record(
            alternate, _plain(feed.get("title"), _is_html(feed.get("title_detail"))),
            _plain(feed.get("subtitle"), _is_html(feed.get("subtitle_detail"))),
            self_link or feed.get("id"), (e.get("link") for e in entries))
        site["shared"] = _shared(e.get("link") for e in entries)
        # Entry locations: the start tags of <item> / <entry>, when they match one to one.
        starts = [m.start() for m in _ENTRY_START.finditer(data)]
        located = len(starts) == len(entries)
        lines = _line_numbers(data, starts) if located else [None] * len(entries)
        cut = _cut_entry(data, starts, parsed) if entries else None
        for i, entry in enumerate(entries):
            offset = starts[i] if located else None
            if cut is not None and i == len(entries) - 1:
                yield Bad(f"entry cut off: the feed ends inside it ({cut})", lines[i], offset,
                          excerpt(data[offset:offset + 500]) if offset is not None else "")
                continue
            yield Raw({"entry": entry, "format": "xml", "site": site}, lines[i], offset)

    # -- JSON Feed and RSS-in-JSON -------------------------------------------------------------

    def _read_json(self, data: bytes, kind: str) -> Iterator[Raw | Bad]:
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            try:
                doc = orjson.loads(data.decode(detect_encoding(data[:65536]), errors="replace"))
            except (orjson.JSONDecodeError, LookupError):
                yield from self._salvage_json(data, kind)
                return
        if not isinstance(doc, dict):
            yield Bad("the JSON document is not an object", 1, 0, excerpt(data[:500]))
            return
        if kind == "jsonfeed":
            header, items = doc, _as_list(doc.get("items"))
        else:
            channel = (doc.get("rss") or {}).get("channel") if isinstance(doc.get("rss"), dict) else None
            if not isinstance(channel, dict):
                yield Bad("RSS-in-JSON without rss.channel", 1, 0, excerpt(data[:500]))
                return
            header, items = channel, _as_list(channel.get("item"))
        site = _json_site(header, items, kind)
        key = "url" if kind == "jsonfeed" else "link"
        site["shared"] = _shared(it.get(key) for it in items if isinstance(it, dict))
        for n, item in enumerate(items, 1):
            yield Raw({"entry": item, "format": kind, "site": site}, n)

    def _salvage_json(self, data: bytes, kind: str) -> Iterator[Raw | Bad]:
        """Stream a broken JSON feed with ijson: keep the items before the break."""
        import ijson

        prefix = "" if kind == "jsonfeed" else "rss.channel"
        item_path = "items.item" if kind == "jsonfeed" else "rss.channel.item.item"
        header: dict[str, Any] = {}
        try:
            # Depth-limited: ijson keeps every open level, and a broken feed may nest without end.
            for pfx, event, value in ijson.parse(depth_limited(io.BytesIO(data))):
                if event != "string" or (prefix and not pfx.startswith(prefix + ".")):
                    continue
                key = pfx[len(prefix) + 1:] if prefix else pfx
                if "." not in key:
                    header.setdefault(key, value)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError):
            pass
        site = _json_site(header, [], kind)
        n = 0
        try:
            for item in ijson.items(depth_limited(io.BytesIO(data)), item_path, use_float=True):
                n += 1
                yield Raw({"entry": item, "format": kind, "site": site}, n)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            reason = " ".join(str(exc).split())
            yield Bad(f"invalid JSON in item {n + 1} ({reason}); the items before it were read",
                      n + 1, None, "")

    # -- OPML ------------------------------------------------------------------------------------

    def _read_opml(self, data: bytes) -> Iterator[Raw | Bad]:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                                 huge_tree=False, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except (etree.XMLSyntaxError, ValueError) as exc:
            yield Bad(f"cannot parse OPML ({exc})", None, 0, excerpt(data[:500]))
            return
        if root is None:
            yield Bad("cannot parse OPML (empty document)", None, 0, excerpt(data[:500]))
            return
        head = root.find("head")
        owner = {}
        if head is not None:
            for child in head:
                text = (child.text or "").strip()
                if isinstance(child.tag, str) and child.tag.startswith("owner") and text:
                    owner[child.tag] = text
        owner_record = _owner(owner)
        for el in root.iter("outline"):
            attrs = {k.lower(): v for k, v in el.attrib.items()}
            if not attrs.get("xmlurl"):
                continue
            path = [a.get("title") or a.get("text") for a in el.iterancestors("outline")]
            category = " / ".join(p for p in reversed(path) if p) or None
            yield Raw({"outline": attrs, "format": "opml", "category": category, "owner": owner_record},
                      el.sourceline)
        for err in parser.error_log:
            if err.level_name in ("ERROR", "FATAL"):
                yield Bad(f"OPML is not well-formed ({err.message})", err.line, None, "")
                break

    # -- mapping ---------------------------------------------------------------------------------

    def map_record(self, raw: dict[str, Any]) -> Records:
        """Map one entry, item or outline (see the module documentation).

        Parameters
        ----------
        raw : dict
            A record from :meth:`read`.

        Returns
        -------
        Records
            An entry: the message, the blog and linked sites as actors, links
            and tags. An outline: the site's profile and the blogroll tie.

        Raises
        ------
        SourceError
            An entry without link or id, an unreadable date, an item that is
            not an object, an outline whose URLs are not web addresses.
        """
        if not isinstance(raw, dict) or "format" not in raw:
            raise SourceError("record is not a feed entry from FeedReader.read")
        fmt = raw["format"]
        if fmt == "opml":
            return _map_outline(raw)
        entry = raw.get("entry")
        if not isinstance(entry, dict):
            raise SourceError(f"item is {type(entry).__name__}, expected an object")
        site = raw.get("site") or {}
        shared = site.get("shared") or ()
        if fmt == "xml":
            fields = _feedparser_fields(entry, site.get("host"), shared)
        elif fmt == "jsonfeed":
            fields = _jsonfeed_fields(entry, site.get("host"), shared)
        else:
            fields = _rss_json_fields(entry, site.get("host"), shared)
        return _map_entry(fields, site)


def _is_html(detail: Any) -> bool | None:
    if not isinstance(detail, dict):
        return None
    return "html" in (detail.get("type") or "")


def _error_line(exc: Any) -> int | None:
    getter = getattr(exc, "getLineNumber", None)
    try:
        return int(getter()) if getter else None
    except (TypeError, ValueError):
        return None


def _line_offset(data: bytes, line: int) -> int:
    """The byte offset where 1-based ``line`` of ``data`` starts (the end, past the last line)."""
    pos = 0
    for _ in range(line - 1):
        pos = data.find(b"\n", pos) + 1
        if not pos:
            return len(data)
    return pos


def _line_numbers(data: bytes, offsets: list[int]) -> list[int | None]:
    lines: list[int | None] = []
    line, pos = 1, 0
    for off in offsets:
        line += data.count(b"\n", pos, off)
        pos = off
        lines.append(line)
    return lines


def _cut_entry(data: bytes, starts: list[int], parsed: Any) -> str | None:
    """Why the last entry is cut off, or ``None`` when the feed ends properly."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if _error_line(exc) is None:
        return None  # an encoding note, not a broken document
    if starts and _ENTRY_END.search(data, starts[-1]):
        return None  # the break is elsewhere; feedparser's lenient parser recovered the entries
    return " ".join(str(exc).split()) or "the document ends early"


def _shared(links: Iterable[Any]) -> list[str]:
    """Links that more than one entry of a feed carries."""
    counts = Counter(link for link in links if isinstance(link, str) and link)
    return [link for link, n in counts.items() if n > 1]


def _json_site(header: dict[str, Any], items: list[Any], kind: str) -> dict[str, Any]:
    def links() -> Iterator[str | None]:
        for it in items:
            if isinstance(it, dict):
                yield _text(it.get("url") if kind == "jsonfeed" else it.get("link"))

    if kind == "jsonfeed":
        return site_record(_text(header.get("home_page_url")), _plain(header.get("title")),
                           _plain(header.get("description")), _text(header.get("feed_url")), links())
    return site_record(_text(header.get("link")), _plain(header.get("title")),
                       _plain(header.get("description")), None, links())


# -- per-format entry fields -----------------------------------------------------------------------


def _feedparser_fields(e: dict[str, Any], host: str | None, shared: Iterable[str]) -> dict[str, Any]:
    alternate = e.get("link")
    related = [ln.get("href") for ln in e.get("links", []) if isinstance(ln, dict)
               and ln.get("rel") == "related"]
    guid = _text(e.get("id"))
    html = None
    for c in e.get("content") or []:
        if isinstance(c, dict) and c.get("value"):
            if html is None or "html" in (c.get("type") or ""):
                html = c["value"]
            if "html" in (c.get("type") or ""):
                break
    if not html:
        html = e.get("summary")
    author = None
    detail = e.get("author_detail")
    if isinstance(detail, dict):
        author = detail.get("name")
    author = author or e.get("author")
    when_field, raw_time, parsed_time = "published", e.get("published"), e.get("published_parsed")
    if not raw_time:
        when_field, raw_time, parsed_time = "updated", e.get("updated"), e.get("updated_parsed")
    return {
        "permalink": _permalink(host, alternate, related, guid, shared),
        "alternate": alternate,
        "title": _plain(e.get("title"), _is_html(e.get("title_detail"))),
        "html": html,
        "time": (when_field, raw_time, parsed_time),
        "author": _text(author),
        "tags": _tag_terms(e.get("tags") or []),
        "replies": _count(e.get("slash_comments", e.get("thr_total"))),
    }


def _jsonfeed_fields(e: dict[str, Any], host: str | None, shared: Iterable[str]) -> dict[str, Any]:
    url, external, guid = _text(e.get("url")), _text(e.get("external_url")), _text(e.get("id"))
    html = _text(e.get("content_html"))
    plain = None
    if html is None:
        plain = _text(e.get("content_text")) or _text(e.get("summary"))
        html = plain.replace("&", "&amp;").replace("<", "&lt;") if plain else None
    authors = _as_list(e.get("authors")) or _as_list(e.get("author"))
    author = _text(authors[0]) if authors else None
    when_field, raw_time = ("date_published", e.get("date_published"))
    if not raw_time:
        when_field, raw_time = ("date_modified", e.get("date_modified"))
    return {
        "permalink": _permalink(host, url, [], guid, shared) if url or guid else external,
        "alternate": external or url,
        "title": _plain(e.get("title"), False),
        "html": html,
        "time": (when_field, raw_time, None),
        "author": author,
        "tags": _tag_terms(_as_list(e.get("tags"))),
        "replies": None,
        "text_links": urls(plain) if plain else [],
    }


def _rss_json_fields(e: dict[str, Any], host: str | None, shared: Iterable[str]) -> dict[str, Any]:
    link, guid = _text(e.get("link")), _text(e.get("guid"))
    html = _text(e.get("content:encoded")) or _text(e.get("description"))
    when_field, raw_time = ("pubDate", e.get("pubDate"))
    if not raw_time:
        when_field, raw_time = ("dc:date", e.get("dc:date"))
    return {
        "permalink": _permalink(host, link, [], guid, shared),
        "alternate": link,
        "title": _plain(e.get("title")),
        "html": html,
        "time": (when_field, _text(raw_time), None),
        "author": _text(e.get("author") or e.get("dc:creator")),
        "tags": _tag_terms(_as_list(e.get("category"))),
        "replies": _count(e.get("slash:comments")),
    }


# -- building the records ----------------------------------------------------------------------------


def _site_actor(site: dict[str, Any]) -> Actor:
    return Actor(site["id"], PLATFORM, handle=site.get("host"), name=site.get("name"),
                 url=site.get("url"), description=site.get("description"),
                 extra={"feed": site["feed"]} if site.get("feed") else None)


def _map_entry(f: dict[str, Any], site: dict[str, Any]) -> Records:
    permalink = f["permalink"]
    if not permalink:
        raise SourceError("entry has no link and no id")
    if not isinstance(permalink, str):
        raise SourceError(f"field 'link' is {permalink!r}, expected a URL or an id")
    field, raw_time, parsed_time = f["time"]
    created = _time(raw_time, parsed_time, field)
    mid = f"{PLATFORM}:{permalink.strip()}"
    blog_id, host = site.get("id"), site.get("host")
    out = Records()
    if blog_id:
        out.actors.append(_site_actor(site))
    html = f["html"] if isinstance(f["html"], str) else None
    out.messages.append(Message(
        mid, PLATFORM, blog_id, created, kind="entry", text=html_to_text(html) if html else None,
        title=f["title"], url=permalink if _is_url(permalink) else None, replies=f["replies"],
        extra={"author": f["author"]} if f["author"] else None,
    ))
    hrefs = html_links(html) if html else []
    hrefs.extend(u for u in f.get("text_links", ()) if u not in hrefs)
    alternate = f["alternate"]
    if _is_url(alternate) and alternate != permalink and alternate not in hrefs:
        hrefs.append(alternate)
    seen_hosts: set[str] = set()
    for url in hrefs:
        target_host = host_of(url)
        target = None
        if target_host and target_host != host:
            target = f"{PLATFORM}:{target_host}"
            if target_host not in seen_hosts:
                seen_hosts.add(target_host)
                out.actors.append(Actor(target, PLATFORM, handle=target_host))
        out.links.append(Link(mid, url, target_host, target))
    for tag in f["tags"]:
        out.tags.append(Tag(mid, tag))
    return out


def _web_host(url: str | None) -> str | None:
    """The host of an ``http``, ``https`` or ``feed`` URL when it is a domain name (has a dot)."""
    if not url or not url.lower().startswith(("http://", "https://", "feed://")):
        return None
    host = host_of(url)
    return host if host and "." in host else None


def _owner(owner: dict[str, str]) -> dict[str, Any] | None:
    """The blogroll's owner as ``{"id", "name", "url", "handle"}``, or ``None`` when unknown."""
    url = owner.get("ownerHtmlUrl")
    host = _web_host(url) or _web_host(owner.get("ownerId"))
    if host:
        return {"id": f"{PLATFORM}:{host}", "platform": PLATFORM, "handle": host,
                "name": owner.get("ownerName"), "url": url if _web_host(url) else None}
    email = (owner.get("ownerEmail") or "").strip().strip("<>").lower()
    if "@" in email and " " not in email:
        return {"id": f"email:{email}", "platform": "email", "handle": email,
                "name": owner.get("ownerName"), "url": None}
    return None


def _map_outline(raw: dict[str, Any]) -> Records:
    attrs = raw.get("outline") or {}
    xml_url = (attrs.get("xmlurl") or "").strip()
    html_url = (attrs.get("htmlurl") or "").strip() or None
    host = _web_host(html_url) or _web_host(xml_url)
    if not host:
        raise SourceError(f"field 'xmlUrl' is {xml_url!r}, expected an http(s) URL")
    site_id = f"{PLATFORM}:{host}"
    extra: dict[str, Any] = {"feed": xml_url}
    if raw.get("category"):
        extra["category"] = raw["category"]
    out = Records()
    out.profiles.append(Actor(
        site_id, PLATFORM, handle=host, name=attrs.get("title") or attrs.get("text") or None,
        url=html_url if _web_host(html_url) else None, description=attrs.get("description") or None,
        extra=extra,
    ))
    owner = raw.get("owner")
    if owner and owner["id"] != site_id:
        out.actors.append(Actor(owner["id"], owner["platform"], handle=owner["handle"],
                                name=owner.get("name"), url=owner.get("url")))
        out.ties.append(Tie(f"{PLATFORM}:link:{owner['id']}>{site_id}", PLATFORM, owner["id"], site_id,
                            kind="link"))
    return out
