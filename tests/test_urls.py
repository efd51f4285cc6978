"""Normalised URLs and domains: every link keeps its address as written and gains one canonical
address per page and its registered domain, at ingest and when an older store is migrated."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from whuffie import urls
from whuffie.model import Link, Message, Records
from whuffie.sources.base import host_of
from whuffie.spread.cascades import cascades
from whuffie.store import schema
from whuffie.store.writer import Batch
from whuffie.urls import normalize, normalize_many


@pytest.mark.parametrize(("url", "expected"), [
    # Real addresses from ../shared/data/formats (the file in the comment).
    ("https://youtu.be/4joVXtyn6aA?si=FcvnZn4zpwbL5AU2",  # mastodon tag_ichbinhanna page 4
     ("youtube.com/watch?v=4joVXtyn6aA", "youtube.com")),
    ("https://www.youtube.com/watch?annotation_id=annotation_914366&feature=iv&src_vid=HL2p2ANFlQ4"
     "&v=XdT0lrm4b2s", ("youtube.com/watch?v=XdT0lrm4b2s", "youtube.com")),  # KatieFloyd.rss
    ("https://mobile.twitter.com/clattner_llvm/status/877341760812232704",  # DaringFireball.atom
     ("twitter.com/i/status/877341760812232704", "twitter.com")),
    ("https://twitter.com/ElaineLovesLife/status/1440410581907886089/photo/1",  # twarc2 2sets
     ("twitter.com/i/status/1440410581907886089", "twitter.com")),
    ("https://www.feingeist.io/mailbutler/?utm_source=Katie%20Floyd&utm_medium=Blog"
     "&utm_campaign=Katie%20Floyd%20Snooze", ("feingeist.io/mailbutler", "feingeist.io")),
    ("https://www.gov.uk/.../visiting-the-uk-as-an-eu-eea-or?fbclid=IwAR0P2QYKmo8VVv2LHRFUz8idTaJMYgCiLqVhh"
     "Gfx87JAUBj8Bjp6t8ledgo", ("gov.uk/.../visiting-the-uk-as-an-eu-eea-or", "gov.uk")),  # twarc2
    ("http://www.everyinteraction.com/blog/bad-app-citizens/#update1",  # DaringFireball
     ("everyinteraction.com/blog/bad-app-citizens", "everyinteraction.com")),
    ("https://en.wikipedia.org/wiki/Fargo_(season_3)#Episodes",
     ("en.wikipedia.org/wiki/Fargo_(season_3)", "wikipedia.org")),
    # Path case is kept: YouTube ids and most paths are case-sensitive.
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", ("youtube.com/watch?v=dQw4w9WgXcQ", "youtube.com")),
    ("https://x.com/BBCNews", ("twitter.com/bbcnews", "twitter.com")),
    ("https://twitter.com/i/web/status/1380226330034372610", ("twitter.com/i/status/1380226330034372610",
                                                              "twitter.com")),
    ("https://twitter.com/BBCNews/followers", ("twitter.com/BBCNews/followers", "twitter.com")),
    ("https://twitter.comedy/status/5", ("twitter.comedy/status/5", "twitter.comedy")),  # not Twitter
    ("http://192.168.1.1:8080/admin/", ("192.168.1.1:8080/admin", "192.168.1.1")),
    ("mailto:someone@example.org", ("mailto:someone@example.org", None)),
    ("javascript:void(0)", ("javascript:void(0)", None)),
    # Addresses that cannot be read or name no page are kept as written.
    ("http://example.org:port/a", ("http://example.org:port/a", None)),
    ("http://", ("http://", None)),
    ("https://youtu.be/", ("https://youtu.be/", None)),
    # Every form of a YouTube video is one page: a short (mastodon tag_ichbinhanna page 3), an embedded
    # player (russcox.atom), the privacy-enhanced player, the mobile site.
    ("https://youtube.com/shorts/10bTAEdD9hE?si=7UFqORy7t96eD_aW",
     ("youtube.com/watch?v=10bTAEdD9hE", "youtube.com")),
    ("https://www.youtube.com/embed/dP1xVpMPn8M?rel=0", ("youtube.com/watch?v=dP1xVpMPn8M", "youtube.com")),
    ("https://www.youtube-nocookie.com/embed/dP1xVpMPn8M",
     ("youtube.com/watch?v=dP1xVpMPn8M", "youtube.com")),
    ("https://m.youtube.com/watch?v=dP1xVpMPn8M&t=42s", ("youtube.com/watch?v=dP1xVpMPn8M", "youtube.com")),
    # Redirections are replaced by their target: Outlook's safelinks in a mailing list
    # (3GPP_TSG_SA_WG4_EVS.mbox), Facebook's and Google's.
    ("https://eur01.safelinks.protection.outlook.com/?url=http%3A%2F%2Flist.etsi.org%2Fscripts%2Fwa.exe%3FSUBED1"
     "%3D3GPP_TSG_SA_WG4_EVS%26A%3D1&data=04%7C01%7C%7C25f3fcde4a4946e31c7508d96244811d",
     ("list.etsi.org/scripts/wa.exe?A=1&SUBED1=3GPP_TSG_SA_WG4_EVS", "etsi.org")),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bbc.co.uk%2Fnews%2F%3Ffbclid%3DIwAR0&h=AT0",
     ("bbc.co.uk/news", "bbc.co.uk")),
    ("https://www.google.com/url?q=https://www.bbc.co.uk/news&sa=D", ("bbc.co.uk/news", "bbc.co.uk")),
    ("https://www.google.com/search?q=https://www.bbc.co.uk/news", (
        "google.com/search?q=https://www.bbc.co.uk/news", "google.com")),  # a search, not a redirection
    # A Facebook post read on the mobile site is its permalink (twitter_v1_1 stream_lines.jsonl).
    ("https://m.facebook.com/story.php?story_fbid=335125703645915&id=191155418042945&_rdr",
     ("facebook.com/permalink.php?id=191155418042945&story_fbid=335125703645915", "facebook.com")),
    # Characters written escaped or not are one page (russcox.atom); slashes and spaces stay escaped.
    ("https://en.wikipedia.org/wiki/Schaefer%27s_dichotomy_theorem",
     ("en.wikipedia.org/wiki/Schaefer's_dichotomy_theorem", "wikipedia.org")),
    ("http://lucacardelli.name/Papers/Crabs%20%28History%20and%20Screen%20Dumps%29.pdf",
     ("lucacardelli.name/Papers/Crabs%20(History%20and%20Screen%20Dumps).pdf", "lucacardelli.name")),
    ("https://example.org/caf%C3%A9/a%2Fb?q=%C3%A9t%C3%A9", ("example.org/café/a%2Fb?q=été", "example.org")),
    ("https://xn--caf-dma.fr/", ("café.fr", "café.fr")),
    # Tracking parameters go (ESPN's ex_cid in twitter_v1_1 derived_twarc1_style.jsonl), parameters that
    # name the page stay, with or without a value: a document (discourse ask.cyberinfrastructure.org), a
    # forum thread (stackexchange_conlang_meta Posts.xml), a comment (reddit RC_2005-12).
    ("http://theundefeated.com/features/michael-jordan-i-can-no-longer-stay-silent/?ex_cid=story-twitter",
     ("theundefeated.com/features/michael-jordan-i-can-no-longer-stay-silent", "theundefeated.com")),
    ("https://www-01.ibm.com/support/docview.wss?uid=ibm10887213&myns=s033&mynp=OCSTXKQY&mync=E&cm_sp=s033-",
     ("www-01.ibm.com/support/docview.wss?cm_sp=s033-&mync=E&mynp=OCSTXKQY&myns=s033&uid=ibm10887213",
      "ibm.com")),
    ("http://www.thestarwarsrp.com/forum/index.php?threads/my-fan-art-tattoos.28627/",
     ("thestarwarsrp.com/forum?threads/my-fan-art-tattoos.28627/", "thestarwarsrp.com")),
    ("http://slashdot.org/comments.pl?sid=134092&cid=11192313",
     ("slashdot.org/comments.pl?cid=11192313&sid=134092", "slashdot.org")),
    ("https://www.gravatar.com/avatar/716fb118?s=128&amp;d=identicon",  # escaped for HTML
     ("gravatar.com/avatar/716fb118?d=identicon&s=128", "gravatar.com")),
    # Same-site subdomains go, never the registered domain: www.gov.uk is gov.uk, m.com is a site.
    ("https://en.m.wikipedia.org/wiki/Syllabary", ("en.wikipedia.org/wiki/Syllabary", "wikipedia.org")),
    ("https://m.com/a", ("m.com/a", "m.com")),
    ("https://www2.example.org/index.html", ("example.org", "example.org")),
    ("https://foo.blogspot.com/2020/01/x.html", ("foo.blogspot.com/2020/01/x.html", "foo.blogspot.com")),
    ("http://localhost:8000/a", ("localhost:8000/a", "localhost")),
    ("http://[::1]:8080/a", ("[::1]:8080/a", "::1")),
    ("https://twitter.com/#!/BBCNews/status/12345", ("twitter.com/i/status/12345", "twitter.com")),
    ("https://twitter.com/home", ("twitter.com/home", "twitter.com")),
])
def test_normalize(url, expected):
    assert normalize(url) == expected


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["http://", "https://www.", "https://youtu.be/", "https://www.youtube.com/watch?v=",
                        "https://x.com/", "https://www.facebook.com/", "https://a.org:", "//", ""]),
       st.text(max_size=30))
def test_normalize_takes_any_text(prefix, text):
    normalized, domain = normalize(prefix + text)
    assert isinstance(normalized, str) and (domain is None or isinstance(domain, str))


@pytest.mark.slow
def test_normalize_downloads_nothing_and_needs_no_gpl_code(tmp_path):
    """The public suffix list is the one bundled with tldextract: a fresh process that may not open a
    socket, with an empty cache, finds the registered domains and writes no cache; ural (GPL-3.0) is
    not imported."""
    code = (
        "import socket, sys\n"
        "tried = []\n"
        "def refuse(*args, **kwargs):\n"
        "    tried.append(args)\n"
        "    raise OSError('no network')\n"
        "socket.socket.connect = socket.create_connection = socket.getaddrinfo = refuse\n"
        "from whuffie.urls import normalize\n"
        "print(normalize('https://forums.bbc.co.uk/a')[1], normalize('https://foo.blogspot.com')[1],\n"
        "      len(tried), 'ural' in sys.modules)\n")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path),
           "TLDEXTRACT_CACHE": str(tmp_path / "tldextract")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["bbc.co.uk", "foo.blogspot.com", "0", "False"]
    assert not any(tmp_path.iterdir())


def _licences(name: str, seen: set[str]) -> dict[str, str]:
    """The licence of a distribution and of everything it requires, by distribution name."""
    dist = metadata.distribution(name)
    key = dist.metadata["Name"].lower().replace("_", "-")
    if key in seen:
        return {}
    seen.add(key)
    meta = dist.metadata
    found = {key: meta.get("License-Expression") or meta.get("License") or " ".join(
        c for c in meta.get_all("Classifier") or [] if c.startswith("License"))}
    for requirement in dist.requires or []:
        if "extra ==" not in requirement:
            found |= _licences(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0], seen)
    return found


@pytest.mark.slow
def test_the_url_libraries_are_permissive():
    """Whuffie is MIT: what whuffie.urls imports, and what that requires, is not GPL-only."""
    source = Path(__file__).parents[1] / "src" / "whuffie" / "urls.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    owners = metadata.packages_distributions()
    names = {dist for module in modules - set(sys.stdlib_module_names) - {"whuffie"}
             for dist in owners[module]}
    assert {"courlan", "tldextract", "url-normalize"} <= {n.lower() for n in names}
    seen: set[str] = set()
    licences = {k: v for name in sorted(names) for k, v in _licences(name, seen).items()}
    # A licence offered with a permissive alternative ("MPL-1.1 OR GPL-2.0-only") is fine.
    copyleft = {k: v for k, v in licences.items()
                if all(re.search(r"GPL|General Public", alt) for alt in re.split(r"\s+OR\s+", v))}
    assert not copyleft
    assert licences["tldextract"] == "BSD-3-Clause" and licences["courlan"] == "Apache-2.0"


def test_normalize_many_keeps_nulls_and_order():
    normalized, domains = normalize_many(["https://youtu.be/ulhx7G5g3EY", None, "http://www.relay.fm/mpu",
                                          "https://youtu.be/ulhx7G5g3EY"])
    assert normalized.to_pylist() == ["youtube.com/watch?v=ulhx7G5g3EY", None, "relay.fm/mpu",
                                      "youtube.com/watch?v=ulhx7G5g3EY"]
    assert domains.to_pylist() == ["youtube.com", None, "relay.fm", "youtube.com"]


# Real links: YouTube (youtu.be and youtube.com) and utm_ links in a twarc2 search, utm_ variants of the
# same pages in a blog feed, and a mobile.twitter.com link in another.
FILES = (("twarc2_v2_jsonl", "2sets.jsonl"), ("rss_atom_blogs", "KatieFloyd.rss"),
         ("rss_atom_blogs", "DaringFireball.atom"))


@pytest.fixture(scope="module")
def linked(shared, tmp_path_factory):
    path = tmp_path_factory.mktemp("urls") / "links.duckdb"
    with whuffie.open(path) as store:
        store.ingest([str(shared / "formats" / folder / name) for folder, name in FILES])
    return path


@pytest.mark.slow
def test_ingest_counts_pages_and_domains_once(linked):
    with whuffie.open(linked, read_only=True) as store:
        rows = store.sql("SELECT url, normalized_url, domain FROM links")
    urls = [r["url"] for r in rows]
    # The addresses are kept as written: 438 links, 364 distinct addresses, on 139 hosts (the
    # readers' host without "www.", what links.domain held before).
    assert (len(rows), len(set(urls)), len({host_of(u) for u in urls})) == (438, 364, 139)
    # Normalised: 349 pages on 129 registered domains.
    assert len({r["normalized_url"] for r in rows}) == 349
    assert len({r["domain"] for r in rows}) == 129
    # A normalised address is its own normalised address.
    assert all(normalize(r["normalized_url"]) == (r["normalized_url"], r["domain"])
               for r in rows if r["domain"])
    # Every YouTube video is one page on youtube.com, whichever way it was written (13 links).
    video = re.compile(r"youtu\.be/([\w-]{11})|youtube\.com/watch\?.*\bv=([\w-]{11})")
    youtube = [(video.search(r["url"]), r) for r in rows if video.search(r["url"])]
    assert len(youtube) == 13
    assert all(r["normalized_url"] == f"youtube.com/watch?v={m[1] or m[2]}" and r["domain"] == "youtube.com"
               for m, r in youtube)
    # No tracking parameter survives (9 links had utm_ ones); the two Mailbutler variants are one page.
    assert sum("utm_" in u for u in urls) == 9
    assert not [r for r in rows if "utm_" in r["normalized_url"]]
    mailbutler = {r["url"]: r["normalized_url"] for r in rows if "feingeist.io/mailbutler" in r["url"]}
    assert len(mailbutler) == 2 and set(mailbutler.values()) == {"feingeist.io/mailbutler"}
    # Tweets are one page whatever the screen name's case, the subdomain or the media viewer.
    assert {r["normalized_url"] for r in rows if "877341760812232704" in r["url"]} == {
        "twitter.com/i/status/877341760812232704"}
    assert {r["url"] for r in rows if r["normalized_url"] == "twitter.com/i/status/1440410581907886089"} == {
        "https://twitter.com/elaineloveslife/status/1440410581907886089",
        "https://twitter.com/ElaineLovesLife/status/1440410581907886089/photo/1"}


@pytest.mark.slow
def test_engine_links_need(linked):
    with whuffie.open(linked, read_only=True) as store:
        every = store.engine.links()
        assert every.column_names == ["message_id", "actor_id", "created_at", "url", "normalized_url",
                                      "domain"]
        assert every.num_rows == store.sql("SELECT count(*) AS n FROM links")[0]["n"] == 438
        web = store.engine.links(platforms=["web"])
        assert web.num_rows == 280 and set(web["domain"].to_pylist()) >= {"feingeist.io", "twitter.com"}
        # [since, until): the blog posts of 2017 and the tweets before 22 September 2021.
        assert store.engine.links(platforms=["web"], since=datetime(2017, 1, 1)).num_rows == sum(
            t >= datetime(2017, 1, 1) for t in web["created_at"].to_pylist())
        window = store.engine.links(since=datetime(2021, 9, 1), until=datetime(2021, 9, 22))
        assert window.num_rows == sum(datetime(2021, 9, 1) <= t < datetime(2021, 9, 22)
                                      for t in every["created_at"].to_pylist()) > 0
        assert set(every["actor_id"].to_pylist()) <= {r["actor_id"] for r in store.sql(
            "SELECT actor_id FROM messages WHERE NOT is_stub")}


def _links(store):
    return sorted(store.con.execute("SELECT message_id, url, normalized_url, domain FROM links").fetchall())


@pytest.mark.slow
def test_a_version_3_store_is_migrated(linked, tmp_path, monkeypatch):
    """A store written before version 4 (links without normalized_url, domain = the host) gains both."""
    with whuffie.open(linked, read_only=True) as store:
        expected = _links(store)
    old = tmp_path / "v3.duckdb"
    with monkeypatch.context() as m:
        m.setattr("whuffie.store.store.MIGRATIONS", {v: s for v, s in schema.MIGRATIONS.items() if v <= 3})
        m.setattr("whuffie.store.store.SCHEMA_VERSION", 3)
        # The erasures table came with version 5.
        m.setattr("whuffie.store.store._REQUIRED",
                  tuple(t for t in whuffie.store.store._REQUIRED if t != "erasures"))
        with whuffie.open(old) as store:
            assert "normalized_url" not in {r["column_name"] for r in store.sql(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'links'")}
            store.con.executemany("INSERT INTO links (message_id, url, domain) VALUES (?, ?, ?)",
                                  [(mid, url, host_of(url)) for mid, url, _, _ in expected])
    with whuffie.open(old) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert _links(store) == expected
        comment = store.sql("SELECT comment FROM duckdb_columns() WHERE table_name = 'links' "
                            "AND column_name = 'normalized_url'")[0]["comment"]
        assert comment.startswith("The page's canonical address")


def test_migration_normalises_in_batches(tmp_path):
    urls = ["https://youtu.be/ulhx7G5g3EY", "https://www.youtube.com/watch?v=ulhx7G5g3EY&feature=share",
            "http://www.relay.fm/mpu", "https://www.relay.fm/mpu/", "mailto:a@example.org"]
    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.con.executemany("INSERT INTO links (message_id, url) VALUES (?, ?)",
                              [(f"x:{i}", u) for i, u in enumerate(urls)])
        schema.normalize_links(store.con, batch=2)
        assert store.con.execute("SELECT url, normalized_url, domain FROM links ORDER BY message_id"
                                 ).fetchall() == [(u, *normalize(u)) for u in urls]


def _write(store, records):
    batch = Batch()
    batch.add(records)
    store.con.execute("BEGIN")
    batch.flush(store.con, None)
    store.con.execute("COMMIT")


def test_link_chains_compare_normalised_pages(store):
    """A post linking to another post's page written another way (youtu.be, utm_, mobile., the screen
    name's case) is its child; pages whose paths differ only by case are different pages."""
    def post(i, day, url, actor):
        return Message(f"w:{i}", "w", f"w:{actor}", datetime(2024, 1, day), kind="post", url=url)

    _write(store, Records(
        messages=[
            post("video", 1, "https://www.youtube.com/watch?v=4joVXtyn6aA", "yt"),
            post("blog", 1, "https://www.feingeist.io/mailbutler/", "fg"),
            post("tweet", 1, "https://twitter.com/clattner_llvm/status/877341760812232704", "cl"),
            post("Video", 1, "https://www.youtube.com/watch?v=4JOVXTYN6AA", "yt"),
            post("a", 2, "https://a.example/1", "ann"),
            post("b", 3, "https://b.example/1", "bob"),
            post("c", 4, "https://c.example/1", "cat"),
            post("d", 5, "https://d.example/1", "dan"),
        ],
        links=[
            Link("w:a", "https://youtu.be/4joVXtyn6aA?si=FcvnZn4zpwbL5AU2"),
            Link("w:b", "https://www.feingeist.io/mailbutler/?utm_source=katiefloyd&utm_medium=blog"),
            Link("w:c", "https://mobile.twitter.com/Clattner_LLVM/status/877341760812232704"),
            Link("w:d", "https://youtube.com/watch?v=4jovxtyn6aa"),
        ]))
    nodes = cascades(store.engine.cascade_links()).nodes
    parents = {r["message_id"]: r["parent_id"] for r in nodes.to_pylist()}
    assert (parents["w:a"], parents["w:b"], parents["w:c"]) == ("w:video", "w:blog", "w:tweet")
    assert parents["w:d"] is None



