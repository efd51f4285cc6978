"""From raw exports to a report: ``whuffie ingest`` and every analysis step, one by one, on
realistic corpora of growing size, with the time, CPU time and peak memory of each step.

The corpora replay the real samples of ``../shared/data/formats``: twarc2 search pages (85% of
the messages: ``brexit``, ``kpop``, ``withheld``) and the Pushshift Reddit comments of
December 2005 (15%). Copy ``i`` of a sample has new message ids, its messages' times mapped in
order into hour ``i`` from 2021-09-01 (so a corpus of a million messages covers two months of one
listening project, not the sixteen years between the samples), and its people renamed per group
of ``--group`` copies, except the most mentioned and
most replied-to accounts (``--keep`` of each sample), who stay the same people in every copy:
a campaign's celebrities, and one community rather than thousands of separate ones. Replies,
mentions, quotes and reshares keep their structure within a copy.

Every step runs in its own process through the library (``whuffie.open(db).influence()``...), in
the order ``whuffie analyze`` runs them; the report and the map are written at the end. Wall
time, CPU time (the process and its children) and the peak resident memory of the process tree
(sampled every 50 ms, as ``measure.py`` does) are printed as Markdown, with how each grows
from one size to the next.

Run: ``python benchmarks/end_to_end.py [--sizes 100000,300000,1000000] [--keep-folder DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from measure import run_captured
from validate_twitter15 import SHARED

FORMATS = SHARED / "formats"
# 2sets.jsonl is brexit.jsonl and kpop.jsonl together: left out, or every tweet would come twice.
TWARC = [FORMATS / "twarc2_v2_jsonl" / f"{name}.jsonl" for name in ("brexit", "kpop", "withheld")]
REDDIT = FORMATS / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"

#: The steps of ``whuffie analyze``, as library calls on the open store ``s`` (``out``: the report
#: folder).
STEPS = {
    "influence": "s.influence()",
    "efluentials": "s.efluentials()",
    "niches": "s.niches()",
    "pyramid": "s.pyramid()",
    "voice": "s.voice()",
    "buzz": "s.buzz('term', 'week')",
    "advocates": "s.advocates()",
    "cascades": "s.cascades()",
    "seeds": "s.seeds(5)",
    "map": "s.map(out / 'map.html')",
    "report": "s.report(out)",
}

DRIVER = """
import resource, sys, time
from pathlib import Path
import whuffie
out = Path(sys.argv[2])
with whuffie.open(sys.argv[1]) as s:
    {call}
