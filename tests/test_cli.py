"""The command line: the headline build, list, explain, user profiles, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stackgen.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_headline_build_writes_stack_and_config(tmp_path: Path) -> None:
    code, _, err = run("build", "preproc", "--target", "swarm", "-o", "out")
    assert code == 0, err
    assert (tmp_path / "out/stack.yml").is_file()
    assert (tmp_path / "out/processing/config.toml").is_file()


def test_default_output_dir_is_build_target(tmp_path: Path) -> None:
    assert run("build", "bids", "--target", "config-toml")[0] == 0
    assert (tmp_path / "build/config-toml/data/config.toml").is_file()


def test_stdout_prints_every_file_with_headers() -> None:
    code, out, _ = run("build", "preproc", "--target", "swarm", "--stdout")
    assert code == 0
    assert "# --- stack.yml ---" in out and "# --- processing/config.toml ---" in out


def test_list_shows_profiles_and_targets() -> None:
    code, out, _ = run("list")
    assert code == 0
    for word in ("bids", "preproc", "dind-build", "kaniko-harbor", "self-signed-certs", "default",
                 "config-toml", "swarm"):
        assert word in out


def test_explain_names_file_and_line() -> None:
    code, out, _ = run("explain", "preproc", "runners.preproc.devices")
    assert code == 0
    assert out.strip() == 'runners.preproc.devices[0] = "/dev/fuse"  (profiles/preproc.yaml:16:15)'


def test_explain_shows_set_and_site_and_default() -> None:
    code, out, _ = run("explain", "bids", "--set", "manager.concurrent=9")
    assert code == 0
    assert "manager.concurrent = 9  (--set manager.concurrent=9)" in out
    assert "gitlab.url = \"https://gitlab.example.org\"  (examples/example-site/stackgen.yaml:6:8)" in out
    assert "manager.check_interval = 3  (default)" in out


def test_user_profile_dir_by_flag_and_env(tmp_path: Path) -> None:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "gpu.yaml").write_text("description: GPU jobs\nruntimes: {}\n"
                                .replace("runtimes: {}\n", "runners:\n  gpu:\n    tags: [gpu]\n    node: processing\n"))
    assert "gpu" in run("list", "--profiles-dir", str(d))[1]
    assert "gpu" in run("list", env={"STACKGEN_PROFILE_PATH": str(d)})[1]
    code, out, err = run("build", "gpu", "--target", "config-toml", "--stdout", "--profiles-dir", str(d))
    assert code == 0, err
    assert 'name = "gpu"' in out


def test_site_file_from_working_directory(tmp_path: Path) -> None:
    (tmp_path / "stackgen.yaml").write_text(
        "gitlab: {url: 'https://git.lab.test'}\nnodes: {only: {hostname: n1.lab.test}}\n"
    )
    code, out, err = run("build", "bids", "--target", "config-toml", "--stdout",
                         "--set", "data.mri=/srv/mri", "--set", "data.dicoms=/srv/dicoms",
                         "--set", "runners.bids.node=only")
    assert code == 0, err
    assert 'url = "https://git.lab.test"' in out and "/srv/mri:/data:ro" in out


def profile(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "p"
    d.mkdir(exist_ok=True)
    (d / f"{name}.yaml").write_text(text)
    return d


BAD = [
    ("unknown profile", ["build", "preprok", "--target", "swarm"], {},
     "unknown profile 'preprok' (did you mean 'preproc'?)"),
    ("unknown key", ["build", "x", "--target", "swarm"],
     {"x": "runners:\n  x:\n    privilged: true\n"},
     "p/x.yaml:3:5: runners.x.privilged: unknown key 'privilged' (did you mean 'privileged'?)"),
    ("wrong type", ["build", "x", "--target", "swarm"],
     {"x": "runners:\n  x:\n    devices: /dev/fuse\n"},
     "p/x.yaml:3:14: runners.x.devices: expected a list, got \"/dev/fuse\""),
    ("yaml syntax", ["build", "x", "--target", "swarm"], {"x": "runners:\n  x: [a\n"},
     "p/x.yaml:3:1: YAML syntax error"),
    ("include cycle", ["build", "x", "--target", "swarm"],
     {"x": "include: [y]\n", "y": "include: [x]\n"},
     "include cycle: x -> y -> x"),
    ("conflict", ["build", "x", "y", "--target", "swarm"],
     {"x": "runners:\n  r:\n    image: a:1\n", "y": "runners:\n  r:\n    image: b:2\n"},
     "p/y.yaml:3:12: runners.r.image: conflicting values: 'b:2' here, but 'a:1' at p/x.yaml:3:12"),
    ("missing site value", ["build", "x", "--target", "swarm"],
     {"x": "runners:\n  r:\n    node: gpu\n"},
     "p/x.yaml:3:11: runners.r.node: node 'gpu' is not defined in the site file"),
    ("missing data path", ["build", "x", "--target", "swarm"],
     {"x": "runners:\n  r:\n    volumes: [{data: scratch, target: /scratch}]\n"},
     "data path 'scratch' is not defined in the site file"),
    ("unknown target", ["build", "bids", "--target", "swarn"], {}, "Invalid value for '-t' / '--target'"),
    ("bad --set", ["build", "bids", "--target", "swarm", "--set", "manager.concurrent"], {},
     "--set manager.concurrent: expected KEY=VALUE"),
    ("--set for another runner", ["build", "bids", "--target", "swarm", "--set", "runners.bid.limit=1"], {},
     "no runner 'bid' in this build (did you mean 'bids'?)"),
    ("duplicate destination", ["build", "x", "--target", "swarm"],
     {"x": "runners:\n  r:\n    volumes: [/a:/data, /b:/data/]\n"},
     "two volumes mount at /data"),
]


@pytest.mark.parametrize("name,args,profiles,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name: str, args: list[str], profiles: dict[str, str], message: str,
                   tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    for pname, text in profiles.items():
        (d / f"{pname}.yaml").write_text(text)
    extra = ["--profiles-dir", "p"] if profiles else []
    result = CliRunner().invoke(main, [*args, *extra, "-o", "out"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
