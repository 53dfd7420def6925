"""`costopt apply` and `costopt plan export`: from the savings plan to a change, as thin
shells over `costopt/changes/` (registered in `jobs/cli.py`)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from jobs.cli import ConfigOption, _existing_store, _settings

plan_app: typer.Typer = typer.Typer(help="The savings plan as change sets.", no_args_is_help=True,
                       rich_markup_mode=None)

StepOption = Annotated[list[str] | None, typer.Option(
    "--step", help="only these plan steps (number or recommendation id); repeatable")]
KindOption = Annotated[list[str] | None, typer.Option(
    "--kind", help="only steps of this kind (retention, compression, ...); repeatable")]
ClusterOption = Annotated[str | None, typer.Option("--cluster", help="only this cluster")]


def apply(config: ConfigOption = None,
          yes: Annotated[bool, typer.Option("--yes", help="apply (default: a dry run that "
                                                          "prints the diff)")] = False,
          max_changes: Annotated[int, typer.Option("--max-changes", min=1, help=(
              "at most this many topic changes at once"))] = 20,
          step: StepOption = None, kind: KindOption = None, cluster: ClusterOption = None,
          undo: Annotated[Path | None, typer.Option(
              "--undo", help="restore the before values of an undo file a previous "
                             "apply wrote")] = None,
          undo_file: Annotated[Path | None, typer.Option(
              "--undo-file", help="where to write the undo file (default: "
                                  "costopt-undo-<time>.json here)")] = None) -> None:
    """Apply the plan's topic config changes through the Admin API (incremental alter
    configs): a dry run unless --yes. Refuses, naming the reason, protected topics,
    provisional evidence, topics changed since the plan's snapshot and more than
    --max-changes at once. Records each change (GET /v1/changes) and writes an undo file."""
    from datetime import UTC, datetime

    from costopt.analyze.analysis import cached_analysis
    from costopt.analyze.decisions import Decisions
    from costopt.base.errors import InvalidInput
    from costopt.changes.apply_to_cluster import mark_applied, read_undo_file, run
    from costopt.changes.topic_changes import topic_changes
    from costopt.rules.registry import protection
    from costopt.sources.kafka.alter import AdminConfigAccess
    from costopt.store.change_audit import ChangeStore
    from costopt.store.store import StatusStore

    settings = _settings(config)
    store = _existing_store(settings)
    clusters = {c.name: c for c in settings.clusters}
    who = getpass.getuser()
    undo_path = undo_file or Path(f"costopt-undo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json")

    def access_for(name: str) -> AdminConfigAccess:
        if name not in clusters:
            raise ValueError(f"cluster {name} is not in the config")
        return AdminConfigAccess(clusters[name])

    analysis = None
    try:
        if undo is not None:
            changes = read_undo_file(undo)
            result = run(changes, access_for, None, yes=yes, max_changes=max_changes,
                         who=who, audit=ChangeStore(store), undo_path=undo_path,
                         action="undo", moved="moved on since costopt set it")
        else:
            analysis = cached_analysis(store, settings)
            plan = analysis.plan(Decisions(StatusStore(store).statuses()))
            changes = topic_changes(plan, step or (), kind or (), cluster)
            result = run(changes, access_for, protection(settings.rules), yes=yes,
                         max_changes=max_changes, who=who, audit=ChangeStore(store),
                         undo_path=undo_path)
    except InvalidInput as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    shown = result.applied if yes else result.ready
    for change in shown:
        step_text = f"step {change.step}" if change.step is not None else "undo"
        typer.echo(f"{'applied' if yes else 'would apply'} {change.cluster}/{change.topic} "
                   f"({step_text}): {', '.join(change.diff())}")
    for refusal in result.refused + result.failed:
        typer.echo(f"refused {refusal.change.cluster}/{refusal.change.topic}: "
                   f"{refusal.reason}", err=True)
    if yes and analysis is not None and result.applied:
        mark_applied(StatusStore(store), analysis, result.applied, who)
    if yes and undo is not None and result.applied:  # undone: back in the plan
        StatusStore(store).reopen({c.recommendation_id for c in result.applied
                                   if c.recommendation_id is not None}, "applied")
    if result.undo_file is not None:
        typer.echo(f"undo file: {result.undo_file} (costopt apply --undo "
                   f"{result.undo_file} --yes)")
    if not yes:
        typer.echo(f"dry run: {len(result.ready)} change(s) would be applied, "
                   f"{len(result.refused)} refused; --yes to apply")
    if result.failed:
        raise typer.Exit(1)


@plan_app.command("export")
def plan_export(
    format: Annotated[str, typer.Option(
        "--format", help="kafka-configs, strimzi, terraform or cruise-control")],
    out: Annotated[Path, typer.Option("--out", help="directory to write the files into")],
    config: ConfigOption = None, step: StepOption = None, kind: KindOption = None,
    cluster: ClusterOption = None) -> None:
    """Write the savings plan as a change set for the tools teams apply changes with; client
    settings (producer codec and batching, consumer client.rack) go to one file per owner."""
    from costopt.analyze.analysis import cached_analysis
    from costopt.analyze.decisions import Decisions
    from costopt.changes.export import FORMATS, export_plan
    from costopt.changes.topic_changes import selected_steps
    from costopt.store.store import StatusStore

    if format not in FORMATS:
        raise typer.BadParameter(f"{format!r}: one of {', '.join(FORMATS)}",
                                 param_hint="--format")
    settings = _settings(config)
    store = _existing_store(settings)
    analysis = cached_analysis(store, settings)
    plan = analysis.plan(Decisions(StatusStore(store).statuses()))
    chosen = selected_steps(plan, step or (), kind or (), cluster)
    files = export_plan(plan, chosen, analysis.models,
                        format,
                        {c.name: c.bootstrap_servers for c in settings.clusters})
    for file in files:
        path = out / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text)
    typer.echo(f"{out}: {len(files)} file(s) of {len(chosen)} plan step(s), {format}")
