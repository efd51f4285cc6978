"""Twitter API v1.1 tweets, and the RumourEval 2017 / PHEME conversation threads.

What it reads
-------------
* **Classic v1.1 tweet JSON**, whatever the container:

  - one tweet per line: the Streaming API (``statuses/filter``, ``sample``),
    twarc 1 output, most archive collections;
  - a JSON array of tweets: ``statuses/lookup``, ``user_timeline``,
    ``home_timeline``, ``mentions_timeline``;
  - a search response ``{"statuses": [...], "search_metadata": {...}}``, as one
    document or one page per line;
  - one tweet object per file, compact or pretty-printed: the PHEME layout
    ``<event>/<thread>/source-tweet/<id>.json`` and ``reactions/<id>.json``
    (import the whole folder; ``structure.json`` and ``annotation.json`` are
    not tweets and are left to other readers or skipped).

  Streaming notices (``delete``, ``limit``, ``scrub_geo``, ``status_withheld``,
  ...) are skipped: they are not tweets and carry no content.
* **RumourEval 2017 processed threads** (SemEval-2017 Task 8 as distributed by
  MSA-BiGCN): ``posts.json`` = ``{post_id: {"time": unix, "text": str}}`` is the
  file read; its companions in the same folder are read with it and are not
  imported on their own: ``structures.json`` (``{thread_id: nested reply
  tree}``), ``thread_id.txt`` / ``thread_label.txt`` (veracity codes 0 true,
  1 false, 2 unverified), ``post_id.txt`` / ``post_label.txt`` (stance codes
  0 support, 1 query, 2 deny, 3 comment) and the derived
  ``thread_labels_named.tsv`` / ``post_labels_named.tsv`` (used when the
  ``.txt`` label files are absent). ``posts.json`` is streamed with ijson; the
  tree and the labels are small indexes and are loaded whole.

Identifiers
-----------
The same as the twarc2 (API v2) reader, so that v1.1 and v2 collections of the
same tweets deduplicate: an actor is ``twitter:<user id_str>``, a message
``twitter:<tweet id_str>``. Only the ``*_str`` ids are used (an ``id`` number is
accepted only when it is an exact integer): tweet ids exceed 2^53 and lose
digits in any float-based JSON parser.

Mapping of a v1.1 tweet
-----------------------
* ``kind``: ``reshare`` when ``retweeted_status`` is present (``reshare_of`` is
  the original), else ``quote`` when the tweet quotes (``quoted_status`` or
  ``quoted_status_id_str``; ``quote_of``), else ``reply`` when
  ``in_reply_to_status_id_str`` is set (``reply_to``), else ``post``. A reply
  that quotes keeps both ``reply_to`` and ``quote_of``.
* Embedded tweets (the retweeted original, the quoted tweet, and the tweet
  quoted by a retweeted original) become **context** messages with their own
  author, entities and metrics. A retweet of a quote carries
  ``is_quote_status`` (and sometimes ``quoted_status_id_str``) at its top level
  although the quoting is done by the original: the retweet gets no
  ``quote_of``, the original does.
* The parent of a reply becomes a **stub** context message written by
  ``twitter:<in_reply_to_user_id_str>`` (with ``in_reply_to_screen_name`` as
  the handle), so the reply resolves to its target's author before, or
  without, the parent itself being imported.
* ``text``: ``extended_tweet.full_text`` (streams in compatibility mode),
  else ``full_text`` (REST with ``tweet_mode=extended``), else ``text``, with
  Twitter's HTML escaping (``&amp;``, ``&lt;``, ``&gt;``) undone. A retweet's
  text is stored as given (``RT @user: ...``, possibly cut); the complete text
  is on the original.
* ``created_at`` (``Sat Mar 10 14:03:15 +0000 2018``) is parsed with its
  offset; when it is absent, the time is taken from the tweet id (a snowflake
  id holds its creation time to the millisecond).
* Metrics: ``likes`` = ``favorite_count``, ``reshares`` = ``retweet_count``,
  ``replies`` = ``reply_count``, ``quotes`` = ``quote_count`` when present. A
  retweet's counts are copies of its original's, so they are not stored on
  the retweet (the original, a context message, has them).
* Entities (``extended_tweet.entities`` when present, else ``entities``):
  ``user_mentions`` with an id become mentions (and actors with their handle),
  ``hashtags`` become lower-case tags, ``urls`` become links to their
  ``expanded_url`` (domain from :func:`~whuffie.sources.base.host_of`).
  A retweet repeats its original's entities plus the ``RT @author``
  mention: it keeps the tags and links (the retweet spreads them) but gets no
  mentions, so retweeting is one ``reshare`` interaction and not also a
  ``mention`` of the original author; the original carries its own mentions.
* ``lang`` as given (``und`` when Twitter could not tell, as in v2), ``url`` =
  ``https://twitter.com/<screen_name>/status/<id_str>``; ``extra`` keeps the
  client (``source``, as plain text), ``possibly_sensitive``, ``place`` /
  ``country_code`` and ``coordinates`` ``[lon, lat]`` when present. ``thread_id`` stays empty: v1.1
  does not give the conversation root.
* The ``user`` object becomes an actor: ``handle`` = ``screen_name``,
  ``name``, ``description``, ``url`` (the expanded profile link), ``created_at``,
  ``followers`` = ``followers_count``, ``following`` = ``friends_count``,
  ``posts`` = ``statuses_count``, ``verified``; ``extra`` keeps ``location``,
  ``lang``, ``listed_count`` and ``protected`` when present. Authors are actors
  seen in passing, not primary profiles.

Mapping of RumourEval 2017
--------------------------
Every post of ``posts.json`` is a primary message ``twitter:<post_id>`` with
``actor_id`` empty: the data set has no authors, so these threads give reply
structure, stance and veracity but **no interactions** (importing the original
tweets, such as the PHEME JSON files, fills the authors in, and the replies
then resolve to them). From ``structures.json``: ``reply_to`` is the parent in
the tree, ``thread_id`` the thread's source tweet (the root itself included),
``kind`` is ``post`` for the source tweet and ``reply`` for the others. Tree
nodes with no post (deleted or unavailable tweets) become stub context
messages, with their own ``reply_to`` and ``thread_id``, so every reply
resolves inside its thread; top-level nodes other than the source (replies
whose parent is unknown) have no ``reply_to``. ``extra`` holds ``stance``
(``support``, ``query``, ``deny``, ``comment``) on every labelled post and
``veracity`` (``true``, ``false``, ``unverified``) **on the source tweet only**:
it is a property of the rumour, which the thread shares; join on
``thread_id`` to attach it to the replies. Hashtags and ``http`` URLs of the
text become tags and links.

The ``time`` values were made with ``time.mktime`` on the processing machine,
which shifted them by its UTC offset (8 hours for the MSA-BiGCN copy);
``created_at`` is therefore taken from the tweet id's snowflake time when it
lies within a day of ``time``, and is ``time`` otherwise. A ``line`` in
quarantine for ``posts.json`` is the position of the post in the file.

Examples
--------
>>> tweet = {"id_str": "20", "created_at": "Tue Mar 21 20:50:14 +0000 2006",
...          "text": "just setting up my twttr", "user": {"id_str": "12", "screen_name": "jack"}}
>>> m = TwitterV1Reader().map_record(tweet).messages[0]
>>> m.id, m.actor_id, m.kind, m.url
('twitter:20', 'twitter:12', 'post', 'https://twitter.com/jack/status/20')
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of, json_records
from whuffie.sources.io import Input, depth_limited, excerpt, head_bytes
from whuffie.sources.text import hashtags, urls
from whuffie.sources.times import parse_time

PLATFORM = "twitter"

# "Sat Mar 10 14:03:15 +0000 2018": the v1.1 created_at, for sniffing only.
_V1_TIME = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [+-]\d{4} \d{4}$")
# posts.json of RumourEval: {"<digits>": {"time": ... or {"text": ...
_RUMOUREVAL_HEAD = re.compile(rb'^\s*\{\s*"\d{1,20}"\s*:\s*\{\s*"(?:time|text)"\s*:')
_STATUSES = re.compile(r'"statuses"\s*:\s*\[\s*')
# Streaming API notices that are not tweets (and user-stream events).
_NOTICES = frozenset({
    "delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning",
    "friends", "friends_str", "event", "control", "for_user", "direct_message",
})
_STANCES = {"0": "support", "1": "query", "2": "deny", "3": "comment"}
_VERACITY = {"0": "true", "1": "false", "2": "unverified"}
_COMPANIONS = ("structures.json", "thread_id.txt", "thread_label.txt", "post_id.txt", "post_label.txt",
               "thread_labels_named.tsv", "post_labels_named.tsv")
# Embedded tweets nest at most retweet -> original -> quoted tweet in real data; deeper
# nesting is garbage and must not recurse without bound.
_MAX_DEPTH = 3
_RE_MARK = "_rumoureval"

#: Twitter's snowflake epoch (2010-11-04T01:42:54.657Z) in Unix milliseconds.
TWEPOCH_MS = 1288834974657
# Ids below this are pre-snowflake sequential ids (they stopped near 3e10 in 2010); 1e14 is a
# snowflake minted 6.6 hours after the epoch.
_FIRST_SNOWFLAKE = 10**14
_EPOCH = datetime(1970, 1, 1)


def snowflake_time(native_id: str | int) -> datetime | None:
    """The creation time encoded in a tweet or user snowflake id (naive UTC), or ``None``.

    Ids minted before November 2010 are sequential and carry no time.

    Examples
    --------
    >>> snowflake_time("972473017333899264")
    datetime.datetime(2018, 3, 10, 14, 3, 29, 664000)
    >>> snowflake_time("20") is None
    True
    """
    try:
        n = int(native_id)
    except (TypeError, ValueError):
        return None
    if n < _FIRST_SNOWFLAKE or n >= 2**64:
        return None
    return _EPOCH + timedelta(milliseconds=(n >> 22) + TWEPOCH_MS)


def is_v1_tweet(value: Any) -> bool:
    """Whether a JSON value looks like a v1.1 tweet: ``id_str``, a ``user`` object, a Twitter time.

    Examples
    --------
    >>> is_v1_tweet({"id_str": "1", "user": {"id_str": "2"}, "created_at": "Sat Mar 10 14:03:15 +0000 2018"})
    True
    >>> is_v1_tweet({"id": "1", "author_id": "2", "created_at": "2018-03-10T14:03:15.000Z"})
    False
    """
    if not isinstance(value, dict):
        return False
    created = value.get("created_at")
    return (isinstance(value.get("id_str"), str) and isinstance(value.get("user"), dict)
            and isinstance(created, str) and _V1_TIME.match(created) is not None)


def _first_status(text: str) -> dict | None:
    """``{"statuses": [first]}`` from the head of a search response whose ``statuses`` is not
    its first member (real responses may open with ``search_metadata``)."""
    m = _STATUSES.search(text)
    if m is None:
        return None
    try:
        return {"statuses": [json.JSONDecoder().raw_decode(text, m.end())[0]]}
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def _cached_time(value: str, field: str) -> datetime | None:
    return parse_time(value, field)


def _when(value: Any, field: str) -> datetime | None:
    """:func:`parse_time`, memoised for strings: a stream repeats each second, and each
    author's ``created_at``, many times (datetimes are immutable, so sharing them is safe)."""
    if type(value) is str:
        return _cached_time(value, field)
    return parse_time(value, field)


