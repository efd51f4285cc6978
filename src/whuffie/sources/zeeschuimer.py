"""Zeeschuimer exports: the items its browser extension captures on X, TikTok, Instagram, Threads, LinkedIn.

What it reads
-------------
Zeeschuimer (https://github.com/digitalmethodsinitiative/zeeschuimer) is a
Firefox extension that collects the items a social media site loads while you
browse it. Its ``.ndjson`` export (one file per platform,
``zeeschuimer-export-<platform>-<time>.ndjson``) holds one object per line:

* ``data``: the platform's own item, as the site's web client received it;
* ``source_platform``: the Zeeschuimer module that captured it (``twitter.com``
  for X, ``tiktok.com``, ``tiktok-comments``, ``instagram.com``,
  ``threads.net``, ``linkedin.com``, ...);
* ``timestamp_collected`` (epoch milliseconds), ``source_platform_url`` (the
  page open in the browser), ``source_url`` (the request the item came in),
  ``nav_index``, ``item_id``, ``user_agent`` and the extension's own ``id``.

The item is recognised by its shape (``source_platform`` only names the module
in the reason an item is quarantined for): an X GraphQL ``Tweet`` (``rest_id``, ``legacy``, ``core``; a
``TweetWithVisibilityResults`` wrapper is opened; the 2022 ``"type":
"adaptive"`` items with a v1.1 ``legacy`` tweet and ``user`` too), a TikTok
video (``id``, ``desc``, ``createTime``, ``author``, ``stats``), a TikTok
comment (``cid``, ``aweme_id``), an Instagram post (``code`` and ``taken_at``
from the web API, or ``shortcode`` and ``taken_at_timestamp`` from the older
GraphQL pages), a Threads post (``text_post_app_info``) and a LinkedIn feed
update (``actor``, ``commentary``, ``updateMetadata``; Voyager "V2"). Items of
the other Zeeschuimer modules (9GAG, Imgur, Douyin, Pinterest, RedNote, Gab,
Truth Social, Instagram comments, ...) are quarantined with a reason naming
their module. The same items stored by 4CAT are read by the ``4cat`` reader,
which maps them with :func:`map_item`.

Identifiers
-----------
* **X**: the ids of the ``twarc2`` and ``twitter-v1`` readers, so an export
  from Zeeschuimer, from 4CAT and from the API of the same tweets
  deduplicate: ``twitter:<tweet id>``, ``twitter:<user id>`` (``rest_id``).
* **TikTok**: video ``tiktok:<id>``, comment ``tiktok:comment:<cid>``, account
  ``tiktok:<user id>`` (``author.id``, a comment's ``user.uid``, a mention's
  ``userId``: TikTok gives the numeric id with every reference).
* **Instagram** and **Threads**: post ``instagram:<code>`` /
  ``threads:<code>`` (the short code of the post's URL, which 4CAT uses as the
  id too), account ``instagram:@<user name>`` / ``threads:@<user name>``
  lower-cased: captions mention accounts by user name only, so keying accounts
  by name is what lets a mention meet the mentioned account's own posts (the
  numeric ``pk`` is kept in the actor's ``extra``).
* **LinkedIn**: post ``linkedin:<activity id>`` (the number of
  ``urn:li:activity:<n>``), account ``linkedin:<profile path>``
  (``linkedin:in/<name>`` or ``linkedin:company/<name>``, from the link on the
  author's name).
* A reply, reshare or quote whose target the item names only by its author
  (a Threads reply gives ``reply_to_author`` but no post) points at a stub
  written by that author with the id ``<platform>:parent-of/<id>``
  (``original-of/``, ``quoted-by/``), see :func:`unknown_target`: the
  interaction then reaches the right account, and importing the item again
  gives the same id.

Mapping
-------
X items are turned into the v1.1 tweet their ``legacy`` object is (author from
``core.user_results.result``, its ``rest_id``, ``legacy`` and ``core``;
``retweeted_status_result`` and ``quoted_status_result`` as embedded tweets;
the full text and entities of a long post from ``note_tweet``) and mapped
exactly as the ``twitter-v1`` reader maps tweets (retweets, quotes, replies
with a stub of the parent by ``in_reply_to_user_id_str``, mentions with ids,
tags, links, metrics); ``thread_id`` = ``twitter:<conversation_id_str>``,
``views`` = ``views.count``, ``extra["promoted"]`` for promoted tweets.

================  =====================================================================
item              Whuffie
================  =====================================================================
TikTok video      ``Message`` kind ``post`` (``quote`` of ``tiktok:<duetFromId>`` for
                  a duet), text ``desc``, time ``createTime``; ``likes`` =
                  ``diggCount``, ``reshares`` = ``shareCount``, ``replies`` =
                  ``commentCount``, ``views`` = ``playCount``; ``textExtra`` gives
                  mentions (``userId``, ``userUniqueId``) and tags (``hashtagName``),
                  ``challenges`` tags; the author an actor with ``authorStats``
TikTok comment    kind ``comment`` with ``reply_to`` the video, or ``reply`` with
                  ``reply_to`` the comment answered (``reply_to_reply_id``, else
                  ``reply_id``); ``thread_id`` the video; ``likes`` = ``digg_count``,
                  ``replies`` = ``reply_comment_total``; ``text_extra`` mentions
Instagram post    kind ``post``, text the caption, time ``taken_at``; ``likes``,
                  ``replies`` (comment count), ``views`` (play / view count);
                  ``@name`` in the caption and the accounts tagged in the photo
                  (``usertags``) are mentions; caption hashtags are tags
Threads post      kind ``reshare`` of ``share_info.reposted_post``, ``quote`` of
                  ``share_info.quoted_post`` (both mapped in full as context),
                  ``reply`` to a stub by ``reply_to_author``, else ``post``
                  (``thread_id`` the post itself; unknown for a reply);
                  ``likes``, ``replies`` (``direct_reply_count``), ``reshares``,
                  ``quotes``; caption mentions and tags; the link preview a link
LinkedIn update   kind ``post``, or ``reshare`` of its ``resharedUpdate`` (mapped as
                  context); text ``commentary.text.text``; ``likes``, ``replies``,
                  ``reshares`` from the social activity counts; the article link a
                  link. LinkedIn gives no time, only an age ("18h", "3w"): ``created_at``
                  is the collection time minus that age (coarse: a "3w" post is dated
                  to the week), and ``extra`` keeps ``age`` and ``collected_at``
================  =====================================================================

``extra`` keeps the page the item was collected from (``collected_from``).
Times are UTC. An item that cannot be mapped (no id, a garbled field) is
quarantined with its line; the rest of the file is imported.

Examples
--------
>>> line = {"source_platform": "tiktok.com", "timestamp_collected": 1700000000000,
...         "data": {"id": "7301", "desc": "hi @bo #Cats", "createTime": 1699999000,
...                  "author": {"id": "11", "uniqueId": "ana"}, "stats": {"diggCount": 3},
...                  "textExtra": [{"userId": "12", "userUniqueId": "bo"}, {"hashtagName": "Cats"}]}}
>>> out = ZeeschuimerReader().map_record(line)
>>> m = out.messages[0]
>>> m.id, m.actor_id, m.likes, [x.actor_id for x in out.mentions], [t.tag for t in out.tags]
('tiktok:7301', 'tiktok:11', 3, ['tiktok:12'], ['cats'])
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of, json_lines
from whuffie.sources.io import Input
from whuffie.sources.text import hashtags
from whuffie.sources.times import from_epoch, parse_time
from whuffie.sources.twitter_v1 import TwitterV1Reader

#: Zeeschuimer module ids (``source_platform``) and the platforms they capture.
MODULES = {
    "twitter.com": "twitter", "x.com": "twitter",
    "tiktok.com": "tiktok", "tiktok-comments": "tiktok",
    "instagram.com": "instagram",
    "threads.net": "threads", "threads.com": "threads",
    "linkedin.com": "linkedin",
}
#: Keys of a Zeeschuimer export line besides ``data`` (the oldest versions wrote only the first three).
ENVELOPE = ("source_platform", "source_platform_url", "source_url", "timestamp_collected", "nav_index",
            "item_id", "user_agent")
_SUPPORTED = "X/Twitter, TikTok posts and comments, Instagram posts, Threads and LinkedIn"
# Values of unexpected types deep in an item: a bad record, never a crash.
_ITEM_ERRORS = (TypeError, AttributeError, KeyError, ValueError, IndexError, OverflowError, RecursionError)
_MAX_COUNT = 2**63
# Instagram and Threads user names: letters, digits, '.' and '_', at most 30.
_IG_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9._]{0,28}[A-Za-z0-9_])?)")
_ID = re.compile(r"\S{1,300}")
_ACTIVITY = re.compile(r"urn:li:activity:(\d+)")
_AGE = re.compile(r"^\s*(\d+)\s*([^\W\d_]+)")
#: LinkedIn's age units (English and Dutch interfaces) in seconds; months and years are averages.
_AGE_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "u": 3600, "d": 86400, "w": 604800,
              "mo": 2629800, "mnd": 2629800, "y": 31557600, "yr": 31557600, "j": 31557600}
_V1 = TwitterV1Reader()


def unknown_target(platform: str, role: str, native: str) -> str:
    """The id of a message known only as the target of another one, and only by its author.

    Some items say that they answer, reshare or quote an account without naming
    the post (a Threads reply's ``reply_to_author``, the ``replied_author`` and
    ``retweeted_user`` columns of a 4CAT CSV). Such a target becomes a stub with
    this id, written by that account, so the interaction reaches it; the id is
    derived from the item that points at it, so importing the item again adds
    nothing.

    Parameters
    ----------
    platform : str
        The id prefix.
    role : str
        ``parent-of`` (what a reply answers), ``original-of`` (what a reshare
        reshares) or ``quoted-by`` (what a quote quotes).
    native : str
        The native id of the item pointing at the target.

    Examples
    --------
    >>> unknown_target("threads", "parent-of", "C0deXyz")
    'threads:parent-of/C0deXyz'
    """
    return f"{platform}:{role}/{native}"


def _show(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _get(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or ``None`` as soon as a step is not an object."""
    for key in path:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def _str(value: Any) -> str | None:
    return value if type(value) is str and value else None


