"""Pseudonymisation on ingest, erasure (forget) and retention (prune), on real samples."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import cli, scalar
from whuffie.errors import WhuffieError
from whuffie.privacy.erasure import parse_age
from whuffie.privacy.pseudonyms import Pseudonymiser, load_key, mask_phones

KEY = bytes(range(32))


def _samples(shared: Path) -> list[Path]:
    """Real samples of the platforms that name people: tweets, toots, skeets, Reddit comments,
    forum topics, Telegram channels and two mailing lists."""
    f = shared / "formats"
    return [f / "twarc2_v2_jsonl" / "brexit.jsonl", f / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson",
            f / "mastodon_api_json", f / "discourse_topic_json", f / "telegram_telethon_jsonl",
            f / "bluesky_atproto_json", shared / "mailinglist_3gpp_mbox"]


@pytest.fixture(scope="module")
def stores(shared, tmp_path_factory):
    """The samples imported plainly and pseudonymised (uncompressed, so the file's bytes show any
    string that is in it); the same analyses run on both."""
    folder = tmp_path_factory.mktemp("privacy")
    plain, pseudo = folder / "plain.duckdb", folder / "pseudo.duckdb"
    with whuffie.open(plain) as s:
        s.ingest(_samples(shared))
    with whuffie.open(pseudo) as s:
        s.con.execute("SET force_compression = 'uncompressed'")
        s.ingest(_samples(shared), pseudonymise=KEY)
    for path in (plain, pseudo):
        with whuffie.open(path) as s:
            s.con.execute("SET force_compression = 'uncompressed'")
            s.influence()
            s.niches()
            s.voice()
            s.cascades()
    return plain, pseudo


def _people(path: Path) -> dict[str, set[str]]:
    """Ids, handles, display names and e-mail addresses of the people in a plain store (sites,
    platform ``web``, are publications and stay)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT actor_id, handle, name FROM actors WHERE platform <> 'web'").fetchall()
        texts = "\n".join(t for (t,) in con.execute(
            "SELECT text FROM messages WHERE text IS NOT NULL").fetchall())
    finally:
        con.close()
    emails = set(re.findall(r"[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", texts))
    emails |= {a.split(":", 1)[1] for a, _, _ in rows if a.startswith("email:") and "@" in a}
    return {
        "ids": {a for a, _, _ in rows},
        "handles": {h.lstrip("@") for _, h, _ in rows if h and len(h.lstrip("@")) >= 4},
        "names": {n for _, _, n in rows if n and len(n.split()) > 1},
        "emails": {e for e in emails if "." in e.split("@", 1)[1]},
    }


