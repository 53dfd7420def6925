"""The `costopt` command line. Each command is a thin shell over the domain in `costopt/`."""

from __future__ import annotations

import typer

from costopt import __version__

app = typer.Typer(
    name="costopt",
    help="Kafka cost and capacity optimization: what each topic and team costs, and what to "
    "change to spend less.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Kafka cost and capacity optimization."""


@app.command()
def version() -> None:
    """Print costopt's version."""
    typer.echo(__version__)


def main() -> None:
    app()
