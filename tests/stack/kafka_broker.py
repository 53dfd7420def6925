"""A real Apache Kafka broker in KRaft combined mode, from the official jars on Maven Central.

The jars come from `tests/stack/pom.xml` via `mvn dependency:copy-dependencies` into a cache
outside the repository (`$COSTOPT_STACK_CACHE`, default `~/.cache/costopt-stack`), once; later
runs start offline. The Prometheus JMX exporter agent rides on the broker JVM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.stack.processes import LOOPBACK, ManagedProcess, ServerLifecycle, free_port, port_open

STACK_DIR = Path(__file__).resolve().parent
POM = STACK_DIR / "pom.xml"
JMX_RULES = STACK_DIR / "jmx-exporter-kafka.yaml"
LOG4J_CONFIG = STACK_DIR / "log4j2.properties"
HEAP = "-Xmx512m"


def cache_root() -> Path:
    return Path(os.environ.get("COSTOPT_STACK_CACHE", Path.home() / ".cache" / "costopt-stack"))


def ensure_jars() -> Path:
    """The broker's classpath directory, downloading it with Maven the first time.

    The directory is keyed by the pom's content, so changing a version fetches afresh.
    """
    import hashlib

    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    libs = cache_root() / f"kafka-libs-{digest}"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FileNotFoundError("`mvn` not found: install Maven (`apt-get install -y maven`)")
    staging = libs.with_name(libs.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={staging}"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Maven could not fetch the Kafka jars:\n{result.stdout[-3000:]}"
                           f"{result.stderr[-3000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.touch()
    return libs


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("`java` not found: Kafka 4.x needs Java 17+")
    return java


class KafkaBroker(ServerLifecycle):
    """One KRaft node that is both broker and controller, bound to 127.0.0.1 only."""

    stop_timeout_s = 30.0

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.properties_path = workdir / "server.properties"
        self.log_path = workdir / "kafka.log"
        self.port = free_port()
        self.controller_port = free_port()
        self.jmx_exporter_port = free_port()
        self._process: ManagedProcess | None = None
        self._libs: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def jmx_exporter_target(self) -> str:
        return f"{LOOPBACK}:{self.jmx_exporter_port}"

    def _classpath(self) -> str:
        assert self._libs is not None
        return os.pathsep.join(str(jar) for jar in sorted(self._libs.glob("*.jar")))

    def _agent_jar(self) -> Path:
        assert self._libs is not None
        return next(self._libs.glob("jmx_prometheus_javaagent-*.jar"))

    def _write_properties(self) -> None:
        listeners = (f"PLAINTEXT://{LOOPBACK}:{self.port},"
                     f"CONTROLLER://{LOOPBACK}:{self.controller_port}")
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{self.controller_port}",
            "listeners": listeners,
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "broker.rack": "az-a",
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Small segments and a frequent retention check so retention shows within seconds.
            "log.segment.bytes": str(1024 * 1024),
            "log.retention.check.interval.ms": "2000",
            "log.segment.delete.delay.ms": "1000",
        }
        self.properties_path.write_text(
            "".join(f"{key}={value}\n" for key, value in properties.items())
        )

    def _java_command(self, main_class: str, *args: str, agent: bool = False) -> list[str]:
        command = [_java(), HEAP, "-XX:+UseG1GC", "-Djava.awt.headless=true",
                   f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"]
        if agent:
            command.append(f"-javaagent:{self._agent_jar()}="
                           f"{LOOPBACK}:{self.jmx_exporter_port}:{JMX_RULES}")
        return [*command, "-cp", self._classpath(), main_class, *args]

    def format_storage(self) -> None:
        uuid = subprocess.run(
            self._java_command("kafka.tools.StorageTool", "random-uuid"),
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
        result = subprocess.run(
            self._java_command("kafka.tools.StorageTool", "format", "--standalone",
                               "-t", uuid, "-c", str(self.properties_path)),
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"Kafka storage format failed:\n{result.stdout}{result.stderr}")

    def _ready(self) -> bool:
        if not (port_open(self.port) and port_open(self.jmx_exporter_port)):
            return False
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        metadata = admin.list_topics(timeout=2)
        return len(metadata.brokers) >= 1

    def start(self, timeout_s: float = 90.0) -> None:
        """Format storage on first start; a restart keeps the data (for fault tests)."""
        self._libs = ensure_jars()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.data_dir.exists():
            self._write_properties()
            self.format_storage()
        self._process = ManagedProcess(
            "kafka",
            self._java_command("kafka.Kafka", str(self.properties_path), agent=True),
            self.log_path,
        )
        self._process.start(self._ready, timeout_s=timeout_s)

