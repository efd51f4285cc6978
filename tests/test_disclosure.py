"""What shared outputs show of private individuals: the report, the map and redacted exports.

Every check that something is hidden is paired with the same output made with ``--show-private``
(or without ``--redact``), where it must appear: a test that cannot fail proves nothing.
"""

from __future__ import annotations

import csv
import html as markup
import json
import re
from datetime import datetime, timedelta

import networkx as nx
import pyarrow.parquet as pq
import pytest

import whuffie
from tests.conftest import cli
from whuffie.errors import WhuffieError
from whuffie.model import Actor, Message, Records, Tie
from whuffie.privacy import display_pseudonym, store_secret
from whuffie.privacy.disclosure import Disclosure, public_actors

T0 = datetime(2024, 3, 1, 9)
PRIVATE = ("alice_private", "Alice Private", "bob_private", "x:alice", "x:bob", "fan_zero", "x:fan0")
FORMULA = '=HYPERLINK("http://evil.example","x")'


def page_data(html: str) -> dict:
    """The JSON embedded in a map page."""
    found = re.search(r'<script type="application/json" id="whuffie-map-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def words(text: str, names) -> set[str]:
    """The names that occur in ``text`` as whole words (markup entities decoded first)."""
    text = markup.unescape(text)
    return {n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)}


def town_records() -> Records:
    """A small community: public accounts (80,000 followers; verified; six people paying attention)
    and private individuals, with mentions and an address in their texts."""
    actors = [
        Actor("x:star", "x", handle="stardust_official", name="Star Dust", followers=80_000),
        Actor("x:news", "x", handle="newsdesk_daily", verified=True, followers=10),
        Actor("x:hub", "x", handle="hub_person"),
        Actor("x:alice", "x", handle="alice_private", name="Alice Private", followers=3,
              url="https://alice.example/me", description="lives in Lyon"),
        Actor("x:bob", "x", handle="bob_private"),
        Actor("x:formula", "x", handle=FORMULA, followers=10_000),
        Actor("email:carol@example.org", "email", handle="carol@example.org", followers=90_000),
        *[Actor(f"x:fan{i}", "x", handle=f"fan_{w}") for i, w in enumerate(("zero", "one", "two", "three"))],
    ]
    messages = [
        Message("x:s1", "x", "x:star", T0, text="Our new season starts today"),
        Message("x:n1", "x", "x:news", T0 + timedelta(minutes=1), text="News of the day"),
        Message("x:h1", "x", "x:hub", T0 + timedelta(minutes=2), text="Meet-up on Friday"),
        Message("x:a1", "x", "x:alice", T0 + timedelta(minutes=5), kind="reply", reply_to="x:s1",
                text="@stardust_official loved it! Ask @bob_private or u/alice_private, "
                     "write to alice@home.example"),
        Message("x:b1", "x", "x:bob", T0 + timedelta(minutes=7), kind="reply", reply_to="x:s1",
                text="Terrible service again, @Alice_Private's right"),
        Message("x:n2", "x", "x:news", T0 + timedelta(minutes=9), kind="reply", reply_to="x:s1",
                text="Reported by @newsdesk_daily"),
    ]
    # Six distinct people pay attention to the hub (and the hub to itself, which does not count).
    ties = [Tie(f"t:{a}", "x", a, "x:hub", "mention", created_at=T0)
            for a in ("x:fan0", "x:fan1", "x:fan2", "x:fan3", "x:alice", "x:bob", "x:hub")]
    ties += [Tie("t:f", "x", "x:fan0", "x:formula", "mention", created_at=T0),
             Tie("t:c", "x", "x:bob", "email:carol@example.org", "email", created_at=T0)]
    return Records(actors=actors, messages=messages, ties=ties)


@pytest.fixture
def town(store):
    store.add(town_records())
    return store


def pseudonym(store, actor_id: str) -> str:
    return display_pseudonym(store_secret(store.con), actor_id)


# -- who is public -----------------------------------------------------------------------------------


