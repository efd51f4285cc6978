"""Text helpers shared by readers: HTML to plain text, links, hashtags, mentions.

Mastodon statuses, Discourse posts, feed entries and Stack Exchange bodies
arrive as HTML; readers store plain text (what people read) and take links
from the ``href`` attributes (what the HTML points at).
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_WS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCKS = {"p", "div", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
           "ul", "ol", "table", "hr"}
# A tag has at least one letter (not "#1"), and "###" (a markdown header) is not a tag.
HASHTAG = re.compile(r"(?<![\w&/#])#(?!\d+\b)(\w{1,139})", re.UNICODE)
URL = re.compile(r"https?://[^\s<>\"'\]\)]+", re.IGNORECASE)


def _fragments(html: str):
    try:
        return lxml.html.fragments_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def html_to_text(html: str | None) -> str | None:
    """Plain text of an HTML fragment, paragraphs kept as line breaks.

    Invisible spans (Mastodon's ``<span class="invisible">`` around long URLs)
    are kept, so URLs stay whole. Script and style content is dropped.

    Examples
    --------
    >>> html_to_text('<p>Hello <a href="https://x.org">@bob</a></p><p>Bye&amp;co</p>')
    'Hello @bob\\nBye&co'
    >>> html_to_text("plain text") is not None
    True
    """
    if html is None:
        return None
    if "<" not in html and "&" not in html:
        return html.strip()
    parts: list[str] = []
    frags = _fragments(html)
    if frags is None:
        return html.strip()

    def walk(node) -> None:
        if isinstance(node, str):
            parts.append(node)
            return
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("script", "style"):
            if node.tail:
                parts.append(node.tail)
            return
        if tag in _BLOCKS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCKS:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    for f in frags:
        walk(f)
    text = "".join(parts)
    text = "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip()


def html_links(html: str | None) -> list[str]:
    """The absolute ``http(s)`` hrefs of an HTML fragment, in order, without repeats.

    Examples
    --------
    >>> html_links('<a href="https://a.org/x">a</a> <a href="/rel">r</a> <a href="https://a.org/x">again</a>')
    ['https://a.org/x']
    """
    if not html or "href" not in html:
        return []
    frags = _fragments(html)
    if frags is None:
        return []
    seen: dict[str, None] = {}
    for f in frags:
        if isinstance(f, str):
            continue
        for a in f.iter("a"):
            href = (a.get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")):
                seen.setdefault(href, None)
    return list(seen)


def hashtags(text: str | None) -> list[str]:
    """Hashtags in plain text, lower-cased, without ``#``, without repeats.

    Examples
    --------
    >>> hashtags("Loving #Python and #python, not a#tag, #Zoë! ###Header, item #2, #2024goals")
    ['python', 'zoë', '2024goals']
    """
    if not text or "#" not in text:
        return []
    return list(dict.fromkeys(m.lower() for m in HASHTAG.findall(text)))


def urls(text: str | None) -> list[str]:
    """``http(s)`` URLs in plain text, trailing punctuation removed.

    Examples
    --------
    >>> urls("see https://example.org/a, and http://b.net.")
    ['https://example.org/a', 'http://b.net']
    """
    if not text or "http" not in text:
        return []
    return list(dict.fromkeys(u.rstrip(".,;:!?") for u in URL.findall(text)))
