"""The `costopt` command line. Each command is a thin shell over the domain in `costopt/`."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from costopt import __version__
from costopt.base.money import micros_to_units

if TYPE_CHECKING:
    from collections.abc import Mapping

    from costopt.config import Settings
    from costopt.prices.catalog import PriceCatalog
    from costopt.store import Store

app = typer.Typer(
    name="costopt",
    help="Kafka cost and capacity optimization: what each topic and team costs, and what to "
    "change to spend less.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rich's panels printed `<bool>` for flags and broke sentences mid-line.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check the configuration.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(config_app, name="config")
bill_app = typer.Typer(help="Import and list invoices (FOCUS 1.x, AWS CUR 2.0, Confluent "
                       "Cloud costs).", no_args_is_help=True)
app.add_typer(bill_app, name="bill")
export_app = typer.Typer(help="Export the allocation for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="YAML config file (default: $COSTOPT_CONFIG)", exists=False)]


def _settings(config: Path | None) -> Settings:
    from costopt.config import ConfigError, load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _existing_store(settings: Settings) -> Store:
    """The configured store, for commands that read it: a store that is not there (or holds
    no snapshot) is an error that says how to make one, not a new empty database."""
    from sqlalchemy.engine import make_url

    from costopt.store import Store

    url = make_url(settings.store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not Path(url.database).exists():
        typer.echo(f"no store at {url.database}: collect first (`costopt collect --once "
                   "--config ...`), try the demo (`costopt demo`), or point store_url (or "
                   "$COSTOPT_STORE_URL) at an existing store", err=True)
        raise typer.Exit(2)
    store = Store.open(settings.store_url)
    if not store.clusters():
        typer.echo(f"the store at {settings.store_url.split('@')[-1]} holds no snapshot yet: "
                   "run `costopt collect --once` first", err=True)
        raise typer.Exit(2)
    return store


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Kafka cost and capacity optimization."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # urllib3 logs every retry of an unreachable Prometheus before costopt's own error says
    # what is wrong; that error is enough.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose else logging.ERROR)


FocusVersionOption = Annotated[str, typer.Option(
    "--focus-version", help="the FOCUS version of focus.csv: 1.2, 1.3 (default) or 1.4")]


def _checked_focus_version(version: str) -> str:
    from costopt.billing.focus_export import check_version

    try:
        check_version(version)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--focus-version") from None
    return version


@app.command()
def version() -> None:
    """Print costopt's version."""
    typer.echo(__version__)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="directory for the database, report and exports")]
    = Path("costopt-demo"),
    preset: Annotated[str, typer.Option(
        help="fleet: tiny, small, wix or huge; confluent for a Confluent Cloud fleet")]
    = "small",
    seed: Annotated[int | None, typer.Option(help="simulator seed (default: the preset's)")]
    = None,
    serve: Annotated[bool, typer.Option(help="serve the API on the result afterwards")] = False,
    port: Annotated[int, typer.Option(help="API port with --serve")] = 8080,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"],
        help="the day (YYYY-MM-DD) the simulated snapshot is taken, at 00:00 UTC; default "
             "2026-11-20, so the figures are the same on any day")] = None,
    focus_version: FocusVersionOption = "1.3",
) -> None:
    """Run the whole pipeline on a simulated fleet: store, analyze, report; optionally serve."""
    from jobs.demo import DEMO_AS_OF, run_demo

    _checked_focus_version(focus_version)
    try:
        result = run_demo(out, preset, seed, echo=typer.echo,
                          as_of=as_of.date() if as_of is not None else DEMO_AS_OF,
                          focus_version=focus_version)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if serve:
        from jobs.serve import serve_demo

        serve_demo(result.store_url, port)


