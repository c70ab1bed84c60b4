"""Job containers for every `[[runners]]` of every generated config.toml, for real.

Each runner's job container is created and started through the Engine API with the
HostConfig gitlab-runner's docker executor builds from `[runners.docker]` (see
executor.py), its services beside it on a per-job network. The Debian image stands in for
the job image (the configured ones cannot be pulled here). Inside: the site CA is trusted
where the README says jobs get it, `update-ca-certificates` works, read-only data mounts are
read-only, devices exist, services answer under their aliases.

Privileged jobs (dind-build): the engine must accept the full HostConfig; this sandbox's
runc cannot start privileged containers ("unable to apply caps: operation not permitted"),
so the checks then run in an unprivileged twin with the same mounts (executor.start_job).
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

import stackgen
from tests.conftest import COMPOSED, CONTAINER_PROFILES
from tests.engine import executor
from tests.engine.conftest import GITLAB_HOST, Images, Site
from tests.engine.daemon import Engine

CASES = [(p,) for p in CONTAINER_PROFILES] + COMPOSED + [("dind-build-socket", "self-signed-certs")]
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def runner_params() -> list[Any]:
    """(case, runner) pairs; names come from the example site (the test site has the same)."""
    params = []
    for case in CASES:
        for runner in stackgen.build(list(case)).runners:
            params.append(pytest.param(case, runner.name, id=f"{'+'.join(case)}:{runner.name}"))
    return params


PARAMS = runner_params()


class Jobs:
    """Job containers made once per (case, runner) and shared by the checks below."""

    def __init__(self, engine: Engine, images: Images, site: Site, root: Path) -> None:
        self.engine, self.images, self.site, self.root = engine, images, site, root
        self._jobs: dict[tuple[tuple[str, ...], str], executor.Job] = {}
        self._fleets: dict[tuple[str, ...], Any] = {}

    def fleet(self, case: tuple[str, ...]) -> Any:
        if case not in self._fleets:
            self._fleets[case] = stackgen.build(list(case), site=self.site.file)
        return self._fleets[case]

    def table(self, case: tuple[str, ...], name: str) -> dict[str, Any]:
        """The runner's `[[runners]]` table from the config.toml the config-toml target writes."""
        out = self.root / "+".join(case)
        if not out.exists():
            stackgen.write(out, stackgen.render(self.fleet(case), "config-toml"), "config-toml")
        for config in sorted(out.glob("*/config.toml")):
            for runner in tomllib.loads(config.read_text())["runners"]:
                if runner["name"] == name:
                    return dict(runner)
        raise AssertionError(f"no runner {name} in {out}")

    def model(self, case: tuple[str, ...], name: str) -> Any:
        return next(r for r in self.fleet(case).runners if r.name == name)

    def get(self, case: tuple[str, ...], name: str) -> executor.Job:
        key = (case, name)
        if key not in self._jobs:
            self._jobs[key] = executor.start_job(self.engine.client, self.table(case, name), self.images.debian)
        return self._jobs[key]

    def running(self, case: tuple[str, ...], name: str) -> executor.Job:
        job = self.get(case, name)
        if job.error:
            pytest.fail(f"the engine refused the job container: {job.error}", pytrace=False)
        return job

    def fresh(self, case: tuple[str, ...], name: str) -> executor.Job:
        """A job of its own, for checks that change the container."""
        job = executor.start_job(self.engine.client, self.table(case, name), self.images.debian,
                                 with_services=False)
        self._jobs[(case, name + "#" + str(len(self._jobs)))] = job
        if job.error:
            pytest.fail(f"the engine refused the job container: {job.error}", pytrace=False)
        return job

    def close(self) -> None:
        for job in self._jobs.values():
            executor.remove(job)


@pytest.fixture(scope="module")
def jobs(engine: Engine, engine_images: Images, site: Site,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jobs]:
    made = Jobs(engine, engine_images, site, tmp_path_factory.mktemp("configs"))
    try:
        yield made
    finally:
        made.close()


@pytest.mark.parametrize(("case", "runner"), PARAMS)
def test_the_engine_accepts_the_job_container(case: tuple[str, ...], runner: str, jobs: Jobs) -> None:
    job = jobs.running(case, runner)
    job.container.reload()
    assert job.container.status == "running"
    for note in job.notes:
        print(note)