def native_id(value: Any, field: str) -> str | None:
    """A platform id as text: ``None`` when absent, the digits of an integer, a printable string.

    Examples
    --------
    >>> native_id(7301, "id"), native_id(" C0de ", "code"), native_id("", "id")
    ('7301', 'C0de', None)
    >>> native_id(1.5, "id")
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: field 'id' is 1.5, expected an id (text or a whole number)
    """
    if value is None:
        return None
    if type(value) is int and value >= 0:
        return str(value)
    if type(value) is str:
        if value.isdigit() and value.isascii():  # the common case, checked in C
            return value
        s = value.strip()
        if not s:
            return None
        if _ID.fullmatch(s) and s.isprintable():
            return s
    raise SourceError(f"field '{field}' is {_show(value)}, expected an id (text or a whole number)")


def count(value: Any) -> int | None:
    """A count: a whole number (or its digits as text, as X writes view counts), else ``None``.

    Examples
    --------
    >>> count(12), count("3400"), count(True), count("many")
    (12, 3400, None, None)
    """
    if type(value) is int:
        return value if 0 <= value < _MAX_COUNT else None
    if type(value) is str and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _list(value: Any) -> list:
    return value if type(value) is list else []


def _handle_actor(platform: str, handle: str) -> str:
    return f"{platform}:@{handle.lower()}"


