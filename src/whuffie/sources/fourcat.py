"""4CAT datasets: the NDJSON and CSV files a 4CAT dataset page lets you download.

What it reads
-------------
4CAT, the Capture and Analysis Toolkit of the Digital Methods Initiative
(https://github.com/digitalmethodsinitiative/4cat), keeps each dataset in one
file. Both of its downloads are read:

* **NDJSON**, one item per line as 4CAT stores it:

  - datasets **imported from Zeeschuimer** (X/Twitter, TikTok, TikTok comments,
    Instagram, Threads, LinkedIn): the platform's own item, with the capture's
    metadata (``source_platform``, ``timestamp_collected``,
    ``source_platform_url``, ...) moved under ``__import_meta``. They are mapped
    as the ``zeeschuimer`` reader maps the same items (same ids). Items stored
    by 4CAT versions that did not yet keep ``__import_meta`` are recognised by
    their shape, and a line that is still Zeeschuimer's own (the item under
    ``data``, the capture's metadata beside it) is read too;
  - **Telegram** datasets collected by 4CAT: Telethon ``Message`` objects as
    4CAT serialises them (each object's class in ``_type``, times as epoch
    seconds, the chat and sender in ``_chat`` / ``_sender``), mapped as the
    ``telegram`` reader maps Telethon messages (same ids);
  - **Reddit** datasets: Pushshift comment and submission objects, mapped as
    the ``reddit`` reader maps them.

  A line of another data source is quarantined with a reason naming its keys.
* **CSV**: the columns 4CAT writes for a dataset (its data source's
  ``map_item``: ``id``, ``thread_id``, ``body``, ``author``, ``timestamp``,
  ``unix_timestamp`` and columns of the data source). The data source is told
  by the header, or by ``-o platform=...`` when the header does not tell:

  =============  ================================================================
  data source    recognised by the columns
  =============  ================================================================
  ``twitter``    ``is_retweet`` and ``retweeted_user``, or ``is_quote_tweet`` and
                 ``author_fullname`` (4CAT's X/Twitter import)
  ``telegram``   ``author_username`` and ``author_is_bot``, or
                 ``author_forwarded_from_name``
  ``reddit``     ``subreddit`` and ``parent``
  ``tiktok``     ``tiktok_url``, or ``music_name`` and ``plays``
  ``instagram``  ``num_likes`` and ``num_comments``
  ``threads``    ``reposts``, ``quotes`` and ``author_is_verified``
  ``linkedin``   ``post_url`` and ``author_is_company``
  ``4chan``      ``image_md5`` and ``country_code`` (8kun and 8chan too)
  =============  ================================================================

  With ``-o platform=<name>`` for another data source, ``id``, ``thread_id``,
  ``body``, ``subject``, ``author``, the time and a ``url`` / ``link`` column
  are read. A row whose cells do not match the header is quarantined.

Identifiers
-----------
The ids of the platform's other readers, so a 4CAT dataset and another export
of the same posts deduplicate: ``twitter:<tweet id>`` / ``twitter:<user id>``,
``reddit:t1_<id>`` / ``reddit:t3_<id>`` / ``reddit:<user name>``,
``telegram:<chat id>/<message id>``, and for the Zeeschuimer platforms those
of the ``zeeschuimer`` reader. The CSV columns name some accounts by handle
only; these become ``<platform>:@<handle>`` (lower-cased), which do not merge
with the numeric ids of the JSON exports: the NDJSON download keeps more.

* X/Twitter CSV: the author is ``twitter:<author_id>``; mentioned, replied-to,
  retweeted and quoted accounts are handles. The CSV does not give the id of
  the tweet replied to or retweeted: a reply gets a stub parent
  ``twitter:parent-of/<id>`` written by ``twitter:@<replied_author>``, a
  retweet a stub original ``twitter:original-of/<id>`` by
  ``twitter:@<retweeted_user>``, so the ``reply`` and ``reshare`` interactions
  reach the right account (see ``unknown_target`` in the ``zeeschuimer``
  reader). A quote points at ``twitter:<quote_tweet_id>``.
* Telegram CSV: ``id`` is ``<chat>-<message id>`` where the chat is its user
  name when it has one: the message is ``telegram:@<chat name>/<message id>``
  then (``telegram:<chat id>/<message id>`` for a numeric chat). The author is
  ``telegram:<author>`` (the sender's id); ``entities_mentioned`` gives
  ``telegram:@<name>`` mentions; a forward gets a stub original
  ``telegram:original-of/<chat>/<message id>`` by the forwarding source.
* TikTok, Instagram and Threads CSV: authors are ``<platform>:@<author>``
  (TikTok's JSON uses the numeric user id instead); ``@name`` in the body is a
  mention. LinkedIn CSV: ``linkedin:<author>``, the profile path 4CAT writes
  (``in/<name>``, ``company/<name>``), as in the JSON.
* 4chan CSV: ``4chan:<board>/<id>`` (``4chan:<id>`` without a ``board``
  column), ``thread_id`` the opening post. ``Anonymous`` posts have no author;
  a poster who gives a name, a tripcode (``author_trip``) or both is
  ``4chan:<name><tripcode>``. The first ``>>number`` in the body makes the post
  a reply to that post; otherwise a post in a thread is a comment on its
  opening post.

Mapping
-------
The time is ``unix_timestamp`` when the row has it, else ``timestamp`` (4CAT
writes it in its server's time zone, taken as UTC). ``body`` is the text,
``subject`` the title; list columns (``hashtags``, ``urls``, ``mentions``)
are comma-separated; ``yes`` / ``no`` columns are booleans. Counts:

=============  =============================================================
data source    ``likes`` / ``reshares`` / ``replies`` / ``quotes`` / ``views``
=============  =============================================================
``twitter``    ``like_count`` / ``retweet_count`` / ``reply_count`` /
               ``quote_count`` / ``impression_count`` (not on retweets: they
               are the original's)
``telegram``   ``views``
``reddit``     ``score``
``tiktok``     ``likes`` / ``shares`` / ``comments`` / - / ``plays``
``instagram``  ``num_likes`` / - / ``num_comments``
``threads``    ``likes`` / ``reposts`` / ``replies`` / ``quotes``
``linkedin``   ``likes`` / ``shares`` / ``comments``
=============  =============================================================

Reddit rows are rebuilt as the Pushshift objects they came from (``parent``
is the parent's full name, ``thread_id`` the submission) and mapped by the
``reddit`` reader. ``extra`` keeps the data source's descriptive columns (the
client and place of a tweet, a subreddit's flairs, a 4chan poster's country,
the forwarding source of a Telegram message, ...).

Examples
--------
>>> row = CsvRow("twitter", {"id": "5", "author_id": "9", "author": "ana", "body": "RT @Bo: hi",
...                          "is_retweet": "yes", "retweeted_user": "Bo", "unix_timestamp": "1632328649"})
>>> out = FourcatReader().map_record(row)
>>> m = out.messages[0]
>>> m.kind, m.reshare_of, [(c.id, c.actor_id) for c in out.context]
('reshare', 'twitter:original-of/5', [('twitter:original-of/5', 'twitter:@bo')])
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, csv_rows, host_of, json_lines
from whuffie.sources.io import DAMAGED_INPUT, Input, excerpt
from whuffie.sources.reddit import RedditReader
from whuffie.sources.telegram import TelegramReader
from whuffie.sources.text import hashtags, urls
from whuffie.sources.times import parse_time
from whuffie.sources.zeeschuimer import count, item_kind, map_item, native_id, unknown_target

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# TikTok, Instagram and Threads user names: letters, digits, '.' and '_'.
_HANDLE = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9._]{0,28}[A-Za-z0-9_])?)")
_CHAN_QUOTE = re.compile(r">>(\d{1,20})\b")
_ANONYMOUS = ("", "Anonymous", "anonymous")
_ITEM_ERRORS = (TypeError, AttributeError, KeyError, ValueError, IndexError, OverflowError, RecursionError)
_REDDIT = RedditReader()
_TELEGRAM = TelegramReader()

#: Data source -> column sets, any of which recognises a 4CAT CSV header as that source's.
SIGNATURES: dict[str, tuple[frozenset[str], ...]] = {
    "twitter": (frozenset({"is_retweet", "retweeted_user"}),
                frozenset({"is_quote_tweet", "author_fullname"})),
    "telegram": (frozenset({"author_username", "author_is_bot"}),
                 frozenset({"author_forwarded_from_name"})),
    "reddit": (frozenset({"subreddit", "parent"}),),
    "tiktok": (frozenset({"tiktok_url"}), frozenset({"music_name", "plays"})),
    "instagram": (frozenset({"num_likes", "num_comments"}),),
    "threads": (frozenset({"reposts", "quotes", "author_is_verified"}),),
    "linkedin": (frozenset({"post_url", "author_is_company"}),),
    "4chan": (frozenset({"image_md5", "country_code"}),),
}


def csv_source(columns: list[str] | set[str]) -> str | None:
    """The 4CAT data source whose ``map_item`` columns a CSV header holds, or ``None``.

    Examples
    --------
    >>> csv_source(["id", "thread_id", "body", "subreddit", "parent", "score"])
    'reddit'
    >>> csv_source(["id", "text"]) is None
    True
    """
    cols = set(columns)
    if "id" not in cols:
        return None
    for source, signatures in SIGNATURES.items():
        if any(s <= cols for s in signatures):
            return source
    return None


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One row of a 4CAT CSV: its data source and its non-empty cells by column."""

    source: str
    cells: dict[str, str]


