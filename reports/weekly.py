"""The weekly recommendation report: one self-contained HTML file (plotly.js embedded once),
with the same content as JSON and CSV beside it.

Everything shown is computed from one `FleetAnalysis` plus stored history; the HTML is a view
of `report_data`, which is also what the JSON holds, so the two cannot disagree.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import SavingsPlan
from costopt.analyze.realized import Realized
from costopt.base.money import micros_to_decimal, micros_to_units, rounded
from costopt.changes.grouping import group_recommendations
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED
from costopt.cost.trend import daily_basis, daily_cost, daily_cost_and_basis
from costopt.cost.unit_cost import topic_traffic, unit_cost_columns
from costopt.rules import Recommendation
from costopt.rules.recommendation import SEVERITY_ORDER
from reports.grafana_links import panel_link
from reports.what_changed import what_changed

TOP_TOPICS = 25
TOP_RECOMMENDATIONS = 25
TOP_PAIRS = 10  # steps shown beside each capacity step they pay off through
TOP_RISKS = 50
TOP_SKIPPED = 100
TOP_OWNERS = 8
FORECAST_CLUSTERS = 6


@dataclass(frozen=True)
class AcceptedRecommendation:
    """A recommendation accepted earlier and what it realized: applied or not, and its saving
    at the traffic of the snapshot it was accepted on (`costopt.analyze.realized`)."""

    recommendation: dict[str, Any]
    accepted_at: datetime
    realized: Realized | None


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    csv: list[Path]


def _amount(micros: float) -> float:
    return float(micros_to_decimal(round(micros)))


def trend_frame(analysis: FleetAnalysis) -> pd.DataFrame:
    frames = [daily_cost(c.model.cost, c.history.daily) for c in analysis.clusters.values()]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["ts", "cluster", "owner", "monthly_cost_micros"])
    return pd.concat(frames, ignore_index=True)


def basis_frame(analysis: FleetAnalysis) -> pd.DataFrame:
    frames = [daily_basis(c.model.cost, c.history.daily) for c in analysis.clusters.values()]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["ts", "cluster", "provisioned_micros", "usage_micros"])
    return pd.concat(frames, ignore_index=True)


def trend_and_basis(analysis: FleetAnalysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`trend_frame` and `basis_frame` from one pricing of each cluster's days."""
    pairs = [daily_cost_and_basis(c.model.cost, c.history.daily)
             for c in analysis.clusters.values()]
    trends = [trend for trend, _ in pairs if not trend.empty]
    bases = [basis for _, basis in pairs if not basis.empty]
    return (pd.concat(trends, ignore_index=True) if trends else pd.DataFrame(
                columns=["ts", "cluster", "owner", "monthly_cost_micros"]),
            pd.concat(bases, ignore_index=True) if bases else pd.DataFrame(
                columns=["ts", "cluster", "provisioned_micros", "usage_micros"]))