TRUSTING = [p for p in PARAMS if "self-signed-certs" in p.values[0]]

HTTPS_CHECK = """
import socket, ssl, sys, threading
cafile = sys.argv[1] or None
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain("/tmp/sg/leaf.pem", "/tmp/sg/leaf.key")
listener = socket.create_server(("127.0.0.1", 0))
def serve():
    conn, _ = listener.accept()
    with server.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\nhello")
threading.Thread(target=serve, daemon=True).start()
client = ssl.create_default_context(cafile=cafile)  # the system store unless a file is named
with socket.create_connection(listener.getsockname()) as raw:
    with client.wrap_socket(raw, server_hostname=sys.argv[2]) as tls:
        print(tls.recv(100).decode().split("\\r\\n")[-1])
"""


@pytest.mark.parametrize(("case", "runner"), TRUSTING)
def test_jobs_trust_the_site_ca(case: tuple[str, ...], runner: str, jobs: Jobs, site: Site) -> None:
    """A leaf of the test CA verifies, and TLS to a loopback server with it succeeds, through
    the way the README says jobs get the CA: the host's bundle mounted at ca.job_path (or the
    runner's own ca_job_path, kaniko's /kaniko/ssl/certs/), with SSL_CERT_FILE pointing there."""
    model = jobs.model(case, runner)
    assert model.trust_ca
    container = jobs.running(case, runner).container
    executor.put_file(container, "/tmp/sg/leaf.pem", site.leaf_pem)
    executor.put_file(container, "/tmp/sg/leaf.key", site.leaf_key_pem, 0o600)
    path = model.ca_job_path or jobs.fleet(case).ca_job_path
    code, out = executor.sh(container, "echo $SSL_CERT_FILE")
    assert out.strip() == path, "the job environment points OpenSSL at the mounted bundle"
    # no -CAfile: OpenSSL and Python read SSL_CERT_FILE, as the README says jobs do
    code, out = executor.sh(container, "openssl verify /tmp/sg/leaf.pem")
    assert code == 0 and "leaf.pem: OK" in out, out
    code, out = container.exec_run(["python3.11", "-c", HTTPS_CHECK, "", GITLAB_HOST])
    assert (code, out.decode().strip()) == (0, "hello"), out.decode()


@pytest.mark.parametrize(("case", "runner"), PARAMS)
def test_update_ca_certificates_works_in_jobs(case: tuple[str, ...], runner: str, jobs: Jobs) -> None:
    """What every `apt-get install` of a CA-bearing package runs; it renames a new bundle
    over /etc/ssl/certs/ca-certificates.crt, so nothing may be mounted on that file."""
    container = jobs.fresh(case, runner).container
    code, out = executor.sh(container, "update-ca-certificates 2>&1")
    assert code == 0, out


READ_ONLY = [p for p in PARAMS if p.values[1] in ("bids", "preproc")]


@pytest.mark.parametrize(("case", "runner"), READ_ONLY)
def test_read_only_data_mounts_are_read_only(case: tuple[str, ...], runner: str, jobs: Jobs, site: Site) -> None:
    table = jobs.table(case, runner)["docker"]
    ro = executor.split_volumes(table["volumes"]).read_only
    data = [v for v in ro if v.startswith("/data")]
    assert data, f"{runner} declares no read-only data mount: {table['volumes']}"
    container = jobs.running(case, runner).container
    for target in ro:
        code, out = executor.sh(container, f"test -e {target} && touch {target}/.sg-probe 2>&1 "
                                           f"|| : >> {target} 2>&1")
        assert code != 0 and "Read-only file system" in out, f"{target}: {out}"
    for target in data:
        code, out = executor.sh(container, f"cat {target}/README")
        assert code == 0 and "raw data" in out, out


DEVICES = [p for p in PARAMS if p.values[1] == "preproc"]


@pytest.mark.parametrize(("case", "runner"), DEVICES)
def test_declared_devices_exist_in_jobs(case: tuple[str, ...], runner: str, jobs: Jobs) -> None:
    table = jobs.table(case, runner)["docker"]
    paths = executor.device_paths(table.get("devices", []))
    assert paths
    container = jobs.running(case, runner).container
    for path in paths:
        code, out = executor.sh(container, f"test -c {path} && echo present")
        assert code == 0, f"{path} is not a character device in the job: {out}"


