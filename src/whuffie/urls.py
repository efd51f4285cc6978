"""How every reader's links are stored: as written, and normalised to count each page and site once.

What is kept
------------
People write the same page many ways: ``https://youtu.be/ID`` and
``https://www.youtube.com/watch?v=ID&feature=share``, ``mobile.twitter.com/User/status/1`` and
``twitter.com/user/status/1?s=20``, an article with and without ``?utm_source=...``. Every link is
stored as written (``links.url``) and, beside it:

* ``normalized_url``, the page's canonical address: no scheme, user or default port; the host in
  lower case and international names in their own script (``café.fr``), without ``www.``,
  ``m.``, ``mobile.`` or ``amp`` subdomain; no tracking parameter (``utm_*``, ``fbclid``,
  ``gclid``, ``igshid``, ``ref``, YouTube's ``si`` and ``feature``...); no fragment that is not a
  route (``#comments`` goes, ``#!/path`` stays), trailing slash, ``index.html`` or ``./``; the
  query's parameters sorted; characters written escaped or not written once (``%27`` and ``'``,
  ``%C3%A9`` and ``é``; spaces, ``/`` and the query's ``&``, ``=`` and ``+`` stay escaped); an
  address that carries its target in its query (Google's ``/url?q=``, Facebook's
  ``l.php?u=``, Outlook's safelinks ``?url=``, share dialogs) replaced by that target; a YouTube
  video as ``youtube.com/watch?v=ID``, whether written ``youtu.be/ID``, ``/shorts/ID``,
  ``/embed/ID``, on ``m.youtube.com`` or with a playlist; a Facebook post read on the mobile site
  (``story.php``) as its ``permalink.php`` page; a tweet as ``twitter.com/i/status/ID``, its photo
  and video pages included (Twitter ignores the screen name in a tweet's address, which changes
  when an account is renamed); a profile as ``twitter.com/`` and the screen name in lower case;
  ``x.com`` as ``twitter.com``. The path keeps its case: YouTube ids and most paths are
  case-sensitive. A link that is not a web address (``mailto:``, ``ftp:``...), that cannot be
  read or that names no page (``youtu.be/`` without a video) is kept as written.
* ``domain``, the registered domain of the normalised address, by the public suffix list bundled
  with Whuffie's dependencies (nothing is downloaded): ``youtube.com`` for a ``youtu.be`` link,
  ``bbc.co.uk`` for ``www.bbc.co.uk``, ``wikipedia.org`` for ``en.wikipedia.org``, but
  ``foo.blogspot.com`` for a Blogger blog; else the host (an IP address, ``localhost``); empty
  for a link that is not a web address.

Where it counts
---------------
The link chains of cascades (a message linking to the page of an earlier message is its child)
compare the link's normalised address with the message's own address, normalised the same way.
A store written before schema version 4 gains both columns, for the links it holds, the first
time it is opened for writing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

import idna
import pyarrow as pa
import pyarrow.compute as pc
import tldextract
from courlan.clean import clean_query
from url_normalize import url_normalize

# Libraries do the general work: url-normalize (MIT) the RFC 3986 normalisation (case, percent-encoding,
# dot segments, empty segments and parameters, default ports), courlan (Apache-2.0) the list of
# tracking parameters, tldextract (BSD-3) the public suffix list, idna (BSD-3) the international
# names. What none of them knows is written here, each rule with its reason: the platforms' addresses,
# the redirections, the subdomains and index files that serve the same page. Normalising costs about
# 110 µs of CPU an address (measured on the real links of the test data), so columns are normalised
# once per distinct address (normalize_many) and addresses are remembered across calls (retweets
# repeat links).

#: Schemes of the addresses normalised; others (``mailto:``, ``ftp:``...) are kept as written.
WEB_SCHEMES = ("http", "https")

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# The public suffix list bundled with tldextract, never a download (tldextract fetches the list by
# default): no suffix_list_urls, no cache directory. Private suffixes count, so that each Blogger or
# GitHub Pages site is its own domain (foo.blogspot.com).
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)

# Subdomains that serve the same pages as the site itself (www2., the mobile and AMP versions); by hand
# because no library strips them. Only labels left of the public suffix are dropped, and never the last
# one left of a one-label suffix: m.com stays, en.m.wikipedia.org and www.gov.uk lose theirs.
_SAME_SITE = re.compile(r"^(?:www\d*|m|mobile|amp)$")

# courlan's tracker list (utm_*, fbclid, gclid, igshid, mc_*, ref, ex_cid...) matches parts of names;
# uid and cid are also how sites name a document or a comment (docview?uid=, comments.pl?cid=), so
# they stay. Missing from it: YouTube's share id and origin, Facebook's share id and origin.
_NOT_TRACKING = frozenset({"uid", "cid"})
_SHARE_PARAMS = frozenset({"si", "feature", "mibextid", "pnref"})

# Query parameters whose value is the address a page redirects to: Google's /url?q=, Facebook's
# l.php?u=, Outlook's safelinks ?url=, share dialogs. By hand: courlan's scrub_url only finds targets
# written unencoded. ``q`` is a search query elsewhere, so it counts only on a /url path.
_REDIRECT_PARAMS = frozenset({"u", "url", "redirect", "redirect_to", "redirect_uri", "target", "goto"})
_TARGET = re.compile(r"^https?://[^/?#\s]", re.IGNORECASE)
_REDIRECT_HOPS = 3

# A folder's index file is the folder's page (by hand: url-normalize keeps paths as written).
_INDEX = re.compile(r"/(?:index|default)\.(?:s?html?|php\d?|aspx?|jsp|cgi)$", re.IGNORECASE)

# url-normalize's readable form (url_humanize) costs about 600 µs an address (it normalises the address
# again for each part it decodes), so the address is made readable here, as an IRI (RFC 3987, 3.2):
# the UTF-8 of printable characters decoded; in the path also the delimiters a path may hold as they
# are ("(", "'", ":"...), which people and clients write both ways. url-normalize has already decoded
# the query's, and keeps "&", "=", "+", "/", "?", "#", "%" and spaces encoded where they were.
_ESCAPES = re.compile(r"(?:%[0-9A-F]{2})+")
#: An address url-normalize leaves as it is: lower-case host, no port, path segments that are
#: neither empty nor dot segments, no escapes, a query of plain pieces.
_PLAIN = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?"
                    r"(?:\?[A-Za-z0-9._~-]+(?:=[A-Za-z0-9._~-]*)?(?:&[A-Za-z0-9._~-]+(?:=[A-Za-z0-9._~-]*)?)*)?")
_PATH_DELIMITERS = frozenset("!$&'()*+,;=:@")

# YouTube videos, by hand: no permissive library knows them. A video's id is 11 characters; it is
# written youtu.be/ID, youtube.com/watch?v=ID (also m., music. and with share parameters), /shorts/ID,
# /embed/ID (also on youtube-nocookie.com), /v/ID or /live/ID.
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIDEO_PATH = re.compile(r"^/(?:shorts|embed|v|live|e)/([A-Za-z0-9_-]{11})(?:/|$)")
_YOUTUBE = frozenset({"youtube.com", "music.youtube.com", "youtube-nocookie.com"})

# Tweets and profiles, by hand: no permissive library knows Twitter's addresses. Matched on the
# normalised address (host in lower case, without www., m. or mobile.). What follows a tweet's id
# (/photo/1, /video/1, /likes, ?s=20&t=...) is a view of that tweet or a share token; the old "#!/"
# routes are kept by the normalisation and read here. A profile's screen name is case-insensitive;
# the names of Twitter's own pages are not screen names.
_SITE = r"^(?:twitter|x)\.com(?:/#!/|#!/|/)"
_TWEET = re.compile(_SITE + r"(?:@?[A-Za-z0-9_]+|i(?:/web)?)/status(?:es)?/(\d+)(?:[/?#]|$)")
_PROFILE = re.compile(_SITE + r"@?([A-Za-z0-9_]{1,15})(?:[?#].*)?$")
_X_HOST = re.compile(r"^x\.com(?=[/?#]|$)")
_TWITTER_PAGES = frozenset({"explore", "hashtag", "home", "i", "intent", "login", "messages",
                            "notifications", "search", "settings", "share", "signup", "tos", "privacy"})


def _twitter(normalized: str) -> str:
    """Tweets by id, profiles by lower-case screen name, ``x.com`` as ``twitter.com``."""
    tweet = _TWEET.match(normalized)
    if tweet:
        return f"twitter.com/i/status/{tweet[1]}"
    profile = _PROFILE.match(normalized)
    if profile and profile[1].lower() not in _TWITTER_PAGES:
        return f"twitter.com/{profile[1].lower()}"
    return _X_HOST.sub("twitter.com", normalized)


def _redirect(path: str, query: str) -> str | None:
    """The target of an address that names its redirection in its query, else None."""
    for key, value in parse_qsl(query):
        key = key.lower()
        if (key in _REDIRECT_PARAMS or (key == "q" and path == "/url")) and _TARGET.match(value):
            return value.strip()
    return None


def _unicode_label(label: str) -> str:
    """An international label in its own script (``xn--caf-dma`` is ``café``), else as written."""
    if not label.startswith("xn--"):
        return label
    try:
        return idna.decode(label)
    except idna.IDNAError:  # not a valid international label: as written, it still names one host
        return label


@lru_cache(maxsize=1 << 14)
def _unicode_host(host: str) -> str:
    """The host in lower case, without the final dot, its international labels decoded."""
    return ".".join(_unicode_label(label) for label in host.lower().rstrip(".").split("."))


@lru_cache(maxsize=1 << 14)
def _site(host: str) -> tuple[str, str]:
    """The host without its same-site subdomains, and its registered domain (else the host)."""
    found = _SUFFIXES(host)
    if not found.suffix or not found.domain:  # an IP address, localhost, an unknown suffix
        return host, host
    labels = [label for label in (*found.subdomain.split("."), found.domain) if label]
    kept = [label for label in labels if not _SAME_SITE.match(label)]
    if not kept and "." not in found.suffix:  # m.com is a site, www.gov.uk is gov.uk
        kept = labels[-1:]
    return ".".join([*kept, found.suffix]), ".".join([*kept[-1:], found.suffix])


def _video(host: str, path: str, query: str) -> str | None:
    """The id of the YouTube video an address shows, else None."""
    if host == "youtu.be":
        video = path.strip("/").split("/")[0]
    elif host in _YOUTUBE and path.rstrip("/") == "/watch":
        video = dict(parse_qsl(query)).get("v", "")
    elif host in _YOUTUBE:
        found = _VIDEO_PATH.match(path)
        video = found[1] if found else ""
    else:
        return None
    return video if _VIDEO_ID.match(video) else None


@lru_cache(maxsize=1 << 12)
def _tracking(key: str) -> bool:
    """Whether a query parameter only tells where a link was shared from."""
    if key in _SHARE_PARAMS:
        return True
    return key not in _NOT_TRACKING and not clean_query(f"{quote(key, safe='')}=1")


def _query(query: str, keep: frozenset[str] | None = None) -> str:
    """The parameters as written without the tracking ones (or only those in ``keep``), sorted."""
    query = query.replace("&amp;", "&")  # an address copied from HTML with its separators escaped
    pieces = [(unquote_plus(piece.partition("=")[0]).lower(), piece) for piece in query.split("&") if piece]
    kept = [p for p in pieces if (p[0] in keep if keep is not None else not _tracking(p[0]))]
    return "&".join(piece for _, piece in sorted(kept))


def _readable(component: str, keep: frozenset[str] = frozenset()) -> str:
    """``component`` with its escaped printable characters (and those in ``keep``) decoded."""
    def decode(escaped: re.Match) -> str:
        try:
            text = bytes.fromhex(escaped[0].replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            return escaped[0]
        return "".join(c if c in keep or (c > "\x7f" and c.isprintable() and not c.isspace())
                       else quote(c, safe="") for c in text)
    return _ESCAPES.sub(decode, component)


def _address(written: str, has_scheme: bool) -> tuple[str, str] | None:
    """The canonical address and registered domain of a web address, None if it names no page.

    Raises ValueError (urllib, url-normalize) for an address that cannot be read.
    """
    parts = urlsplit(written if has_scheme else "http://" + written.lstrip("/"))
    for _ in range(_REDIRECT_HOPS):
        target = _redirect(parts.path, parts.query)
        if target is None:
            break
        parts = urlsplit(target)
    if not parts.hostname:
        return None
    scheme, port = parts.scheme.lower(), parts.port  # a port that is not a number raises ValueError
    host, domain = _site(_unicode_host(parts.hostname))
    path, query = parts.path, parts.query
    if host == "fb.me":  # Facebook's short addresses keep the path: fb.me/page is facebook.com/page
        host = domain = "facebook.com"
    video = _video(host, path, query)
    if video:
        return f"youtube.com/watch?v={video}", "youtube.com"
    if host == "youtu.be":  # a youtu.be address without a video names no page
        return None
    if domain == "facebook.com" and path in ("/story.php", "/permalink.php"):
        # A post read on the mobile site (story.php) is its permalink page; its other parameters say
        # how it was reached.
        path, query = "/permalink.php", _query(query, keep=frozenset({"story_fbid", "id"}))
    else:
        query = _query(query)
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    rebuilt = urlunsplit((scheme, netloc, path, query, ""))
    # url-normalize takes 0.1 ms an address (most of normalize()); on an address already in its
    # normal form (no escapes, dot segments, empty segments or port) it changes nothing that is
    # kept below, so it is skipped (tests/test_urls.py checks both agree).
    normalized = urlsplit(rebuilt if _PLAIN.fullmatch(rebuilt) else url_normalize(rebuilt))
    path = _readable(_INDEX.sub("", normalized.path).rstrip("/"), _PATH_DELIMITERS)
    address = netloc + path + (f"?{_readable(normalized.query)}" if normalized.query else "")
    # A fragment is a place in the page, unless it is a route of a one-page site ("#!/path", "#/path").
    if parts.fragment.startswith(("!", "/")) and parts.fragment not in ("!", "/", "!/"):
        address += f"#{parts.fragment}"
    if domain in ("twitter.com", "x.com"):
        address = _twitter(address)
        domain = "twitter.com" if address.startswith("twitter.com") else domain
    return address, domain


@lru_cache(maxsize=1 << 16)
def normalize(url: str) -> tuple[str, str | None]:
    """The canonical address of ``url`` and its registered domain.

    Parameters
    ----------
    url : str
        An address as written.

    Returns
    -------
    (normalized_url, domain) : tuple
        See the module documentation; ``domain`` is ``None`` when the address has no host.

    Examples
    --------
    >>> normalize("https://youtu.be/dQw4w9WgXcQ")
    ('youtube.com/watch?v=dQw4w9WgXcQ', 'youtube.com')
    >>> normalize("https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share")
    ('youtube.com/watch?v=dQw4w9WgXcQ', 'youtube.com')
    >>> normalize("https://mobile.twitter.com/BBCNews/status/1440707466560516096/photo/1")
    ('twitter.com/i/status/1440707466560516096', 'twitter.com')
    >>> normalize("https://x.com/BBCNews?lang=en")
    ('twitter.com/bbcnews', 'twitter.com')
    >>> normalize("http://www.example.co.uk/a/?utm_source=feed&id=2#comments")
    ('example.co.uk/a?id=2', 'example.co.uk')
    >>> normalize("mailto:someone@example.com")
    ('mailto:someone@example.com', None)
    """
    written = url.strip()
    scheme = _SCHEME.match(written)
    if scheme and scheme[1].lower() not in WEB_SCHEMES:
        return written, None
    try:
        found = _address(written, scheme is not None)
    except ValueError:
        # An address that cannot be read (a port that is not a number, a bad IPv6 address, a host
        # that is not a valid name) merges with no other, so it stays as written.
        return written, None
    return found if found else (written, None)


def normalize_many(urls: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """:func:`normalize` over a column: the normalised addresses and the domains, nulls kept.

    Each distinct address is normalised once.

    Examples
    --------
    >>> normalized, domains = normalize_many(["https://youtu.be/dQw4w9WgXcQ", None,
    ...                                       "https://youtu.be/dQw4w9WgXcQ"])
    >>> normalized.to_pylist()
    ['youtube.com/watch?v=dQw4w9WgXcQ', None, 'youtube.com/watch?v=dQw4w9WgXcQ']
    >>> domains.to_pylist()
    ['youtube.com', None, 'youtube.com']
    """
    column = urls if isinstance(urls, pa.Array | pa.ChunkedArray) else pa.array(list(urls), pa.string())
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column.cast(pa.string()))
    pairs = [normalize(u) for u in encoded.dictionary.to_pylist()]
    normalized = pa.array([p[0] for p in pairs], pa.string())
    domains = pa.array([p[1] for p in pairs], pa.string())
    return pc.take(normalized, encoded.indices), pc.take(domains, encoded.indices)
