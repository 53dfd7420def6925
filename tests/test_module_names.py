"""One name, one thing: no two modules of `costopt/` share a file name, so a search for
`plan.py` or `rules.py` returns the one module a reader means (issue 29)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.test_import_direction import ROOT


def shared_names(package: Path) -> dict[str, list[str]]:
    """File name → the modules that have it, where more than one has it (packages'
    `__init__.py` and Alembic's revisions aside)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        if path.name != "__init__.py" and "migrations" not in path.parts:
            found[path.name].append(path.relative_to(package.parent).as_posix())
    return {name: paths for name, paths in found.items() if len(paths) > 1}


def test_no_two_costopt_modules_share_a_name() -> None:
    assert shared_names(ROOT / "costopt") == {}


def test_a_second_plan_module_is_reported(tmp_path: Path) -> None:
    for folder in ("analyze", "sources"):
        (tmp_path / "costopt" / folder).mkdir(parents=True)
        (tmp_path / "costopt" / folder / "plan.py").write_text('"""A plan."""\n')
    assert shared_names(tmp_path / "costopt") == {
        "plan.py": ["costopt/analyze/plan.py", "costopt/sources/plan.py"]}