# -- CSV cells -------------------------------------------------------------------------------


def _cell(row: dict[str, str], *names: str) -> str | None:
    for n in names:
        v = row.get(n)
        if v:
            return v
    return None


def _num(row: dict[str, str], name: str) -> int | None:
    """A count cell; pandas writes ``12.0`` in a column with empty cells."""
    v = row.get(name)
    if v is None:
        return None
    if v.endswith(".0"):
        v = v[:-2]
    return count(v)


def _yes(row: dict[str, str], name: str) -> bool | None:
    v = row.get(name)
    if v is None:
        return None
    low = v.strip().lower()
    if low in ("yes", "true", "1"):
        return True
    if low in ("no", "false", "0"):
        return False
    raise SourceError(f"field '{name}' is {v[:40]!r}, expected yes or no")


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()] if value else []


def _time(row: dict[str, str]):
    unix = row.get("unix_timestamp")
    if unix and unix not in ("undefined", "0"):
        return parse_time(unix, "unix_timestamp")
    return parse_time(row.get("timestamp"), "timestamp")


def _id(row: dict[str, str], name: str = "id") -> str:
    value = native_id(row.get(name), name)
    if value is None:
        raise SourceError(f"field '{name}' is empty, expected the item's id")
    return value


def _handle(platform: str, name: str | None) -> str | None:
    name = (name or "").strip().lstrip("@")
    return f"{platform}:@{name.lower()}" if name else None


