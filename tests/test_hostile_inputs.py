"""Hostile and unlucky inputs (issue 12, items 5-10, 12, 13, 17): limits, merge keys,
secrets in messages, replaced sections, swarm name clashes, special files, exit codes."""

from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from stackgen.cli import main

TOKEN = "glrt-" + "Q" * 24  # shaped like a runner token, so every message must hide it
PLAIN_SECRET = "hunter2-not-a-pattern"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def profile(tmp_path: Path, text: str, name: str = "x") -> list[str]:
    d = tmp_path / "p"
    d.mkdir(exist_ok=True)
    (d / f"{name}.yaml").write_text(text)
    return [name, "--profiles-dir", str(d)]


def build(*args: str) -> tuple[int, str, str]:
    return run("build", *args, "-t", "swarm", "--stdout")


def refused(result: tuple[int, str, str], *fragments: str) -> str:
    code, _, err = result
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("stackgen: error: ")
    for fragment in fragments:
        assert fragment in err, err
    return err


# --- item 5: no secret in any message ------------------------------------------------------


@pytest.mark.parametrize("text", [
    f"runners:\n  x:\n    {TOKEN}: 1\n",  # a token used as a key
    f"runners:\n  x:\n    tags: [{TOKEN}]\n    tags: [b]\n",  # duplicate key: both values
    f"runners:\n  x:\n    tags: *{TOKEN}\n",  # undefined alias
    f"runners:\n  x:\n    tags: !{TOKEN} [a]\n",  # unknown tag
    f"runners:\n  x:\n    tags: [{PLAIN_SECRET}]\n    tags: [b]\n",  # values never quoted
])
def test_no_secret_in_error_messages(tmp_path: Path, text: str) -> None:
    err = refused(build(*profile(tmp_path, text)))
    assert TOKEN not in err and PLAIN_SECRET not in err


@pytest.mark.parametrize("value", [f"[{TOKEN}", f"{{a: {PLAIN_SECRET}", f"'{PLAIN_SECRET}"])
def test_no_secret_when_a_set_fails_to_parse(value: str) -> None:
    err = refused(build("default", "--set", f"runners.default.tags={value}"),
                  "--set runners.default.tags=<value not shown>")
    assert TOKEN not in err and PLAIN_SECRET not in err


def test_internal_error_message_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*args: object) -> None:
        raise RuntimeError(f"oops {TOKEN}")

    monkeypatch.setattr("stackgen.api._render_checked", bug)
    code, _, err = build("default")
    assert code == 3 and TOKEN not in err and "<redacted" in err


# --- items 6-8: aliases, depth, merge keys ---------------------------------------------------


def laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9])
def test_alias_expansion_is_limited(tmp_path: Path, levels: int) -> None:
    started = time.monotonic()
    refused(build(*profile(tmp_path, laughs(levels))), "p/x.yaml", "once aliases are expanded")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("text", [
    "runners:\n  x:\n    tags: " + "[" * 400 + "]" * 400 + "\n",
    "runners:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400)),
    "runners:\n  x:\n    tags: " + "[" * 45 + "]" * 45 + "\n",
    # deep enough to overflow the C stack of a recursive composer (ruamel.yaml.clib's)
    "runners:\n  x:\n    tags: " + "[" * 2_000_000 + "]" * 2_000_000 + "\n",
])
def test_deep_nesting_is_refused(tmp_path: Path, text: str) -> None:
    refused(build(*profile(tmp_path, text)), "p/x.yaml", "nested more than 40 levels")


def test_yaml_merge_keys_with_positions(tmp_path: Path) -> None:
    args = profile(tmp_path, "runners:\n  a: &base\n    image: alpine:3\n    tags: [t]\n"
                             "  m:\n    <<: *base\n    node: processing\n")
    code, out, err = run("explain", *args, "runners.m.image")
    assert code == 0, err
    assert out.strip() == 'runners.m.image = "alpine:3"  (p/x.yaml:3:12)'
    assert build(*args)[0] == 0


# --- item 9: a replaced section keeps its defaults ------------------------------------------


@pytest.mark.parametrize("override", ["manager={concurrent: 3}", "ca={}", "images={}",
                                      "manager.session_server={enabled: true}"])
def test_replacing_a_section_keeps_the_defaults(override: str) -> None:
    code, out, err = run("build", "default", "-t", "config-toml", "--stdout", "--set", override)
    assert code == 0, err
    assert "check_interval = 3" in out