@app.command()
def serve(config: ConfigOption = None,
          host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to bind")] = 8080,
          workers: Annotated[int, typer.Option(help="worker processes (the API is "
                                                    "stateless; one per core)")] = 1) -> None:
    """Serve the REST API (and /metrics) over the configured store."""
    import os

    import uvicorn

    from api.app import create_app

    settings = _settings(config)
    if settings.api.auth_enabled and not settings.api.tokens:
        typer.echo("warning: auth is on and no tokens are configured: every /v1 request "
                   "will get 401", err=True)
    if workers > 1:
        if config is not None:
            os.environ["COSTOPT_CONFIG"] = str(config.resolve())
        uvicorn.run("api.app:app_from_environment", factory=True, workers=workers, host=host,
                    port=port, log_level="warning",
                    timeout_graceful_shutdown=int(settings.api.shutdown_seconds))
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=int(settings.api.shutdown_seconds))


@app.command()
def collect(config: ConfigOption = None,
            once: Annotated[bool, typer.Option("--once", help="one collect of every cluster, "
                                               "then exit (otherwise: run the scheduler)")]
            = False,
            cluster: Annotated[list[str] | None, typer.Option(help="only these clusters")]
            = None) -> None:
    """Collect snapshots from Prometheus and Kafka; with --once a single pass, otherwise the
    scheduler (collect, analyze and report on their schedules)."""
    from costopt.sources.collect import collect_cluster
    from costopt.store import Store

    settings = _settings(config)
    if not once:
        from jobs.scheduler import run_scheduler

        run_scheduler(settings, str(config) if config else None)
        return
    chosen = [c for c in settings.clusters if not cluster or c.name in cluster]
    if not chosen:
        typer.echo("no clusters to collect: add clusters to the config", err=True)
        raise typer.Exit(2)
    store = Store.open(settings.store_url)
    failures = 0
    # The bar shows the cluster, then the collect's own progress (queries answered).
    with typer.progressbar(chosen, label="collecting", show_pos=True,
                           item_show_func=lambda c: c if isinstance(c, str) else
                           (c.name if c else "")) as clusters:
        def show(message: str) -> None:
            clusters.current_item = message  # type: ignore[assignment]
            clusters.render_progress()

        for item in clusters:
            try:
                result = collect_cluster(item, store, settings, progress=show)
                typer.echo(f"\n{item.name}: {result.topics} topics, {result.groups} groups "
                           f"({result.dialect or 'no prometheus'}) in {result.seconds:.1f} s")
            except Exception as exc:
                failures += 1
                typer.echo(f"\n{item.name}: FAILED: {exc}", err=True)
    if failures:
        raise typer.Exit(1)


@app.command()
def analyze(config: ConfigOption = None,
            top: Annotated[int, typer.Option(help="recommendations to print")] = 10) -> None:
    """Cost, recommendations and forecasts from the stored snapshots; prints a summary."""
    from costopt.analyze.analysis import cached_analysis
    from costopt.analyze.decisions import Decisions
    from costopt.store.store import StatusStore
    from jobs.demo import summary

    settings = _settings(config)
    store = _existing_store(settings)
    analysis = cached_analysis(store, settings)
    typer.echo(summary(analysis, Decisions(StatusStore(store).statuses()), top=top,
                       with_changes=True))


@app.command()
def budgets(config: ConfigOption = None) -> None:
    """Each budget's month to date, month-end forecast (80% interval) and status."""
    from costopt.analyze.analysis import cached_analysis
    from costopt.budget.fleet_budgets import budget_statuses
    from jobs.budget_text import budget_lines

    settings = _settings(config)
    store = _existing_store(settings)
    typer.echo(budget_lines(budget_statuses(cached_analysis(store, settings), store,
                                            settings)))


