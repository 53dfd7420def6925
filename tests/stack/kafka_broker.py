"""A real Apache Kafka broker in KRaft combined mode, from the official jars on Maven Central.

The jars come from `tests/stack/pom.xml` via `mvn dependency:copy-dependencies` into a cache
outside the repository (`$COSTOPT_STACK_CACHE`, default `~/.cache/costopt-stack`), once; later
runs start offline. The Prometheus JMX exporter agent rides on the broker JVM.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from tests.stack.processes import (
    LOOPBACK,
    ManagedProcess,
    ServerLifecycle,
    cache_lock,
    free_port,
    port_open,
)

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
    with cache_lock(libs.with_name(libs.name + ".lock")):  # test processes in parallel
        if not marker.exists():
            _fetch_jars(libs)
    return libs


def _fetch_jars(libs: Path) -> None:
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
    (libs / ".complete").touch()


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("`java` not found: Kafka 4.x needs Java 17+")
    return java


class KafkaBroker(ServerLifecycle):
    """One KRaft node that is both broker and controller, bound to 127.0.0.1 only.

    Alone (the defaults) it is a one-node quorum on a PLAINTEXT listener in rack `az-a`. A
    multi-node cluster (`tests/stack/kafka_cluster.py`) builds its nodes from this class and
    changes only what differs: listeners, properties, format arguments and readiness.
    """

    stop_timeout_s = 30.0
    expected_brokers = 1  # ready once its metadata shows this many brokers

    def __init__(self, workdir: Path, node_id: int = 1, rack: str = "az-a",
                 heap: str = HEAP) -> None:
        self.workdir = workdir
        self.node_id = node_id
        self.rack = rack
        self.heap = heap
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

    def listeners(self) -> dict[str, tuple[str, int]]:
        """Listener name -> (security protocol, port)."""
        return {"PLAINTEXT": ("PLAINTEXT", self.port),
                "CONTROLLER": ("PLAINTEXT", self.controller_port)}

    def properties(self) -> dict[str, str]:
        listeners = self.listeners()
        addresses = ",".join(f"{name}://{LOOPBACK}:{port}"
                             for name, (_, port) in listeners.items())
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{self.controller_port}",
            "listeners": addresses,
            "advertised.listeners": addresses,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(
                f"{name}:{protocol}" for name, (protocol, _) in listeners.items()),
            "log.dirs": str(self.data_dir),
            "broker.rack": self.rack,
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

    def format_arguments(self) -> list[str]:
        """What `StorageTool format` needs beyond the cluster id and the properties file."""
        return ["--standalone"]

    def _write_properties(self) -> None:
        self.properties_path.write_text(
            "".join(f"{key}={value}\n" for key, value in self.properties().items())
        )

    def _classpath(self) -> str:
        assert self._libs is not None
        return os.pathsep.join(str(jar) for jar in sorted(self._libs.glob("*.jar")))

    def _agent_jar(self) -> Path:
        assert self._libs is not None
        return next(self._libs.glob("jmx_prometheus_javaagent-*.jar"))

    def _java_command(self, main_class: str, *args: str, agent: bool = False,
                      tool: bool = False) -> list[str]:
        """`tool`: a short-lived JVM (StorageTool) that starts faster with the client compiler
        only and the serial collector, which matters when three format at once on two cores."""
        self._libs = self._libs or ensure_jars()
        runtime = (["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m"] if tool
                   else [self.heap, "-XX:+UseG1GC"])
        command = [_java(), *runtime, "-Djava.awt.headless=true",
                   f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"]
        if agent:
            command.append(f"-javaagent:{self._agent_jar()}="
                           f"{LOOPBACK}:{self.jmx_exporter_port}:{JMX_RULES}")
        return [*command, "-cp", self._classpath(), main_class, *args]

    @staticmethod
    def random_cluster_id() -> str:
        """What `StorageTool random-uuid` prints (Kafka's `Uuid.randomUuid`: 16 random bytes,
        URL-safe base64 without padding, never starting with '-'), without a JVM start."""
        while True:
            text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            if not text.startswith("-"):
                return text

    def format_storage(self, cluster_id: str | None = None) -> None:
        result = subprocess.run(
            self._java_command("kafka.tools.StorageTool", "format",
                               "-t", cluster_id or self.random_cluster_id(),
                               "-c", str(self.properties_path), *self.format_arguments(),
                               tool=True),
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"Kafka storage format failed:\n{result.stdout}{result.stderr}")

    def _ready(self) -> bool:
        if not all(port_open(port) for _, port in self.listeners().values()):
            return False
        if not port_open(self.jmx_exporter_port):
            return False
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        metadata = admin.list_topics(timeout=2)
        return len(metadata.brokers) >= self.expected_brokers

    def prepare(self, cluster_id: str | None = None) -> None:
        """Write the properties and, on first start, format storage (a restart keeps the data,
        for fault tests and for restarts with other settings)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        if not self.data_dir.exists():
            self.format_storage(cluster_id)

    def launch(self, cluster_id: str | None = None) -> None:
        """`prepare`, then start the JVM without waiting for it to be ready."""
        self.prepare(cluster_id)
        self._process = ManagedProcess(
            f"kafka node {self.node_id}",
            self._java_command("kafka.Kafka", str(self.properties_path), agent=True),
            self.log_path,
        )
        self._process.start(lambda: True, timeout_s=1)

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        assert self._process is not None, "launch() first"
        self._process.wait_ready(self._ready, timeout_s=timeout_s)

    def start(self, timeout_s: float = 90.0) -> None:
        self.launch()
        self.wait_ready(timeout_s)
