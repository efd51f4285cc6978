"""Reddit: Pushshift / Arctic Shift dumps and the official API's listing JSON.

What it reads
-------------
* **Pushshift and Arctic Shift dumps** (``RC_YYYY-MM`` comments, ``RS_YYYY-MM``
  submissions, and subreddit-filtered extracts): newline-delimited JSON, one
  comment or submission per line, plain or compressed (``.zst`` with the 2 GiB
  window of the original dumps, ``.gz``, ``.bz2``, ``.xz``). Comment and
  submission schemas differ completely and vary line by line over the years, so
  no fixed column set is assumed; a file may mix both kinds. A comment is
  recognised by ``parent_id`` / ``link_id`` / ``body``, a submission by
  ``title`` / ``selftext`` / ``is_self``. A broken line is quarantined with its
  line number, even the first one, and the rest of the dump is read. The
  Pushshift API's ``{"data": [...]}`` responses are read the same way.
* **The official Reddit API** (``.json`` pages): a ``Listing``
  (``{"kind": "Listing", "data": {"children": [{"kind": "t1" | "t3", "data":
  {...}}]}}``) such as ``/r/<sub>/new.json``, and the
  ``[submission listing, comment listing]`` pair of a ``/comments/<id>.json``
  page, whose comments nest their answers in ``replies`` listings (walked to any
  depth). ``more`` placeholders (comments not loaded) are skipped. A comment or
  submission that cannot be mapped is quarantined on its own; the rest of the
  page is kept.

Identifiers
-----------
* comment ``reddit:t1_<id>``, submission ``reddit:t3_<id>``: the base36 ``id``
  with the type prefix Reddit itself uses in ``name``, ``parent_id`` and
  ``link_id``, so the ids of a dump, an API page and a parent reference agree;
* actor ``reddit:<author>``: Reddit user names never change, so they are stable
  ids; ``[deleted]`` / ``[removed]`` / missing authors give no actor
  (``actor_id`` is ``None``). The API's ``author_fullname`` (``t2_...``) is kept
  in the actor's ``extra``;
* a mentioned user ``reddit:<name>`` with the name as written after ``u/``.

Mapping
-------
========================  =====================================================
Reddit                    Whuffie
========================  =====================================================
submission                ``Message`` kind ``post``, ``thread_id`` = itself;
                          ``title`` -> ``title``, ``selftext`` -> ``text``
comment on a submission   kind ``comment`` (``parent_id`` is ``t3_...``)
comment on a comment      kind ``reply`` (``parent_id`` is ``t1_...``)
``parent_id``             ``reply_to`` = ``reddit:<parent_id>``; the store
                          resolves it to the parent's author when the parent is
                          imported too (the parent's author is not in the record,
                          so no stub is made)
``link_id``               ``thread_id`` = ``reddit:<link_id>``
``created_utc``           ``created_at`` (an int, a float or a string of one)
``score`` (else ``ups``)  ``score``
``num_comments``          ``replies`` (submissions)
``permalink``             ``url`` = ``https://www.reddit.com`` + permalink
``url`` of a link post    a ``Link`` (not for self posts)
URLs in body / selftext   ``Link`` (markdown ``[text](url)`` gives ``url``)
``u/name``, ``/u/name``   ``Mention`` of ``reddit:name``
``#word`` in the text     ``Tag``, lower-cased; ``#`` must follow a space or a
                          bracket and precede a letter, because ``#Title`` at a
                          line start and ``###Title`` are markdown headers and
                          ``#1`` is a rank
``crosspost_parent``      ``reshare_of`` (kind stays ``post``), with a stub of
                          the original when ``crosspost_parent_list`` names its
                          author
========================  =====================================================

``[deleted]`` / ``[removed]`` bodies and self texts become ``text`` ``None``
with ``extra["removed"]`` = ``"deleted"`` or ``"removed"``. Reddit escapes
``&``, ``<`` and ``>`` in bodies and titles (``&amp;``); they are unescaped.

The subreddit is *not* a tag (tags are for hashtags): ``extra`` holds
``subreddit`` and ``subreddit_id``, and when present ``edited`` (``true`` or the
edit's epoch seconds, as given), ``removed``, ``distinguished``, ``flair``
(author flair text), ``link_flair``, ``domain``, ``nsfw``, ``stickied``,
``locked``, ``gilded``, ``controversiality`` and ``upvote_ratio``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of, json_lines, json_records
from whuffie.sources.io import Input
from whuffie.sources.text import urls
from whuffie.sources.times import parse_time

PLATFORM = "reddit"
_BASE36 = re.compile(r"[0-9a-z]{1,16}")
_FULLNAME = re.compile(r"t([13])_([0-9a-z]{1,16})")
# Reddit is markdown: "#Title" at a line start and "###Title" are headers, "#1" is a rank, so a
# hashtag needs a space or bracket before it and a letter after the "#".
_HASHTAG = re.compile(r"(?<=[ \t(\[])#([^\W\d_]\w{0,138})")
_MENTION = re.compile(r"(?<![\w/.:-])/?u/([A-Za-z0-9_-]{3,20})(?![A-Za-z0-9_-])")
_LISTING_HEAD = re.compile(r'"kind"\s*:\s*"Listing"')
_THING_HEAD = re.compile(r'"kind"\s*:\s*"t[13]"')
_GONE = {"[deleted]": "deleted", "[removed]": "removed"}
_SITE = "https://www.reddit.com"


def _unescape(text: str) -> str:
    """Undo Reddit's escaping of ``&``, ``<`` and ``>`` in bodies and titles.

    Examples
    --------
    >>> _unescape("a &amp;lt; b &lt;3 &amp; c")
    'a &lt; b <3 & c'
    """
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _count(value: Any) -> int | None:
    """An integer count, or ``None`` for anything that is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _fullname(value: Any, field: str) -> tuple[str, str]:
    """Split ``t1_abc`` into ``("1", "abc")``; raise a :class:`SourceError` otherwise."""
    if isinstance(value, str):
        m = _FULLNAME.fullmatch(value)
        if m:
            return m.group(1), m.group(2)
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    raise SourceError(f"field '{field}' is {shown}, expected t1_<id> or t3_<id>")


