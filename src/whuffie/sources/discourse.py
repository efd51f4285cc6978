"""Discourse forum JSON: topics (``/t/<slug>/<id>.json``) and topic lists.

What it reads
-------------
* **Topic JSON**, the response of ``GET /t/<slug>/<id>.json`` (or
  ``/t/<id>/posts.json``): ``post_stream.posts`` holds the posts with their
  rendered HTML (``cooked``), ``details.participants`` the users, and the topic
  itself its ``title``, ``tags`` and ``category_id``. One file is one raw record
  (such responses are small and are parsed whole); a file of JSON lines, one
  topic per line, and a JSON array of topics are read too. Plug-in keys (the
  Q&A plug-in's ``qa_*``, ``vote_count``, ``answer_count``; discourse-solved's
  ``accepted_answer``) are tolerated.
* **Topic lists** (``/latest.json``, ``/c/<category>.json``: ``topic_list.topics``,
  or those topics concatenated into one JSON array) hold topic summaries without
  post bodies or post ids, which is not enough to build a message. They are
  recognised but give only light context: the ``users`` a list response
  carries become actors (ids, handles, names). They produce no counted records.

Identifiers
-----------
``discourse:<site>/u<user_id>`` (actors; ``handle`` = ``username``, ``name`` =
``name``; the ``system`` user is ``u-1``), ``discourse:<site>/p<post id>`` (posts)
and ``discourse:<site>/t<topic_id>`` (``thread_id``). ``<site>`` is the ``site``
option, by default the host-looking start of the file name
(``ask.cyberinfrastructure.org-q-a-post-1018.json`` ->
``ask.cyberinfrastructure.org``), else the lower-cased name of the folder; a
host-like site also gives posts their URL ``https://<site>/t/<slug>/<topic>/<n>``.

Mapping
-------
* The first post (``post_number`` 1) is a ``post`` carrying the topic's
  ``title``, its ``tags`` and ``extra.category_id``; every other post is a
  ``reply``. ``reply_to_post_number`` is a post *number* within the topic and is
  resolved to that post's id; a post without it is a linear reply and replies
  to the topic, i.e. to the first post. When the numbered post is not in the
  file (deleted, or in another page of a long topic), ``reply_to`` is left
  empty rather than pointing at the wrong author, and the number and
  ``reply_to_user.username`` are kept in ``extra``. Small-action posts
  (``post_type`` 3: "pinned", "closed", ...) are kept as replies without
  ``reply_to``, with ``extra.action_code``.
* ``text`` is ``cooked`` as plain text; links are the absolute URLs of
  ``link_counts`` (Discourse's own list, internal ones included), or the
  ``href`` targets of ``cooked`` when the post has no ``link_counts``.
  ``@mentions`` (``<a class="mention" href="/u/name">``) become mentions when the
  name belongs to a user seen in the topic (its posts or participants): an id is
  needed, and a handle alone is not one.
* ``likes`` is the count of ``actions_summary`` id 2; ``reply_count`` is
  ``replies``; ``reads`` is ``views``; the post ``score`` (a float) and
  ``readers_count`` go to ``extra``.
* An accepted answer (discourse-solved: a post with ``accepted_answer: true``, or
  the topic's ``accepted_answer.post_number``) becomes
  ``Rating(<site>/accept<topic_id>, kind="accept", value=1)`` from the topic's
  first poster to that post.
* Problems in single posts (a bad ``created_at``, a post without ``id``) are
  quarantined one by one; the other posts of the topic are kept.

Examples
--------
>>> site_from_name("ask.cyberinfrastructure.org-q-a-topics-2019-10-19.json")
'ask.cyberinfrastructure.org'
>>> site_from_name("1018.json") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Rating, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of
from whuffie.sources.io import (
    DAMAGED_INPUT,
    MAX_RECORD_BYTES,
    Input,
    LongLine,
    excerpt,
    loads_json_line,
    too_long,
)
from whuffie.sources.text import html_links, html_to_text
from whuffie.sources.times import parse_time

PLATFORM = "discourse"
#: What a damaged compressed stream raises while it is read.
# A host name at the start of a file name, followed by a separator or the end.
_HOST_PREFIX = re.compile(r"^((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24})(?=[-_. ]|$)")
_EXTENSION = re.compile(r"\.(json|jsonl|ndjson|txt)$")
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_MENTION = re.compile(r'<a class="mention" href="/u/([^"/?#]+)"')
_TOPIC_SUMMARY_KEYS = ("slug", "posts_count", "highest_post_number")
_LIKE = 2
_SMALL_ACTION = 3


def site_from_name(name: str) -> str | None:
    """The host name a file name starts with, lower-cased, or ``None``.

    Examples
    --------
    >>> site_from_name("Meta.Discourse.org_t_123.json")
    'meta.discourse.org'
    """
    stem = _EXTENSION.sub("", name.lower())
    m = _HOST_PREFIX.match(stem)
    return m.group(1) if m else None


def _site_option(value: str) -> str:
    s = value.strip().lower()
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return s.strip("/") or "site"


def _kind_of(value: Any) -> str | None:
    """``topic``, ``topic_list``, ``topics`` (a list of summaries) or ``None``."""
    if isinstance(value, dict):
        if isinstance(value.get("post_stream"), dict):
            return "topic"
        if isinstance(value.get("topic_list"), dict):
            return "topic_list"
        return None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        first = value[0]
        if isinstance(first.get("post_stream"), dict):
            return "topics"
        if all(k in first for k in _TOPIC_SUMMARY_KEYS):
            return "summaries"
    return None


class DiscourseReader(Reader):
    """Discourse topic JSON (``/t/<slug>/<id>.json``) and topic lists.

    See the module documentation for the id scheme and the mapping.

    Parameters
    ----------
    **options : str
        ``site``: the forum's host (default: from the file name, else the folder).

    Examples
    --------
    >>> topic = {"id": 7, "title": "Hello", "tags": ["Intro"], "post_stream": {"posts": [
    ...     {"id": 70, "post_number": 1, "user_id": 1, "username": "ann",
    ...      "created_at": "2020-01-01T10:00:00.000Z", "cooked": "<p>Hi all</p>"},
    ...     {"id": 71, "post_number": 2, "user_id": 2, "username": "bob",
    ...      "created_at": "2020-01-01T11:00:00.000Z", "cooked": "<p>Hi <b>ann</b></p>"}]}}
    >>> out = DiscourseReader().map_record({"site": "forum.example", "topic": topic})
    >>> [(m.id, m.kind, m.reply_to, m.text) for m in out.messages]  # doctest: +NORMALIZE_WHITESPACE
    [('discourse:forum.example/p70', 'post', None, 'Hi all'),
     ('discourse:forum.example/p71', 'reply', 'discourse:forum.example/p70', 'Hi ann')]
    >>> [t.tag for t in out.tags]
    ['intro']
    """

    id = "discourse"
    platform = PLATFORM
    title = "Discourse forum JSON: topics (/t/<slug>/<id>.json) and topic lists"
    options_help = {
        "site": "the forum's host name, used in every id (default: the host the file name "
                "starts with, else the name of the folder, lower-cased)",
    }

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise topics (``post_stream``) and topic lists (``topic_list`` or summaries)."""
        text = sample.stripped
        if not text.startswith(("{", "[")):
            return 0.0
        head = text[:65536]
        if '"post_stream"' not in head and '"topic_list"' not in head and '"highest_post_number"' not in head:
            return 0.0
        kind = _kind_of(sample.first_json())
        if kind in ("topic", "topics", "topic_list"):
            return 0.95
        if kind == "summaries":
            return 0.85
        # A document longer than the head that the partial parse could not open.
        if re.search(r'"post_stream"\s*:\s*\{\s*"posts"\s*:\s*\[', head):
            return 0.9
        if re.search(r'"topic_list"\s*:\s*\{', head):
            return 0.9
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Read one topic (or list) document, a JSON array of topics, or JSON lines of topics.

        A document is parsed whole (API responses are small); JSON lines, recognised by a
        first line that is a complete object, are streamed line by line.
        """
        site = _site_option(self.options["site"]) if self.options.get("site") else \
            (site_from_name(inp.name) or Path(inp.path).resolve().parent.name.lower() or "site")
        stream = inp.stream
        n, offset = 0, 0
        try:
            first = stream.readline(MAX_RECORD_BYTES)
            while first and not first.strip():
                n, offset = n + 1, offset + len(first)
                first = stream.readline(MAX_RECORD_BYTES)
            n += 1
            value = _object_line(first)
            if value is None:
                data = first + stream.read(MAX_RECORD_BYTES + 1 - len(first))
                if len(data) > MAX_RECORD_BYTES:
                    yield Bad(f"the document is larger than the limit of one record "
                              f"({MAX_RECORD_BYTES >> 20} MiB); not read", n, offset,
                              excerpt(data[:500]))
                    return
        except DAMAGED_INPUT as exc:
            yield Bad(f"the compressed data is damaged ({exc})", n or None, offset, "")
            return
        if value is not None:
            yield self._wrap(site, value, n, offset)
            yield from self._more_lines(stream, site, n, offset + len(first))
            return
        try:
            value = orjson.loads(data.lstrip(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            yield Bad(f"invalid JSON ({exc})", n - 1 + getattr(exc, "lineno", 1), None,
                      excerpt(data[:300]))
            return
        if isinstance(value, list) and _kind_of(value) == "topics":
            for i, item in enumerate(value, 1):
                yield self._wrap(site, item, i, None)
            return
        yield self._wrap(site, value, n, offset)

    def _more_lines(self, stream, site: str, n: int, offset: int) -> Iterator[Raw | Bad]:
        """The lines after the first of a JSON-lines file: one topic per line."""
        while True:
            try:
                line = stream.readline(MAX_RECORD_BYTES)
                if len(line) >= MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    line = LongLine.skip_rest(line, stream.readline)
            except DAMAGED_INPUT as exc:
                yield Bad(f"the compressed data is damaged ({exc})", n + 1, offset, "")
                return
            if not line:
                return
            n += 1
            if isinstance(line, LongLine):
                yield Bad(too_long(line, n), n, offset, excerpt(line))
                offset += line.length
                continue
            if line.strip():
                try:
                    value = loads_json_line(line)
                except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
                    yield Bad(f"invalid JSON ({exc})", n, offset, excerpt(line))
                else:
                    yield self._wrap(site, value, n, offset)
            offset += len(line)

    def _wrap(self, site: str, value: Any, line: int | None, offset: int | None) -> Raw | Bad:
        kind = _kind_of(value)
        if kind == "topic":
            return Raw({"site": site, "topic": value}, line, offset)
        if kind in ("topic_list", "summaries"):
            return Raw({"site": site, "topic_list": value}, line, offset)
        return Bad("not a Discourse topic (no 'post_stream') or topic list", line, offset, _show(value))

    def map_record(self, raw: dict[str, Any]) -> Records:
        """Map one topic (its posts) or one topic list (its users) to records."""
        if not isinstance(raw, dict) or "site" not in raw:
            raise SourceError("record is not a Discourse topic")
        site = raw["site"]
        if "topic_list" in raw:
            return _topic_list(site, raw["topic_list"])
        return _topic(site, raw.get("topic"))


def _object_line(line: bytes) -> dict | None:
    """The JSON object a line holds on its own, or ``None`` (the start of a longer document)."""
    if not line.lstrip(b"\xef\xbb\xbf \t").startswith(b"{"):
        return None
    try:
        value = loads_json_line(line)
    except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError):
        return None
    return value if isinstance(value, dict) else None


def _show(value: Any) -> str:
    """A JSON excerpt of a value for the quarantine (never fails)."""
    try:
        return excerpt(orjson.dumps(value, default=str)[:500])
    except (TypeError, orjson.JSONEncodeError):
        return excerpt(repr(value)[:500])


def _int(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SourceError(f"field '{field}' is {value!r}, expected an integer")
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SourceError(f"field '{field}' is {value!r}, expected an integer") from None


def _actor(pre: str, user: Any) -> Actor | None:
    """An actor from a user object (``id``, ``username``, ``name``), or ``None``."""
    if not isinstance(user, dict):
        return None
    uid = user.get("id")
    if uid is None or isinstance(uid, bool) or not isinstance(uid, int | str) or uid == "":
        return None
    return Actor(f"{pre}u{uid}", PLATFORM, handle=user.get("username") or None,
                 name=user.get("name") or None)


def _topic_list(site: str, value: Any) -> Records:
    out = Records()
    users = value.get("users") if isinstance(value, dict) else None
    pre = f"{PLATFORM}:{site}/"
    for u in users if isinstance(users, list) else ():
        a = _actor(pre, u)
        if a is not None:
            out.actors.append(a)
    return out


def _topic(site: str, topic: Any) -> Records:
    if not isinstance(topic, dict):
        raise SourceError("record is not a Discourse topic")
    stream = topic.get("post_stream")
    posts = stream.get("posts") if isinstance(stream, dict) else None
    if not isinstance(posts, list):
        raise SourceError("field 'post_stream.posts' is missing, expected a list of posts")
    pre = f"{PLATFORM}:{site}/"
    topic_id = topic.get("id")
    if topic_id is None:
        topic_id = next((p.get("topic_id") for p in posts if isinstance(p, dict)), None)
    out = Records()
    # post_number -> post id, and username -> user id, within the topic.
    numbers: dict[int, str] = {}
    users: dict[str, str] = {}
    for p in posts:
        if isinstance(p, dict) and isinstance(p.get("post_number"), int) and p.get("id") is not None:
            numbers[p["post_number"]] = f"{pre}p{p['id']}"
        if isinstance(p, dict) and p.get("username") and p.get("user_id") is not None:
            users[str(p["username"]).lower()] = f"{pre}u{p['user_id']}"
    details = topic.get("details") if isinstance(topic.get("details"), dict) else {}
    participants = details.get("participants")
    for u in participants if isinstance(participants, list) else ():
        a = _actor(pre, u)
        if a is not None:
            out.actors.append(a)
            if a.handle:
                users.setdefault(a.handle.lower(), a.id)
    first = numbers.get(1)
    tags = topic.get("tags") if isinstance(topic.get("tags"), list) else []
    host = bool(_HOST.match(site))
    slug = topic.get("slug")
    opener: str | None = None
    accepted: str | None = None
    for p in posts:
        try:
            msg = _post(pre, p, topic, topic_id, numbers, first, out, users, host, site, slug)
        except SourceError as exc:
            out.problems.append(Problem(exc.reason, _show(p)))
            continue
        if msg.kind == "post":
            opener = msg.actor_id
            out.tags.extend(Tag(msg.id, t) for t in dict.fromkeys(
                str(t).strip().lower().lstrip("#") for t in tags) if t)
        if p.get("accepted_answer") is True:
            accepted = msg.id
    solved = topic.get("accepted_answer")
    if accepted is None and isinstance(solved, dict) and isinstance(solved.get("post_number"), int):
        accepted = numbers.get(solved["post_number"])
    if accepted is not None and topic_id is not None:
        if opener is None:
            created_by = details.get("created_by")
            a = _actor(pre, created_by)
            opener = a.id if a else None
        out.ratings.append(Rating(f"{pre}accept{topic_id}", PLATFORM, opener, None, accepted,
                                  "accept", 1.0, None))
    return out


def _post(pre, p, topic, topic_id, numbers, first, out: Records, users, host, site, slug) -> Message:
    if not isinstance(p, dict):
        raise SourceError(f"post is {type(p).__name__}, expected a JSON object")
    pid = p.get("id")
    if pid is None or isinstance(pid, bool) or pid == "":
        raise SourceError("post has no 'id'")
    mid = f"{pre}p{pid}"
    number = _int(p.get("post_number"), "post_number")
    tid = p.get("topic_id", topic_id)
    uid = p.get("user_id")
    actor = f"{pre}u{uid}" if uid is not None and uid != "" else None
    if actor is not None:
        out.actors.append(Actor(actor, PLATFORM, handle=p.get("username") or None,
                                name=p.get("name") or None))
    extra: dict[str, Any] = {}
    ptype = p.get("post_type")
    kind = "post" if number == 1 else "reply"
    reply_to = None
    if kind == "reply":
        target = _int(p.get("reply_to_post_number"), "reply_to_post_number")
        if ptype == _SMALL_ACTION:
            extra["action_code"] = p.get("action_code")
        elif target is None:
            reply_to = first
        elif target in numbers:
            reply_to = numbers[target]
        else:
            extra["reply_to_post_number"] = target
            to_user = p.get("reply_to_user")
            if isinstance(to_user, dict) and to_user.get("username"):
                extra["reply_to_username"] = to_user["username"]
    if ptype not in (None, 1):
        extra["post_type"] = ptype
    likes = None
    summary = p.get("actions_summary")
    for action in summary if isinstance(summary, list) else ():
        if isinstance(action, dict) and action.get("id") == _LIKE:
            likes = _int(action.get("count", 0), "actions_summary.count")
    score = p.get("score")
    if isinstance(score, int | float) and not isinstance(score, bool):
        extra["score"] = score
    readers = p.get("readers_count")
    if isinstance(readers, int) and not isinstance(readers, bool):
        extra["readers_count"] = readers
    if kind == "post" and topic.get("category_id") is not None:
        extra["category_id"] = topic.get("category_id")
    cooked = p.get("cooked")
    if cooked is not None and not isinstance(cooked, str):
        raise SourceError(f"field 'cooked' is {type(cooked).__name__}, expected HTML text")
    post_slug = p.get("topic_slug") or slug
    msg = Message(
        mid, PLATFORM, actor, parse_time(p.get("created_at"), "created_at"), kind,
        text=html_to_text(cooked), title=topic.get("title") if kind == "post" else None,
        reply_to=reply_to, thread_id=f"{pre}t{tid}" if tid is not None else None,
        url=f"https://{site}/t/{post_slug}/{tid}/{number}" if host and post_slug and tid is not None
        and number is not None else None,
        likes=likes, replies=_int(p.get("reply_count"), "reply_count"),
        views=_int(p.get("reads"), "reads"), extra=extra or None,
    )
    out.messages.append(msg)
    counts = p.get("link_counts")
    if isinstance(counts, list) and counts:
        found = [c.get("url") for c in counts if isinstance(c, dict)]
        found = [u for u in found if isinstance(u, str) and u.lower().startswith(("http://", "https://"))]
    else:
        found = html_links(cooked)
    out.links.extend(Link(mid, u, host_of(u)) for u in dict.fromkeys(found))
    if cooked and 'class="mention"' in cooked:
        for name in dict.fromkeys(_MENTION.findall(cooked)):
            target_id = users.get(name.lower())
            if target_id is not None:
                out.mentions.append(Mention(mid, target_id, name))
    return msg
