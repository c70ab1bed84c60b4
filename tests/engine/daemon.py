"""Find or start the Docker Engine the engine tier runs against.

A reachable engine (`DOCKER_HOST`, else the default socket if it is a swarm manager) is used
as it is, and left as it was. Otherwise, as root, a private dockerd starts in a temp dir
(own data-root, exec-root, pidfile and socket; overlay2, else vfs; no iptables), also
listening on /var/run/docker.sock when nothing else does (the generated stacks mount that
socket), and becomes a one-node swarm. `stop()` ends it and removes its dir and socket, also
from atexit, so no daemon outlives the session. Debian's `docker.io`,
`debootstrap` and `busybox-static` are installed with apt-get when missing (CI starts from a
fresh machine). Nothing here touches the system's own dockerd configuration.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

# Debian's packages: dockerd 20.10 with its own docker CLI, debootstrap for the job image
APT_PACKAGES = ["docker.io", "debootstrap", "busybox-static"]
NEEDED_BINARIES = {"dockerd": "docker.io", "debootstrap": "debootstrap"}
# The docker CLI that comes with Debian's docker.io (matches its dockerd); /usr/local/bin may
# hold a newer client, which works too (it negotiates the API version).
DEBIAN_DOCKER_CLI = "/usr/bin/docker"
START_TIMEOUT = 60
SYSTEM_SOCKET = "/var/run/docker.sock"
# overlay2 where the kernel and filesystem allow it (fast); vfs everywhere else (copies
# every image layer per container: slow, but needs nothing). STACKGEN_ENGINE_STORAGE forces one.
STORAGE_DRIVERS = [os.environ["STACKGEN_ENGINE_STORAGE"]] if os.environ.get("STACKGEN_ENGINE_STORAGE") \
    else ["overlay2", "vfs"]


_stopped: set[Path] = set()


class NoEngine(Exception):
    """No engine is reachable and none can start here: the tier skips with this reason."""


@dataclass
class Engine:
    """A Docker Engine the tests talk to: the SDK client, its socket URL and the CLIs."""

    client: docker.DockerClient
    url: str
    private: bool
    docker_cli: str
    swarm: bool
    node_hostname: str
    root: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    owns_system_socket: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        info = self.client.info()
        kind = "private dockerd" if self.private else "engine"
        return (f"engine tier: {kind} {info.get('ServerVersion')} ({info.get('Driver')}) at {self.url}, "
                f"swarm {'on' if self.swarm else 'off'}" + "".join(f"; {n}" for n in self.notes))

    def env(self) -> dict[str, str]:
        """The environment for docker and docker-compose CLIs aimed at this engine."""
        # a reachable engine keeps the caller's DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, ...
        drop = ("DOCKER_", "RUNNER_TOKEN") if self.private else ("DOCKER_CONTEXT", "RUNNER_TOKEN")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env["DOCKER_HOST"] = self.url
        return env

    def cli(self, *args: str, input: str | None = None, timeout: float = 120,
            env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.docker_cli, *args], input=input, capture_output=True, text=True,
                              env=env or self.env(), timeout=timeout, cwd=cwd)


def _ping(url: str, from_env: bool = False) -> docker.DockerClient | None:
    try:
        client = docker.from_env(version="auto", timeout=120) if from_env else \
            docker.DockerClient(base_url=url, version="auto", timeout=120)
        client.ping()
        return client
    except Exception:
        return None


def _docker_cli() -> str | None:
    if os.access(DEBIAN_DOCKER_CLI, os.X_OK):
        return DEBIAN_DOCKER_CLI
    return shutil.which("docker")


def install_packages() -> None:
    """apt-get install what the tier needs when it is missing (as root on Debian/Ubuntu)."""
    missing = [pkg for binary, pkg in NEEDED_BINARIES.items() if not _which_sbin(binary)]
    if not os.access(DEBIAN_DOCKER_CLI, os.X_OK) and "docker.io" not in missing:
        missing.append("docker.io")
    if not Path("/bin/busybox").exists() and not shutil.which("busybox"):
        missing.append("busybox-static")
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise NoEngine(f"missing {', '.join(missing)} and cannot apt-get install them (not root or no apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # a failing extra source makes `update` exit non-zero while the Debian mirror is fine:
    # only the install decides
    update = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True, env=env, timeout=600)
    install = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
                             capture_output=True, text=True, env=env, timeout=900)
    if install.returncode != 0:
        raise NoEngine(f"apt-get install {' '.join(APT_PACKAGES)} failed: "
                       f"{(update.stderr + install.stderr).strip()[-500:]}")


def _which_sbin(name: str) -> str | None:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
    return shutil.which(name, path=path)


def reachable() -> Engine | None:
    """The engine DOCKER_HOST or the default socket points at, if one answers."""
    url = os.environ.get("DOCKER_HOST") or (f"unix://{SYSTEM_SOCKET}"
                                            if Path(SYSTEM_SOCKET).exists() else None)
    if url is None:
        return None
    client = _ping(url, from_env=bool(os.environ.get("DOCKER_HOST")))  # TLS settings too
    cli = _docker_cli()
    if client is None or cli is None:
        return None
    swarm = client.info().get("Swarm", {})
    is_manager = swarm.get("LocalNodeState") == "active" and swarm.get("ControlAvailable", False)
    hostname = client.info()["Name"]
    if is_manager:
        hostname = client.nodes.get(swarm["NodeID"]).attrs["Description"]["Hostname"]
    return Engine(client, url, private=False, docker_cli=cli, swarm=is_manager, node_hostname=hostname)


def start_private() -> Engine:
    """A private dockerd and one-node swarm in a temp dir; raises NoEngine where it cannot run."""
    if os.geteuid() != 0:
        raise NoEngine("no reachable Docker Engine, and a private dockerd needs root")
    install_packages()
    dockerd, cli = _which_sbin("dockerd"), _docker_cli()
    if dockerd is None or cli is None:
        raise NoEngine("dockerd or the docker CLI is not installed")
    # The generated stacks bind /var/run/docker.sock, as on a real node: where no socket is
    # there (no other engine), the private dockerd listens there too, until it stops.
    system_socket = Path(SYSTEM_SOCKET)
    owns_system_socket = _stale(system_socket) or not (system_socket.exists() or system_socket.is_symlink())
    failures = []
    for driver in STORAGE_DRIVERS:
        try:
            proc, root, url, client = _launch(dockerd, driver, owns_system_socket)
            break
        except NoEngine as e:
            failures.append(f"--storage-driver {driver}: {e}")
    else:
        raise NoEngine("private dockerd did not start: " + "; ".join(failures))
    engine = Engine(client, url, private=True, docker_cli=cli, swarm=False, node_hostname="",
                    root=root, proc=proc, owns_system_socket=owns_system_socket)
    if not owns_system_socket:
        engine.notes.append(f"{SYSTEM_SOCKET} exists but does not answer: managers cannot reach this engine")
    result = engine.cli("swarm", "init", "--advertise-addr", "127.0.0.1")
    if result.returncode != 0:
        stop(engine)
        raise NoEngine(f"docker swarm init failed: {result.stderr.strip()}")
    info = client.info()
    engine.swarm = True
    engine.node_hostname = client.nodes.get(info["Swarm"]["NodeID"]).attrs["Description"]["Hostname"]
    return engine


def _launch(dockerd: str, driver: str, owns_system_socket: bool
            ) -> tuple[subprocess.Popen[bytes], Path, str, docker.DockerClient]:
    # short: a unix socket path has at most 107 bytes
    root = Path(tempfile.mkdtemp(prefix="sg-engine-", dir="/tmp"))
    url = f"unix://{root}/docker.sock"
    log = (root / "dockerd.log").open("wb")
    cmd = [dockerd, "--storage-driver", driver, "--iptables=false", "--ip-masq=false",
           "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
           "--pidfile", str(root / "dockerd.pid"), "-H", url, "--log-level", "warn"]
    if owns_system_socket:
        cmd += ["-H", f"unix://{SYSTEM_SOCKET}"]
    (root / "owner.pid").write_text(str(os.getpid()))  # see reap_leftovers
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    atexit.register(stop_daemon, proc, root, owns_system_socket)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        client = _ping(url)
        if client is not None:
            return proc, root, url, client
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (root / "dockerd.log").read_text(errors="replace").strip().splitlines()[-3:]
            stop_daemon(proc, root, owns_system_socket)
            raise NoEngine(" | ".join(tail) or f"exit status {proc.returncode}")
        time.sleep(0.3)


def stop(engine: Engine) -> None:
    """Stop a private engine; a reachable one is left as it was."""
    if engine.private and engine.proc is not None and engine.root is not None:
        try:
            engine.client.close()
        except Exception:
            pass
        stop_daemon(engine.proc, engine.root, engine.owns_system_socket)


def _stale(path: Path) -> bool:
    """A unix socket nobody listens on (left by a killed session)."""
    if not path.is_socket():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def stop_daemon(proc: subprocess.Popen[bytes], root: Path, owns_system_socket: bool) -> None:
    """Stop a private dockerd (and the containerd it started) and remove its temp dir."""
    if root in _stopped:
        return
    _stopped.add(root)
    if proc.poll() is None:
        # dockerd stops its containers and its containerd on SIGTERM
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    # whatever is left of the session's process group (containerd, shims) goes with it
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    _unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)
    if owns_system_socket and Path(SYSTEM_SOCKET).is_socket():
        Path(SYSTEM_SOCKET).unlink()


def _unmount_under(root: Path) -> None:
    """Lazily unmount what dockerd left mounted in its dirs (netns files, shm, secrets)."""
    prefix = str(root) + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[4] for line in lines if line.split()[4].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def reap_leftovers() -> None:
    """Stop the private dockerd of a session that was killed before its teardown (its
    owner process is gone), so it neither lingers nor poses as a reachable engine."""
    for root in Path("/tmp").glob("sg-engine-*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not a session's dir, or one being set up right now
        if _alive(owner):
            continue
        try:
            pid = int((root / "dockerd.pid").read_text())
            ours = str(root) in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        except (OSError, ValueError):
            ours, pid = False, 0
        if ours:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
    if _stale(Path(SYSTEM_SOCKET)):
        Path(SYSTEM_SOCKET).unlink()


def find_or_start() -> Engine:
    """The engine for this session (NoEngine if none): the one DOCKER_HOST names; else the
    default socket's if it is a swarm manager; else, as root, a private one; else the
    default socket's without swarm (the swarm tests then skip)."""
    if os.geteuid() == 0:
        reap_leftovers()
    engine = reachable()
    if engine is not None and (engine.swarm or os.environ.get("DOCKER_HOST")):
        return engine
    try:
        return start_private()
    except NoEngine:
        if engine is None:
            raise
        return engine
