"""Mastodon REST API statuses: timelines, tag and account pages, thread contexts.

What it reads
-------------
The JSON the Mastodon API returns (and that clients such as rtoot or
Mastodon.py save), plain or compressed:

* **pages of statuses**: a JSON array of status objects
  (``/api/v1/timelines/public``, ``/timelines/tag/:tag``,
  ``/accounts/:id/statuses``, ``/timelines/home``, bookmarks, favourites);
* **JSON lines**: one status per line, or one page (an array, a context, a
  search result) per line;
* **a thread context** (``/api/v1/statuses/:id/context``):
  ``{"ancestors": [...], "descendants": [...]}``. The status asked about is
  *not* in the response;
* **a search result** (``/api/v2/search``): ``{"statuses": [...], ...}``;
* **a single status** (``/api/v1/statuses/:id``).

Arrays, JSON lines and the ``statuses`` of a search result are streamed.
A context or a single status that spans several lines is parsed as a whole:
the API bounds those responses, so they stay small.

Identifiers
-----------
A status ``id`` (and ``in_reply_to_id``, ``in_reply_to_account_id``,
``mentions[].id``) is *local to the server that returned the JSON*: the same
post has one id on mastodon.social and another on fosstodon.org. The global
ActivityPub id is ``uri``. Whuffie therefore builds:

* **actors** ``mastodon:<user>@<domain>``, lower-cased (Mastodon usernames and
  domains are case-insensitive). ``account.acct`` is ``user@domain`` for a
  remote account and plain ``user`` for a local one; a local account takes its
  domain from the host of ``account.url`` (the server's own web host). The id
  is the same whichever server the JSON came from. (An account whose
  WebFinger domain differs from its web host, ``user@example.com`` served from
  ``social.example.com``, gets two ids: its home server shows only the host.)
* **messages** ``mastodon:<server>/<status id>``, where ``<server>`` is the
  server that returned the file, so a reply's ``in_reply_to_id`` resolves to
  its parent across all files fetched from the same server. ``uri`` is kept in
  ``extra`` and ``url`` in ``Message.url``, so a later cross-server dedupe is
  possible.

The server is found per file: the ``server`` option (``-o server=fosstodon.org``)
wins; otherwise the host of ``account.url`` of a status whose ``acct`` has no
``@`` (a local author) among the first 1,000 statuses; otherwise the host of a
mention's ``url`` whose ``acct`` has no ``@``; otherwise the host of a
``tags[].url`` (the API links hashtags to the server's own tag pages). A file
with none of these (a federated timeline without local accounts or hashtags)
gives no server: its messages are then keyed by ``mastodon:<uri>`` and
``reply_to`` stays empty (``in_reply_to_id`` is kept in ``extra``). The
inference can differ between files of one server (one page has a local author,
the next has none), so pass ``-o server=...`` when you know it: ids then match
across all the server's files.

Mapping
-------
* A status becomes a :class:`~whuffie.model.Message` of kind ``reply``
  (``in_reply_to_id`` set) or ``post``; a post is its own ``thread_id``, and the
  replies of a context response get the thread's root as ``thread_id``.
  ``content`` (HTML) becomes plain text; ``language`` the language;
  ``favourites_count`` / ``reblogs_count`` / ``replies_count`` (and
  ``quotes_count`` when present) the likes / reshares / replies / quotes;
  ``extra`` keeps ``uri``, ``visibility``, ``sensitive``, ``spoiler_text``,
  ``edited_at``, the number of media attachments and the quote state.
* The parent of a reply is known only by its local id; its author is the
  mention whose ``id`` equals ``in_reply_to_account_id`` (Mastodon mentions the
  person replied to), the replying account itself for a self-reply, or an
  account seen earlier in the same file with that local id. When found, a stub
  parent (id and author, ``stub=True``) goes to ``context`` so the ``reply``
  interaction resolves even when the parent is not imported.
* A **reblog** is a wrapper status with empty content whose ``reblog`` holds the
  original: it becomes a ``reshare`` message (the wrapper's id, author and
  time) with ``reshare_of`` the original, which is mapped in full as context.
* A **quote** (Mastodon 4.4+ ``quote: {"state", "quoted_status"}``, or a
  ``quote`` holding a status as some forks send): kind ``quote`` with
  ``quote_of`` the quoted status, mapped as context. A quote whose status is not
  included (``"state": "pending"``, ``"quoted_status": null``) stays a ``post``
  with ``quote_state`` in ``extra``.
* **Links** are the ``href`` of the content's anchors, except mention and
  hashtag anchors (class ``mention`` / ``hashtag``, ``rel="tag"``, or an href
  equal to a ``mentions[].url`` / ``tags[].url``). **Mentions** come from
  ``mentions[]`` (handle as written, ``acct``), **tags** from ``tags[].name``,
  lower-cased.
* The **account** becomes an :class:`~whuffie.model.Actor`: handle
  ``user@domain``, ``display_name``, ``url``, ``note`` as plain text,
  ``created_at``, followers / following / statuses counts, and ``bot``,
  ``locked``, ``group``, ``discoverable``, ``uri`` in ``extra``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of, json_records
from whuffie.sources.io import Input
from whuffie.sources.text import html_to_text
from whuffie.sources.times import parse_time

PLATFORM = "mastodon"
#: Statuses looked at before a file's server is decided (see the module docstring).
LOOKAHEAD = 1000
#: Local account ids remembered per file to name the author of a reply's parent.
ACCOUNT_INDEX_LIMIT = 200_000

_ANCHOR = re.compile(r"<a\s([^>]*)>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_REL_TAG = re.compile(r"""\brel\s*=\s*(?:"[^"]*\btag\b[^"]*"|'[^']*\btag\b[^']*')""", re.IGNORECASE)
# Mastodon's sanitizer leaves only these elements in a status; for them a regular expression
# gives the same text as an HTML parser, several times faster.
_SIMPLE_HTML = re.compile(r"<(?!/?(?:p|br|a|span)\b)[^>]*>", re.IGNORECASE)
_BREAKS = re.compile(r"<(?:/?p|br)\b[^>]*>", re.IGNORECASE)
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_CONTEXT_HEAD = re.compile(r'^\{\s*"(ancestors|descendants)"\s*:\s*\[')


# -- identifiers ---------------------------------------------------------------------------------


def _host(url: Any) -> str | None:
    """The lower-case host of an http(s) URL (``www.`` kept: it names the server)."""
    if not isinstance(url, str) or "://" not in url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host or None


def qualified_acct(acct: Any, url: Any = None, server: str | None = None) -> str | None:
    """``user@domain`` for an ``acct``: remote accounts carry their domain, local ones take it
    from the host of their profile ``url`` (or from the ``server`` that returned the JSON).

    Returns ``None`` when no domain can be found.

    Examples
    --------
    >>> qualified_acct("Gargron", "https://mastodon.social/@Gargron")
    'Gargron@mastodon.social'
    >>> qualified_acct("petejones@HCommons.social", "https://hcommons.social/@petejones")
    'petejones@hcommons.social'
    >>> qualified_acct("alice", None, "fosstodon.org")
    'alice@fosstodon.org'
    >>> qualified_acct("alice") is None
    True
    """
    if not isinstance(acct, str):
        return None
    acct = acct.strip().lstrip("@")
    if not acct:
        return None
    if "@" in acct:
        user, domain = acct.rsplit("@", 1)
        return f"{user}@{domain.lower()}" if user and domain else None
    domain = _host(url) or server
    return f"{acct}@{domain}" if domain else None


def actor_key(handle: str) -> str:
    """The actor id of a qualified handle (lower-cased: Mastodon matches accounts case-insensitively).

    Examples
    --------
    >>> actor_key("Gargron@mastodon.social")
    'mastodon:gargron@mastodon.social'
    """
    return f"{PLATFORM}:{handle.lower()}"


def local_server(status: Any) -> tuple[str | None, str | None, str | None]:
    """The server a status was fetched from, as far as the status tells.

    Returns ``(from_author, from_mention, from_tag)``: the host of the author's
    (or the reblogged author's) ``url`` when that account is local (``acct``
    without ``@``), the host of the first local mention's ``url``, and the host
    of the first ``tags[].url`` (the API links hashtags to the server's own
    tag pages, whoever wrote the status).

    Examples
    --------
    >>> local_server({"account": {"acct": "bob", "url": "https://fosstodon.org/@bob"}, "mentions": []})
    ('fosstodon.org', None, None)
    >>> local_server({"account": {"acct": "bob@a.org"},
    ...               "mentions": [{"acct": "eve", "url": "https://b.net/@eve"}],
    ...               "tags": [{"name": "cats", "url": "https://b.net/tags/cats"}]})
    (None, 'b.net', 'b.net')
    """
    by_author = by_mention = by_tag = None
    for s in (status, status.get("reblog") if isinstance(status, dict) else None):
        if not isinstance(s, dict):
            continue
        acc = s.get("account")
        if by_author is None and isinstance(acc, dict) and _is_local(acc.get("acct")):
            by_author = _host(acc.get("url"))
        if by_mention is None:
            for m in _list(s.get("mentions")):
                if isinstance(m, dict) and _is_local(m.get("acct")):
                    by_mention = _host(m.get("url"))
                    if by_mention:
                        break
        if by_tag is None:
            for t in _list(s.get("tags")):
                if isinstance(t, dict):
                    by_tag = _host(t.get("url"))
                    if by_tag:
                        break
    return by_author, by_mention, by_tag


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _is_local(acct: Any) -> bool:
    return isinstance(acct, str) and bool(acct) and "@" not in acct.lstrip("@")


def _native_id(value: Any, field: str) -> str | None:
    """A status or account id as a string; ids are strings, but some tools write numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise SourceError(f"field '{field}' is {_shown(value)}, expected a status or account id")


