"""deploy/docker-compose.yml without Docker (no engine runs here): the costopt services' users,
mounts, commands and healthchecks checked against the Dockerfile, then each service's own
command run with its mounted paths laid out as the image and compose would lay them (a temp
directory stands in for the `costopt-data` volume, seeded as the image seeds it).

Why both: the two bugs this guards against were invisible to a parse of the file. The image
ran as uid 10001 with no /data for the volume to copy, so SQLite could not write; and the
scheduler inherited a healthcheck on a port it never serves, so it always showed unhealthy.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from costopt.config import load_settings
from tests.stack.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COSTOPT = Path(sys.executable).parent / "costopt"


@dataclass(frozen=True)
class Image:
    """What the Dockerfile's runtime stage says about users, directories and health."""

    uid: int
    user: str
    owned_dirs: tuple[str, ...]  # created by `install -d -o <user>`
    healthcheck: list[str]  # the HEALTHCHECK's CMD, as argv
    workdir: str


def image() -> Image:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text.split("\nFROM ")[-1]  # the last stage is the image that runs
    useradd = re.search(r"useradd .*--uid (\d+) (\w+)", runtime)
    assert useradd, "the image creates its user"
    user = useradd.group(2)
    assert re.search(rf"^USER {user}$", runtime, re.M), "the image runs as that user"
    owned = [path for match in re.finditer(rf"install -d -o {user} -g {user} (.+)", runtime)
             for path in match.group(1).split()]
    check = re.search(r"HEALTHCHECK .*\\\n\s+CMD (.+)", runtime)
    assert check
    workdir = re.search(r"^WORKDIR (\S+)$", runtime, re.M)
    assert workdir
    return Image(int(useradd.group(1)), user, tuple(owned), shlex.split(check.group(1)),
                 workdir.group(1))


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def costopt_services() -> dict[str, dict]:
    """The services built from this repository's Dockerfile."""
    return {name: s for name, s in compose()["services"].items() if s.get("build") == ".."}


def env_file(path: Path) -> dict[str, str]:
    """An env file as compose reads it: KEY=VALUE lines, `#` comments, no quoting needed."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def test_costopt_services_run_as_the_image_user_on_a_volume_it_owns() -> None:
    built = image()
    services = costopt_services()
    assert set(services) == {"costopt-api", "costopt-scheduler"}
    for name, service in services.items():
        assert service["user"] == str(built.uid), name
        for volume in service["volumes"]:
            source, target, *mode = volume.split(":")
            if source.startswith("."):
                assert (DEPLOY / source).is_file() and mode == ["ro"], volume
            else:
                # A named volume starts as a copy of the image's directory, owner included:
                # the image must create it, owned by the user that writes there.
                assert source in compose()["volumes"], volume
                assert target in built.owned_dirs, f"{name}: the image does not own {target}"
        # Secrets come from an env file that is never committed; its example is.
        assert service["env_file"] == ["./costopt.env"], name
        assert (DEPLOY / "costopt.env.example").is_file()
        assert "/deploy/costopt.env" in (ROOT / ".gitignore").read_text().splitlines()
        assert env_file(DEPLOY / "costopt.env.example").keys() >= {"COSTOPT_API__TOKENS"}
    # What costopt writes (the SQLite store, its leader lock, reports) lies in that volume.
    settings = load_settings(DEPLOY / "costopt.yaml")
    store = settings.store_url.removeprefix("sqlite:///")
    assert store.startswith("/data/") and settings.report.directory.startswith("/data/")
    assert str(Path(settings.report.directory)) in built.owned_dirs


def test_only_a_service_that_serves_http_keeps_the_images_healthcheck() -> None:
    built = image()
    health = " ".join(built.healthcheck)
    port = re.search(r"127\.0\.0\.1:(\d+)/healthz", health)
    assert port, health
    for name, service in costopt_services().items():
        command = service["command"]
        if command[1] == "serve":
            assert "healthcheck" not in service, name
            assert command[command.index("--port") + 1] == port.group(1)
            assert command[command.index("--host") + 1] == "0.0.0.0"  # reachable in-network
        else:
            assert service["healthcheck"] == {"disable": True}, name
    for name, service in compose()["services"].items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond loopback"


class Container:
    """A compose service's command run here: its mounts mapped to host paths under `root`."""

    def __init__(self, root: Path, name: str, service: dict, built: Image) -> None:
        self.root = root
        self.name = name
        self.mounts: dict[str, Path] = {}
        for path in built.owned_dirs:  # the image's own directories, owned by its user
            host = root / path.lstrip("/")
            host.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(host, built.uid, built.uid)
        for volume in service["volumes"]:
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                self.mounts[target] = self._translated(DEPLOY / source, target)
            else:
                self.mounts[target] = root / target.lstrip("/")
        self.home = root / built.workdir.lstrip("/")
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **env_file(DEPLOY / "costopt.env.example"),
                    "HOME": str(self.home)}
        self.env.pop("COSTOPT_CONFIG", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / f"{name}.log"

    def _translated(self, source: Path, target: str) -> Path:
        """A bind-mounted file whose text names container paths, with those paths mapped."""
        host = self.root / target.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        for container_path in ("/data",):
            text = text.replace(f"{container_path}/", f"{self.root}{container_path}/")
        host.write_text(text)
        return host

    def argv(self, command: list[str], port: int | None = None) -> list[str]:
        argv = [str(COSTOPT)] + [str(self.mounts.get(arg, arg)) for arg in command[1:]]
        if "--host" in argv:
            argv[argv.index("--host") + 1] = "127.0.0.1"  # bind only loopback here
        if port is not None:
            argv[argv.index("--port") + 1] = str(port)
        return argv

    def start(self, argv: list[str]) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, env=self.env, cwd=self.home, stdout=log,
                                            stderr=subprocess.STDOUT)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM: {self.log.read_text()}") from None


