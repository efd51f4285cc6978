"""The command reference, ``docs/cli.md``, generated from the commands' own help.

Typer's documentation generator writes it, so the reference cannot drift from what ``--help``
says; ``tests/test_docs.py`` checks that the committed file is current. Regenerate with
``python -m whuffie.cli.reference > docs/cli.md``.
"""

from __future__ import annotations

PREAMBLE = """<!-- Generated from the commands' help: python -m whuffie.cli.reference > docs/cli.md -->

"""


def reference_markdown() -> str:
    """The Markdown reference of every ``whuffie`` command, its arguments and options.

    Examples
    --------
    >>> text = reference_markdown()
    >>> "## `whuffie ingest`" in text and "## `whuffie analyze`" in text
    True
    """
    import typer
    import typer.main
    from typer.cli import get_docs_for_click

    from whuffie.cli import app

    command = typer.main.get_command(app)
    docs = get_docs_for_click(obj=command, ctx=typer.Context(command), name="whuffie",
                              title="Command reference")
    # The generator escapes quotes for HTML; inside Markdown code spans they would show as "&#x27;".
    return PREAMBLE + docs.strip().replace("&#x27;", "'") + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(reference_markdown())
