"""`costopt plan export` and `costopt apply` from the command line, over the tiny fleet's
store: files per format that name their steps; a dry run that names why each change it
cannot check is refused (the simulated clusters have no brokers to read); a bad format or
undo file refused with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import costopt, tiny_store_config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_store_config(Path(tmp_path_factory.mktemp("changes-cli")))


def test_plan_export_writes_each_format(config: Path, tmp_path: Path) -> None:
    for fmt in ("kafka-configs", "strimzi", "terraform", "cruise-control"):
        result = costopt("plan", "export", "--config", str(config), "--format", fmt,
                         "--out", str(tmp_path / fmt))
        assert result.returncode == 0, result.stderr
        files = [p for p in (tmp_path / fmt).rglob("*") if p.is_file()]
        assert files and all("plan step" in p.read_text() for p in files), fmt
    bad = costopt("plan", "export", "--config", str(config), "--format", "ansible",
                  "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_apply_is_a_dry_run_that_names_each_refusal(config: Path, tmp_path: Path) -> None:
    result = costopt("apply", "--config", str(config), "--kind", "retention")
    assert result.returncode == 0, result.stderr
    assert "dry run: 0 change(s) would be applied" in result.stdout
    refusals = [line for line in result.stderr.splitlines() if line.startswith("refused")]
    assert refusals and all("is not in the config" in line for line in refusals)
    undo = tmp_path / "undo.json"
    undo.write_text("{}")
    bad = costopt("apply", "--config", str(config), "--undo", str(undo))
    assert bad.returncode == 2 and "not an undo file" in bad.stderr