def _mention_handles(platform: str, mid: str, names: list[str], out: Records) -> None:
    for name in dict.fromkeys(n.lstrip("@") for n in names):
        aid = _handle(platform, name)
        if aid is not None:
            out.mentions.append(Mention(mid, aid, name))
            out.actors.append(Actor(aid, platform, handle=name))


def _body_mentions(platform: str, mid: str, text: str | None, out: Records) -> None:
    if text and "@" in text:
        _mention_handles(platform, mid, _HANDLE.findall(text), out)


def _links(mid: str, values: list[str], out: Records) -> None:
    for u in dict.fromkeys(v for v in values if "://" in v):
        out.links.append(Link(mid, u, host_of(u)))


def _tags(mid: str, names: list[str], out: Records) -> None:
    for t in dict.fromkeys(n.lstrip("#").lower() for n in names):
        if t:
            out.tags.append(Tag(mid, t))


def _stub(out: Records, platform: str, target: str, handle: str | None) -> None:
    """A stub of ``target`` written by the account named ``handle``."""
    author = _handle(platform, handle)
    out.context.append(Message(target, platform, author, None, stub=True))
    if author is not None:
        out.actors.append(Actor(author, platform, handle=handle.strip().lstrip("@")))


def _extra(row: dict[str, str], columns: tuple[str, ...]) -> dict[str, Any] | None:
    return {c: row[c] for c in columns if row.get(c)} or None


# -- CSV data sources ------------------------------------------------------------------------


