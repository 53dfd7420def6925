"""docs/architecture.md matches the code: its list of what each package of `costopt/` imports
is the list the imports give (read with `ast`, as the import-direction test reads them), and
it names every module of `costopt/`. So a new module, or a new arrow between packages, fails
here until the page says so."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_import_direction import FLOOR_OF, ROOT, costopt_imports, costopt_part

PAGE = ROOT / "docs" / "architecture.md"
BLOCK = re.compile(r"<!-- imports: begin -->\n```\n(.*?)```\n<!-- imports: end -->", re.S)


def package_imports(root: Path) -> dict[str, set[str]]:
    """costopt part → the other costopt parts it imports."""
    edges: dict[str, set[str]] = {}
    for path in (root / "costopt").rglob("*.py"):
        part = costopt_part(".".join(path.relative_to(root).with_suffix("").parts))
        if part is None or part not in FLOOR_OF:
            continue
        edges.setdefault(part, set()).update(
            target for _, target in costopt_imports(path) if target != part and target in FLOOR_OF)
    return {part: targets for part, targets in edges.items() if targets}


def imports_block(edges: dict[str, set[str]]) -> str:
    """The page's list: packages bottom floor first, each with what it imports, lowest first."""
    def order(part: str) -> tuple[int, str]:
        return FLOOR_OF[part], part
    return "".join(f"{part:<10} -> {' '.join(sorted(edges[part], key=order))}\n"
                   for part in sorted(edges, key=order))


def modules(root: Path) -> list[str]:
    """Every module of costopt/ by its path under costopt/, but packages' `__init__.py` and
    the Alembic revisions (the page names their folder)."""
    base = root / "costopt"
    return sorted(path.relative_to(base).as_posix() for path in base.rglob("*.py")
                  if path.name != "__init__.py" and "migrations" not in path.parts)


def unmentioned(page: str, root: Path) -> list[str]:
    return [module for module in modules(root) if f"`{module}`" not in page]


def test_the_page_lists_the_imports_the_code_has() -> None:
    found = BLOCK.search(PAGE.read_text())
    assert found is not None, "docs/architecture.md lost its imports block"
    assert found.group(1) == imports_block(package_imports(ROOT))


def test_the_page_names_every_module() -> None:
    assert unmentioned(PAGE.read_text(), ROOT) == []


def test_a_new_module_the_page_does_not_name_fails(tmp_path: Path) -> None:
    (tmp_path / "costopt" / "cost").mkdir(parents=True)
    (tmp_path / "costopt" / "cost" / "allocation.py").write_text('"""Named."""\n')
    (tmp_path / "costopt" / "cost" / "hidden.py").write_text('"""Not named."""\n')
    assert unmentioned("| `cost/allocation.py` | named |", tmp_path) == ["cost/hidden.py"]


def test_a_new_arrow_changes_the_list(tmp_path: Path) -> None:
    (tmp_path / "costopt" / "store").mkdir(parents=True)
    (tmp_path / "costopt" / "store" / "offsets.py").write_text(
        "from costopt.base.errors import NotFound\n")
    before = imports_block(package_imports(tmp_path))
    (tmp_path / "costopt" / "store" / "late.py").write_text(
        "def f():\n    from costopt.snapshot.cluster_snapshot import Topic\n")
    assert (before, imports_block(package_imports(tmp_path))) == (
        "store      -> base\n", "store      -> base snapshot\n")


if __name__ == "__main__":  # print the block to paste into the page
    print(imports_block(package_imports(ROOT)), end="")