@app.command()
def report(config: ConfigOption = None,
           out: Annotated[Path | None, typer.Option(help="directory (default: config)")]
           = None,
           owner: Annotated[str | None, typer.Option(
               help="only this team's page, delivered to its webhook (report.owner_webhooks)")]
           = None) -> None:
    """Render the weekly report now, archive it in the store and deliver it if configured;
    with --owner, that team's page."""
    from reports.run import make_report

    settings = _settings(config)
    if out is not None:
        settings = settings.model_copy(update={"report": settings.report.model_copy(
            update={"directory": str(out)})})
    if owner is not None:
        _owner_page(settings, owner)
        return
    result = make_report(settings, _existing_store(settings))
    typer.echo(f"report {result['report_id']}: {result['html']}")


def _owner_page(settings: Settings, owner: str) -> None:
    import tempfile

    from costopt.analyze.analysis import cached_analysis
    from reports.owner_run import owner_context, write_owner_pages

    store = _existing_store(settings)
    context = owner_context(cached_analysis(store, settings), store, settings)
    if owner not in context.owners():
        typer.echo(f"unknown owner {owner!r}; owners: {', '.join(context.owners()[:20])}"
                   f"{', ...' if len(context.owners()) > 20 else ''}", err=True)
        raise typer.Exit(2)
    directory = Path(settings.report.directory or tempfile.mkdtemp(prefix="costopt-owner-"))
    page = write_owner_pages(context, settings, directory, [owner])[owner]
    delivered = {None: "no webhook for this owner", True: "delivered to its webhook",
                 False: "webhook delivery failed (see the log)"}[page["delivered"]]
    typer.echo(f"{owner}: {directory / page['page']} ({delivered})")


@app.command()
def anomalies(config: ConfigOption = None,
              notify: Annotated[bool, typer.Option(
                  "--notify/--no-notify", help="send the webhook notices owed")] = False
              ) -> None:
    """Detect cost anomalies over the stored history now, store them, and print the open
    ones with their driver (what the scheduler does hourly, with `--notify`)."""
    from costopt.analyze.analysis import cached_analysis
    from costopt.anomalies.service import refresh
    from reports.anomaly_notices import send_notices
    from reports.what_changed import summary_lines

    settings = _settings(config)
    store = _existing_store(settings)
    found, _notices = refresh(store, settings, cached_analysis(store, settings))
    typer.echo("\n".join(summary_lines([a.to_dict() for a in found])))
    if notify:
        counts = send_notices(store, settings)
        typer.echo(f"notices: {counts['sent']} sent, {counts['skipped']} sent by another "
                   f"replica, {counts['failed']} failed (retried on the next run)")


def parse_duration_ms(text: str) -> int:
    """`3d`, `12h`, `90m`, `45s`, `500ms` or plain milliseconds; `-1` for forever."""
    text = text.strip()
    if text == "-1":
        return -1
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", text)
    if not match:
        raise typer.BadParameter(f"not a duration: {text!r} (e.g. 3d, 12h, 90m)")
    value, unit = float(match.group(1)), match.group(2) or "ms"
    factor = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
              "w": 604_800_000}[unit]
    return int(value * factor)


