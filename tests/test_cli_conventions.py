"""What users of helm template, docker compose config and kustomize expect of a CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from stackgen.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_example_site_is_named_when_it_stands_in(tmp_path: Path) -> None:
    code, _, err = run("build", "default", "-t", "config-toml", "-o", "-")
    assert code == 0 and "stackgen: note: no -f and no ./stackgen.yaml" in err
    (tmp_path / "stackgen.yaml").write_text(
        "name: s\ngitlab: {url: https://g.example.org}\nnodes: {data: {hostname: d}}\n")
    code, _, err = run("build", "default", "-t", "config-toml", "-o", "-")
    assert code == 0 and "note" not in err


def test_init_writes_a_site_file_that_builds_and_never_overwrites(tmp_path: Path) -> None:
    code, _, err = run("init")
    assert code == 0, err
    site = (tmp_path / "stackgen.yaml").read_text()
    assert site.startswith("# yaml-language-server: $schema=./stackgen-site.schema.json\n")
    assert json.loads((tmp_path / "stackgen-site.schema.json").read_text())["$id"]
    assert run("build", "bids", "preproc", "-t", "swarm", "-o", "out")[0] == 0
    (tmp_path / "stackgen.yaml").write_text("edited\n")
    code, _, err = run("init")
    assert code == 2 and "never replaces" in err
    assert (tmp_path / "stackgen.yaml").read_text() == "edited\n"


def test_dash_output_and_only_pipe_one_file() -> None:
    code, out, _ = run("build", "preproc", "-t", "swarm", "-o", "-", "--only", "stack.yml")
    assert code == 0 and not out.startswith("# ---")
    assert YAML(typ="safe").load(out)["version"] == "3.8"
    code, _, err = run("build", "preproc", "-t", "swarm", "-o", "-", "--only", "stack.yaml")
    assert code == 2 and "did you mean 'stack.yml'" in err
    code, _, err = run("build", "preproc", "-t", "swarm", "-o", "out", "--only", "stack.yml")
    assert code == 2 and "use it with -o -" in err


def test_list_and_explain_speak_json() -> None:
    code, out, _ = run("list", "--format", "json")
    data = json.loads(out)
    assert code == 0 and {"bids", "preproc"} <= {p["name"] for p in data["profiles"]}
    assert "swarm" in {t["name"] for t in data["targets"]}
    code, out, _ = run("explain", "preproc", "runners.preproc.pull_policy", "--format", "json")
    [row] = json.loads(out)
    assert row["value"] == ["always"] and row["origin"] == "default" and "rule" in row


def test_profile_names_complete() -> None:
    env = {"_STACKGEN_COMPLETE": "bash_complete", "COMP_WORDS": "stackgen build pre",
           "COMP_CWORD": "2"}
    result = CliRunner().invoke(main, [], env=env, prog_name="stackgen")
    assert "preproc" in result.stdout and "bids" not in result.stdout


def test_compiled_templates_are_cached_and_a_bad_cache_costs_nothing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    def build(cache: str) -> str:
        env = {**os.environ, "STACKGEN_CACHE_DIR": cache}
        return subprocess.run([sys.executable, "-m", "stackgen", "build", "preproc", "self-signed-certs",
                               "-t", "swarm", "--only", "NOTES.md", "-o", "-"], env=env,
                              capture_output=True, text=True, check=True).stdout

    cache = tmp_path / "cache"
    first, second = build(str(cache)), build(str(cache))
    assert list((cache / "templates").glob("__jinja2_*.cache"))
    (tmp_path / "file").write_text("")
    assert first == second == build(str(tmp_path / "file" / "below")) == build("")