def test_public_actors_are_verified_followed_or_paid_attention_by_enough_people(town):
    everyone = [r[0] for r in town.con.execute("SELECT actor_id FROM actors").fetchall()] + ["x:ghost"]
    # The hub has six distinct people paying attention (itself not counted): public from 6, not 7.
    assert public_actors(town, everyone, 6) == {"x:star", "x:news", "x:hub", "x:formula"}
    assert public_actors(town, everyone, 7) == {"x:star", "x:news", "x:formula"}
    assert public_actors(town, everyone) == {"x:star", "x:news", "x:formula"}
    assert public_actors(town, everyone, 100_000) == {"x:news"}            # verified whatever its reach
    # An e-mail address is never public, whatever its reach; nor is an actor the store knows nothing of.
    assert "email:carol@example.org" not in public_actors(town, everyone, 0)
    assert "x:ghost" in public_actors(town, everyone, 0) and "x:ghost" not in public_actors(town, everyone, 1)
    assert Disclosure(show_private=True).public(town, ["x:alice"]) == {"x:alice"}


def test_labels_name_public_actors_and_pseudonymise_private_ones(town, tmp_path):
    ids = ["x:star", "x:news", "x:hub", "x:alice", "x:bob", "x:ghost", "email:carol@example.org"]
    labels = Disclosure().labels(town, ids, names=True)
    assert labels["x:star"] == "stardust_official" and labels["x:news"] == "newsdesk_daily"
    for private in ("x:hub", "x:alice", "x:bob", "x:ghost", "email:carol@example.org"):
        assert labels[private] == pseudonym(town, private)
        assert re.fullmatch(r"anon-[0-9a-f]{10}", labels[private])
    assert len(set(labels.values())) == len(ids)
    # Lower the threshold and the hub is named; opt in and everyone is.
    assert Disclosure(public_reach=6).labels(town, ["x:hub"]) == {"x:hub": "hub_person"}
    assert Disclosure(show_private=True).labels(town, ids, names=True) == town.handles(ids, names=True)
    assert Disclosure().shown_id(town, "x:alice") == labels["x:alice"]
    assert Disclosure().shown_id(town, "x:star") == "x:star"
    # Another store has another secret: its pseudonyms cannot be matched with this one's.
    with whuffie.open(tmp_path / "other.duckdb") as other:
        other.add(town_records())
        assert Disclosure().labels(other, ["x:alice"])["x:alice"] != labels["x:alice"]


def test_mentions_of_private_actors_are_replaced_and_addresses_masked(town):
    [[text]] = town.con.execute("SELECT text FROM messages WHERE message_id = 'x:a1'").fetchall()
    shown = Disclosure().bind(town)
    out = shown.text(text)
    assert out == (f"@stardust_official loved it! Ask @{pseudonym(town, 'x:bob')} or "
                   f"u/{pseudonym(town, 'x:alice')}, write to [email]")
    # A possessive keeps its "'s"; a handle the store does not know becomes @anon; an instance is
    # looked up with the handle, then without.
    assert shown.text("@Alice_Private's point, @Nobody_Known's, /u/bob_private") == (
        f"@{pseudonym(town, 'x:alice')}'s point, @anon's, /u/{pseudonym(town, 'x:bob')}")
    bob = pseudonym(town, "x:bob")
    assert shown.text("cc @bob_private@social.example, .@bob_private, https://social.example/@bob_private") \
        == f"cc @{bob}, .@{bob}, https://social.example/@{bob}"
    assert shown.text("bob@mail.example, from@bob_private") == f"[email], from@{bob}"
    assert shown.summary()["pseudonymised"] == 2 and "2 private individuals" in shown.note()
    # With the opt-in the text is left as written; the texts setting still applies.
    assert Disclosure(show_private=True).text(town, text) == text
    cut = Disclosure(texts="truncate").text(town, "x" * 200)
    assert cut == "x" * 80 + "…" and Disclosure(texts="truncate").text(town, "short") == "short"
    assert Disclosure(texts="hide").text(town, text) is None
    assert Disclosure(show_private=True, texts="hide").text(town, text) is None


def test_disclosure_settings_are_checked():
    with pytest.raises(WhuffieError, match="texts is 'some'"):
        Disclosure(texts="some")
    with pytest.raises(WhuffieError, match="public_reach is -1"):
        Disclosure(public_reach=-1)


# -- the report and the map --------------------------------------------------------------------------


