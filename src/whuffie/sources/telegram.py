"""Telegram: Telethon ``Message.to_dict()`` JSON lines and Telegram Desktop ``result.json`` exports.

What it reads
-------------
* **Telethon JSON lines**, as research collection scripts built on Telethon
  (the MTProto client library) write them: one ``Message.to_dict()`` object per
  line, every object tagged with its type in ``"_"`` (``Message``,
  ``MessageService``, ``PeerChannel``, ``MessageFwdHeader``, ...), optional
  fields present as ``null``. Files are often named ``<channel>_<id>.txt``; the
  content decides, not the name. A JSON array of such objects is read too.
  ``MessageService`` (a title change, a pin, a join) and ``MessageEmpty``
  objects carry no utterance: they produce no records and are neither counted
  nor quarantined. Any other ``"_"`` type is quarantined.
* **Telegram Desktop exports** ("Export chat history" -> JSON): the single-chat
  ``result.json`` (``{"name", "type", "id", "messages": [...]}``) and the full
  account export (``{"chats": {"list": [chat, ...]}, "left_chats": {"list":
  [...]}, ...}``), both streamed with ijson, so a large export is never held in
  memory. Messages of ``"type": "service"`` produce no records, as above. The
  ``line`` of a Desktop message in the quarantine is its 1-based position among
  the messages of the file.

Identifiers
-----------
* message ``telegram:<chat id>/<message id>``: message ids are only unique
  within a chat. The chat id is the peer's bare id: Telethon's
  ``peer_id.channel_id`` / ``chat_id`` / ``user_id``, the Desktop export's chat
  ``id``. The Desktop export's ``"channel123"`` / ``"user123"`` / ``"chat123"``
  peer strings lose their prefix and Bot API ids lose their ``-100`` / ``-``
  prefix, so one channel has one id in every format and overlapping exports
  deduplicate;
* actor ``telegram:<peer id>``: the sending user (``from_id``), or the channel
  itself for channel posts (``from_id`` null) and anonymous group admins. Users,
  chats and channels share this id space. The collecting account's own messages
  in a private chat (``out`` true, no ``from_id``) have no known author
  (``actor_id`` ``None``);
* a mentioned ``@username`` has no numeric id in the message, so it becomes the
  actor ``telegram:@<username lower-cased>`` (Telegram user names are
  case-insensitive); a mention by name (``MessageEntityMentionName``,
  Desktop ``mention_name``) carries the numeric ``user_id`` and gives
  ``telegram:<user_id>``.

Mapping
-------
================================  ================================================
Telegram                          Whuffie
================================  ================================================
message                           ``Message`` kind ``post``; text -> ``text``
``reply_to.reply_to_msg_id``      kind ``reply``, ``reply_to`` =
                                  ``telegram:<chat>/<id>`` in the same chat unless
                                  ``reply_to_peer_id`` names another peer (Desktop:
                                  ``reply_to_message_id``, ``reply_to_peer_id``)
``reply_to.reply_to_top_id``      ``thread_id`` (a forum topic or a comment
                                  thread); a plain message in a forum topic
                                  (``forum_topic`` without ``reply_to_top_id``)
                                  is not a reply: its topic is its ``thread_id``
``fwd_from`` (Desktop             kind ``reshare``. With a channel and a
``forwarded_from``)               ``channel_post``: ``reshare_of`` =
                                  ``telegram:<channel>/<post>`` and a stub of the
                                  original by that channel. Without a post id
                                  (a forwarded user message, every Desktop
                                  forward): no ``reshare_of``; ``extra`` keeps
                                  ``forwarded_from`` (the original author's actor
                                  id, which is also created) and / or
                                  ``forwarded_from_name``
URL entities, ``text_link``       ``Link`` (a URL written without a scheme gets
                                  ``http://``)
``MessageMediaWebPage``           ``Link`` to the previewed page
``@username`` entities            ``Mention`` of ``telegram:@username``
mention-name entities             ``Mention`` of ``telegram:<user_id>``
hashtag entities                  ``Tag`` (lower-cased, no ``#``)
``views``                         ``views``
``forwards``                      ``reshares``
``replies.replies``               ``replies``
``reactions``                     ``likes`` = the total count; ``extra
                                  ["reactions"]`` = emoji -> count
``date``                          ``created_at``: Telethon's
                                  ``YYYY-MM-DD HH:MM:SS.ffffff`` is UTC; Desktop's
                                  ``date_unixtime`` is used (its ``date`` is local
                                  time without a zone, the fallback)
================================  ================================================

Entity offsets count UTF-16 code units, as Telegram does, so text after an
emoji outside the Basic Multilingual Plane is sliced correctly. ``extra`` also
keeps, when present, ``post_author`` (a channel post's signature), ``media``
(the media type), ``grouped_id`` (an album), ``edited`` (the last edit, ISO 8601
UTC) and ``pinned``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, array_items, host_of, json_lines
from whuffie.sources.io import Input, depth_limited, excerpt
from whuffie.sources.times import parse_time

PLATFORM = "telegram"
_PEER_KEYS = ("channel_id", "chat_id", "user_id")
_PEER_STRING = re.compile(r"(?:user|channel|chat|group|peer)?(-?\d{1,20})")
_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{2,63})")
_BOT_API_CHANNEL = 1_000_000_000_000
_NO_RECORDS = ("MessageService", "MessageEmpty")
_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_CHAT_HEADER_KEYS = ("name", "type", "id")
_SCALARS = ("string", "number", "boolean", "null")
_PEEK = 64 * 1024
_DESKTOP_HEAD = re.compile(
    r'\{\s*"name":[^\n]*\n\s*"type":\s*"(personal_chat|bot_chat|saved_messages|private_group|'
    r'private_supergroup|public_supergroup|private_channel|public_channel)"')
_FULL_EXPORT_HEAD = re.compile(r'\{\s*"about":')


def bare_peer(value: Any, field: str) -> int | None:
    """The bare numeric id of a Telethon peer, a Desktop peer string or a Bot API id.

    Parameters
    ----------
    value : dict, int, str or None
        ``{"_": "PeerChannel", "channel_id": 5}``, ``5``, ``"channel5"``,
        ``"user5"``, ``-1000000000005`` (Bot API channel) ...
    field : str
        The field name, for the error message.

    Returns
    -------
    int or None
        ``None`` when ``value`` is ``None``.

    Raises
    ------
    SourceError
        When the value is not a peer.

    Examples
    --------
    >>> bare_peer({"_": "PeerChannel", "channel_id": 1050982793}, "peer_id")
    1050982793
    >>> bare_peer("channel1050982793", "from_id"), bare_peer(-1001050982793, "id")
    (1050982793, 1050982793)
    >>> bare_peer("nobody", "from_id")
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: field 'from_id' is 'nobody', expected a Telegram peer id
    """
    if value is None:
        return None
    number: Any = None
    if isinstance(value, dict):
        for key in _PEER_KEYS:
            if value.get(key) is not None:
                number = value[key]
                break
    elif isinstance(value, str):
        m = _PEER_STRING.fullmatch(value.strip())
        number = int(m.group(1)) if m else None
    else:
        number = value
    if isinstance(number, str) and number.lstrip("-").isdigit():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or number == 0:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise SourceError(f"field '{field}' is {shown}, expected a Telegram peer id")
    if number < 0:  # Bot API style: -100<channel id>, -<basic group id>
        number = -number
        if number > _BOT_API_CHANNEL:
            number -= _BOT_API_CHANNEL
    return number


def _message_number(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if value is None:
        raise SourceError(f"message has no '{field}'")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    raise SourceError(f"field '{field}' is {shown}, expected a message id")


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def utf16_slicer(text: str):
    """A function ``(offset, length) -> str`` slicing ``text`` in UTF-16 code units.

    Telegram entity offsets count UTF-16 code units: an emoji outside the Basic
    Multilingual Plane counts 2. Text without such characters is sliced directly.

    Examples
    --------
    >>> cut = utf16_slicer("\\U0001F3D9 see https://x.org")
    >>> cut(7, 13)
    'https://x.org'
    """
    if text.isascii() or all(ord(c) < 0x10000 for c in text):
        return lambda offset, length: text[offset:offset + length]
    data = text.encode("utf-16-le", "surrogatepass")
    return lambda offset, length: data[2 * offset:2 * (offset + length)].decode("utf-16-le", "replace")


def _web_url(url: str) -> str:
    """An absolute URL: Telegram marks ``example.org/x`` as a URL without a scheme."""
    return url if "://" in url[:12] else "http://" + url


class TelegramReader(Reader):
    """Telethon ``to_dict()`` JSON lines and Telegram Desktop exports (see the module docstring)."""

    id = "telegram"
    platform = PLATFORM
    title = "Telegram: Telethon Message.to_dict() JSON lines and Telegram Desktop result.json exports"
    options_help: dict[str, str] = {}

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise Telethon objects by their ``"_"`` tag and Desktop exports by their keys.

        Examples
        --------
        >>> line = b'{"_": "Message", "id": 3, "peer_id": {"_": "PeerChannel", "channel_id": 7}}'
        >>> TelegramReader.sniff(Sample("chan.txt", line))
        0.95
        >>> TelegramReader.sniff(Sample("x.json", b'{"name": "a", "messages": []}'))
        0.0
        """
        text = sample.stripped
        if not text or text[0] not in "[{":
            return 0.0
        v = sample.first_item()
        if isinstance(v, dict):
            if v.get("_") in ("Message", *_NO_RECORDS) and "peer_id" in v:
                return 0.95
            if isinstance(v.get("messages"), list) and "id" in v and "type" in v:
                first = v["messages"][0] if v["messages"] else None
                if isinstance(first, dict) and "date" in first and "type" in first:
                    return 0.95
        elif v is None and text.startswith("{"):
            for line in text.split("\n")[1:6]:  # the first line may be truncated
                if line.startswith('{"_": "Message') and '"peer_id"' in line:
                    return 0.9
        head = text[:4096]
        # A Desktop export longer than the head: its opening keys are enough.
        if _DESKTOP_HEAD.match(head):
            return 0.9
        # A full account export opens with "about" and the account's personal information.
        if _FULL_EXPORT_HEAD.match(head) and '"personal_information"' in head \
                and '"phone_number"' in head:
            return 0.8
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """One raw record per JSON line, per array item or per Desktop export message."""
        if _is_json_lines(inp):
            yield from json_lines(inp)
            return
        yield from _stream_document(inp)

    # -- mapping -------------------------------------------------------------------------

    def map_record(self, raw: Any) -> Records:
        """Map a Telethon message, a Desktop export message (with its chat) or a whole chat.

        Examples
        --------
        >>> r = TelegramReader().map_record({"_": "Message", "id": 9,
        ...     "peer_id": {"_": "PeerChannel", "channel_id": 77}, "from_id": None, "post": True,
        ...     "date": "2024-01-25 16:15:58.000000", "message": "hi #News",
        ...     "entities": [{"_": "MessageEntityHashtag", "offset": 3, "length": 5}]})
        >>> m = r.messages[0]
        >>> m.id, m.actor_id, m.kind, str(m.created_at), [t.tag for t in r.tags]
        ('telegram:77/9', 'telegram:77', 'post', '2024-01-25 16:15:58', ['news'])
        """
        if not isinstance(raw, dict):
            raise SourceError(f"record is {type(raw).__name__}, expected a JSON object")
        out = Records()
        kind = raw.get("_")
        if kind is not None:
            if kind == "Message":
                self._telethon(raw, out)
            elif kind not in _NO_RECORDS:
                raise SourceError(f"field '_' is {str(kind)[:60]!r}, expected a Telethon Message")
            return out
        item = raw.get("item")
        header = raw.get("header")
        if isinstance(item, dict) and isinstance(header, dict):
            self._desktop(header, item, out)
            return out
        if isinstance(raw.get("messages"), list) and "id" in raw:
            # A Desktop chat on one line: map its messages one by one.
            chat_header = {k: raw.get(k) for k in _CHAT_HEADER_KEYS}
            for message in raw["messages"]:
                try:
                    if not isinstance(message, dict):
                        raise SourceError(f"message is {type(message).__name__}, expected an object")
                    self._desktop(chat_header, message, out)
                except SourceError as exc:
                    out.problems.append(Problem(exc.reason, _excerpt(message)))
            return out
        if "date" in raw and raw.get("type") in ("message", "service"):
            raise SourceError("Desktop export message outside a chat: no chat 'id' to name it by")
        raise SourceError("record is neither a Telethon object (no '_') nor a Telegram Desktop message")

    # -- Telethon ------------------------------------------------------------------------

    def _telethon(self, d: dict, out: Records) -> None:
        peer = d.get("peer_id")
        if peer is None:
            raise SourceError("message has no 'peer_id'")
        chat = bare_peer(peer, "peer_id")
        number = _message_number(d.get("id"), "id")
        mid = f"telegram:{chat}/{number}"
        sender = bare_peer(d.get("from_id"), "from_id")
        aid: str | None = f"telegram:{sender if sender is not None else chat}"
        if sender is None and d.get("out") is True and isinstance(peer, dict) \
                and peer.get("_") == "PeerUser":
            # The collecting account's own message in a private chat names no sender; the
            # chat is the other person, so the author is unknown rather than them.
            aid = None
        created = parse_time(d.get("date"), "date")
        text = d.get("message")
        if text is not None and not isinstance(text, str):
            raise SourceError(f"field 'message' is {text!r:.60}, expected a string")
        msg = Message(mid, PLATFORM, aid, created, text=text or None, views=_count(d.get("views")),
                      reshares=_count(d.get("forwards")))
        extra: dict[str, Any] = {}

        replies = d.get("replies")
        if isinstance(replies, dict):
            msg.replies = _count(replies.get("replies"))
        reply = d.get("reply_to")
        if isinstance(reply, dict) and reply.get("_", "MessageReplyHeader") == "MessageReplyHeader":
            target_chat = bare_peer(reply.get("reply_to_peer_id"), "reply_to.reply_to_peer_id") or chat
            target = reply.get("reply_to_msg_id")
            top = reply.get("reply_to_top_id")
            if top is not None:
                msg.thread_id = f"telegram:{target_chat}/{_message_number(top, 'reply_to.reply_to_top_id')}"
            if target is not None:
                target_id = f"telegram:{target_chat}/{_message_number(target, 'reply_to.reply_to_msg_id')}"
                if reply.get("forum_topic") and top is None:
                    msg.thread_id = target_id  # posted in a forum topic, not a reply
                else:
                    msg.reply_to = target_id
                    msg.kind = "reply"
        elif isinstance(reply, dict) and reply.get("_") == "MessageReplyStoryHeader":
            extra["reply_to_story"] = reply.get("story_id")

        fwd = d.get("fwd_from")
        if isinstance(fwd, dict):
            msg.kind = "reshare"
            source = bare_peer(fwd.get("from_id"), "fwd_from.from_id")
            post = fwd.get("channel_post")
            if source is not None and post is not None:
                msg.reshare_of = f"telegram:{source}/{_message_number(post, 'fwd_from.channel_post')}"
                out.context.append(Message(
                    msg.reshare_of, PLATFORM, f"telegram:{source}",
                    parse_time(fwd.get("date"), "fwd_from.date"), stub=True))
            elif source is not None:
                extra["forwarded_from"] = f"telegram:{source}"
                out.actors.append(Actor(f"telegram:{source}", PLATFORM))
            for key, label in (("from_name", "forwarded_from_name"),
                               ("post_author", "forwarded_post_author")):
                if fwd.get(key):
                    extra[label] = fwd[key]

        if text:
            self._telethon_entities(mid, text, d.get("entities"), out)
        media = d.get("media")
        if isinstance(media, dict):
            mtype = media.get("_")
            if isinstance(mtype, str):
                extra["media"] = mtype.removeprefix("MessageMedia").lower() or mtype
            page = media.get("webpage")
            if isinstance(page, dict) and isinstance(page.get("url"), str) and page["url"]:
                url = _web_url(page["url"])
                out.links.append(Link(mid, url, host_of(url)))
        reactions = d.get("reactions")
        if isinstance(reactions, dict) and isinstance(reactions.get("results"), list):
            counts = _telethon_reactions(reactions["results"])
            if counts:
                msg.likes = sum(counts.values())
                extra["reactions"] = counts
        for key, label in (("post_author", "post_author"), ("grouped_id", "grouped_id"),
                           ("via_bot_id", "via_bot_id")):
            value = d.get(key)
            if value is not None:
                extra[label] = value
        if d.get("edit_date"):
            extra["edited"] = _iso(d["edit_date"])
        if d.get("pinned") is True:
            extra["pinned"] = True
        msg.extra = extra or None
        out.messages.append(msg)

    def _telethon_entities(self, mid: str, text: str, entities: Any, out: Records) -> None:
        if not isinstance(entities, list) or not entities:
            return
        cut = None
        for i, e in enumerate(entities):
            if not isinstance(e, dict):
                continue
            kind = e.get("_")
            if kind == "MessageEntityTextUrl":
                url = e.get("url")
                if isinstance(url, str) and url:
                    url = _web_url(url)
                    out.links.append(Link(mid, url, host_of(url)))
                continue
            if kind not in ("MessageEntityUrl", "MessageEntityMention", "MessageEntityMentionName",
                            "MessageEntityHashtag"):
                continue
            offset, length = e.get("offset"), e.get("length")
            if not (isinstance(offset, int) and isinstance(length, int)) or offset < 0 or length <= 0:
                out.problems.append(Problem(
                    f"field 'entities[{i}]' has offset {offset!r} and length {length!r}, "
                    "expected non-negative integers", _excerpt(e)))
                continue
            if cut is None:
                cut = utf16_slicer(text)
            written = cut(offset, length)
            if kind == "MessageEntityMentionName":
                user = e.get("user_id")
                if isinstance(user, int) and not isinstance(user, bool) and user > 0:
                    _mention(out, mid, f"telegram:{user}", written or None, name=written or None)
                continue
            _entity(out, mid, kind, written)

    # -- Desktop -------------------------------------------------------------------------

    def _desktop(self, header: dict, m: dict, out: Records) -> None:
        mtype = m.get("type", "message")
        if mtype == "service":
            return
        if mtype != "message":
            raise SourceError(f"field 'type' is {str(mtype)[:60]!r}, expected 'message' or 'service'")
        chat_raw = header.get("id")
        if chat_raw is None:
            raise SourceError("chat has no 'id'")
        chat = bare_peer(chat_raw, "id")
        number = _message_number(m.get("id"), "id")
        mid = f"telegram:{chat}/{number}"
        chat_type = header.get("type")
        is_channel = isinstance(chat_type, str) and chat_type.endswith("channel")
        sender = bare_peer(m.get("from_id"), "from_id")
        aid = f"telegram:{sender if sender is not None else chat}"
        if sender is None or (is_channel and sender == chat):
            # The chat speaks itself: a channel post or an anonymous group admin.
            chat_name = header.get("name")
            out.actors.append(Actor(aid, PLATFORM,
                                    name=chat_name if isinstance(chat_name, str) else None,
                                    extra={"type": chat_type} if chat_type else None))
        else:
            name = m.get("from")
            if isinstance(name, str) and name:
                out.actors.append(Actor(aid, PLATFORM, name=name))
        if m.get("date_unixtime") not in (None, ""):
            created = parse_time(m.get("date_unixtime"), "date_unixtime")
        else:
            created = parse_time(m.get("date"), "date")

        text, entities = _desktop_text(m)
        msg = Message(mid, PLATFORM, aid, created, text=text or None)
        extra: dict[str, Any] = {}
        target = m.get("reply_to_message_id")
        if target is not None:
            target_chat = bare_peer(m.get("reply_to_peer_id"), "reply_to_peer_id") or chat
            msg.reply_to = f"telegram:{target_chat}/{_message_number(target, 'reply_to_message_id')}"
            msg.kind = "reply"
        if "forwarded_from" in m or "forwarded_from_id" in m:
            msg.kind = "reshare"
            source = bare_peer(m.get("forwarded_from_id"), "forwarded_from_id")
            fname = m.get("forwarded_from")
            if source is not None:
                extra["forwarded_from"] = f"telegram:{source}"
                out.actors.append(Actor(f"telegram:{source}", PLATFORM,
                                        name=fname if isinstance(fname, str) and fname else None))
            if isinstance(fname, str) and fname:
                extra["forwarded_from_name"] = fname
        for i, e in enumerate(entities):
            if not isinstance(e, dict):
                continue
            etype = e.get("type")
            written = e.get("text")
            if not isinstance(written, str):
                if etype not in (None, "plain"):
                    out.problems.append(Problem(
                        f"field 'text_entities[{i}].text' is {written!r:.40}, expected a string",
                        _excerpt(e)))
                continue
            if etype == "link":
                _entity(out, mid, "MessageEntityUrl", written)
            elif etype == "text_link":
                href = e.get("href")
                if isinstance(href, str) and href:
                    url = _web_url(href)
                    out.links.append(Link(mid, url, host_of(url)))
            elif etype == "mention":
                _entity(out, mid, "MessageEntityMention", written)
            elif etype == "hashtag":
                _entity(out, mid, "MessageEntityHashtag", written)
            elif etype == "mention_name":
                user = e.get("user_id")
                if isinstance(user, str) and user.isdigit():
                    user = int(user)
                if isinstance(user, int) and not isinstance(user, bool) and user > 0:
                    _mention(out, mid, f"telegram:{user}", written or None, name=written or None)
        reactions = m.get("reactions")
        if isinstance(reactions, list):
            counts: dict[str, int] = {}
            for r in reactions:
                if isinstance(r, dict) and isinstance(r.get("count"), int):
                    key = r.get("emoji") or r.get("document_id") or r.get("type") or "?"
                    counts[str(key)] = counts.get(str(key), 0) + r["count"]
            if counts:
                msg.likes = sum(counts.values())
                extra["reactions"] = counts
        if m.get("edited_unixtime"):
            extra["edited"] = _iso(m["edited_unixtime"])
        elif m.get("edited"):
            extra["edited"] = _iso(m["edited"])
        for key, label in (("author", "post_author"), ("media_type", "media"), ("via_bot", "via_bot")):
            value = m.get(key)
            if value:
                extra[label] = value
        if "photo" in m and "media" not in extra:
            extra["media"] = "photo"
        msg.extra = extra or None
        out.messages.append(msg)


