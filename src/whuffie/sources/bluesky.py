"""Bluesky / AT Protocol JSON: XRPC responses, raw post records and firehose dumps.

What it reads
-------------
The JSON the Bluesky AppView and PDS return (as saved by atrrr, bskyr, the
atproto SDKs, or ``curl``), plain or compressed:

* **search results** ``app.bsky.feed.searchPosts``: ``{"posts": [postView]}``;
* **feeds** ``getAuthorFeed`` / ``getTimeline`` / ``getListFeed`` / ``getFeed``:
  ``{"feed": [{"post", "reply"?, "reason"?}]}``;
* **threads** ``getPostThread``: ``{"thread": threadViewPost}``, nested through
  ``parent`` and ``replies``; a node may be ``#notFoundPost`` or ``#blockedPost``;
* **raw records** ``com.atproto.repo.listRecords``:
  ``{"records": [{"uri", "cid", "value"}]}``; ``app.bsky.feed.post``,
  ``app.bsky.feed.like`` and ``app.bsky.feed.repost`` records are read, other
  collections (follows, blocks, profiles) are skipped;
* **likes** ``getLikes``: ``{"uri", "likes": [{"actor", "createdAt"}]}``;
* **reposts** ``getRepostedBy``: ``{"uri", "repostedBy": [profile]}``;
* **JSON lines** of any of these, of post views, feed items or raw records,
  and Jetstream firehose events (``{"did", "kind": "commit", "commit":
  {"operation", "collection", "rkey", "record"}}``).

Arrays, JSON lines and the ``posts`` / ``feed`` / ``records`` of a page are
streamed; a thread, likes or reposted-by page that spans several lines is
parsed whole (the API bounds those responses).

Identifiers
-----------
Handles are mutable, DIDs are not: actors are ``bluesky:<did>`` (the handle
goes to ``Actor.handle``), messages ``bluesky:<at-uri>``
(``bluesky:at://did:plc:.../app.bsky.feed.post/3kbi55xm6u62v``). The author's
DID is part of a post's AT-URI, so a post known only by its URI (a reply's
parent, a quoted post, a deleted post) still has a known author.

* A **repost** has the synthesised id ``bluesky:repost:<reposter did>:<post uri>``
  (an account can repost a post once, so the id is the same in a feed and in a
  ``getRepostedBy`` page); the repost record's own URI, when a feed gives it, is
  kept in ``extra``.
* A **like** is a :class:`~whuffie.model.Rating` with id
  ``bluesky:like:<liker did>:<post uri>``, kind ``like``, value 1.

Mapping
-------
* A post becomes a :class:`~whuffie.model.Message`: kind ``reply`` when
  its record has ``reply``, else ``quote`` when it embeds a post
  (``app.bsky.embed.record`` / ``recordWithMedia``), else ``post``.
  ``reply.parent`` gives ``reply_to``, ``reply.root`` the ``thread_id`` (a post is
  its own thread); ``created_at`` is the record's client-declared ``createdAt``
  (the server's ``indexedAt`` is kept in ``extra``, and used when ``createdAt``
  is missing or not a time); ``langs[0]`` the language; ``likeCount`` /
  ``repostCount`` / ``replyCount`` / ``quoteCount`` the metrics; ``url`` the
  ``https://bsky.app/profile/<did>/post/<rkey>`` link.
* A reply's parent and a quoted post that the file does not hold become stubs
  (id and author DID), so the ``reply`` and ``quote`` interactions resolve. The
  parent and root a feed item carries (``reply``) and the quoted post a view
  inlines (``embed.record``) are mapped in full as context.
* **Facets** give mentions (``#mention`` -> DID, the handle as written in the
  text), links (``#link``) and tags (``#tag``, lower-cased; the record's
  ``tags`` too). Their ``byteStart`` / ``byteEnd`` are UTF-8 byte offsets, not
  character offsets (see :func:`facet_text`). External embeds
  (``app.bsky.embed.external``) are links too.
* A feed item with ``reason`` ``#reasonRepost`` becomes a ``reshare`` message
  by ``reason.by`` at ``reason.indexedAt`` with ``reshare_of`` the post, which is
  then context (it is not the feed owner's post). ``getRepostedBy`` entries are
  reshares without a time.
* Authors become :class:`~whuffie.model.Actor` records: handle,
  ``displayName``, ``description``, ``createdAt``, follower / follows / posts
  counts when the view has them (``profileViewDetailed``), ``verified`` from the
  verification status.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Problem, Rating, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, host_of, json_records
from whuffie.sources.io import Input
from whuffie.sources.times import from_epoch, parse_time

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
_PAGE_KEYS = ("posts", "feed", "records")
_HANDLE = re.compile(r"@([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])")
_TEXT_HINT = re.compile(r'"\$type"\s*:\s*"app\.bsky\.')
#: How deep embedded posts (a quote of a quote of ...) are followed.
MAX_DEPTH = 3


def split_at_uri(uri: Any, field: str = "uri") -> tuple[str, str, str]:
    """Split an AT-URI into ``(authority, collection, rkey)``.

    Raises
    ------
    SourceError
        When ``uri`` is not ``at://<authority>/<collection>/<rkey>``.

    Examples
    --------
    >>> split_at_uri("at://did:plc:abc/app.bsky.feed.post/3kbi55xm6u62v")
    ('did:plc:abc', 'app.bsky.feed.post', '3kbi55xm6u62v')
    >>> split_at_uri("https://bsky.app/x")
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: field 'uri' is 'https://bsky.app/x', expected at://<did>/<collection>/<rkey>
    """
    if isinstance(uri, str) and uri.startswith("at://"):
        parts = uri[5:].split("/")
        if len(parts) == 3 and all(parts):
            return parts[0], parts[1], parts[2]
    shown = repr(uri) if len(repr(uri)) <= 80 else repr(uri)[:77] + "..."
    raise SourceError(f"field '{field}' is {shown}, expected at://<did>/<collection>/<rkey>")


def facet_text(text: str | bytes, facet: dict) -> str | None:
    """The part of ``text`` a facet covers; its index counts UTF-8 bytes, not characters.

    Returns ``None`` when the index is missing or outside the text.

    Examples
    --------
    >>> text = "Grüße an @zoë.example 👋"
    >>> facet_text(text, {"index": {"byteStart": 11, "byteEnd": 24}})
    '@zoë.example'
    >>> text[11:24] == '@zoë.example'   # character offsets would be wrong
    False
    """
    index = facet.get("index") if isinstance(facet, dict) else None
    if not isinstance(index, dict):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(raw)):
        return None
    return raw[start:end].decode("utf-8", "replace")


def _did(value: Any, field: str) -> str:
    if isinstance(value, str) and value.startswith("did:") and len(value) > 4:
        return value
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    raise SourceError(f"field '{field}' is {shown}, expected a DID (did:plc:... or did:web:...)")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: Any, field: str) -> datetime | None:
    """A server-set time; a bad one is dropped rather than losing the record it belongs to."""
    try:
        return parse_time(value, field)
    except SourceError:
        return None


def _mid(uri: str) -> str:
    return f"{PLATFORM}:{uri}"


def _aid(did: str) -> str:
    return f"{PLATFORM}:{did}"


def _author_stub(uri: Any, field: str) -> Message | None:
    """A stub message for a post known only by its URI (its author is the URI's DID)."""
    authority, _collection, _rkey = split_at_uri(uri, field)
    if not authority.startswith("did:"):
        return None
    return Message(_mid(uri), PLATFORM, _aid(authority), None, stub=True)


def map_profile(profile: Any, field: str = "author") -> Actor:
    """An actor from a ``profileViewBasic`` / ``profileView`` / ``profileViewDetailed``.

    Examples
    --------
    >>> a = map_profile({"did": "did:plc:abc", "handle": "alice.example", "displayName": "Alice",
    ...                  "followersCount": 3})
    >>> a.id, a.handle, a.name, a.followers
    ('bluesky:did:plc:abc', 'alice.example', 'Alice', 3)
    """
    if not isinstance(profile, dict):
        raise SourceError(f"field '{field}' is {type(profile).__name__}, expected a profile object")
    did = _did(profile.get("did"), f"{field}.did")
    handle = _str(profile.get("handle"))
    verified = None
    verification = profile.get("verification")
    if isinstance(verification, dict) and isinstance(verification.get("verifiedStatus"), str):
        verified = verification["verifiedStatus"] == "valid"
    labels = [x.get("val") for x in _list(profile.get("labels")) if isinstance(x, dict) and x.get("val")]
    return Actor(
        _aid(did), PLATFORM,
        # "handle.invalid" is what the AppView shows when a handle no longer verifies.
        handle=handle if handle != "handle.invalid" else None,
        name=_str(profile.get("displayName")),
        url=f"https://bsky.app/profile/{did}",
        description=_str(profile.get("description")),
        created_at=_time(profile.get("createdAt"), f"{field}.createdAt"),
        followers=_count(profile.get("followersCount")),
        following=_count(profile.get("followsCount")),
        posts=_count(profile.get("postsCount")),
        verified=verified,
        extra={"labels": labels} if labels else None,
    )


def _quoted_uri(embed: Any) -> str | None:
    """The URI of the record a post's embed quotes (``embed.record`` / ``recordWithMedia``)."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    ref = embed.get("record")
    if kind == "app.bsky.embed.recordWithMedia" or (kind is None and isinstance(embed.get("media"), dict)):
        ref = ref.get("record") if isinstance(ref, dict) else None
    elif kind not in ("app.bsky.embed.record", None):
        return None
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) else None


def _external_uris(embed: Any) -> list[str]:
    if not isinstance(embed, dict):
        return []
    found = []
    for e in (embed, embed.get("media")):
        if isinstance(e, dict) and isinstance(e.get("external"), dict):
            uri = e["external"].get("uri")
            if isinstance(uri, str) and uri.lower().startswith(("http://", "https://")):
                found.append(uri)
    return found


def _view_record(embed_view: Any) -> Any:
    """The ``#viewRecord`` a post view's embed inlines, if any."""
    if not isinstance(embed_view, dict):
        return None
    rec = embed_view.get("record")
    if isinstance(rec, dict) and isinstance(rec.get("record"), dict) and "uri" not in rec:
        rec = rec["record"]  # recordWithMedia#view: {"record": {"record": viewRecord}}
    return rec if isinstance(rec, dict) else None


def map_post(view: dict, out: Records, depth: int = 0, field: str = "post") -> Message:
    """Map a post view, a ``#viewRecord`` or a raw ``{uri, value}`` record into ``out``.

    Returns the post's message; the caller decides whether it is primary or context.
    """
    if not isinstance(view, dict):
        raise SourceError(f"{field} is {type(view).__name__}, expected a JSON object")
    uri = view.get("uri")
    authority, collection, rkey = split_at_uri(uri, f"{field}.uri")
    record = view.get("record") if isinstance(view.get("record"), dict) else view.get("value")
    if not isinstance(record, dict):
        raise SourceError(f"{field} {uri} has no 'record' (or 'value') object")
    author = view.get("author")
    if isinstance(author, dict):
        actor = map_profile(author, f"{field}.author")
        out.actors.append(actor)
        did = actor.id[len(PLATFORM) + 1:]
    elif isinstance(author, str):  # some firehose tools write the DID only
        did = _did(author, f"{field}.author")
    else:
        did = _did(authority, f"{field}.uri")
    mid = _mid(uri)
    indexed = _str(view.get("indexedAt"))
    try:
        created = parse_time(record.get("createdAt"), f"{field}.record.createdAt")
        bad_created = None
    except SourceError:
        # createdAt is declared by the client and sometimes nonsense; the server's time stands in.
        if indexed is None or _time(indexed, "indexedAt") is None:
            raise
        created, bad_created = None, record.get("createdAt")
    if created is None and indexed:
        created = _time(indexed, f"{field}.indexedAt")
    extra: dict[str, Any] = {}
    if _str(view.get("cid")):
        extra["cid"] = view["cid"]
    if indexed:
        extra["indexed_at"] = indexed
    if bad_created is not None:
        extra["created_at_declared"] = str(bad_created)[:100]
    labels = [x.get("val") for x in _list(view.get("labels")) if isinstance(x, dict) and x.get("val")]
    if labels:
        extra["labels"] = labels

    text = record.get("text") if isinstance(record.get("text"), str) else None
    _facets(record, text, mid, out)
    for tag in _list(record.get("tags")):
        if isinstance(tag, str) and tag.strip("# "):
            out.tags.append(Tag(mid, tag.strip("# ").lower()))
    embed = record.get("embed")
    for href in _external_uris(embed):
        out.links.append(Link(mid, href, host_of(href)))

    reply_to = thread_id = None
    reply = record.get("reply")
    if isinstance(reply, dict):
        parent, root = reply.get("parent"), reply.get("root")
        parent_uri = parent.get("uri") if isinstance(parent, dict) else None
        root_uri = root.get("uri") if isinstance(root, dict) else None
        if parent_uri is not None:
            stub = _author_stub(parent_uri, f"{field}.record.reply.parent.uri")
            reply_to = _mid(parent_uri)
            if stub is not None:
                out.context.append(stub)
        if root_uri is not None:
            split_at_uri(root_uri, f"{field}.record.reply.root.uri")
            thread_id = _mid(root_uri)
        thread_id = thread_id or reply_to

    quote_of = None
    quoted = _quoted_uri(embed)
    if quoted is not None:
        _q_authority, q_collection, _ = split_at_uri(quoted, f"{field}.record.embed.record.uri")
        if q_collection == POST:
            quote_of = _mid(quoted)
            stub = _author_stub(quoted, f"{field}.record.embed.record.uri")
            if stub is not None:
                out.context.append(stub)
        else:  # an embedded feed generator, list or starter pack: not a quote
            extra["embeds"] = quoted
    if depth < MAX_DEPTH:
        # The view inlines the quoted post (a post view's "embed", a viewRecord's "embeds").
        views = [view.get("embed")]
        if isinstance(view.get("embeds"), list):
            views.extend(view["embeds"])
        for ev in views:
            inner = _view_record(ev)
            if inner is not None and isinstance(inner.get("value"), dict) and \
                    inner["value"].get("$type", POST) == POST and "uri" in inner:
                try:
                    out.context.append(map_post(inner, out, depth + 1, f"{field}.embed.record"))
                except SourceError as exc:
                    out.problems.append(Problem(f"quoted post: {exc.reason}"))
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    return Message(
        mid, PLATFORM, _aid(did), created,
        kind="reply" if reply_to else "quote" if quote_of else "post",
        text=text, lang=lang, reply_to=reply_to, quote_of=quote_of,
        thread_id=thread_id or mid,
        url=f"https://bsky.app/profile/{did}/post/{rkey}" if collection == POST else None,
        likes=_count(view.get("likeCount")), reshares=_count(view.get("repostCount")),
        replies=_count(view.get("replyCount")), quotes=_count(view.get("quoteCount")),
        extra=extra or None,
    )


def _facets(record: dict, text: str | None, mid: str, out: Records) -> None:
    facets = record.get("facets")
    if not isinstance(facets, list) or not facets:
        return
    raw = None  # the UTF-8 bytes of the text, encoded only when a mention needs its slice
    for facet in facets:
        if not isinstance(facet, dict):
            continue
        for feat in _list(facet.get("features")):
            if not isinstance(feat, dict):
                continue
            kind = feat.get("$type") if isinstance(feat.get("$type"), str) else ""
            if kind.endswith("#mention") or (not kind and "did" in feat):
                did = feat.get("did")
                if not (isinstance(did, str) and did.startswith("did:")):
                    continue
                handle = None
                if text:
                    if raw is None:
                        raw = text.encode("utf-8", "replace")
                    written = facet_text(raw, facet)
                    m = _HANDLE.search(written) if written else None
                    handle = m.group(1) if m else None
                out.mentions.append(Mention(mid, _aid(did), handle))
                if handle:
                    out.actors.append(Actor(_aid(did), PLATFORM, handle=handle))
            elif kind.endswith("#link") or (not kind and "uri" in feat):
                uri = feat.get("uri")
                if isinstance(uri, str) and uri:
                    out.links.append(Link(mid, uri, host_of(uri)))
            elif kind.endswith("#tag") or (not kind and "tag" in feat):
                tag = feat.get("tag")
                if isinstance(tag, str) and tag.strip("# "):
                    out.tags.append(Tag(mid, tag.strip("# ").lower()))


def _repost(by: str, subject: str, created: datetime | None, extra: dict | None) -> Message:
    return Message(f"{PLATFORM}:repost:{by}:{subject}", PLATFORM, _aid(by), created, kind="reshare",
                   reshare_of=_mid(subject), extra=extra or None)


def _like(by: str, subject: str, created: datetime | None) -> Rating:
    return Rating(f"{PLATFORM}:like:{by}:{subject}", PLATFORM, _aid(by), None, _mid(subject), "like", 1.0,
                  created)


class BlueskyReader(Reader):
    """Bluesky XRPC responses (search, feeds, threads, likes, reposts), raw records, firehose lines.

    Examples
    --------
    >>> post = {"uri": "at://did:plc:bob/app.bsky.feed.post/3k2", "cid": "bafy",
    ...         "author": {"did": "did:plc:bob", "handle": "bob.example"},
    ...         "record": {"$type": "app.bsky.feed.post", "text": "Yes!", "createdAt": "2024-01-02T03:04:05Z",
    ...                    "reply": {"root": {"uri": "at://did:plc:al/app.bsky.feed.post/3k1"},
    ...                              "parent": {"uri": "at://did:plc:al/app.bsky.feed.post/3k1"}}}}
    >>> out = BlueskyReader().map_record(post)
    >>> m = out.messages[0]
    >>> m.kind, m.actor_id, m.reply_to
    ('reply', 'bluesky:did:plc:bob', 'bluesky:at://did:plc:al/app.bsky.feed.post/3k1')
    >>> [(c.actor_id, c.stub) for c in out.context]
    [('bluesky:did:plc:al', True)]
    """

    id = "bluesky"
    platform = PLATFORM
    title = "Bluesky / AT Protocol JSON: search, feeds, threads, likes, reposts, listRecords, firehose"
    options_help: dict[str, str] = {}

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        text = sample.stripped
        if not text or text[0] not in "[{":
            return 0.0
        item = sample.first_item()
        if isinstance(item, dict):
            for key in (*_PAGE_KEYS, "likes", "repostedBy"):
                if isinstance(item.get(key), list):
                    inner = item[key][0] if item[key] else None
                    if key in ("likes", "repostedBy") and isinstance(item.get("uri"), str):
                        return 0.95 if item["uri"].startswith("at://") else 0.0
                    item = inner
                    break
            if isinstance(item, dict) and isinstance(item.get("thread"), dict):
                item = item["thread"].get("post", item["thread"])
            if isinstance(item, dict) and isinstance(item.get("post"), dict):
                item = item["post"]
            if isinstance(item, dict):
                return 0.95 if _looks_like_atproto(item) else 0.0
        # The first record did not fit in the head (or is a likes page whose "uri" comes last).
        head = text[:16384]
        if '"at://did:' in head and (_TEXT_HINT.search(head) or '"did":"did:' in head.replace(" ", "")):
            return 0.8
        return 0.0

    # -- reading ---------------------------------------------------------------------------

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        for unit in json_records(inp, _PAGE_KEYS):
            if isinstance(unit, Bad):
                yield unit
                continue
            yield from _expand(unit.value, unit.line, unit.offset)

    # -- mapping ---------------------------------------------------------------------------

    def map_record(self, raw: Any) -> Records:
        out = Records()
        if not isinstance(raw, dict):
            raise SourceError(f"record is {type(raw).__name__}, expected a JSON object")
        if "_like" in raw:
            entry = raw["_like"]
            if not isinstance(entry, dict):
                raise SourceError(f"like is {type(entry).__name__}, expected a JSON object")
            actor = map_profile(entry.get("actor"), "like.actor")
            out.actors.append(actor)
            subject = raw["_subject"]
            _stub_into(out, subject, "uri")
            out.ratings.append(_like(actor.id[len(PLATFORM) + 1:], subject,
                                     parse_time(entry.get("createdAt"), "like.createdAt")))
        elif "_repostedBy" in raw:
            actor = map_profile(raw["_repostedBy"], "repostedBy")
            out.actors.append(actor)
            subject = raw["_subject"]
            _stub_into(out, subject, "uri")
            out.messages.append(_repost(actor.id[len(PLATFORM) + 1:], subject, None, None))
        elif "_stub" in raw:  # a thread node that is not found or blocked: its URI names the author
            _stub_into(out, raw["_stub"].get("uri"), "thread.uri")
        elif isinstance(raw.get("post"), dict):
            _map_feed_item(raw, out)
        elif isinstance(raw.get("commit"), dict) and "did" in raw:
            _map_jetstream(raw, out)
        elif raw.get("kind") in ("identity", "account") and "did" in raw:
            pass  # firehose handle and account-status events carry no message
        elif "uri" in raw and isinstance(raw.get("value"), dict) and "author" not in raw:
            _map_raw_record(raw, out)
        elif "uri" in raw and ("record" in raw or "author" in raw):
            out.messages.append(map_post(raw, out))
        elif isinstance(raw.get("error"), str):
            raise SourceError(f"the API returned an error: {raw['error']}: {raw.get('message', '')}"[:300])
        else:
            keys = ", ".join(sorted(map(str, raw))[:8]) or "none"
            raise SourceError(f"record is not a Bluesky post, feed item or record (keys: {keys})")
        return out


def _looks_like_atproto(item: dict) -> bool:
    uri = item.get("uri")
    if isinstance(uri, str) and uri.startswith("at://"):
        return True
    kind = item.get("$type")
    if isinstance(kind, str) and kind.startswith(("app.bsky.", "com.atproto.")):
        return True
    did = item.get("did")
    if isinstance(did, str) and did.startswith("did:") and any(k in item for k in ("handle", "commit")):
        return True
    actor = item.get("actor")
    return isinstance(actor, dict) and str(actor.get("did", "")).startswith("did:")


def _stub_into(out: Records, uri: Any, field: str) -> None:
    stub = _author_stub(uri, field)
    if stub is not None:
        out.context.append(stub)


def _expand(value: Any, line: int | None, offset: int | None) -> Iterator[Raw | Bad]:
    """The raw records of one JSON unit: pages and threads become their items."""
    if isinstance(value, list):
        for item in value:
            yield from _expand(item, line, offset)
        return
    if not isinstance(value, dict):
        yield Raw(value, line, offset)
        return
    for key in _PAGE_KEYS:
        if isinstance(value.get(key), list):
            for item in value[key]:
                yield Raw(item, line, offset)
            return
    for key, wrap in (("likes", "_like"), ("repostedBy", "_repostedBy")):
        if isinstance(value.get(key), list):
            subject = value.get("uri")
            try:
                split_at_uri(subject, "uri")
            except SourceError as exc:
                yield Bad(f"{key} page: {exc.reason}", line, offset, "")
                return
            for item in value[key]:
                yield Raw({wrap: item, "_subject": subject}, line, offset)
            return
    if isinstance(value.get("thread"), dict):
        yield from _thread_nodes(value["thread"], line, offset)
        return
    yield Raw(value, line, offset)


def _thread_nodes(root: dict, line: int | None, offset: int | None) -> Iterator[Raw]:
    """Flatten a ``threadViewPost`` tree (parents upward, replies downward)."""
    stack: list[Any] = [root]
    seen = 0
    while stack and seen < 100_000:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        seen += 1
        if isinstance(node.get("post"), dict):
            yield Raw(node["post"], line, offset)
        elif isinstance(node.get("uri"), str):  # #notFoundPost / #blockedPost
            yield Raw({"_stub": node}, line, offset)
        parent = node.get("parent")
        if isinstance(parent, dict):
            stack.append(parent)
        replies = node.get("replies")
        if isinstance(replies, list):
            stack.extend(reversed(replies))


def _map_feed_item(item: dict, out: Records) -> None:
    post = item["post"]
    reason = item.get("reason")
    is_repost = isinstance(reason, dict) and (
        str(reason.get("$type", "")).endswith("#reasonRepost") or
        ("by" in reason and "$type" not in reason))
    message = map_post(post, out, field="feed.post")
    reply = item.get("reply")
    if isinstance(reply, dict):
        for role in ("root", "parent"):
            ctx = reply.get(role)
            if not isinstance(ctx, dict) or not isinstance(ctx.get("uri"), str):
                continue
            try:
                if isinstance(ctx.get("record"), dict):
                    out.context.append(map_post(ctx, out, 1, f"feed.reply.{role}"))
                else:  # #notFoundPost / #blockedPost: the URI still names the author
                    _stub_into(out, ctx["uri"], f"feed.reply.{role}.uri")
            except SourceError as exc:
                out.problems.append(Problem(f"reply {role}: {exc.reason}"))
    if not is_repost:
        out.messages.append(message)
        return
    out.context.append(message)
    by = map_profile(reason.get("by"), "feed.reason.by")
    out.actors.append(by)
    extra = {"repost_uri": reason["uri"]} if isinstance(reason.get("uri"), str) else None
    out.messages.append(_repost(by.id[len(PLATFORM) + 1:], post["uri"],
                                parse_time(reason.get("indexedAt"), "feed.reason.indexedAt"), extra))


def _map_raw_record(raw: dict, out: Records, indexed: datetime | None = None) -> None:
    """A repository record ``{uri, cid, value}``: a post, a like or a repost."""
    uri = raw.get("uri")
    authority, collection, _rkey = split_at_uri(uri, "uri")
    value = raw["value"]
    kind = value.get("$type") or collection
    if kind == POST:
        out.messages.append(map_post(raw, out, field="record"))
    elif kind in (LIKE, REPOST):
        did = _did(authority, "uri")
        subject = value.get("subject")
        target = subject.get("uri") if isinstance(subject, dict) else None
        created = parse_time(value.get("createdAt"), "value.createdAt") or indexed
        _stub_into(out, target, "value.subject.uri")  # also checks that the subject is an AT-URI
        if kind == LIKE:
            out.ratings.append(_like(did, target, created))
        else:
            out.messages.append(_repost(did, target, created, {"repost_uri": uri}))
    # Other collections (follows, blocks, lists, profiles) carry no message: skipped.


def _map_jetstream(event: dict, out: Records) -> None:
    """A Jetstream firehose event: created or updated records are read, deletions skipped."""
    commit = event["commit"]
    if event.get("kind", "commit") != "commit" or commit.get("operation") not in ("create", "update"):
        return
    did = _did(event.get("did"), "did")
    collection, rkey = commit.get("collection"), commit.get("rkey")
    if not isinstance(collection, str) or not isinstance(rkey, str) or not collection or not rkey:
        raise SourceError(f"field 'commit.rkey' is {rkey!r} in collection {collection!r}, expected names")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise SourceError("field 'commit.record' is missing, expected the created record")
    indexed = None
    if isinstance(event.get("time_us"), int | float) and not isinstance(event.get("time_us"), bool):
        try:
            indexed = from_epoch(event["time_us"])
        except (OverflowError, ValueError):
            indexed = None
    raw = {"uri": f"at://{did}/{collection}/{rkey}", "value": record}
    if isinstance(commit.get("cid"), str):
        raw["cid"] = commit["cid"]
    if indexed is not None:
        raw["indexedAt"] = indexed.isoformat()
    _map_raw_record(raw, out, indexed)