def _caption_mentions(platform: str, mid: str, text: str | None, out: Records, seen: set[str]) -> None:
    """``@name`` mentions of an Instagram or Threads caption (names only: keyed by name)."""
    if not text or "@" not in text:
        return
    for name in _IG_MENTION.findall(text):
        aid = _handle_actor(platform, name)
        if aid not in seen:
            seen.add(aid)
            out.mentions.append(Mention(mid, aid, name))
            out.actors.append(Actor(aid, platform, handle=name.lower()))


def _tags(mid: str, names: list[str], out: Records) -> None:
    for t in dict.fromkeys(n.lower() for n in names if n):
        out.tags.append(Tag(mid, t))


def _collected(meta: dict | None) -> datetime | None:
    ms = _get(meta, "timestamp_collected")
    if type(ms) in (int, float) and 0 < ms < 1e14:
        return from_epoch(ms)
    return None


def _extra(meta: dict | None, **values: Any) -> dict[str, Any] | None:
    extra = {k: v for k, v in values.items() if v is not None and v != ""}
    page = _str(_get(meta, "source_platform_url"))
    if page:
        extra["collected_from"] = page
    return extra or None


# -- X ---------------------------------------------------------------------------------------


def _open_tweet(value: Any) -> dict | None:
    """The tweet of a GraphQL ``result``: wrappers opened; ``None`` for tombstones and stubs."""
    for _ in range(3):
        if type(value) is not dict:
            return None
        if "legacy" in value:
            return value
        if type(value.get("tweet")) is dict:  # TweetWithVisibilityResults
            value = value["tweet"]
            continue
        return None
    return None


def _x_user(user: Any, fallback: Any) -> dict[str, Any]:
    """A v1.1 user object from a GraphQL ``User`` result (details in ``legacy`` and ``core``)."""
    out: dict[str, Any] = {}
    if type(user) is dict:
        legacy = user.get("legacy")
        if type(legacy) is dict:
            out.update(legacy)
        core = user.get("core")
        if type(core) is dict:
            # X moved the names and the creation date to "core" in 2025.
            for key in ("screen_name", "name", "created_at"):
                if _str(core.get(key)):
                    out[key] = core[key]
        if user.get("rest_id") is not None:
            out["id_str"] = user["rest_id"]
    if "id_str" not in out and fallback is not None:
        out["id_str"] = fallback
    return out