def test_reset_site_section_keeps_the_defaults(tmp_path: Path) -> None:
    shutil.copytree(Path(__file__).parent.parent / "examples/example-site", tmp_path / "site")
    path = tmp_path / "site/stackgen.yaml"
    site = path.read_text()
    site = site.replace("manager:\n  concurrent: 4", "manager: !reset\n  concurrent: 4")
    path.write_text(site.replace("images:\n", "images: !reset\n"))
    code, out, err = run("build", "default", "-t", "config-toml", "--stdout", "-f", str(path))
    assert code == 0, err
    assert "check_interval = 3" in out


@pytest.mark.parametrize("value,word", [("null", "got null"), ("{}", "got a mapping")])
def test_set_null_is_called_null(value: str, word: str) -> None:
    refused(build("default", "--set", f"runners.default.tags={value}"), word)


# --- item 10: swarm secret names ------------------------------------------------------------


def test_swarm_secret_names_never_collide(tmp_path: Path) -> None:
    (tmp_path / "stackgen.yaml").write_text(
        "gitlab: {url: 'https://git.lab.test'}\n"
        "nodes:\n  runner-token-x: {hostname: n1.lab.test}\n  other: {hostname: n2.lab.test}\n")
    args = profile(tmp_path, "runners:\n  x-config:\n    tags: [a]\n    node: other\n"
                             "  y:\n    tags: [b]\n    node: runner-token-x\n")
    refused(build(*args), "swarm secret 'runner-token-x-config'")


# --- item 12: exit codes ---------------------------------------------------------------------


def test_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build("default")[0] == 0
    assert run("build", "default", "-t", "swarm", "--check")[0] == 1
    assert build("nosuchprofile")[0] == 2
    assert run("build", "default")[0] == 2  # usage: no --target

    def bug(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("stackgen.api._render_checked", bug)
    code, out, err = build("default")
    assert code == 3 and "Traceback" not in err
    assert err.splitlines()[-2:] == [
        "stackgen: internal error: KeyError: 'boom'",
        "stackgen: this is a bug in stackgen; please report it with the command you ran "
        "(run it again with --debug to see the traceback)",
    ]
    for flag in ("--debug", "--traceback"):
        result = CliRunner().invoke(main, [flag, "build", "default", "-t", "swarm", "--stdout"])
        assert isinstance(result.exception, KeyError)


# --- item 13: special files ------------------------------------------------------------------


def test_fifo_profile_is_refused_without_hanging(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    os.mkfifo(d / "x.yaml")
    for args in (["list", "--profiles-dir", str(d)],
                 ["build", "x", "-t", "swarm", "--stdout", "--profiles-dir", str(d)]):
        refused(run(*args), "p/x.yaml is a FIFO, socket or device, not a regular file")


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "big"])
def test_special_or_huge_certificate_is_refused(tmp_path: Path, special: str) -> None:
    site = (Path(__file__).parent.parent / "examples/example-site/stackgen.yaml").read_text()
    if special == "fifo":
        os.mkfifo(tmp_path / "ca.crt")
        path = "ca.crt"
    elif special == "big":
        (tmp_path / "ca.crt").write_bytes(b"#" * (2 << 20))
        path = "ca.crt"
    else:
        path = special
    (tmp_path / "stackgen.yaml").write_text(site.replace("certs/example-ca.crt", path))
    started = time.monotonic()
    refused(build("default", "self-signed-certs"), "cannot read certificate")
    assert time.monotonic() - started < 5


def test_huge_profile_is_refused(tmp_path: Path) -> None:
    refused(build(*profile(tmp_path, "# " + "x" * (65 << 20) + "\n")), "larger than 65536 KiB")


# --- item 17: stray output ---------------------------------------------------------------------


def test_library_warnings_do_not_reach_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning

    from stackgen.layers import certs
    from stackgen.layers.der import Unsupported

    def decline(raw: bytes) -> None:  # as for an odd certificate: cryptography reads it
        raise Unsupported("forced")

    monkeypatch.setattr(certs, "read_pem", decline)
    real = x509.load_pem_x509_certificates
    calls = []

    def noisy(data: bytes) -> list[x509.Certificate]:
        calls.append(data)
        warnings.warn("Parsed a negative serial number", CryptographyDeprecationWarning, stacklevel=1)
        return real(data)

    monkeypatch.setattr(x509, "load_pem_x509_certificates", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = build("default", "self-signed-certs")
    assert code == 0 and "Warning" not in err, err
    assert calls, "the certificate went through cryptography"
