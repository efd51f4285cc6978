"""The ``whuffie`` command: thin commands over the library, one module per group.

Every command opens the store, calls one library function and prints the
result; a :class:`~whuffie.errors.WhuffieError` becomes ``Error: <message>``
and exit status 1. Listing commands take ``--json`` and ``--csv``.
"""

from __future__ import annotations

import typer

from whuffie.cli import demo, efluentials, export, graph, influence, ingest, privacy, spread, store, voice
from whuffie.cli.common import progress_console
from whuffie.cli.map import map_command
from whuffie.cli.niches import niches
from whuffie.version import __version__

app = typer.Typer(
    name="whuffie",
    help="Community intelligence from the real conversations around a brand or community.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"whuffie {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or spinners (on stderr); "
                                                            "results, notes and errors still print."),
) -> None:
    """Community intelligence from the real conversations around a brand or community."""
    progress_console.quiet = quiet


app.command()(ingest.ingest)
app.command()(store.status)
app.command()(store.quarantine)
app.command()(store.imports)
app.command()(store.runs)
app.command()(store.sql)
app.command()(ingest.formats)
app.command()(demo.demo)
app.command()(demo.analyze)
app.command()(demo.report)
app.command()(influence.influence)
app.command()(efluentials.efluentials)
app.command()(efluentials.pyramid)
app.command()(export.export)
app.command()(export.why)
app.command()(graph.graph)
app.command("map")(map_command)
app.command()(niches)
app.command()(voice.voice)
app.command()(voice.concerns)
app.command()(voice.buzz)
app.command()(voice.inbox)
app.command()(voice.advocates)
app.command()(spread.cascades)
app.command()(spread.spread)
app.command()(spread.seeds)
app.command()(privacy.forget)
app.command()(privacy.prune)
app.command()(privacy.pseudonym)


def main() -> None:
    """Entry point of the ``whuffie`` console script."""
    app()