def _x_tweet(t: dict, found: dict[str, tuple[Any, Any]], depth: int) -> dict[str, Any]:
    """The v1.1 tweet a GraphQL tweet holds; record its conversation id and views in ``found``."""
    legacy = t["legacy"]
    if type(legacy) is not dict:
        raise SourceError(f"field 'legacy' is {_show(legacy)}, expected the tweet object")
    v1 = {k: v for k, v in legacy.items() if k != "retweeted_status_result"}
    tid = native_id(t.get("rest_id"), "rest_id") or native_id(legacy.get("id_str"), "legacy.id_str")
    if tid is None:
        raise SourceError("X tweet has no 'rest_id' (nor 'legacy.id_str')")
    v1["id_str"] = tid
    v1["user"] = _x_user(_get(t, "core", "user_results", "result"), legacy.get("user_id_str"))
    if t.get("source") is not None:
        v1["source"] = t["source"]
    note = _get(t, "note_tweet", "note_tweet_results", "result")
    if type(note) is dict and type(note.get("text")) is str:
        short = legacy.get("full_text")
        if len(note["text"]) > (len(short) if type(short) is str else 0):
            # A long post: legacy holds its first 280 characters, note_tweet all of it.
            ents = note.get("entity_set")
            v1["extended_tweet"] = {"full_text": note["text"],
                                    "entities": ents if type(ents) is dict else legacy.get("entities")}
    if depth < 2:
        rt = _open_tweet(_get(legacy, "retweeted_status_result", "result"))
        if rt is not None:
            v1["retweeted_status"] = _x_tweet(rt, found, depth + 1)
        quoted = _open_tweet(_get(t, "quoted_status_result", "result"))
        if quoted is not None:
            v1["quoted_status"] = _x_tweet(quoted, found, depth + 1)
    found[tid] = (legacy.get("conversation_id_str"), _get(t, "views", "count"))
    return v1


def _x_adaptive(item: dict, found: dict[str, tuple[Any, Any]]) -> tuple[dict[str, Any], str | None]:
    """The v1.1 tweet of a 2022 ``adaptive`` item, and the id of the tweet it retweets."""
    v1 = dict(item["legacy"])
    v1["user"] = item.get("user")
    tid = native_id(v1.get("id_str"), "legacy.id_str")
    if tid is not None:
        found[tid] = (v1.get("conversation_id_str"), None)
    return v1, native_id(v1.pop("retweeted_status_id_str", None), "legacy.retweeted_status_id_str")


def _x(item: dict, meta: dict | None) -> Records:
    found: dict[str, tuple[Any, Any]] = {}
    retweeted = None
    if item.get("type") == "adaptive" and type(item.get("legacy")) is dict:
        v1, retweeted = _x_adaptive(item, found)
    else:
        tweet = _open_tweet(item)
        if tweet is None:
            kind = _str(item.get("__typename")) or "item"
            raise SourceError(f"X {kind} has no tweet in it (no 'legacy' object): "
                              "a deleted, withheld or unavailable tweet")
        v1 = _x_tweet(tweet, found, 0)
    try:
        out = _V1.map_record(v1)
    except SourceError as exc:
        raise SourceError(f"X tweet: {exc.reason}") from None
    for m in (*out.messages, *out.context):
        conv, views = found.get(m.id[len("twitter:"):], (None, None))
        conv = native_id(conv, "legacy.conversation_id_str")
        if conv is not None:
            m.thread_id = "twitter:" + conv
        m.views = count(views)
    main = out.messages[0]
    if retweeted is not None:
        _adaptive_retweet(main, retweeted, out)
    extra = _extra(meta, promoted=True if item.get("promoted") is True else None)
    if extra:
        main.extra = {**(main.extra or {}), **extra}
    return out


def _adaptive_retweet(main: Message, original: str, out: Records) -> None:
    """Make an ``adaptive`` retweet a reshare, its ``RT @name`` mention the original's author."""
    main.kind = "reshare"
    main.reshare_of = "twitter:" + original
    main.likes = main.reshares = main.replies = main.quotes = None  # the original's counts
    text = main.text or ""
    name = text[4:text.find(":")].lower() if text.startswith("RT @") and ":" in text else None
    # As for v1.1 retweets: one reshare, not also a mention of the original's author.
    own = [x for x in out.mentions if x.message_id == main.id]
    out.mentions = [x for x in out.mentions if x.message_id != main.id]
    author = next((x.actor_id for x in own if name and (x.handle or "").lower() == name), None)
    if author is not None:
        out.context.append(Message(main.reshare_of, "twitter", author, None, stub=True))


# -- TikTok ----------------------------------------------------------------------------------


def _tiktok_user_actor(uid: str | None, handle: str | None) -> str | None:
    if uid is not None and uid != "0":
        return "tiktok:" + uid
    return _handle_actor("tiktok", handle) if handle else None


