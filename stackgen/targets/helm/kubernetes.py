"""`[runners.kubernetes]` for one runner: its job pod, built as data for runner_toml.

The kubernetes executor takes job settings only from this table (field names checked
against gitlab-runner's common/config.go `KubernetesConfig`). The model is docker-shaped,
so each setting is translated where Kubernetes has an equivalent, and where it has none
the runner and key are named in a UserError: nothing is dropped silently.

- devices: only /dev/fuse, through a privileged pod or a FUSE device plugin's resource;
- security_opt: apparmor/seccomp `unconfined` (privileged pods already run unconfined,
  otherwise a pod_spec patch), `no-new-privileges`, `apparmor=<profile loaded on nodes>`;
- volumes: host paths -> host_path, data with a claim -> pvc, named volumes -> the pvc of
  that name, anonymous volumes -> empty_dir; never the node's Docker socket.
"""

from __future__ import annotations

import functools
import re
from dataclasses import field
from typing import Any, Literal

from stackgen.errors import Problem, UserError
from stackgen.model import Fleet, Manager, Node, Runner, Volume
from stackgen.records import dataclass
from stackgen.serialize.toml import AoT, MultilineString, Table
from stackgen.targets.runner_config import CERTS_D, ca_job_targets, data_table, services_aot

# The runner names the job's own container "build"; pod_spec patches address it by name.
BUILD_CONTAINER = "build"
# [[runners.kubernetes.pod_spec]] is read only with this feature flag (beta in 18.x).
POD_SPEC_FLAG = "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION"
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

SecretKind = Literal["ca-bundle", "registry-ca", "docker-config"]


@dataclass(frozen=True)
class JobSecret:
    """A Secret the job pod mounts; the operator creates it in the job namespace."""

    kind: SecretKind
    name: str
    key: str  # the one key mounted (as sub_path) at mount_path
    mount_path: str


@dataclass
class JobPod:
    """The `[runners.kubernetes]` table and what it asks of the rest of `[[runners]]`."""

    table: Table
    feature_flags: dict[str, bool] = field(default_factory=dict)
    privileged: bool = False
    host_paths: list[str] = field(default_factory=list)  # node paths the jobs mount
    claims: list[str] = field(default_factory=list)  # PVCs that must exist in the job namespace
    secrets: list[JobSecret] = field(default_factory=list)  # job_secrets(), made once


def job_secrets(fleet: Fleet, runner: Runner) -> list[JobSecret]:
    """Secrets mounted into `runner`'s job pods, in mount order.

    The CA goes in as a Secret, not a host path: nodes need not have the site CA installed.
    The first CA target is where jobs see the system bundle; the others are docker:dind's
    registry trust (certs.d/<registry>/ca.crt), which only needs the site CA itself.
    """
    out: list[JobSecret] = []
    targets = ca_job_targets(fleet, runner)
    if targets:
        out.append(JobSecret("ca-bundle", f"{fleet.name}-ca-bundle", "ca-certificates.crt", targets[0]))
    for i, target in enumerate(targets[1:]):
        suffix = f"-{i + 1}" if len(targets) > 2 else ""
        out.append(JobSecret("registry-ca", f"{fleet.name}-registry-ca{suffix}", "ca.crt", target))
    kube = runner.kubernetes
    if kube.docker_config_secret and kube.docker_config_path:
        # `kubectl create secret docker-registry` stores the file under .dockerconfigjson
        secret, path = kube.docker_config_secret, kube.docker_config_path
        out.append(JobSecret("docker-config", secret, ".dockerconfigjson", path))
    return out


def node_selector(node: Node) -> dict[str, str]:
    """Node labels select the node (the site's placement intent); else its hostname label."""
    if node.labels:
        return {k: str(v) for k, v in node.labels}
    return {"kubernetes.io/hostname": node.hostname} if node.hostname else {}


def job_node_selector(manager: Manager, runner: Runner) -> dict[str, str]:
    selector = node_selector(manager.node)
    selector.update((k, str(v)) for k, v in runner.kubernetes.node_selector)
    return selector


def split_toleration(text: str) -> tuple[str, str | None, str]:
    """`key[=value]:Effect` -> (key, value or None for operator Exists, effect)."""
    taint, _, effect = text.rpartition(":")
    key, sep, value = taint.partition("=")
    return key, (value if sep else None), effect


def manager_tolerations(runner: Runner) -> list[dict[str, str]]:
    """The chart's `tolerations` (a pod spec list) from the same taints the jobs tolerate."""
    out = []
    for text in runner.kubernetes.tolerations:
        key, value, effect = split_toleration(text)
        item = {"key": key, "operator": "Exists" if value is None else "Equal"}
        if value is not None:
            item["value"] = value
        item["effect"] = effect
        out.append(item)
    return out


