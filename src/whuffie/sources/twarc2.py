"""Twitter/X API v2 data as written by twarc2 (JSON lines) and twarc-csv (CSV).

What it reads
-------------
* **Response pages** (``twarc2 search``, ``timeline``, ``timelines``, ``hydrate``,
  ``tweet``, ``conversation``...): one API response per line,
  ``{"data": [...], "includes": {"users", "tweets", "media", "places", "polls"},
  "meta", "errors", "__twarc"}``. The tweets of ``data`` are the primary
  messages; ``includes.tweets`` (the full originals of retweets and quotes, the
  parents of replies) become context messages and ``includes.users`` become
  actors. ``meta.result_count`` is not trusted: the items of ``data`` are what
  is read.
* **Streaming output** (``twarc2 filter`` / ``sample``): one tweet per line,
  ``{"data": {...}, "includes", "matching_rules", "__twarc"}``; the tags (or ids)
  of ``matching_rules`` are kept in the message's ``extra``.
* **Flattened tweets** (``twarc2 flatten``): one tweet per line with its
  expansions inlined (``author``, ``in_reply_to_user``, ``referenced_tweets[*]``
  as full tweets with their own ``author``, mentions carrying the mentioned
  user's fields). A flattened user (``username`` without ``text``, its
  ``pinned_tweet`` inlined) is a profile.
* **User pages** (``twarc2 users``, ``followers``, ``following``,
  ``liking-users``...): ``data`` lists users; they are primary records
  (``Records.profiles``) and the pinned tweets of ``includes.tweets`` are
  context messages.
* **Count pages** (``twarc2 counts``): ``data`` lists ``{start, end,
  tweet_count}`` buckets. They are recognised but give no records: they describe
  the volume of a query, not messages or people.
* **twarc-csv CSV** (``twarc2 csv``, the 84-column tweet layout whose header
  starts ``id,conversation_id,referenced_tweets.replied_to.id``): one tweet per
  row. List and object columns are JSON strings, an empty cell means absent, and
  new lines in text were written as the two characters ``\\n`` (turned back
  into new lines here).
* The same JSON saved another way: one pretty-printed response, or a JSON array
  (over many lines, streamed with ijson, or on one line) of pages or flattened
  tweets; each array item is mapped on its own.

``errors`` arrays are API notices about resources a page refers to but could
not expand (suspended users, deleted or protected tweets). They are not bad
records and nothing is quarantined for them; the ids they name stay
unresolved, so a retweet or quote of a deleted tweet keeps its ``reshare_of`` /
``quote_of`` id without a target in the store (no interaction is derived from
it). A line holding only ``errors`` (a stream's operational notice) gives no
records. A JSON line that cannot be parsed (the truncated last line of an
interrupted stream) is quarantined with its line number; a tweet of a page that
cannot be mapped is quarantined on its own while the rest of the page is
imported.

Identifiers
-----------
Shared with the ``twitter-v1`` reader, so v1.1 and v2 exports of the same
tweets deduplicate: actors ``twitter:<user id>``, messages
``twitter:<tweet id>``, ``thread_id`` ``twitter:<conversation_id>``. A CSV row
and the JSON of the same tweet have the same id, so importing both stores the
tweet once.

Mapping
-------
* kind: a retweet is ``reshare`` (``reshare_of``), a reply ``reply``
  (``reply_to``), a quote ``quote`` (``quote_of``), anything else ``post``; a
  reply that quotes is a ``reply`` with both ``reply_to`` and ``quote_of``.
* A referenced tweet missing from ``includes`` whose author is known becomes a
  stub context message (``stub=True``): the parent of a reply from
  ``in_reply_to_user_id``, the original of a retweet from the ``RT @user:``
  prefix and the mentioned user's id. The interaction then resolves to that
  author even though the tweet itself was never seen.
* text: as the API gives it, with Twitter's ``&amp;`` / ``&lt;`` / ``&gt;``
  escapes undone. A retweet's text is kept as is (``RT @user: ...``, truncated
  by the API); the original's full text lives on its own context message.
* metrics: ``likes`` = like_count, ``reshares`` = retweet_count, ``replies`` =
  reply_count, ``quotes`` = quote_count, ``views`` = impression_count.
* ``url`` = ``https://twitter.com/<username>/status/<id>`` when the author's
  username is known; ``lang`` as given; ``extra`` holds ``source``,
  ``possibly_sensitive``, ``withheld`` and ``matching_rules`` when present.
* mentions: ``entities.mentions`` (id and username; when the id is missing, as in
  2021 data, it is looked up by username among the page's users); hashtags
  become tags (lower-case); ``entities.urls`` become links (``expanded_url``,
  else ``url``).
* users: ``handle`` = username, ``name``, ``description``, ``url`` (the
  expanded profile link when given), ``created_at``, ``followers`` /
  ``following`` / ``posts`` from ``public_metrics``, ``verified``; ``extra``
  holds ``location``, ``protected``, ``listed_count`` and ``withheld``.
* Not imported: media, places, polls, ``context_annotations`` and annotation
  entities.

twarc-csv specifics: by default twarc-csv *merges* retweets, giving the row of a
retweet the original's text, entities and metrics. When the row names the
original's author (``retweeted_user_id``), that content is put on the original
(a context message marked as a stub, since its kind and date are unknown; the
full tweet replaces it when it is imported), and the retweet's text is
rebuilt as ``RT @<retweeted_username>: <original text>`` (untruncated, unlike the
API's). When it does not (the original could not be expanded), the row's text is
the retweet's own and is kept. CSV mentions are plain ``@username`` strings
without ids; only those naming a user whose id the row gives (the author, the
replied-to, retweeted or quoted user) become mentions. A quoted tweet whose author
the row names (``quoted_user_id``) becomes a stub. The rows' line numbers are
reported for quarantined rows; a row whose number of cells differs from the
header's (a cut file) is quarantined.

Examples
--------
>>> page = {"data": [{"id": "2", "author_id": "12", "text": "RT @ann: hi &amp; bye",
...                   "created_at": "2021-09-22T16:38:35.000Z", "conversation_id": "2",
...                   "referenced_tweets": [{"type": "retweeted", "id": "1"}],
...                   "entities": {"mentions": [{"username": "ann", "id": "11"}]}}],
...         "includes": {"users": [{"id": "12", "username": "bob", "name": "Bob"}]}}
>>> r = Twarc2Reader().map_record(page)
>>> m = r.messages[0]
>>> m.id, m.kind, m.reshare_of, m.text, m.url
('twitter:2', 'reshare', 'twitter:1', 'RT @ann: hi & bye', 'https://twitter.com/bob/status/2')
>>> [(c.id, c.actor_id, c.stub) for c in r.context]
[('twitter:1', 'twitter:11', True)]
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, csv_rows, host_of, json_lines, json_records
from whuffie.sources.io import Input, excerpt
from whuffie.sources.times import parse_time

P = "twitter"
_PREFIX = "twitter:"
_CUT = len(_PREFIX)
_fromiso = datetime.fromisoformat
#: The domain of a URL; retweets repeat the same links endlessly, so results are memoised.
_domain = lru_cache(maxsize=1 << 14)(host_of)
_EMPTY: dict = {}
_CSV_HEADER = "id,conversation_id,referenced_tweets.replied_to.id"
#: Keys of a v1.1 tweet; their presence means the record belongs to the twitter-v1 reader.
_V1_KEYS = ("id_str", "user", "retweeted_status", "favorite_count", "in_reply_to_status_id")
_CSV_METRICS = (
    ("public_metrics.like_count", "like_count"),
    ("public_metrics.retweet_count", "retweet_count"),
    ("public_metrics.reply_count", "reply_count"),
    ("public_metrics.quote_count", "quote_count"),
    ("public_metrics.impression_count", "impression_count"),
)
_CSV_REFS = (
    ("referenced_tweets.replied_to.id", "replied_to"),
    ("referenced_tweets.retweeted.id", "retweeted"),
    ("referenced_tweets.quoted.id", "quoted"),
)


class _CsvRow(dict):
    """A twarc-csv row: column -> non-empty cell (tells map_record it is not JSON)."""

    __slots__ = ()


class _Ctx:
    """What the tweets of one page (or one flattened tweet) can refer to."""

    __slots__ = ("_names", "tweets", "users")

    def __init__(self, users: dict[str, dict], tweets: dict[str, dict]) -> None:
        self.users = users
        self.tweets = tweets
        self._names: dict[str, str] | None = None

    def user_id(self, username: str) -> str | None:
        """The id of the page's user with this username (case-insensitive)."""
        names = self._names
        if names is None:
            # Built only when a page needs it (mentions without ids, 2021 data).
            names = self._names = {}
            for uid, u in self.users.items():
                name = u.get("username")
                if type(name) is str:
                    names.setdefault(name.lower(), uid)
        return names.get(username.lower())


