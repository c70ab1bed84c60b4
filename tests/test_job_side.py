"""What a runner's jobs meet at run time (issue 9), checked against the consumers' rules.

The engine tier (tests/engine/) runs the generated job containers for real; these tests pin
the rules themselves, fast and without an engine.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import stackgen
from stackgen import checks
from stackgen import model as m
from stackgen.errors import UserError
from stackgen.fleet import lint


def _runner(fleet: m.Fleet, name: str) -> m.Runner:
    return next(r for r in fleet.runners if r.name == name)


def _toml_runners(files: dict[str, str]) -> dict[str, dict[str, object]]:
    out = {}
    for path, text in files.items():
        if path.endswith("config.toml"):
            for runner in tomllib.loads(text)["runners"]:
                out[runner["name"]] = runner
    return out


# --- security_opt: exactly what the Engine API accepts ---------------------------------

@pytest.mark.parametrize(
    ("opt", "ok"),
    [
        ("apparmor=unconfined", True),
        ("apparmor=my-profile", True),
        ("seccomp=unconfined", True),
        ("label=disable", True),
        ("label=type:svirt_apache_t", True),
        ("no-new-privileges", True),
        ("no-new-privileges=true", True),
        ("systempaths=unconfined", False),  # a docker CLI option: the daemon refuses it
        ("writable-cgroups=true", False),
        ("seccomp=/etc/docker/seccomp.json", False),  # the daemon reads profiles as JSON only
        ("label=bogus", False),
        ("no-new-privileges=maybe", False),
        ("apparmor=", False),
    ],
)
def test_security_opt_grammar_is_the_engines(opt: str, ok: bool) -> None:
    assert (checks.security_opt_bad(opt) is None) is ok


def test_systempaths_is_refused_with_what_works_instead() -> None:
    with pytest.raises(UserError) as caught:
        stackgen.build(["preproc"], sets=["runners.preproc.security_opt=[systempaths=unconfined]"])
    [problem] = caught.value.problems
    assert problem.key == "runners.preproc.security_opt[0]"
    assert "Docker Engine API" in problem.message and "privileged" in (problem.hint or "")


# --- ordered lists replace; the default is safe ------------------------------------------

@pytest.mark.parametrize(("site", "expected"), [("[always]", ["always"]), ("[never]", ["never"]),
                                                 ("if-not-present", ["if-not-present"])])
def test_pull_policy_from_the_site_replaces_the_profiles(site: str, expected: list[str]) -> None:
    fleet = stackgen.build(["bids"], sets=[f"runners.bids.pull_policy={site}"])
    assert list(_runner(fleet, "bids").pull_policy) == expected


def test_pull_policy_defaults_to_always_for_every_runner() -> None:
    for path, runner in _toml_runners(stackgen.generate(["bids", "preproc"], "config-toml")).items():
        assert runner["docker"]["pull_policy"] == ["always"], path  # type: ignore[index]


def test_two_profiles_with_different_pull_policies_conflict(tmp_path: Path) -> None:
    for name, policy in (("a", "[never]"), ("b", "[if-not-present, always]")):
        (tmp_path / f"{name}.yaml").write_text(f"defaults:\n  pull_policy: {policy}\n")
    with pytest.raises(UserError) as caught:
        stackgen.build(["default", "a", "b"], profile_dirs=[tmp_path])
    assert "conflicting values" in caught.value.problems[0].message


def test_explain_shows_the_ordered_list_rule() -> None:
    [row] = stackgen.explain(["bids"], "runners.bids.pull_policy", sets=["runners.bids.pull_policy=[never]"])
    assert row.value == ["never"] and "replaces it whole" in str(row)


# --- job images, cache, CA ---------------------------------------------------------------

def test_built_in_default_images_run_a_job_script() -> None:
    fleet = stackgen.build(["bids", "preproc", "dind-build", "kaniko-harbor"])
    assert not [h for h in lint.check(fleet) if h.rule == "entrypoint"]


@pytest.mark.parametrize("image", ["nipy/heudiconv:1.3.2", "docker.io/kaczmarj/apptainer:1.3.6",
                                   "gcr.io/kaniko-project/executor:v1.23.2-debug@sha256:" + "a" * 64])
def test_an_application_entrypoint_image_is_linted(image: str) -> None:
    runner = m.Runner("r", image=image)
    fleet = m.Fleet("t", "https://gitlab.example.org",
                    (m.Manager("n", m.Node("n", "h"), "gitlab/gitlab-runner:v18.5.0", (runner,)),))
    assert [h.rule for h in lint.check(fleet)] == ["entrypoint"]


def test_if_not_present_first_is_linted() -> None:
    runner = m.Runner("r", pull_policy=("if-not-present", "always"))
    fleet = m.Fleet("t", "https://gitlab.example.org",
                    (m.Manager("n", m.Node("n", "h"), "gitlab/gitlab-runner:v18.5.0", (runner,)),))
    assert [h.rule for h in lint.check(fleet)] == ["pull-policy"]


def test_every_docker_runner_keeps_its_cache_and_can_drop_it() -> None:
    runners = _toml_runners(stackgen.generate(["bids", "preproc"], "config-toml"))
    assert all(r["docker"]["volumes"][0] == "/cache" for r in runners.values())  # type: ignore[index]
    fleet = stackgen.build(["default"], sets=["runners.default.volumes=[!remove /cache]"])
    assert all(v.target != "/cache" for v in _runner(fleet, "default").volumes)


def test_a_registry_port_never_lands_in_a_mount_destination() -> None:
    sets = ["registry=harbor.example.org:5050"]
    fleet = stackgen.build(["dind-build", "self-signed-certs"], sets=sets)
    assert fleet.ca_registries == ("harbor.example.org:5050",)
    for target in ("config-toml", "swarm", "compose"):
        runners = _toml_runners(stackgen.generate(["dind-build", "self-signed-certs"], target, sets=sets))
        for volume in runners["dind-build"]["docker"]["volumes"]:  # type: ignore[index]
            assert len(volume.split(":")) <= 3 and "5050" not in volume, (target, volume)
        assert "/etc/docker/certs.d:/etc/docker/certs.d:ro" in runners["dind-build"]["docker"]["volumes"]  # type: ignore[index]


# --- the runner image --------------------------------------------------------------------

@pytest.mark.parametrize("image", ["gitlab/gitlab-runner:alpine", "gitlab/gitlab-runner:ubuntu",
                                   "gitlab/gitlab-runner:bleeding", "gitlab/gitlab-runner:alpine3.21",
                                   "gitlab/gitlab-runner:latest", "gitlab/gitlab-runner"])
def test_floating_runner_tags_are_not_pinned(image: str) -> None:
    assert checks.runner_image_pin_bad(image) is not None
    with pytest.raises(UserError) as caught:
        stackgen.generate(["self-signed-certs", "default"], "dockerfile", sets=[f"images.runner={image}"])
    assert "not pinned" in caught.value.problems[0].message


@pytest.mark.parametrize("image", ["gitlab/gitlab-runner:v18.5.0", "gitlab/gitlab-runner:alpine-v18.5.0",
                                   "gitlab/gitlab-runner:alpine3.21-v18.5.0",
                                   "gitlab/gitlab-runner:ubuntu-v18.5.0",
                                   "gitlab/gitlab-runner:bleeding@sha256:" + "b" * 64])
def test_release_tags_and_digests_are_pinned(image: str) -> None:
    assert checks.runner_image_pin_bad(image) is None


def test_ubi_runner_images_are_refused_by_the_dockerfile_target() -> None:
    with pytest.raises(UserError) as caught:
        stackgen.generate(["self-signed-certs", "default"], "dockerfile",
                          sets=["images.runner=gitlab/gitlab-runner:ubi-fips-v18.5.0"])
    assert "UBI" in caught.value.problems[0].message


def test_bake_ca_needs_the_image_and_the_trust() -> None:
    with pytest.raises(UserError) as caught:
        stackgen.build(["default"], sets=["manager.bake_ca=true"])
    assert any("trust_ca" in p.message for p in caught.value.problems)


# --- one grammar, one function -----------------------------------------------------------

def test_schema_formats_are_the_checkers() -> None:
    from stackgen.layers.schema import schema_json

    text = schema_json("site") + schema_json("profile")
    for name in checks.FORMATS:
        assert f'"format": "{name}"' in text, name
    assert '"pattern"' not in text  # every grammar is a format backed by checks.py


def test_schema_and_model_checks_agree_on_go_durations() -> None:
    fleet = stackgen.build(["default"], sets=["manager.stop_grace_period=.5s"])
    assert fleet.managers[0].stop_grace_period == ".5s"
    with pytest.raises(UserError) as caught:
        stackgen.build(["default"], sets=["manager.stop_grace_period=5x"])
    assert "not a Go duration" in caught.value.problems[0].message


def test_kubernetes_mount_paths_never_hold_a_colon() -> None:
    files = stackgen.generate(["dind-build", "self-signed-certs"], "helm",
                              sets=["registry=harbor.example.org:5050"])
    toml = tomllib.loads(_values_config(files["dind-build/values.yaml"]))
    secrets = toml["runners"][0]["kubernetes"]["volumes"]["secret"]
    assert all(":" not in s["mount_path"] for s in secrets)  # the API server refuses it
    [registry] = [s for s in secrets if "registry" in s["name"]]
    assert registry["mount_path"] == "/etc/docker/certs.d"
    assert registry["items"] == {"ca.crt": "harbor.example.org:5050/ca.crt"}


def _values_config(text: str) -> str:
    from ruamel.yaml import YAML

    return str(YAML(typ="safe").load(text)["runners"]["config"])


def test_deployment_steps_include_the_registry_logins() -> None:
    profiles = ["bids", "kaniko-harbor", "self-signed-certs"]
    stack = stackgen.generate(profiles, "swarm")["stack.yml"]
    assert "docker stack deploy --with-registry-auth -c stack.yml" in stack
    image_notes = stackgen.generate(profiles, "dockerfile")["NOTES.md"]
    assert image_notes.index("docker login harbor.example.org") < image_notes.index("docker push")
    for target in ("swarm", "compose", "config-toml"):  # kaniko's push credentials on docker hosts
        assert "/kaniko/.docker/config.json" in stackgen.generate(profiles, target)["NOTES.md"]
    helm = stackgen.generate(["bids", "self-signed-certs"], "helm")["bids/README.md"]
    assert "/etc/containerd/certs.d/harbor.example.org/ca.crt" in helm  # node runtime trust
    assert "image_pull_secrets" in helm