def _csv_twitter(row: dict[str, str]) -> Records:
    out = Records()
    native = _id(row)
    mid = "twitter:" + native
    uid = native_id(row.get("author_id"), "author_id")
    aid = "twitter:" + uid if uid else _handle("twitter", row.get("author"))
    if aid is not None:
        verified = row.get("verified")
        out.actors.append(Actor(
            aid, "twitter", handle=row.get("author"), name=row.get("author_fullname"),
            description=row.get("author_bio"), followers=_num(row, "author_followers"),
            following=_num(row, "author_following"),
            verified=_yes(row, "verified") if verified in ("yes", "no", "True", "False") else None))
    kind, reply_to, reshare_of, quote_of = "post", None, None, None
    if _yes(row, "is_retweet"):
        kind = "reshare"
        who = row.get("retweeted_user")
        if who:
            reshare_of = unknown_target("twitter", "original-of", native)
            _stub(out, "twitter", reshare_of, who)
    elif _yes(row, "is_quote_tweet"):
        kind = "quote"
        quoted = native_id(row.get("quote_tweet_id"), "quote_tweet_id")
        who = _cell(row, "quote_author", "quoted_user")
        if quoted is not None:
            quote_of = "twitter:" + quoted
        elif who:
            quote_of = unknown_target("twitter", "quoted-by", native)
        if quote_of is not None and who:
            _stub(out, "twitter", quote_of, who)
    is_reply = _yes(row, "is_reply")
    if is_reply is None:
        thread = row.get("thread_id")
        is_reply = bool(thread) and thread != native
    if is_reply and kind != "reshare":
        if kind == "post":
            kind = "reply"
        who = _cell(row, "replied_author", "replied_user")
        if who:
            reply_to = unknown_target("twitter", "parent-of", native)
            _stub(out, "twitter", reply_to, who)
    thread = native_id(row.get("thread_id"), "thread_id")
    counted = kind != "reshare"  # a retweet's counts are its original's
    extra = _extra(row, ("source", "place_name", "long_lat", "collected_from_url")) or {}
    if row.get("possibly_sensitive"):
        extra["possibly_sensitive"] = _yes(row, "possibly_sensitive")
    out.messages.append(Message(
        mid, "twitter", aid, _time(row), kind, row.get("body"), lang=row.get("language_guess"),
        reply_to=reply_to, reshare_of=reshare_of, quote_of=quote_of,
        thread_id="twitter:" + thread if thread else None, url=row.get("link"),
        likes=_num(row, "like_count") if counted else None,
        reshares=_num(row, "retweet_count") if counted else None,
        replies=_num(row, "reply_count") if counted else None,
        quotes=_num(row, "quote_count") if counted else None,
        views=_num(row, "impression_count") if counted else None, extra=extra or None))
    if kind != "reshare":  # as the other readers: a retweet is a reshare, not also a mention
        _mention_handles("twitter", mid, _split(row.get("mentions")), out)
    _tags(mid, _split(row.get("hashtags")), out)
    _links(mid, _split(row.get("urls")), out)
    return out


def _csv_telegram(row: dict[str, str]) -> Records:
    out = Records()
    full = _id(row)
    chat, _, number = full.rpartition("-")
    chat = row.get("thread_id") or row.get("chat") or chat
    if not number.isdigit() or not chat:
        raise SourceError(f"field 'id' is {full[:60]!r}, expected <chat>-<message number>")
    chat = chat if chat.isdigit() else "@" + chat.lower()
    native = f"{chat}/{number}"
    mid = "telegram:" + native
    sender = native_id(row.get("author"), "author")
    aid = "telegram:" + sender if sender else _handle("telegram", row.get("author_username"))
    if aid is not None:
        out.actors.append(Actor(aid, "telegram", handle=row.get("author_username"),
                                name=row.get("author_name")))
    kind, reply_to, reshare_of = "post", None, None
    parent = row.get("reply_to")
    if parent:
        if not parent.isdigit():
            raise SourceError(f"field 'reply_to' is {parent[:40]!r}, expected a message number")
        kind, reply_to = "reply", f"telegram:{chat}/{parent}"
    source_id = native_id(row.get("author_forwarded_from_id"), "author_forwarded_from_id")
    source = ("telegram:" + source_id if source_id
              else _handle("telegram", row.get("author_forwarded_from_username")))
    if source is not None or row.get("author_forwarded_from_name"):
        kind = "reshare"
        if source is not None:
            reshare_of = unknown_target("telegram", "original-of", native)
            out.context.append(Message(reshare_of, "telegram", source, None, stub=True))
            out.actors.append(Actor(source, "telegram", handle=row.get("author_forwarded_from_username"),
                                    name=row.get("author_forwarded_from_name")))
    text = row.get("body")
    out.messages.append(Message(
        mid, "telegram", aid, _time(row), kind, text, reply_to=reply_to, reshare_of=reshare_of,
        views=_num(row, "views"),
        extra=_extra(row, ("author_forwarded_from_name", "author_forwarded_from_username",
                           "attachment_type", "link_title"))))
    _mention_handles("telegram", mid, _split(row.get("entities_mentioned")), out)
    _tags(mid, hashtags(text), out)
    _links(mid, [*urls(text), *_split(row.get("link_attached"))], out)
    return out


