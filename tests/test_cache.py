"""Results kept between runs (stackgen.cache): the CLI's front door and the parse cache.

A cache may only save time: the same output with or without it, a damaged or stale entry
is a miss, and a cache folder that cannot be written costs nothing but the time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stackgen import cache
from stackgen.errors import Origin
from stackgen.layers.located import load_yaml_text
from tests.conftest import ROOT

MODULES = "import sys; print(' '.join(sorted(sys.modules)), file=sys.stderr)"


def stackgen(cache_dir: Path | str, *args: str, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m stackgen ARGS` through the front door; stderr ends with the loaded modules."""
    code = ("import sys, atexit; sys.argv = ['stackgen', *sys.argv[1:]]\n"
            f"atexit.register(lambda: exec({MODULES!r}))\n"
            "from stackgen.launch import main; main(prog='stackgen')")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {}),
                                          "STACKGEN_CACHE_DIR": str(cache_dir),
                                          "PYTHONPATH": str(ROOT)})


def loaded(result: subprocess.CompletedProcess[str]) -> set[str]:
    return set(result.stderr.splitlines()[-1].split())


def test_store_and_load_keep_a_value_under_its_whole_key(tmp_path: Path) -> None:
    where = str(tmp_path)
    cache.store(where, ("k", 1), {"a": [1, 2.5, None, True, "x"]})
    assert cache.load(where, ("k", 1)) == {"a": [1, 2.5, None, True, "x"]}
    assert cache.load(where, ("k", 2)) is None
    assert cache.load(None, ("k", 1)) is None
    for entry in tmp_path.iterdir():  # a damaged entry (a full disk, another tool) is a miss
        entry.write_bytes(b"\x00garbage")
    assert cache.load(where, ("k", 1)) is None


def test_the_folder_keeps_the_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 3)
    (tmp_path / "left-by-a-killed-run.tmp").write_bytes(b"")
    os.utime(tmp_path / "left-by-a-killed-run.tmp", ns=(0, 0))
    monkeypatch.setattr(cache, "_STORES", {})
    for i in range(7):  # pruned at the first store, then after every third
        cache.store(str(tmp_path), i, i)
    assert len(list(tmp_path.iterdir())) == 3
    assert not (tmp_path / "left-by-a-killed-run.tmp").exists()
    assert cache.load(str(tmp_path), 6) == 6 and cache.load(str(tmp_path), 3) is None


def test_caches_off_or_unwritable_cost_only_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKGEN_CACHE_DIR", "")
    assert cache.folder("yaml") is None
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path / "file" / "below"))
    assert cache.folder("yaml") is None
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    cache.store(str(read_only), "k", "v")  # no error
    assert os.geteuid() == 0 or not list(read_only.iterdir())


def test_a_text_read_again_comes_back_the_same_with_its_own_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    text = "a: &x {b: [1, !remove 2]}\nc: *x\nd: !reset\n  e: 017\n"
    site = Origin("site", "stackgen.yaml")
    first = load_yaml_text(text, site)
    assert list((tmp_path / "yaml").iterdir())
    assert load_yaml_text(text, site) == first
    again = load_yaml_text(text, Origin("profile", "profiles/p.yaml", profile="p"))
    assert again.plain() == first.plain()
    assert again.value["d"].value["e"].origin == Origin("profile", "profiles/p.yaml", 4, 6, "p")
    assert again.value["d"].op == "reset"


def test_a_warm_build_loads_no_yaml_parser_and_writes_the_same(tmp_path: Path) -> None:
    args = ("build", "preproc", "self-signed-certs", "-t", "compose", "-o", "-")
    cold, warm = stackgen(tmp_path, *args), stackgen(tmp_path, *args)
    assert cold.returncode == warm.returncode == 0, cold.stderr
    assert cold.stdout == warm.stdout == stackgen("", *args).stdout
    assert "ruamel.yaml" in loaded(cold) and "ruamel.yaml" not in loaded(warm)


def test_help_and_list_from_the_front_door_are_clicks(tmp_path: Path) -> None:
    for args in (["--help"], ["-h"], ["list"], ["list", "--format", "json"], ["list", "--format=text"]):
        cold, warm = stackgen(tmp_path, *args), stackgen(tmp_path, *args)
        assert cold.returncode == warm.returncode == 0
        assert warm.stdout == cold.stdout == stackgen("", *args).stdout
        assert "click" in loaded(cold) and "click" not in loaded(warm), args
        assert "typing" not in loaded(warm), args
    # click fits help to the terminal: a narrower one is its own entry
    wide = stackgen(tmp_path, "--help", env={"COLUMNS": "80"}).stdout
    narrow = stackgen(tmp_path, "--help", env={"COLUMNS": "60"}).stdout
    assert narrow != wide and narrow == stackgen("", "--help", env={"COLUMNS": "60"}).stdout


def test_list_sees_a_changed_profile_at_once(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "mine.yaml").write_text("description: first words\n")
    env = {"STACKGEN_PROFILE_PATH": str(profiles)}
    assert "first words" in stackgen(tmp_path / "c", "list", env=env).stdout
    (profiles / "mine.yaml").write_text("description: other words, longer\n")
    assert "other words" in stackgen(tmp_path / "c", "list", env=env).stdout
    (profiles / "more.yaml").write_text("description: a new one\n")
    assert "a new one" in stackgen(tmp_path / "c", "list", env=env).stdout
    (profiles / "bad.yaml").write_text("description: [\n")
    bad = stackgen(tmp_path / "c", "list", env=env)
    assert bad.returncode == 2 and "bad.yaml" in bad.stderr
    assert stackgen(tmp_path / "c", "list", env=env).returncode == 2  # an error is never kept