def analysed_town(town):
    """The town with the runs its report shows: e-fluentials, voice, and the star's inbox."""
    town.efluentials()
    town.voice()
    town.inbox(["x:star"])
    return town


def test_report_names_public_actors_and_pseudonymises_private_ones(town, tmp_path):
    store = analysed_town(town)
    done = store.report(tmp_path / "shared")
    page = done.path.read_text()
    mine = store.report(tmp_path / "mine", disclosure=Disclosure(show_private=True)).path.read_text()
    # Private individuals: neither handle, name nor id, anywhere (tables, hover titles, explanations,
    # quoted texts); their pseudonyms instead.
    assert words(page, PRIVATE) == set()
    assert {"alice_private", "bob_private", "x:alice", "x:bob", "fan_zero"} <= words(mine, PRIVATE)
    assert 'title="x:alice"' in mine and 'title="x:alice"' not in page
    for actor in ("x:alice", "x:bob"):
        assert pseudonym(store, actor) in page and pseudonym(store, actor) not in mine
    # The inbox quotes Alice: the public account she mentions stays, Bob and her address do not.
    assert f"@stardust_official loved it! Ask @{pseudonym(store, 'x:bob')}" in page
    assert "alice@home.example" not in page and "[email]" in page
    assert "alice@home.example" in mine
    # Public accounts keep their handles.
    assert words(page, ["stardust_official", "newsdesk_daily"]) == {"stardust_official", "newsdesk_daily"}
    # The report says what it did, near the top, and the result records it.
    n = done.summary["disclosure"]["pseudonymised"]
    assert n >= 4 and done.summary["disclosure"]["public_reach"] == 5000
    note = re.search(r'<p id="disclosure">(.*?)</p>', page).group(1)
    assert note.startswith(f"Handles of {n} private individuals (reach under 5,000) are shown as anon-")
    assert page.index('id="disclosure"') < page.index("<main>")
    assert "--show-private" in re.search(r'<p id="disclosure">(.*?)</p>', mine).group(1)


def test_the_explanations_name_recognisers_as_the_report_does(town, tmp_path):
    store = analysed_town(town)
    [hub] = store.result("efluentials").to_pylist()
    assert hub["actor_id"] == "x:hub"
    # The saved run names the hub's five strongest recognisers by handle.
    people = {"x:alice": "alice_private", "x:bob": "bob_private", "x:fan0": "fan_zero", "x:fan1": "fan_one",
              "x:fan2": "fan_two", "x:fan3": "fan_three"}
    named = [a for a, h in people.items() if h in hub["explanation"]]
    assert len(named) == 5
    page = store.report(tmp_path / "r", disclosure=Disclosure(public_reach=6)).path.read_text()
    mine = store.report(tmp_path / "m", disclosure=Disclosure(show_private=True)).path.read_text()
    assert "hub_person" in page and words(page, people.values()) == set()
    assert all(f"{pseudonym(store, a)} (rank " in page for a in named)
    assert hub["explanation"] in mine


def test_map_draws_private_actors_under_pseudonyms(town, tmp_path):
    done = town.map(tmp_path / "map.html", disclosure=Disclosure(public_reach=6))
    data = page_data(done.path.read_text())
    shown = dict(zip(data["id"], data["label"], strict=True))
    assert shown["x:star"] == "stardust_official" and shown["x:hub"] == "hub_person"
    assert shown[pseudonym(town, "x:alice")] == pseudonym(town, "x:alice")
    assert not {"x:alice", "x:bob", "x:fan0"} & set(data["id"])
    assert words(json.dumps(data), PRIVATE) == set()
    assert done.summary["disclosure"] == {"show_private": False, "public_reach": 6, "texts": "full",
                                          "pseudonymised": len(data["id"]) - 4}
    assert "anon-" in re.search(r'id="whuffie-disclosure"[^>]*>(.*?)</p>', done.path.read_text()).group(1)
    # The result keeps the store's ids, to join with; the page does not.
    assert "x:alice" in done.to_arrow()["id"].to_pylist()
    mine = page_data(town.map(tmp_path / "mine.html", disclosure=Disclosure(show_private=True))
                     .path.read_text())
    assert {"x:alice", "x:bob", "x:fan0"} <= set(mine["id"]) and "alice_private" in mine["label"]


