"""`costopt whatif --lane`: a topic lane over a store of the simulated `tiny` fleet (one
self-managed cluster), a cluster lane refused where the offering has none, a bad lane named."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.test_cli import costopt


def test_whatif_moves_a_cluster_s_topics_to_the_diskless_lane(tmp_path: Path) -> None:
    from costopt.simulate.load import load_fleet
    from costopt.store import Store
    from tests.fleets import fleet

    store_url = f"sqlite:///{tmp_path / 'costopt.db'}"
    load_fleet(Store.open(store_url), fleet("tiny"), sampled_topics_per_cluster=5,
               records_per_topic=20)
    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": store_url}))
    diskless = costopt("whatif", "--config", str(config), "--cluster", "use1-main",
                       "--lane", "diskless")
    assert diskless.returncode == 0, diskless.stderr
    assert "fleet:" in diskless.stdout and "delta -" in diskless.stdout
    express = costopt("whatif", "--config", str(config), "--cluster", "use1-main",
                      "--lane", "express")
    assert express.returncode == 2 and "not on Amazon MSK" in express.stderr
    bad = costopt("whatif", "--config", str(config), "--all", "--lane", "slow")
    assert bad.returncode == 2 and "lane" in bad.stderr
