"""The checkers of stackgen.checks, table-driven: what each consumer accepts and refuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import stackgen
from stackgen import checks
from stackgen import model as m
from stackgen.errors import UserError
from stackgen.fleet.validate import _strings, fleet_problems, model_texts

CASES: list[tuple[Callable[[str], checks.Bad], str, bool]] = [
    (checks.image_bad, "alpine:3.20", True),
    (checks.image_bad, "harbor.example.org:5050/ops/runner:v1@sha256:" + "a" * 64, True),
    (checks.image_bad, "[::1]:5000/a/b:c", True),
    (checks.image_bad, "alpine 3.20", False),
    (checks.image_bad, "alpine:3.20\nRUN id", False),
    (checks.image_bad, '"alpine"', False),
    (checks.image_bad, "Alpine:3", False),
    (checks.image_bad, "https://docker.io/alpine", False),
    (checks.hostname_bad, "data01.example.org", True),
    (checks.hostname_bad, "10.0.0.5", True),
    (checks.hostname_bad, "-x.example.org", False),
    (checks.hostname_bad, "a..b", False),
    (checks.hostname_bad, "x" * 64, False),
    (checks.constraint_bad, "node.hostname == a.example.org", True),
    (checks.constraint_bad, "node.labels.role!=data", True),
    (checks.constraint_bad, "engine.labels.os == ubuntu", True),
    (checks.constraint_bad, "node.platform.arch == x86_64", True),
    (checks.constraint_bad, "node.ip == 10.0.0.0/8", True),
    (checks.constraint_bad, "node.role == manager", True),
    (checks.constraint_bad, "node.role == boss", False),
    (checks.constraint_bad, "node.labels == x", False),
    (checks.constraint_bad, "node.name == x", False),
    (checks.constraint_bad, "node.hostname = x", False),
    (checks.constraint_bad, "node.hostname ==", False),
    (checks.constraint_bad, "node.labels.a/b == c", False),
    (checks.label_key_bad, "kubernetes.io/hostname", True),
    (checks.label_key_bad, "role", True),
    (checks.label_key_bad, "Example.com/role", False),
    (checks.label_key_bad, "a" * 64, False),
    (checks.label_key_bad, "gpu type", False),
    (checks.label_value_bad, "", True),
    (checks.label_value_bad, "x86_64", True),
    (checks.label_value_bad, "-x", False),
    (checks.label_value_bad, "a" * 64, False),
    (checks.duration_bad, "1h30m", True),
    (checks.duration_bad, "1.5h", True),
    (checks.duration_bad, "250ms", True),
    (checks.duration_bad, "90", False),
    (checks.duration_bad, "1 hour", False),
    (checks.duration_bad, "", False),
    (checks.duration_bad, "9999999999h", False),
    (checks.device_bad, "/dev/fuse", True),
    (checks.device_bad, "/dev/kvm:/dev/kvm:rwm", True),
    (checks.device_bad, "/dev/kvm:/dev/kvm:rr", False),
    (checks.device_bad, "/tmp/x", False),
    (checks.security_opt_bad, "apparmor=unconfined", True),
    (checks.security_opt_bad, "no-new-privileges", True),
    (checks.security_opt_bad, "apparmer=unconfined", False),
    (checks.security_opt_bad, "seccomp", False),
    (checks.capability_bad, "sys_admin", True),
    (checks.capability_bad, "CAP_NET_ADMIN", True),
    (checks.capability_bad, "SYS_ADMN", False),
    (checks.registry_bad, "harbor.example.org:5050", True),
    (checks.registry_bad, "https://harbor.example.org", False),
    (checks.gitlab_url_bad, "https://gitlab.example.org:8443/git", True),
    (checks.gitlab_url_bad, "https://gitlab.example.org/$X", False),
    (checks.gitlab_url_bad, "https://user:pw@gitlab.example.org", False),
    (checks.gitlab_url_bad, "ftp://gitlab.example.org", False),
    (checks.cert_host_bad, "*.example.org", True),
    (checks.cert_host_bad, "harbor.example.org:5050", True),
    (checks.cert_host_bad, "harbor example", False),
    (checks.tag_bad, "{{x}}", True),
    (checks.tag_bad, "a,b", False),
    (checks.alias_bad, "docker db", True),
    (checks.alias_bad, "a\nb", False),
    (checks.text_bad, "é {{ ${X} #", True),
    (checks.text_bad, "a\nb", False),
    (checks.text_bad, "a\u2028b", False),
    (checks.text_bad, "a\x00b", False),
]


@pytest.mark.parametrize(("check", "value", "ok"), CASES, ids=lambda v: getattr(v, "__name__", None) or repr(v)[:40])
def test_checker(check: Callable[[str], checks.Bad], value: str, ok: bool) -> None:
    bad = check(value)
    assert (bad is None) == ok, bad
    if bad:
        message, _hint = bad
        assert message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "ok"), [("a\nb\tc", True), ("a\u2028b", True), ("a\rb", False), ("a\x1bb", False)]
)
def test_multiline_text(text: str, ok: bool) -> None:
    assert (checks.text_bad(text, multiline=True) is None) == ok


@pytest.mark.parametrize(
    ("address", "ok"),
    [("[::]:8093", True), (":8093", True), ("0.0.0.0:8093", True), ("[::]", False),
     ("x:0", False), ("x:99999", False), ("x:²", False), ("https://x:8093", False)],
)
def test_listen_address(address: str, ok: bool) -> None:
    assert (checks.address_bad(address, host_required=False) is None) == ok


def test_builtin_profiles_pass_validation() -> None:
    fleet = stackgen.build(["default", "bids", "preproc", "self-signed-certs"])
    assert fleet_problems(fleet) == []


def test_the_quick_text_scan_sees_every_text_the_keyed_one_checks() -> None:
    # fleet_problems names keys only when the one search over _strings finds a suspect
    fleet = stackgen.build(["default", "bids", "preproc", "self-signed-certs"])
    assert _strings(fleet, []) == [text for _, text in model_texts(fleet)]
    skipped = model_texts(fleet, skip=frozenset(id(r) for r in fleet.runners))
    assert skipped and not [k for k, _ in skipped if k.startswith("runners.")]


def test_render_refuses_a_hand_built_model_its_consumers_would_misread() -> None:
    node = m.Node("data", "data01.example.org")
    runner = m.Runner("r", image="alpine:3.20\nRUN id", environment=(("X", "a\x00"),))
    fleet = m.Fleet("lab", "https://gitlab.example.org",
                    (m.Manager("data", node, "gitlab/gitlab-runner:v18.5.0", (runner,)),))
    with pytest.raises(UserError) as caught:
        stackgen.render(fleet, "config-toml")
    keys = sorted(p.key for p in caught.value.problems)
    assert keys == ["runners.r.environment.X", "runners.r.image"]


def test_model_names_become_safe_paths() -> None:
    node = m.Node("../etc", "data01.example.org")
    fleet = m.Fleet("lab", "https://gitlab.example.org",
                    (m.Manager("../etc", node, "gitlab/gitlab-runner:v18.5.0", (m.Runner("r"),)),))
    with pytest.raises(UserError, match="not valid"):
        stackgen.render(fleet, "swarm")


def test_dollar_in_a_constraint_is_escaped_for_the_stack_file() -> None:
    fleet = stackgen.build(["default"], sets=["nodes.data.constraints=[engine.labels.x == a$b]"])
    stack = stackgen.render(fleet, "swarm")["stack.yml"]
    assert "engine.labels.x == a$$b" in stack


def _code_lines(markdown: str) -> list[str]:
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            lines.append(line)
    return lines


def test_shell_snippets_quote_site_paths() -> None:
    import shlex

    from tests.conftest import TARGETS

    path = "/etc/my certs/$(id);x.crt"
    fleet = stackgen.build(["kaniko-harbor", "preproc", "self-signed-certs"],
                           sets=[f"ca.host_path={path}"])
    seen = 0
    for target in TARGETS:
        for name, text in stackgen.render(fleet, target).items():
            if not name.endswith(".md"):
                continue
            for line in _code_lines(text):
                if path in line.replace(shlex.quote(path), ""):
                    raise AssertionError(f"{target} {name}: unquoted site path in {line!r}")
                seen += shlex.quote(path) in line
    assert seen  # the notes do tell operators where to put the bundle