_SEGMENT = st.from_regex(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,12}", fullmatch=True)
_PIECE = st.from_regex(r"[A-Za-z0-9._~-]{1,8}(=[A-Za-z0-9._~-]{0,8})?", fullmatch=True)
_PLAIN_URL = st.builds(
    lambda scheme, host, segments, slash, pieces: (
        f"{scheme}://{host}{''.join('/' + s for s in segments)}{'/' if slash else ''}"
        + (f"?{'&'.join(pieces)}" if pieces else "")),
    st.sampled_from(["http", "https"]),
    st.sampled_from(["example.com", "www.example.co.uk", "blog.example.org", "twitter.com", "x.com",
                     "www.youtube.com", "youtu.be", "www.reddit.com", "mastodon.social", "fb.me",
                     "www.google.com", "t.co", "l.facebook.com"]),
    st.lists(_SEGMENT, max_size=4), st.booleans(), st.lists(_PIECE, max_size=3))


def _normalized(addresses, monkeypatch, shortcut: bool) -> tuple[dict, int]:
    """normalize() of each address, with or without the plain-address shortcut, and how many
    times url-normalize ran."""
    calls = 0
    real = urls.url_normalize

    def counted(url):
        nonlocal calls
        calls += 1
        return real(url)

    with monkeypatch.context() as m:
        m.setattr(urls, "url_normalize", counted)
        if not shortcut:
            m.setattr(urls, "_PLAIN", re.compile(r"(?!)"))
        urls.normalize.cache_clear()
        try:
            return {u: urls.normalize(u) for u in addresses}, calls
        finally:
            urls.normalize.cache_clear()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_PLAIN_URL)
def test_plain_addresses_skip_url_normalize_with_the_same_result(monkeypatch, url):
    # url-normalize took most of normalize()'s time (0.1 ms an address) and changes nothing on an
    # address already in its normal form: it is skipped there, with the same result.
    assert _normalized([url], monkeypatch, True)[0] == _normalized([url], monkeypatch, False)[0]


def test_real_addresses_normalize_alike_with_and_without_the_shortcut(shared, monkeypatch):
    found: set[str] = set()
    with whuffie.open(":memory:") as store:
        store.ingest([shared / "formats"])
        for table in ("links", "messages", "actors"):
            found |= {r[0] for r in store.con.execute(
                f"SELECT DISTINCT url FROM {table} WHERE url IS NOT NULL").fetchall()}
    assert len(found) > 2000
    fast, calls = _normalized(found, monkeypatch, True)
    slow, all_calls = _normalized(found, monkeypatch, False)
    assert fast == slow
    assert calls < all_calls / 2, (calls, all_calls)  # the shortcut is taken on most real addresses
