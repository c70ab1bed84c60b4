"""Property tests: hostile values never break an output format, and come back out exactly.

Fleets are drawn from tests/strategies.py (model objects built directly) or written into a
site file and composed with profiles. Every target in TARGETS renders each fleet; each file
is read back like its consumer reads it (tests/reparse.py) and must carry the values back.
The only exceptions allowed are stackgen's own (StackgenError): a value a consumer cannot
take is refused, never emitted.

Budget: a few dozen examples per test by default (seconds); `make test-thorough` sets
HYPOTHESIS_PROFILE=thorough and runs well over 10,000 examples in total.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import stackgen
from stackgen import model as m
from stackgen.errors import StackgenError, UserError
from stackgen.fleet.validate import fleet_problems
from stackgen.targets import TARGETS
from tests import reparse
from tests.strategies import env_values, fleets, hostnames, images, paths, tags, text

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def budget(fast: int, thorough: int) -> settings:
    return settings(
        max_examples=thorough if THOROUGH else fast,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )


def render_all(fleet: m.Fleet) -> dict[str, dict[str, str]]:
    """{target: files} for every target that accepts the fleet; others must say why."""
    out = {}
    for target in TARGETS:
        try:
            out[target] = stackgen.render(fleet, target)
        except StackgenError as exc:
            assert str(exc), f"{target} raised {type(exc).__name__} without a message"
            event(f"{target}: refused")
    return out


def check_files(fleet: m.Fleet, target: str, files: dict[str, str]) -> list[reparse.Parsed]:
    tokens = {r.token.env for r in fleet.runners}
    parsed = []
    for path, content in files.items():
        assert not path.startswith("/") and ".." not in path.split("/"), path
        try:
            parsed.append(reparse.parse(path, content, tokens))
        except Exception as exc:
            raise AssertionError(f"{target}: {path} does not read back: {exc}\n{content}") from exc
    by_name = {r.name: r for r in fleet.runners}
    for doc in (d for p in parsed for d in p.runner_docs):
        for entry in doc.get("runners", []):
            runner = by_name[entry["name"]]
            _check_runner(fleet, runner, entry, target)
    for p in parsed:
        if p.kind == "dockerfile":
            base = fleet.image("runner")
            assert any(line == f"FROM {base}" for line in p.data), (target, p.data)
        if p.kind == "yaml" and isinstance(p.data, dict) and "services" in p.data:
            known = {mgr.image for mgr in fleet.managers} | {ref for _, ref in fleet.images}
            for service in p.data["services"].values():
                if "image" in service:
                    assert service["image"] in known, (target, service["image"])
    return parsed


def _check_runner(fleet: m.Fleet, runner: m.Runner, entry: dict[str, Any], target: str) -> None:
    env = entry.get("environment", [])
    for key, value in runner.environment:
        assert f"{key}={value}" in env, (target, runner.name, key, value, env)
    if "url" in entry:
        assert entry["url"] == fleet.gitlab_url
    executor = entry.get("docker") or entry.get("kubernetes") or {}
    assert executor.get("image") == runner.image, (target, executor.get("image"), runner.image)
    if "docker" in entry:
        for volume in runner.volumes:
            assert volume.spec() in executor.get("volumes", []), (target, volume.spec())
        assert [s["name"] for s in executor.get("services", [])] == [s.name for s in runner.services]
        for svc, table in zip(runner.services, executor.get("services", []), strict=True):
            assert list(svc.command) == table.get("command", [])


def _check_text_values(fleet: m.Fleet, target: str, files: dict[str, str]) -> None:
    """Tags land only in free text (helm READMEs): where a target writes them, exactly."""
    raw = "".join(files.values())
    for runner in fleet.runners:
        written = [t for t in runner.tags if t in raw]
        if written and target == "helm":
            assert written == list(runner.tags), (target, runner.tags)


@budget(fast=60, thorough=5500)
@given(fleets())
def test_every_target_reads_back(fleet: m.Fleet) -> None:
    problems = fleet_problems(fleet)
    if problems:
        event("rejected by validation")
        for target in TARGETS:
            with pytest.raises(UserError):
                stackgen.render(fleet, target)
        return
    for target, files in render_all(fleet).items():
        event(f"{target}: rendered")
        check_files(fleet, target, files)
        _check_text_values(fleet, target, files)


@budget(fast=40, thorough=1500)
@given(fleets())
def test_rendering_is_deterministic(fleet: m.Fleet) -> None:
    if fleet_problems(fleet):
        return
    assert render_all(fleet) == render_all(fleet)


# --- through the site file and --set: what a user can actually type -----------------------

SITE = """\
name: prop
gitlab: {url: https://gitlab.example.org}
nodes:
  data: {hostname: data01.example.org, labels: {role: data}}
default_node: data
data: {mri: /mnt/data/mri}
"""


def _quote(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # JSON strings are YAML double-quoted strings


@budget(fast=25, thorough=1500)
@given(
    description=text(6, multiline=True),
    env=st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), env_values,
                        max_size=3),
    tag_list=st.lists(tags, max_size=3),
    image=images,
    volume=paths(),
    hostname=hostnames,
    sets=st.lists(st.tuples(st.sampled_from(
        ["runners.default.description", "runners.default.image", "nodes.data.hostname",
         "manager.stop_grace_period", "gitlab.url", "runners.default.environment.X"]),
        text(5, evil=True)), max_size=2),
)
def test_site_values_read_back(
    tmp_path_factory: pytest.TempPathFactory, description: str, env: dict[str, str],
    tag_list: list[str], image: str, volume: str, hostname: str, sets: list[tuple[str, str]],
) -> None:
    folder = tmp_path_factory.mktemp("site")
    runner = {
        "description": description, "environment": env, "tags": tag_list, "image": image,
        "volumes": [volume],
    }
    lines = [SITE.replace("data01.example.org", _quote(hostname)), "runners:", "  default:"]
    lines += [f"    {key}: {_to_yaml(value)}" for key, value in runner.items()]
    site = folder / "stackgen.yaml"
    site.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        fleet = stackgen.build(["default"], site, [f"{k}={v}" for k, v in sets])
    except StackgenError:
        event("site refused")
        return
    for target, files in render_all(fleet).items():
        check_files(fleet, target, files)


def _to_yaml(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # JSON is YAML: flow style, escaped strings


# --- the escaping helpers themselves --------------------------------------------------------

@budget(fast=100, thorough=1000)
@given(st.text())
def test_dollar_escape_round_trips(text: str) -> None:
    from stackgen.targets.docker_host import escape_dollars

    assert reparse.interpolate(escape_dollars(text), set()) == text


@budget(fast=100, thorough=1000)
@given(st.text(alphabet=st.sampled_from(list('{}" \\ab\n'))))
def test_tpl_escape_round_trips(text: str) -> None:
    from stackgen.targets.helm import tpl_escape

    assert reparse.helm_tpl(tpl_escape(text)) == text


def test_reparse_catches_unescaped_values() -> None:
    with pytest.raises(reparse.ConsumerError):
        reparse.interpolate("a$b", set())
    with pytest.raises(reparse.ConsumerError):
        reparse.helm_tpl('x = "{{ .Release.Name }}"')
    with pytest.raises(reparse.ConsumerError):
        reparse.dockerfile_instructions("FROM alpine\nLABEL a=b\nrm -rf /\n")
    assert reparse.interpolate("${T:?set it} $$x", {"T"}) == "<T> $x"
