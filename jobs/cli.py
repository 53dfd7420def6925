"""The `costopt` command line. Each command is a thin shell over the domain in `costopt/`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="directory for the database, report and exports")]
    = Path("costopt-demo"),
    preset: Annotated[str, typer.Option(help="fleet size: tiny, small, wix or huge")] = "small",
    seed: Annotated[int | None, typer.Option(help="simulator seed (default: the preset's)")]
    = None,
    serve: Annotated[bool, typer.Option(help="serve the API on the result afterwards")] = False,
    port: Annotated[int, typer.Option(help="API port with --serve")] = 8080,
) -> None:
    """Run the whole pipeline on a simulated fleet: store, analyze, report; optionally serve."""
    from jobs.demo import run_demo

    try:
        result = run_demo(out, preset, seed, echo=typer.echo)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if serve:
        from jobs.serve import serve_demo

        serve_demo(result.store_url, port)


def main() -> None:
    app()
