"""`make stack`: start the test stack by hand, print its URLs and a ready costopt config,
stop it on Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from pathlib import Path

import yaml

from tests.stack.stack import Stack, new_stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "costopt.yaml"


def write_config(stack: Stack, path: Path) -> Path:
    """The example config, pointed at this stack's Kafka and Prometheus."""
    config = yaml.safe_load(EXAMPLE.read_text())
    cluster = config["clusters"][0]
    cluster["name"] = "stack"
    cluster["bootstrap_servers"] = stack.kafka.bootstrap_servers
    cluster["prometheus"]["url"] = stack.prometheus.url
    cluster["window_seconds"] = 300
    config["store_url"] = f"sqlite:///{path.parent / 'costopt.db'}"
    config["api"]["auth_enabled"] = False
    # One-minute windows: a collect reads the last completed window, and this stack is new.
    config["schedule"]["collect_every_minutes"] = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main() -> int:
    stack = new_stack()
    print("starting Kafka (KRaft) with the JMX exporter agent, then Prometheus...", flush=True)
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