def _week_over_week(trend: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    if trend.empty:
        return []
    last = trend["ts"].max()
    this_week = trend[trend["ts"] > last - pd.Timedelta(days=7)]
    prev_week = trend[(trend["ts"] <= last - pd.Timedelta(days=7))
                      & (trend["ts"] > last - pd.Timedelta(days=14))]
    now = this_week.groupby(by)["monthly_cost_micros"].sum() / max(this_week["ts"].nunique(), 1)
    before = prev_week.groupby(by)["monthly_cost_micros"].sum() / max(
        prev_week["ts"].nunique(), 1)
    rows = []
    for key, value in now.sort_values(ascending=False).items():
        previous = float(before.get(key, 0.0))
        rows.append({by: key, "monthly_cost": _amount(value),
                     "previous": _amount(previous),
                     "change_pct": round((value - previous) / previous * 100, 1)
                     if previous else None})
    return rows


def _recommendation_link(grafana_url: str | None, rec: Recommendation, start: datetime,
                         end: datetime) -> str | None:
    topic = rec.target_type == "topic"
    return panel_link(grafana_url, "topic" if topic else "capacity",
                      "topic_savings" if topic else "runway_days", start, end,
                      {"cluster": rec.cluster, **({"topic": rec.target} if topic else {})})


def _count_by(rows: list[dict[str, str]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


# The splits that move cost between owners, by what they rest on (docs/chargeback.md).
SPLIT_BASES = ("principal", "group", "even")


def who_pays(analysis: FleetAnalysis, top: int = TOP_OWNERS * 2) -> list[dict[str, Any]]:
    """The owners that pay most, with what they pay as producers (the topics they own, or
    their service accounts' writes) and as readers (consumer side), how much of their reading
    cost rests on measured reads, and what the split of their cost rests on (`split_basis`:
    the share, by magnitude, of the cost split by `principal` bytes, `group` reads or `even`
    shares; the rest is their own topics' and unread sides)."""
    frames = analysis.chargeback_frames()
    if not frames:
        return []
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["side"] != "shared"]
    if rows.empty:
        return []
    weight = rows["monthly_cost_micros"].abs().astype(float)
    rows = rows.assign(_w=weight, _m=weight * rows["measured_share"])
    by_side = rows.pivot_table(index="owner", columns="side", values="monthly_cost_micros",
                               aggfunc="sum", fill_value=0)
    consumer = rows[rows["side"] == "consumer"].groupby("owner")[["_w", "_m"]].sum()
    by_basis = rows[rows["split"].isin(SPLIT_BASES)].pivot_table(
        index="owner", columns="split", values="_w", aggfunc="sum", fill_value=0.0)
    weights = rows.groupby("owner")["_w"].sum()
    out = []
    totals = by_side.sum(axis=1).sort_values(ascending=False)
    for owner in totals.index[:top]:
        producer = int(by_side.at[owner, "producer"]) if "producer" in by_side else 0
        reads = int(by_side.at[owner, "consumer"]) if "consumer" in by_side else 0
        measured = (float(consumer.at[owner, "_m"] / consumer.at[owner, "_w"])
                    if owner in consumer.index and consumer.at[owner, "_w"] > 0 else None)
        basis = {split: round(float(by_basis.at[owner, split] / weights[owner]), 4)
                 for split in SPLIT_BASES if owner in by_basis.index
                 and split in by_basis.columns and weights[owner] > 0
                 and by_basis.at[owner, split] > 0}
        out.append({"owner": owner, "producer": rounded(producer), "consumer": rounded(reads),
                    "monthly_cost": rounded(producer + reads),
                    "measured_share": round(measured, 4) if measured is not None else None,
                    "split_basis": basis})
    return out


def _signed_pct(value: float | None) -> str | None:
    return None if value is None else f"{value:+.1f}%"


def estimate_vs_bill(reconciliation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The reconciliation (`MonthAllocation.to_dict()`) with the errors as signed text."""
    if reconciliation is None:
        return None
    return {**reconciliation, "error": _signed_pct(reconciliation.get("error_pct")),
            "clusters": [{**c, "error": _signed_pct(c["error_pct"]),
                          "components": [{**t, "error": _signed_pct(t["error_pct"])}
                                         for t in c["components"]]}
                         for c in reconciliation["clusters"]]}


def _capacity_pairs(plan: SavingsPlan) -> list[dict[str, Any]]:
    """Each capacity step with the steps that pay off only through it (they free disk or
    brokers and save nothing by themselves), largest pair saving first."""
    out = []
    for resize in (s for s in plan.steps if s.recommendation.kind == "broker_sizing"):
        paired = sorted((s for s in plan.steps if s.pays_off_with is not None
                         and s.pays_off_with.step == resize.number),
                        key=lambda s: -(s.pays_off_with.pair_savings_micros
                                        if s.pays_off_with else 0))
        if not paired:
            continue
        out.append({
            "step": resize.number, "cluster": resize.recommendation.cluster,
            "title": resize.recommendation.title,
            "plan_savings": rounded(resize.marginal_savings_micros), "steps": len(paired),
            "paired": [{"step": s.number, "kind": s.recommendation.kind,
                        "target": s.recommendation.target,
                        "plan_savings": rounded(s.marginal_savings_micros),
                        "capacity_share": rounded(s.pays_off_with.capacity_share_micros),
                        "pair_savings": rounded(s.pays_off_with.pair_savings_micros)}
                       for s in paired[:TOP_PAIRS] if s.pays_off_with is not None]})
    return out


def finding_groups(open_recs: Sequence[Recommendation], currency: str,
                   top: int = TOP_RISKS) -> list[dict[str, Any]]:
    """The open findings by cause, largest total first, without their item ids."""
    return [{k: v for k, v in group.to_dict(currency).items() if k != "items"}
            for group in group_recommendations(open_recs, "cause")[:top]]


def report_data(analysis: FleetAnalysis, grafana_url: str | None = None,
                accepted: Sequence[AcceptedRecommendation] = (),
                trend: pd.DataFrame | None = None,
                decisions: Decisions | None = None,
                reconciliation: Mapping[str, Any] | None = None,
                budgets: Sequence[Mapping[str, Any]] = (),
                owner_pages: Mapping[str, str] | None = None,
                anomalies: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    end = analysis.generated_at
    start = end - timedelta(days=30)
    currency = analysis.currency
    trend = trend_frame(analysis) if trend is None else trend
    total = analysis.monthly_cost_micros()
    decisions = decisions or Decisions()
    plan = analysis.plan(decisions)
    open_recs = decisions.open(analysis.recommendations)
    risks = sorted((r for r in open_recs if r.category == "risk"),
                   key=lambda r: (SEVERITY_ORDER.get(r.severity or "", 9), r.cluster, r.target))
    skipped = [s.to_dict() for c in analysis.clusters.values() for s in c.skipped]
    rows = pd.concat([c.rows for c in analysis.costs], ignore_index=True) if analysis.costs \
        else pd.DataFrame()
    topics = rows[~rows["topic"].isin([IDLE, UNALLOCATED])] if not rows.empty else rows
    top_topics = topics.nlargest(TOP_TOPICS, "monthly_cost_micros") if not topics.empty else topics
    top_units = unit_cost_columns(top_topics, topic_traffic(analysis.models.values()))
    components = {c: _amount(rows[f"{c}_micros"].sum()) for c in COMPONENTS} if not rows.empty \
        else {}
    forecasts = []
    for cluster in closest_to_a_limit(analysis):
        name = cluster.model.cluster
        disk = cluster.forecast.forecasts.get("disk_used_bytes")
        forecasts.append({
            "cluster": name,
            "growth_per_month_pct": round(disk.growth_per_month * 100, 1) if disk else None,
            "runways": [{"resource": r.resource, "limit": r.limit, "unit": r.unit,
                         "current": r.current, "date": r.date.isoformat() if r.date else None,
                         "days": r.days} for r in cluster.forecast.runways],
            "grafana": panel_link(grafana_url, "capacity", "disk_forecast", start,
                                  end + timedelta(days=90), {"cluster": name}),
        })
    return {
        "generated_at": end.isoformat(),
        "currency": currency, "period": "month",
        "fleet": {
            "monthly_cost": rounded(total),
            "clusters": len(analysis.clusters),
            "topics": len(topics),
            "savings_available": rounded(plan.total_savings_micros),
            "savings_share_pct": round(plan.share_of_bill * 100, 1),
            "plan_steps": len(plan.steps),
            "recommendations": sum(1 for r in open_recs if r.category == "saving"),
            "risks": len(risks),
        },
        "by_component": components,
        "budgets": list(budgets),
        "owner_pages": [{"owner": o, "href": h} for o, h in (owner_pages or {}).items()],
        "estimate_vs_bill": estimate_vs_bill(reconciliation),
        "what_changed": what_changed(anomalies),
        "who_pays": who_pays(analysis),
        "week_over_week_by_cluster": _week_over_week(trend, "cluster"),
        "week_over_week_by_owner": _week_over_week(trend, "owner")[:TOP_OWNERS * 2],
        "top_topics": [{
            "cluster": r.cluster, "topic": r.topic, "owner": r.owner,
            "monthly_cost": rounded(r.monthly_cost_micros),
            **{c: rounded(getattr(r, f"{c}_micros")) for c in COMPONENTS},
            **units,
            "grafana": panel_link(grafana_url, "topic", "topic_cost", start, end,
                                  {"cluster": r.cluster, "topic": r.topic}),
        } for r, units in zip(top_topics.itertuples(index=False), top_units, strict=True)],
        "top_recommendations": [{
            **step.recommendation.to_dict(), "step": step.number,
            "plan_savings": rounded(step.marginal_savings_micros),
            "grafana": _recommendation_link(grafana_url, step.recommendation, start, end),
        } for step in plan.steps[:TOP_RECOMMENDATIONS]],
        "capacity_pairs": _capacity_pairs(plan),
        "risks": [{**r.to_dict(), "grafana": _recommendation_link(grafana_url, r, start, end)}
                  for r in risks[:TOP_RISKS]],
        "watch": [r.to_dict() for r in open_recs if r.category == "watch"][:TOP_RISKS],
        "skipped": skipped[:TOP_SKIPPED],
        "skipped_by_reason": _count_by(skipped, "reason"),
        "risk_counts": {s: sum(1 for r in risks if r.severity == s) for s in SEVERITY_ORDER},
        "finding_groups": finding_groups(open_recs, currency),
        "realized_savings": [{
            "recommendation": a.recommendation, "accepted_at": a.accepted_at.isoformat(),
            **(a.realized.to_dict() if a.realized is not None else {
                "applied": None, "observed": "accepted before costopt kept its snapshot",
                "predicted_monthly_savings": a.recommendation.get("monthly_savings"),
                "realized_monthly_savings": None}),
        } for a in accepted],
        "forecasts": forecasts,
        "links": {
            "overview": panel_link(grafana_url, "overview", "cost_by_cluster", start, end),
            "by_owner": panel_link(grafana_url, "overview", "cost_by_owner", start, end),
            "components": panel_link(grafana_url, "overview", "cost_by_component", start, end),
        },
    }


# The toolbar shows on hover only, at the chart's top right, with the few buttons a reader of a
# report uses; the title sits in a band below it, left-aligned, so neither covers the other at
# any width. Axes make room for their labels (automargin) rather than cutting them.
MODEBAR_BAND_PX = 30
TITLE_BAND_PX = 30
CHART_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                           "autoScale2d", "toggleSpikelines",
                                           "hoverClosestCartesian", "hoverCompareCartesian"]}
# A horizontal bar chart's labels are cut to this many characters (the whole text is in the
# hover and the tables), so on a phone they leave the bars most of the width.
BAR_LABEL_CHARS = 22


def _short(label: str, chars: int = BAR_LABEL_CHARS) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


@functools.cache
def _template() -> dict[str, Any]:
    """plotly_white as plain data, built once: setting it on each figure made plotly build and
    validate the whole template again (a third of the report's charts' time)."""
    figure = go.Figure()
    figure.update_layout(template="plotly_white")
    return dict(figure.to_dict()["layout"]["template"])


def _figure_html(figure: go.Figure) -> str:
    height = figure.layout.height or 360
    title = figure.layout.title.text
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": MODEBAR_BAND_PX + TITLE_BAND_PX + 10, "b": 10},
        height=height, autosize=True,
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
        title={"text": title, "font": {"size": 13}, "xref": "container", "x": 0.02,
               "xanchor": "left", "yref": "container", "yanchor": "top",
               "y": 1 - MODEBAR_BAND_PX / height})
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    data = figure.to_dict()  # validated above; the template (plain data) goes in as plotly puts it
    data["layout"] = {"template": _template(),
                      **{k: v for k, v in data["layout"].items() if k != "template"}}
    return str(pio.to_html(data, validate=False, full_html=False, include_plotlyjs=False,
                           config=CHART_CONFIG))


def charts(analysis: FleetAnalysis, data: dict[str, Any], trend: pd.DataFrame,
           basis: pd.DataFrame | None = None) -> dict[str, str]:
    currency = data["currency"]
    out: dict[str, str] = {}
    if not trend.empty:
        by_cluster = trend.groupby(["ts", "cluster"])["monthly_cost_micros"].sum().reset_index()
        figure = go.Figure()
        for cluster, part in by_cluster.groupby("cluster"):
            figure.add_trace(go.Scatter(x=part["ts"],
                                        y=micros_to_units(part["monthly_cost_micros"]),
                                        mode="lines", name=str(cluster)))
        figure.update_layout(title=f"Monthly-rate cost by cluster ({currency}/month)")
        out["trend_by_cluster"] = _figure_html(figure)
        owners = trend[~trend["owner"].isin([IDLE, UNALLOCATED])]
        top = owners.groupby("owner")["monthly_cost_micros"].sum().nlargest(TOP_OWNERS).index
        labelled = trend.assign(owner=trend["owner"].where(
            trend["owner"].isin([*list(top), IDLE, UNALLOCATED]), "other"))
        by_owner = labelled.groupby(["ts", "owner"])["monthly_cost_micros"].sum().reset_index()
        figure = go.Figure()
        for owner, part in by_owner.groupby("owner"):
            figure.add_trace(go.Scatter(x=part["ts"],
                                        y=micros_to_units(part["monthly_cost_micros"]),
                                        mode="lines", stackgroup="one", name=str(owner)))
        figure.update_layout(title=f"Monthly-rate cost by owner ({currency}/month)")
        out["trend_by_owner"] = _figure_html(figure)
        basis = basis_frame(analysis) if basis is None else basis
        if not basis.empty:
            fleet = basis.groupby("ts")[["provisioned_micros", "usage_micros"]].sum()
            figure = go.Figure()
            for column, name in (("provisioned_micros", "provisioned (brokers, disks)"),
                                 ("usage_micros", "usage (traffic, storage used, fees)")):
                figure.add_trace(go.Scatter(x=fleet.index, y=micros_to_units(fleet[column]),
                                            mode="lines", stackgroup="one", name=name))
            figure.update_layout(title=f"Provisioned and usage cost ({currency}/month)")
            out["trend_by_basis"] = _figure_html(figure)
    if data["by_component"]:
        figure = go.Figure(go.Bar(x=list(data["by_component"]),
                                  y=list(data["by_component"].values())))
        figure.update_layout(title=f"Fleet cost by component ({currency}/month)")
        out["components"] = _figure_html(figure)
    recs = data["top_recommendations"][:15]
    if recs:
        labels = [f"{r['step']}. {r['kind']}: {r['target']}" for r in recs][::-1]
        figure = go.Figure(go.Bar(
            y=[_short(label) for label in labels], hovertext=labels,
            x=[float(r["plan_savings"]) for r in recs][::-1], orientation="h"))
        figure.update_layout(title=f"First steps of the savings plan ({currency}/month)",
                             height=480, yaxis={"tickfont": {"size": 11}})
        out["savings"] = _figure_html(figure)
    for cluster in closest_to_a_limit(analysis)[:FORECAST_CLUSTERS]:
        disk = cluster.forecast.forecasts.get("disk_used_bytes")
        if disk is None:
            continue
        figure = go.Figure()
        fc = disk.forecast
        figure.add_trace(go.Scatter(x=fc["ts"], y=fc["upper"] / 2**40, mode="lines",
                                    line={"width": 0}, showlegend=False))
        figure.add_trace(go.Scatter(x=fc["ts"], y=fc["lower"] / 2**40, mode="lines",
                                    fill="tonexty", line={"width": 0},
                                    name="95% interval"))
        figure.add_trace(go.Scatter(x=fc["ts"], y=fc["value"] / 2**40, mode="lines",
                                    name="forecast"))
        figure.add_trace(go.Scatter(x=disk.history["ts"], y=disk.history["value"] / 2**40,
                                    mode="lines+markers", name="measured"))
        capacity = sum(b.disk_capacity_bytes for b in cluster.model.snapshot.brokers)
        figure.add_hline(y=capacity * 0.85 / 2**40, line_dash="dash",
                         annotation_text="85% of disk")
        figure.update_layout(title=f"{cluster.model.snapshot.cluster}: disk used (TiB)")
        out[f"forecast:{cluster.model.snapshot.cluster}"] = _figure_html(figure)
    return out


def closest_to_a_limit(analysis: FleetAnalysis) -> list[Any]:
    """Clusters by capacity runway, the soonest first (no limit in sight last), then by cost."""
    def key(cluster: Any) -> tuple[bool, int, int, str]:
        days = [r.days for r in cluster.forecast.runways if r.days is not None]
        return (not days, min(days) if days else 0,
                -sum(cluster.model.cost.bill_micros.values()), cluster.model.cluster)
    return sorted(analysis.clusters.values(), key=key)


def render_html(analysis: FleetAnalysis, data: dict[str, Any], trend: pd.DataFrame,
                basis: pd.DataFrame | None = None) -> str:
    environment = Environment(loader=PackageLoader("reports", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    template = environment.get_template("weekly.html.j2")
    return template.render(data=data, charts=charts(analysis, data, trend, basis),
                           plotly_js=get_plotlyjs())


STAGING_SUFFIX = ".partial"
STALE_STAGING_SECONDS = 600


def write_report(analysis: FleetAnalysis, directory: Path, name: str = "report",
                 grafana_url: str | None = None,
                 accepted: Sequence[AcceptedRecommendation] = (),
                 decisions: Decisions | None = None,
                 reconciliation: Mapping[str, Any] | None = None,
                 budgets: Sequence[Mapping[str, Any]] = (),
                 owner_pages: Mapping[str, str] | None = None,
                 anomalies: Sequence[Mapping[str, Any]] = ()) -> ReportFiles:
    """Write `<name>.html`, `<name>.json` and CSV tables beside it. They are written into a
    hidden staging directory first and moved into place with the HTML last, so a crash at
    any point never leaves a half-written file, nor an HTML report without its tables."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(directory)
    trend, basis = trend_and_basis(analysis)
    data = report_data(analysis, grafana_url, accepted, trend, decisions, reconciliation,
                       budgets, owner_pages, anomalies)
    staging = directory / f".{name}{STAGING_SUFFIX}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    files: list[tuple[str, str]] = [
        (f"{name}-{table.replace('_', '-')}.csv", _csv_text(data[table]))
        for table in ("top_topics", "top_recommendations", "risks", "week_over_week_by_cluster")]
    files.append((f"{name}.json", json.dumps(data, indent=1, default=str)))
    files.append((f"{name}.html", render_html(analysis, data, trend, basis)))
    for filename, text in files:
        (staging / filename).write_text(text)
    for filename, _ in files:
        (staging / filename).replace(directory / filename)
    staging.rmdir()
    return ReportFiles(directory / f"{name}.html", directory / f"{name}.json",
                       [directory / filename for filename, _ in files[:-2]])


def _remove_stale_staging(directory: Path) -> None:
    """Staging directories a killed run left behind (old enough that no run still writes)."""
    for staging in directory.glob(f".*{STAGING_SUFFIX}"):
        if staging.is_dir() and time.time() - staging.stat().st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(staging, ignore_errors=True)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    import io

    if not rows:
        return ""
    buffer = io.StringIO()
    fields = list(rows[0])
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v
                         for k, v in row.items()})
    return buffer.getvalue()


def now_utc() -> datetime:
    return datetime.now(UTC)