"""

_TIME = re.compile(r'"created_at": ?"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z"')
#: Quoted numeric ids (twarc2 gives every tweet and user id as a string of digits).
_ID = re.compile(r'"(\d{4,25})"')
#: A handle, as a mention in a text or a user's ``username``.
_NAME = re.compile(r'(@|"username": ?")(\w{1,50})\b')


START = dt.datetime(2021, 9, 1)


def _hour(i: int, t: dt.datetime, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
    """Time ``t`` of a sample spanning ``lo`` to ``hi``, mapped in order into hour ``i`` from START."""
    share = (t - lo) / (hi - lo) if hi > lo else 0.0
    return START + dt.timedelta(hours=i + 0.999 * share)


class _Twarc:
    """The twarc2 pages, with what a copy renames."""

    def __init__(self, keep: int) -> None:
        self.pages, self.spans = [], []
        for path in TWARC:
            lines = [line for line in path.read_text().splitlines() if line.strip()]
            times = [dt.datetime.fromisoformat(t["created_at"][:19]) for line in lines
                     for t in json.loads(line).get("data", [])]
            self.pages += lines
            self.spans += [(min(times), max(times))] * len(lines)
        tweets, users, names, seen = set(), set(), set(), Counter()
        for line in self.pages:
            page = json.loads(line)
            data = page.get("data", [])
            included = page.get("includes", {}).get("tweets", [])
            for t in [*(data if isinstance(data, list) else [data]), *included]:
                tweets.add(t["id"])
                for m in t.get("entities", {}).get("mentions", []):
                    seen[m.get("id")] += 1
                if t.get("in_reply_to_user_id"):
                    seen[t["in_reply_to_user_id"]] += 1
            for u in page.get("includes", {}).get("users", []):
                users.add(u["id"])
                names.add(u["username"])
        kept = {u for u, _ in seen.most_common(keep)}
        self.kept_names = {u["username"] for line in self.pages
                           for u in json.loads(line).get("includes", {}).get("users", []) if u["id"] in kept}
        self.messages = sum(len(json.loads(line).get("data", [])) for line in self.pages)
        self.tweets, self.users = tweets, users - kept
        self.names = names - self.kept_names

    def copy(self, i: int, group: int) -> list[str]:
        g = i // group

        def ident(m: re.Match) -> str:
            v = m.group(1)
            if v in self.tweets:
                return f'"{v}{i:06d}"'
            return f'"{v}{g:05d}"' if v in self.users else m.group(0)

        def name(m: re.Match) -> str:
            return f"{m.group(1)}{m.group(2)}_{g}" if m.group(2) in self.names else m.group(0)

        out = []
        for line, (lo, hi) in zip(self.pages, self.spans, strict=True):

            def when(m: re.Match, lo=lo, hi=hi) -> str:
                t = dt.datetime.fromisoformat(m.group(1))
                if not lo <= t <= hi:  # an account's creation, a tweet older than the sample
                    return m.group(0)
                return f'"created_at": "{_hour(i, t, lo, hi).isoformat()}{m.group(2) or ""}Z"'

            out.append(_TIME.sub(when, _NAME.sub(name, _ID.sub(ident, line))))
        return out


class _Reddit:
    """The Reddit comments, with what a copy renames."""

    def __init__(self, keep: int) -> None:
        self.rows = [json.loads(line) for line in REDDIT.read_text().splitlines() if line.strip()]
        parents = {r["id"]: r["author"] for r in self.rows}
        replied = Counter(parents.get(r["parent_id"][3:]) for r in self.rows
                          if r["parent_id"].startswith("t1_"))
        self.kept = {a for a, _ in replied.most_common(keep) if a}
        self.messages = len(self.rows)
        times = [int(r["created_utc"]) for r in self.rows]
        self.span = (dt.datetime.fromtimestamp(min(times), dt.UTC).replace(tzinfo=None),
                     dt.datetime.fromtimestamp(max(times), dt.UTC).replace(tzinfo=None))

    def copy(self, i: int, group: int) -> list[str]:
        g = i // group
        out = []
        for r in self.rows:
            r = dict(r)
            r["id"] = f"{r['id']}x{i}"
            r["link_id"] = f"{r['link_id']}x{i}"
            r["parent_id"] = f"{r['parent_id']}x{i}"
            if r["author"] not in self.kept and r["author"] != "[deleted]":
                r["author"] = f"{r['author']}_{g}"
            t = dt.datetime.fromtimestamp(int(r["created_utc"]), dt.UTC).replace(tzinfo=None)
            r["created_utc"] = int(_hour(i, t, *self.span).replace(tzinfo=dt.UTC).timestamp())
            out.append(json.dumps(r))
        return out


def build(size: int, folder: Path, group: int, keep: int) -> dict[str, int]:
    """Write a corpus of about ``size`` messages into ``folder``: files of about 100k messages."""
    twarc, reddit = _Twarc(keep), _Reddit(keep)
    t_copies = max(1, round(0.85 * size / twarc.messages))
    r_copies = max(1, round(0.15 * size / reddit.messages))
    folder.mkdir(parents=True, exist_ok=True)
    per_file = max(1, 100_000 // twarc.messages)
    for start in range(0, t_copies, per_file):
        with (folder / f"twarc-{start:06d}.jsonl").open("w") as fh:
            for i in range(start, min(start + per_file, t_copies)):
                fh.write("\n".join(twarc.copy(i, group)) + "\n")
    per_file = max(1, 100_000 // reddit.messages)
    for start in range(0, r_copies, per_file):
        with (folder / f"RC-{start:06d}.ndjson").open("w") as fh:
            for i in range(start, min(start + per_file, r_copies)):
                fh.write("\n".join(reddit.copy(i, group)) + "\n")
    return {"twarc2 tweets": t_copies * twarc.messages, "reddit comments": r_copies * reddit.messages}


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (the process and its children) and peak resident MiB of ``cmd``."""
    script = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
              "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
              "print(u.ru_utime + u.ru_stime, file=sys.stderr); sys.exit(r.returncode)")
    wall, peak, code, _, err = run_captured([sys.executable, "-c", script, *cmd])
    lines = err.decode(errors="replace").rstrip().splitlines()
    if code != 0:
        return {"wall": wall, "cpu": float("nan"), "peak": peak, "error": "\n".join(lines[-5:])}
    return {"wall": wall, "cpu": float(lines[-1]), "peak": peak}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--group", type=int, default=20, help="copies that share the same people")
    ap.add_argument("--keep", type=int, default=50, help="accounts of each sample kept in every copy")
    ap.add_argument("--keep-folder", type=Path, help="keep the corpora and stores here")
    args = ap.parse_args(argv)
    root = args.keep_folder or Path(tempfile.mkdtemp(prefix="whuffie-e2e-"))
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[int, dict[str, dict[str, float]]] = {}
    for size in sizes:
        corpus, db, out = root / f"corpus-{size}", root / f"store-{size}.duckdb", root / f"report-{size}"
        started = time.perf_counter()
        made = build(size, corpus, args.group, args.keep)
        print(f"corpus of {size:,}: {made} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        ingest = [sys.executable, "-m", "whuffie", "-q", "ingest", str(corpus), "--db", str(db)]
        rows = {"ingest": measure(ingest)}
        for name, call in STEPS.items():
            rows[name] = measure([sys.executable, "-c", DRIVER.format(call=call), str(db), str(out)])
            print(f"  {size:,} {name}: {rows[name]}", file=sys.stderr, flush=True)
        table[size] = rows
    print("| step | " + " | ".join(f"{s:,}: wall s / CPU s / peak MiB" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in ["ingest", *STEPS]:
        cells = []
        for s in sizes:
            r = table[s][name]
            cells.append("failed" if "error" in r else f"{r['wall']:.0f} / {r['cpu']:.0f} / {r['peak']:,.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = [(sum(r["wall"] for r in table[s].values()), sum(r["cpu"] for r in table[s].values()))
              for s in sizes]
    print("| all | " + " | ".join(f"{w:.0f} / {c:.0f} / -" for w, c in totals) + " |")
    for name in ("ingest", *STEPS):
        errors = [(s, table[s][name]["error"]) for s in sizes if "error" in table[s][name]]
        for s, e in errors:
            print(f"\n{name} at {s:,} failed:\n```\n{e}\n```")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
