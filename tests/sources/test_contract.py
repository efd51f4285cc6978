"""The contract every registered reader honours (walks the ``whuffie.readers`` entry points)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from whuffie.model import Records
from whuffie.sources import BROKEN, Reader, Sample, reader_classes
from whuffie.sources.base import Bad, Raw

READERS = reader_classes()
EXPECTED = {"twarc2", "twitter-v1", "mastodon", "bluesky", "reddit", "mbox", "feed", "cascade-tree",
            "stackexchange", "discourse", "telegram", "csv", "jsonl", "edges"}


def test_every_built_in_reader_is_registered_and_loads():
    assert BROKEN == {}
    assert set(READERS) >= EXPECTED


@pytest.mark.parametrize("rid", sorted(READERS))
def test_reader_declares_what_it_is(rid):
    cls = READERS[rid]
    assert issubclass(cls, Reader)
    assert cls.id == rid and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rid)
    assert re.fullmatch(r"[a-z0-9-]+", cls.platform)
    assert len(cls.title) > 10
    assert isinstance(cls.options_help, dict)
    assert all(isinstance(k, str) and len(v) > 5 for k, v in cls.options_help.items())
    for method in ("sniff", "read", "map_record"):
        assert getattr(cls, method) is not getattr(Reader, method), f"{rid} lacks {method}"
    module = inspect.getmodule(cls)
    assert module.__doc__ and len(module.__doc__) > 300, f"{rid}: document the format in the module"
    assert cls.__doc__


@pytest.mark.parametrize("rid", sorted(READERS))
def test_sniff_is_a_probability_and_empty_files_are_nobodys(rid):
    cls = READERS[rid]
    for head in (b"", b"\n\n", b"hello world", b"\x00\xff" * 100):
        score = cls.sniff(Sample(Path(f"x/file{rid}.bin"), head))
        assert 0.0 <= score < 0.5, f"{rid} claims {head!r} with {score}"


def test_map_record_of_nonsense_raises_source_errors_not_crashes():
    from whuffie.errors import SourceError

    for rid, cls in READERS.items():
        reader = cls()
        for value in (None, 42, "text", [], {}, {"id": None}, [{"x": 1}]):
            try:
                out = reader.map_record(value)
            except SourceError:
                continue
            except Exception as exc:  # noqa: BLE001 - the assertion names what escaped
                pytest.fail(f"{rid}.map_record({value!r}) raised {type(exc).__name__}: {exc}")
            assert isinstance(out, Records), f"{rid}.map_record({value!r}) returned {out!r}"


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=2000), rid=st.sampled_from(sorted(READERS)))
def test_any_bytes_never_crash_an_import(tmp_path_factory, data, rid):
    folder = tmp_path_factory.mktemp("junk")
    path = folder / "input.dat"
    path.write_bytes(data)
    with whuffie.open(folder / "s.duckdb") as store:
        report = store.ingest([path], format=rid)
        f = report.files[0]
        assert f.status == "complete"
        assert f.read == f.stored + f.duplicate + f.quarantined
        assert store.sql("SELECT status FROM imports")[0]["status"] == "complete"


@pytest.mark.parametrize("rid", sorted(READERS))
def test_read_yields_raw_or_bad(rid, tmp_path):
    from whuffie.sources.io import Input

    path = tmp_path / "f.txt"
    path.write_bytes(b'{"not": "really"}\n[1, 2\n')
    with Input(path) as inp:
        for item in READERS[rid]().read(inp):
            assert isinstance(item, Raw | Bad)
