"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

from whuffie.sources.docs import formats_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_formats_doc_is_generated_from_the_readers():
    committed = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    assert committed == formats_markdown(), (
        "docs/formats.md is out of date: run 'whuffie formats --markdown > docs/formats.md'"
    )


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && whuffie demo" in readme
    assert 'pip install -e ".[test]" && pytest' in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[test]"' in ci and "\npytest" in ci
