"""No token or private key value ever reaches a generated file, or an error message."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import stackgen
from stackgen.api import check_rendered
from stackgen.cli import main
from stackgen.errors import UserError
from stackgen.model import Fleet
from stackgen.secrets import SECRET_PATTERNS, find_secret
from stackgen.targets import TARGETS, renderer

# Made-up values in the real formats (a seed note pasted one exactly like RUNNER_AUTH).
RUNNER_AUTH = "glrt-t1_Zx8kQ2mWv4LpN7rTb3Yc"
SECRETS = {
    "runner authentication": RUNNER_AUTH,
    "routable runner token": "glrt-ZzoxcW92bjAKbzoxCnQ6Mgp1Omc0N2xifQl3aTfPjyn5JeQaD_CfiuN.7l55ehged",
    "instance-prefixed": "acme-glrt-Zx8kQ2mWv4LpN7rTb3Yc",
    "registration": "GR1348941Zx8kQ2mWv4LpN7rTb3Yc",
    "personal access": "glpat-Zx8kQ2mWv4LpN7rTb3Yc",
    "deploy": "gldt-Zx8kQ2mWv4LpN7rTb3Yc",
    "pem key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n",
    "openssh key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n",
    "url password": "https://ci:hunter2hunter2@gitlab.example.org",
}
NOT_SECRETS = [
    "glrt- tokens are created in GitLab",  # prose
    "gldt-server01.example.org",  # a host name with a token-like start
    "${RUNNER_TOKEN_PREPROC}",
    "-----BEGIN CERTIFICATE-----",
    "https://${CI_USER}:${CI_PASSWORD}@gitlab.example.org",
    "registry.example.org/glpat-scanner:1.2",
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", list(SECRETS))
def test_patterns_find_each_kind(name: str) -> None:
    assert find_secret(f"prefix {SECRETS[name]} suffix") is not None


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_patterns_leave_references_and_prose_alone(text: str) -> None:
    assert find_secret(text) is None


def test_every_pattern_compiles_and_is_named() -> None:
    assert all(kind and re.compile(rx) for kind, rx in SECRET_PATTERNS)


def site(tmp_path: Path, runner_yaml: str) -> Path:
    path = tmp_path / "stackgen.yaml"
    path.write_text(
        "name: lab\n"
        "gitlab: {url: https://gitlab.example.org}\n"
        "nodes: {n1: {hostname: n1.example.org}}\n"
        "runners:\n"
        "  preproc:\n" + runner_yaml
    )
    return path


@pytest.mark.parametrize(
    ("runner_yaml", "key", "position", "words"),
    [
        (f"    token: {RUNNER_AUTH}\n", "runners.preproc.token", "6:12",
         ["runner authentication token", "refer to it as RUNNER_TOKEN_PREPROC"]),
        (f"    token: {{env: {RUNNER_AUTH}}}\n", "runners.preproc.token.env", "6:18",
         ["runner authentication token"]),
        ("    token: D3adNQYu8OCjkYDbwDaG\n", "runners.preproc.token", "6:12",
         ["a token field holds a literal value", "RUNNER_TOKEN_PREPROC"]),
        ("    token: {value: D3adNQYu8OCjkYDbwDaG}\n", "runners.preproc.token.value", "6:20",
         ["a token field holds a literal value"]),
        (f"    environment: {{HELPER: {RUNNER_AUTH}}}\n", "runners.preproc.environment.HELPER",
         "6:27", ["runner authentication token", "masked CI/CD variable"]),
        ("    environment: {S3_SECRET_KEY: abc123}\n", "runners.preproc.environment.S3_SECRET_KEY",
         "6:34", ["looks like a secret and has a literal value", "masked CI/CD variable"]),
        ("    environment:\n      SSH_KEY: |\n        -----BEGIN OPENSSH PRIVATE KEY-----\n"
         "        b3Bl\n        -----END OPENSSH PRIVATE KEY-----\n",
         "runners.preproc.environment.SSH_KEY", "7:16", ["private key (PEM)", "CA certificates"]),
    ],
)
def test_site_file_literal_secrets_are_refused_without_echo(
    tmp_path: Path, runner_yaml: str, key: str, position: str, words: list[str]
) -> None:
    path = site(tmp_path, runner_yaml)
    code, out, err = run("build", "preproc", "-t", "swarm", "-f", str(path), "--stdout")
    assert code == 2 and out == ""
    assert f"stackgen.yaml:{position}: {key}: " in err
    for word in words:
        assert word in err
    for secret in (RUNNER_AUTH, "D3adNQYu8OCjkYDbwDaG", "abc123", "b3Bl"):
        assert secret not in err, "the message must not repeat the secret"


@pytest.mark.parametrize("value", ["$S3_SECRET", "${S3_SECRET}", "''"])
def test_secret_named_variables_may_hold_references(value: str) -> None:
    code, out, err = run("build", "preproc", "-t", "config-toml", "--stdout",
                         "--set", f"runners.preproc.environment.S3_SECRET_KEY={value}",
                         "--set", "runners.preproc.environment.TOKEN_FILE=/run/secrets/t")
    assert code == 0, err
    assert "TOKEN_FILE=/run/secrets/t" in out


@pytest.mark.parametrize("name", list(SECRETS))
def test_set_literal_secret_is_refused_and_redacted(name: str) -> None:
    secret = SECRETS[name].replace("\n", "\\n")
    code, _, err = run("build", "preproc", "-t", "swarm", "--stdout",
                       "--set", f'runners.preproc.environment.NOTE="{secret}"')
    assert code == 2
    assert "--set runners.preproc.environment.NOTE=<redacted>: runners.preproc.environment.NOTE:" in err
    assert SECRETS[name].split("\n")[0][-12:] not in err


def test_profile_literal_secret_is_refused(tmp_path: Path) -> None:
    profiles = tmp_path / "mine"
    profiles.mkdir()
    (profiles / "lab.yaml").write_text(
        "description: throwaway lab\nrunners:\n  lab:\n    image: alpine:3.20\n"
        f"    token: {RUNNER_AUTH}\n"
    )
    code, _, err = run("build", "lab", "-t", "config-toml", "--profiles-dir", str(profiles))
    assert code == 2
    assert "lab.yaml:5:12: runners.lab.token: this looks like a GitLab runner authentication" in err
    assert RUNNER_AUTH not in err and not (tmp_path / "build").exists()


def with_literal_token(fleet: Fleet) -> Fleet:
    """A model that slipped past the input check (only possible by building it by hand)."""
    manager = fleet.managers[0]
    runner = dataclasses.replace(manager.runners[0],
                                 environment=(("LEAK", RUNNER_AUTH),))
    manager = dataclasses.replace(manager, runners=(runner, *manager.runners[1:]))
    return dataclasses.replace(fleet, managers=(manager, *fleet.managers[1:]))


@pytest.mark.parametrize("target", list(TARGETS))
def test_rendered_output_is_guarded(target: str) -> None:
    fleet = with_literal_token(stackgen.build(["bids", "preproc", "self-signed-certs"]))
    files = renderer(target)(fleet)
    leaked = any(RUNNER_AUTH in text for text in files.values())
    if not leaked:
        pytest.skip(f"{target} does not carry job environment")
    with pytest.raises(UserError) as err:
        stackgen.render(fleet, target)
    assert "runner authentication token" in str(err.value) and RUNNER_AUTH not in str(err.value)


def test_writing_refuses_secret_output_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"config.toml:2: the rendered swarm output contains a "
                                        r"private key"):
        stackgen.write(tmp_path / "out", {"config.toml": "a = 1\n" + SECRETS["pem key"]}, "swarm")
    assert not (tmp_path / "out").exists()


def test_certificates_pass_the_guard() -> None:
    check_rendered({"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
                   "swarm")


@pytest.mark.parametrize(("text", "found"), [
    ("glrt-Zx8kQ2mWv4LpN7rTb3Yc", True),  # at the very start
    ("token: acme-glrt-Zx8kQ2mWv4LpN7rTb3Yc", True),  # an instance prefix before the dash
    ("xglrt-Zx8kQ2mWv4LpN7rTb3Yc", False),  # inside a longer word: not GitLab's prefix
    ("9GR1348941Zx8kQ2mWv4LpN7rTb3Yc", False),
    ("ghp_" + "a" * 36, True),
    ("sghp_" + "a" * 36, False),
    ("a dckr_pat_Zx8kQ2mWv4LpN7rTb3Yc", True),
    ("xdckr_pat_Zx8kQ2mWv4LpN7rTb3Yc", False),
])
def test_a_token_prefix_counts_only_at_a_word_start(text: str, found: bool) -> None:
    assert (find_secret(text) is not None) is found


def test_one_scan_finds_every_needle_a_substring_search_finds() -> None:
    from stackgen.secrets import _NEEDLES, _needle_scans, secret_hits

    scans = _needle_scans()
    words = [n for needles in _NEEDLES for n in needles]
    assert sorted(w for group, _ in scans for w in group) == sorted(set(words))
    assert any(scan is not None for _, scan in scans)  # the g... needles share one pass
    text = "x".join(words) + "".join(SECRETS.values()) + "glrt-glrtr-@@ghp_github_pat_"
    for group, scan in scans:
        if scan is not None:
            assert set(scan.findall(text)) == {w for w in group if w in text}
    # a secret in the 300th file is still found: the scan covers every chunk
    files = {f"f{i:03d}": "plain text\n" for i in range(300)}
    files["f299"] = "a\n" + SECRETS["pem key"]
    assert [(rel, line) for rel, line, _ in secret_hits(files)] == [("f299", 2)]


@pytest.mark.parametrize("words, overlap", [
    (["ab", "bc"], True),  # a tail of one starts the other: "abc" holds both
    (["abc", "b"], True),  # one holds the other
    (["gl", "glx"], True),  # one starts the other
    (["ab", "ab"], False),  # the same needle twice
    (["ab", "cd", "ba"], True),
    (["ab", "cd", "ef"], False),
])
def test_needles_that_overlap_are_not_looked_for_in_one_pass(
        words: list[str], overlap: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import stackgen.secrets as secrets

    assert secrets._overlap(words) is overlap
    # a group (needles of one first character) that would overlap is searched needle by needle
    monkeypatch.setattr(secrets, "_NEEDLES", (("gab",), ("gabc", "gx")))
    assert secrets._needle_scans.__wrapped__() == ((("gab",), None), (("gabc",), None), (("gx",), None))


def test_the_guard_finds_what_a_search_of_each_whole_file_finds() -> None:
    """secret_hits searches only the lines holding a needle: the same hits, in the same
    order, as every pattern searched over every whole file."""
    import random

    from stackgen.secrets import SECRET_PATTERNS, secret_hits

    rng = random.Random(7)
    pieces = [*SECRETS.values(), *NOT_SECRETS, "\n", "\n\n", " ", "@", "glrt-", "x" * 30,
              "https://", "a:b", "\r\n", "\u2028", "ghp_", "PRIVATE KEY-----", "$$@"]
    files = {f"f{i:02d}": "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12)))
             for i in range(300)}
    files["g"] = SECRETS["url password"]  # no line feed at all
    expected = [
        (rel, text.count("\n", 0, m.start()) + 1, kind)
        for rel, text in sorted(files.items())
        for kind, source in SECRET_PATTERNS
        for m in re.finditer(source, text)
    ]
    assert expected and list(secret_hits(files)) == expected


def test_no_pattern_matches_across_a_line_feed() -> None:
    # secret_hits relies on it: a match lies within one line that holds its needle
    for value in SECRETS.values():
        for i in range(1, len(value)):
            broken = value[:i] + "\n" + value[i:]
            assert all("\n" not in m.group() for _, rx in SECRET_PATTERNS
                       for m in re.finditer(rx, broken))