def _shown(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def status_text(content: str) -> str | None:
    """Plain text of a status's HTML, as :func:`whuffie.sources.text.html_to_text` gives it.

    Mastodon writes statuses with ``<p>``, ``<br>``, ``<a>`` and ``<span>`` only;
    those are turned into text with regular expressions, anything else goes
    through the HTML parser.

    Examples
    --------
    >>> status_text('<p>Hi <a href="https://x.social/@a" class="u-url mention">@<span>a</span></a>,'
    ...             '<br />see &lt;this&gt; &amp; that</p><p>Bye</p>')
    'Hi @a,\\nsee <this> & that\\nBye'
    """
    if "<" not in content and "&" not in content:
        return content.strip() or None
    if _SIMPLE_HTML.search(content) or "<!" in content:
        return html_to_text(content) or None
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content)))
    text = "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip() or None


@lru_cache(maxsize=8192)
def _note_text(note: str) -> str | None:
    # An account's note repeats with every status it wrote: convert each distinct note once.
    return html_to_text(note) or None


def content_links(content: str | None, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The ``http(s)`` hrefs of a status's HTML, without mention and hashtag anchors.

    Mastodon's sanitizer writes anchors with quoted attributes, so a regular
    expression finds them faster than an HTML parser. A mention or hashtag
    anchor has the class ``mention`` or ``hashtag``, ``rel="tag"``, an href in
    ``exclude`` (the status's ``mentions[].url`` and ``tags[].url``), or a text
    starting with ``@`` or ``#`` (as other servers' software writes them).

    Examples
    --------
    >>> content_links('<p><a href="https://x.social/@a" class="u-url mention">@a</a> '
    ...     '<a href="https://x.social/tags/Cats" class="mention hashtag" rel="tag">#Cats</a> '
    ...     '<a href="https://y.net/tags/Dogs">#Dogs</a> '
    ...     'see <a href="https://ex.org/?a=1&amp;b=2" rel="nofollow">ex.org</a></p>')
    ['https://ex.org/?a=1&b=2']
    """
    if not content or "href" not in content:
        return []
    found: dict[str, None] = {}
    for m in _ANCHOR.finditer(content):
        attrs = m.group(1)
        href_m = _HREF.search(attrs)
        if href_m is None:
            continue
        href = html.unescape(href_m.group(1) if href_m.group(1) is not None else href_m.group(2)).strip()
        if not href.lower().startswith(("http://", "https://")) or href in exclude:
            continue
        class_m = _CLASS.search(attrs)
        if class_m is not None:
            classes = (class_m.group(1) or class_m.group(2) or "").split()
            if "mention" in classes or "hashtag" in classes:
                continue
        if _REL_TAG.search(attrs):
            continue
        # Other servers' software writes mentions and hashtags without the classes; their
        # visible text still starts with "@" or "#".
        shown = _TAGS.sub("", content[m.end():m.end() + 200]).lstrip()
        if shown[:1] in ("#", "@"):
            continue
        found.setdefault(href, None)
    return list(found)


# -- the reader ---------------------------------------------------------------------------------


class MastodonReader(Reader):
    """Mastodon API statuses: arrays, JSON lines, thread contexts, single statuses.

    Parameters
    ----------
    **options : str
        ``server``: the host that returned the files (``mastodon.social``), used
        to key status ids; by default it is inferred per file.

    Examples
    --------
    >>> r = MastodonReader(server="example.social")
    >>> status = {"id": "2", "created_at": "2024-05-01T10:00:00.000Z", "in_reply_to_id": "1",
    ...           "in_reply_to_account_id": "7", "uri": "https://example.social/users/bo/statuses/2",
    ...           "content": "<p>hi <a href='https://example.social/@al' class='u-url mention'>@al</a></p>",
    ...           "account": {"id": "9", "acct": "bo", "url": "https://example.social/@bo"},
    ...           "mentions": [{"id": "7", "acct": "al", "url": "https://example.social/@al"}]}
    >>> out = r.map_record(status)
    >>> m = out.messages[0]
    >>> m.id, m.actor_id, m.kind
    ('mastodon:example.social/2', 'mastodon:bo@example.social', 'reply')
    >>> m.reply_to, m.text
    ('mastodon:example.social/1', 'hi @al')
    >>> [(c.id, c.actor_id, c.stub) for c in out.context]
    [('mastodon:example.social/1', 'mastodon:al@example.social', True)]
    """

    id = "mastodon"
    platform = PLATFORM
    title = "Mastodon API statuses: timelines, tag/account pages, thread contexts (JSON, JSON lines)"
    options_help = {
        "server": "host that returned the files, e.g. mastodon.social (default: inferred per file "
                  "from its local accounts, local mentions or hashtag urls)",
    }

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        text = sample.stripped
        if not text or text[0] not in "[{":
            return 0.0
        if _CONTEXT_HEAD.match(text) and '"descendants"' in text:
            return 0.95
        item = sample.first_item()
        if isinstance(item, dict) and isinstance(item.get("statuses"), list):
            item = item["statuses"][0] if item["statuses"] else None
        if isinstance(item, dict):
            acc = item.get("account")
            if isinstance(acc, dict) and "acct" in acc and "uri" in item and "content" in item:
                return 0.95
        # The first status did not fit in the head (or a search result opens with its
        # accounts): recognise the API's own field names.
        head = text[:16384]
        if '"in_reply_to_account_id"' in head and '"acct"' in head and '"uri"' in head:
            return 0.7
        return 0.0

    # -- reading ---------------------------------------------------------------------------

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        statuses = self._statuses(json_records(inp, ("statuses",)))
        server = self.options.get("server") or None
        buffered: list = []
        if server is None:
            # Ids must be keyed the same way across the whole file, so the server is
            # decided before the first status is yielded.
            by_mention = by_tag = None
            for x in statuses:
                buffered.append(x)
                if isinstance(x, Bad):
                    continue
                author_host, mention_host, tag_host = local_server(x[0])
                if author_host:
                    server = author_host
                    break
                by_mention = by_mention or mention_host
                by_tag = by_tag or tag_host
                if len(buffered) >= LOOKAHEAD:
                    break
            server = server or by_mention or by_tag
        accounts: dict[str, str] = {}
        for x in _chain_list(buffered, statuses):
            if isinstance(x, Bad):
                yield x
                continue
            status, line, offset, thread = x
            parent = None
            if isinstance(status, dict):
                _index_accounts(status, accounts, server)
                parent = accounts.get(str(status.get("in_reply_to_account_id")))
            yield Raw({"_status": status, "_server": server, "_thread": thread, "_parent": parent},
                      line, offset)

    def _statuses(self, units: Iterator[Raw | Bad]) -> Iterator[tuple | Bad]:
        """Expand JSON units into ``(status, line, offset, thread root id)``."""
        for unit in units:
            if isinstance(unit, Bad):
                yield unit
                continue
            value = unit.value
            if isinstance(value, list):
                for item in value:
                    yield item, unit.line, unit.offset, None
            elif isinstance(value, dict) and ("ancestors" in value or "descendants" in value):
                yield from _context_items(value, unit)
            elif isinstance(value, dict) and isinstance(value.get("statuses"), list):
                for item in value["statuses"]:
                    yield item, unit.line, unit.offset, None
            else:
                yield value, unit.line, unit.offset, None

    # -- mapping ---------------------------------------------------------------------------

    def map_record(self, raw: Any) -> Records:
        if isinstance(raw, dict) and "_status" in raw:
            status, server = raw["_status"], raw.get("_server")
            thread, parent = raw.get("_thread"), raw.get("_parent")
        else:  # a bare status (a caller mapping records itself)
            status, thread, parent = raw, None, None
            server = self.options.get("server") or None
            if server is None and isinstance(raw, dict):
                by_author, by_mention, by_tag = local_server(raw)
                server = by_author or by_mention or by_tag
        if isinstance(status, dict) and "id" not in status and "account" not in status:
            if "error" in status:
                raise SourceError(f"the API returned an error: {_shown(status['error'])}")
            keys = ", ".join(sorted(map(str, status))[:8]) or "none"
            raise SourceError(f"record is not a Mastodon status (no 'id' or 'account'; keys: {keys})")
        out = Records()
        message = _map_status(status, server, out, thread, parent, depth=0)
        out.messages.append(message)
        return out


def _chain_list(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _context_items(doc: dict, unit: Raw) -> Iterator[tuple]:
    """The statuses of a context response, each with the thread's root id."""
    ancestors = doc.get("ancestors") if isinstance(doc.get("ancestors"), list) else []
    descendants = doc.get("descendants") if isinstance(doc.get("descendants"), list) else []
    root = None
    if ancestors:
        first = ancestors[0]
        if isinstance(first, dict) and not first.get("in_reply_to_id"):
            root = first.get("id")
    else:
        # Without ancestors the status asked about is the root; it is the one parent
        # the descendants name that is not among them.
        inside = {str(s.get("id")) for s in descendants if isinstance(s, dict)}
        outside = {str(s.get("in_reply_to_id")) for s in descendants
                   if isinstance(s, dict) and s.get("in_reply_to_id") is not None} - inside
        if len(outside) == 1:
            root = outside.pop()
    root = root if isinstance(root, str | int) and not isinstance(root, bool) else None
    # A context read as a whole document numbers its statuses; on a JSON line they share the line.
    for n, item in enumerate([*ancestors, *descendants], 1):
        yield item, (n if unit.offset is None else unit.line), unit.offset, root


def _index_accounts(status: dict, accounts: dict[str, str], server: str | None) -> None:
    """Remember local account id -> qualified handle for the statuses of one file."""
    if len(accounts) >= ACCOUNT_INDEX_LIMIT:
        return
    for s in (status, status.get("reblog")):
        if not isinstance(s, dict):
            continue
        acc = s.get("account")
        if isinstance(acc, dict) and acc.get("id") is not None:
            handle = qualified_acct(acc.get("acct"), acc.get("url"), server)
            if handle:
                accounts.setdefault(str(acc["id"]), handle)
        for m in _list(s.get("mentions")):
            if isinstance(m, dict) and m.get("id") is not None:
                handle = qualified_acct(m.get("acct"), m.get("url"), server)
                if handle:
                    accounts.setdefault(str(m["id"]), handle)


def _status_id(server: str | None, native: str) -> str:
    return f"{PLATFORM}:{server}/{native}"


def _map_account(acc: Any, server: str | None, field: str) -> Actor:
    if not isinstance(acc, dict):
        raise SourceError(f"field '{field}' is {_shown(acc)}, expected an account object")
    acct = acc.get("acct")
    handle = qualified_acct(acct, acc.get("url"), server)
    if handle is None:
        if not isinstance(acct, str) or not acct.strip():
            raise SourceError(f"field '{field}.acct' is {_shown(acct)}, expected user or user@domain")
        raise SourceError(f"field '{field}.url' is {_shown(acc.get('url'))}: cannot tell the domain "
                          f"of local account {acct!r} (pass -o server=...)")
    note = acc.get("note")
    extra = {k: acc[k] for k in ("bot", "locked", "group", "discoverable", "uri", "last_status_at")
             if acc.get(k) is not None}
    name = acc.get("display_name")
    url = acc.get("url")
    return Actor(
        actor_key(handle), PLATFORM, handle=handle,
        name=name if isinstance(name, str) and name else None,
        url=url if isinstance(url, str) else None,
        description=_note_text(note) if isinstance(note, str) and note else None,
        created_at=parse_time(acc.get("created_at"), f"{field}.created_at"),
        followers=_count(acc.get("followers_count")),
        following=_count(acc.get("following_count")),
        posts=_count(acc.get("statuses_count")),
        extra=extra or None,
    )


def _map_status(s: Any, server: str | None, out: Records, thread: Any, parent: str | None,
                depth: int, field: str = "status") -> Message:
    """Map one status (and what it embeds) into ``out``; return its message (not yet added)."""
    if not isinstance(s, dict):
        raise SourceError(f"{field} is {type(s).__name__}, expected a JSON object")
    native = _native_id(s.get("id"), f"{field}.id")
    uri = s.get("uri") if isinstance(s.get("uri"), str) and s.get("uri") else None
    if native is None:
        raise SourceError(f"{field} has no 'id'")
    if server:
        mid = _status_id(server, native)
    elif uri:
        mid = f"{PLATFORM}:{uri}"
    else:
        raise SourceError(f"{field} {native} has no 'uri' and the server is unknown (pass -o server=...)")
    author = _map_account(s.get("account"), server, f"{field}.account")
    out.actors.append(author)
    created = parse_time(s.get("created_at"), f"{field}.created_at")
    extra: dict[str, Any] = {}
    if uri:
        extra["uri"] = uri
    for key in ("visibility", "edited_at"):
        if isinstance(s.get(key), str):
            extra[key] = s[key]
    if s.get("sensitive") is True:
        extra["sensitive"] = True
    if isinstance(s.get("spoiler_text"), str) and s["spoiler_text"]:
        extra["spoiler_text"] = s["spoiler_text"]
    url = s.get("url") if isinstance(s.get("url"), str) else uri

    reblog = s.get("reblog")
    if isinstance(reblog, dict) and depth < 3:
        original = _map_status(reblog, server, out, None, None, depth + 1, f"{field}.reblog")
        out.context.append(original)
        return Message(mid, PLATFORM, author.id, created, kind="reshare", reshare_of=original.id,
                       url=url, extra=extra or None)

    mentions = [m for m in _list(s.get("mentions")) if isinstance(m, dict)]
    tags = [t for t in _list(s.get("tags")) if isinstance(t, dict)]
    exclude: set[str] = set()
    irt_account = s.get("in_reply_to_account_id")
    irt_account = str(irt_account) if irt_account is not None else None
    for m in mentions:
        handle = qualified_acct(m.get("acct"), m.get("url"), server)
        if handle is None:
            continue
        aid = actor_key(handle)
        out.mentions.append(Mention(mid, aid, m["acct"]))
        murl = m.get("url") if isinstance(m.get("url"), str) else None
        out.actors.append(Actor(aid, PLATFORM, handle=handle, url=murl))
        if murl:
            exclude.add(murl)
        if parent is None and irt_account is not None and str(m.get("id")) == irt_account:
            parent = handle
    for t in tags:
        name = t.get("name")
        if isinstance(name, str) and name.strip("# "):
            out.tags.append(Tag(mid, name.strip("# ").lower()))
        if isinstance(t.get("url"), str):
            exclude.add(t["url"])

    irt = _native_id(s.get("in_reply_to_id"), f"{field}.in_reply_to_id")
    reply_to = None
    if irt is not None:
        if server:
            reply_to = _status_id(server, irt)
            if parent is None and irt_account is not None and \
                    irt_account == str((s.get("account") or {}).get("id")):
                parent = author.handle  # a self-reply: a thread of one's own
            if parent is not None:
                out.context.append(Message(reply_to, PLATFORM, actor_key(parent), None, stub=True))
        else:
            extra["in_reply_to_id"] = irt
    if thread is not None and server:
        thread_id = _status_id(server, str(thread))
    else:
        thread_id = mid if irt is None else None

    content = s.get("content")
    content = content if isinstance(content, str) else None
    for href in content_links(content, exclude):
        out.links.append(Link(mid, href, host_of(href)))
    media = s.get("media_attachments")
    if isinstance(media, list) and media:
        extra["media"] = len(media)

    quote_of = None
    quote = s.get("quote")
    if isinstance(quote, dict):
        quoted = quote if "account" in quote else quote.get("quoted_status")
        if isinstance(quote.get("state"), str):
            extra["quote_state"] = quote["state"]
        if isinstance(quoted, dict) and depth < 3:
            q = _map_status(quoted, server, out, None, None, depth + 1, f"{field}.quote")
            out.context.append(q)
            quote_of = q.id
        elif quote.get("quoted_status_id") is not None and server:
            quote_of = _status_id(server, _native_id(quote["quoted_status_id"], f"{field}.quote"))
    lang = s.get("language")
    return Message(
        mid, PLATFORM, author.id, created,
        kind="reply" if irt is not None else "quote" if quote_of else "post",
        text=status_text(content) if content else None,
        lang=lang if isinstance(lang, str) and lang else None,
        reply_to=reply_to, quote_of=quote_of, thread_id=thread_id, url=url,
        likes=_count(s.get("favourites_count")), reshares=_count(s.get("reblogs_count")),
        replies=_count(s.get("replies_count")), quotes=_count(s.get("quotes_count")),
        extra=extra or None,
    )
