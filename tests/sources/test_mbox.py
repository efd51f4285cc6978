"""The mbox reader on two real 3GPP mailing-list archives and on synthetic fixtures.

Expected numbers for the real files were established without the reader, with
``grep`` and Python's own ``mailbox`` module (which indexes the whole file, so
it is fine as a check), as noted beside each assertion. The fixtures in
``tests/data/mbox/`` were written for these tests (example.org addresses) and
their expected numbers follow from their construction, also noted.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import sniff
from whuffie.sources.base import Sample
from whuffie.sources.io import head_bytes
from whuffie.sources.mbox import MboxReader, parse_address, split_mbox, subject_key

NR = "3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox"
EVS = "3GPP_TSG_SA_WG4_EVS.mbox"
SAMPLE = DATA / "mbox" / "sample.mbox"
EML = DATA / "mbox" / "single.eml"


@pytest.fixture(scope="module")
def lists(shared):
    return shared / "mailinglist_3gpp_mbox"


# -- the real archives -------------------------------------------------------------------------


def test_nr_mimo_ota_counts(lists, store):
    # grep -c '^From ' -> 59 messages. mailbox.mbox: 58 carry a message-id, 55 distinct
    # (00c601d579a2$51e3e3d0$f5abab70$@vivo.com x3, 179a521c...@xMail.etsihq.org x2) -> 3 repeats.
    # The 29th message (python index 28, the From_ line at line 2303: grep -n '^From ' | sed -n 29p)
    # has only an Archived-At header and no body: quarantined.
    assert ingest_counts(store, [lists / NR]) == (59, 55, 3, 1)
    assert store.quarantine()[0]["line"] == 2303
    # grep -h '^from:' | grep -oE '[A-Za-z0-9._-]+@[A-Za-z0-9.-]+' | tr A-Z a-z | sort -u | wc -l -> 10
    # ("Ruixin Wang" and "Ruixin WANG" are one address).
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 10
    # mailbox: of the 55 distinct messages, 26 have an in-reply-to whose id is in the file
    # (28 messages with in-reply-to, 2 of them repeats of the vivo message).
    assert scalar(store, "SELECT count(*) FROM messages WHERE reply_to IS NOT NULL "
                         "AND extra->>'threaded_by' IS NULL") == 26
    # mailbox: 6 messages have no in-reply-to/references, a "Re:" / "答复:" subject, and an original
    # with the bare subject dated no later (the archive is newest first, so the original comes later).
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'threaded_by' = 'subject'") == 6
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 26 + 6


def test_nr_mimo_ota_decoding(lists, store):
    ingest_counts(store, [lists / NR])
    # "from: Ting-Wei Kang =?utf-8?b?5bq35bqt57at?=   ting-wei.kang@MEDIATEK.COM": base64 of 康庭維.
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'email:ting-wei.kang@mediatek.com'") \
        == "Ting-Wei Kang 康庭維"
    # Quoted-printable body: "We add =E2=80=9CRevisit Initial phase" (line 80 of the file).
    text = scalar(store, "SELECT text FROM messages WHERE message_id = "
                         "'email:51d91738e2814d1c85bb6233718f0f5f@mtkmbs02n1.mediatek.inc'")
    assert "We add “Revisit Initial phase" in text
    # The one base64 body (grep -n -i 'transfer-encoding: base64' -> line 2241), utf-8 with Chinese.
    text = scalar(store, "SELECT text FROM messages WHERE message_id = "
                         "'email:2019082914281470408218@caict.ac.cn'")
    assert text.startswith("Just an update, the 2nd Round online session") and "发件人" in text
    # ">From TR 25.996." (grep -n "^>From " -> lines 2861, 3201, 3512) is unescaped in the body of the
    # message whose From_ line is line 2783 (its message-id: sed -n 2783,2800p | grep message-id).
    text = scalar(store, "SELECT text FROM messages WHERE message_id = "
                         "'email:SN6PR10MB297348F62277F7EEC654F58CB33A0@SN6PR10MB2973.namprd10.prod.outlook.com'")
    assert "\nFrom TR 25.996." in text and ">From TR" not in text
    # "date: Fri, 22 Nov 2019 12:14:47 -0800": stored in UTC with the offset kept.
    row = store.con.execute("SELECT created_at, utc_offset, title FROM messages WHERE message_id = "
                            "'email:2019112212144537800715@caict.ac.cn'").fetchall()[0]
    assert row[0].isoformat() == "2019-11-22T20:14:47" and row[1] == -480
    # subject: 'Re: draft WF on FR2 MIMO OTA' (the archive's quotes removed); no in-reply-to, so it is
    # attached by subject to 'draft WF on FR2 MIMO OTA' (message-id 2019112210395147521610@caict.ac.cn).
    assert row[2] == "Re: draft WF on FR2 MIMO OTA"
    assert scalar(store, "SELECT reply_to FROM messages WHERE message_id = "
                         "'email:2019112212144537800715@caict.ac.cn'") == \
        "email:2019112210395147521610@caict.ac.cn"
    # =?utf-8?b?J+etlOWkjTo=?= decodes to '答复: (Chinese "reply:"): a reply prefix like "Re:".
    assert scalar(store, "SELECT count(*) FROM messages "
                         "WHERE title = '答复: scaled channel model tables'") == 1


def test_evs_counts_and_dangling_parents(lists, store):
    # grep -c '^From ' -> 50; mailbox: 50 message-ids, 49 distinct (AM0PR04MB4386...@... x2).
    assert ingest_counts(store, [lists / EVS]) == (50, 49, 1, 0)
    # Same grep as above on this file -> 11 sender addresses.
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 11
    # mailbox: 16 messages with in-reply-to, 11 with the parent in the file; the 5 others (4 distinct
    # qti.qualcomm.com ids) keep their dangling reply_to.
    assert scalar(store, "SELECT count(*) FROM messages WHERE reply_to IS NOT NULL") == 16
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 11
    assert scalar(store, "SELECT count(*) FROM messages m WHERE reply_to IS NOT NULL AND NOT EXISTS "
                         "(SELECT 1 FROM messages p WHERE p.message_id = m.reply_to)") == 5
    # No reply without headers in this file (same mailbox check as for NR-MIMO-OTA).
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'threaded_by' = 'subject'") == 0


@pytest.mark.slow
def test_both_lists_reimport_is_idempotent(lists, store):
    # SOURCE.md: 39 resolvable parent links counting repeated messages (28 + 11); distinct messages
    # give 26 + 11 = 37, plus the 6 subject-threaded replies of NR-MIMO-OTA.
    assert ingest_counts(store, [lists]) == (109, 104, 4, 1)
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 37 + 6
    assert ingest_counts(store, [lists]) == (109, 0, 108, 1)
    assert scalar(store, "SELECT count(*) FROM messages") == 104
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 43


def test_gzipped_mbox_reads_the_same(lists, store, tmp_path):
    path = tmp_path / "nr.mbox.gz"
    path.write_bytes(gzip.compress((lists / NR).read_bytes()))
    assert sniff(path)[0] == "mbox"
    assert ingest_counts(store, [path]) == (59, 55, 3, 1)
    # Line numbers refer to the decompressed file, as for the plain one.
    assert store.quarantine()[0]["line"] == 2303


def test_damaged_gzip_keeps_the_messages_before_the_damage(lists, store, tmp_path):
    data = (lists / NR).read_bytes()
    packed = gzip.compress(data)
    path = tmp_path / "cut.mbox.gz"
    path.write_bytes(packed[:len(packed) // 2])
    read, stored, duplicate, bad = ingest_counts(store, [path])
    damage = store.quarantine()[-1]
    assert bad == 1 and damage["reason"].startswith("the compressed data is damaged after byte")
    # Every From_ line before the damage (counted in the plain file, like grep) gave a message.
    assert read - bad == len(re.findall(rb"^From ", data[:damage["byte_offset"]], re.MULTILINE))
    assert stored + duplicate == read - bad


def test_real_files_are_sniffed_as_mbox(lists):
    for name in (NR, EVS):
        assert sniff(lists / name)[0] == "mbox"


def test_other_formats_are_not_claimed(shared):
    # Every other file of the shared data (1,800 files: tweets, toots, skeets, Reddit, Stack
    # Exchange XML, GML, CSV, feeds...) must score below the threshold.
    checked = 0
    for path in sorted(shared.rglob("*")):
        if not path.is_file() or "mailinglist_3gpp_mbox" in path.parts:
            continue
        assert MboxReader.sniff(Sample(path, head_bytes(path))) < 0.5, path
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("head", [
    b'<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    b'<?xml version="1.0" encoding="utf-8"?>\n<posts>\n  <row Id="1" PostTypeId="1" />',
    b'<?xml version="1.0" encoding="utf-8"?>\n<users>\n  <row Id="-1" />',
    b'{"data": [{"id": "1", "text": "From here"}], "includes": {}}\n',
    b"title: notes\ndate: 2020-01-01\n\nbody\n",
    b"From here on, nothing is an email.\nreally\n",
])
def test_lookalikes_are_not_mbox(head):
    assert MboxReader.sniff(Sample("x", head)) < 0.5


# -- the synthetic fixtures ---------------------------------------------------------------------


def test_sample_mbox_counts_and_quarantine(store):
    assert sniff(SAMPLE)[0] == "mbox"
    # grep -c '^From ' -> 12 lines; the one at line 18 ("From here on", after a blank line) is body
    # text (no header follows; `grep -c '^From [^ ]* [A-Z][a-z][a-z] '` -> 11 dated From_ lines)
    # -> 11 messages: 8 distinct, one repeat of <reply1@example.net>, a bad date (line 81) and a
    # message cut off after its first header (line 120).
    assert ingest_counts(store, [SAMPLE]) == (11, 8, 1, 2)
    bad = store.quarantine()
    assert [(b["line"], b["reason"]) for b in bad] == [
        (81, "field 'date' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"),
        (120, "message has no From, Date, Subject, Message-ID or text"),
    ]
    data = SAMPLE.read_bytes()
    assert data[bad[0]["byte_offset"]:].startswith(b"From frank@example.org ")
    assert data[bad[1]["byte_offset"]:].startswith(b"From ivy@example.org ")
    # The rest of the file was imported, after the bad records too.
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id = 'email:hal1@example.org'") == 1


def test_sample_mbox_mapping(store):
    ingest_counts(store, [SAMPLE])
    row = store.con.execute(
        "SELECT actor_id, created_at, utc_offset, title, text, url, thread_id, extra->>'list' "
        "FROM messages WHERE message_id = 'email:kickoff@example.org'").fetchall()[0]
    assert row[:4] == ("email:ann@example.org", row[1], 60, "[demo] Kick-off")
    assert row[1].isoformat() == "2020-01-06T09:00:00"
    # Quoted-printable decoded; mboxrd ">From" / ">>From" unescaped once; "From here" kept in the body.
    assert row[4] == ("Hello all, the agenda is at https://example.org/agenda.\nFrom the minutes: "
                      "nothing yet.\n>From a quoted quote.\nCafé at ten.\n\nFrom here on, we meet weekly.\n"
                      "Cheers, Ann")
    assert row[5:] == ("https://lists.example.org/demo/1", "email:kickoff@example.org",
                       "demo.lists.example.org")
    # To: "Doe, Bob" <...>, carol at example.com (obfuscated); Cc: the list.
    assert store.con.execute("SELECT actor_id, role FROM recipients WHERE message_id = "
                             "'email:kickoff@example.org' ORDER BY 1").fetchall() == [
        ("email:bob@example.net", "to"), ("email:carol@example.com", "to"),
        ("email:demo@lists.example.org", "cc")]
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'email'") == 5
    # Base64 iso-8859-1 body, RFC 2047 name in From.
    assert scalar(store, "SELECT text FROM messages WHERE message_id = 'email:reply1@example.net'") == \
        "Thanks Ann, see you at the café.\nMinutes: https://example.net/minutes"
    assert scalar(store, "SELECT count(*) FROM links WHERE url = 'https://example.net/minutes'") == 1
    # "from: carol at example.com (Carol Example)", lower-case headers, "RE: Re: Kick-off" without
    # In-Reply-To: attached by subject to "[demo] Kick-off" (list tag ignored).
    assert store.con.execute("SELECT actor_id, reply_to, thread_id, extra->>'threaded_by' FROM messages "
                             "WHERE message_id = 'email:carol1@example.com'").fetchall() == [
        ("email:carol@example.com", "email:kickoff@example.org", "email:kickoff@example.org", "subject")]
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'email:carol@example.com'") == \
        "Carol Example"
    # "Sv: Budget" comes before "Budget" in the file but is dated a day later: it waits for it.
    assert scalar(store, "SELECT reply_to FROM messages WHERE message_id = 'email:gina1@example.org'") == \
        "email:hal1@example.org"
    # A reply whose parent is absent: reply_to dangles, the thread is References[0].
    assert store.con.execute("SELECT reply_to, thread_id FROM messages WHERE message_id = "
                             "'email:dan1@example.org'").fetchall() == [
        ("email:missing@example.org", "email:root@example.org")]
    # An unparseable From: no actor, the raw value kept.
    assert store.con.execute("SELECT actor_id, extra->>'from' FROM messages WHERE message_id = "
                             "'email:noaddr@example.org'").fetchall() == [(None, "undisclosed-recipients")]
    # No Message-ID: a synthetic id; the HTML part is the text (the text/plain part is an attachment).
    row = store.con.execute("SELECT message_id, text, extra->>'synthetic_id' FROM messages "
                            "WHERE actor_id = 'email:erin@example.org'").fetchall()
    assert len(row) == 1 and row[0][0].startswith("email:sha1-") and row[0][0].endswith("@whuffie.invalid")
    assert row[0][1:] == ("Read issue 1 now.", "true")
    assert scalar(store, "SELECT url FROM links WHERE message_id = ?", [row[0][0]]) == \
        "https://news.example.com/issue/1"


def test_reimport_stores_nothing_twice(store):
    ingest_counts(store, [SAMPLE])
    # The synthetic id is stable, so even the message without Message-ID is a duplicate.
    assert ingest_counts(store, [SAMPLE]) == (11, 0, 9, 2)
    assert scalar(store, "SELECT count(*) FROM messages") == 8


def test_eml_single_message(store):
    assert sniff(EML)[0] == "mbox"
    assert ingest_counts(store, [EML]) == (1, 1, 0, 0)
    row = store.con.execute("SELECT message_id, actor_id, title, created_at, utc_offset FROM messages"
                            ).fetchall()[0]
    assert row[:3] == ("email:resume-week@example.org", "email:zoe@example.org", "Résumé of the week")
    assert (row[3].isoformat(), row[4]) == ("2020-02-04T08:15:00", 60)
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'email:zoe@example.org'") == "Zoë Example"
    # "Cc: Max <max@example.net>; lee at example.com": a semicolon list with an obfuscated address.
    assert store.con.execute("SELECT actor_id, role FROM recipients ORDER BY 1").fetchall() == [
        ("email:lee@example.com", "cc"), ("email:max@example.net", "cc"), ("email:team@example.net", "to")]


def test_eml_with_other_name_and_text_before_first_from(store, tmp_path):
    path = tmp_path / "message.txt"
    shutil.copy(EML, path)
    assert sniff(path)[0] == "mbox"
    odd = tmp_path / "odd.mbox"
    odd.write_bytes(b"\nFrom a@example.org Mon Jan  6 09:00:00 2020\nFrom: a@example.org\n"
                    b"Message-ID: <odd@x>\n\nhi\n")
    assert ingest_counts(store, [odd], format="mbox") == (1, 1, 0, 0)


def test_text_before_the_first_message_is_quarantined(store, tmp_path):
    path = tmp_path / "preamble.mbox"
    path.write_bytes(b"\n" + SAMPLE.read_bytes().replace(b"From ann@", b"stray text\n\nFrom ann@", 1))
    # Not sniffed as mbox (it does not start with a From_ line): read with --format mbox. 11 messages
    # as in test_sample_mbox_counts_and_quarantine, plus the stray text (line 2) quarantined.
    assert ingest_counts(store, [path], format="mbox") == (12, 8, 1, 3)
    assert (store.quarantine()[0]["line"], store.quarantine()[0]["reason"]) == (
        2, "text before the first 'From ' line of the mbox")


def test_map_record_errors_name_the_problem():
    reader = MboxReader()
    with pytest.raises(SourceError, match="expected the bytes of a message"):
        reader.map_record(42)
    with pytest.raises(SourceError, match="no From, Date, Subject, Message-ID or text"):
        reader.map_record(b"")
    with pytest.raises(SourceError, match="field 'date' is 'soon'"):
        reader.map_record(b"From: a@b.org\nDate: soon\n\nx\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("Jane Doe <JANE@Example.COM>", ("jane@example.com", "Jane Doe")),
    ("jane at example.com", ("jane@example.com", None)),
    ('"xingjinqiang@oppo.com" xingjinqiang@OPPO.COM', ("xingjinqiang@oppo.com", None)),
    ("<mailto:x@y.org>", ("x@y.org", None)),
    ("nobody", (None, None)),
    ("", (None, None)),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_subject_key_prefixes():
    assert subject_key("AW: Antw: Re[2]: Hello") == ("hello", True)
    assert subject_key("Hello") == ("hello", False)
    assert subject_key(None) == ("", False)


# -- robustness ----------------------------------------------------------------------------------

_FROM = b"From x@example.org Mon Jan  6 09:00:00 2020\n"


def _check(path, fmt="mbox", must_have=None):
    with whuffie.open(":memory:") as s:
        read, stored, duplicate, bad = ingest_counts(s, [path], format=fmt)
        assert read == stored + duplicate + bad
        if must_have:
            assert scalar(s, "SELECT count(*) FROM messages WHERE message_id = ?", [must_have]) == 1
        return read, stored, duplicate, bad


_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@_SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE.read_bytes())))
def test_truncated_mbox_never_fails_the_import(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("cut") / "cut.mbox"
    path.write_bytes(SAMPLE.read_bytes()[:cut])
    _read, stored, _dup, _bad = _check(path)
    assert stored <= 8


@pytest.mark.slow
@_SETTINGS
@given(body=st.binary(max_size=600))
def test_garbage_after_a_from_line_never_fails_the_import(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("junk") / "junk.mbox"
    path.write_bytes(_FROM + body + b"\n" + _FROM + b"From: a@example.org\nMessage-ID: <ok@x>\n\nok\n")
    # The well-formed last message always survives whatever precedes it.
    _check(path, must_have="email:ok@x")


@_SETTINGS
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8", "replace")))
def test_map_record_only_raises_source_errors(data):
    """Whatever the bytes, mapping gives one message or a SourceError."""
    try:
        out = MboxReader().map_record(data)
    except SourceError:
        return
    assert len(out.messages) == 1


@_SETTINGS
@given(chunk=st.integers(min_value=1, max_value=300))
def test_splitting_does_not_depend_on_chunk_boundaries(chunk):
    data = SAMPLE.read_bytes()
    whole = list(split_mbox(io.BytesIO(data)))
    # The dated From_ lines, found like `grep -n -b '^From [^ ]* [A-Z][a-z][a-z] '`.
    starts = [m.start() for m in re.finditer(rb"^From \S+ [A-Z][a-z]{2} ", data, re.MULTILINE)]
    assert [m[1:] for m in whole] == [(data.count(b"\n", 0, s) + 1, s) for s in starts]
    assert len(whole) == 11
    assert list(split_mbox(io.BytesIO(data), chunk)) == whole
