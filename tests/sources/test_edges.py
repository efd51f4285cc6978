"""The edges reader on real network data; expected counts come from each data set's
SOURCE.md (verified there with networkx / wc) or from the shell commands noted."""

from __future__ import annotations

import gzip

import pytest

from tests.conftest import ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import get_reader, sniff


@pytest.mark.slow
def test_higgs_reply_layer_counts(shared, store):
    path = shared / "higgs_reply_mention" / "higgs-reply_network.edgelist"
    # wc -l: 32,523 lines, one edge each; SOURCE.md: 38,918 nodes, total weight 36,902.
    assert ingest_counts(store, [path]) == (32523, 32523, 0, 0)
    assert scalar(store, "SELECT count(*) FROM actors") == 38918
    assert scalar(store, "SELECT sum(weight) FROM interactions WHERE kind = 'reply'") == 36902
    assert scalar(store, "SELECT count(DISTINCT platform) FROM ties") == 1
    assert scalar(store, "SELECT min(platform) FROM ties") == "higgs-reply-mention"


@pytest.mark.slow
def test_reimport_and_overlap_store_nothing_twice(shared, store, tmp_path):
    path = shared / "higgs_reply_mention" / "higgs-reply_network.edgelist"
    ingest_counts(store, [path])
    # An overlapping export: the first 1,000 edges again plus 2 new ones, gzipped.
    lines = [*path.read_text().splitlines()[:1000], "1 2 1", "2 3 4"]
    other = tmp_path / "higgs_reply_mention" / "reply-part.edgelist.gz"
    other.parent.mkdir()
    other.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert ingest_counts(store, [other]) == (1002, 2, 1000, 0)
    assert ingest_counts(store, [path]) == (32523, 0, 32523, 0)
    assert scalar(store, "SELECT count(*) FROM ties") == 32525


@pytest.mark.slow
def test_bitcoin_otc_is_signed_ratings(shared, store):
    path = shared / "bitcoin_otc" / "soc-sign-bitcoinotc.csv"
    # SOURCE.md: 35,592 ratings, 5,881 nodes, 32,029 positive / 3,563 negative.
    assert ingest_counts(store, [path]) == (35592, 35592, 0, 0)
    assert scalar(store, "SELECT count(*) FROM actors") == 5881
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'rating' AND value > 0") == 32029
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'rating' AND value < 0") == 3563
    # Times are epoch seconds, kept in UTC: 1289241912 is 2010-11-08 18:45:12 UTC.
    first = scalar(store, "SELECT min(created_at) FROM ratings")
    assert first.isoformat() == "2010-11-08T18:45:12"


@pytest.mark.slow
def test_polblogs_gml_nodes_keep_their_leaning(shared, store):
    path = shared / "polblogs" / "polblogs.gml"
    # SOURCE.md: 1,490 nodes (758 value=0, 732 value=1), 19,020 directed edges.
    assert ingest_counts(store, [path]) == (1490 + 19020, 1490 + 19020, 0, 0)
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'link'") == 19020
    assert scalar(store, "SELECT count(*) FROM actors WHERE extra->>'value' = '0'") == 758
    assert scalar(store, "SELECT handle FROM actors WHERE actor_id = 'polblogs:1'") == \
        "100monkeystyping.com"


def test_undirected_gml_gives_interactions_both_ways(shared, store):
    path = shared / "small_community_graphs" / "football.gml"
    # SOURCE.md: 115 nodes / 613 undirected edges (no self-loops).
    ingest_counts(store, [path])
    assert scalar(store, "SELECT count(*) FROM ties") == 613
    assert scalar(store, "SELECT count(*) FROM interactions") == 2 * 613


def test_karate_edges_and_labels_share_ids(shared, store):
    folder = shared / "zachary_karate"
    ingest_counts(store, [folder], options={"directed": "false"})
    # SOURCE.md: 34 nodes, 78 edges of total weight 231, 17 "Mr. Hi" / 17 "Officer".
    assert scalar(store, "SELECT count(*) FROM actors") == 34
    assert scalar(store, "SELECT sum(weight) FROM ties") == 231
    assert scalar(store, "SELECT count(*) FROM actors WHERE extra->>'club' = 'Mr. Hi'") == 17
    assert scalar(store, "SELECT count(*) FROM actors WHERE extra->>'club' IS NULL") == 0


@pytest.mark.slow
def test_slashdot_gzip_with_comments_and_self_loops(shared, store):
    path = next((shared / "slashdot").glob("*.txt.gz"))
    assert sniff(path)[0] == "edges"
    read, stored, duplicate, bad = ingest_counts(store, [path])
    # SOURCE.md: 948,464 edge lines, 4 comment lines, 82,168 nodes.
    assert (read, stored, duplicate, bad) == (948464, 948464, 0, 0)
    assert scalar(store, "SELECT count(*) FROM actors") == 82168


def test_bad_lines_are_quarantined_with_line_numbers(store, tmp_path):
    path = tmp_path / "net" / "edges.txt"
    path.parent.mkdir()
    path.write_text("# comment\n1 2\n3\n4 5 heavy\n6 7 2.5\n")
    assert ingest_counts(store, [path], format="edges") == (4, 2, 0, 2)
    bad = store.quarantine()
    assert [(b["line"], b["reason"]) for b in bad] == [
        (3, "expected at least 2 fields (source target), found 1"),
        (4, "field 'weight' is 'heavy', expected a number"),
    ]


def test_strict_aborts_at_the_first_bad_line(store, tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("1 2\n3\n")
    with pytest.raises(SourceError, match=r"edges.txt line 2: expected at least 2 fields"):
        store.ingest([path], format="edges", strict=True)
    assert scalar(store, "SELECT status FROM imports") == "failed"


def test_label_files_are_not_mistaken_for_edge_lists(shared):
    labels = shared / "rumoureval2017" / "traindev" / "post_labels_named.tsv"
    assert sniff(labels)[0] != "edges"


def test_unknown_option_is_refused():
    with pytest.raises(SourceError, match="has no option 'colour'"):
        get_reader("edges", colour="red")
