"""Pseudonymisation on ingest: keyed hashes for people, masks for what texts reveal.

``whuffie ingest --pseudonymise KEYFILE`` (``store.ingest(..., pseudonymise=KEYFILE)``) rewrites
every batch of canonical records before it reaches the store (:meth:`Pseudonymiser.tables`):

* actor ids become ``platform:a<hex>``, message ids (and the replies, reshares, quotes and threads
  pointing at them) ``platform:m<hex>``, rating and tie ids ``platform:r<hex>``: HMAC-SHA256 of the
  original under the user's key, so the same key gives the same pseudonyms across imports and
  overlapping exports still merge, and without the key nothing maps back;
* handles become ``u_<hex>`` (a Mastodon handle keeps its instance: ``u_<hex>@instance``) and
  display names ``n_<hex>``; a profile's address is dropped and its description masked;
* in texts, titles and descriptions, ``@handle`` (and Reddit's ``u/name``) becomes the pseudonym
  of that handle, so a mention in a text matches the mentioned actor's pseudonymised handle;
  e-mail addresses become ``[email]`` and phone numbers ``[phone]``;
* addresses of people and their posts on social platforms (a tweet, a profile, a toot, a Bluesky
  post, a Telegram or Reddit permalink) become ``https://host/~<hex>``, the same for the message's
  own address and for every link to it, so cascades still follow links; other addresses keep
  their page but lose query parameters that name a person (``email=``, ``user=``, ``token=``...),
  and keep campaign parameters (``utm_*``, ``ref``);
* of the sources' other fields (``extra``) only those that describe no one are kept
  (:data:`KEPT_EXTRA`); quarantined records keep their file, line and reason (masked) but not their
  raw excerpt.

Sites (platform ``web``: feeds and blogs, known by their address) are publications: their
address is the identity every link to them repeats, so they are kept as they are.

The key is 32 random bytes in a file the user keeps (:func:`load_key` creates it). A store
remembers the key's fingerprint (``meta.pseudonymised``): a later import without the key, or with
another key, is refused, and so is pseudonymising into a store that already holds plain records.
A pseudonym is not anonymity: times, texts and the shape of the network can still point at a
person (``docs/privacy.md``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import phonenumbers
import pyarrow as pa

from whuffie.errors import WhuffieError
from whuffie.privacy import EMAIL_MASK
from whuffie.urls import normalize, normalize_many

if TYPE_CHECKING:
    from whuffie.store.writer import Tables

#: Hex digits of a pseudonym: 64 bits, so ten million actors share one by chance with a probability
#: under 3 in a million.
DIGITS = 16

#: Fields of the sources' ``extra`` kept in a pseudonymised store: they describe a message or an
#: account, never who it is (labels, flags, counts, the client app, dates). Every other field (an
#: author's name, a place, coordinates, a profile address, media addresses) is dropped.
KEPT_EXTRA = frozenset({
    "label", "subreddit", "subreddit_id", "controversiality", "gilded", "removed", "possibly_sensitive",
    "source", "visibility", "sensitive", "lang", "protected", "bot", "locked", "group", "discoverable",
    "score", "readers_count", "category_id", "post_type", "action_code", "reactions", "indexed_at",
    "last_status_at", "listed_count", "edited", "edited_at", "grouped_id", "quote_state",
    "original_created_at", "withheld", "country_code",
})

#: Query parameters that name or reach a person (and are dropped from addresses).
PERSONAL_PARAMS = frozenset({
    "email", "e", "mail", "emailaddress", "email_address", "user", "username", "user_name", "uid",
    "user_id", "userid", "name", "fullname", "full_name", "first_name", "firstname", "last_name",
    "lastname", "phone", "tel", "mobile", "address", "token", "access_token", "auth", "key", "api_key",
    "apikey", "session", "sessionid", "session_id", "sid", "login", "password", "pwd", "pass",
    "fbclid", "gclid", "mc_eid", "_hsenc", "igshid", "si", "recipient", "subscriber", "member",
})

# Hosts whose addresses point at a person or at one of their posts (matched on the normalised
# address: lower-case host without www., m. or mobile.; see whuffie.urls), by hand: no library
# lists them. Any host's /@name, /users/name, /u/name and /profile/name paths (Mastodon, Medium,
# Discourse, forums) are people too.
_SOCIAL = re.compile(
    r"^(?:twitter\.com|x\.com|bsky\.app|t\.me|telegram\.me|facebook\.com|fb\.com|instagram\.com|"
    r"threads\.net|tiktok\.com|linkedin\.com/in|github\.com/|gist\.github\.com/|gitlab\.com/|"
    r"youtube\.com/(?:@|channel/|user/|c/)|"
    r"reddit\.com/(?:u|user|r/[^/]+/comments)/|old\.reddit\.com/|[^/]+/(?:@|users/|u/|profile/))",
    re.IGNORECASE)

# The quick test before normalising an address (most are not people's): its host, one of www.,
# m. or mobile. aside, is one of the hosts above, or its path holds one of the people's paths.
_SOCIAL_HOSTS = frozenset({
    "twitter.com", "x.com", "bsky.app", "t.me", "telegram.me", "facebook.com", "fb.com", "instagram.com",
    "threads.net", "tiktok.com", "linkedin.com", "github.com", "gist.github.com", "gitlab.com",
    "youtube.com", "reddit.com", "old.reddit.com"})
_HOST_PATH = re.compile(r"^\s*https?://(?:[^@/?#]*@)?(?:www\d*\.|m\.|mobile\.)?([^/?#:]+)([^?#]*)",
                        re.IGNORECASE)
_PEOPLE_PATH = re.compile(r"/(?:@|users/|u/|profile/)", re.IGNORECASE)

# A handle as written in a text: @name (Twitter, Telegram, Bluesky's dotted names; also ".@name",
# "w/@name" and "from@name"), @name@instance (Mastodon), u/name and /u/name (Reddit). Addresses and
# e-mail addresses are masked before handles are looked for.
MENTION = re.compile(
    r"(?<!@)@([A-Za-z0-9_](?:[\w.\-]*\w)?)(@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?"
    r"|(?<![\w/])(/?u/)([A-Za-z0-9_\-]{3,20})\b")
_EMAIL = re.compile(r"(?<![\w@.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_URL = re.compile(r"https?://[^\s<>\"'\])}]+", re.IGNORECASE)
# Digits in a row that could be a phone number (phonenumbers then decides): eight digits or more,
# with spaces, dots, dashes or brackets between them.
_PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s().\-]{6,}\d")
_PHONE_REGIONS = ("US", "FR", "GB", "DE")
#: Anything that may need masking in a text: the cheap test before the full passes.
_MASKABLE = re.compile(r"@|u/|https?://|\d{3}", re.IGNORECASE)
# A word of a text or a name (handles hold digits and underscores); a handle worth looking for.
WORD = re.compile(r"[^\W_](?:\w*[^\W_])?")
# An id quoted in a quarantine reason: platform:native.
_ID_IN_TEXT = re.compile(r"\b[a-z][a-z0-9\-]*:(?!//)[^\s,;'\")]+")


def load_key(path: str | os.PathLike, create: bool = True) -> bytes:
    """The key in ``path``; with ``create``, a new random key written there if the file is missing.

    The file holds 64 hex digits (32 random bytes); a new one is readable by its owner only.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "whuffie.key")
    >>> key = load_key(path)
    >>> len(key), load_key(path) == key, oct(os.stat(path).st_mode & 0o777)
    (32, True, '0o600')
    """
    file = Path(path)
    if not file.exists():
        if not create:
            raise WhuffieError(f"no key file {file}")
        if file.parent and not file.parent.exists():
            raise WhuffieError(f"cannot create key file {file}: folder {file.parent} does not exist")
        key = secrets.token_bytes(32)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex() + "\n")
        return key
    try:
        if not file.is_file() or file.stat().st_size > 4096:
            raise ValueError("not a small regular file")
        text = file.read_text("ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WhuffieError(f"{file} is not a Whuffie key file (64 hex digits): {exc}") from exc
    if len(key) < 16:
        raise WhuffieError(f"{file} holds a key of {len(key)} bytes; a key has at least 16")
    return key


class Pseudonymiser:
    """Keyed pseudonyms and masks for one key.

    Parameters
    ----------
    key : bytes
        The user's secret key (see :func:`load_key`).

    Examples
    --------
    >>> p = Pseudonymiser(b"k" * 32)
    >>> p.actor("twitter:12")
    'twitter:a56516ab07e0408d0'
    >>> p.handle("twitter", "Alice") == p.handle("twitter", "alice")
    True
    >>> p.text("twitter", "@Alice mail me at a.b@example.org")  # doctest: +ELLIPSIS
    '@u_... mail me at [email]'
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise WhuffieError("a pseudonymisation key has at least 16 bytes")
        self._key = key
        self._cache: dict[tuple[str, str], str] = {}

    @property
    def key(self) -> bytes:
        """The key (handed to the ingest workers, which pseudonymise what they map)."""
        return self._key

    @property
    def fingerprint(self) -> str:
        """What the store keeps of the key: enough to tell it from another key, not to use it."""
        return self._hash("fingerprint", "whuffie")

    def _hash(self, purpose: str, value: str) -> str:
        found = self._cache.get((purpose, value))
        if found is None:
            found = hmac.new(self._key, f"{purpose}\0{value}".encode("utf-8", "surrogatepass"),
                             hashlib.sha256).hexdigest()[:DIGITS]
            if len(self._cache) > 1_000_000:
                self._cache.clear()
            self._cache[(purpose, value)] = found
        return found

    # -- identifiers -----------------------------------------------------------------------

    def _id(self, letter: str, value: str | None) -> str | None:
        if value is None:
            return None
        platform = value.split(":", 1)[0] if ":" in value else "x"
        if platform == "web" and letter == "a":
            return value  # sites are publications (see the module documentation)
        return f"{platform}:{letter}{self._hash(letter, value)}"

    def actor(self, value: str | None) -> str | None:
        """The pseudonym of an actor id (``platform:a<hex>``)."""
        return self._id("a", value)

    def message(self, value: str | None) -> str | None:
        """The pseudonym of a message id (``platform:m<hex>``)."""
        if value is not None and value.startswith("web:"):
            return value  # a site's entries are its public pages
        return self._id("m", value)

    def record(self, value: str | None) -> str | None:
        """The pseudonym of a rating or tie id (``platform:r<hex>``)."""
        return self._id("r", value)

    def handle(self, platform: str, handle: str | None) -> str | None:
        """The pseudonym of a handle: case does not count; a Mastodon instance is kept."""
        if handle is None or platform == "web":
            return handle
        bare = handle.lstrip("@")
        local, at, instance = bare.partition("@")
        return f"u_{self._hash('h', f'{platform}:{local.lower()}')}" + (f"@{instance.lower()}" if at else "")

    def name(self, platform: str, name: str | None) -> str | None:
        """The pseudonym of a display name (``n_<hex>``): equal names stay equal."""
        if name is None or platform == "web":
            return name
        return f"n_{self._hash('n', f'{platform}:{name.strip()}')}"

    # -- texts and addresses ---------------------------------------------------------------

    def url(self, url: str | None) -> str | None:
        """An address without the person in it (see the module documentation)."""
        if url is None:
            return None
        quick = _HOST_PATH.match(url)
        if quick and quick[1].lower().rstrip(".") not in _SOCIAL_HOSTS and not _PEOPLE_PATH.search(quick[2]):
            return _strip_personal_query(url)
        normalized, domain = normalize(url)
        if domain is not None and _SOCIAL.match(normalized):
            host = normalized.split("/", 1)[0]
            return f"https://{host}/~{self._hash('u', normalized)}"
        return _strip_personal_query(url)

    def text(self, platform: str, text: str | None, known: Known | None = None) -> str | None:
        """A text with handles pseudonymised, e-mail addresses and phone numbers masked, and the
        addresses of people rewritten (:meth:`url`); with ``known``, also the handles and names of
        the batch's actors written as plain words (see :class:`Known`)."""
        if not text:
            return text
        if _MASKABLE.search(text):
            text = _URL.sub(lambda m: self.url(m[0]) or "", text)
            text = _EMAIL.sub(EMAIL_MASK, text)
            text = MENTION.sub(lambda m: self._mention(platform, m), text)
            text = mask_phones(text)
        return known.replace(text) if known else text

    def known(self, actors: pa.Table | None) -> Known:
        """The handles and names of a batch's actors, to find written as plain words in its texts."""
        words: dict[str, str] = {}
        if actors is None:
            return Known(words)
        common = common_words()
        for platform, handle, name in zip(*(actors.column(c).to_pylist()
                                            for c in ("platform", "handle", "name")), strict=True):
            if platform == "web":
                continue
            if handle:
                local = handle.lstrip("@").split("@", 1)[0]
                if len(local) >= 3 and local.lower() not in common and WORD.fullmatch(local):
                    words.setdefault(local.lower(), self.handle(platform, local))
            if name:
                tokens = WORD.findall(name)
                if 1 < len(tokens) <= Known.LONGEST or (
                        len(tokens) == 1 and len(name.strip()) >= 4 and name.strip().lower() not in common):
                    words.setdefault(" ".join(t.lower() for t in tokens), self.name(platform, name))
        return Known(words)

    def path(self, path: str) -> str:
        """A file's path as a pseudonymised store records it: file names often hold a handle
        (``getAuthorFeed_alice.json``), so only the kind of file is kept."""
        suffixes = "".join(s for s in Path(path).suffixes[-2:] if len(s) <= 8 and s[1:].isalnum())
        return f"file-{self._hash('f', path)}{suffixes}"

    def _mention(self, platform: str, m: re.Match) -> str:
        if m[1] is not None:
            instance = m[2] or ""
            return "@" + self.handle(platform, m[1] + instance)
        return m[3] + self.handle(platform, m[4])

    # -- the batch ------------------------------------------------------------------------

    def tables(self, t: Tables) -> Tables:
        """A batch of the writer (:class:`~whuffie.store.writer.Tables`) pseudonymised."""
        known = self.known(t.actors)

        def text(platform: str, value: str) -> str | None:
            return self.text(platform, value, known)

        out = replace(t, profiles=[self.actor(a) for a in t.profiles],
                      quarantine=[self._quarantine(q) for q in t.quarantine], pseudonymised=True)
        if t.actors is not None:
            platforms = t.actors.column("platform").to_pylist()
            out.actors = _mapped(t.actors, {
                "actor_id": self.actor,
                "url": lambda _: None,
                "extra": _kept_extra,
            }, pairs={"handle": (platforms, self.handle), "name": (platforms, self.name),
                      "description": (platforms, text)})
        if t.messages is not None:
            platforms = t.messages.column("platform").to_pylist()
            out.messages = _mapped(t.messages, {
                "message_id": self.message, "actor_id": self.actor, "reply_to": self.message,
                "reshare_of": self.message, "quote_of": self.message, "thread_id": self.message,
                "url": self.url, "extra": _kept_extra,
            }, pairs={"text": (platforms, text), "title": (platforms, text)})
        if t.mentions is not None:
            platforms = [a.split(":", 1)[0] for a in t.mentions.column("actor_id").to_pylist()]
            out.mentions = _mapped(t.mentions, {"message_id": self.message, "actor_id": self.actor},
                                   pairs={"handle": (platforms, self.handle)})
        if t.links is not None:
            links = _mapped(t.links, {"message_id": self.message, "url": self.url,
                                      "target_actor_id": self.actor})
            normalized, domains = normalize_many(links.column("url"))
            links = links.set_column(links.schema.get_field_index("normalized_url"), "normalized_url",
                                     normalized)
            out.links = links.set_column(links.schema.get_field_index("domain"), "domain", domains)
        if t.tags is not None:
            out.tags = _mapped(t.tags, {"message_id": self.message})
        if t.recipients is not None:
            out.recipients = _mapped(t.recipients, {"message_id": self.message, "actor_id": self.actor})
        if t.ratings is not None:
            out.ratings = _mapped(t.ratings, {
                "rating_id": self.record, "rater_id": self.actor, "target_actor_id": self.actor,
                "target_message_id": self.message})
        if t.ties is not None:
            out.ties = _mapped(t.ties, {"tie_id": self.record, "source_id": self.actor,
                                        "target_id": self.actor})
        return out

    def _quarantine(self, row):
        # The raw excerpt of a bad record holds whatever the file held: it is not kept; the reason
        # may quote an id ("time ... of actor bluesky:did:plc:... is implausible").
        reason = _ID_IN_TEXT.sub(lambda m: self.actor(m[0]), row.reason)
        return replace(row, path=self.path(row.path), excerpt="",
                       reason=self.text("", reason) or reason)


