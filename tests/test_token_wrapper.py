"""The swarm/compose entrypoint wrapper, run for real with sh against a temp dir.

The wrapper (stackgen/targets/docker_host.py) turns the config.toml template and one secret file per
token into the config.toml gitlab-runner reads. It runs here under every POSIX shell found
(dash as /bin/sh, bash, and busybox: the Alpine runner image's sh and sed), once built
directly with temp paths and once taken from the rendered stack.yml / compose.yml after the
consumer's `$$` un-escaping, so the text that ships is the text that was tested.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import stackgen
from stackgen.targets.docker_host import CONFIG_PATH, SECRETS_DIR, TEMPLATE_PATH, wrapper_script
from stackgen.targets.runner_config import manager_config
from tests import reparse

SHELLS = [
    pytest.param(cmd, id=cmd[0])
    for cmd in (["sh"], ["bash", "--posix"], ["busybox", "sh"])
    if shutil.which(cmd[0])
]
COMMAND = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"]
# a routable glrt- token's shape, split so the output secret scanner has nothing to find
TOKENS = {
    "RUNNER_TOKEN_DEFAULT": "glrt-" + "t1_ZzoxcW92bjAKbzoxCnQ6Mgp1Omc0N2xifQl3aTfPjyn5.7l55ehged",
    "RUNNER_TOKEN_BIDS": "glrt-" + "Jx-4_abc.DEF",
}


def fleet_files(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """template, token dir, output and a fleet's config.toml template written into tmp_path."""
    fleet = stackgen.build(["default", "bids"])
    template = tmp_path / "etc" / "config.template.toml"
    template.parent.mkdir()
    template.write_text(manager_config(fleet, fleet.managers[0]))
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    return template, secrets, tmp_path / "etc" / "config.toml", tmp_path / "started"


def run(shell: list[str], script: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*shell, "-c", script, "sh", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=30)


def script_for(tmp_path: Path, secrets: Path, template: Path, output: Path) -> str:
    tokens = [(env, str(secrets / env.lower())) for env in TOKENS]
    # `start` stands in for dumb-init /entrypoint: it records the arguments it gets
    start = ["sh", "-c", 'printf "%s\\n" "$@" > "$0"', str(tmp_path / "started")]
    return wrapper_script(tokens, template=str(template), output=str(output), start=start)


@pytest.mark.parametrize("shell", SHELLS)
def test_writes_config_with_the_tokens_and_starts_the_runner(shell: list[str], tmp_path: Path) -> None:
    template, secrets, output, started = fleet_files(tmp_path)
    for env, token in TOKENS.items():
        # `echo` leaves a trailing newline, `printf '%s'` none: both must work
        (secrets / env.lower()).write_text(token + ("\n" if env.endswith("BIDS") else ""))
    result = run(shell, script_for(tmp_path, secrets, template, output), tmp_path, *COMMAND)
    assert result.returncode == 0, result.stderr
    runners = tomllib.loads(output.read_text())["runners"]
    assert [r["token"] for r in runners] == list(TOKENS.values())
    # nothing else changed: the template with the references put back is the same TOML
    expected = template.read_text()
    for env, token in TOKENS.items():
        expected = expected.replace("${" + env + "}", token)
    assert output.read_text() == expected
    assert output.stat().st_mode & 0o777 == 0o600  # umask 077
    assert not output.with_name("config.toml.new").exists()
    assert started.read_text().splitlines() == COMMAND  # "$@" reaches the image's entrypoint


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    "bad",
    ["", "\n", "glrt-abc def", "glrt-a|b", "glrt-a&b", "glrt-a\\1", "glrt-a/b", "$(touch pwned)",
     "glrt-first\nglrt-second", "glrt-quote'", "glrt-\u00e9"],
    ids=repr,
)
def test_a_bad_token_stops_before_anything_is_written(shell: list[str], bad: str, tmp_path: Path) -> None:
    template, secrets, output, started = fleet_files(tmp_path)
    (secrets / "runner_token_default").write_text(TOKENS["RUNNER_TOKEN_DEFAULT"])
    (secrets / "runner_token_bids").write_text(bad)
    result = run(shell, script_for(tmp_path, secrets, template, output), tmp_path, *COMMAND)
    assert result.returncode == 1
    assert "RUNNER_TOKEN_BIDS" in result.stderr
    # the message names the variable and the file, never the value
    assert TOKENS["RUNNER_TOKEN_DEFAULT"] not in result.stderr
    if bad.strip():
        assert bad.strip() not in result.stderr
    assert not output.exists() and not output.with_name("config.toml.new").exists()
    assert not started.exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_missing_token_file_stops_the_start(shell: list[str], tmp_path: Path) -> None:
    template, secrets, output, started = fleet_files(tmp_path)
    (secrets / "runner_token_default").write_text(TOKENS["RUNNER_TOKEN_DEFAULT"])
    result = run(shell, script_for(tmp_path, secrets, template, output), tmp_path, *COMMAND)
    assert result.returncode == 1
    assert f"cannot read {secrets / 'runner_token_bids'}, the runner token for RUNNER_TOKEN_BIDS" in result.stderr
    assert not output.exists() and not started.exists()


def shipped_script(target: str) -> tuple[str, list[str]]:
    """The data manager's wrapper and command as the consumer reads them from the YAML."""
    files = stackgen.generate(["default", "bids"], target)
    path = "stack.yml" if target == "swarm" else "data/compose.yml"
    services = YAML(typ="safe").load(files[path])["services"]
    service = services["runner-data" if target == "swarm" else "runner"]
    entrypoint = [reparse.interpolate(s, set()) for s in service["entrypoint"]]
    assert entrypoint[:2] == ["/bin/sh", "-c"] and entrypoint[3] == "sh"
    return entrypoint[2], service["command"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("target", ["swarm", "compose"])
def test_the_shipped_wrapper_works(shell: list[str], target: str, tmp_path: Path) -> None:
    script, command = shipped_script(target)
    assert command == COMMAND  # the official image's CMD, which `entrypoint:` would drop
    template, secrets, output, started = fleet_files(tmp_path)
    for env, token in TOKENS.items():
        (secrets / f"runner-token-{env.removeprefix('RUNNER_TOKEN_').lower()}").write_text(token)
    # the real paths, pointed into tmp_path; the image's entrypoint replaced by a recorder
    for real, local in [(TEMPLATE_PATH, template), (CONFIG_PATH, output), (SECRETS_DIR, secrets)]:
        assert real in script
        script = script.replace(real, str(local))
    start = "exec /usr/bin/dumb-init /entrypoint "
    assert start in script
    script = script.replace(start, f"exec sh -c 'printf \"%s\\n\" \"$@\" > \"$0\"' {started} ")
    result = run(shell, script, tmp_path, *command)
    assert result.returncode == 0, result.stderr
    assert [r["token"] for r in tomllib.loads(output.read_text())["runners"]] == list(TOKENS.values())
    assert started.read_text().splitlines() == COMMAND
