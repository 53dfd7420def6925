"""`make stack`: start the test stack by hand, print its URLs and a ready costopt config,
stop it on Ctrl-C. `python -m tests.stack --brokers 3` starts the secured three-zone cluster
and its authenticated Prometheus instead."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from tests.stack.stack import ZONE_CLUSTER_LABEL, Stack, ZoneStack, new_stack, new_zone_stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "costopt.yaml"


def write_config(stack: Stack, path: Path) -> Path:
    """The example config, pointed at this stack's Kafka and Prometheus."""
    config = yaml.safe_load(EXAMPLE.read_text())
    cluster = config["clusters"][0]
    cluster["name"] = "stack"
    cluster["bootstrap_servers"] = stack.kafka.bootstrap_servers
    cluster["prometheus"]["url"] = stack.prometheus.url
    return _write(config, path)


def write_zone_config(stack: ZoneStack, path: Path) -> Path:
    """The example config, pointed at the three-zone cluster over SASL_SSL/SCRAM-SHA-512 and
    at its Prometheus over TLS with basic auth."""
    config = yaml.safe_load(EXAMPLE.read_text())
    cluster = config["clusters"][0]
    cluster["name"] = "zones"
    cluster["bootstrap_servers"] = stack.kafka.bootstrap("SASL_SSL")
    cluster["security"] = {
        "protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": stack.kafka.scram.username,
        "sasl_password": stack.kafka.scram.password,
        "ssl_ca_location": str(stack.pki.ca_path),
    }
    cluster["prometheus"]["url"] = stack.prometheus.url
    cluster["prometheus"]["cluster_label_value"] = ZONE_CLUSTER_LABEL
    cluster["prometheus"]["ca_file"] = str(stack.pki.ca_path)
    cluster["prometheus"]["basic_auth"] = {"username": stack.prometheus_user.username,
                                           "password": stack.prometheus_user.password}
    _write(config, path)
    path.chmod(0o600)  # it holds the run's passwords
    return path


def _write(config: dict[str, Any], path: Path) -> Path:
    """What both stacks' configs share: five-minute usage windows, a store beside the file,
    no API auth, and one-minute collects (a collect reads the last completed window, and the
    stack is new)."""
    config["clusters"][0]["window_seconds"] = 300
    config["store_url"] = f"sqlite:///{path.parent / 'costopt.db'}"
    config["api"]["auth_enabled"] = False
    config["schedule"]["collect_every_minutes"] = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stack", description=__doc__)
    parser.add_argument("--brokers", type=int, choices=(1, 3), default=1,
                        help="1: one PLAINTEXT broker; 3: the secured three-zone cluster")
    args = parser.parse_args(argv)
    stack: Stack | ZoneStack
    if args.brokers == 3:
        stack = new_zone_stack()
        print("starting three Kafka nodes (az-a, az-b, az-c; SASL_SSL, mTLS, PLAIN, "
              "OAUTHBEARER), then Prometheus behind TLS and basic auth...", flush=True)
        stack.start()
        config = write_zone_config(stack, Path(".stack") / "costopt-zones.yaml")
    else:
        stack = new_stack()
        print("starting Kafka (KRaft) with the JMX exporter agent, then Prometheus...",
              flush=True)
        stack.start()
        config = write_config(stack, Path(".stack") / "costopt.yaml")
    print(stack.describe(), flush=True)
    print(f"costopt config:       {config}  (try: costopt collect --once --config {config})",
          flush=True)
    print("Ctrl-C stops the stack.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...", flush=True)
        stack.stop()
        shutil.rmtree(stack.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
