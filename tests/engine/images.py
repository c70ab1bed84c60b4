"""Images for the engine tier, built offline (no registry is reachable).

- The Debian job image: `debootstrap --variant=minbase` of bookworm from the Debian mirror
  with ca-certificates, openssl and Python's standard library, trimmed (docs, locales, apt
  lists) and imported with `docker import`. The rootfs tarball is cached outside the
  checkout, keyed by everything that shapes it, so only the first run pays for debootstrap.
- The gitlab-runner stand-in (tests/engine/standin/): that Debian image with the real
  image's contract (ENTRYPOINT ["/usr/bin/dumb-init", "/entrypoint"], the `run --user=...`
  command, /etc/gitlab-runner/, /home/gitlab-runner/.gitlab-runner/certs/) and a
  `gitlab-runner` that refuses a config.toml the real runner could not use.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
import docker.errors

from tests.engine.daemon import _which_sbin, install_packages

SUITE = "bookworm"
MIRROR = os.environ.get("STACKGEN_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# openssl: verify, s_client/s_server; python3.11 stdlib: tomllib for the stand-in, ssl for jobs
INCLUDE = ["ca-certificates", "openssl", "python3.11-minimal", "libpython3.11-stdlib"]
# trimmed from the rootfs: nothing the tests use, and vfs copies every byte per container
TRIM = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
        "var/cache/apt", "var/lib/apt/lists", "var/log"]
STANDIN_DIR = Path(__file__).with_name("standin")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "stackgen-engine"
    path.mkdir(parents=True, exist_ok=True)
    return path


def rootfs_key() -> str:
    recipe = "\n".join([SUITE, "minbase", MIRROR, ",".join(INCLUDE), ",".join(TRIM)])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def debian_rootfs() -> Path:
    """The cached rootfs tarball, made with debootstrap on first use (about a minute)."""
    tarball = cache_dir() / f"debian-{SUITE}-{rootfs_key()}.tar"
    with (cache_dir() / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions never debootstrap into one cache
        if tarball.exists():
            return tarball
        if _which_sbin("debootstrap") is None:
            install_packages()
        debootstrap = _which_sbin("debootstrap")
        if debootstrap is None:
            raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
        work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=cache_dir()))
        try:
            target = work / "rootfs"
            result = subprocess.run(
                [debootstrap, "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE,
                 str(target), MIRROR], capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise RuntimeError(f"debootstrap failed: {(result.stdout + result.stderr)[-1500:]}")
            for rel in TRIM:
                shutil.rmtree(target / rel, ignore_errors=True)
                (target / rel).mkdir(parents=True, exist_ok=True)
            partial = work / "rootfs.tar"
            subprocess.run(["tar", "-C", str(target), "--numeric-owner", "-cf", str(partial), "."],
                           check=True, timeout=600)
            partial.rename(tarball)
        finally:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    return tarball


def has_image(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def debian_image(client: docker.DockerClient) -> str:
    """The Debian job image on this engine (imported from the cached rootfs if absent)."""
    ref = f"stackgen-engine/debian:{SUITE}-{rootfs_key()}"
    if not has_image(client, ref):
        tarball = debian_rootfs()
        with tarball.open("rb") as data:
            client.api.import_image_from_data(data, repository=ref.split(":")[0], tag=ref.split(":")[1],
                                              changes=['CMD ["/bin/bash"]'])
    return ref


def standin_image(client: docker.DockerClient, base: str) -> str:
    """The gitlab-runner stand-in, built from the Debian image and the files in standin/."""
    digest = hashlib.sha256(base.encode())
    for path in sorted(STANDIN_DIR.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    ref = f"stackgen-engine/gitlab-runner-standin:{digest.hexdigest()[:12]}"
    if not has_image(client, ref):
        try:
            client.images.build(path=str(STANDIN_DIR), tag=ref, buildargs={"BASE": base}, pull=False,
                                rm=True, forcerm=True)
        except docker.errors.BuildError as e:
            log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in e.build_log)
            raise RuntimeError(f"building the gitlab-runner stand-in failed: {e}\n{log[-2000:]}") from e
    return ref


def tag(client: docker.DockerClient, source: str, ref: str) -> None:
    """Tag `source` as `ref` (repository[:tag], registry ports included)."""
    repo, _, tag_ = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    client.images.get(source).tag(repo, tag_)
