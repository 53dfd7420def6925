"""Lookups shared by the routes that 404 with a clear message."""

from __future__ import annotations

from fastapi import HTTPException

from costopt.analyze.analysis import ClusterAnalysis, FleetAnalysis


def cluster_or_404(analysis: FleetAnalysis, name: str) -> ClusterAnalysis:
    if name not in analysis.clusters:
        known = ", ".join(sorted(analysis.clusters)) or "none"
        raise HTTPException(404, f"unknown cluster {name!r} (known: {known})")
    return analysis.clusters[name]
