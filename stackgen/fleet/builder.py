"""Turning the merged tree into the model, and the checks only the whole picture allows.

References to nodes, data paths and certificates the site must provide, duplicate volume
destinations, session server addresses: each problem is collected with the origin of the
value that caused it, and reported all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from stackgen import model as m
from stackgen.checks import volume_source_bad, volume_target_key
from stackgen.errors import Finding, Origin, Problems, did_you_mean
from stackgen.fleet import extras
from stackgen.layers.certs import read_certificate
from stackgen.layers.inputs import Site
from stackgen.layers.located import Val, locate

VOLUME_MODES = ("ro", "rw")
T = TypeVar("T")


def _get(val: Val | None, *path: str) -> Any:
    node = val.get(*path) if val else None
    return node.plain() if node else None


class FleetBuilder:
    """Turns the merged tree into model objects, collecting every problem on the way."""

    def __init__(self, tree: Val, runners: Mapping[str, Val], site: Site) -> None:
        self.tree = tree
        # each runner's settings are read once, when its model is made (they may be made
        # then: fleet.assemble.EffectiveRunners); only the node is looked at again
        self.runner_vals = runners
        self.node_vals: dict[str, Val | None] = {}
        self.site = site
        self.problems = Problems()
        self.findings: list[Finding] = []
        self.shared: dict[Any, Any] = {}

    def one(self, obj: T) -> T:
        """The first equal value this build made: 10,000 runners hold a few dozen distinct
        volumes, tag lists, environments and Kubernetes options (5 MB of the model made one
        by one). Only for values of texts, None and bools, where equal means the same
        output (1 == True == 1.0 would not): never for `runner_config`."""
        return cast(T, self.shared.setdefault(obj, obj))

    def origin(self, *path: str | int) -> Origin:
        return locate(self.tree, path)

    def build(self) -> m.Fleet:
        nodes = self._nodes()
        certificates = self._certificates()
        runners = {name: self._runner(name, val) for name, val in self.runner_vals.items()}
        self.problems.raise_if_any()
        managers = self._managers(nodes, runners, certificates)
        self.problems.raise_if_any()
        images = _get(self.tree, "images") or {}
        fleet = m.Fleet(
            name=_get(self.tree, "name"),
            gitlab_url=self._gitlab_url(),
            managers=managers,
            certificates=certificates,
            registry=_get(self.tree, "registry"),
            ca_host_path=_get(self.tree, "ca", "host_path"),
            ca_job_path=_get(self.tree, "ca", "job_path"),
            runner_image_family=image_family(images["runner"]),
            ca_image=images.get("runner-ca"),
            images=tuple(sorted(images.items())),
            flavor=_get(self.tree, "flavor"),
        )
        self._check_gitlab_trust(fleet)
        from stackgen.fleet.runner_checks import cache_trust_findings
        from stackgen.fleet.validate import locator

        self.findings += cache_trust_findings(fleet, locator(self.tree, self.runner_vals))
        return fleet

    def _check_gitlab_trust(self, fleet: m.Fleet) -> None:
        if not fleet.certificates:
            return
        covering = [c.name for c in fleet.certificates if fleet.gitlab_host in c.hosts]
        if covering and not any(mgr.trust_ca for mgr in fleet.managers):
            # the site says GitLab's certificate is private: a manager without the CA fails TLS
            self.findings.append(
                Finding(
                    f"the site CA {covering[0]!r} covers {fleet.gitlab_host}, but no runner "
                    "manager in this build trusts it, so the runners cannot reach GitLab over "
                    "TLS: add the self-signed-certs profile (or set manager.trust_ca: true)",
                    self.origin("certificates", covering[0]),
                    f"certificates.{covering[0]}",
                )
            )
            return
        if not any(mgr.trust_ca for mgr in fleet.managers):
            return
        # tls-ca-file is added to the system roots (gitlab-runner network/client.go addTLSCA),
        # so an undeclared GitLab host still works; but nothing checked that the CA covers it.
        if not any(fleet.gitlab_host in c.hosts for c in fleet.certificates):
            self.findings.append(
                Finding(
                    f"the runner trusts the site CA for GitLab, but no certificate lists "
                    f"{fleet.gitlab_host} among its hosts, so its coverage was not checked",
                    self.origin("certificates"),
                    "certificates",
                )
            )

    def _gitlab_url(self) -> str:
        url = _get(self.tree, "gitlab", "url")
        if not url:
            self.problems.add(
                "the site file must give GitLab's address",
                self.site.doc.origin,
                "gitlab.url",
                hint="gitlab: {url: https://gitlab.example.org}",
            )
            self.problems.raise_if_any()
        return cast(str, url).rstrip("/")

    def _nodes(self) -> dict[str, m.Node]:
        out = {}
        for name, spec in (_get(self.tree, "nodes") or {}).items():
            labels = tuple(sorted((spec.get("labels") or {}).items()))
            node = m.Node(name, spec.get("hostname"), labels, tuple(spec.get("constraints", ())))
            if not node.constraints():
                self.problems.add(
                    "a node needs a hostname or labels, or it cannot be pinned",
                    self.origin("nodes", name),
                    f"nodes.{name}",
                )
            out[name] = node
        return out

    def _certificates(self) -> tuple[m.Certificate, ...]:
        out = []
        for name, spec in (_get(self.tree, "certificates") or {}).items():
            origin = self.origin("certificates", name, "file")
            base = self.site.base_dir if origin.kind == "site" else Path.cwd()
            hosts = spec.get("hosts", [])
            host_origins = [self.origin("certificates", name, "hosts", i) for i in range(len(hosts))]
            try:
                loaded = read_certificate(base / spec["file"], name, hosts, origin, host_origins)
            except Exception as exc:  # noqa: BLE001 - re-raised as problems below
                from stackgen.errors import UserError

                if not isinstance(exc, UserError):
                    raise
                self.problems.extend(exc.problems)
                continue
            out.append(loaded.certificate)
            self.findings.extend(loaded.findings)
        return tuple(out)

    def _runner(self, name: str, val: Val) -> m.Runner:
        self.node_vals[name] = val.get("node")
        spec = val.plain()

        def where(*path: str | int) -> Origin:
            return locate(val, path)

        volumes = self._volumes(name, val)
        devices = tuple(spec.get("devices", ()))
        for i, dev in enumerate(devices):
            if not dev.startswith("/dev/"):
                self.problems.add(
                    f"device {dev!r} must be a host path under /dev/",
                    where("devices", i),
                    f"runners.{name}.devices[{i}]",
                )
        security = []
        for i, opt in enumerate(spec.get("security_opt", ())):
            fixed = re.sub(r"^(apparmor|seccomp|label):", r"\1=", opt)
            if fixed != opt:
                self.findings.append(
                    Finding(
                        f"{opt!r} uses the deprecated colon form; writing {fixed!r}",
                        where("security_opt", i),
                        f"runners.{name}.security_opt[{i}]",
                    )
                )
            if fixed not in security:
                security.append(fixed)
        pull = spec["pull_policy"]
        kube = spec["kubernetes"]
        token = spec.get("token", {})
        env_name = token.get("env") or "RUNNER_TOKEN_" + name.upper().replace("-", "_")
        one = self.one
        return m.Runner(
            name=name,
            description=spec["description"],
            tags=one(tuple(spec.get("tags", ()))),
            run_untagged=spec["run_untagged"],
            token=m.TokenRef(env=env_name),
            image=spec["image"],
            privileged=spec["privileged"],
            devices=one(devices),
            security_opt=one(tuple(security)),
            cap_add=one(tuple(spec.get("cap_add", ()))),
            volumes=volumes,
            services=one(tuple(one(_service(s)) for s in spec.get("services", ()))),
            pull_policy=one(cast(tuple[m.PullPolicy, ...], tuple([pull] if isinstance(pull, str) else pull))),
            environment=one(tuple((k, _env_text(v)) for k, v in spec.get("environment", {}).items())),
            shm_size=spec["shm_size"],
            limit=spec["limit"],
            helper_image=spec.get("helper_image"),
            trust_ca=spec["trust_ca"],
            ca_job_path=spec.get("ca_job_path"),
            kubernetes=one(m.KubernetesOptions(
                namespace=kube["namespace"],
                manager_namespace=kube["manager_namespace"],
                node_selector=tuple(sorted(kube.get("node_selector", {}).items())),
                fuse=kube["fuse"],
                fuse_resource=kube["fuse_resource"],
                data_claims=tuple(sorted(kube.get("data_claims", {}).items())),
                tolerations=tuple(kube.get("tolerations", ())),
                docker_config_secret=kube.get("docker_config", {}).get("secret"),
                docker_config_path=kube.get("docker_config", {}).get("path"),
                image_pull_secrets=tuple(kube.get("image_pull_secrets", ())),
                pin_manager=bool(kube.get("pin_manager", False)),
            )),
            data=one(tuple(
                (v["data"], _get(self.tree, "data", v["data"]) or "")
                for v in spec.get("volumes", ())
                if isinstance(v, dict) and "data" in v
            )),
            executor=spec["executor"],
            cache=one(extras.cache(spec.get("cache"))),
            runner_config=extras.config_table(spec.get("runner_config")),
        )

    def _volumes(self, runner: str, val: Val) -> tuple[m.Volume, ...]:
        items = val.get("volumes")
        out: list[m.Volume] = []
        data_paths = _get(self.tree, "data") or {}
        for i, item in enumerate(items.value if items else []):
            key = f"runners.{runner}.volumes[{i}]"
            raw = item.plain()
            if isinstance(raw, str):
                volume, error = parse_volume(raw)
                if error:
                    self.problems.add(error, item.origin, key)
                    continue
            elif "data" in raw:
                if raw["data"] not in data_paths:
                    self.problems.add(
                        f"data path {raw['data']!r} is not defined in the site file",
                        item.origin,
                        key,
                        did_you_mean(raw["data"], data_paths)
                        or f"add it under data: in {self.site.path.name}",
                    )
                    continue
                volume = m.Volume(raw["target"], data_paths[raw["data"]], bool(raw.get("read_only")))
            else:
                volume = m.Volume(raw["target"], raw.get("source"), bool(raw.get("read_only")))
            assert volume is not None
            # docker cleans destinations: `/data/` is `/data` (duplicates: validate._volumes)
            out.append(self.one(m.Volume(volume_target_key(volume.target), volume.source,
                                         volume.read_only)))
        return self.one(tuple(out))

    def _managers(
        self,
        nodes: dict[str, m.Node],
        runners: dict[str, m.Runner],
        certificates: tuple[m.Certificate, ...],
    ) -> tuple[m.Manager, ...]:
        default_node = _get(self.tree, "default_node")
        if default_node is None and len(nodes) == 1:
            default_node = next(iter(nodes))
        placed: dict[str, list[m.Runner]] = {}
        for name, runner in runners.items():
            node_val = self.node_vals[name]
            node_name = node_val.value if node_val else default_node
            origin = node_val.origin if node_val else self.origin("default_node")
            if node_name is None:
                self.problems.add(
                    "no node to run on: the profile names none and the site has no default_node",
                    origin,
                    f"runners.{name}.node",
                )
            elif node_name not in nodes:
                self.problems.add(
                    f"node {node_name!r} is not defined in the site file",
                    origin,
                    f"runners.{name}.node",
                    did_you_mean(node_name, nodes)
                    or f"the site defines: {', '.join(nodes) or 'no nodes'}",
                )
            else:
                placed.setdefault(node_name, []).append(runner)
        mgr = _get(self.tree, "manager")
        trust = mgr["trust_ca"]
        if (trust or any(r.trust_ca for r in runners.values())) and not certificates:
            self.problems.add(
                "a profile asks to trust the site CA, but the site file lists no certificates",
                self.site.doc.origin,
                "certificates",
                hint="certificates: {site-ca: {file: certs/ca.crt, hosts: [gitlab.example.org]}}",
            )
        images = _get(self.tree, "images")
        # The stock image already trusts GitLab through tls-ca-file and the mounted CA; the
        # CA-baked one adds a build, a push and registry trust, so it runs only when asked.
        image = images["runner"]
        if mgr["bake_ca"]:
            if "runner-ca" in images:
                image = images["runner-ca"]
            else:
                self.problems.add(
                    "manager.bake_ca runs the CA-baked runner image, but the site names none",
                    self.origin("manager", "bake_ca"),
                    "manager.bake_ca",
                    hint="images: {runner-ca: <registry>/<path>/gitlab-runner-ca:<version>}, "
                    "built by the dockerfile target",
                )
            if not trust:
                self.problems.add(
                    "manager.bake_ca needs manager.trust_ca (the self-signed-certs profile)",
                    self.origin("manager", "bake_ca"),
                    "manager.bake_ca",
                )
        managers = []
        for node_name, node in nodes.items():
            if node_name not in placed:
                continue
            hosted = tuple(placed[node_name])
            managers.append(
                m.Manager(
                    name=node_name,
                    node=node,
                    image=image,
                    runners=hosted,
                    concurrent=max(mgr["concurrent"], 1),
                    check_interval=mgr["check_interval"],
                    shutdown_timeout=mgr["shutdown_timeout"],
                    log_level=mgr["log_level"],
                    session_server=self._session(mgr["session_server"], node),
                    trust_ca=trust,
                    bake_ca=mgr["bake_ca"],
                    stop_grace_period=mgr["stop_grace_period"],
                    metrics=extras.metrics(mgr["metrics"]),
                    config=extras.config_table(_get(self.tree, "manager_config")),
                    service=extras.service(mgr["service"]),
                )
            )
            if mgr["concurrent"] < len(hosted):
                self.findings.append(
                    Finding(
                        f"concurrent = {mgr['concurrent']} is below the {len(hosted)} runners "
                        f"on node {node_name!r}: some will wait for a free slot",
                        self.origin("manager", "concurrent"),
                        "manager.concurrent",
                    )
                )
        return tuple(managers)

    def _session(self, spec: dict[str, Any], node: m.Node) -> m.SessionServer | None:
        if not spec.get("enabled"):
            return None
        listen = spec["listen_address"]
        port = listen.rsplit(":", 1)[-1]
        if not (port.isascii() and port.isdigit()):
            self.problems.add(
                f"listen_address {listen!r} needs a port, e.g. [::]:8093",
                self.origin("manager", "session_server", "listen_address"),
                "manager.session_server.listen_address",
            )
            return None
        advertise = spec.get("advertise_address") or (
            f"{node.hostname}:{port}" if node.hostname else ""
        )
        if not advertise:
            self.problems.add(
                "the session server needs advertise_address (host:port GitLab can reach)",
                self.origin("manager", "session_server"),
                "manager.session_server.advertise_address",
            )
        return m.SessionServer(listen, advertise, spec["session_timeout"])


def _service(raw: str | dict[str, Any]) -> m.Service:
    if isinstance(raw, str):
        return m.Service(raw)
    return m.Service(
        raw["name"], raw.get("alias"), tuple(raw.get("command", ())), tuple(raw.get("entrypoint", ()))
    )


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_volume(spec: str) -> tuple[m.Volume | None, str | None]:
    """Parse docker's `[src:]dst[:ro|rw]` form; returns (volume, error message)."""
    parts = spec.split(":")
    mode = None
    if len(parts) > 1 and parts[-1] in VOLUME_MODES:
        mode = parts.pop()
    if len(parts) == 1:
        source, target = None, parts[0]
    elif len(parts) == 2:
        source, target = parts
    else:
        return None, f"volume {spec!r} is not [source:]target[:ro|rw]"
    if not target.startswith("/"):
        return None, f"volume target {target!r} must be an absolute path in the container"
    if source is not None and not source:
        return None, f"volume {spec!r} has an empty source"
    bad = volume_source_bad(source) if source is not None else None
    if bad:
        return None, bad[0]
    return m.Volume(target, source, mode == "ro"), None


def image_family(ref: str) -> Literal["ubuntu", "alpine", "ubi"] | None:
    """The OS family of a gitlab-runner image, from its tag (dockerfiles/runner/ upstream):
    `alpine*-` tags are Alpine, `ubi-fips*` Red Hat UBI, the rest Ubuntu."""
    ref = ref.split("@", 1)[0]  # a digest pins the image; the tag still names the family
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    if not repo.endswith("gitlab-runner"):
        return None
    if tag.startswith("alpine"):
        return "alpine"
    return "ubi" if tag.startswith("ubi") else "ubuntu"