def _csv_reddit(row: dict[str, str]) -> Records:
    native = _id(row)
    parent = row.get("parent")
    when = row.get("unix_timestamp") or row.get("timestamp")
    thing: dict[str, Any] = {"id": native, "author": row.get("author"), "created_utc": when,
                             "subreddit": row.get("subreddit"), "score": _num(row, "score")}
    if parent:
        thread = row.get("thread_id")
        thing.update(parent_id=parent, link_id="t3_" + thread if thread else None, body=row.get("body"),
                     author_flair_text=row.get("author_flair"))
    else:
        domain = row.get("domain") or ""
        thing.update(title=row.get("subject") or "", selftext=row.get("body") or "",
                     is_self=domain.startswith("self."), url=row.get("url"), domain=domain or None,
                     author_flair_text=row.get("author_flair"), link_flair_text=row.get("post_flair"))
    return _REDDIT.map_record({k: v for k, v in thing.items() if v is not None})


def _csv_social(platform: str, row: dict[str, str], likes: str, reshares: str | None, replies: str,
                quotes: str | None, views: str | None, url: tuple[str, ...],
                extra: tuple[str, ...]) -> Records:
    """TikTok, Instagram and Threads rows: authors and mentions by handle."""
    out = Records()
    mid = f"{platform}:{_id(row)}"
    aid = _handle(platform, row.get("author"))
    if aid is not None:
        out.actors.append(Actor(aid, platform, handle=row["author"].lstrip("@").lower(),
                                name=_cell(row, "author_full", "author_fullname"),
                                followers=_num(row, "author_followers")))
    text = row.get("body")
    out.messages.append(Message(
        mid, platform, aid, _time(row), "post", text, thread_id=mid, url=_cell(row, *url),
        likes=_num(row, likes), reshares=_num(row, reshares) if reshares else None,
        replies=_num(row, replies), quotes=_num(row, quotes) if quotes else None,
        views=_num(row, views) if views else None, extra=_extra(row, extra)))
    _body_mentions(platform, mid, text, out)
    _tags(mid, [*_split(row.get("hashtags")), *hashtags(text)], out)
    _links(mid, _split(row.get("link_url")), out)
    return out


def _csv_tiktok(row: dict[str, str]) -> Records:
    return _csv_social("tiktok", row, "likes", "shares", "comments", None, "plays", ("tiktok_url",),
                       ("music_name", "location_created", "is_duet", "is_ad"))


def _csv_instagram(row: dict[str, str]) -> Records:
    return _csv_social("instagram", row, "num_likes", None, "num_comments", None, None, ("url",),
                       ("type", "location_name"))


def _csv_threads(row: dict[str, str]) -> Records:
    return _csv_social("threads", row, "likes", "reposts", "replies", "quotes", None, ("url",),
                       ("is_paid_partnership",))


def _csv_linkedin(row: dict[str, str]) -> Records:
    out = Records()
    mid = "linkedin:" + _id(row)
    path = (row.get("author") or "").strip("/")
    aid = "linkedin:" + path if path else None
    if aid is not None:
        out.actors.append(Actor(aid, "linkedin", name=row.get("author_name"), url=row.get("author_url"),
                                description=row.get("author_description")))
    text = row.get("body")
    out.messages.append(Message(
        mid, "linkedin", aid, _time(row), "post", text, url=row.get("post_url"), likes=_num(row, "likes"),
        reshares=_num(row, "shares"), replies=_num(row, "comments"),
        extra=_extra(row, ("timestamp_ago", "inclusion_context", "is_promoted"))))
    _tags(mid, [*_split(row.get("hashtags")), *hashtags(text)], out)
    _links(mid, _split(row.get("link_url")), out)
    return out