def _tiktok(item: dict, meta: dict | None) -> Records:
    vid = native_id(item.get("id"), "id")
    if vid is None:
        raise SourceError("TikTok video has no 'id'")
    mid = "tiktok:" + vid
    out = Records()
    author = item.get("author")
    uid = handle = name = None
    if type(author) is dict:
        uid = native_id(author.get("id"), "author.id")
        handle = _str(author.get("uniqueId"))
        name = _str(author.get("nickname"))
    elif type(author) is str:  # the item embedded in a page's HTML names its author only
        handle = author or None
        name = _str(item.get("nickname"))
    aid = _tiktok_user_actor(uid, handle)
    if aid is not None:
        stats = item.get("authorStats") if type(item.get("authorStats")) is dict else {}
        verified = _get(author, "verified")
        out.actors.append(Actor(
            aid, "tiktok", handle=handle, name=name, description=_str(_get(author, "signature")),
            followers=count(stats.get("followerCount")), following=count(stats.get("followingCount")),
            posts=count(stats.get("videoCount")), verified=verified if type(verified) is bool else None))
    stats = item.get("stats") if type(item.get("stats")) is dict else {}
    stats2 = item.get("statsV2") if type(item.get("statsV2")) is dict else {}

    def metric(key: str) -> int | None:
        v = count(stats.get(key))
        return v if v is not None else count(stats2.get(key))

    duet = native_id(_get(item, "duetInfo", "duetFromId"), "duetInfo.duetFromId")
    quote_of = "tiktok:" + duet if duet and duet != "0" else None
    text = _str(item.get("desc"))
    out.messages.append(Message(
        mid, "tiktok", aid, parse_time(item.get("createTime"), "createTime"),
        "quote" if quote_of else "post", text, quote_of=quote_of, thread_id=mid,
        url=f"https://www.tiktok.com/@{handle}/video/{vid}" if handle else None,
        likes=metric("diggCount"), reshares=metric("shareCount"), replies=metric("commentCount"),
        views=metric("playCount"),
        extra=_extra(meta, location_created=_str(item.get("locationCreated")),
                     ad=True if item.get("isAd") is True else None)))
    names = []
    for e in _list(item.get("textExtra")):
        if type(e) is not dict:
            continue
        if _str(e.get("hashtagName")):
            names.append(e["hashtagName"])
        target = _tiktok_user_actor(native_id(e.get("userId"), "textExtra.userId"), None)
        if target is not None:
            who = _str(e.get("userUniqueId"))
            out.mentions.append(Mention(mid, target, who))
            out.actors.append(Actor(target, "tiktok", handle=who))
    for c in _list(item.get("challenges")):
        if type(c) is dict and _str(c.get("title")):
            names.append(c["title"])
    _tags(mid, names, out)
    return out


def _tiktok_comment(item: dict, meta: dict | None) -> Records:
    cid = native_id(item.get("cid"), "cid") or native_id(item.get("id"), "id")
    video = native_id(item.get("aweme_id"), "aweme_id")
    if cid is None or video is None:
        raise SourceError("TikTok comment has no 'cid' or no 'aweme_id'")
    mid = "tiktok:comment:" + cid
    out = Records()
    user = item.get("user") if type(item.get("user")) is dict else {}
    handle = _str(user.get("unique_id"))
    aid = _tiktok_user_actor(native_id(user.get("uid"), "user.uid"), handle)
    if aid is not None:
        out.actors.append(Actor(aid, "tiktok", handle=handle, name=_str(user.get("nickname"))))
    parent = native_id(item.get("reply_id"), "reply_id")
    answered = native_id(item.get("reply_to_reply_id"), "reply_to_reply_id")
    if parent and parent != "0":
        kind = "reply"
        reply_to = "tiktok:comment:" + (answered if answered and answered != "0" else parent)
    else:
        kind, reply_to = "comment", "tiktok:" + video
    out.messages.append(Message(
        mid, "tiktok", aid, parse_time(item.get("create_time"), "create_time"), kind,
        _str(item.get("text")), reply_to=reply_to, thread_id="tiktok:" + video,
        likes=count(item.get("digg_count")), replies=count(item.get("reply_comment_total")),
        extra=_extra(meta)))
    for e in _list(item.get("text_extra")):
        if type(e) is not dict:
            continue
        target = _tiktok_user_actor(native_id(e.get("user_id"), "text_extra.user_id"), None)
        if target is not None:
            out.mentions.append(Mention(mid, target, None))
        if _str(e.get("hashtag_name")):
            _tags(mid, [e["hashtag_name"]], out)
    return out


# -- Instagram and Threads -------------------------------------------------------------------


def _ig_author(platform: str, item: dict, out: Records) -> tuple[str | None, str | None]:
    """The author of an Instagram or Threads item: (actor id, user name)."""
    user = item.get("user") if type(item.get("user")) is dict else item.get("owner")
    if type(user) is not dict:
        return None, None
    name = _str(user.get("username"))
    if name is None:
        return None, None
    aid = _handle_actor(platform, name)
    pk = native_id(user.get("pk") if user.get("pk") is not None else user.get("id"), "user.pk")
    verified = user.get("is_verified")
    out.actors.append(Actor(aid, platform, handle=name.lower(), name=_str(user.get("full_name")),
                            verified=verified if type(verified) is bool else None,
                            extra={"pk": pk} if pk else None))
    return aid, name


