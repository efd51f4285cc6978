"""The canonical records: the one model of the data every reader produces.

Readers map raw platform records to these objects; the store writes them to
the tables of the same names. Identifiers are ``platform:native_id`` strings
(``twitter:1234``, ``reddit:t1_c2a``, ``email:<id@host>``), so re-importing the
same data, or overlapping exports, never creates a second copy.

Times are :class:`datetime.datetime`. An aware datetime keeps its original UTC
offset (stored in ``utc_offset``, minutes); a naive one is taken as UTC.

Messages come in two roles:

* ``Records.messages`` are the *primary* records of a file (the tweets of a
  page, the comments of a dump). They are counted in an import's
  read / stored / duplicate figures.
* ``Records.profiles`` are primary actor records (a user lookup, a node
  table, a Stack Exchange ``Users.xml``); ``Records.actors`` are actors seen
  in passing (authors, mentioned people) and are not counted.
* ``Records.context`` are messages seen only as embedded copies or references
  (a retweeted original, a quoted post, the parent of a reply known only by
  id and author). They are merged into the store, filling columns the store
  does not know yet, but are not counted. A context message that carries no
  content is a *stub* (``Message.stub``): the store knows it exists and who
  wrote it, which is enough to resolve a reply or a reshare to its target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Message kinds a reader may use.
MESSAGE_KINDS = (
    "post",  # an original post, toot, tweet, skeet, channel message
    "reply",  # a reply / comment in a thread
    "reshare",  # a retweet, reblog, repost, forward
    "quote",  # a quote post
    "question",  # a Q&A question
    "answer",  # a Q&A answer
    "comment",  # a comment attached to a post (Reddit comment, Stack Exchange comment)
    "email",  # a mailing-list message
    "entry",  # a blog or feed entry
)

#: Rating kinds; the ``interactions`` view turns the first group into ``vote``
#: interactions and the rest into ``rating`` interactions.
VOTE_KINDS = ("upvote", "downvote", "like", "favourite", "accept", "bounty")
RATING_KINDS = ("rating", "trust")


def actor_id(platform: str, native: str | int) -> str:
    """Build a canonical actor or message identifier.

    Parameters
    ----------
    platform : str
        The platform prefix, lower-case (``twitter``, ``reddit``, ...).
    native : str or int
        The platform's own identifier.

    Returns
    -------
    str
        ``platform:native``.

    Examples
    --------
    >>> actor_id("twitter", 12)
    'twitter:12'
    """
    return f"{platform}:{native}"


message_id = actor_id


@dataclass(slots=True)
class Actor:
    """A person, account, channel, site or mailbox that speaks or is addressed.

    Examples
    --------
    >>> Actor("reddit:spez", "reddit", handle="spez").handle
    'spez'
    """

    id: str
    platform: str
    handle: str | None = None
    name: str | None = None
    url: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    verified: bool | None = None
    extra: dict[str, Any] | None = None


@dataclass(slots=True)
class Message:
    """One utterance: a post, reply, reshare, comment, email or feed entry.

    ``reply_to``, ``reshare_of`` and ``quote_of`` hold message ids; the store
    resolves them to the author of the target message, so a reader that knows
    the target's author but not its content emits a stub context message.

    Examples
    --------
    >>> m = Message("twitter:2", "twitter", "twitter:12", None, kind="reply", reply_to="twitter:1")
    >>> m.kind, m.reply_to
    ('reply', 'twitter:1')
    """

    id: str
    platform: str
    actor_id: str | None
    created_at: datetime | None
    kind: str = "post"
    text: str | None = None
    title: str | None = None
    lang: str | None = None
    reply_to: str | None = None
    reshare_of: str | None = None
    quote_of: str | None = None
    thread_id: str | None = None
    url: str | None = None
    likes: int | None = None
    reshares: int | None = None
    replies: int | None = None
    quotes: int | None = None
    score: int | None = None
    views: int | None = None
    stub: bool = False
    extra: dict[str, Any] | None = None


@dataclass(slots=True)
class Mention:
    """``message_id`` names ``actor_id`` (``handle`` as written)."""

    message_id: str
    actor_id: str
    handle: str | None = None


@dataclass(slots=True)
class Link:
    """``message_id`` links to ``url``; ``target_actor_id`` when the link names an actor
    (a blog identified by its site, a profile page)."""

    message_id: str
    url: str
    domain: str | None = None
    target_actor_id: str | None = None


@dataclass(slots=True)
class Tag:
    """A hashtag, subreddit-style label or topic tag on a message (lower-cased, no ``#``)."""

    message_id: str
    tag: str


@dataclass(slots=True)
class Recipient:
    """An addressee of a message: ``role`` is ``to``, ``cc`` or ``bcc``."""

    message_id: str
    actor_id: str
    role: str = "to"


@dataclass(slots=True)
class Rating:
    """A vote, like, accepted answer or valued rating.

    ``rater_id`` may be ``None`` (Stack Exchange votes are anonymous); the
    target is an actor, a message, or both. ``value`` is +1 / -1 for votes and
    the platform's scale for ratings (Bitcoin OTC: -10..+10).
    """

    id: str
    platform: str
    rater_id: str | None
    target_actor_id: str | None
    target_message_id: str | None
    kind: str
    value: float | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Tie:
    """A network-only relation without a message behind it (edge lists, GML).

    ``kind`` is an interaction kind (``mention``, ``reply``, ``link``, ...) or
    ``tie`` when the file does not say. ``weight`` counts repetitions. An
    undirected tie (``directed=False``) gives interactions both ways.
    """

    id: str
    platform: str
    source_id: str
    target_id: str
    kind: str = "tie"
    weight: float = 1.0
    created_at: datetime | None = None
    directed: bool = True


@dataclass(slots=True)
class Problem:
    """A part of a raw record that could not be mapped; it goes to quarantine."""

    reason: str
    excerpt: str = ""


@dataclass(slots=True)
class Records:
    """What :meth:`Reader.map_record` returns for one raw record.

    Examples
    --------
    >>> r = Records()
    >>> r.messages.append(Message("x:1", "x", "x:a", None))
    >>> r.primary_count
    1
    """

    messages: list[Message] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    profiles: list[Actor] = field(default_factory=list)
    context: list[Message] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def primary_count(self) -> int:
        """Number of primary records (messages, profiles, ratings, ties) in this bundle."""
        return len(self.messages) + len(self.profiles) + len(self.ratings) + len(self.ties)

    def extend(self, other: Records) -> None:
        """Append every list of ``other`` to this bundle."""
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))