def _csv_chan(row: dict[str, str]) -> Records:
    out = Records()
    board = row.get("board")
    prefix = f"4chan:{board}/" if board else "4chan:"
    native = _id(row)
    mid = prefix + native
    thread = native_id(row.get("thread_id"), "thread_id")
    name = (row.get("author") or "").strip()
    trip = (row.get("author_trip") or "").strip()
    who = (name if name not in _ANONYMOUS else "") + trip
    aid = "4chan:" + who if who else None
    if aid is not None:
        out.actors.append(Actor(aid, "4chan", handle=who))
    text = row.get("body")
    quoted = _CHAN_QUOTE.search(text or "")
    if quoted and quoted.group(1) != native:
        kind, reply_to = "reply", prefix + quoted.group(1)
    elif thread and thread != native:
        kind, reply_to = "comment", prefix + thread
    else:
        kind, reply_to = "post", None
    out.messages.append(Message(
        mid, "4chan", aid, _time(row), kind, text, title=row.get("subject"), reply_to=reply_to,
        thread_id=prefix + thread if thread else None,
        extra=_extra(row, ("country_code", "country_name", "image_file", "board"))))
    _links(mid, urls(text), out)
    return out


def _csv_generic(platform: str, row: dict[str, str]) -> Records:
    out = Records()
    mid = f"{platform}:{_id(row)}"
    aid = _handle(platform, row.get("author"))
    if aid is not None:
        out.actors.append(Actor(aid, platform, handle=row["author"].lstrip("@")))
    thread = native_id(row.get("thread_id"), "thread_id")
    text = row.get("body")
    out.messages.append(Message(
        mid, platform, aid, _time(row), "post", text, title=row.get("subject"),
        thread_id=f"{platform}:{thread}" if thread else None, url=_cell(row, "url", "link")))
    _tags(mid, hashtags(text), out)
    _links(mid, urls(text), out)
    return out


_CSV_MAPPERS: dict[str, Callable[[dict[str, str]], Records]] = {
    "twitter": _csv_twitter, "telegram": _csv_telegram, "reddit": _csv_reddit, "tiktok": _csv_tiktok,
    "instagram": _csv_instagram, "threads": _csv_threads, "linkedin": _csv_linkedin, "4chan": _csv_chan,
}


# -- NDJSON ----------------------------------------------------------------------------------


def _telethon(value: Any, depth: int = 0) -> Any:
    """4CAT's serialisation of a Telethon object with Telethon's own ``"_"`` class tags."""
    if depth > 20:
        raise SourceError("Telegram message nests deeper than Telethon objects do")
    if type(value) is dict:
        out = {k: _telethon(v, depth + 1) for k, v in value.items() if not k.startswith("_")}
        if "_type" in value:
            out["_"] = value["_type"]
        return out
    if type(value) is list:
        return [_telethon(v, depth + 1) for v in value]
    return value


def _is_reddit(item: dict) -> bool:
    return ("subreddit" in item and "id" in item
            and ("link_id" in item or "parent_id" in item or "title" in item or "selftext" in item))


def _map_line(item: Any) -> Records:
    if type(item) is not dict:
        raise SourceError(f"line is {type(item).__name__}, expected a 4CAT item object")
    meta = item.get("__import_meta")
    if type(meta) is dict:
        return map_item({k: v for k, v in item.items() if k != "__import_meta"}, meta)
    if type(item.get("data")) is dict and isinstance(item.get("source_platform"), str):
        # A Zeeschuimer line kept as uploaded: the item under "data", the capture around it.
        return map_item(item["data"], {k: v for k, v in item.items() if k != "data"})
    if item.get("_type") in ("Message", "MessageService", "MessageEmpty"):
        return _TELEGRAM.map_record(_telethon(item))
    if _is_reddit(item):
        return _REDDIT.map_record(item)
    if item_kind(item) is not None:
        return map_item(item)
    keys = ", ".join(map(str, list(item)[:6])) or "none"
    raise SourceError("line is not an item of a 4CAT data source Whuffie maps (Zeeschuimer imports, "
                      f"Telegram, Reddit); its keys: {keys}")