def _instagram(item: dict, meta: dict | None) -> Records:
    graph = "shortcode" in item and "code" not in item
    code = native_id(item.get("shortcode") if graph else item.get("code"), "shortcode" if graph else "code")
    if code is None:
        raise SourceError("Instagram post has no 'code' (nor 'shortcode')")
    mid = "instagram:" + code
    out = Records()
    aid, _name = _ig_author("instagram", item, out)
    if graph:
        edges = _get(item, "edge_media_to_caption", "edges")
        caption = _get(edges[0], "node", "text") if type(edges) is list and edges else None
        created = parse_time(item.get("taken_at_timestamp"), "taken_at_timestamp")
        likes = count(_get(item, "edge_media_preview_like", "count"))
        if likes is None:
            likes = count(_get(item, "edge_liked_by", "count"))
        comments = count(_get(item, "edge_media_to_comment", "count"))
        if comments is None:
            comments = count(_get(item, "edge_media_preview_comment", "count"))
        views = count(item.get("video_view_count"))
        tagged = [_get(e, "node", "user") for e in _list(_get(item, "edge_media_to_tagged_user", "edges"))]
    else:
        caption = _get(item, "caption", "text")
        created = parse_time(item.get("taken_at"), "taken_at")
        likes = count(item.get("like_count"))
        comments = count(item.get("comment_count"))
        views = next((v for v in (count(item.get(k)) for k in ("play_count", "ig_play_count", "view_count"))
                      if v is not None), None)
        tagged = [_get(t, "user") for t in _list(_get(item, "usertags", "in"))]
    caption = _str(caption)
    out.messages.append(Message(
        mid, "instagram", aid, created, "post", caption, thread_id=mid,
        url=f"https://www.instagram.com/p/{code}/", likes=likes, replies=comments, views=views,
        extra=_extra(meta, product_type=_str(item.get("product_type")),
                     location=_str(_get(item, "location", "name")))))
    seen: set[str] = set()
    _caption_mentions("instagram", mid, caption, out, seen)
    for user in tagged:
        name = _str(_get(user, "username"))
        if name:
            aid = _handle_actor("instagram", name)
            if aid not in seen:
                seen.add(aid)
                out.mentions.append(Mention(mid, aid, name))
                out.actors.append(Actor(aid, "instagram", handle=name.lower(),
                                        name=_str(_get(user, "full_name"))))
    _tags(mid, hashtags(caption), out)
    return out


def _threads_post(item: dict, meta: dict | None, out: Records, primary: bool, depth: int) -> str:
    code = native_id(item.get("code"), "code")
    if code is None:
        raise SourceError("Threads post has no 'code'")
    mid = "threads:" + code
    aid, name = _ig_author("threads", item, out)
    info = item.get("text_post_app_info") if type(item.get("text_post_app_info")) is dict else {}
    kind, reply_to, reshare_of, quote_of = "post", None, None, None
    reposted = _get(info, "share_info", "reposted_post")
    quoted = _get(info, "share_info", "quoted_post")
    replied = _str(_get(info, "reply_to_author", "username"))
    if type(reposted) is dict and depth < 2:
        kind, reshare_of = "reshare", _threads_post(reposted, None, out, False, depth + 1)
    elif type(quoted) is dict and depth < 2:
        kind, quote_of = "quote", _threads_post(quoted, None, out, False, depth + 1)
    if replied and kind != "reshare":
        # Threads names the account answered, never the post: a stub stands for it.
        reply_to = unknown_target("threads", "parent-of", code)
        target = _handle_actor("threads", replied)
        out.context.append(Message(reply_to, "threads", target, None, stub=True))
        out.actors.append(Actor(target, "threads", handle=replied.lower()))
        if kind == "post":
            kind = "reply"
    caption = _str(_get(item, "caption", "text"))
    msg = Message(
        mid, "threads", aid, parse_time(item.get("taken_at"), "taken_at"), kind, caption,
        reply_to=reply_to, reshare_of=reshare_of, quote_of=quote_of,
        thread_id=None if reply_to else mid,  # a reply's thread is not named
        url=f"https://www.threads.net/@{name}/post/{code}" if name else None,
        likes=count(item.get("like_count")), replies=count(info.get("direct_reply_count")),
        reshares=count(info.get("repost_count")), quotes=count(info.get("quote_count")),
        extra=_extra(meta) if primary else None)
    (out.messages if primary else out.context).append(msg)
    _caption_mentions("threads", mid, caption, out, set())
    _tags(mid, hashtags(caption), out)
    link = _str(_get(info, "link_preview_attachment", "url"))
    if link:
        # Threads wraps outbound links in its redirector: l.threads.net/?u=<the link>
        target = parse_qs(urlsplit(link).query).get("u", [link])[0]
        out.links.append(Link(mid, target, host_of(target)))
    return mid


