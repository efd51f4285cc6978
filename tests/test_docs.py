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


def test_cli_reference_is_generated_from_the_commands_help():
    from whuffie.cli.reference import reference_markdown

    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        "docs/cli.md is out of date: run 'python -m whuffie.cli.reference > docs/cli.md'"
    )


def test_citation_and_changelog_name_the_current_version():
    import yaml

    from whuffie.version import __version__

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["version"] == __version__
    assert citation["title"] and citation["authors"] and citation["license"] == "MIT"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {__version__} (" in changelog