def test_the_api_service_serves_on_its_volume_and_passes_the_images_healthcheck(
        tmp_path: Path) -> None:
    built = image()
    service = costopt_services()["costopt-api"]
    api = Container(tmp_path, "costopt-api", service, built)
    port = free_port()
    api.start(api.argv(service["command"], port))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert api.process is not None and api.process.poll() is None, api.log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, api.log.read_text()
            time.sleep(0.2)
        # The image's own healthcheck, as Docker would run it in this container.
        check = [sys.executable if arg == "python" else arg.replace(":8080/", f":{port}/")
                 for arg in built.healthcheck]
        assert subprocess.run(check, timeout=10).returncode == 0
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert (api.mounts["/data"] / "costopt.db").is_file()  # the store, in the volume
        # The env file's tokens reached the process: auth is on and no token is valid.
        assert httpx.get(f"http://127.0.0.1:{port}/v1/clusters", timeout=10).status_code == 401
    finally:
        code = api.stop()
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught: Docker's clean stop.
    assert code in (0, -signal.SIGTERM) and "Traceback" not in api.log.read_text(), \
        api.log.read_text()


def test_the_scheduler_service_leads_on_its_volume_and_stops_on_sigterm(
        tmp_path: Path) -> None:
    built = image()
    service = costopt_services()["costopt-scheduler"]
    scheduler = Container(tmp_path, "costopt-scheduler", service, built)
    scheduler.start(scheduler.argv(service["command"]))
    lock = scheduler.mounts["/data"] / "costopt.db.leader"
    try:
        deadline = time.monotonic() + 60
        while not lock.exists():
            assert scheduler.process is not None and scheduler.process.poll() is None, \
                scheduler.log.read_text()
            assert time.monotonic() < deadline, scheduler.log.read_text()
            time.sleep(0.2)
        # It holds the leader lock in the shared volume: a second scheduler would stand by.
        with lock.open("a+") as other:
            deadline = time.monotonic() + 10
            while True:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(other, fcntl.LOCK_UN)
                    assert time.monotonic() < deadline, "the scheduler never took the lock"
                    time.sleep(0.2)
                except BlockingIOError:
                    break
        time.sleep(2)
        assert scheduler.process is not None and scheduler.process.poll() is None, \
            scheduler.log.read_text()
    finally:
        code = scheduler.stop()
    assert code == 0, scheduler.log.read_text()
    assert (scheduler.mounts["/data"] / "costopt.db").is_file()
