"""Shared fixtures: the real data folder beside the project, and fresh stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import whuffie

ROOT = Path(__file__).resolve().parents[1]
#: Real public data sets (see ../shared/data/README.md); absent on a user's machine.
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: The project's own small, licence-clean fixtures.
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared real-data folder; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} is absent (set WHUFFIE_SHARED_DATA)")
    return SHARED


@pytest.fixture
def store(tmp_path):
    """A fresh store in a temporary file."""
    s = whuffie.open(tmp_path / "test.duckdb")
    yield s
    s.close()


def ingest_counts(store, paths, **kwargs):
    """Ingest and return (read, stored, duplicate, quarantined) totals."""
    report = store.ingest([str(p) for p in paths], **kwargs)
    return tuple(report.total(k) for k in ("read", "stored", "duplicate", "quarantined"))


def scalar(store, sql, params=None):
    """The single value of a query."""
    return store.con.execute(sql, params or []).fetchall()[0][0]


def cli(*args, **kwargs):
    """Run a ``whuffie`` command in this process (arguments turned to strings); errors propagate."""
    from typer.testing import CliRunner

    from whuffie.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A store holding the bundled real sample (Stack Exchange dump), built once; copy it to write."""
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with whuffie.open(path) as s:
        s.ingest(whuffie.sample_files())
    return path


@pytest.fixture
def sample_store(sample_db, tmp_path):
    """A fresh, writable copy of the sample store."""
    import shutil

    path = tmp_path / "sample.duckdb"
    shutil.copy(sample_db, path)
    s = whuffie.open(path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """``whuffie demo`` run once in a fresh folder, as a user runs it: (folder, stdout)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "COLUMNS": "110"}
    done = subprocess.run([sys.executable, "-m", "whuffie", "demo"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return folder, done.stdout