class Known:
    """Handles and display names to find written as plain words in texts, each with its pseudonym.

    Handles of three characters or more that are not common words (stop words, sentiment lexicon
    terms: replacing those would change what analyses read) are matched as whole words, any case;
    names as one to :attr:`LONGEST` words in a row.

    Examples
    --------
    >>> Known({"syockel": "u_1", "scott yockel": "n_2"}).replace("As syockel said (Scott  Yockel)")
    'As u_1 said (n_2)'
    """

    #: The most words of a name looked for.
    LONGEST = 4

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words
        #: The first word of every handle and name: the only words worth a closer look.
        self.first = frozenset(key.split(" ", 1)[0] for key in words)

    def __bool__(self) -> bool:
        return bool(self.words)

    def replace(self, text: str) -> str:
        """``text`` with every known handle or name replaced by its pseudonym."""
        tokens = list(WORD.finditer(text))
        if not tokens:
            return text
        words, first, out, last, i = self.words, self.first, [], 0, 0
        lowered = [t[0].lower() for t in tokens]
        while i < len(tokens):
            if lowered[i] not in first:
                i += 1
                continue
            for n in range(min(self.LONGEST, len(tokens) - i), 0, -1):
                found = words.get(" ".join(lowered[i:i + n]))
                if found is not None:
                    start, end = tokens[i].start(), tokens[i + n - 1].end()
                    if inside(text, start, end):
                        continue
                    out += [text[last:start], found]
                    last, i = end, i + n
                    break
            else:
                i += 1
        return "".join([*out, text[last:]]) if out else text


