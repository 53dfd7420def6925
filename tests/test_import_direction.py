"""The floors depend downward only: `costopt` (the domain) imports none of `api`, `jobs` or
`reports`, and `api` imports neither `jobs` nor `reports`; inside `costopt/`, each package
imports only its own floor and the floors below (`FLOORS`). Read from the source with `ast`,
so an import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"costopt": {"api", "jobs", "reports"}, "api": {"jobs", "reports"},
             "reports": {"api", "jobs"}}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, name in sorted(imported_packages(path)) if name in FORBIDDEN[package]]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_arrow_back_up(package: str) -> None:
    assert violations(package) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from jobs.tasks import run_task\n    import reports.weekly\n")
    assert imported_packages(source) == {(2, "jobs"), (3, "reports")}


# The floors inside `costopt/`, bottom first: a module may import its own floor and the ones
# below, never one above. Every package (and loose module) of `costopt/` has a floor here, so a
# new one must take its place (docs/architecture.md draws the same list).
FLOORS: tuple[tuple[str, frozenset[str]], ...] = (
    ("base", frozenset({"base", "snapshot", "records"})),
    ("store", frozenset({"store"})),
    ("prices and cost", frozenset({"prices", "cost"})),
    ("sources and collect", frozenset({"config", "sources"})),
    ("rules, what-if, plan and analysis", frozenset({"rules", "whatif", "forecast", "analyze"})),
    ("billing, runs and the uses of the analysis",
     frozenset({"billing", "anomalies", "budget", "changes", "simulate", "runs"})),
)
FLOOR_OF = {part: number for number, (_, parts) in enumerate(FLOORS) for part in parts}


def costopt_part(module: str) -> str | None:
    """The package (or loose module) of `costopt` a dotted name is in; None for `costopt`
    itself (its `__version__`)."""
    names = module.split(".")
    return names[1] if names[0] == "costopt" and len(names) > 1 else None


def costopt_imports(path: Path) -> set[tuple[int, str]]:
    """(line, costopt part) of every import of costopt in the file, `from costopt import x`
    counting as an import of x."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [f"{node.module}.{alias.name}" if node.module == "costopt"
                       else node.module for alias in node.names]
        else:
            continue
        found.update((node.lineno, part) for module in modules
                     if (part := costopt_part(module)) is not None)
    return found


def floor_violations(root: Path) -> list[str]:
    """Each upward import inside costopt, and each costopt part no floor lists."""
    out = []
    for path in sorted((root / "costopt").rglob("*.py")):
        relative = path.relative_to(root)
        part = costopt_part(".".join(relative.with_suffix("").parts))
        if part is None or part == "__init__":
            continue
        if part not in FLOOR_OF:
            out.append(f"{relative}: {part} is on no floor (add it to FLOORS)")
            continue
        out.extend(f"{relative}:{line} ({FLOORS[FLOOR_OF[part]][0]}) imports costopt.{target} "
                   f"({FLOORS[FLOOR_OF[target]][0]}), a floor above"
                   for line, target in sorted(costopt_imports(path))
                   if FLOOR_OF.get(target, -1) > FLOOR_OF[part])
    return out


def test_costopt_floors_import_downward_only() -> None:
    assert floor_violations(ROOT) == []


def test_an_upward_import_inside_costopt_fails(tmp_path: Path) -> None:
    """A copy of costopt/ with one planted upward import (the store importing the analysis,
    two floors up) fails, naming the file, the line and both floors."""
    shutil.copytree(ROOT / "costopt", tmp_path / "costopt",
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert floor_violations(tmp_path) == []
    planted = tmp_path / "costopt" / "store" / "offsets.py"
    lines = planted.read_text().splitlines()
    lines.insert(len(lines), "from costopt.analyze.analysis import refresh_analysis  # planted")
    planted.write_text("\n".join(lines) + "\n")
    assert floor_violations(tmp_path) == [
        f"costopt/store/offsets.py:{len(lines)} (store) imports costopt.analyze "
        "(rules, what-if, plan and analysis), a floor above"]


def test_a_package_on_no_floor_fails(tmp_path: Path) -> None:
    (tmp_path / "costopt" / "newfloor").mkdir(parents=True)
    (tmp_path / "costopt" / "newfloor" / "thing.py").write_text('"""New."""\n')
    assert floor_violations(tmp_path) == [
        "costopt/newfloor/thing.py: newfloor is on no floor (add it to FLOORS)"]
