"""Hostile input: a short, fixed-seed fuzz run of every reader through ``whuffie ingest``.

The long run is ``python benchmarks/fuzz.py --minutes 20``; see tests/fuzzing.py for the harness.
"""

from __future__ import annotations

import random

import pytest

from tests.conftest import SHARED
from tests.fuzzing import (
    FAILURES,
    KINDS,
    SAMPLES,
    classify,
    failure_key,
    make_case,
    minimize,
    mutate,
    run_case,
    samples,
    save_finding,
)
from whuffie.sources import reader_ids

SEED = 20261207
FORMATS = reader_ids()


def _sample_or_skip(fmt: str) -> None:
    try:
        samples(fmt)
    except LookupError as exc:
        pytest.skip(str(exc))


def test_every_registered_format_has_samples():
    """A new reader must say where its fuzz samples come from."""
    assert set(FORMATS) <= set(SAMPLES), sorted(set(FORMATS) - set(SAMPLES))
    if SHARED.is_dir():
        missing = []
        for fmt in FORMATS:
            try:
                samples(fmt)
            except LookupError:
                missing.append(fmt)
        assert not missing


@pytest.mark.parametrize("kind", KINDS)
def test_mutations_are_replayable_and_change_the_bytes(kind):
    data = b'{"id": "1", "text": "caf\xc3\xa9", "user": {"id": "u1"}}\n' * 20
    one = mutate(random.Random(f"t:{kind}"), data, kind)
    two = mutate(random.Random(f"t:{kind}"), data, kind)
    assert one.data == two.data and one.labels == two.labels
    assert one.data != data and one.labels


def test_case_is_rebuilt_from_format_seed_and_number():
    fmt = "zeeschuimer"
    a, b = make_case(fmt, SEED, 5), make_case(fmt, SEED, 5)
    assert (a.sample, a.kind, a.labels, a.data) == (b.sample, b.kind, b.labels, b.data)
    assert a.replay() == f"python tests/fuzzing.py --format {fmt} --seed {SEED} --case 5 --kind {a.kind}"
    others = {make_case(fmt, SEED, n).data for n in range(6)}
    assert len(others) > 1


@pytest.mark.parametrize(("exit_code", "stderr", "expected"), [
    (0, "", "ok"),
    (1, "Error: x.jsonl line 2: field 'id' is 'x', expected an integer\n", "clean"),
    (1, "", "CRASH"),
    (1, "Error: one\nError: two\n", "CRASH"),
    (1, 'Traceback (most recent call last):\n  File "a.py", line 1, in f\nValueError: x\n', "CRASH"),
    (1, 'Traceback (most recent call last):\n  File "a.py", line 1, in f\nMemoryError\n', "OOM"),
    (-6, "", "CRASH"),
    (-9, "", "OOM"),
    (3, "Error: odd\n", "CRASH"),
])
def test_classify(exit_code, stderr, expected):
    assert classify(exit_code, stderr)[0] == expected


def test_a_crash_is_caught_with_its_frame_and_replay(tmp_path, monkeypatch):
    """The harness itself: a reader that raises must come out as CRASH, keyed by its last frame."""
    # A sitecustomize breaks the JSON-lines parser in the child only: a real traceback, real child.
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import whuffie.sources.io as io\n"
        "def broken(line):\n"
        "    raise RuntimeError('fuzz self-test')\n"
        "io.loads_json_line = broken\n")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    case = make_case("zeeschuimer", SEED, 0, kind="lines")
    outcome = run_case(case, tmp_path / "case", timeout=120)
    assert outcome.kind == "CRASH", (outcome.kind, outcome.stderr[-2000:])
    # The last frame, and the innermost of Whuffie's own frames (the reader that called it).
    assert outcome.key.startswith("RuntimeError at sitecustomize.py:3 in broken via base.py:")
    note = save_finding(outcome, tmp_path / "findings").read_text()
    assert case.replay() in note and "whuffie -q ingest" in note


@pytest.mark.slow
def test_minimize_keeps_the_failing_line(tmp_path, monkeypatch):
    """Delta debugging drops the lines a crash does not need and keeps the one it does."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import whuffie.sources.io as io\n"
        "parse = io.loads_json_line\n"
        "def picky(line):\n"
        "    if b'BOOM' in line:\n"
        "        raise RuntimeError('fuzz self-test')\n"
        "    return parse(line)\n"
        "io.loads_json_line = picky\n")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    case = make_case("zeeschuimer", SEED, 0, kind="lines")
    lines = case.data.splitlines(keepends=True)
    lines[len(lines) // 2] = b'{"BOOM": 1}\n'
    case.data = b"".join(lines)
    outcome = run_case(case, tmp_path / "case", timeout=120, check=False)
    assert outcome.kind == "CRASH"
    smaller = minimize(outcome, tmp_path / "min", tries=4, timeout=120)
    assert smaller is not None
    assert b'{"BOOM": 1}\n' in smaller.data and len(smaller.data) < len(case.data)
    note = save_finding(outcome, tmp_path / "findings", smaller).read_text()
    assert "minimized (" in note


def test_a_memory_hog_is_caught(tmp_path, monkeypatch):
    """The harness itself: a child whose resident memory passes the limit comes out as OOM."""
    hook = tmp_path / "hook"
    hook.mkdir()
    # Written bytes, so the pages are resident (a bytearray of zeros might not be).
    (hook / "sitecustomize.py").write_text("HOG = b'x' * (600 << 20)\n")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    case = make_case("zeeschuimer", SEED, 0, kind="lines")
    outcome = run_case(case, tmp_path / "case", timeout=120, memory=400 << 20)
    assert (outcome.kind, outcome.key) == ("OOM", "resident memory above 400 MiB")
    assert failure_key(outcome) == f"OOM ingest: resident memory above 400 MiB (zeeschuimer, {case.kind})"


def _run(fmt: str, numbers: list[int], tmp_path) -> None:
    _sample_or_skip(fmt)
    failures = []
    for n in numbers:
        # Each format's cases walk the mutation kinds from its own offset, so a short run covers
        # every kind across the formats.
        kind = KINDS[(FORMATS.index(fmt) + n) % len(KINDS)]
        case = make_case(fmt, SEED, n, kind=kind)
        outcome = run_case(case, tmp_path / f"case{n}", timeout=120)
        if outcome.kind in FAILURES:
            note = save_finding(outcome, tmp_path / "findings")
            failures.append(f"{failure_key(outcome)} [{case.description}]\n  replay: {case.replay()}\n"
                            f"  note: {note}\n  {outcome.stderr.strip()[-600:]}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzz_short(fmt, tmp_path):
    """One fixed case per format: no crash, hang or memory blow-up, and a re-run stores nothing new."""
    _run(fmt, [0], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzz_three_per_format(fmt, tmp_path):
    _run(fmt, [1, 2, 3], tmp_path)