def _shown(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _native(d: dict, str_key: str, int_key: str, where: str) -> str | None:
    """The id in ``str_key`` (or an exact integer in ``int_key``) as a digit string, or ``None``."""
    v = d.get(str_key)
    if v is None or v == "":
        v = d.get(int_key)
        if v is None or v == "":
            return None
        key = int_key
    else:
        key = str_key
    t = type(v)
    if t is str:
        if v.isascii() and v.isdigit():
            return v
    elif t is int and v >= 0:
        return str(v)
    elif t is float:
        raise SourceError(f"field '{where}{key}' is {_shown(v)}, a float that may have lost digits; "
                          f"expected the id as a string ('{str_key}')")
    raise SourceError(f"field '{where}{key}' is {_shown(v)}, expected a numeric id")


def _count(value: Any) -> int | None:
    return value if type(value) is int else None


def _str(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _unescape(text: Any) -> str | None:
    if type(text) is not str:
        return None
    return html.unescape(text) if "&" in text else text


def _client(source: Any) -> str | None:
    """``<a href="..." rel="nofollow">Twitter for iPhone</a>`` -> ``Twitter for iPhone``."""
    if type(source) is not str or not source:
        return None
    if source[0] != "<":
        return source
    start = source.find(">")
    end = source.find("<", start + 1)
    if start < 0 or end < 0:
        return source
    return html.unescape(source[start + 1:end]).strip() or None


def _list(value: Any) -> list:
    return value if type(value) is list else []


class TwitterV1Reader(Reader):
    """Twitter API v1.1 tweets (stream, twarc 1, REST, search, PHEME) and RumourEval 2017 threads.

    See the module documentation for the formats, the id scheme and the mapping.
    """

    id = "twitter-v1"
    platform = PLATFORM
    title = ("Twitter API v1.1 tweet JSON (stream, twarc 1, REST arrays, search, PHEME files) "
             "and RumourEval 2017 threads")
    options_help: dict[str, str] = {}

    # -- sniffing ------------------------------------------------------------------------

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise v1.1 tweets, search responses and RumourEval ``posts.json`` by content."""
        text = sample.stripped
        if not text or text[0] not in "{[":
            return 0.0
        if _RUMOUREVAL_HEAD.match(sample.head.lstrip(b"\xef\xbb\xbf")):
            return 0.9
        item = sample.first_item()
        if item is None and text[0] == "{":
            item = _first_status(text)
        if isinstance(item, dict):
            statuses = item.get("statuses")
            if isinstance(statuses, list):
                if statuses:
                    return 0.95 if is_v1_tweet(statuses[0]) else 0.0
                return 0.6 if "search_metadata" in item else 0.0
            if is_v1_tweet(item):
                return 0.95
            user = item.get("user")
            if (isinstance(item.get("id_str"), str) and isinstance(user, dict)
                    and "screen_name" in user and ("text" in item or "full_text" in item)):
                return 0.7  # re-serialised tweets whose created_at was rewritten (ISO, epoch)
            if "id_str" not in item and not _NOTICES.isdisjoint(item):
                return cls._sniff_after_notices(text)
        return 0.0

    @staticmethod
    def _sniff_after_notices(text: str) -> float:
        """A stream may open with ``delete`` / ``limit`` notices: look for the first tweet."""
        for line in text.split("\n")[:200]:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                return 0.0
            if is_v1_tweet(value):
                return 0.9
            if not isinstance(value, dict) or "id_str" in value or _NOTICES.isdisjoint(value):
                return 0.0
        return 0.0

    # -- reading -------------------------------------------------------------------------

    def companions(self, path: Path) -> list[Path]:
        """The RumourEval files read together with a ``posts.json``; none for tweet files."""
        path = Path(path)
        found = [p for p in (path.parent / name for name in _COMPANIONS) if p.is_file()]
        if not found:  # the common case (a folder of tweet files): no need to open the file
            return []
        try:
            head = head_bytes(path, 4096)
        except OSError:
            return []
        return found if _RUMOUREVAL_HEAD.match(head.lstrip(b"\xef\xbb\xbf")) else []

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Yield tweets (or pages of tweets), or the posts of a RumourEval ``posts.json``."""
        stream = inp.stream
        peek = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        if _RUMOUREVAL_HEAD.match(peek.lstrip(b"\xef\xbb\xbf")):
            yield from self._read_rumoureval(inp)
        else:
            yield from json_records(inp, keys=("statuses",))

    def _read_rumoureval(self, inp: Input) -> Iterator[Raw | Bad]:
        import ijson

        folder = inp.path.parent
        problems: list[str] = []
        tree = _load_tree(folder / "structures.json", problems)
        stance = _load_labels(folder, "post_id.txt", "post_label.txt", "post_labels_named.tsv",
                              _STANCES, "stance", problems)
        veracity = _load_labels(folder, "thread_id.txt", "thread_label.txt", "thread_labels_named.tsv",
                                _VERACITY, "veracity", problems)
        for reason in problems:
            yield Bad(reason, None, None, "")
        seen: set[str] = set()
        stream = inp.stream
        if stream.peek(3)[:3] == b"\xef\xbb\xbf":
            stream.read(3)
        n = 0
        try:
            for n, (pid, post) in enumerate(ijson.kvitems(depth_limited(stream), "", use_float=True), 1):
                seen.add(pid)
                parent, root = tree.get(pid, (None, None))
                yield Raw({_RE_MARK: pid, "post": post, "parent": parent, "thread": root,
                           "stance": stance.get(pid),
                           "veracity": veracity.get(pid) if pid == root else None}, n)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            reason = " ".join(str(exc).split())
            yield Bad(f"invalid JSON after post {n} ({reason})", None, None, "")
        # Tree nodes without a post: stubs that keep every reply attached to its thread.
        for node, (parent, root) in tree.items():
            if node not in seen:
                yield Raw({_RE_MARK: node, "post": None, "parent": parent, "thread": root})

    # -- mapping -------------------------------------------------------------------------

    def map_record(self, raw: Any) -> Records:
        """Map a tweet, a page of tweets or a RumourEval post to canonical records.

        Raises
        ------
        SourceError
            When the record is not a tweet, or a field cannot be mapped.
        """
        out = Records()
        if isinstance(raw, dict):
            if _RE_MARK in raw:
                _rumoureval(raw, out)
                return out
            statuses = raw.get("statuses")
            if isinstance(statuses, list) and "id_str" not in raw:
                _page(statuses, out)
                return out
            if "id_str" not in raw and "id" not in raw and not _NOTICES.isdisjoint(raw):
                return out  # a streaming notice: nothing to store
            _tweet(raw, out, True, 0)
            return out
        if isinstance(raw, list):
            _page(raw, out)
            return out
        raise SourceError(f"record is {type(raw).__name__} {_shown(raw)}, expected a tweet object")


def _page(items: list, out: Records) -> None:
    """Map a list of tweets; a tweet that fails becomes a problem, not a failed page."""
    for i, item in enumerate(items, 1):
        part = Records()
        try:
            _tweet(item, part, True, 0)
        except SourceError as exc:
            try:
                text = orjson.dumps(item, default=str).decode()
            except TypeError:
                text = repr(item)
            out.problems.append(Problem(f"item {i}: {exc.reason}", excerpt(text)))
            continue
        out.extend(part)


def _tweet(t: Any, out: Records, primary: bool, depth: int, where: str = "") -> str:
    """Map one tweet (and what it embeds) into ``out``; return its message id."""
    if type(t) is not dict:
        name = where.rstrip(".") or "record"
        raise SourceError(f"field '{name}' is {type(t).__name__} {_shown(t)}, expected a tweet object")
    native = _native(t, "id_str", "id", where)
    if native is None:
        raise SourceError(f"tweet has no '{where}id_str'")
    mid = f"twitter:{native}"
    user = t.get("user")
    author = screen_name = None
    if type(user) is dict:
        uid = _native(user, "id_str", "id", where + "user.")
        if uid is not None:
            author = f"twitter:{uid}"
            screen_name = _str(user.get("screen_name"))
            out.actors.append(_actor(user, author, where))
    if author is None and primary:
        raise SourceError(f"tweet {native} has no '{where}user' object with an 'id_str'")

    created = _when(t.get("created_at"), where + "created_at")
    if created is None:
        created = snowflake_time(native)

    ext = t.get("extended_tweet")
    if type(ext) is dict and type(ext.get("full_text")) is str:
        text = ext["full_text"]
        entities = ext.get("entities")
        if type(entities) is not dict:
            entities = t.get("entities")
    else:
        text = t.get("full_text")
        if type(text) is not str:
            text = t.get("text")
        entities = t.get("entities")
    text = _unescape(text)

    kind = "post"
    reshare_of = quote_of = reply_to = None
    nested = depth < _MAX_DEPTH
    rt = t.get("retweeted_status")
    if rt is not None:
        if not nested:
            raise SourceError(f"field '{where}retweeted_status' nests deeper than real tweets do")
        reshare_of = _tweet(rt, out, False, depth + 1, where + "retweeted_status.")
        kind = "reshare"
    else:
        # A retweet's own quoted_status* fields describe its original (the quirk of the
        # retweeted quote), so they are read only on tweets that are not retweets.
        qs = t.get("quoted_status")
        if qs is not None:
            if not nested:
                raise SourceError(f"field '{where}quoted_status' nests deeper than real tweets do")
            quote_of = _tweet(qs, out, False, depth + 1, where + "quoted_status.")
        else:
            qid = _native(t, "quoted_status_id_str", "quoted_status_id", where)
            if qid is not None:
                quote_of = f"twitter:{qid}"
        if quote_of is not None:
            kind = "quote"
        parent = _native(t, "in_reply_to_status_id_str", "in_reply_to_status_id", where)
        if parent is not None:
            reply_to = f"twitter:{parent}"
            if kind == "post":
                kind = "reply"
            puid = _native(t, "in_reply_to_user_id_str", "in_reply_to_user_id", where)
            if puid is not None:
                pauthor = f"twitter:{puid}"
                out.context.append(Message(reply_to, PLATFORM, pauthor, None, stub=True))
                out.actors.append(Actor(pauthor, PLATFORM, handle=_str(t.get("in_reply_to_screen_name"))))

    if kind == "reshare":
        # A retweet echoes its original's counts; they belong to the original.
        likes = reshares = replies = quotes = None
    else:
        likes = _count(t.get("favorite_count"))
        reshares = _count(t.get("retweet_count"))
        replies = _count(t.get("reply_count"))
        quotes = _count(t.get("quote_count"))

    lang = t.get("lang")
    if type(lang) is not str or not lang:
        lang = None
    extra = _tweet_extra(t)
    url = (f"https://twitter.com/{screen_name}/status/{native}" if screen_name
           else f"https://twitter.com/i/web/status/{native}")
    message = Message(mid, PLATFORM, author, created, kind, text, None, lang, reply_to, reshare_of,
                      quote_of, None, url, likes, reshares, replies, quotes, None, None, False, extra)
    (out.messages if primary else out.context).append(message)
    if type(entities) is dict:
        _entities(entities, mid, out, kind != "reshare")
    return mid


def _tweet_extra(t: dict) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    client = _client(t.get("source"))
    if client:
        extra["source"] = client
    sensitive = t.get("possibly_sensitive")
    if type(sensitive) is bool:
        extra["possibly_sensitive"] = sensitive
    place = t.get("place")
    if type(place) is dict:
        if type(place.get("full_name")) is str:
            extra["place"] = place["full_name"]
        if type(place.get("country_code")) is str and place["country_code"]:
            extra["country_code"] = place["country_code"]
    coords = t.get("coordinates")
    if type(coords) is dict:
        point = coords.get("coordinates")
        # Only a [lon, lat] pair of plain numbers: extra is serialised as JSON, which cannot
        # hold integers beyond 64 bits (a garbled array item parsed by ijson may have them).
        if (type(point) is list and len(point) == 2
                and all(type(x) is float or (type(x) is int and -1000 < x < 1000) for x in point)):
            extra["coordinates"] = point
    return extra or None


def _entities(entities: dict, mid: str, out: Records, with_mentions: bool) -> None:
    if with_mentions:
        for m in _list(entities.get("user_mentions")):
            if type(m) is not dict:
                continue
            try:
                uid = _native(m, "id_str", "id", "entities.user_mentions.")
            except SourceError:
                uid = None  # a mention without a usable id cannot be keyed; handles change
            if uid is None:
                continue
            aid = f"twitter:{uid}"
            handle = _str(m.get("screen_name"))
            out.mentions.append(Mention(mid, aid, handle))
            out.actors.append(Actor(aid, PLATFORM, handle=handle, name=_str(m.get("name"))))
    for h in _list(entities.get("hashtags")):
        if type(h) is dict and type(h.get("text")) is str and h["text"]:
            out.tags.append(Tag(mid, h["text"].lower()))
    for u in _list(entities.get("urls")):
        if type(u) is not dict:
            continue
        link = u.get("expanded_url")
        if type(link) is not str or not link:
            link = u.get("url")
            if type(link) is not str or not link:
                continue
        out.links.append(Link(mid, link, host_of(link)))


def _actor(user: dict, aid: str, where: str) -> Actor:
    url = None
    ents = user.get("entities")
    if type(ents) is dict and type(ents.get("url")) is dict:
        for u in _list(ents["url"].get("urls")):
            if type(u) is dict and _str(u.get("expanded_url")):
                url = u["expanded_url"]
                break
    if url is None:
        url = _str(user.get("url"))
    extra: dict[str, Any] = {}
    for key in ("location", "lang"):
        v = user.get(key)
        if type(v) is str and v:
            extra[key] = v
    listed = user.get("listed_count")
    if type(listed) is int and 0 <= listed < 2**63:
        extra["listed_count"] = listed
    protected = user.get("protected")
    if type(protected) is bool:
        extra["protected"] = protected
    verified = user.get("verified")
    return Actor(
        aid, PLATFORM,
        handle=_str(user.get("screen_name")),
        name=_str(user.get("name")),
        url=url,
        description=_str(user.get("description")),  # not HTML-escaped, unlike text
        created_at=_when(user.get("created_at"), where + "user.created_at"),
        followers=_count(user.get("followers_count")),
        following=_count(user.get("friends_count")),
        posts=_count(user.get("statuses_count")),
        verified=verified if type(verified) is bool else None,
        extra=extra or None,
    )


# -- RumourEval ---------------------------------------------------------------------------


def _rumoureval(raw: dict, out: Records) -> None:
    pid = raw.get(_RE_MARK)
    if type(pid) is not str or not (pid.isascii() and pid.isdigit()):
        raise SourceError(f"post id is {_shown(pid)}, expected a numeric tweet id")
    mid = f"twitter:{pid}"
    parent, root = raw.get("parent"), raw.get("thread")
    reply_to = f"twitter:{parent}" if parent else None
    thread_id = f"twitter:{root}" if root else None
    kind = "post" if root is None or root == pid else "reply"
    post = raw.get("post")
    if post is None:
        out.context.append(Message(mid, PLATFORM, None, snowflake_time(pid), kind, reply_to=reply_to,
                                   thread_id=thread_id, stub=True))
        return
    if type(post) is not dict:
        raise SourceError(f"post {pid} is {type(post).__name__} {_shown(post)}, "
                          "expected an object with 'time' and 'text'")
    given = parse_time(post.get("time"), "time")
    created = snowflake_time(pid)
    if created is None or (given is not None and abs((_naive(given) - created).total_seconds()) > 86400):
        created = given
    text = post.get("text")
    if text is not None and type(text) is not str:
        raise SourceError(f"field 'text' of post {pid} is {_shown(text)}, expected a string")
    text = _unescape(text)
    extra = {}
    for key in ("stance", "veracity"):
        label = raw.get(key)
        if type(label) is str and label:
            extra[key] = label
    out.messages.append(Message(mid, PLATFORM, None, created, kind, text, reply_to=reply_to,
                                thread_id=thread_id, extra=extra or None))
    for tag in hashtags(text):
        out.tags.append(Tag(mid, tag))
    for link in urls(text):
        out.links.append(Link(mid, link, host_of(link)))


def _naive(value: datetime) -> datetime:
    offset = value.utcoffset()
    return value if offset is None else (value - offset).replace(tzinfo=None)


def _load_tree(path: Path, problems: list[str]) -> dict[str, tuple[str | None, str]]:
    """``structures.json`` as node id -> (parent id or None, thread id)."""
    if not path.is_file():
        return {}
    try:
        data = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError) as exc:
        problems.append(f"{path.name} cannot be read ({exc}); posts keep no reply structure")
        return {}
    if type(data) is not dict:
        problems.append(f"{path.name} is {type(data).__name__}, expected {{thread_id: reply tree}}")
        return {}
    nodes: dict[str, tuple[str | None, str]] = {}
    for thread, top in data.items():
        if type(top) is not dict:
            problems.append(f"{path.name}: thread {_shown(thread)} is {_shown(top)}, expected a reply tree")
            continue
        # Iterative walk: real trees are shallow, but a hostile file must not exhaust the stack.
        stack: list[tuple[str | None, dict]] = [(None, top)]
        while stack:
            parent, children = stack.pop()
            for node, sub in children.items():
                nodes.setdefault(node, (parent, thread))
                if type(sub) is dict and sub:
                    stack.append((node, sub))
    return nodes


def _load_labels(folder: Path, ids_name: str, labels_name: str, named: str, codes: dict[str, str],
                 what: str, problems: list[str]) -> dict[str, str]:
    """Aligned id / code files (or the named TSV) as id -> label name."""
    ids_path, labels_path = folder / ids_name, folder / labels_name
    if ids_path.is_file() and labels_path.is_file():
        ids = ids_path.read_text(encoding="utf-8", errors="replace").split()
        labels = labels_path.read_text(encoding="utf-8", errors="replace").split()
        if len(ids) != len(labels):
            problems.append(f"{ids_name} has {len(ids)} ids but {labels_name} has {len(labels)} "
                            f"labels; {what} labels not used")
            return {}
        out = {}
        for n, (i, code) in enumerate(zip(ids, labels, strict=True), 1):
            name = codes.get(code)
            if name is None:
                problems.append(f"{labels_name} line {n}: {what} code {_shown(code)} is not one of "
                                f"{', '.join(codes)}")
                continue
            out[i] = name
        return out
    tsv = folder / named
    if not tsv.is_file():
        return {}
    names = set(codes.values())
    out = {}
    with open(tsv, encoding="utf-8", errors="replace", newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), 1):
            if n == 1 or len(row) < 2:
                continue
            if row[1] in names:
                out[row[0]] = row[1]
            else:
                problems.append(f"{named} line {n}: {what} {_shown(row[1])} is not one of "
                                f"{', '.join(sorted(names))}")
    return out
