"""Helm values as the gitlab/gitlab-runner chart (0.86.x) and the runner read them.

Each values file is parsed with ruamel; its `runners.config` is put back through the same
rule Helm's `tpl` applies (Go text/template: only `{{` opens an action) and parsed with
tomllib. Key lists come from the chart's values.yaml and the runner's common/config.go.
If `helm` and an unpacked chart (STACKGEN_GITLAB_RUNNER_CHART) are at hand, the real chart
renders every values file too; that check is skipped otherwise (the chart is not vendored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import stackgen
from stackgen import model as m
from stackgen.checks.runner_keys import global_spec, key_problems
from stackgen.errors import UserError
from stackgen.targets.helm import CHART_CERTS_DIR, tpl_escape
from tests.conftest import COMPOSED, CONTAINER_PROFILES

# the built-in profiles Kubernetes cannot run as written (the host's docker socket)
REFUSED = {"dind-build-socket"}
CASES = [(p,) for p in CONTAINER_PROFILES if p not in REFUSED] + COMPOSED

# Deprecated or ignored by the 0.86 chart (its values.yaml, MR !271 / issue #222 removals)
DEPRECATED = {
    ("runnerRegistrationToken",), ("runnerToken",), ("runners", "tags"), ("runners", "locked"),
    ("runners", "runUntagged"), ("runners", "protected"), ("runners", "image"),
    ("runners", "privileged"), ("runners", "nodeSelector"), ("runners", "nodeTolerations"),
    ("runners", "env"), ("runners", "namespace"), ("runners", "imagePullPolicy"),
    ("runners", "pollTimeout"), ("runners", "builds"), ("runners", "services"),
    ("runners", "helpers"), ("rbac", "serviceAccountName"), ("rbac", "resources"), ("rbac", "verbs"),
}
# top-level keys the generator may write, all read by the 0.86 chart
VALUES_KEYS = {"gitlabUrl", "concurrent", "checkInterval", "shutdown_timeout", "logLevel",
               "terminationGracePeriodSeconds", "certsSecretName", "rbac", "serviceAccount",
               "nodeSelector", "tolerations", "runners", "image"}
RUNNER_KEYS = {"name", "executor", "tls-ca-file", "limit", "environment", "kubernetes", "feature_flags"}
# [runners.kubernetes] keys, from gitlab-runner common/config.go KubernetesConfig
KUBERNETES_KEYS = {"namespace", "image", "privileged", "helper_image", "pull_policy", "cap_add",
                   "node_selector", "node_tolerations", "build_container_security_context",
                   "volumes", "services", "pod_spec"}
VOLUME_KEYS = {
    "host_path": {"name", "mount_path", "host_path", "read_only", "sub_path"},
    "pvc": {"name", "mount_path", "read_only", "sub_path"},
    "secret": {"name", "mount_path", "sub_path", "read_only", "items"},
    "empty_dir": {"name", "mount_path", "medium", "size_limit", "sub_path"},
}
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def tpl(text: str) -> str:
    """Helm's `tpl` for what the generator may write: literal text and `{{ "{{" }}`.

    Any other action (an unescaped `{{`) fails, as it would make Helm evaluate user text.
    """
    out, pos = [], 0
    while (start := text.find("{{", pos)) >= 0:
        out.append(text[pos:start])
        end = text.find("}}", start + 2)
        assert end >= 0, f"unclosed action at {start}"
        assert text[start + 2:end].strip() == '"{{"', f"unexpected action {text[start:end + 2]!r}"
        out.append("{{")
        pos = end + 2
    return "".join(out) + text[pos:]


def values_files(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    yaml = YAML(typ="safe")
    return {p.split("/")[0]: yaml.load(t) for p, t in files.items() if p.endswith("/values.yaml")}


def runner_toml(values: dict[str, Any]) -> dict[str, Any]:
    config = values["runners"]["config"]
    assert isinstance(config, str)
    doc = tomllib.loads(tpl(config))
    assert set(doc) == {"runners"}, "a registration template holds [[runners]] only"
    assert len(doc["runners"]) == 1, "the chart registers exactly one [[runners]]"
    return doc["runners"][0]  # type: ignore[no-any-return]


def kube(values: dict[str, Any]) -> dict[str, Any]:
    return runner_toml(values)["kubernetes"]  # type: ignore[no-any-return]


def generate(*profiles: str, sets: tuple[str, ...] = ()) -> dict[str, str]:
    return stackgen.generate(list(profiles), "helm", sets=list(sets))


def walk(data: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(data, dict):
        return [path] + [p for k, v in data.items() for p in walk(v, (*path, k))]
    return [path]


@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_every_values_file_installs_one_runner(profiles: tuple[str, ...]) -> None:
    files = generate(*profiles)
    fleet = stackgen.build(list(profiles))
    all_values = values_files(files)
    assert set(all_values) == {r.name for r in fleet.runners}, "one release per runner"
    for name, values in all_values.items():
        runner = next(r for r in fleet.runners if r.name == name)
        assert set(values) <= VALUES_KEYS, name
        assert not DEPRECATED & set(walk(values)), name
        assert values["gitlabUrl"] == fleet.gitlab_url
        for key in ("concurrent", "checkInterval", "shutdown_timeout", "terminationGracePeriodSeconds"):
            assert type(values[key]) is int, key  # pasted unquoted into config.toml
        assert values["rbac"] == {"create": True} and values["serviceAccount"] == {"create": True}
        assert values["runners"]["jobNamespace"] == runner.kubernetes.namespace
        assert all(type(v) is str for v in values.get("nodeSelector", {}).values())
        # token by reference: a Secret with both keys, created by the README's command
        secret = values["runners"]["secret"]
        readme = files[f"{name}/README.md"]
        assert f"create secret generic {secret}" in readme
        assert "--from-literal=runner-token=" in readme and "--from-literal=runner-registration-token=" in readme
        assert "glrt-" not in files[f"{name}/values.yaml"]
        assert f"helm upgrade --install {name} gitlab/gitlab-runner" in readme
        assert f"-f {name}/values.yaml" in readme
        toml = runner_toml(values)
        assert set(toml) <= RUNNER_KEYS
        # the runner's own key and type table (from its config.go), as for config.toml
        assert key_problems({"runners": [toml]}, global_spec(None)) == [], name
        assert "url" not in toml and "token" not in toml, "the chart supplies them"
        assert toml["executor"] == "kubernetes"
        k = toml["kubernetes"]
        assert set(k) <= KUBERNETES_KEYS
        assert k["namespace"] == runner.kubernetes.namespace, "jobs run where the Role is"
        assert all(type(v) is str for v in k.get("node_selector", {}).values())
        names = []
        for kind, entries in k.get("volumes", {}).items():
            for entry in entries:
                assert set(entry) <= VOLUME_KEYS[kind], (kind, entry)
                names.append(entry["name"])
        assert len(names) == len(set(names)) and all(DNS_LABEL.match(n) for n in names)


def test_preproc_runs_on_the_processing_nodes_with_fuse() -> None:
    values = values_files(generate("preproc"))["preproc"]
    assert "nodeSelector" not in values  # the manager only talks to the API: not pinned
    readme = generate("preproc")["preproc/README.md"]
    assert "kubectl label node proc01.example.org role=processing --overwrite" in readme
    pinned = values_files(generate("preproc", sets=("runners.preproc.kubernetes.pin_manager=true",)))
    assert pinned["preproc"]["nodeSelector"] == {"role": "processing"}
    k = kube(values)
    assert k["node_selector"] == {"role": "processing"}
    assert k["privileged"] is True  # kubernetes.fuse: privileged (the profile's choice)
    assert k["volumes"]["host_path"] == [
        {"name": "host-data", "mount_path": "/data", "host_path": "/mnt/data/mri", "read_only": True}
    ]


def test_fuse_through_a_device_plugin_is_unprivileged() -> None:
    files = generate("preproc", sets=("runners.preproc.kubernetes.fuse=device-plugin",))
    toml = runner_toml(values_files(files)["preproc"])
    k = toml["kubernetes"]
    assert k["privileged"] is False
    assert toml["feature_flags"] == {"FF_USE_ADVANCED_POD_SPEC_CONFIGURATION": True}
    patch = YAML(typ="safe").load(k["pod_spec"][0]["patch"])
    build = patch["containers"][0]
    assert build["name"] == "build"
    assert build["resources"]["limits"] == {"github.com/fuse": 1}
    # security_opt apparmor/seccomp=unconfined still apply to the unprivileged container
    assert build["securityContext"] == {"appArmorProfile": {"type": "Unconfined"},
                                        "seccompProfile": {"type": "Unconfined"}}
    assert "device plugin" in files["preproc/README.md"]


def test_tolerations_reach_manager_and_jobs() -> None:
    sets = ("runners.preproc.kubernetes.tolerations=[gpu=true:NoSchedule, dedicated:NoExecute]",)
    values = values_files(generate("preproc", sets=sets))["preproc"]
    assert values["tolerations"] == [
        {"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    ]
    assert kube(values)["node_tolerations"] == {"gpu=true": "NoSchedule", "dedicated": "NoExecute"}


def test_ca_reaches_the_manager_and_the_jobs() -> None:
    files = generate("bids", "preproc", "self-signed-certs")
    fleet = stackgen.build(["bids", "preproc", "self-signed-certs"])
    assert files["certs/ca-bundle.crt"] == "".join(c.pem for c in fleet.certificates)
    for name, values in values_files(files).items():
        secret = values["certsSecretName"]
        readme = files[f"{name}/README.md"]
        # the runner finds certs/<gitlab host>.crt; the chart mounts the Secret there
        assert f"create secret generic {secret} \\\n  --from-file=gitlab.example.org.crt=certs/ca-bundle.crt" in readme
        toml = runner_toml(values)
        assert toml["tls-ca-file"] == f"{CHART_CERTS_DIR}/gitlab.example.org.crt"
        [job_ca] = toml["kubernetes"]["volumes"]["secret"]
        assert job_ca["mount_path"] == "/etc/ssl/stackgen/ca-certificates.crt"
        assert f"SSL_CERT_FILE={job_ca['mount_path']}" in toml["environment"]
        assert job_ca["sub_path"] == "ca-certificates.crt" and job_ca["read_only"] is True
        assert f"create secret generic {job_ca['name']}" in readme


def test_kaniko_is_unprivileged_with_the_harbor_ca_and_push_credentials() -> None:
    files = generate("kaniko-harbor")
    values = values_files(files)["kaniko-harbor"]
    assert "certsSecretName" not in values  # the manager does not trust the CA here
    k = kube(values)
    assert k["privileged"] is False
    mounts = {v["mount_path"]: v for v in k["volumes"]["secret"]}
    assert mounts["/kaniko/ssl/certs/stackgen-ca.crt"]["sub_path"] == "ca-certificates.crt"
    assert mounts["/kaniko/.docker/config.json"] == {
        "name": "harbor-push-auth", "mount_path": "/kaniko/.docker/config.json",
        "sub_path": ".dockerconfigjson", "read_only": True,
    }
    readme = files["kaniko-harbor/README.md"]
    assert "create secret docker-registry harbor-push-auth" in readme
    assert "--docker-server=harbor.example.org" in readme
    assert "certs/ca-bundle.crt" in files


def test_dind_is_a_privileged_pod_with_a_tls_service() -> None:
    k = kube(values_files(generate("dind-build"))["dind-build"])
    assert k["privileged"] is True
    assert k["services"] == [{"name": "docker:27.3-dind", "alias": "docker"}]
    assert {"name": "scratch-certs-client", "mount_path": "/certs/client"} in k["volumes"]["empty_dir"]


def test_data_can_come_from_claims() -> None:
    sets = ("runners.bids.kubernetes.data_claims={mri: mri-raw, dicoms: ria-dicoms}",)
    files = generate("bids", sets=sets)
    k = kube(values_files(files)["bids"])
    assert "host_path" not in k["volumes"]
    assert k["volumes"]["pvc"] == [
        {"name": "mri-raw", "mount_path": "/data", "read_only": True},
        {"name": "ria-dicoms", "mount_path": "/data/ria-dicoms", "read_only": True},
    ]
    assert "`mri-raw`, `ria-dicoms` must exist in namespace `gitlab-ci`" in files["bids/README.md"]


@pytest.mark.parametrize(
    ("profiles", "sets", "key"),
    [
        (("dind-build-socket",), (), "runners.dind-build.volumes[1]"),  # [0] is /cache
        (("preproc",), ("runners.preproc.devices=[/dev/kvm]",), "runners.preproc.devices[0]"),
        (("preproc",), ("runners.preproc.security_opt=[label=disable]",), "runners.preproc.security_opt[0]"),
        (("bids",), ("runners.bids.kubernetes.data_claims={scans: x}",), "runners.bids.kubernetes.data_claims.scans"),
        (("bids",), ("runners.bids.kubernetes.data_claims={mri: one, dicoms: one}",), "runners.bids.volumes[2]"),
    ],
    ids=["docker-socket", "device", "security-opt", "unknown-claim", "claim-twice"],
)
def test_what_kubernetes_cannot_express_is_an_error(
    profiles: tuple[str, ...], sets: tuple[str, ...], key: str
) -> None:
    with pytest.raises(UserError) as caught:
        generate(*profiles, sets=sets)
    assert [p.key for p in caught.value.problems] == [key]


def _fleet(environment: tuple[tuple[str, str], ...]) -> m.Fleet:
    node = m.Node("k8s", labels=(("pool", "ci"),))
    runner = m.Runner(name="templated", environment=environment)
    manager = m.Manager(name="k8s", node=node, image="gitlab/gitlab-runner:v18.5.0", runners=(runner,))
    return m.Fleet(name="t", gitlab_url="https://gitlab.example.org", managers=(manager,))


@pytest.mark.parametrize(
    "value", ['{{ .Release.Name }}', "}}", "{{{x}}}", "{{- x -}}", 'say {{ "{{" }}', "a}}b{{c", "{{\u2028", "é\tü"]
)
def test_literal_braces_survive_the_charts_tpl(value: str) -> None:
    files = stackgen.render(_fleet((("TEMPLATED", value),)), "helm")
    toml = runner_toml(values_files(files)["templated"])
    assert toml["environment"] == [f"TEMPLATED={value}"]


def test_tpl_escape_is_exact_and_only_touches_left_delimiters() -> None:
    assert tpl_escape("a {{ b }} c") == 'a {{ "{{" }} b }} c'
    assert tpl_escape("}} only") == "}} only"
    assert tpl(tpl_escape('x{{{y}}}{{ "{{" }}')) == 'x{{{y}}}{{ "{{" }}'


HELM = shutil.which("helm")
CHART = os.environ.get("STACKGEN_GITLAB_RUNNER_CHART")  # an unpacked gitlab-runner chart 0.86.x


@pytest.mark.skipif(not (HELM and CHART), reason="needs helm and STACKGEN_GITLAB_RUNNER_CHART (offline)")
@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_the_real_chart_renders_every_values_file(profiles: tuple[str, ...], tmp_path: Path) -> None:
    for rel, text in generate(*profiles).items():
        if not rel.endswith("/values.yaml"):
            continue
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        name = rel.split("/")[0]
        result = subprocess.run([HELM, "template", name, CHART, "-f", str(path)],  # type: ignore[list-item]
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "[[runners]]" in result.stdout