def _show(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _sid(value: Any, field: str) -> str:
    """A Twitter id as a string; ints are accepted, anything else is an error."""
    if type(value) is str and value.isdigit():
        return value
    if type(value) is int and value >= 0:
        return str(value)
    if value is None or value == "":
        raise SourceError(f"tweet has no '{field}'") if field == "id" else \
            SourceError(f"field '{field}' is empty, expected a numeric id")
    raise SourceError(f"field '{field}' is {_show(value)}, expected a numeric id")


def _str(d: dict, key: str) -> str | None:
    """``d[key]`` when it is a non-empty string, ``None`` when absent or empty."""
    v = d.get(key)
    if v is None or type(v) is str:
        return v or None
    raise SourceError(f"field '{key}' is {_show(v)}, expected a string")


def _unescape(text: str) -> str:
    """Undo Twitter's HTML escaping of ``&``, ``<`` and ``>`` (``&amp;`` last)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _withheld(w: Any) -> dict | None:
    """The small, flat part of a ``withheld`` object worth keeping."""
    if type(w) is not dict:
        return None
    out = {}
    for k in ("copyright", "scope", "country_codes"):
        v = w.get(k)
        if type(v) in (bool, str):
            out[k] = v
        elif type(v) is list:
            out[k] = [c for c in v if type(c) is str]
    return out or None


def _rules(rules: Any) -> list[str] | None:
    """The tags (or ids) of a stream's ``matching_rules``."""
    if type(rules) is not list:
        return None
    out = []
    for r in rules:
        if type(r) is dict:
            v = r.get("tag") or r.get("id")
            if v is not None and type(v) in (str, int):
                out.append(str(v))
    return out or None


def _strs(u: dict) -> tuple[str | None, str | None, str | None, str | None]:
    """The slow path of :func:`_user_actor`'s string fields: ``None`` or an error."""
    return _str(u, "username"), _str(u, "name"), _str(u, "description"), _str(u, "url")


def _user_actor(u: dict) -> Actor:
    """Map a v2 user object to an :class:`Actor`."""
    get = u.get
    uid = get("id")
    if type(uid) is not str or not uid.isdigit():
        uid = _sid(uid, "id")
    handle = get("username")
    name = get("name")
    desc = get("description")
    url = get("url")
    # One combined test for the usual case (all four present as strings).
    if type(handle) is not str or type(name) is not str or type(desc) is not str or type(url) is not str:
        handle, name, desc, url = _strs(u)
    if url:
        # The profile link as the user typed it, not its t.co form.
        ent = get("entities")
        if ent:
            try:
                expanded = ent["url"]["urls"][0]["expanded_url"]
            except (KeyError, IndexError, TypeError):
                expanded = None
            if expanded and type(expanded) is str:
                url = expanded
    pm = get("public_metrics")
    if type(pm) is dict:
        pget = pm.get
        followers = pget("followers_count")
        following = pget("following_count")
        posts = pget("tweet_count")
        listed = pget("listed_count")
    elif pm:
        raise SourceError(f"field 'public_metrics' is {_show(pm)}, expected an object")
    else:
        followers = following = posts = listed = None
    stamp = get("created_at")
    created = None
    if stamp is not None:
        try:
            created = _fromiso(stamp)
            if not 1900 <= created.year <= 2200:
                created = None
        except (TypeError, ValueError):
            pass
        if created is None:
            created = parse_time(stamp, "created_at")
    protected = get("protected")
    if type(protected) is bool and listed is not None:
        extra: dict[str, Any] = {"protected": protected, "listed_count": listed}
    else:
        extra = {}
        if type(protected) is bool:
            extra["protected"] = protected
        if listed is not None:
            extra["listed_count"] = listed
    v = get("location")
    if v and type(v) is str:
        extra["location"] = v
    v = get("withheld")
    if v:
        v = _withheld(v)
        if v:
            extra["withheld"] = v
    verified = get("verified")
    return Actor(_PREFIX + uid, P, handle or None, name or None, url or None, desc or None, created,
                 followers, following, posts, verified if type(verified) is bool else None,
                 extra or None)


def _tweet(t: dict, ctx: _Ctx, out: Records, primary: bool) -> Message:
    """Map one v2 tweet object into ``out``; return its message.

    This is the hot path: dictionary lookups only, no regular expressions, no
    copies. Types are checked only where a wrong one would otherwise reach the
    store.
    """
    get = t.get
    tid = get("id")
    if type(tid) is not str or not tid.isdigit():
        tid = _sid(tid, "id")
    mid = _PREFIX + tid
    author = get("author_id")
    if author is None:
        aid = user = None
    else:
        if type(author) is not str or not author.isdigit():
            author = _sid(author, "author_id")
        aid = _PREFIX + author
        user = ctx.users.get(author)
    stamp = get("created_at")
    created = None
    if stamp is not None:
        try:
            created = _fromiso(stamp)
            if not 1900 <= created.year <= 2200:
                created = None
        except (TypeError, ValueError):
            pass
        if created is None:
            # Other spellings (epoch, RFC 2822), or the SourceError naming the bad value.
            created = parse_time(stamp, "created_at")
    text = get("text")
    if text is not None:
        if type(text) is not str:
            raise SourceError(f"field 'text' is {_show(text)}, expected a string")
        if "&" in text:
            text = _unescape(text)
    lang = get("lang")
    if lang is not None and type(lang) is not str:
        raise SourceError(f"field 'lang' is {_show(lang)}, expected a string")

    kind = "post"
    reply_to = reshare_of = quote_of = None
    refs = get("referenced_tweets")
    if refs:
        if type(refs) is not list:
            raise SourceError(f"field 'referenced_tweets' is {_show(refs)}, expected a list")
        for r in refs:
            if type(r) is not dict:
                raise SourceError(f"field 'referenced_tweets' holds {_show(r)}, expected objects")
            rid = r.get("id")
            if type(rid) is not str or not rid.isdigit():
                rid = _sid(rid, "referenced_tweets.id")
            rtype = r.get("type")
            if rtype == "retweeted":
                reshare_of = rid
            elif rtype == "replied_to":
                reply_to = rid
            elif rtype == "quoted":
                quote_of = rid
        tweets = ctx.tweets
        if reshare_of is not None:
            kind = "reshare"
            if reshare_of not in tweets:
                _retweet_stub(t, text, reshare_of, ctx, out)
            reshare_of = _PREFIX + reshare_of
        elif reply_to is not None:
            kind = "reply"
        elif quote_of is not None:
            kind = "quote"
        if reply_to is not None:
            if reply_to not in tweets:
                irt = get("in_reply_to_user_id")
                if irt:
                    if type(irt) is not str or not irt.isdigit():
                        irt = _sid(irt, "in_reply_to_user_id")
                    out.context.append(Message(_PREFIX + reply_to, P, _PREFIX + irt, None, stub=True))
            reply_to = _PREFIX + reply_to
        if quote_of is not None:
            quote_of = _PREFIX + quote_of

    pm = get("public_metrics")
    if pm:
        if type(pm) is not dict:
            raise SourceError(f"field 'public_metrics' is {_show(pm)}, expected an object")
        pget = pm.get
        likes = pget("like_count")
        reshares = pget("retweet_count")
        replies = pget("reply_count")
        quotes = pget("quote_count")
        views = pget("impression_count")
    else:
        likes = reshares = replies = quotes = views = None
    url = None
    if user is not None:
        username = user.get("username")
        if username and type(username) is str:
            url = f"https://twitter.com/{username}/status/{tid}"
    conv = get("conversation_id")
    if conv is not None:
        if type(conv) is not str or not conv.isdigit():
            conv = _sid(conv, "conversation_id")
        conv = _PREFIX + conv

    source = get("source")
    sensitive = get("possibly_sensitive")
    if type(source) is str and type(sensitive) is bool:
        extra: dict[str, Any] | None = {"source": source, "possibly_sensitive": sensitive}
    else:
        extra = {}
        if source and type(source) is str:
            extra["source"] = source
        if type(sensitive) is bool:
            extra["possibly_sensitive"] = sensitive
    v = get("withheld")
    if v:
        v = _withheld(v)
        if v:
            extra["withheld"] = v

    # Positional arguments: this constructor runs once per tweet and keywords cost twice as much.
    msg = Message(mid, P, aid, created, kind, text, None, lang, reply_to, reshare_of, quote_of, conv,
                  url, likes, reshares, replies, quotes, None, views, False, extra or None)
    if primary:
        out.messages.append(msg)
    else:
        out.context.append(msg)

    ent = get("entities")
    if not ent:
        return msg
    if type(ent) is not dict:
        raise SourceError(f"field 'entities' is {_show(ent)}, expected an object")
    items = ent.get("hashtags")
    if items:
        if type(items) is not list:
            _not_a_list("entities.hashtags", items)
        add = out.tags.append
        for h in items:
            if type(h) is not dict:
                _not_a_list("entities.hashtags", items)
            tag = h.get("tag")
            if tag:
                if type(tag) is not str:
                    raise SourceError(f"field 'entities.hashtags.tag' is {_show(tag)}, expected a string")
                add(Tag(mid, tag.lower()))
    items = ent.get("mentions")
    if items:
        if type(items) is not list:
            _not_a_list("entities.mentions", items)
        users = ctx.users
        add = out.mentions.append
        for m in items:
            if type(m) is not dict:
                _not_a_list("entities.mentions", items)
            uid = m.get("id")
            name = m.get("username")
            if name is not None and type(name) is not str:
                raise SourceError(f"field 'entities.mentions.username' is {_show(name)}, expected a string")
            if uid is None:
                if not name:
                    continue
                uid = ctx.user_id(name)
                if uid is None:  # a suspended or renamed user: no stable id to use
                    continue
            elif type(uid) is not str or not uid.isdigit():
                uid = _sid(uid, "entities.mentions.id")
            add(Mention(mid, _PREFIX + uid, name))
            if uid not in users:
                out.actors.append(Actor(_PREFIX + uid, P, name))
    items = ent.get("urls")
    if items:
        if type(items) is not list:
            _not_a_list("entities.urls", items)
        add = out.links.append
        for u in items:
            if type(u) is not dict:
                _not_a_list("entities.urls", items)
            link = u.get("expanded_url") or u.get("url")
            if link:
                if type(link) is not str:
                    raise SourceError(f"field 'entities.urls.url' is {_show(link)}, expected a string")
                add(Link(mid, link, _domain(link)))
    return msg


def _not_a_list(field: str, value: Any) -> None:
    raise SourceError(f"field '{field}' is {_show(value)}, expected a list of objects")


def _retweet_stub(t: dict, text: str | None, rid: str, ctx: _Ctx, out: Records) -> None:
    """A stub for a retweeted tweet that is not in the page, from ``RT @user:``."""
    if not text or not text.startswith("RT @"):
        return
    end = text.find(":", 4)
    if end < 0:
        return
    name = text[4:end].lower()
    uid = None
    ent = t.get("entities")
    mentions = ent.get("mentions") if type(ent) is dict else None
    if type(mentions) is list:
        for m in mentions:
            mname = m.get("username") if type(m) is dict else None
            if type(mname) is str and mname.lower() == name:
                uid = m.get("id")
                break
    if uid is None:
        uid = ctx.user_id(name)
    if uid is None:
        return
    if type(uid) is not str or not uid.isdigit():
        uid = _sid(uid, "entities.mentions.id")
    out.context.append(Message(_PREFIX + rid, P, _PREFIX + uid, None, stub=True))


_LISTS = ("messages", "context", "actors", "mentions", "tags", "links", "profiles")


def _marks(out: Records) -> tuple[int, ...]:
    return (len(out.messages), len(out.context), len(out.actors), len(out.mentions), len(out.tags),
            len(out.links), len(out.profiles))


def _rollback(out: Records, marks: tuple[int, ...]) -> None:
    """Remove what a failed item added, so an item is either imported or quarantined."""
    for name, mark in zip(_LISTS, marks, strict=True):
        del getattr(out, name)[mark:]


def _problem(what: str, item: Any, exc: Exception) -> Problem:
    reason = exc.reason if isinstance(exc, SourceError) else f"cannot map ({type(exc).__name__}: {exc})"
    if what == "data":
        what = "data item" if type(item) is not dict else "tweet" if "text" in item else \
            "user" if "username" in item else "data item"
    ident = item.get("id") if type(item) is dict else None
    label = f"{what} {ident}" if type(ident) in (str, int) else what
    try:
        shown = orjson.dumps(item, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        shown = repr(item)
    return Problem(f"{label}: {reason}", excerpt(shown))


def _each(items: Any, fn, what: str, out: Records) -> None:
    """Apply ``fn(item)`` to each item, quarantining the items that fail.

    The fast path runs without bookkeeping; only when an item fails is the
    whole list run again item by item, with the additions of each failed item
    rolled back (mapping is deterministic, so the rerun gives the same records).
    """
    start = _marks(out)
    try:
        for item in items:
            fn(item)
        return
    except _ITEM_ERRORS:
        _rollback(out, start)
    for item in items:
        marks = _marks(out)
        try:
            fn(item)
        except _ITEM_ERRORS as exc:
            _rollback(out, marks)
            out.problems.append(_problem(what, item, exc))


_ITEM_ERRORS = (SourceError, TypeError, AttributeError, ValueError, KeyError, OverflowError)


class Twarc2Reader(Reader):
    """Twitter/X API v2 JSON lines written by twarc2, and twarc-csv CSV."""

    id = "twarc2"
    platform = "twitter"
    title = "Twitter/X API v2 (twarc2 JSONL pages, stream, flatten, users; twarc-csv CSV)"
    options_help = {}
    #: Each JSON line (a page, a streamed or a flattened tweet) maps on its own.
    parallel_lines = True

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise twarc2 pages, streamed and flattened tweets, and twarc-csv headers.

        Examples
        --------
        >>> Twarc2Reader.sniff(Sample("x.jsonl", b'{"data": [], "meta": {"result_count": 0}}\\n'))
        0.9
        >>> Twarc2Reader.sniff(Sample("x.jsonl", b'{"id_str": "1", "user": {}, "text": "v1"}\\n'))
        0.0
        """
        text = sample.stripped
        if not text:
            return 0.0
        if text.startswith(_CSV_HEADER):
            return 0.95
        if text[0] not in "{[":
            first = text.split("\n", 1)[0]
            cols = set(first.strip().split(","))
            if {"id", "text", "author_id"} <= cols and any(
                    c.startswith(("referenced_tweets.", "public_metrics.", "__twarc.")) for c in cols):
                return 0.9
            return 0.0
        try:
            obj = sample.first_item()
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            return _sniff_object(obj, text)
        head = text[:4096]
        # A first line longer than the sample (a page of 500 tweets) with an unusual key order.
        if ('"data"' in head and '"id_str"' not in head and '"user":' not in head
                and ('"conversation_id"' in head or '"author_id"' in head
                     or '"edit_history_tweet_ids"' in head)):
            return 0.8
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Yield one raw record per JSON line (a page, a streamed or flat tweet) or CSV row."""
        stream = inp.stream
        head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if body.startswith(_CSV_HEADER.encode()) or body[:3] == b"id,":
            yield from self._read_csv(inp)
            return
        first = body.split(b"\n", 1)[0].strip()
        if first in (b"{", b"[") or (first[:1] == b"[" and first.endswith((b",", b"[", b"{"))):
            # A pretty-printed response or a JSON array spread over lines: streamed with ijson.
            yield from json_records(inp)
            return
        # JSON lines even when the first line is broken: json_records would then
        # take the whole file for one document and lose every good line after it.
        yield from json_lines(inp)

    def _read_csv(self, inp: Input) -> Iterator[Raw | Bad]:
        rows = csv_rows(inp)
        first = next(rows, None)
        if first is None:
            return
        if isinstance(first, Bad):
            yield Bad(f"invalid CSV header: {first.reason}", first.line, None, first.excerpt)
            return
        header = first[1]
        if header:
            header[0] = header[0].lstrip("\ufeff")
        width = len(header)
        for item in rows:
            if isinstance(item, Bad):
                yield item
                continue
            start, row = item
            if len(row) != width:
                if not row:
                    continue
                yield Bad(f"row has {len(row)} fields, expected {width} (as in the header)",
                          start, None, excerpt(",".join(row)))
                continue
            yield Raw(_CsvRow({k: v for k, v in zip(header, row, strict=True) if v}), start)

    def map_record(self, raw: Any) -> Records:
        """Map a page, a streamed or flattened tweet or user, or a CSV row.

        Raises
        ------
        SourceError
            When the record is not a JSON object of a known shape, or when a
            single-tweet record (stream, flatten, CSV) cannot be mapped. Within a
            page, a tweet or user that cannot be mapped goes to ``problems``.
        """
        try:
            if type(raw) is _CsvRow:
                return _map_csv(raw)
            if type(raw) is list:
                return _map_list(raw)
            if not isinstance(raw, dict):
                raise SourceError(f"record is {type(raw).__name__}, expected a JSON object")
            if "data" in raw:
                return _map_page(raw)
            if "text" in raw and "id" in raw:
                return _map_flat(raw)
            if "username" in raw and "id" in raw:
                return _map_flat_user(raw)
        except (TypeError, AttributeError, KeyError, ValueError, OverflowError) as exc:
            # A value of an unexpected type deep in a single-tweet record (the checks above
            # cover the fields that matter): still a bad record, not a crash.
            raise SourceError(f"cannot map record ({type(exc).__name__}: {exc})") from None
        if "errors" in raw or ("tweet_count" in raw and "start" in raw):
            # An API notice or a flattened count bucket: nothing to import, nothing wrong.
            return Records()
        keys = ", ".join(list(raw)[:5]) or "none"
        raise SourceError(
            f"record has no 'data' and is not a tweet (no 'id' and 'text'); its keys: {keys}")


def _map_list(items: list) -> Records:
    """A JSON line holding an array (of pages or flattened tweets): each item on its own."""
    out = Records()
    reader = Twarc2Reader()
    for item in items:
        if type(item) is list:
            out.problems.append(_problem("array item", item, SourceError(
                "nested array, expected a page or a tweet object")))
            continue
        try:
            out.extend(reader.map_record(item))
        except _ITEM_ERRORS as exc:
            out.problems.append(_problem("array item", item, exc))
    return out


def _sniff_object(obj: dict, text: str) -> float:
    """Score the first JSON object of a file."""
    if any(k in obj for k in _V1_KEYS):
        return 0.0
    if "data" in obj:
        if "__twarc" in obj or "includes" in obj or "matching_rules" in obj:
            return 0.95
        data = obj["data"]
        item = data[0] if isinstance(data, list) and data else data
        if isinstance(item, dict):
            if any(k in item for k in _V1_KEYS):
                return 0.0
            if "text" in item and "id" in item and (
                    "author_id" in item or "conversation_id" in item or "edit_history_tweet_ids" in item):
                return 0.9
            if "username" in item and "id" in item:
                return 0.8
            if "tweet_count" in item and "start" in item and "end" in item:
                return 0.9
        elif data == [] and isinstance(obj.get("meta"), dict) and "result_count" in obj["meta"]:
            return 0.9  # an empty search page
        # The sampler kept only the first item of a long page; look for the rest in the head.
        head = text[:65536]
        if '"__twarc"' in head or '"includes"' in head or '"matching_rules"' in head:
            return 0.9
        return 0.0
    if "id" in obj and "text" in obj:
        if isinstance(obj.get("author"), dict) or "__twarc" in obj:
            return 0.9
        if "author_id" in obj and ("conversation_id" in obj or "edit_history_tweet_ids" in obj):
            return 0.75
        return 0.0
    if "id" in obj and "username" in obj and "__twarc" in obj:
        return 0.85
    return 0.0


def _map_page(raw: dict) -> Records:
    """A response page or a streamed tweet: ``data`` plus ``includes``."""
    out = Records()
    data = raw["data"]
    if type(data) is dict:  # streaming output: one tweet per line
        data = [data]
    elif type(data) is not list:
        raise SourceError(f"field 'data' is {_show(data)}, expected a list or an object")
    inc = raw.get("includes") or _EMPTY
    if type(inc) is not dict:
        raise SourceError(f"field 'includes' is {_show(inc)}, expected an object")
    users: dict[str, dict] = {}
    for u in inc.get("users") or ():
        try:
            actor = _user_actor(u)
        except _ITEM_ERRORS as exc:
            out.problems.append(_problem("included user", u, exc))
            continue
        users[actor.id[_CUT:]] = u
        out.actors.append(actor)
    tweets: dict[str, dict] = {}
    for t in inc.get("tweets") or ():
        if type(t) is dict:
            tid = t.get("id")
            if type(tid) is str:
                tweets[tid] = t
    first = data[0] if data else None
    if type(first) is dict and "text" not in first and "username" in first:
        # A user lookup: data users are primary, and they are who pinned tweets refer to.
        for u in data:
            if type(u) is dict and type(u.get("id")) is str:
                users[u["id"]] = u
    ctx = _Ctx(users, tweets)
    rules = _rules(raw.get("matching_rules")) if "matching_rules" in raw else None

    def one(item: Any) -> None:
        if type(item) is not dict:
            raise SourceError(f"data item is {_show(item)}, expected an object")
        if "text" in item:
            msg = _tweet(item, ctx, out, True)
            if rules:
                if msg.extra is None:
                    msg.extra = {}
                msg.extra["matching_rules"] = rules
        elif "username" in item:
            out.profiles.append(_user_actor(item))
        elif "tweet_count" not in item:  # a count bucket is recognised, with nothing to import
            raise SourceError("data item is neither a tweet (no 'text') nor a user (no 'username')")

    _each(data, one, "data", out)
    if tweets:
        _each(list(tweets.values()), lambda t: _tweet(t, ctx, out, False), "included tweet", out)
    return out


def _collect(t: dict, users: dict, tweets: dict, depth: int) -> None:
    """Gather the users and full referenced tweets inlined in a flattened tweet."""
    for key in ("author", "in_reply_to_user"):
        u = t.get(key)
        if type(u) is dict and type(u.get("id")) is str:
            users[u["id"]] = u
    ent = t.get("entities")
    mentions = ent.get("mentions") if type(ent) is dict else None
    if type(mentions) is list:
        for m in mentions:
            # Flattened mentions carry the mentioned user's fields.
            if type(m) is dict and "name" in m and type(m.get("id")) is str:
                users.setdefault(m["id"], m)
    refs = t.get("referenced_tweets")
    if depth < 4 and type(refs) is list:
        for r in refs:
            if type(r) is dict and "text" in r and type(r.get("id")) is str:
                tweets.setdefault(r["id"], r)
                _collect(r, users, tweets, depth + 1)


def _map_flat(raw: dict) -> Records:
    """A ``twarc2 flatten`` tweet: expansions inlined instead of in ``includes``."""
    if any(k in raw for k in _V1_KEYS):
        raise SourceError("record is a Twitter v1.1 tweet ('id_str', 'user'); use --format twitter-v1")
    out = Records()
    users: dict[str, dict] = {}
    tweets: dict[str, dict] = {}
    _collect(raw, users, tweets, 0)
    if users:
        _each(list(users.values()), lambda u: out.actors.append(_user_actor(u)), "inlined user", out)
    ctx = _Ctx(users, tweets)
    _tweet(raw, ctx, out, True)
    tweets.pop(raw["id"], None)
    if tweets:
        _each(list(tweets.values()), lambda t: _tweet(t, ctx, out, False), "referenced tweet", out)
    return out


def _map_flat_user(raw: dict) -> Records:
    """A flattened user: a profile, with its pinned tweet as context."""
    out = Records()
    out.profiles.append(_user_actor(raw))
    pinned = raw.get("pinned_tweet")
    if type(pinned) is dict and "text" in pinned:
        ctx = _Ctx({raw["id"]: raw} if type(raw["id"]) is str else {}, {})
        _each([pinned], lambda t: _tweet(t, ctx, out, False), "pinned tweet", out)
    return out


# -- twarc-csv -----------------------------------------------------------------------------


def _csv_text(v: str | None) -> str | None:
    """twarc-csv writes new lines as a backslash and ``n`` and drops carriage returns."""
    if v is None:
        return None
    return v.replace("\\n", "\n") if "\\n" in v else v


def _csv_int(row: dict, col: str) -> int | None:
    v = row.get(col)
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        pass
    try:
        # pandas writes "1234.0" in an integer column that has empty cells.
        f = float(v)
        if f == f and abs(f) < 2**63:
            return int(f)
    except ValueError:
        pass
    raise SourceError(f"field '{col}' is {_show(v)}, expected an integer")


def _csv_bool(row: dict, col: str) -> bool | None:
    v = row.get(col)
    if v is None:
        return None
    low = v.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise SourceError(f"field '{col}' is {_show(v)}, expected True or False")


def _csv_list(row: dict, col: str) -> list:
    v = row.get(col)
    if v is None:
        return []
    try:
        value = orjson.loads(v)
    except orjson.JSONDecodeError:
        raise SourceError(f"field '{col}' is {_show(v)}, expected a JSON list") from None
    if type(value) is not list:
        raise SourceError(f"field '{col}' is {_show(v)}, expected a JSON list")
    return value


def _csv_author(row: dict) -> dict | None:
    """The author columns of a twarc-csv row as a v2 user object."""
    uid = row.get("author.id") or row.get("author_id")
    if not uid:
        return None
    u: dict[str, Any] = {"id": uid}
    for col, key in (("author.username", "username"), ("author.name", "name"),
                     ("author.created_at", "created_at"), ("author.url", "url"),
                     ("author.location", "location")):
        v = row.get(col)
        if v is not None:
            u[key] = v
    desc = row.get("author.description")
    if desc is not None:
        u["description"] = _csv_text(desc)
    for col, key in (("author.verified", "verified"), ("author.protected", "protected")):
        b = _csv_bool(row, col)
        if b is not None:
            u[key] = b
    pm = {}
    for key in ("followers_count", "following_count", "tweet_count", "listed_count"):
        n = _csv_int(row, "author.public_metrics." + key)
        if n is not None:
            pm[key] = n
    if pm:
        u["public_metrics"] = pm
    codes = row.get("author.withheld.country_codes")
    if codes:
        u["withheld"] = {"country_codes": _csv_list(row, "author.withheld.country_codes")}
    return u


def _map_csv(row: _CsvRow) -> Records:
    """A twarc-csv row, rebuilt as a v2 tweet and mapped like the JSON."""
    out = Records()
    g = row.get
    tid = _sid(g("id"), "id")
    users: dict[str, dict] = {}
    author = _csv_author(row)
    if author is not None:
        users[author["id"]] = author
    # Users the row names by id and username: the replied-to, retweeted and quoted authors.
    for id_col, name_col in (("in_reply_to_user_id", "in_reply_to_username"),
                             ("retweeted_user_id", "retweeted_username"),
                             ("quoted_user_id", "quoted_username")):
        uid = g(id_col)
        if uid:
            uid = _sid(uid, id_col)
            if uid not in users:
                users[uid] = {"id": uid, "username": g(name_col)}
    ctx = _Ctx(users, {})
    for u in users.values():
        out.actors.append(_user_actor(u))

    refs = [{"type": typ, "id": g(col)} for col, typ in _CSV_REFS if g(col)]
    text = _csv_text(g("text"))
    metrics = {}
    for col, key in _CSV_METRICS:
        n = _csv_int(row, col)
        if n is not None:
            metrics[key] = n
    entities: dict[str, list] = {}
    tags = [{"tag": h.lstrip("#")} for h in _csv_list(row, "entities.hashtags") if type(h) is str]
    if tags:
        entities["hashtags"] = tags
    links = []
    for link in _csv_list(row, "entities.urls"):
        if type(link) is str and link:
            # Media links are written as their display form (pic.twitter.com/...), without a scheme.
            links.append({"expanded_url": link if "://" in link else "https://" + link})
    if links:
        entities["urls"] = links
    mentions = []
    for name in _csv_list(row, "entities.mentions"):
        if type(name) is str:
            name = name.lstrip("@")
            uid = ctx.user_id(name) if name else None
            if uid is not None:
                mentions.append({"id": uid, "username": name})
    if mentions:
        entities["mentions"] = mentions

    tweet: dict[str, Any] = {"id": tid, "author_id": g("author_id") or g("author.id"),
                             "created_at": g("created_at"), "lang": g("lang"),
                             "conversation_id": g("conversation_id"), "source": g("source"),
                             "in_reply_to_user_id": g("in_reply_to_user_id")}
    if refs:
        tweet["referenced_tweets"] = refs
    sensitive = _csv_bool(row, "possibly_sensitive")
    if sensitive is not None:
        tweet["possibly_sensitive"] = sensitive
    codes = g("withheld.country_codes")
    if codes:
        tweet["withheld"] = {"country_codes": _csv_list(row, "withheld.country_codes")}
    rt_id = g("referenced_tweets.retweeted.id")
    rt_user = g("retweeted_user_id")
    original = None
    if rt_id and rt_user:
        # A merged retweet: text, entities and metrics are the original's.
        original = {"id": rt_id, "author_id": rt_user, "text": text, "public_metrics": metrics,
                    "entities": entities}
        ctx.tweets[rt_id] = original
        rt_name = g("retweeted_username")
        tweet["text"] = f"RT @{rt_name}: {text}" if rt_name and text is not None else None
        if rt_name:
            tweet["entities"] = {"mentions": [{"id": rt_user, "username": rt_name}]}
    else:
        tweet["text"] = text
        tweet["public_metrics"] = metrics
        tweet["entities"] = entities
    msg = _tweet(tweet, ctx, out, True)
    rules = _rules(_csv_list(row, "matching_rules")) if "matching_rules" in row else None
    if rules:
        if msg.extra is None:
            msg.extra = {}
        msg.extra["matching_rules"] = rules
    if original is not None:
        # Its kind and date are unknown: a stub that the full tweet completes when it arrives.
        _tweet(original, ctx, out, False).stub = True
    quoted = g("referenced_tweets.quoted.id")
    quoted_user = g("quoted_user_id")
    if quoted and quoted_user:
        out.context.append(Message(_PREFIX + _sid(quoted, "referenced_tweets.quoted.id"), P,
                                   _PREFIX + _sid(quoted_user, "quoted_user_id"), None, stub=True))
    return out