def test_kept_renders_are_the_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stackgen
    from stackgen.targets import TARGETS

    builds = [["preproc", "self-signed-certs"], ["bids", "dind-build", "self-signed-certs"],
              ["kaniko-harbor", "self-signed-certs"]]
    monkeypatch.setenv("STACKGEN_CACHE_DIR", "")
    fresh = {(tuple(b), t): stackgen.generate(b, t) for b in builds for t in TARGETS}
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    for _ in range(2):  # filling the cache, then reading it
        assert {(tuple(b), t): stackgen.generate(b, t) for b in builds for t in TARGETS} == fresh
    assert list((tmp_path / "renders").iterdir())


def test_a_render_key_names_types_and_refuses_what_it_cannot_name() -> None:
    from stackgen.model import Volume
    from stackgen.serialize import text

    def key(**context: object) -> object:
        found = text._render_key("t", context)
        return None if found is None else found[2]

    assert len({key(x=True), key(x=1), key(x=1.0), key(x="1"), key(x=[1]), key(x=(1,))}) == 6
    assert key(v=Volume("/a")) != key(v=Volume("/b"))
    assert key(f=len) is None and key(x=[{1}]) is None  # a function, a set: not kept
    assert key(x=list(range(text.KEY_BUDGET))) is None  # too big to be worth a key


def test_a_warm_build_with_notes_loads_no_jinja2(tmp_path: Path) -> None:
    args = ("build", "preproc", "self-signed-certs", "-t", "swarm", "--only", "NOTES.md", "-o", "-")
    cold, warm = stackgen(tmp_path, *args), stackgen(tmp_path, *args)
    assert cold.stdout == warm.stdout and "site CA" in warm.stdout
    assert "jinja2" in loaded(cold) and "jinja2" not in loaded(warm)


def test_a_big_text_is_parsed_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackgen.layers import parse_cache

    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(parse_cache, "MAX_KEPT", 10)
    assert load_yaml_text("a: 1\nb: [x, y]\n", Origin("site", "s.yaml")).plain() == {"a": 1, "b": ["x", "y"]}
    assert not (tmp_path / "yaml").exists() or not list((tmp_path / "yaml").iterdir())


def test_a_text_with_a_secret_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    token = "glrt-" + "Ab1" * 7
    load_yaml_text(f"manager: {{token: {token}}}\n", Origin("site", "s.yaml"))
    assert not (tmp_path / "yaml").exists() or not list((tmp_path / "yaml").iterdir())


def test_what_is_not_a_plain_entry_of_ours_is_a_miss(tmp_path: Path) -> None:
    where = str(tmp_path / "c")
    os.mkdir(where, 0o700)
    cache.store(where, "k", "v")
    (entry,) = Path(where).iterdir()
    entry.unlink()
    os.mkfifo(entry)  # would block a plain open() and read()
    assert cache.load(where, "k") is None
    entry.unlink()
    entry.symlink_to("/dev/zero")  # would never end
    assert cache.load(where, "k") is None
    entry.unlink()
    victim = tmp_path / "victim"
    victim.write_text("mine")
    Path(f"{entry}.{os.getpid()}.tmp").symlink_to(victim)  # a store must not write through it
    cache.store(where, "k", "v")
    assert victim.read_text() == "mine"


def test_a_folder_others_can_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    (shared / "yaml").mkdir(parents=True)
    (shared / "yaml").chmod(0o777)
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(shared))
    monkeypatch.setattr(cache, "_FOLDERS", {})
    assert cache.folder("yaml") is None
    (shared / "yaml").chmod(0o700)
    monkeypatch.setattr(cache, "_FOLDERS", {})
    assert cache.folder("yaml") == str(shared / "yaml")


def test_a_store_killed_at_any_moment_leaves_the_entry_whole_or_absent(tmp_path: Path) -> None:
    import signal
    import time

    where = tmp_path / "c"
    where.mkdir(mode=0o700)
    code = ("import sys; from stackgen import cache\n"
            "v = ['x' * 1000] * 5000\n"
            "while True:\n    cache.store(sys.argv[1], 'k', v)\n")
    for delay in (0.05, 0.1, 0.2, 0.3):
        proc = subprocess.Popen([sys.executable, "-c", code, str(where)],
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert cache.load(str(where), "k") in (None, ["x" * 1000] * 5000)


def test_the_front_door_ends_a_run_as_sys_exit_would(tmp_path: Path) -> None:
    """launch._exit skips Python's teardown: the status, the output and the exit handlers
    (which `stackgen()` uses to list the modules) are as click's own exit leaves them."""
    plain = ("import sys; from stackgen.cli import main; main(sys.argv[1:], prog_name='stackgen')\n")
    for args in (["build", "preproc", "-t", "swarm", "-o", "-"], ["build", "nosuch", "-t", "swarm"],
                 ["--version"], ["list"], ["list"], ["build", "--target"]):
        ours = stackgen(tmp_path / "cache", *args)
        theirs = subprocess.run([sys.executable, "-c", plain, *args], capture_output=True, text=True,
                                env={**os.environ, "STACKGEN_CACHE_DIR": "", "PYTHONPATH": str(ROOT)})
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), args
        assert ours.stderr.splitlines()[:-1] == theirs.stderr.splitlines(), args
        assert "stackgen.launch" in loaded(ours)


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "stackgen", "build", "preproc", "-t", "swarm", "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "STACKGEN_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -c 0` would
    err = proc.stderr.read()
    assert proc.wait() == 141, err  # as for a command SIGPIPE ends
    assert "internal error" not in err and "Traceback" not in err
