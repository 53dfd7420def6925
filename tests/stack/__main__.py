"""`make stack`: start the test stack by hand, print its URLs, stop it on Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import sys
import threading

from tests.stack.stack import new_stack


def main() -> int:
    stack = new_stack()
    print("starting Kafka (KRaft) with the JMX exporter agent, then Prometheus...", flush=True)
    stack.start()
    print(stack.describe(), flush=True)
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
