"""One store of real data for the graph-builder tests, built once per session."""

from __future__ import annotations

import pytest

import whuffie
from tests.conftest import DATA

#: What the store is made of: (path under the shared data folder, ingest options). Together they give
#: every interaction kind: replies, reshares, quotes and mentions (Twitter, Mastodon, Bluesky), Bluesky
#: likes and Stack Exchange accepts (votes), Stack Exchange comments and mailing-list replies, blog
#: links (three RSS feeds), Bitcoin OTC's signed ratings (negative ones included) and Zachary's karate
#: club as undirected weighted ties without times. The shared mailing-list archives have no To/Cc
#: headers, so the email kind comes from the project's own sample mbox (tests/data/mbox).
SOURCES = (
    ("formats/twarc2_v2_jsonl", None),
    ("formats/mastodon_api_json", None),
    ("formats/bluesky_atproto_json", None),
    ("stackexchange_conlang_meta", None),
    ("mailinglist_3gpp_mbox", None),
    ("formats/rss_atom_blogs/KatieFloyd.rss", None),
    ("formats/rss_atom_blogs/kc0011.rss", None),
    ("formats/rss_atom_blogs/manton.rss", None),
    ("bitcoin_otc", None),
    ("zachary_karate/karate_edges.tsv", {"directed": "false"}),
)


@pytest.fixture(scope="session")
def graph_store(shared, tmp_path_factory):
    """A store holding a mix of real data sets covering every interaction kind (read-only use)."""
    store = whuffie.open(tmp_path_factory.mktemp("graph") / "real.duckdb")
    for path, options in SOURCES:
        assert (shared / path).exists(), f"missing real data {shared / path}"
        store.ingest([str(shared / path)], options=options)
    store.ingest([str(DATA / "mbox" / "sample.mbox")])
    yield store
    store.close()
