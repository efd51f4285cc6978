"""Ingest benchmark: Whuffie against the parse floor and the coordination-network-toolkit.

One run, same input, printed side by side with ratios:

* **twarc2**: a large Twitter API v2 JSONL file (>= 200,000 tweets, ~0.7 GB) built by replaying
  the real twarc2 pages of ``../shared/data/formats/twarc2_v2_jsonl`` with new ids (every id-like
  string shifted by a per-replica offset, so replies, retweets and quotes still resolve) and
  shifted times. Measured: (a) a bare ``orjson.loads`` of every line, the parse floor; (b)
  ``whuffie ingest`` into a fresh store; (c) the coordination-network-toolkit's
  ``compute_networks DB preprocess --format twitter_json`` on the same file.
* **reddit**: the real Pushshift comments of ``RC_2005-12`` replayed with new ids to ~500,000
  comments, zstd-compressed with a 2 GiB window like the real dumps; floor vs ``whuffie ingest``.
* **mbox**: the real 3GPP mailing-list archives replayed with new Message-IDs to ~50,000 messages;
  ``mailbox.mbox`` + ``email`` parsing of every message (the stdlib floor) vs ``whuffie ingest``.

Whuffie and the peer run as separate processes; wall time is measured around each, and peak
resident memory is sampled from ``/proc`` every 50 ms, summed over the process and its workers.
Run: ``python benchmarks/ingest.py [--tweets 200000] [--keep]``; the peer needs
``pip install -e .[bench]``. It prints a Markdown table for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import zstandard

from measure import run

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
TWARC_PAGES = ["2sets.jsonl", "brexit.jsonl", "kpop.jsonl", "withheld.jsonl"]
ID_RE = re.compile(r"^\d{6,20}$")


# -- data generation -------------------------------------------------------------------------

def _shift_ids(value, offset: int, hours: int):
    """Shift every id-like string (and created_at) of a twarc2 page, consistently."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("created_at", "retrieved_at") and isinstance(v, str):
                try:
                    t = datetime.fromisoformat(v) + timedelta(hours=hours)
                    out[k] = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                    continue
                except ValueError:
                    pass
            out[k] = _shift_ids(v, offset, hours)
        return out
    if isinstance(value, list):
        return [_shift_ids(v, offset, hours) for v in value]
    if isinstance(value, str) and ID_RE.match(value):
        return str(int(value) + offset)
    return value


def make_twarc2(path: Path, tweets: int) -> int:
    pages = []
    seen: set[str] = set()
    for name in TWARC_PAGES:
        for line in (SHARED / "formats" / "twarc2_v2_jsonl" / name).read_bytes().splitlines():
            page = orjson.loads(line)
            data = page.get("data")
            # kpop.jsonl repeats a page of 2sets.jsonl: replay distinct tweets only. The last
            # page of withheld.jsonl lacks some authors in its includes (trimmed by its
            # authors); the peer aborts on such a page, so it is left out and both tools read
            # the same file to its end.
            users = {u["id"] for u in page.get("includes", {}).get("users", [])}
            if (isinstance(data, list) and data and not any(t["id"] in seen for t in data)
                    and all(t.get("author_id") in users for t in data)):
                seen.update(t["id"] for t in data)
                pages.append(page)
    written = 0
    replica = 0
    with open(path, "wb") as fh:
        while written < tweets:
            replica += 1
            offset = replica * 10**19
            for page in pages:
                fh.write(orjson.dumps(_shift_ids(page, offset, replica)) + b"\n")
                written += len(page["data"])
                if written >= tweets:
                    break
    return written


def make_reddit(path: Path, comments: int) -> int:
    lines = (SHARED / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson").read_bytes().splitlines()
    written = 0
    # A 2 GiB window and no content size in the frame header, like the real Pushshift dumps.
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31, write_content_size=False)
    cctx = zstandard.ZstdCompressor(compression_params=params)
    with open(path, "wb") as raw, cctx.stream_writer(raw) as fh:
        replica = 0
        while written < comments:
            replica += 1
            for line in lines:
                c = orjson.loads(line)
                for key in ("id", "parent_id", "link_id"):
                    v = c.get(key)
                    if isinstance(v, str):
                        pre, _, rest = v.rpartition("_")
                        c[key] = f"{pre}_{rest}r{replica}" if pre else f"{v}r{replica}"
                if isinstance(c.get("created_utc"), int):
                    c["created_utc"] += replica * 3600
                fh.write(orjson.dumps(c) + b"\n")
                written += 1
                if written >= comments:
                    break
    return written