def inside(text: str, start: int, end: int) -> bool:
    """Whether the word ``text[start:end]`` is part of an address, a handle or a longer name
    (``bob`` in ``bob.smith``, ``@bob``, ``bob-jones``): then it is not that word.

    Examples
    --------
    >>> inside("mail bob.smith@x.org", 5, 8), inside("hi bob!", 3, 6)
    (True, False)
    """
    return bool((start and text[start - 1] in "@/.-_#") or (end < len(text) and text[end] in "@-_/")
                or (end + 1 < len(text) and text[end] == "." and text[end + 1].isalnum()))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Stop words and sentiment-lexicon words: handles and names that are such words are left in
    texts (replacing them would change what the analyses read).

    Examples
    --------
    >>> {"the", "love", "génial"} <= common_words(), "syockel" in common_words()
    (True, False)
    """
    from whuffie.voice.buzz import stop_words
    from whuffie.voice.lexicon import words

    return stop_words() | words()


def _mapped(table: pa.Table, functions: dict[str, Callable[[Any], Any]],
            pairs: dict[str, tuple[list[str], Callable[[str, Any], Any]]] | None = None) -> pa.Table:
    """``table`` with each named column passed through its function (``pairs``: a function of the
    row's platform and the value); absent columns are skipped, types kept."""
    for name, fn in functions.items():
        index = table.schema.get_field_index(name)
        if index < 0:
            continue
        field = table.schema.field(index)
        values = [None if v is None else fn(v) for v in table.column(index).to_pylist()]
        table = table.set_column(index, field, pa.array(values, field.type))
    for name, (platforms, fn) in (pairs or {}).items():
        index = table.schema.get_field_index(name)
        if index < 0:
            continue
        field = table.schema.field(index)
        values = [None if v is None else fn(p, v)
                  for p, v in zip(platforms, table.column(index).to_pylist(), strict=True)]
        table = table.set_column(index, field, pa.array(values, field.type))
    return table


def _kept_extra(value: str | None) -> str | None:
    """The fields of an ``extra`` JSON object that describe no one (:data:`KEPT_EXTRA`)."""
    if value is None:
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    kept = {k: v for k, v in data.items() if k in KEPT_EXTRA}
    return orjson.dumps(kept).decode() if kept else None


def _strip_personal_query(url: str) -> str:
    """``url`` without the query parameters that name a person (by name, or an e-mail address or
    phone number as value)."""
    if "?" not in url:
        return url
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url.split("?", 1)[0]
    kept = [(k, v) for k, v in pairs
            if k.lower() not in PERSONAL_PARAMS and not _EMAIL.search(v) and mask_phones(v) == v]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def mask_phones(text: str) -> str:
    """``text`` with the phone numbers ``phonenumbers`` finds in it (international, or national
    in the US, France, the UK or Germany) replaced by ``[phone]``.

    Examples
    --------
    >>> mask_phones("call +33 6 12 34 56 78 or (415) 555-2671 before 2024-05-01")
    'call [phone] or [phone] before 2024-05-01'
    """
    spans: list[tuple[int, int]] = []
    for candidate in _PHONE_LIKE.finditer(text):
        if sum(c.isdigit() for c in candidate[0]) < 8:
            continue
        # The matcher on the stretch of digits only (and a little around it): on whole texts it
        # cost more than the rest of the pseudonymisation together.
        start = max(0, candidate.start() - 2)
        piece = text[start:candidate.end() + 2]
        for region in _PHONE_REGIONS:
            spans += [(start + m.start, start + m.end) for m in phonenumbers.PhoneNumberMatcher(
                piece, region, leniency=phonenumbers.Leniency.VALID)]
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], "[phone]"]
        last = end
    return "".join([*out, text[last:]])


@lru_cache(maxsize=8)
def pseudonymiser(key: bytes) -> Pseudonymiser:
    """One :class:`Pseudonymiser` per key (its cache of pseudonyms is shared by the batches)."""
    return Pseudonymiser(key)