# -- the bundled sample (a real Stack Exchange dump) -------------------------------------------------


@pytest.fixture(scope="module")
def demo_both(demo, tmp_path_factory):
    """The demo's report and map (as shared), the same with --show-private, and the store's actors."""
    import shutil

    folder, _ = demo
    db = tmp_path_factory.mktemp("demo-copy") / "demo.duckdb"
    shutil.copy(folder / "whuffie-demo.duckdb", db)
    mine = tmp_path_factory.mktemp("mine")
    assert cli("report", "--db", db, "--out", mine, "--show-private").exit_code == 0
    assert cli("map", "--db", db, "--out", mine / "map.html", "--show-private").exit_code == 0
    with whuffie.open(db, read_only=True) as store:
        actors = store.con.execute("SELECT actor_id, handle FROM actors").fetchall()
    return folder / "whuffie-report", mine, db, actors


def test_the_demo_report_and_map_name_no_member_of_the_sample(demo_both):
    shared, mine, _, actors = demo_both
    ids = [a for a, _ in actors]
    page, own = (shared / "index.html").read_text(), (mine / "index.html").read_text()
    # The handles the report shows in its actor cells when asked to show them (hover = the id).
    cells = {markup.unescape(h) for a, h in re.findall(r'<td title="([^"]+)">([^<]+)</td>', own)
             if markup.unescape(a) in ids}
    assert len(cells) >= 25                                  # 29 on the sample
    assert words(page, cells) == set() and not [a for a in ids if a in page]
    assert words(own, cells) == cells
    # No member of the sample reaches 5,000: everyone named is a pseudonym.
    assert "Handles of " in page and "private individuals (reach under 5,000)" in page
    data, own_data = (page_data((f / "map.html").read_text()) for f in (shared, mine))
    assert all(re.fullmatch(r"anon-[0-9a-f]{10}", x) for x in data["id"] + data["label"])
    assert sorted(own_data["id"]) == sorted(set(ids) & set(own_data["id"])) and len(own_data["id"]) == 65
    assert words(json.dumps(data), [h for _, h in actors if h]) == set()


def test_redacted_exports_hold_no_private_id_handle_or_text(demo_both, tmp_path):
    shared, _, db, actors = demo_both
    ids = {a for a, _ in actors}
    handles = {h for _, h in actors if h}
    with whuffie.open(db, read_only=True) as store:
        [[text]] = store.con.execute("SELECT text FROM messages WHERE length(text) > 200 LIMIT 1").fetchall()
    for fmt, out in (("gexf", "g.gexf"), ("csv", "csv"), ("parquet", "pq")):
        result = cli("export", "--db", db, "--format", fmt, "--out", tmp_path / out, "--redact")
        assert result.exit_code == 0, result.output
        assert "Redacted: 65 private individuals (reach under 5,000)" in result.output
        result = cli("export", "--db", db, "--format", fmt, "--out", tmp_path / f"{out}-own")
        assert result.exit_code == 0 and "Redacted" not in result.output
    # GEXF: the ids and every label, handle and name are pseudonyms, the same as the map's.
    graph = nx.read_gexf(tmp_path / "g.gexf")
    assert graph.number_of_nodes() == 65 and not ids & set(graph.nodes)
    for node, attrs in graph.nodes(data=True):
        assert attrs["label"] == attrs["handle"] == attrs["name"] == node and node.startswith("anon-")
    assert set(graph.nodes) == set(page_data((shared / "map.html").read_text())["id"])
    own = nx.read_gexf(tmp_path / "g.gexf-own")
    assert set(own.nodes) <= ids and {d["label"] for _, d in own.nodes(data=True)} <= handles | ids
    # CSV and Parquet: the same in every column of both tables.
    with open(tmp_path / "csv" / "nodes.csv", newline="") as f:
        nodes = list(csv.DictReader(f))
    with open(tmp_path / "csv" / "edges.csv", newline="") as f:
        edges = list(csv.DictReader(f))
    assert {r["Id"] for r in nodes} == set(graph.nodes)
    assert all(r["Label"] == r["handle"] == r["name"] == r["Id"] for r in nodes)
    assert {r["Source"] for r in edges} | {r["Target"] for r in edges} <= set(graph.nodes)
    table = pq.read_table(tmp_path / "pq" / "nodes.parquet")
    assert set(table["actor"].to_pylist()) == set(graph.nodes) == set(table["handle"].to_pylist())
    assert set(pq.read_table(tmp_path / "pq" / "edges.parquet")["source"].to_pylist()) <= set(graph.nodes)
    # Nowhere an id, a handle or a text of the store; all of them in the analyst's own export.
    for name in ("g.gexf", "csv/nodes.csv", "csv/edges.csv", "pq/nodes.parquet", "pq/edges.parquet"):
        raw = (tmp_path / name).read_bytes().decode("utf-8", "replace")
        assert not [a for a in ids if a in raw] and words(raw, handles) == set() and text[:60] not in raw
    raw = (tmp_path / "g.gexf-own").read_text()
    assert len(own.nodes) == 65 and all(a in raw for a in own.nodes) and len(words(raw, handles)) > 50