def job_pod(fleet: Fleet, manager: Manager, runner: Runner) -> JobPod:
    """`[runners.kubernetes]` for `runner`; UserError lists everything Kubernetes can't do."""
    problems: list[Problem] = []
    kube = runner.kubernetes
    fuse_privileged = runner.needs_fuse and kube.fuse == "privileged"
    privileged = runner.privileged or fuse_privileged
    _check_devices(runner, problems)
    build_context, profiles = _security(runner, privileged, problems)
    secrets = job_secrets(fleet, runner)
    volumes = _volumes(fleet, runner, secrets, problems)
    if kube.docker_config_secret and not kube.docker_config_path:
        problems.append(
            Problem(
                "docker_config names a Secret but not where jobs read it",
                key=f"runners.{runner.name}.kubernetes.docker_config.path",
                hint="kaniko reads /kaniko/.docker/config.json",
            )
        )
    if problems:
        raise UserError(problems)
    table = data_table({"namespace": kube.namespace, "image": runner.image})
    if fuse_privileged:
        table.comment("privileged: Apptainer needs /dev/fuse (kubernetes.fuse: privileged)")
    data_table(
        {
            "privileged": privileged,
            "helper_image": runner.helper_image,
            "pull_policy": runner.pull_policy,
            "image_pull_secrets": kube.image_pull_secrets,
            "cap_add": runner.cap_add,
        },
        table,
    )
    selector = job_node_selector(manager, runner)
    if selector:
        table.add("node_selector", data_table(selector))
    if kube.tolerations:
        tolerations = {}
        for text in kube.tolerations:
            taint, _, effect = text.rpartition(":")
            tolerations[taint] = effect  # the runner's form: "key=value" = "Effect"
        table.add("node_tolerations", data_table(tolerations))
    if build_context:
        table.add("build_container_security_context", data_table(build_context))
    if volumes:
        holder = Table(super_table=True)
        for kind, entries in volumes.items():
            holder.add(kind, AoT(data_table(entry) for entry in entries))
        table.add("volumes", holder)
    if runner.services:
        table.add("services", services_aot(runner))
    pod = JobPod(
        table,
        privileged=privileged,
        host_paths=[v["host_path"] for v in volumes.get("host_path", [])],
        claims=[v["name"] for v in volumes.get("pvc", [])],
        secrets=secrets,
    )
    patch = _build_patch(runner, profiles)
    if patch:
        from stackgen.serialize.yaml import dump

        spec = AoT()
        spec.append(
            data_table(
                {
                    "name": "stackgen-build-container",
                    "patch_type": "strategic",
                    # TOML drops the newline right after the opening quotes
                    "patch": MultilineString("\n" + dump(patch)),
                }
            )
        )
        table.add("pod_spec", spec)
        pod.feature_flags[POD_SPEC_FLAG] = True
    return pod


def _check_devices(runner: Runner, problems: list[Problem]) -> None:
    for i, device in enumerate(runner.devices):
        if device.split(":", 1)[0] == "/dev/fuse":
            continue
        problems.append(
            Problem(
                f"Kubernetes cannot map the host device {device!r} into a job pod",
                key=f"runners.{runner.name}.devices[{i}]",
                hint="expose it through a device plugin's extended resource, "
                "or leave it out of runners built for Kubernetes",
            )
        )