def _values(path: Path) -> tuple[set[str], str]:
    """Every distinct string value of every table of a store (hashtags and link domains aside:
    topics and sites, kept), lower-cased, and all of them as one text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type IN ('VARCHAR', 'JSON') "
            "AND table_name IN (SELECT table_name FROM duckdb_tables())").fetchall()
        values: set[str] = set()
        for table, column in columns:
            if (table, column) in {("tags", "tag"), ("links", "domain")}:
                continue
            query = f'SELECT DISTINCT "{column}"::VARCHAR FROM "{table}" WHERE "{column}" IS NOT NULL'
            values |= {v.lower() for (v,) in con.execute(query).fetchall()}
    finally:
        con.close()
    return values, "\n".join(values)


def test_a_pseudonymised_store_holds_no_id_handle_name_or_email_of_the_raw_files(stores):
    plain, pseudo = stores
    people = _people(plain)
    assert len(people["ids"]) > 1000 and len(people["handles"]) > 1000 and len(people["emails"]) > 50
    values, text = _values(pseudo)
    # Not one of them is a value of any column, nor written as @handle in any text.
    assert not {i for i in people["ids"] if i.lower() in text}
    # Bluesky handles that are web domains (quarto.org) stay where people link to those sites.
    assert not {h for h in people["handles"] if h.lower() in values and not re.search(r"\.[a-z]{2,}$", h)}
    assert not {n for n in people["names"] if n.lower() in values}
    assert not {e for e in people["emails"] if e.lower() in text}
    mentioned = set(re.findall(r"(?<!@)@([\w.\-]*\w)", text))
    assert not {h for h in people["handles"] if h.split("@")[0].lower() in mentioned}
    # The file itself (written uncompressed here) holds none of their bytes either.
    data = pseudo.read_bytes().lower()
    assert not [i for i in people["ids"] if len(i) >= 10 and i.lower().encode() in data]
    assert not [e for e in people["emails"] if e.lower().encode() in data]
    assert not [h for h in people["handles"] if len(h) >= 6 and b"@" + h.lower().encode() in data]
    # ...while the plain store, written the same way, holds them: the checks can fail.
    _, plain_text = _values(plain)
    assert sum(h.lower() in plain_text for h in people["handles"]) > 1000


def test_the_report_map_and_exports_of_a_pseudonymised_store_name_no_one(stores, tmp_path):
    plain, pseudo = stores
    people = _people(plain)
    with whuffie.open(pseudo, read_only=True) as s:
        # Everything shown, as a user keeping the report would ask: there is nothing real to show.
        everyone = whuffie.Disclosure(show_private=True)
        s.report(tmp_path / "report", disclosure=everyone)
        s.map(tmp_path / "map.html", disclosure=everyone)
        s.export(tmp_path / "graph.gexf")
        s.export(tmp_path / "csv", format="csv")
    written = "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*")
                        if p.is_file() and p.suffix in (".html", ".gexf", ".csv")).lower()
    assert len(written) > 100_000
    assert not [i for i in people["ids"] if i.lower() in written]
    assert not [e for e in people["emails"] if e.lower() in written]
    # Hashtags (#BorisJohnson) and sites (youtube.com) are kept: topics and publications.
    con = duckdb.connect(str(plain), read_only=True)
    kept = {t for (t,) in con.execute("SELECT DISTINCT lower(tag) FROM tags").fetchall()}
    kept |= {part for (d,) in con.execute("SELECT DISTINCT domain FROM links WHERE domain IS NOT NULL")
             .fetchall() for part in d.lower().split(".")}
    con.close()
    assert not [h for h in people["handles"]
                if re.search(rf"(?<![\w.-]){re.escape(h.lower())}(?![\w-])", written)
                and not re.search(r"\.[a-z]{2,}$", h) and h.lower() not in kept]


def test_analyses_give_the_same_numbers_on_a_pseudonymised_store(stores):
    plain, pseudo = stores
    p = Pseudonymiser(KEY)
    with whuffie.open(plain, read_only=True) as a, whuffie.open(pseudo, read_only=True) as b:
        ra, rb = a.result("influence"), b.result("influence")
        # PageRank per actor, the pseudonym of each plain actor holding the same value.
        got = dict(zip(rb.column("actor_id").to_pylist(), rb.column("pagerank").to_pylist(), strict=True))
        want = {p.actor(k): v for k, v in zip(ra.column("actor_id").to_pylist(),
                                                 ra.column("pagerank").to_pylist(), strict=True)}
        assert got.keys() == want.keys()
        assert np.allclose([got[k] for k in want], list(want.values()), rtol=0, atol=1e-12)
        na, nb = a.result("memberships"), b.result("memberships")
        assert na.num_rows == nb.num_rows and a.result("niches").num_rows == b.result("niches").num_rows
        ca, cb = a.result("cascades"), b.result("cascades")
        assert sorted(ca.column("size").to_pylist()) == sorted(cb.column("size").to_pylist())
        va, vb = a.result("voice_messages"), b.result("voice_messages")
        labels = dict(zip(vb.column("message_id").to_pylist(), vb.column("sentiment").to_pylist(),
                          strict=True))
        pairs = [(s, labels.get(p.message(m))) for m, s in zip(
            va.column("message_id").to_pylist(), va.column("sentiment").to_pylist(), strict=True)]
        assert len(pairs) > 2500
        # Texts lose names and addresses, so a few scores move (a name written in capitals is
        # emphasis to the lexicon): measured 1 label in 2,644 here.
        same = sum(x == y for x, y in pairs) / len(pairs)
        assert same >= 0.995, same
        assert Counter(s for s, _ in pairs).keys() == Counter(s for _, s in pairs).keys()


def test_the_inbox_buzz_and_advocates_agree_on_a_pseudonymised_store(stores, tmp_path):
    import shutil

    plain, pseudo = (shutil.copy(path, tmp_path / path.name) for path in stores)
    p = Pseudonymiser(KEY)
    with whuffie.open(plain) as a, whuffie.open(pseudo) as b:
        top = a.engine.top_recognised(1).to_pylist()[0]
        brand = top["handle"]
        # The brand named by its pseudonym, as `whuffie pseudonym` gives it.
        assert a.inbox(brand).summary == b.inbox(p.handle(top["actor"].split(":")[0], brand)).summary
        assert a.inbox(brand).summary["inbound"] > 20
        assert a.buzz("tag", "week").summary == b.buzz("tag", "week").summary
        # Stances follow sentiment, which differs on one message (see above).
        sa, sb = a.advocates().summary, b.advocates().summary
        assert abs(sa["advocates"] - sb["advocates"]) + abs(sa["detractors"] - sb["detractors"]) <= 1


def test_a_reimport_with_the_same_key_adds_nothing_and_other_imports_are_refused(shared, tmp_path):
    sample = shared / "formats" / "twarc2_v2_jsonl" / "brexit.jsonl"
    key = tmp_path / "whuffie.key"
    with whuffie.open(tmp_path / "p.duckdb") as s:
        first = s.ingest([sample], pseudonymise=key)
        assert first.total("stored") > 50 and oct(key.stat().st_mode & 0o777) == "0o600"
        again = s.ingest([sample], pseudonymise=key)
        assert again.total("stored") == 0 and again.total("duplicate") == first.total("read")
        with pytest.raises(WhuffieError, match="pseudonymised store"):
            s.ingest([sample])
        with pytest.raises(WhuffieError, match="not the one"):
            s.ingest([sample], pseudonymise=b"another key, 32 bytes long!!!!!")
        # Nothing was added by the refused imports.
        assert scalar(s, "SELECT count(*) FROM imports") == 2
    with whuffie.open(tmp_path / "plain.duckdb") as s:
        s.ingest([sample])
        with pytest.raises(WhuffieError, match="plain records"):
            s.ingest([sample], pseudonymise=key)
    (tmp_path / "bad.key").write_text("not hex\n")
    with pytest.raises(WhuffieError, match="not a Whuffie key file"):
        load_key(tmp_path / "bad.key")


def test_the_quarantine_of_a_pseudonymised_store_keeps_no_raw_excerpt(shared, tmp_path):
    sample = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    lines = sample.read_text().splitlines()[:50]
    bad = tmp_path / "RC_damaged.ndjson"
    broken = '{"author": "SecretPerson99", "body": "broken'
    bad.write_text("\n".join([*lines[:10], broken, *lines[10:]]) + "\n")
    with whuffie.open(tmp_path / "p.duckdb") as s:
        s.ingest([bad], pseudonymise=KEY)
        rows = s.quarantine()
        assert rows and rows[0]["line"] == 11 and rows[0]["excerpt"] in ("", None)
        assert "RC_damaged" not in scalar(s, "SELECT path FROM imports")
        assert scalar(s, "SELECT count(*) FROM messages WHERE NOT is_stub") == 50


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_",
                                                 min_size=3, max_size=15))
def test_pseudonyms_are_deterministic_under_one_key_and_differ_under_two(native, handle):
    one, same, two = Pseudonymiser(KEY), Pseudonymiser(KEY), Pseudonymiser(bytes(32))
    actor = f"x:{native}"
    assert one.actor(actor) == same.actor(actor) != two.actor(actor)
    assert one.message(actor) == same.message(actor) != two.message(actor)
    assert one.handle("x", handle) == same.handle("x", handle.upper()) != two.handle("x", handle)
    text = f"thanks @{handle}!"
    masked = one.text("x", text)
    assert masked == same.text("x", text) != two.text("x", text)
    # A mention in a text becomes the mentioned actor's pseudonymised handle.
    assert masked == f"thanks @{one.handle('x', handle)}!"
    assert handle not in masked.replace(one.handle("x", handle), "")


def test_texts_lose_emails_phones_and_the_addresses_of_people():
    p = Pseudonymiser(KEY)
    text = ("Ping @Alice or mail alice.smith@example.org, call +33 6 12 34 56 78, see "
            "https://twitter.com/Alice/status/1440716895355764743 and "
            "https://example.org/page?email=alice%40example.org&utm_source=feed")
    out = p.text("twitter", text)
    for gone in ("Alice", "alice.smith", "6 12 34", "1440716895355764743", "email="):
        assert gone not in out
    assert "utm_source=feed" in out and "[email]" in out and "[phone]" in out
    # The tweet's address and a link to it get the same pseudonym (cascades follow links).
    assert p.url("https://twitter.com/Alice/status/1440716895355764743") == p.url(
        "https://mobile.twitter.com/alice/status/1440716895355764743?s=20")
    assert mask_phones("in 2024, 1,234,567 people") == "in 2024, 1,234,567 people"


# -- forget ------------------------------------------------------------------------------------


def _mentions(store, actor_id: str, handle: str) -> list[tuple[str, str, int]]:
    """Every (table, column, rows) of the store naming the actor: an id or handle as a value, the
    handle as a word in a text."""
    found = []
    for table, column, dtype in store.con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE table_name IN (SELECT table_name FROM duckdb_tables())").fetchall():
        if dtype not in ("VARCHAR", "JSON", "VARCHAR[]"):
            continue
        n = scalar(store, f'SELECT count(*) FROM "{table}" WHERE lower("{column}"::VARCHAR) IN (?, ?) '
                          f'OR regexp_matches(lower("{column}"::VARCHAR), ?)',
                   [actor_id.lower(), handle.lower(),
                    rf"(^|[^a-z0-9_]){re.escape(handle.lower())}([^a-z0-9_]|$)"])
        if n:
            found.append((table, column, n))
    return found


def test_forget_leaves_no_row_naming_the_actor_and_a_reimport_keeps_them_out(sample_store):
    s = sample_store
    for analysis in (s.influence, s.efluentials, s.niches, s.voice, s.cascades):
        analysis()
    actor = s.engine.actor_ids("Adarain")[0]
    before = _mentions(s, actor, "Adarain")
    assert {t for t, _, _ in before} >= {"actors", "messages", "result_influence", "result_efluentials"}
    messages = scalar(s, "SELECT count(*) FROM messages WHERE actor_id = ?", [actor])
    done = s.forget(["Adarain"])
    assert done.actors == [actor] and done.removed["messages"] == messages and done.rewritten
    assert _mentions(s, actor, "Adarain") == []
    assert scalar(s, "SELECT count(*) FROM erasures WHERE kind = 'actor'") == 1
    # Replies to their messages stay, pointing at a tombstone.
    assert scalar(s, "SELECT count(*) FROM messages WHERE reply_to LIKE '%:erased-%'") > 0
    # A re-import of the same dump brings nothing of them back, and says so.
    report = s.ingest(whuffie.sample_files())
    assert report.total("stored") == 0
    assert _mentions(s, actor, "Adarain") == []
    assert any("erased actors left out" in q["reason"] for q in s.quarantine())
    # Unless told to let them back.
    s.ingest(whuffie.sample_files(), allow_returning=True)
    assert scalar(s, "SELECT count(*) FROM messages WHERE actor_id = ?", [actor]) == messages


def test_forget_removes_the_rows_from_the_file_not_only_from_the_tables(tmp_path):
    from whuffie.model import Actor, Message, Records

    secret = "zq7-distinctive-words-of-a-person-who-asked-to-be-forgotten"
    for rewrite, expected in ((False, True), (True, False)):
        path = tmp_path / f"store-{rewrite}.duckdb"
        with whuffie.open(path) as s:
            s.con.execute("SET force_compression = 'uncompressed'")
            s.add(Records(messages=[Message(f"x:{i}", "x", f"x:{i % 40}", None, text=f"{secret} #{i}#")
                                    for i in range(2000)], actors=[Actor("x:7", "x", handle="seven")]))
            s.con.execute("CHECKPOINT")
            s.forget(["seven"], rewrite=rewrite)
            assert scalar(s, "SELECT count(*) FROM messages WHERE actor_id = 'x:7'") == 0
        # Without the rewrite the deleted text is still in the file's free blocks.
        assert (f"{secret} #7#".encode() in path.read_bytes()) is expected
        assert f"{secret} #8#".encode() in path.read_bytes()


def test_forget_with_the_key_finds_the_real_name_in_a_pseudonymised_store(shared, tmp_path):
    sample = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    with whuffie.open(tmp_path / "plain.duckdb") as s:
        s.ingest([sample])
        handle, n = s.con.execute("SELECT a.handle, count(*) FROM messages m JOIN actors a USING (actor_id) "
                                  "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchall()[0]
    with whuffie.open(tmp_path / "p.duckdb") as s:
        s.ingest([sample], pseudonymise=KEY)
        with pytest.raises(WhuffieError, match="no actor"):
            s.forget([handle])
        done = s.forget([handle], key=KEY)
        assert done.removed["messages"] == n


def test_forget_of_an_unknown_handle_says_so_and_an_unknown_id_is_recorded(sample_store):
    with pytest.raises(WhuffieError, match=r"no actor 'Adarian'.*close handles: Adarain"):
        sample_store.forget(["Adarian"])
    done = sample_store.forget(["stackexchange:999999999"])
    assert done.actors == ["stackexchange:999999999"] and done.total == 0
    assert scalar(sample_store, "SELECT count(*) FROM erasures") == 1


# -- prune -------------------------------------------------------------------------------------


def test_prune_drops_what_is_older_than_the_limit_and_records_it(sample_store):
    s = sample_store
    s.voice()
    cutoff = datetime(2019, 1, 1)
    old = scalar(s, "SELECT count(*) FROM messages WHERE created_at < ?", [cutoff])
    kept = scalar(s, "SELECT count(*) FROM messages WHERE created_at >= ? OR created_at IS NULL", [cutoff])
    assert old > 300 and kept > 30
    done = s.retain("12m", now=datetime(2020, 1, 1))
    assert done.cutoff == cutoff and done.removed["messages"] == old
    assert scalar(s, "SELECT count(*) FROM messages") == kept
    assert scalar(s, "SELECT count(*) FROM messages WHERE created_at < ?", [cutoff]) == 0
    assert scalar(s, "SELECT count(*) FROM ratings WHERE created_at < ?", [cutoff]) == 0
    assert scalar(s, "SELECT count(*) FROM result_voice_messages WHERE message_id NOT IN "
                     "(SELECT message_id FROM messages)") == 0
    # Actors whose every row went are gone; nobody else.
    assert scalar(s, "SELECT count(*) FROM actors WHERE actor_id IN (SELECT unnest(?))", [done.actors]) == 0
    assert scalar(s, "SELECT count(*) FROM erasures WHERE kind = 'prune' AND cutoff = ?", [cutoff]) == 1


def test_ages_are_read_with_their_unit_or_refused():
    assert parse_age("90d").days == 90 and parse_age("2y").days == 730 and parse_age(" 18M ").days == 547
    with pytest.raises(WhuffieError, match="cannot read age '18 months'"):
        parse_age("18 months")


# -- the command line --------------------------------------------------------------------------


def test_the_commands(shared, tmp_path):
    sample = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    db, key = tmp_path / "p.duckdb", tmp_path / "keys" / "whuffie.key"
    out = cli("ingest", sample, "--db", db, "--pseudonymise", key)
    assert out.exit_code == 1 and "folder" in out.output  # the key's folder does not exist
    os.mkdir(tmp_path / "keys")
    out = cli("ingest", sample, "--db", db, "--pseudonymise", key)
    assert out.exit_code == 0 and "created now" in out.output and key.exists()
    out = cli("ingest", sample, "--db", db)
    assert out.exit_code == 1 and "pseudonymised store" in out.output
    with whuffie.open(db, read_only=True) as s:
        actor = scalar(s, "SELECT actor_id FROM messages WHERE actor_id IS NOT NULL "
                          "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    out = cli("forget", actor, "--db", db, "--json")
    assert out.exit_code == 0 and f'"actors":["{actor}"]' in out.output.replace(" ", "")
    out = cli("pseudonym", "frjo", "--key", key, "--db", db, "--json")
    p = Pseudonymiser(load_key(key))
    assert out.exit_code == 0
    assert p.actor("reddit:frjo") in out.output and p.handle("reddit", "frjo") in out.output
    out = cli("prune", "--older-than", "10y", "--db", db)
    assert out.exit_code == 0 and "Pruned what was dated before" in out.output
    out = cli("prune", "--older-than", "soon", "--db", db)
    assert out.exit_code == 1 and "cannot read age" in out.output


def test_ingest_workers_pseudonymise_as_the_writer_does(shared, tmp_path, monkeypatch):
    import whuffie.store.ingest as ingest_mod

    sample = shared / "formats" / "twarc2_v2_jsonl" / "brexit.jsonl"
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "CHUNK_BYTES", 64 * 2**10)
    monkeypatch.setattr(ingest_mod, "SMALL_FILE_BYTES", 0)
    monkeypatch.setenv("WHUFFIE_WORKERS", "2")
    here = {"parallel": 0, "serial": 0}
    real = Pseudonymiser.tables
    rows = {}
    for name, workers in (("parallel", "2"), ("serial", "1")):
        monkeypatch.setenv("WHUFFIE_WORKERS", workers)

        def counted(self, t, name=name):
            here[name] += 1  # counted in this process only: a worker's count stays in the worker
            return real(self, t)

        monkeypatch.setattr(Pseudonymiser, "tables", counted)
        with whuffie.open(tmp_path / f"{name}.duckdb") as s:
            s.ingest([sample], pseudonymise=KEY)
            rows[name] = (s.sql("SELECT * EXCLUDE (import_id) FROM messages ORDER BY message_id"),
                          s.sql("SELECT * EXCLUDE (import_id) FROM actors ORDER BY actor_id"),
                          s.sql("SELECT * FROM links ORDER BY message_id, url"))
    # The workers pseudonymised (not this process), and the store is the same.
    assert here == {"parallel": 0, "serial": 1}
    assert rows["parallel"] == rows["serial"]


def test_forget_finds_handles_and_names_with_regex_characters():
    from whuffie.model import Actor, Message, Records

    with whuffie.open(":memory:") as s:
        s.add(Records(messages=[Message("x:1", "x", "x:w", None, text="mine"),
                                Message("x:2", "x", "x:ann", None,
                                        text="hi @we.ird-name+(1), Jean-Luc Pi*card [x] said; anne.")],
                      actors=[Actor("x:w", "x", handle="we.ird-name+(1)", name="Jean-Luc Pi*card [x]"),
                              Actor("x:ann", "x", handle="ann")]))
        s.forget(["we.ird-name+(1)"])
        assert s.sql("SELECT text FROM messages") == [{"text": "hi @[erased], [erased] said; anne."}]
