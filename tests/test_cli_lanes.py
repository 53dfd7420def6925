"""`costopt whatif --lane`: a topic lane over a store of the simulated `tiny` fleet (one
self-managed cluster), a cluster lane refused where the offering has none, a bad lane named."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import costopt, tiny_store_config


def test_whatif_moves_a_cluster_s_topics_to_the_diskless_lane(tmp_path: Path) -> None:
    config = tiny_store_config(tmp_path)
    diskless = costopt("whatif", "--config", str(config), "--cluster", "use1-main",
                       "--lane", "diskless")
    assert diskless.returncode == 0, diskless.stderr
    assert "fleet:" in diskless.stdout and "delta -" in diskless.stdout
    express = costopt("whatif", "--config", str(config), "--cluster", "use1-main",
                      "--lane", "express")
    assert express.returncode == 2 and "not on Amazon MSK" in express.stderr
    bad = costopt("whatif", "--config", str(config), "--all", "--lane", "slow")
    assert bad.returncode == 2 and "lane" in bad.stderr