def _security(
    runner: Runner, privileged: bool, problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """docker security_opt -> (build_container_security_context, securityContext profiles)."""
    context: dict[str, Any] = {}
    profiles: dict[str, Any] = {}
    for i, opt in enumerate(runner.security_opt):
        key = f"runners.{runner.name}.security_opt[{i}]"
        name, _, value = opt.replace(":", "=", 1).partition("=")
        if name == "no-new-privileges" and value in ("", "true"):
            if privileged:
                problems.append(
                    Problem(
                        "a privileged job pod cannot also forbid privilege escalation "
                        "(Kubernetes rejects privileged with allowPrivilegeEscalation: false)",
                        key=key,
                    )
                )
            context["allow_privilege_escalation"] = False
        elif name in ("apparmor", "seccomp") and value == "unconfined":
            # CRI runtimes (containerd, CRI-O) run privileged containers without seccomp
            # and AppArmor, so only an unprivileged pod needs the profiles set.
            if not privileged:
                field_name = "appArmorProfile" if name == "apparmor" else "seccompProfile"
                profiles[field_name] = {"type": "Unconfined"}
        elif name == "apparmor" and value:
            profiles["appArmorProfile"] = {"type": "Localhost", "localhostProfile": value}
        else:
            hint = (
                "Kubernetes reads seccomp profiles from the kubelet's directory on each node, "
                "not from a file beside the runner"
                if name == "seccomp"
                else "set it in a pod_spec patch by hand, or leave it out for Kubernetes"
            )
            problems.append(
                Problem(f"security option {opt!r} has no Kubernetes equivalent here", key=key, hint=hint)
            )
    return context, profiles


def _build_patch(runner: Runner, profiles: dict[str, Any]) -> dict[str, Any] | None:
    """A strategic-merge patch of the build container, or None when nothing needs one."""
    container: dict[str, Any] = {"name": BUILD_CONTAINER}
    if profiles:
        # securityContext.appArmorProfile needs Kubernetes 1.30+ (GA) and runner 18.7+
        container["securityContext"] = profiles
    if runner.needs_fuse and runner.kubernetes.fuse == "device-plugin":
        # extended resources are requested through limits (requests default to them)
        container["resources"] = {"limits": {runner.kubernetes.fuse_resource: 1}}
    return {"containers": [container]} if len(container) > 1 else None


@functools.lru_cache(maxsize=1024)  # every runner mounts the same few paths
def _slug(prefix: str, path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{prefix}-{path}".lower()).strip("-")[:56].rstrip("-")


class _Names:
    """Volume names, unique in the pod and valid DNS labels."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def slug(self, prefix: str, path: str) -> str:
        base = _slug(prefix, path)
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}-{n}", n + 1
        self.used.add(name)
        return name

    def claim(self, name: str) -> bool:
        """Reserve a name the runner takes from the object (PVC, Secret); False if taken."""
        if name in self.used:
            return False
        self.used.add(name)
        return True


def _volumes(fleet: Fleet, runner: Runner, secrets: list[JobSecret],
             problems: list[Problem]) -> dict[str, list[dict[str, Any]]]:
    """`[runners.kubernetes.volumes]` entries by kind (kinds without entries left out)."""
    out: dict[str, list[dict[str, Any]]] = {"host_path": [], "pvc": [], "secret": [], "empty_dir": []}
    names = _Names()
    data_by_path = {path: name for name, path in reversed(runner.data)}
    claims = dict(runner.kubernetes.data_claims)
    used_data: set[str] = set()
    for i, volume in enumerate(runner.volumes):
        key = f"runners.{runner.name}.volumes[{i}]"
        if volume.target in DOCKER_SOCKETS or volume.source in DOCKER_SOCKETS:
            problems.append(_socket_problem(key))
            continue
        data = data_by_path.get(volume.source or "") if volume.is_host_path else None
        if data is not None:
            used_data.add(data)
        if data in claims:
            _add_pvc(out, names, claims[data], volume, key, problems)
        elif volume.is_host_path:
            out["host_path"].append(
                {
                    "name": names.slug("host", volume.target),
                    "mount_path": volume.target,
                    "host_path": volume.source,
                    "read_only": volume.read_only or None,
                }
            )
        elif volume.source:
            # a docker named volume outlives its jobs: on Kubernetes that is a claim
            _add_pvc(out, names, volume.source, volume, key, problems)
        else:
            name = names.slug("scratch", volume.target)
            out["empty_dir"].append({"name": name, "mount_path": volume.target})
    for data in sorted(set(claims) - used_data):
        problems.append(
            Problem(
                f"a claim is given for data {data!r}, but this runner mounts no such data",
                key=f"runners.{runner.name}.kubernetes.data_claims.{data}",
                hint="data this runner mounts: " + (", ".join(n for n, _ in runner.data) or "none"),
            )
        )
    if runner.shm_size:
        out["empty_dir"].append(
            {
                "name": names.slug("dshm", ""),
                "mount_path": "/dev/shm",
                "medium": "Memory",
                "size_limit": str(runner.shm_size),
            }
        )
    for secret in secrets:
        if not names.claim(secret.name):
            problems.append(
                Problem(
                    f"Secret {secret.name!r} is mounted twice; the runner names the volume after it",
                    key=f"runners.{runner.name}.kubernetes",
                )
            )
            continue
        out["secret"].append(_secret_mount(secret))
    return {k: v for k, v in out.items() if v}


def _secret_mount(secret: JobSecret) -> dict[str, Any]:
    """One key of a Secret at `mount_path`. A registry CA goes in as certs.d/<host:port>/ca.crt
    through `items` under the certs.d directory: a mountPath may not contain ':'."""
    if secret.kind == "registry-ca":
        certs_d, _, rel = secret.mount_path.partition(CERTS_D + "/")
        assert not certs_d, "registry CAs live under certs.d"
        return {"name": secret.name, "mount_path": CERTS_D, "read_only": True,
                "items": {secret.key: rel}}
    return {"name": secret.name, "mount_path": secret.mount_path, "sub_path": secret.key,
            "read_only": True}


def _add_pvc(
    out: dict[str, list[dict[str, Any]]],
    names: _Names,
    claim: str,
    volume: Volume,
    key: str,
    problems: list[Problem],
) -> None:
    if not DNS_LABEL.match(claim):
        problems.append(
            Problem(f"{claim!r} is not a valid PersistentVolumeClaim name (lowercase DNS label)", key=key)
        )
    elif not names.claim(claim):
        problems.append(
            Problem(
                f"claim {claim!r} is mounted twice; the runner names the volume after the claim",
                key=key,
                hint="mount the claim once, at the common parent path",
            )
        )
    else:
        out["pvc"].append({"name": claim, "mount_path": volume.target, "read_only": volume.read_only or None})


def _socket_problem(key: str) -> Problem:
    return Problem(
        "Kubernetes jobs cannot use the node's Docker socket: nodes run containerd, and a "
        "host-path docker.sock would hand every job root on the node",
        key=key,
        hint="build images with the dind-build (docker:dind service) or kaniko-harbor profile instead",
    )