def make_mbox(path: Path, messages: int) -> int:
    sources = sorted((SHARED / "mailinglist_3gpp_mbox").glob("*.mbox"))
    raw = []
    for src in sources:
        for msg in mailbox.mbox(str(src)):
            raw.append(msg.as_bytes(unixfrom=True))
    written = 0
    with open(path, "wb") as fh:
        replica = 0
        while written < messages:
            replica += 1
            prefix = b"<r%d." % replica
            for body in raw:
                # New Message-IDs and references per replica: ids stay consistent inside one.
                text = re.sub(rb"<([^<>@\s]+@[^<>\s]+)>", lambda m, p=prefix: p + m.group(1) + b">", body)
                fh.write(text.rstrip(b"\n") + b"\n\n")
                written += 1
                if written >= messages:
                    break
    return written


# -- measurement ------------------------------------------------------------------------------

FLOOR_JSON = """
import sys, orjson
n = 0
opener = open
if sys.argv[1].endswith('.zst'):
    import io, zstandard
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    fh = io.BufferedReader(dctx.stream_reader(open(sys.argv[1], 'rb')))
else:
    fh = open(sys.argv[1], 'rb')
for line in fh:
    orjson.loads(line)
"""

FLOOR_MBOX = """
import sys, mailbox, email.policy
for msg in mailbox.mbox(sys.argv[1], factory=None):
    msg.get_payload(decode=True)
"""

PEER = """
import sys
from coordination_network_toolkit.preprocess import preprocess_twitter_json_files
preprocess_twitter_json_files(sys.argv[1], [sys.argv[2]])
"""


def whuffie_cmd(db: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "whuffie", "ingest", str(path), "--db", str(db)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tweets", type=int, default=200_000)
    ap.add_argument("--comments", type=int, default=500_000)
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--only", choices=["twarc2", "reddit", "mbox"], action="append")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"the real data folder {SHARED} is missing (set WHUFFIE_SHARED_DATA)")
    work = Path(tempfile.mkdtemp(prefix="whuffie-bench-"))
    env = dict(os.environ, COLUMNS="100")
    results = []
    try:
        only = set(args.only or ["twarc2", "reddit", "mbox"])
        if "twarc2" in only:
            path = work / "tweets.jsonl"
            n = make_twarc2(path, args.tweets)
            size = path.stat().st_size / 2**20
            print(f"twarc2: {n:,} tweets, {size:,.0f} MiB in {path}", flush=True)
            floor, floor_mem = run([sys.executable, "-c", FLOOR_JSON, str(path)])
            ours, ours_mem = run(whuffie_cmd(work / "w.duckdb", path), env)
            try:
                peer, peer_mem = run([sys.executable, "-c", PEER, str(work / "peer.sqlite"), str(path)])
            except SystemExit as exc:
                print(f"peer failed: {exc}")
                peer, peer_mem = float("nan"), float("nan")
            results.append(("twarc2", n, "tweets", floor, floor_mem, ours, ours_mem, peer, peer_mem,
                            "coordination-network-toolkit 1.5 preprocess"))
        if "reddit" in only:
            path = work / "RC_replayed.zst"
            n = make_reddit(path, args.comments)
            print(f"reddit: {n:,} comments, {path.stat().st_size / 2**20:,.0f} MiB zstd", flush=True)
            floor, floor_mem = run([sys.executable, "-c", FLOOR_JSON, str(path)])
            ours, ours_mem = run(whuffie_cmd(work / "r.duckdb", path), env)
            results.append(("reddit", n, "comments", floor, floor_mem, ours, ours_mem, None, None, ""))
        if "mbox" in only:
            path = work / "list.mbox"
            n = make_mbox(path, args.messages)
            print(f"mbox: {n:,} messages, {path.stat().st_size / 2**20:,.0f} MiB", flush=True)
            floor, floor_mem = run([sys.executable, "-c", FLOOR_MBOX, str(path)])
            ours, ours_mem = run(whuffie_cmd(work / "m.duckdb", path), env)
            results.append(("mbox", n, "messages", floor, floor_mem, ours, ours_mem, None, None, ""))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("| input | records | parse floor s | whuffie s | whuffie records/s | whuffie / floor "
          "| whuffie peak MiB | peer s | peer / whuffie | peer peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, n, unit, floor, _fmem, ours, omem, peer, pmem, _peer_name in results:
        peer_cols = (f"{peer:.1f} | {peer / ours:.2f}x | {pmem:,.0f}" if peer is not None
                     else "- | - | -")
        print(f"| {name} | {n:,} {unit} | {floor:.1f} | {ours:.1f} | {n / ours:,.0f} | "
              f"{ours / floor:.2f}x | {omem:,.0f} | {peer_cols} |")


if __name__ == "__main__":
    main()