def _threads(item: dict, meta: dict | None) -> Records:
    out = Records()
    _threads_post(item, meta, out, True, 0)
    return out


# -- LinkedIn --------------------------------------------------------------------------------


def linkedin_age(text: str | None) -> timedelta | None:
    """The age LinkedIn shows instead of a post's time ("18h • Edited"), or ``None``.

    Examples
    --------
    >>> linkedin_age("18h • "), linkedin_age("3mo"), linkedin_age("Promoted")
    (datetime.timedelta(seconds=64800), datetime.timedelta(days=91, seconds=27000), None)
    """
    if not text:
        return None
    m = _AGE.match(text.split("•")[0])
    if m is None or m.group(2).lower() not in _AGE_UNITS:
        return None
    return timedelta(seconds=int(m.group(1)) * _AGE_UNITS[m.group(2).lower()])


def _linkedin_actor(actor: Any, out: Records) -> str | None:
    target = _str(_get(actor, "navigationContext", "actionTarget"))
    if target is None:
        return None
    path = urlsplit(target).path.strip("/")
    if not path or not path.isprintable():
        return None
    aid = "linkedin:" + path
    out.actors.append(Actor(aid, "linkedin", name=_str(_get(actor, "name", "text")),
                            url=f"https://www.linkedin.com/{path}/",
                            description=_str(_get(actor, "description", "text"))))
    return aid


def _linkedin_update(item: dict, meta: dict | None, out: Records, primary: bool, depth: int) -> str:
    urn = next((u for u in (_get(item, "updateMetadata", "urn"), item.get("preDashEntityUrn"),
                            item.get("entityUrn"), item.get("id")) if type(u) is str and _ACTIVITY.search(u)),
               None)
    if urn is None:
        raise SourceError("LinkedIn update has no 'urn:li:activity:' id")
    activity = _ACTIVITY.search(urn).group(1)
    mid = "linkedin:" + activity
    aid = _linkedin_actor(item.get("actor"), out)
    age_text = _str(_get(item, "actor", "subDescription", "text"))
    age = linkedin_age(age_text)
    collected = _collected(meta)
    kind, reshare_of = "post", None
    shared = item.get("resharedUpdate") if "resharedUpdate" in item else item.get("*resharedUpdate")
    if type(shared) is dict and depth < 2:
        kind, reshare_of = "reshare", _linkedin_update(shared, meta, out, False, depth + 1)
    social = item.get("*socialDetail") if "*socialDetail" in item else item.get("socialDetail")
    counts = _get(social, "*totalSocialActivityCounts") or _get(social, "totalSocialActivityCounts")
    text = _str(_get(item, "commentary", "text", "text"))
    extra = None
    if primary:
        extra = _extra(meta, age=age_text.split("•")[0].strip() if age_text else None,
                       collected_at=collected.isoformat() if collected else None,
                       header=_str(_get(item, "header", "text", "text")))
    msg = Message(
        mid, "linkedin", aid, collected - age if collected and age is not None else None, kind, text,
        reshare_of=reshare_of, thread_id=mid,
        url=f"https://www.linkedin.com/feed/update/urn:li:activity:{activity}/",
        likes=count(_get(counts, "numLikes")), replies=count(_get(counts, "numComments")),
        reshares=count(_get(counts, "numShares")), extra=extra)
    (out.messages if primary else out.context).append(msg)
    _tags(mid, hashtags(text), out)
    content = item.get("content")
    link = _str(_get(content, "navigationContext", "actionTarget")) or \
        _str(_get(content, "articleComponent", "navigationContext", "actionTarget"))
    if link and "://" in link:
        out.links.append(Link(mid, link, host_of(link)))
    return mid


def _linkedin(item: dict, meta: dict | None) -> Records:
    out = Records()
    _linkedin_update(item, meta, out, True, 0)
    return out


# -- dispatch --------------------------------------------------------------------------------

_MAPPERS = {
    "twitter": _x, "tiktok": _tiktok, "tiktok-comment": _tiktok_comment, "instagram": _instagram,
    "threads": _threads, "linkedin": _linkedin,
}