class FourcatReader(Reader):
    """4CAT dataset downloads, NDJSON and CSV (see the module documentation).

    Parameters
    ----------
    **options : str
        ``platform``: the data source of a CSV whose header does not tell it.

    Examples
    --------
    >>> FourcatReader.sniff(Sample("d.csv", b"id,thread_id,body,author,subreddit,parent,score\\n"))
    0.9
    """

    id = "4cat"
    platform = "per-item"
    title = "4CAT datasets: NDJSON (Zeeschuimer imports, Telegram, Reddit) and CSV of mapped columns"
    options_help = {
        "platform": "the data source of a CSV whose columns do not tell it (twitter, telegram, reddit, "
                    "tiktok, instagram, threads, linkedin, 4chan, or another name for id/body/author only)",
    }
    #: NDJSON lines map on their own (CSV files are read row by row in this process).
    parallel_lines = True

    def __init__(self, **options: str) -> None:
        super().__init__(**options)
        platform = options.get("platform")
        if platform is not None and not _SLUG.fullmatch(platform):
            raise SourceError(f"option platform is {platform!r}, expected a lower-case name such as "
                              "'twitter' or 'telegram'")
        self._platform = platform

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """4CAT items (``__import_meta``, ``_type``) or a header of a data source's columns."""
        text = sample.stripped
        if not text:
            return 0.0
        if text[0] == "{":
            obj = sample.first_json()
            if not isinstance(obj, dict):
                return 0.0
            if isinstance(obj.get("__import_meta"), dict):
                return 0.95
            if obj.get("_type") == "Message" and "peer_id" in obj:
                return 0.9
            return 0.8 if item_kind(obj) is not None else 0.0
        if text[0] in "[<":
            return 0.0
        header = text.split("\n", 1)[0].rstrip("\r")
        try:
            cols = next(csv.reader([header]), [])
        except csv.Error:
            return 0.0
        return 0.9 if csv_source([c.strip() for c in cols]) is not None else 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """NDJSON lines, or CSV rows with their data source; a broken line or row is quarantined."""
        stream = inp.stream
        head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
            yield from json_lines(inp)
        else:
            yield from self._read_csv(inp)

    def _read_csv(self, inp: Input) -> Iterator[Raw | Bad]:
        try:
            rows = csv_rows(inp)
            first = next(rows)
        except StopIteration:
            return
        except DAMAGED_INPUT as exc:
            yield Bad(f"invalid CSV header ({exc})", 1, None, "")
            return
        if isinstance(first, Bad):
            yield Bad(f"invalid CSV header: {first.reason}", first.line, None, first.excerpt)
            return
        header = [c.replace("\ufeff", "").strip() for c in first[1]]
        if "id" not in header:
            yield Bad(f"the header has no 'id' column, so this is not a 4CAT CSV (columns: "
                      f"{', '.join(header[:12])})", 1, None, excerpt(",".join(header)))
            return
        source = self._platform or csv_source(header)
        if source is None:
            yield Bad("the columns do not tell which 4CAT data source the dataset comes from: pass "
                      "-o platform=<twitter|telegram|reddit|tiktok|instagram|threads|linkedin|4chan> "
                      f"(columns: {', '.join(header[:12])})", 1, None, excerpt(",".join(header)))
            return
        width = len(header)
        for item in rows:
            if isinstance(item, Bad):
                yield item
                continue
            start, row = item
            if not row:
                continue
            if len(row) != width:
                yield Bad(f"row has {len(row)} cells, expected {width} (as in the header)", start, None,
                          excerpt(",".join(row)))
                continue
            yield Raw(CsvRow(source, {k: v for k, v in zip(header, row, strict=True) if v != ""}), start)

    def map_record(self, raw: Any) -> Records:
        """Map one NDJSON item or one CSV row.

        Raises
        ------
        SourceError
            When the item is of a data source this reader does not map, or a field cannot be mapped.
        """
        try:
            if type(raw) is CsvRow:
                mapper = _CSV_MAPPERS.get(raw.source)
                if mapper is None:
                    return _csv_generic(raw.source, raw.cells)
                return mapper(raw.cells)
            return _map_line(raw)
        except SourceError:
            raise
        except _ITEM_ERRORS as exc:
            raise SourceError(f"cannot map the item ({type(exc).__name__}: {exc})"[:300]) from None