def test_redaction_keeps_public_actors_and_formula_safe_csv(town, tmp_path):
    done = town.export(tmp_path / "csv", "csv", redact=True)
    assert done.summary["redacted"]["pseudonymised"] == len(done.tables["nodes"]) - 3
    with open(tmp_path / "csv" / "nodes.csv", newline="") as f:
        nodes = {r["Id"]: r for r in csv.DictReader(f)}
    assert nodes["x:star"]["Label"] == "stardust_official" and nodes["x:star"]["name"] == "Star Dust"
    assert nodes["x:formula"]["Label"] == "'" + FORMULA        # a public handle, still formula-safe
    carol = pseudonym(town, "email:carol@example.org")          # 90,000 followers, but an address
    assert nodes[carol]["handle"] == carol and "carol" not in (tmp_path / "csv" / "nodes.csv").read_text()
    assert "x:alice" not in nodes and nodes[pseudonym(town, "x:alice")]["name"] == pseudonym(town, "x:alice")
    # Without --redact the export is the analyst's own working file, as before.
    plain = town.export(tmp_path / "plain", "csv")
    assert plain.summary["redacted"] is None and "x:alice" in plain.tables["nodes"]["actor"].to_pylist()
    with pytest.raises(WhuffieError, match="cannot be redacted"):
        town.export(tmp_path / "store", "parquet-store", redact=True)


# -- the command line --------------------------------------------------------------------------------


def test_cli_flags_choose_what_the_report_and_map_show(town, tmp_path):
    analysed_town(town)
    db = town.path
    town.close()
    assert cli("report", "--db", db, "--out", tmp_path / "a").exit_code == 0
    assert cli("report", "--db", db, "--out", tmp_path / "b", "--public-reach", "6").exit_code == 0
    assert cli("report", "--db", db, "--out", tmp_path / "c", "--show-private").exit_code == 0
    pages = {k: (tmp_path / k / "index.html").read_text() for k in "abc"}
    assert "hub_person" not in pages["a"] and "hub_person" in pages["b"] and "alice_private" not in pages["b"]
    assert "alice_private" in pages["c"]
    for flags, named in (([], False), (["--show-private"], True)):
        out = tmp_path / f"map{len(flags)}.html"
        result = cli("map", "--db", db, "--out", out, *flags)
        assert result.exit_code == 0, result.output
        assert ("alice_private" in page_data(out.read_text())["label"]) is named
    result = cli("analyze", "--db", db, "--out", tmp_path / "d", "--public-reach", "6")
    assert result.exit_code == 0, result.output
    assert "hub_person" in (tmp_path / "d" / "index.html").read_text()
    assert "hub_person" in page_data((tmp_path / "d" / "map.html").read_text())["label"]
    # The terminal is the user's own screen: it names actors as before.
    assert "hub_person" in cli("efluentials", "--db", db).output
    bad = cli("report", "--db", db, "--out", tmp_path / "e", "--public-reach", "-1")
    assert bad.exit_code == 2 and "--public-reach" in bad.output
    bad = cli("export", "--db", db, "--out", tmp_path / "f", "--format", "parquet-store", "--redact")
    assert bad.exit_code == 2 and "cannot be redacted" in bad.output
    help_text = cli("report", "--help").output
    assert "--show-private" in help_text and "--public-reach" in help_text