def item_kind(item: Any) -> str | None:
    """Which platform item ``item`` is, from its shape: a key of the mappers, or ``None``.

    Examples
    --------
    >>> item_kind({"rest_id": "1", "legacy": {}}), item_kind({"cid": "1", "aweme_id": "2"})
    ('twitter', 'tiktok-comment')
    >>> item_kind({"pk": "1", "code": "C", "taken_at": 1, "text_post_app_info": {}})
    'threads'
    """
    if type(item) is not dict:
        return None
    if "legacy" in item and ("rest_id" in item or item.get("type") == "adaptive"):
        return "twitter"
    if item.get("__typename") in ("Tweet", "TweetWithVisibilityResults", "TweetTombstone",
                                  "TweetUnavailable"):
        return "twitter"
    if "cid" in item and "aweme_id" in item:
        return "tiktok-comment"
    if "createTime" in item and ("desc" in item or "stats" in item):
        return "tiktok"
    if "text_post_app_info" in item:
        return "threads"
    if ("code" in item and "taken_at" in item) or ("shortcode" in item and "taken_at_timestamp" in item):
        return "instagram"
    if "actor" in item and ("commentary" in item or "updateMetadata" in item or "*socialDetail" in item):
        return "linkedin"
    return None


def map_item(item: Any, meta: dict | None = None) -> Records:
    """Map one platform item captured by Zeeschuimer (stored as is by 4CAT) to canonical records.

    Parameters
    ----------
    item : dict
        The platform's item: a Zeeschuimer line's ``data``, or a line of a 4CAT
        NDJSON dataset imported from Zeeschuimer.
    meta : dict, optional
        The capture's metadata: the other keys of the Zeeschuimer line (4CAT
        keeps them in ``__import_meta``). ``source_platform`` names the
        module in error messages, ``timestamp_collected`` dates LinkedIn
        posts and ``source_platform_url`` is kept in ``extra``.

    Returns
    -------
    Records

    Raises
    ------
    SourceError
        When the item is not one of a platform this module maps, or cannot be mapped.

    Examples
    --------
    >>> item = {"code": "C0de", "taken_at": 1700000000, "user": {"pk": "9", "username": "Ana"},
    ...         "caption": {"text": "with @bo.b #sea"}, "like_count": 5}
    >>> out = map_item(item, {"source_platform": "instagram.com"})
    >>> m = out.messages[0]
    >>> m.id, m.actor_id, m.likes, [(x.actor_id, x.handle) for x in out.mentions]
    ('instagram:C0de', 'instagram:@ana', 5, [('instagram:@bo.b', 'bo.b')])
    """
    kind = item_kind(item)
    if kind is None:
        if type(item) is not dict:
            raise SourceError(f"item is {type(item).__name__} {_show(item)}, expected an object")
        module = _str(_get(meta, "source_platform"))
        keys = ", ".join(map(str, list(item)[:6])) or "none"
        if module and module not in MODULES:
            raise SourceError(f"items of the Zeeschuimer module '{module}' are not mapped "
                              f"(Whuffie maps {_SUPPORTED})")
        raise SourceError(f"item is not an item of {_SUPPORTED} that Whuffie knows (its keys: {keys})")
    try:
        return _MAPPERS[kind](item, meta)
    except SourceError:
        raise
    except _ITEM_ERRORS as exc:
        raise SourceError(f"cannot map the {kind} item ({type(exc).__name__}: {exc})"[:300]) from None


class ZeeschuimerReader(Reader):
    """Zeeschuimer NDJSON exports (see the module documentation for the platforms and mapping).

    Examples
    --------
    >>> ZeeschuimerReader.sniff(Sample("z.ndjson", b'{"nav_index": "1:1:0", "item_id": "7",'
    ...     b' "source_platform": "tiktok.com", "data": {"id": "7"}}\\n'))
    0.95
    """

    id = "zeeschuimer"
    platform = "per-item"
    title = "Zeeschuimer NDJSON exports: X/Twitter, TikTok posts and comments, Instagram, Threads, LinkedIn"
    options_help = {}
    #: Each line maps on its own.
    parallel_lines = True

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """A JSON line with ``source_platform`` and a ``data`` object (and another envelope key)."""
        if not sample.stripped.startswith("{"):
            return 0.0
        obj = sample.first_json()
        if (isinstance(obj, dict) and isinstance(obj.get("source_platform"), str)
                and isinstance(obj.get("data"), dict)
                and sum(1 for k in ENVELOPE if k in obj) >= 2):
            return 0.95
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """One raw record per line; a line that is not JSON is quarantined with its number."""
        yield from json_lines(inp)

    def map_record(self, raw: Any) -> Records:
        """Map one export line: its ``data`` with the rest of the line as metadata.

        Raises
        ------
        SourceError
            When the line is not a Zeeschuimer item, or its item cannot be mapped.
        """
        if type(raw) is not dict:
            raise SourceError(f"line is {type(raw).__name__} {_show(raw)}, "
                              "expected a Zeeschuimer item object")
        data = raw.get("data")
        if type(data) is not dict:
            keys = ", ".join(map(str, list(raw)[:6])) or "none"
            raise SourceError(f"line has no 'data' object, so it is not a Zeeschuimer item "
                              f"(its keys: {keys})")
        return map_item(data, {k: v for k, v in raw.items() if k != "data"})