@app.command()
def whatif(config: ConfigOption = None,
           topic: Annotated[str | None, typer.Option(help="topic name")] = None,
           cluster: Annotated[str | None, typer.Option(help="cluster name")] = None,
           owner: Annotated[str | None, typer.Option(help="owner (team)")] = None,
           pattern: Annotated[str | None, typer.Option(help="regex over topic names")] = None,
           retention: Annotated[str | None, typer.Option(help="e.g. 3d, 12h")] = None,
           codec: Annotated[str | None, typer.Option(help="none, gzip, snappy, lz4, zstd")]
           = None,
           partitions: Annotated[int | None, typer.Option()] = None,
           replication_factor: Annotated[int | None, typer.Option()] = None,
           tiered: Annotated[bool | None, typer.Option("--tiered/--no-tiered")] = None,
           growth_pct: Annotated[float | None, typer.Option()] = None,
           lane: Annotated[str | None, typer.Option(
               help="classic, tiered, diskless (topics); express, freight (a --cluster)")]
           = None,
           all_topics: Annotated[bool, typer.Option(
               "--all", help="every topic of every cluster (or of --cluster)")] = False,
           horizon_days: Annotated[int, typer.Option()] = 90) -> None:
    """Project the monthly cost of a change, e.g.
    `costopt whatif --topic payments.orders --retention 3d --codec zstd`."""
    from pydantic import ValidationError

    from costopt.analyze.analysis import cached_analysis
    from costopt.base.errors import CostoptError
    from costopt.prices.catalog import resolve_catalog
    from costopt.whatif import Change, run_whatif

    settings = _settings(config)
    try:
        change = Change.model_validate({
            "selector": {**{k: v for k, v in (("topic", topic), ("cluster", cluster),
                                              ("owner", owner), ("pattern", pattern)) if v},
                         **({"all": True} if all_topics else {})},
            "retention_ms": parse_duration_ms(retention) if retention else None,
            "compression": codec, "partitions": partitions,
            "replication_factor": replication_factor, "tiered_storage": tiered,
            "growth_pct": growth_pct, "lane": lane})
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()).replace(
            "set all: true", "pass --all")) from None
    analysis = cached_analysis(_existing_store(settings), settings)
    try:
        result = run_whatif(analysis.models, [change], horizon_days,
                            resolve_catalog=resolve_catalog)
    except CostoptError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not len(result.topics):
        typer.echo("no topic matched", err=True)
        raise typer.Exit(1)
    currency = result.currency
    typer.echo(f"{'cluster':<20} {'topic':<44} {'now':>12} {'projected':>12} {'delta':>12}")
    for row in result.topics.to_frame().head(50).itertuples(index=False):
        typer.echo(f"{row.cluster:<20} {row.topic[:44]:<44} "
                   f"{micros_to_units(row.baseline_micros):>12,.2f} "
                   f"{micros_to_units(row.projected_micros):>12,.2f} "
                   f"{micros_to_units(row.delta_micros):>+12,.2f}")
    typer.echo(f"fleet: {result.baseline} → {result.projected} (delta {result.delta}); "
               f"at {horizon_days} days: {result.projected_at_horizon}; all in {currency}/month")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and every price catalog it names; exit 2 naming the bad
    field. Says, per catalog, the share of its price lines not checked against the vendor."""
    from costopt.prices.catalog import CatalogError, resolve_catalog
    from costopt.rules import check_rule_settings

    settings = _settings(config)
    problems = []
    catalogs: dict[str, PriceCatalog] = {}
    for index, cluster in enumerate(settings.clusters):
        try:
            catalog = resolve_catalog(cluster.catalog_ref)
            catalogs.setdefault(catalog.name, catalog)
            if cluster.instance_type is not None:
                catalog.compute_price_per_hour(cluster.instance_type)
            if cluster.volume_type is not None:
                catalog.block_price_per_gb_month(cluster.volume_type)
        except CatalogError as exc:
            problems.append(f"clusters.{index}.catalog / region / instance_type / volume_type: "
                            f"{exc}")
    try:
        check_rule_settings(settings.rules)
    except ValueError as exc:
        problems.append(f"rules: {exc}")
    try:
        from costopt.analyze.analysis import owner_attribution

        owner_attribution(settings)
    except (OSError, ValueError) as exc:
        problems.append(f"owners: {exc}")
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    store = settings.store_url.split("@")[-1]  # never print credentials in a URL
    typer.echo(f"ok: {len(settings.clusters)} cluster(s), store {store}")
    for line in _price_checks(catalogs):
        typer.echo(line)


def _price_checks(catalogs: Mapping[str, PriceCatalog]) -> list[str]:
    """Per catalog: how many of its price lines are unverified (not checked against the
    vendor's own price list), and any region whose prices are a copy of another's."""
    from costopt.prices.catalog import copied_blocks, unverified_share

    lines = []
    for name, catalog in sorted(catalogs.items()):
        unverified, total = unverified_share(catalog)
        lines.append(f"prices {name}: {unverified} of {total} lines unverified "
                     f"({unverified / total:.0%}); the rest checked against the vendor's list")
        for region, other, line in copied_blocks(catalog):
            lines.append(f"warning: prices {name}: {region}'s {line} is a copy of {other}'s")
    return lines


@bill_app.command("import")
def bill_import(
    file: Annotated[Path, typer.Argument(help="the bill: FOCUS 1.x, AWS CUR 2.0 or a "
                                         "Confluent Cloud cost export (CSV)")],
    format: Annotated[str | None, typer.Option(
        "--format", help="focus, cur or confluent (default: told by the header)")] = None,
    config: ConfigOption = None,
) -> None:
    """Load a month's invoice lines into the store. Importing the same file again changes
    nothing; a malformed file is refused (exit 2) naming the line and column, and nothing is
    stored."""
    from costopt.base.money import Money
    from costopt.billing.importer import import_bill
    from costopt.billing.lines import BillFormatError
    from costopt.store import Store

    settings = _settings(config)
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: cannot read: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    try:
        result = import_bill(Store.open(settings.store_url), settings, data, str(file), format)
    except BillFormatError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{file}: {result.format}, {result.lines_read} lines read, {result.skipped} "
               f"left out {result.skipped_reasons or ''}".rstrip())
    for bill in result.bills:
        total = Money.from_micros(bill.total_micros, bill.currency)
        typer.echo(f"  {bill.month} {bill.provider} {bill.account or '-'}: {bill.lines} lines, "
                   f"{total.rounded():,} {bill.currency} ({bill.outcome})")


@bill_app.command("list")
def bill_list(config: ConfigOption = None) -> None:
    """The stored bills, newest month first."""
    from costopt.base.money import Money
    from costopt.store import Store
    from costopt.store.bills import BillStore

    settings = _settings(config)
    for bill in BillStore(Store.open(settings.store_url)).bills():
        total = Money.from_micros(bill["total_micros"], bill["currency"])
        typer.echo(f"{bill['month']} {bill['provider']:<10} {bill['billing_account'] or '-':<14}"
                   f" {bill['format']:<9} {bill['lines']:>6} lines "
                   f"{total.rounded():>14,} {bill['currency']}  {bill['source_name']}")


@export_app.command("focus")
def export_focus(
    month: Annotated[str, typer.Option(help="the month, YYYY-MM")],
    out: Annotated[Path, typer.Option(help="the CSV file to write")],
    config: ConfigOption = None,
    focus_version: FocusVersionOption = "1.3",
) -> None:
    """Write the month's allocation as FOCUS rows (1.3 unless --focus-version says 1.2 or
    1.4): billed where a bill was imported, estimated elsewhere."""
    from costopt.analyze.analysis import cached_analysis
    from costopt.billing.focus_export import write_focus_csv
    from costopt.billing.month import reconcile
    from costopt.billing.reconcile import Month
    from costopt.store import Store

    _checked_focus_version(focus_version)
    settings = _settings(config)
    try:
        chosen = Month.parse(month)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None
    store = Store.open(settings.store_url)
    try:
        allocation = reconcile(cached_analysis(store, settings), store, settings, chosen)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    write_focus_csv(allocation, out, focus_version)
    billed = sum(1 for c in allocation.clusters if c.basis == "billed")
    typer.echo(f"{out}: FOCUS {focus_version}, {len(allocation.rows)} rows, {chosen.label}, "
               f"{micros_to_units(allocation.total_micros):,.2f} {allocation.currency} "
               f"({billed} of {len(allocation.clusters)} clusters billed)")


from jobs import changes_cli  # noqa: E402  (its commands use the helpers above)

app.command("apply")(changes_cli.apply)
app.add_typer(changes_cli.plan_app, name="plan")


def main() -> None:
    app()
