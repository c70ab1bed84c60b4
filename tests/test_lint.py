"""The security lint: each rule fires, profiles waive with a reason, output never changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import stackgen
from stackgen import model as m
from stackgen.cli import main
from stackgen.errors import UserError
from stackgen.fleet import lint
from stackgen.layers.profiles import discover, read_profile
from stackgen.layers.waivers import RULES
from tests.conftest import COMPOSED, ROLE_PROFILES, TARGETS


def _fleet(*runners: m.Runner) -> m.Fleet:
    node = m.Node("data", "data01.example.org")
    manager = m.Manager("data", node, "gitlab/gitlab-runner:v18.5.0", tuple(runners))
    return m.Fleet("lab", "https://gitlab.example.org", (manager,))


@pytest.mark.parametrize(
    ("runner", "rule", "key"),
    [
        (m.Runner("r", privileged=True), "privileged", "runners.r.privileged"),
        (m.Runner("r", devices=("/dev/fuse",)), "privileged", "runners.r.kubernetes.fuse"),
        (m.Runner("r", devices=("/dev/kvm:/dev/kvm:rwm",)), "devices", "runners.r.devices[0]"),
        (m.Runner("r", security_opt=("seccomp=unconfined",)), "unconfined",
         "runners.r.security_opt[0]"),
        (m.Runner("r", security_opt=("label:disable",)), "unconfined", "runners.r.security_opt[0]"),
        (m.Runner("r", cap_add=("SYS_ADMIN",)), "capabilities", "runners.r.cap_add[0]"),
        (m.Runner("r", volumes=(m.Volume("/var/run/docker.sock", "/var/run/docker.sock"),)),
         "docker-socket", "runners.r.volumes[0]"),
        (m.Runner("r", volumes=(m.Volume("/host", "/run"),)), "docker-socket",
         "runners.r.volumes[0]"),
        (m.Runner("r", volumes=(m.Volume("/data", "/mnt/data", read_only=True),)), "host-paths",
         "runners.r.volumes[0]"),
    ],
)
def test_each_rule_fires(runner: m.Runner, rule: str, key: str) -> None:
    hits = lint.check(_fleet(runner))
    assert (rule, key) in [(h.rule, h.key) for h in hits]
    assert all(h.rule in RULES for h in hits)


def test_harmless_settings_are_quiet() -> None:
    runner = m.Runner(
        "r",
        cap_add=("NET_BIND_SERVICE",),
        security_opt=("no-new-privileges",),
        volumes=(m.Volume("/cache", "cache"), m.Volume("/certs/client")),
        devices=("/dev/fuse",),
        kubernetes=m.KubernetesOptions(fuse="device-plugin"),
    )
    assert [h.rule for h in lint.check(_fleet(runner))] == ["devices"]


@pytest.mark.parametrize("profiles", [(p,) for p in ROLE_PROFILES] + COMPOSED, ids="+".join)
def test_builtin_profiles_justify_what_they_need(profiles: tuple[str, ...]) -> None:
    composition = stackgen.assemble(list(profiles))
    assert not [f for f in composition.findings if "lint rule" in f.message]


def test_builtin_waivers_name_rules_with_reasons() -> None:
    waived = set()
    for info in discover().values():
        for rule, why in read_profile(info).waivers:
            assert rule in RULES, (info.name, rule)
            assert len(why) >= 10
            waived.add(rule)
    assert {"privileged", "docker-socket", "unconfined", "devices", "host-paths"} <= waived


def _user_profile(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def _without_waivers(name: str, folder: Path) -> None:
    source = discover()[name].path.read_text(encoding="utf-8")
    _user_profile(folder, name, source.split("\nwaivers:")[0] + "\n")


def test_unwaived_settings_become_warnings_with_their_origin(tmp_path: Path) -> None:
    _without_waivers("preproc", tmp_path / "p")
    findings = stackgen.assemble(["preproc"], profile_dirs=[tmp_path / "p"]).findings
    findings = tuple(f for f in findings if "lint rule" in f.message)
    rules = sorted(f.message.split("[lint rule ")[1].split(":")[0] for f in findings)
    assert rules == ["devices", "host-paths", "privileged", "unconfined", "unconfined"]
    devices = next(f for f in findings if f.key == "runners.preproc.devices[0]")
    assert str(devices.origin).startswith("p/preproc.yaml:")
    assert "waivers: {devices: <why>}" in devices.message


def test_warnings_never_change_the_output(tmp_path: Path) -> None:
    _without_waivers("preproc", tmp_path / "p")
    plain = stackgen.assemble(["preproc", "self-signed-certs"], profile_dirs=[tmp_path / "p"])
    waived = stackgen.assemble(["preproc", "self-signed-certs"])
    assert plain.findings and not waived.findings
    for target in TARGETS:
        try:
            expected = stackgen.render(waived.fleet, target)
        except UserError:
            continue
        assert stackgen.render(plain.fleet, target) == expected


def test_a_waiver_covers_only_the_runners_its_profile_defines(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _user_profile(folder, "one", "runners:\n  one: {privileged: true}\n"
                  "waivers:\n  privileged: one builds containers with a dind service\n")
    _user_profile(folder, "two", "runners:\n  two: {privileged: true}\n")
    findings = stackgen.assemble(["one", "two"], profile_dirs=[folder]).findings
    assert [f.key for f in findings if "lint rule" in f.message] == ["runners.two.privileged"]


def test_a_capability_waiver_covers_every_runner(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _user_profile(folder, "gpu", "defaults:\n  devices: [/dev/nvidia0]\n"
                  "waivers:\n  devices: every runner here drives the node's GPU\n")
    composition = stackgen.assemble(["default", "gpu"], profile_dirs=[folder])
    assert not [f for f in composition.findings if "lint rule" in f.message]


def test_unknown_waiver_is_an_error_with_a_hint(tmp_path: Path) -> None:
    _user_profile(tmp_path / "p", "mine", "runners:\n  mine: {}\nwaivers:\n  privilegd: why it must run privileged\n")
    with pytest.raises(UserError) as caught:
        stackgen.assemble(["mine"], profile_dirs=[tmp_path / "p"])
    (problem,) = caught.value.problems
    assert problem.hint == "did you mean 'privileged'?"
    assert str(problem.origin).endswith("mine.yaml:4:14")


def test_cli_prints_warnings_and_still_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_waivers("dind-build-socket", tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["build", "dind-build-socket", "-t", "config-toml", "--stdout", "--profiles-dir", "p"]
    )
    assert result.exit_code == 0, result.stderr
    (line,) = [w for w in result.stderr.splitlines()
               if w.startswith("stackgen: warning:") and "lint rule" in w]
    assert "p/dind-build-socket.yaml:13:" in line and "[lint rule docker-socket" in line
