"""docs/api.md is a tutorial that runs: every Python block is executed, in order, and checked."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def blocks(text: str) -> list[tuple[str, str]]:
    """The fenced blocks of a Markdown text: (language, body)."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def test_the_tutorial_runs_and_prints_what_it_shows(tmp_path):
    found = blocks((ROOT / "docs" / "api.md").read_text())
    assert sum(1 for lang, _ in found if lang == "python") >= 10
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, (lang, body) in enumerate(found):
            if lang != "python":
                continue
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"docs/api.md block {i}", "exec"), namespace)
            following = found[i + 1] if i + 1 < len(found) else ("", "")
            if following[0] == "text":
                assert out.getvalue().strip() == following[1].strip(), f"block {i}:\n{body}"
    finally:
        os.chdir(here)
    assert (tmp_path / "report" / "index.html").is_file() and (tmp_path / "graph.gexf").is_file()