SERVICES = [p for p in PARAMS if p.values[1] == "dind-build" and "dind-build-socket" not in p.values[0]]


@pytest.mark.parametrize(("case", "runner"), SERVICES)
def test_services_answer_under_their_aliases(case: tuple[str, ...], runner: str, jobs: Jobs) -> None:
    table = jobs.table(case, runner)["docker"]
    job = jobs.running(case, runner)
    for service in table["services"]:
        for alias in executor.service_aliases(service):
            code, out = executor.sh(job.container, f"getent hosts {alias}")
            assert code == 0 and out.strip(), f"{alias} does not resolve in the job: {out}"
    for note in job.notes:
        print(note)


@pytest.mark.parametrize(("case", "runner"), [p for p in PARAMS if len(p.values[0]) == 1])
def test_the_cache_dir_is_a_volume(case: tuple[str, ...], runner: str, jobs: Jobs) -> None:
    """The executor's cache lives in /cache and persists only where `volumes` lists it."""
    container = jobs.running(case, runner).container
    assert "/cache" in {m["Destination"] for m in container.attrs["Mounts"]}


class EntrypointReport(UserWarning):
    """Reported, not failed: what the docker executor's job start would meet."""


@pytest.mark.parametrize("image", sorted({r.image for c in CASES for r in stackgen.build(list(c)).runners}))
def test_the_job_script_starts_through_the_image_entrypoint(image: str, engine: Engine,
                                                             engine_images: Images) -> None:
    """The executor keeps the image's ENTRYPOINT and passes its shell detection as the
    command. The configured images cannot be pulled here: the Debian image runs the
    contract, and an image's own ENTRYPOINT is reported when the engine has the image."""
    client = engine.client
    present = executor._has(client, image)
    ref = image if present else engine_images.debian
    entrypoint = client.images.get(ref).attrs["Config"].get("Entrypoint")
    try:
        # the executor's create: the image's ENTRYPOINT kept, the shell detection as CMD
        output = client.containers.run(ref, ["sh", "-c", executor.DETECT_SHELL], remove=True,
                                       labels={"io.stackgen.engine-test": "job"}).decode()
    except docker.errors.ContainerError as e:
        output = f"exit {e.exit_status}: {(e.stderr or b'').decode(errors='replace')}"
    if not present:
        assert output.startswith("job-started:"), output
        warnings.warn(EntrypointReport(f"{image} is not on this engine: the job start was checked on the "
                                       "Debian image; an application ENTRYPOINT in the real image would "
                                       "receive the shell script as its arguments"), stacklevel=1)
    elif not output.startswith("job-started:"):
        warnings.warn(EntrypointReport(f"{image} (ENTRYPOINT {entrypoint}) does not start a job script: "
                                       f"{output.strip()[:300]}"), stacklevel=1)


# the daemon's own options, and ones only the docker CLI knows (stackgen must refuse those)
SECURITY_OPTS = ["apparmor=unconfined", "seccomp=unconfined", "label=disable", "no-new-privileges",
                 "no-new-privileges=true", "systempaths=unconfined", "writable-cgroups=true"]


@pytest.mark.parametrize("opt", SECURITY_OPTS)
def test_every_security_opt_stackgen_accepts_the_engine_accepts(opt: str, engine: Engine, engine_images: Images,
                                                               site: Site) -> None:
    """A security option is either refused by stackgen at build time or accepted by the
    daemon when the executor passes it verbatim; never accepted here and refused there."""
    try:
        files = stackgen.generate(["default"], "config-toml", site=site.file,
                                  sets=[f"runners.default.security_opt=[{opt}]"])
    except stackgen.UserError:
        return
    runner = tomllib.loads(files["data/config.toml"])["runners"][0]
    assert runner["docker"]["security_opt"] == [opt]
    job = executor.start_job(engine.client, runner, engine_images.debian)
    try:
        assert job.error is None, f"the engine refused security_opt {opt!r}: {job.error}"
    finally:
        executor.remove(job)