def _is_listing(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") == "Listing" and isinstance(
        value.get("data"), dict)


def _looks_like_reddit(v: Any) -> bool:
    """Whether a JSON object is a Pushshift comment / submission or an API thing."""
    if not isinstance(v, dict):
        return False
    if _is_listing(v):
        children = v["data"].get("children")
        return isinstance(children, list) and (
            not children or any(isinstance(c, dict) and c.get("kind") in ("t1", "t3", "more")
                                for c in children))
    if v.get("kind") in ("t1", "t3") and isinstance(v.get("data"), dict):
        v = v["data"]
    if "subreddit" not in v and "subreddit_id" not in v:
        return False
    if "id" not in v and "name" not in v:
        return False
    if "link_id" in v or "parent_id" in v:
        return True
    return "title" in v and ("selftext" in v or "is_self" in v or "num_comments" in v)


class RedditReader(Reader):
    """Pushshift / Arctic Shift dumps and Reddit API listings (see the module docstring)."""

    id = "reddit"
    platform = PLATFORM
    title = "Reddit: Pushshift / Arctic Shift NDJSON dumps (.zst) and API listing JSON"
    options_help: dict[str, str] = {}
    # Dump lines are independent records: large dumps are mapped by worker processes.
    parallel_lines = True

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise Reddit records by their fields, not by the file name.

        Examples
        --------
        >>> line = b'{"id":"c13","subreddit":"reddit.com","link_id":"t3_1","parent_id":"t3_1"}'
        >>> RedditReader.sniff(Sample("RC_2005-12", line))
        0.95
        >>> RedditReader.sniff(Sample("x.jsonl", b'{"id": "1", "text": "a tweet"}'))
        0.0
        """
        text = sample.stripped
        if not text or text[0] not in "[{":
            return 0.0
        v = sample.first_item()
        if isinstance(v, dict) and isinstance(v.get("data"), list) and v["data"]:
            v = v["data"][0]  # the Pushshift API's {"data": [...]}
        if _looks_like_reddit(v):
            return 0.95
        if v is None and sample.stripped.startswith("{"):
            # A dump whose first line is truncated: judge by the next complete lines.
            for line in sample.stripped.split("\n")[1:6]:
                try:
                    if _looks_like_reddit(orjson.loads(line)):
                        return 0.9
                except orjson.JSONDecodeError:
                    continue
        # A listing longer than the head cannot be parsed from it; its opening can.
        if _LISTING_HEAD.search(text[:400]) and _THING_HEAD.search(text):
            return 0.9
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """One raw record per dump line, per listing, or per ``{"data": [...]}`` item."""
        if _is_json_lines(inp):
            return json_lines(inp)
        return json_records(inp, keys=("data",))

    # -- mapping -------------------------------------------------------------------------

    def map_record(self, raw: Any) -> Records:
        """Map a comment, a submission, a listing or a ``[listing, listing]`` page.

        Examples
        --------
        >>> r = RedditReader().map_record({"id": "c2", "author": "ann", "body": "Yes &amp; no",
        ...     "parent_id": "t1_c1", "link_id": "t3_x9", "created_utc": "1134365188",
        ...     "subreddit": "reddit.com"})
        >>> m = r.messages[0]
        >>> m.id, m.actor_id, m.kind, m.reply_to, m.thread_id, m.text
        ('reddit:t1_c2', 'reddit:ann', 'reply', 'reddit:t1_c1', 'reddit:t3_x9', 'Yes & no')
        """
        if isinstance(raw, list):  # a /comments/<id>.json page saved as one line
            out = Records()
            for item in raw:
                if _is_listing(item):
                    self._listing(item, out)
                else:
                    out.problems.append(Problem(
                        f"page item is {type(item).__name__}, expected a Listing"))
            return out
        if not isinstance(raw, dict):
            raise SourceError(f"record is {type(raw).__name__}, expected a JSON object")
        kind = raw.get("kind")
        if kind == "Listing":
            if not isinstance(raw.get("data"), dict):
                raise SourceError("field 'data' of the Listing is not an object")
            out = Records()
            self._listing(raw, out)
            return out
        out = Records()
        if kind in ("t1", "t3") and isinstance(raw.get("data"), dict):
            self._thing(raw["data"], kind, out)
            replies = raw["data"].get("replies")
            if _is_listing(replies):
                self._listing(replies, out)
            return out
        if kind == "more":
            return out
        self._thing(raw, None, out)
        return out

    def _listing(self, listing: dict, out: Records) -> None:
        """Map the things of a listing and of the listings nested in their ``replies``."""
        # An explicit stack: deep comment trees must not hit the recursion limit.
        stack = [listing]
        while stack:
            children = stack.pop()["data"].get("children")
            if not isinstance(children, list):
                out.problems.append(Problem("field 'children' of a Listing is not a list"))
                continue
            for child in children:
                if not isinstance(child, dict):
                    out.problems.append(Problem(
                        f"listing child is {type(child).__name__}, expected an object"))
                    continue
                kind = child.get("kind")
                data = child.get("data")
                if kind == "more":
                    continue
                if kind not in ("t1", "t3") or not isinstance(data, dict):
                    out.problems.append(Problem(
                        f"listing child of kind {kind!r} is not a comment (t1) or submission (t3)",
                        _excerpt(child)))
                    continue
                try:
                    self._thing(data, kind, out)
                except SourceError as exc:
                    out.problems.append(Problem(exc.reason, _excerpt(data)))
                replies = data.get("replies")
                if _is_listing(replies):
                    stack.append(replies)

    def _thing(self, d: dict, kind: str | None, out: Records) -> None:
        """Map one comment or submission (a dump line or an API thing's ``data``)."""
        native = d.get("id")
        name = d.get("name")
        if isinstance(name, str) and name[:3] in ("t1_", "t3_"):
            kind = kind or name[:2]
            if native is None:
                native = name[3:]
        if isinstance(native, str) and native[:3] in ("t1_", "t3_"):
            kind = kind or native[:2]
            native = native[3:]
        if native is None or native == "":
            raise SourceError("record has no 'id'")
        if not isinstance(native, str) or not _BASE36.fullmatch(native):
            shown = repr(native)[:60]
            raise SourceError(f"field 'id' is {shown}, expected a base36 Reddit id")
        if kind is None:
            if "parent_id" in d or "link_id" in d or "body" in d:
                kind = "t1"
            elif "title" in d or "selftext" in d or "is_self" in d:
                kind = "t3"
            else:
                raise SourceError(
                    "record is neither a comment (no 'body', 'parent_id' or 'link_id') "
                    "nor a submission (no 'title' or 'selftext')")
        mid = f"reddit:{kind}_{native}"

        author = d.get("author")
        aid = None
        if author is not None and author not in _GONE and author != "":
            if not isinstance(author, str):
                raise SourceError(f"field 'author' is {author!r:.60}, expected a user name")
            aid = f"reddit:{author}"
            fullname = d.get("author_fullname")
            out.actors.append(Actor(aid, PLATFORM, handle=author,
                                    extra={"fullname": fullname} if fullname else None))
        created = parse_time(d.get("created_utc"), "created_utc")

        extra: dict[str, Any] = {}
        sub = d.get("subreddit")
        if sub:
            extra["subreddit"] = sub
        if d.get("subreddit_id"):
            extra["subreddit_id"] = d["subreddit_id"]
        edited = d.get("edited")
        if edited is not None and edited is not False and edited != 0:
            extra["edited"] = edited
        for key, label in (("distinguished", "distinguished"), ("author_flair_text", "flair"),
                           ("link_flair_text", "link_flair"), ("upvote_ratio", "upvote_ratio")):
            value = d.get(key)
            if value is not None and value != "":
                extra[label] = value
        for key, label in (("over_18", "nsfw"), ("stickied", "stickied"), ("locked", "locked")):
            if d.get(key) is True:
                extra[label] = True
        for key in ("gilded", "controversiality"):
            value = d.get(key)
            if isinstance(value, int) and value > 0:
                extra[key] = value

        score = d.get("score")
        if score is None:
            score = d.get("ups")
        permalink = d.get("permalink")
        url = None
        if isinstance(permalink, str) and permalink:
            url = _SITE + permalink if permalink.startswith("/") else permalink

        if kind == "t1":
            msg = self._comment(d, mid, aid, created, extra)
        else:
            msg = self._submission(d, mid, native, aid, created, extra, out)
        msg.score = _count(score)
        msg.url = url
        msg.extra = extra or None
        out.messages.append(msg)

        for text in (msg.title, msg.text):
            if not text:
                continue
            for u in urls(text):
                out.links.append(Link(mid, u, host_of(u)))
            if "u/" in text:
                for handle in dict.fromkeys(_MENTION.findall(text)):
                    target = f"reddit:{handle}"
                    out.mentions.append(Mention(mid, target, handle))
                    out.actors.append(Actor(target, PLATFORM, handle=handle))
            if "#" in text:
                for tag in dict.fromkeys(t.lower() for t in _HASHTAG.findall(text)):
                    out.tags.append(Tag(mid, tag))

    def _comment(self, d: dict, mid: str, aid: str | None, created, extra: dict) -> Message:
        parent = d.get("parent_id")
        link = d.get("link_id")
        thread = None
        if link is not None and link != "":
            lkind, lnative = _fullname(link, "link_id")
            if lkind != "3":
                raise SourceError(f"field 'link_id' is {link!r:.60}, expected t3_<id>")
            thread = f"reddit:t3_{lnative}"
        if parent is not None and parent != "":
            pkind, pnative = _fullname(parent, "parent_id")
            reply_to = f"reddit:t{pkind}_{pnative}"
            kind = "reply" if pkind == "1" else "comment"
        else:
            reply_to, kind = thread, "comment"
        body = d.get("body")
        text = None
        if isinstance(body, str):
            gone = _GONE.get(body)
            if gone:
                extra["removed"] = gone
            elif body:
                text = _unescape(body)
        elif body is not None:
            raise SourceError(f"field 'body' is {body!r:.60}, expected a string")
        return Message(mid, PLATFORM, aid, created, kind=kind, text=text, reply_to=reply_to,
                       thread_id=thread)

    def _submission(self, d: dict, mid: str, native: str, aid: str | None, created,
                    extra: dict, out: Records) -> Message:
        title = d.get("title")
        if title is not None and not isinstance(title, str):
            raise SourceError(f"field 'title' is {title!r:.60}, expected a string")
        selftext = d.get("selftext")
        text = None
        if isinstance(selftext, str):
            gone = _GONE.get(selftext)
            if gone:
                extra["removed"] = gone
            elif selftext:
                text = _unescape(selftext)
        elif selftext is not None:
            raise SourceError(f"field 'selftext' is {selftext!r:.60}, expected a string")
        if isinstance(d.get("removed_by_category"), str) and "removed" not in extra:
            extra["removed"] = d["removed_by_category"]
        msg = Message(mid, PLATFORM, aid, created, kind="post", text=text,
                      title=_unescape(title) if title else None, thread_id=mid,
                      replies=_count(d.get("num_comments")))
        is_self = d.get("is_self")
        domain = d.get("domain")
        if is_self is None:
            is_self = isinstance(domain, str) and domain.startswith("self.")
        if isinstance(domain, str) and domain and not domain.startswith("self."):
            extra["domain"] = domain
        link = d.get("url_overridden_by_dest") or d.get("url")
        if not is_self and isinstance(link, str) and link.startswith(("http://", "https://")) \
                and f"/comments/{native}" not in link:
            link = _unescape(link)
            out.links.append(Link(mid, link, host_of(link)))
        parent = d.get("crosspost_parent")
        if isinstance(parent, str) and _FULLNAME.fullmatch(parent):
            msg.reshare_of = f"reddit:{parent}"
            originals = d.get("crosspost_parent_list")
            first = originals[0] if isinstance(originals, list) and originals else None
            oauthor = first.get("author") if isinstance(first, dict) else None
            if isinstance(oauthor, str) and oauthor and oauthor not in _GONE:
                oaid = f"reddit:{oauthor}"
                out.actors.append(Actor(oaid, PLATFORM, handle=oauthor))
                out.context.append(Message(msg.reshare_of, PLATFORM, oaid, None, stub=True))
        return msg


def _is_json_lines(inp: Input) -> bool:
    """Whether the input is JSON lines, even when its first line is broken.

    ``json_records`` takes a file whose first line does not parse for one JSON
    document, which would lose a whole dump to one truncated first line. A dump
    has complete objects on the following lines; a pretty-printed API page does not.
    """
    stream = inp.stream
    head = stream.peek(_PEEK)[:_PEEK] if hasattr(stream, "peek") else b""
    lines = [ln for ln in head.split(b"\n")[:-1] if ln.strip()][:6]
    if not lines:
        return False
    for i, line in enumerate(lines):
        try:
            value = orjson.loads(line.lstrip(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            continue
        if i == 0 and len(lines) > 1:
            return True
        if i > 0 and isinstance(value, dict) and len(value) > 2:
            return True
    return False


_PEEK = 64 * 1024


def _excerpt(value: Any) -> str:
    return Raw(value).excerpt(300)
