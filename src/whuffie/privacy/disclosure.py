"""What the report, the map and the exports show of private individuals.

A shared output (the HTML report, the map, an export written with ``--redact``) names public
actors and shows private individuals as display pseudonyms. An actor is *public* when the
platform verified it, or when its reach is at least :attr:`Disclosure.public_reach` (5,000 by
default): reach is the larger of its followers (as the store holds them) and the number of
distinct actors who paid it attention (the ``interactions`` view). Every other actor is private,
and so is every actor of the ``email`` platform, whose ids and handles are addresses. A private
actor is shown as ``anon-<10 hex digits>`` (:func:`whuffie.privacy.display_pseudonym`, keyed by
the store's own secret): the same actor has the same label in the report, the map and the exports
of one store, and the label cannot be turned back into the actor without that store.

In the texts an output quotes, ``@handle`` mentions (``@name``, ``@name@instance``, Reddit's
``u/name`` and ``/u/name``) of actors that are not public become the pseudonym of the mentioned
actor (``@anon`` when the store does not know the handle), and e-mail addresses are masked;
``texts`` can also truncate or hide the texts. ``show_private=True`` (``--show-private``) is the
user's choice to show every handle as the store holds it.

The policy is computed for what an output shows, not for the whole store: :class:`Shown` checks
the actors an output names and the texts it quotes, one query per batch, and counts the private
individuals it pseudonymised for the output's note.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from whuffie.errors import WhuffieError
from whuffie.privacy import EMAIL_MASK, display_pseudonym, store_secret

if TYPE_CHECKING:
    from whuffie.store.store import Store

#: What ``texts`` may be: shown in full, cut to :data:`TRUNCATE` characters, or hidden.
TEXTS = ("full", "truncate", "hide")
#: The reach (followers, or distinct actors paying attention) from which an actor is public.
PUBLIC_REACH = 5_000
#: Characters kept of a truncated text (then "…").
TRUNCATE = 80

# One pass over a text finds every e-mail address and every mention (as ingest's pseudonymisation
# reads them: see whuffie.privacy.pseudonyms.MENTION). An address starts where no address character
# precedes (so a long word is not tried from each of its letters) and is matched before a mention
# could start inside it; a mention's "@" may follow anything but another "@" (".@name", "w/@name",
# the /@name of a profile's address); a Reddit "u/" starts a word, "/u/" is taken anywhere.
_TOKENS = re.compile(
    r"(?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?<!@)@(?P<at>\w(?:[\w.'’-]*\w)?)(?:@(?P<host>[\w-]+(?:\.[\w-]+)+))?"
    r"|(?P<u>/u/|(?<![\w/])u/)(?P<user>[\w-]+)"
)
_POSSESSIVE = re.compile(r"['’]s$")
_views = itertools.count()


@dataclass(frozen=True)
class Disclosure:
    """What an output shows of private individuals (see :mod:`whuffie.privacy.disclosure`).

    Attributes
    ----------
    show_private : bool
        Show every actor's handle, name and id as the store holds them (the user's opt-in).
    public_reach : int
        The reach (followers, or distinct actors who paid attention) from which an actor is public.
    texts : {"full", "truncate", "hide"}
        The texts shown: in full, their first :data:`TRUNCATE` characters, or none.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Actor, Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(actors=[Actor("x:1", "x", handle="ann"),
    ...                                   Actor("x:2", "x", handle="bigcorp", followers=90_000)],
    ...                           ties=[Tie("t:1", "x", "x:1", "x:2", "mention")]))
    ...     labels = Disclosure().labels(store, ["x:1", "x:2"])
    ...     everyone = Disclosure(show_private=True).labels(store, ["x:1", "x:2"])
    >>> labels["x:1"].startswith("anon-"), labels["x:2"], everyone
    (True, 'bigcorp', {'x:1': 'ann', 'x:2': 'bigcorp'})
    """

    show_private: bool = False
    public_reach: int = PUBLIC_REACH
    texts: str = "full"

    def __post_init__(self) -> None:
        if self.texts not in TEXTS:
            raise WhuffieError(f"texts is {self.texts!r}; choose one of {', '.join(TEXTS)}")
        if isinstance(self.public_reach, bool) or not isinstance(self.public_reach, int) \
                or self.public_reach < 0:
            raise WhuffieError(f"public_reach is {self.public_reach!r}; give a whole number, 0 or more")

    def bind(self, store: Store) -> Shown:
        """This disclosure applied to one output of ``store`` (see :class:`Shown`).

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     Disclosure().bind(store).summary()
        {'show_private': False, 'public_reach': 5000, 'texts': 'full', 'pseudonymised': 0}
        """
        return Shown(store, self)

    def public(self, store: Store, ids: Iterable[str]) -> set[str]:
        """The public actors among ``ids`` (all of them with ``show_private``).

        Examples
        --------
        >>> import whuffie
        >>> from whuffie.model import Actor, Records
        >>> with whuffie.open(":memory:") as store:
        ...     _ = store.add(Records(actors=[Actor("x:1", "x", handle="ann", followers=12),
        ...                                   Actor("x:2", "x", handle="news", verified=True)]))
        ...     sorted(Disclosure().public(store, ["x:1", "x:2", "x:3"]))
        ['x:2']
        """
        return self.bind(store).public(ids)

    def labels(self, store: Store, ids: Iterable[str], names: bool = False) -> dict[str, str]:
        """What to call each actor: like :meth:`Store.handles`, with private actors as pseudonyms.

        Every private actor of ``ids`` gets its display pseudonym (never its handle, name or id),
        whether or not the store has a profile for it; a public actor gets its handle (with
        ``names``: else its name) when it has one.

        Examples
        --------
        >>> import whuffie
        >>> from whuffie.model import Actor, Records
        >>> with whuffie.open(":memory:") as store:
        ...     _ = store.add(Records(actors=[Actor("x:2", "x", name="News", verified=True)]))
        ...     labels = Disclosure().labels(store, ["x:1", "x:2"], names=True)
        >>> labels["x:1"][:5], labels["x:2"]
        ('anon-', 'News')
        """
        return self.bind(store).labels(ids, names=names)

    def shown_id(self, store: Store, actor_id: str) -> str:
        """The id to show for an actor (on hover, in a map, in an export): a private one's pseudonym.

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     Disclosure().shown_id(store, "x:1").startswith("anon-")
        True
        """
        return self.bind(store).actor(actor_id)

    def text(self, store: Store, text: str | None) -> str | None:
        """A text as an output shows it: mentions of private actors replaced, addresses masked.

        ``None`` for a hidden text (``texts="hide"``) or a missing one.

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     Disclosure().text(store, "thanks .@ann, write to ann@example.org")
        'thanks .@anon, write to [email]'
        """
        return self.bind(store).text(text)

    def as_dict(self) -> dict[str, Any]:
        """The settings, JSON-ready.

        Examples
        --------
        >>> Disclosure(public_reach=100).as_dict()
        {'show_private': False, 'public_reach': 100, 'texts': 'full'}
        """
        return asdict(self)


class Shown:
    """One output's view of a store under a :class:`Disclosure`.

    It remembers the actors it has checked (one query per batch of new ones) and the private
    individuals it showed as pseudonyms, which :meth:`summary` counts and :meth:`note` states.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Actor, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(actors=[Actor("x:1", "x", handle="ann")]))
    ...     shown = Disclosure().bind(store)
    ...     label = shown.labels(["x:1"])["x:1"]
    ...     print(shown.actor("x:1") == label, shown.summary()["pseudonymised"])
    True 1
    """

    def __init__(self, store: Store, disclosure: Disclosure) -> None:
        self.store = store
        self.disclosure = disclosure
        #: Ids of the private actors this output showed as pseudonyms.
        self.pseudonymised: set[str] = set()
        #: Mentions replaced in the texts shown (known actors or not).
        self.mentions = 0
        self._public: dict[str, bool] = {}
        self._secret: bytes | None = None

    def public(self, ids: Iterable[str]) -> set[str]:
        """The public actors among ``ids`` (all of them with ``show_private``)."""
        ids = list(dict.fromkeys(str(a) for a in ids))
        if self.disclosure.show_private:
            return set(ids)
        new = [a for a in ids if a not in self._public]
        if new:
            found = public_actors(self.store, new, self.disclosure.public_reach)
            self._public.update((a, a in found) for a in new)
        return {a for a in ids if self._public[a]}

    def pseudonym(self, actor_id: str) -> str:
        """The display pseudonym of an actor, counted as shown."""
        if self._secret is None:
            self._secret = store_secret(self.store.con)
        self.pseudonymised.add(actor_id)
        return display_pseudonym(self._secret, actor_id)

    def ids(self, actor_ids: Iterable[str]) -> list[str]:
        """The ids to show, in order: a private actor's pseudonym, a public actor's id."""
        actor_ids = [str(a) for a in actor_ids]
        public = self.public(actor_ids)
        return [a if a in public else self.pseudonym(a) for a in actor_ids]

    def actor(self, actor_id: str) -> str:
        """The id to show for one actor (see :meth:`ids`)."""
        return self.ids([actor_id])[0]

    def labels(self, ids: Iterable[str], names: bool = False) -> dict[str, str]:
        """What to call each actor (see :meth:`Disclosure.labels`)."""
        ids = list(dict.fromkeys(str(a) for a in ids))
        if self.disclosure.show_private:
            return self.store.handles(ids, names=names)
        public = self.public(ids)
        out = self.store.handles([a for a in ids if a in public], names=names)
        out.update((a, self.pseudonym(a)) for a in ids if a not in public)
        return out

    def text(self, text: str | None) -> str | None:
        """One text as shown (see :meth:`texts`)."""
        return self.texts([text])[0]

    def texts(self, texts: Sequence[str | None]) -> list[str | None]:
        """Texts as shown: mentions of private actors replaced, e-mail addresses masked (unless
        ``show_private``), then cut or hidden as ``texts`` says; ``None`` stays ``None``."""
        mode = self.disclosure.texts
        if mode == "hide":
            return [None for _ in texts]
        out = list(texts)
        if not self.disclosure.show_private:
            out = self._replace_mentions(out)
        if mode == "truncate":
            out = [t if t is None or len(t) <= TRUNCATE else t[:TRUNCATE] + "…" for t in out]
        return out

    def _replace_mentions(self, texts: list[str | None]) -> list[str | None]:
        found = [list(_TOKENS.finditer(t)) if t else [] for t in texts]
        replacement = self._mentioned({key for matches in found for m in matches for key, _ in _keys(m)})

        def shown(m: re.Match) -> str:
            if m.group("email"):
                return EMAIL_MASK
            prefix = "@" if m.group("at") else m.group("u")
            keys = _keys(m)
            for key, suffix in keys:
                if key in replacement:
                    if replacement[key] is None:  # every actor with that handle is public
                        return m.group(0)
                    self.mentions += 1
                    return prefix + replacement[key] + suffix
            self.mentions += 1
            return prefix + "anon" + keys[-1][1]

        return [_TOKENS.sub(shown, t) if matches else t for t, matches in zip(texts, found, strict=True)]

    def _mentioned(self, keys: set[str]) -> dict[str, str | None]:
        """Each handle the store knows among ``keys``: ``None`` when every actor holding it is
        public, else the pseudonym of the first private one."""
        if not keys:
            return {}
        with _registered(self.store, keys=pa.table({"key": sorted(keys)})) as v:
            rows = self.store.con.execute(f"""
                SELECT key, list(DISTINCT actor_id ORDER BY actor_id) FROM (
                    SELECT lower(replace(ltrim(handle, '@'), ' ', '')) AS key, actor_id
                      FROM actors WHERE handle IS NOT NULL)
                 WHERE key IN (SELECT key FROM {v['keys']}) GROUP BY key""").fetchall()
        public = self.public(a for _, ids in rows for a in ids)
        out: dict[str, str | None] = {}
        for key, ids in rows:
            private = [a for a in ids if a not in public]
            out[key] = self.pseudonym(private[0]) if private else None
        return out

    def summary(self) -> dict[str, Any]:
        """The disclosure used and how many private individuals were shown as pseudonyms."""
        return {**self.disclosure.as_dict(), "pseudonymised": len(self.pseudonymised)}

    def note(self) -> str | None:
        """One sentence for the top of an output: what it shows of private individuals."""
        d = self.disclosure
        if d.show_private:
            return ("Shown with --show-private: the handles and ids of private individuals appear as "
                    "the store holds them.")
        n = len(self.pseudonymised)
        if not n and not self.mentions:
            return None
        who = f"{n:,} private individual{'s' if n != 1 else ''}"
        return (f"Handles of {who} (reach under {d.public_reach:,}) are shown as anon-… pseudonyms, "
                "and so are @-mentions of private individuals in the texts quoted; --show-private "
                "shows them.")


def public_actors(store: Store, ids: Sequence[str], public_reach: int = PUBLIC_REACH) -> set[str]:
    """The public actors among ``ids``: verified, or with a reach of at least ``public_reach``.

    Reach is the larger of the followers the store holds and the number of distinct other actors
    who paid attention to the actor (the ``interactions`` view). Actors of the ``email`` platform
    are never public: their ids and handles are addresses. One query, over the ``ids`` asked only.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Actor, Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie(f"t:{i}", "x", f"x:{i}", "x:star", "mention")
    ...                                 for i in range(3)]))
    ...     sorted(public_actors(store, ["x:star", "x:0"], public_reach=3))
    ['x:star']
    """
    if not len(ids):
        return set()
    with _registered(store, ids=pa.table({"id": pa.array(list(ids), pa.string())})) as v:
        rows = store.con.execute(f"""
            WITH asked AS (SELECT DISTINCT id FROM {v['ids']}),
            profile AS (
                SELECT actor_id, max(followers) AS followers, bool_or(verified) AS verified,
                       bool_or(platform = 'email') AS email
                  FROM actors WHERE actor_id IN (SELECT id FROM asked) GROUP BY actor_id),
            attention AS (
                SELECT target, count(DISTINCT source) AS people FROM interactions
                 WHERE target IN (SELECT id FROM asked) AND source <> target GROUP BY target)
            SELECT asked.id FROM asked
              LEFT JOIN profile p ON p.actor_id = asked.id
              LEFT JOIN attention a ON a.target = asked.id
             WHERE NOT coalesce(p.email, asked.id LIKE 'email:%')
               AND (coalesce(p.verified, false)
                    OR greatest(coalesce(p.followers, 0), coalesce(a.people, 0)) >= ?)""",
            [int(public_reach)]).fetchall()
    return {r[0] for r in rows}


def _keys(m: re.Match) -> list[tuple[str, str]]:
    """The handles (lower case) a mention may stand for, the most specific first, each with what
    follows it in the mention ("'s" when the mention is a possessive)."""
    if m.group("email"):
        return []
    raw = m.group("at") or m.group("user")
    name = raw.lower()
    if m.group("host"):
        return [(f"{name}@{m.group('host').lower()}", ""), (name, "")]
    keys = [(name, "")]
    if len(name) > 2 and _POSSESSIVE.search(name):
        keys.append((name[:-2], raw[-2:]))
    return keys


@contextmanager
def _registered(store: Store, **tables: pa.Table) -> Iterator[dict[str, str]]:
    """Arrow tables as uniquely named views of the store's connection, for one query."""
    names: dict[str, str] = {}
    try:
        for key, table in tables.items():
            names[key] = f"_whuffie_disclosure_{key}_{next(_views)}"
            store.con.register(names[key], table)
        yield names
    finally:
        for name in names.values():
            store.con.unregister(name)
