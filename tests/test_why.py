"""``whuffie why``: the evidence behind an edge, counted independently from the raw files."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from urllib.parse import urlparse

import lxml.html
import pytest
from lxml import etree

import whuffie
from tests.conftest import cli
from whuffie.graph.evidence import EVIDENCE_COLUMNS, evidence

THREAD = "formats/mastodon_api_json/context_109294719267373593_mastodon.social.json"
OLI = "mastodon:olikockova@toot.whatever.cz"
HUGO = "mastodon:hugo@masto.pt"
GARGRON = "mastodon:gargron@mastodon.social"
SE = "stackexchange:stackexchange_conlang_meta/"


@pytest.fixture(scope="module")
def thread_db(shared, tmp_path_factory):
    db = tmp_path_factory.mktemp("thread") / "thread.duckdb"
    with whuffie.open(db) as store:
        store.ingest([str(shared / THREAD)])
    return db


@pytest.fixture(scope="module")
def statuses(shared):
    with open(shared / THREAD, encoding="utf-8") as f:
        return json.load(f)["descendants"]


def account_id(account):
    """``mastodon:user@domain`` as the API describes an account or a mention."""
    acct = account["acct"].lower()
    return "mastodon:" + (acct if "@" in acct else f"{acct}@{urlparse(account['url']).hostname}")


def raw_acts(statuses, source, target):
    """(kind, status) of every reply and mention from ``source`` to ``target`` in the JSON."""
    by_id = {s["id"]: s for s in statuses}
    acts = []
    for s in statuses:
        if account_id(s["account"]) != source:
            continue
        parent = by_id.get(s["in_reply_to_id"])
        if parent is not None and account_id(parent["account"]) == target:
            acts.append(("reply", s))
        if any(account_id(m) == target for m in s["mentions"]):
            acts.append(("mention", s))
    return acts


def test_why_lists_every_reply_and_mention_of_the_thread(thread_db, statuses):
    expected = raw_acts(statuses, OLI, HUGO)
    assert Counter(k for k, _ in expected) == {"reply": 2, "mention": 3}
    result = cli("why", OLI, HUGO, "--db", thread_db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all(list(r) == list(EVIDENCE_COLUMNS) for r in rows)
    got = sorted((r["kind"], r["message"], r["time"]) for r in rows)
    want = [(k, f"mastodon:mastodon.social/{s['id']}", s["created_at"][:19] + "Z") for k, s in expected]
    assert got == sorted(want)
    assert {(r["actor"], r["target"], r["platform"], r["weight"]) for r in rows} == {
        (OLI, HUGO, "mastodon", 1.0)}
    texts = {f"mastodon:mastodon.social/{s['id']}": " ".join(lxml.html.fromstring(s["content"])
                                                              .text_content().split())
             for _, s in expected}
    for r in rows:
        assert r["record"] == r["message"]
        assert texts[r["message"]].startswith(r["excerpt"].rstrip("…")[:60])
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)


def test_both_directions(thread_db, statuses):
    back = raw_acts(statuses, HUGO, OLI)
    rows = json.loads(cli("why", OLI, HUGO, "--db", thread_db, "--json", "--both").output)
    assert Counter(r["actor"] for r in rows) == {OLI: 5, HUGO: len(back)}
    assert Counter(r["kind"] for r in rows if r["actor"] == HUGO) == Counter(k for k, _ in back)


@pytest.mark.slow
def test_csv_limit_and_table(thread_db):
    result = cli("why", OLI, HUGO, "--db", thread_db, "--csv", "--limit", "2")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert result.exit_code == 0 and len(rows) == 2 and list(rows[0]) == list(EVIDENCE_COLUMNS)
    table = cli("why", OLI, HUGO, "--db", thread_db, "--limit", "2", "--kinds", "reply,mention")
    assert table.exit_code == 0
    flat = " ".join(table.output.split())  # the terminal table wraps its title
    assert f"{HUGO}: 5 interaction(s)" in flat and "Showing the first 2 of 5" in flat
    only = json.loads(cli("why", OLI, HUGO, "--db", thread_db, "--json", "--kinds", "reply").output)
    assert [r["kind"] for r in only] == ["reply", "reply"]


def test_unknown_actor_suggests_close_ids(thread_db):
    result = cli("why", "mastodon:hugo", OLI, "--db", thread_db)
    assert result.exit_code == 1
    assert f"Error: no actor 'mastodon:hugo' in the store; did you mean {HUGO}" in result.output
    result = cli("why", OLI, "nobody-at-all", "--db", thread_db)
    assert result.exit_code == 1
    assert "no actor 'nobody-at-all' in the store; actor ids look like 'platform:native_id'" in result.output


def test_no_interaction_says_whether_the_other_way_has_some(thread_db, statuses):
    back = raw_acts(statuses, HUGO, GARGRON)
    assert back and not raw_acts(statuses, GARGRON, HUGO)
    result = cli("why", GARGRON, HUGO, "--db", thread_db)
    assert result.exit_code == 1
    assert (f"Error: no interaction {GARGRON} -> {HUGO} in the store; {HUGO} -> {GARGRON} has "
            f"{len(back)} (add --both)") in " ".join(result.output.split())


def test_a_vote_shows_the_text_of_the_message_voted_on(shared, tmp_path):
    folder = shared / "stackexchange_conlang_meta"
    posts = {p.get("Id"): p for p in etree.parse(str(folder / "Posts.xml")).getroot()}
    question = next(p for p in posts.values() if p.get("AcceptedAnswerId")
                    and p.get("OwnerUserId") and posts[p.get("AcceptedAnswerId")].get("OwnerUserId")
                    and p.get("OwnerUserId") != posts[p.get("AcceptedAnswerId")].get("OwnerUserId"))
    answer = posts[question.get("AcceptedAnswerId")]
    with whuffie.open(tmp_path / "se.duckdb") as store:
        store.ingest([str(folder)])
        found = evidence(store.engine, SE + "u" + question.get("OwnerUserId"),
                         SE + "u" + answer.get("OwnerUserId"), kinds=["vote"])
    accept = next(r for r in found.rows if r["record"] == SE + "accept" + question.get("Id"))
    assert accept["message"] == SE + "p" + answer.get("Id")
    assert accept["time"] is None and accept["value"] == 1.0
    body = " ".join(lxml.html.fromstring(answer.get("Body")).text_content().split())
    assert accept["excerpt"] and body.startswith(accept["excerpt"].rstrip("…")[:40])