def _entity(out: Records, mid: str, kind: str, written: str) -> None:
    """Links, @mentions and hashtags from an entity's text (shared by both formats)."""
    if not written:
        return
    if kind == "MessageEntityUrl":
        url = _web_url(written.strip())
        out.links.append(Link(mid, url, host_of(url)))
    elif kind == "MessageEntityMention":
        m = _USERNAME.fullmatch(written.strip())
        if m:
            handle = m.group(1)
            _mention(out, mid, f"telegram:@{handle.lower()}", handle, handle=handle)
    elif kind == "MessageEntityHashtag":
        # "#tag@somebot" addresses a bot in groups; the tag is the part before "@".
        tag = written.lstrip("#").split("@", 1)[0].strip().lower()
        if tag:
            out.tags.append(Tag(mid, tag))


def _mention(out: Records, mid: str, aid: str, written: str | None, handle: str | None = None,
             name: str | None = None) -> None:
    out.mentions.append(Mention(mid, aid, written))
    out.actors.append(Actor(aid, PLATFORM, handle=handle, name=name))


def _telethon_reactions(results: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        if not isinstance(r, dict) or not isinstance(r.get("count"), int):
            continue
        reaction = r.get("reaction")
        key = "?"
        if isinstance(reaction, dict):
            key = reaction.get("emoticon") or (
                f"custom:{reaction['document_id']}" if reaction.get("document_id") else
                str(reaction.get("_", "?")).removeprefix("Reaction").lower())
        counts[key] = counts.get(key, 0) + r["count"]
    return counts


def _desktop_text(m: dict) -> tuple[str | None, list]:
    """The plain text of a Desktop message and its entities.

    ``text`` is a string, or a list of strings and ``{"type", "text"}`` objects;
    ``text_entities`` (exports since 2021) lists every part with its type.
    """
    raw = m.get("text")
    entities = m.get("text_entities")
    if isinstance(raw, str):
        text: str | None = raw
        parts: list = []
    elif isinstance(raw, list):
        parts = raw
        text = "".join(p if isinstance(p, str) else str(p.get("text") or "")
                       for p in raw if isinstance(p, str | dict))
    elif raw is None:
        text, parts = None, []
    else:
        raise SourceError(f"field 'text' is {raw!r:.60}, expected a string or a list")
    if not isinstance(entities, list):
        entities = [p for p in parts if isinstance(p, dict)]
    return text, entities


def _iso(value: Any) -> Any:
    """An edit time as ISO 8601 UTC, the same from both formats; kept as given if unparsable."""
    try:
        when = parse_time(value, "edited")
    except SourceError:
        return value
    return when.isoformat() if when is not None else None


def _excerpt(value: Any) -> str:
    return Raw(value).excerpt(300)


def _is_json_lines(inp: Input) -> bool:
    """Whether the input is Telethon JSON lines rather than one JSON document.

    A file whose first line is truncated is still JSON lines when the next
    lines hold complete Telethon objects; a one-line file is a document unless
    it holds a Telethon object.
    """
    stream = inp.stream
    head = stream.peek(_PEEK)[:_PEEK] if hasattr(stream, "peek") else b""
    complete = head if len(head) < _PEEK else head[:head.rfind(b"\n") + 1]
    lines = [ln for ln in complete.split(b"\n") if ln.strip()][:6]
    for i, line in enumerate(lines):
        try:
            value = orjson.loads(line.lstrip(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict) and "_" in value:
            return True
        if i == 0:
            return isinstance(value, dict) and len(lines) > 1
    return False


def _stream_document(inp: Input) -> Iterator[Raw | Bad]:
    """Stream the messages of one JSON document: a Desktop export or an array of objects.

    A single-chat export's messages and the messages of every chat in a full
    export's ``chats.list`` / ``left_chats.list`` come wrapped as
    ``{"header": {"name", "type", "id"}, "item": message}``; the elements of a
    top-level array come as they are.
    """
    import ijson

    stream = inp.stream
    if hasattr(stream, "peek") and stream.peek(3)[:3] == b"\xef\xbb\xbf":
        stream.read(3)
    head = stream.peek(_PEEK)[:_PEEK] if hasattr(stream, "peek") else b""
    header = _single_chat_header(head)
    stream = depth_limited(stream)
    n = 0
    if header is not None:
        # A single-chat export: its header is in the head, so ijson's C item builder can
        # stream the messages, several times faster than building them from events here.
        try:
            for n, item in enumerate(ijson.items(stream, "messages.item", use_float=True), 1):
                yield Raw({"header": header, "item": item}, n)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            reason = " ".join(str(exc).split())
            yield Bad(f"invalid JSON after message {n} ({reason})", n + 1, None,
                      excerpt(repr(header)[:200]))
        return
    found = False
    header = {}
    try:
        events = ijson.parse(stream, use_float=True)
        for prefix, event, value in events:
            if event == "start_map" and prefix in ("chats.list.item", "left_chats.list.item"):
                header = {}
                continue
            if prefix == "" and event == "start_array":
                found = True
                for item in array_items(events, ""):
                    n += 1
                    yield Raw(item, n)
                return
            parent, _, key = prefix.rpartition(".")
            if parent not in _CHAT_PREFIXES:
                continue
            if key in _CHAT_HEADER_KEYS and event in _SCALARS:
                header[key] = value
            elif key == "messages" and event == "start_array":
                found = True
                chat = dict(header)
                for item in array_items(events, prefix):
                    n += 1
                    yield Raw({"header": chat, "item": item}, n)
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        yield Bad(f"invalid JSON after message {n} ({reason})", n + 1, None,
                  excerpt(repr(header)[:200]))
        return
    if not found:
        yield Bad("no 'messages' array found: not a Telegram Desktop export", None, 0, "")


def _single_chat_header(head: bytes) -> dict[str, Any] | None:
    """``name``, ``type`` and ``id`` of a single-chat export when its ``messages`` start in ``head``."""
    import io

    import ijson

    header: dict[str, Any] = {}
    try:
        for prefix, event, value in ijson.parse(io.BytesIO(head), use_float=True):
            if prefix == "" and event == "start_array":
                return None
            if prefix in _CHAT_HEADER_KEYS and event in _SCALARS:
                header[prefix] = value
            elif prefix == "messages" and event == "start_array":
                return header
            elif prefix and "." not in prefix and event in ("start_map", "start_array"):
                return None  # another top-level container first: a full account export
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError):
        return None
    return None


