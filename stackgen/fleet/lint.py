"""Security lint: runner settings that weaken the wall between CI jobs and their host.

Each rule in `RULES` flags a setting with the reason it matters. A profile accepts a rule
for the runners it defines with `waivers: {rule: "why this is needed"}` (a profile that
defines no runner, a capability, covers every runner it is composed with). Whatever is not
waived becomes a `Finding`, which the CLI prints as `stackgen: warning: ...`. Lint reads the
finished model and never changes what the targets write.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from stackgen.errors import Finding, Origin
from stackgen.model import Fleet, Runner
from stackgen.records import dataclass

if TYPE_CHECKING:
    from stackgen.layers.profiles import Profile

# Images whose ENTRYPOINT is an application. The docker executor keeps an image's
# ENTRYPOINT and passes its shell-detection script as the command, so a job on such an
# image runs e.g. `heudiconv sh -c ...` and fails unless the job sets `entrypoint: [""]`,
# which only a job (`image: {name: ..., entrypoint: [""]}`), never config.toml, can do.
# Repository (Docker Hub names without docker.io/library/) -> the entrypoint.
APP_ENTRYPOINT_IMAGES = {
    "nipy/heudiconv": "heudiconv",
    "kaczmarj/apptainer": "apptainer",
    "kaczmarj/singularity": "singularity",
    "gcr.io/kaniko-project/executor": "/kaniko/executor",
    "quay.io/skopeo/stable": "skopeo",
    "aquasec/trivy": "trivy",
    "hashicorp/terraform": "terraform",
}


def image_repository(ref: str) -> str:
    """`docker.io/library/x:1@sha256:...` -> `x`: the repository as APP_ENTRYPOINT_IMAGES keys it."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name

# Sockets that hand a job the host's container runtime (dockerd, containerd, podman, CRI-O).
RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/var/run/crio/crio.sock",
)
SOCKET_NAMES = frozenset(posixpath.basename(s) for s in RUNTIME_SOCKETS)

# Beyond docker's default capability set, these give a container power over the host.
RISKY_CAPABILITIES = frozenset(
    "ALL SYS_ADMIN SYS_MODULE SYS_PTRACE SYS_RAWIO SYS_BOOT SYS_TIME NET_ADMIN "
    "DAC_READ_SEARCH MAC_ADMIN MAC_OVERRIDE BPF PERFMON LINUX_IMMUTABLE SYSLOG".split()
)

UNCONFINED = {
    "apparmor=unconfined": "AppArmor",
    "seccomp=unconfined": "seccomp",
    "label=disable": "SELinux labelling",
}


@dataclass(frozen=True)
class Hit:
    """One setting one rule objects to."""

    rule: str
    runner: str
    key: str  # input key of the setting, e.g. runners.preproc.devices[0]
    message: str


def check(fleet: Fleet) -> list[Hit]:
    """Every rule hit in the model, waived or not, in runner order."""
    hits: list[Hit] = []
    for runner in fleet.runners:
        hits += _runner_hits(runner)
    return hits


def _runner_hits(r: Runner) -> list[Hit]:
    key = f"runners.{r.name}"
    hits: list[Hit] = []

    def hit(rule: str, where: str, message: str) -> None:
        hits.append(Hit(rule, r.name, where, message))

    if r.privileged:
        hit("privileged", f"{key}.privileged",
            "jobs run in privileged containers: any job can take over the host")
    elif r.needs_fuse and r.kubernetes.fuse == "privileged":
        # https://docs.gitlab.com/runner/executors/kubernetes/ - no device option for pods
        hit("privileged", f"{key}.kubernetes.fuse",
            "on Kubernetes, job pods run privileged to reach /dev/fuse: any job can take over "
            "the node (kubernetes.fuse: device-plugin avoids it where a FUSE plugin runs)")
    for i, vol in enumerate(r.volumes):
        if vol.source is None or not vol.is_host_path:
            continue
        where = f"{key}.volumes[{i}]"
        if _is_runtime_socket(vol.source):
            hit("docker-socket", where,
                f"{vol.source} gives every job the host's container runtime: jobs can start "
                "privileged containers and read other jobs' files")
        else:
            mode = "read-only" if vol.read_only else "read-write"
            can = "read" if vol.read_only else "read and change"
            hit("host-paths", where,
                f"the host path {vol.source} is mounted {mode} at {vol.target} in every job: "
                f"any job on this runner can {can} it")
    for i, opt in enumerate(r.security_opt):
        what = UNCONFINED.get(opt.replace(":", "=", 1))
        if what:
            hit("unconfined", f"{key}.security_opt[{i}]",
                f"{opt} switches off {what} for jobs, a layer that contains container escapes")
    for i, dev in enumerate(r.devices):
        host = dev.split(":", 1)[0]
        why = ("FUSE lets jobs mount file systems" if host == "/dev/fuse"
               else "jobs reach the hardware or kernel interface behind it directly")
        hit("devices", f"{key}.devices[{i}]", f"the host device {host} is passed into jobs: {why}")
    if r.pull_policy and r.pull_policy[0] != "always":
        hit("pull-policy", f"{key}.pull_policy",
            f"pull_policy starts with {r.pull_policy[0]}: a job may run an image that another "
            "project pulled with its own credentials, and tags such as :latest never refresh")
    entrypoint = APP_ENTRYPOINT_IMAGES.get(image_repository(r.image))
    if entrypoint:
        hit("entrypoint", f"{key}.image",
            f"{r.image} has the ENTRYPOINT {entrypoint}, which the docker executor keeps: every "
            "job that names no image of its own fails; make a shell image the runner's default "
            "and name this one in jobs as `image: {name: ..., entrypoint: [\"\"]}`")
    for i, cap in enumerate(r.cap_add):
        if cap.upper().removeprefix("CAP_") in RISKY_CAPABILITIES:
            hit("capabilities", f"{key}.cap_add[{i}]",
                f"capability {cap} lets jobs act on the host kernel beyond a container's reach")
    return hits


def _is_runtime_socket(source: str) -> bool:
    path = "/" + posixpath.normpath(source).lstrip("/")
    if posixpath.basename(path) in SOCKET_NAMES:
        return True
    # mounting a directory that holds the socket (/var/run, /run, /) hands it over too
    return any(s.startswith(path.rstrip("/") + "/") for s in RUNTIME_SOCKETS)


def lint(
    fleet: Fleet,
    waived: Mapping[str, Collection[str]] | None = None,
    where: Callable[[str], Origin | None] = lambda key: None,
) -> list[Finding]:
    """Findings for every hit not waived for its runner (`waived`: runner -> rule names)."""
    waived = waived or {}
    findings = []
    for hit in check(fleet):
        if hit.rule in waived.get(hit.runner, ()):
            continue
        findings.append(
            Finding(
                f"{hit.message} [lint rule {hit.rule}: if intended, justify it in the profile "
                f"that defines runner {hit.runner!r} with `waivers: {{{hit.rule}: <why>}}`]",
                where(hit.key),
                hit.key,
            )
        )
    return findings


def runner_waivers(profiles: Sequence[Profile], runners: Sequence[str]) -> dict[str, set[str]]:
    """Which rules each runner has waived: a profile's waivers cover the runners it defines."""
    out: dict[str, set[str]] = {name: set() for name in runners}
    for profile in profiles:
        section = profile.doc.get("runners")
        covered = list(section.value) if section and section.value else list(runners)
        for rule, _why in profile.waivers:
            for name in covered:
                if name in out:
                    out[name].add(rule)
    return out
