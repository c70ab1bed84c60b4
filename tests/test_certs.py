"""Site certificates: what is accepted, warned about or refused, and bad input through the CLI.

Every certificate here is made at test time (tests/certfactory.py); none is committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stackgen.cli import main
from stackgen.errors import Origin, UserError
from stackgen.fleet.assemble import assemble
from stackgen.layers.certs import covers, read_certificate
from stackgen.model import Certificate
from tests.certfactory import NOW, make, site_file, write

ORIGIN = Origin("site", "site.yaml", 9, 5)


def read(path: Path, hosts: tuple[str, ...] = ("gitlab.test.org",)) -> Certificate:
    loaded = read_certificate(path, "site-ca", hosts, ORIGIN, now=NOW)
    assert loaded.findings == ()
    return loaded.certificate


def refused(path: Path, hosts: tuple[str, ...] = ("gitlab.test.org",)) -> str:
    with pytest.raises(UserError) as info:
        read_certificate(path, "site-ca", hosts, ORIGIN, now=NOW)
    return str(info.value)


# --- what covers a host ---------------------------------------------------------------


def test_ca_certificate_covers_any_host(tmp_path: Path) -> None:
    ca = make("Site CA", ca=True)
    cert = read(write(tmp_path / "ca.crt", ca.pem()), ("gitlab.test.org", "10.0.0.5"))
    assert cert.hosts == ("gitlab.test.org", "10.0.0.5")
    assert cert.pem == ca.pem().decode()


def test_ca_name_constraints_limit_what_it_covers(tmp_path: Path) -> None:
    ca = make("Site CA", ca=True, permitted=["test.org"])
    assert covers(ca.facts(), "gitlab.test.org") and covers(ca.facts(), "test.org")
    assert not covers(ca.facts(), "gitlab.other.org")
    message = refused(write(tmp_path / "ca.crt", ca.pem()), ("gitlab.other.org",))
    assert "name constraints do not permit gitlab.other.org" in message
    assert "certificates.site-ca.hosts[0]" in message


def test_self_signed_server_certificate_must_name_the_host(tmp_path: Path) -> None:
    leaf = make("gitlab", sans=["gitlab.test.org", "*.apps.test.org", "10.0.0.5"])
    path = write(tmp_path / "gitlab.crt", leaf.pem())
    read(path, ("gitlab.test.org", "ci.apps.test.org", "10.0.0.5", "gitlab.test.org:443"))
    message = refused(path, ("harbor.test.org",))
    assert "does not cover harbor.test.org" in message
    assert "names only gitlab.test.org, *.apps.test.org, 10.0.0.5" in message
    # a wildcard stands for exactly one label
    assert not covers(leaf.facts(), "a.b.apps.test.org")
    assert not covers(leaf.facts(), "apps.test.org")


def test_server_certificate_without_san_is_refused(tmp_path: Path) -> None:
    leaf = make("gitlab.test.org")  # CN only: Go clients ignore it
    message = refused(write(tmp_path / "cn.crt", leaf.pem()))
    assert "without subjectAltName" in message


def test_bundle_covers_a_host_if_any_certificate_does(tmp_path: Path) -> None:
    gitlab = make("gitlab", sans=["gitlab.test.org"])
    harbor = make("harbor", sans=["harbor.test.org"])
    path = write(tmp_path / "bundle.crt", b"# comment\n" + gitlab.pem() + b"text\n" + harbor.pem())
    cert = read(path, ("gitlab.test.org", "harbor.test.org"))
    # re-serialised: only the two certificate blocks, no stray text
    assert cert.pem == (gitlab.pem() + harbor.pem()).decode()


def test_leaf_issued_by_a_ca_is_a_warning(tmp_path: Path) -> None:
    ca = make("Site CA", ca=True)
    leaf = make("gitlab", sans=["gitlab.test.org"], issuer=ca)
    loaded = read_certificate(write(tmp_path / "leaf.crt", leaf.pem()), "site-ca",
                              ["gitlab.test.org"], ORIGIN, now=NOW)
    assert len(loaded.findings) == 1
    assert "not a CA" in str(loaded.findings[0])


# --- dates --------------------------------------------------------------------------------


def test_expired_certificate_is_refused(tmp_path: Path) -> None:
    old = make("Old CA", ca=True, valid_days=-2, starts_in_days=-400)
    message = refused(write(tmp_path / "old.crt", old.pem()))
    assert "expired on" in message and "site.yaml:9:5" in message


def test_expiring_soon_is_a_warning(tmp_path: Path) -> None:
    soon = make("Soon CA", ca=True, valid_days=10)
    loaded = read_certificate(write(tmp_path / "soon.crt", soon.pem()), "site-ca",
                              ["gitlab.test.org"], ORIGIN, now=NOW)
    assert [f.key for f in loaded.findings] == ["certificates.site-ca.file"]
    assert "expires on" in loaded.findings[0].message


def test_not_yet_valid_is_a_warning(tmp_path: Path) -> None:
    later = make("Later CA", ca=True, starts_in_days=3)
    loaded = read_certificate(write(tmp_path / "later.crt", later.pem()), "site-ca", [], ORIGIN,
                              now=NOW)
    assert "not valid before" in loaded.findings[0].message


# --- not a certificate -------------------------------------------------------------------


def test_der_is_refused_with_a_conversion_hint(tmp_path: Path) -> None:
    message = refused(write(tmp_path / "ca.der", make("CA", ca=True).der()))
    assert "is not a PEM certificate" in message and "openssl x509 -inform der" in message


@pytest.mark.parametrize("form", ["pem", "der"])
def test_private_key_is_refused(tmp_path: Path, form: str) -> None:
    made = make("CA", ca=True)
    data = made.key_pem() if form == "pem" else made.key_der()
    assert "holds a private key" in refused(write(tmp_path / "ca.key", data))


def test_certificate_with_its_key_is_refused(tmp_path: Path) -> None:
    made = make("CA", ca=True)
    assert "holds a private key" in refused(write(tmp_path / "both.pem", made.pem() + made.key_pem()))


def test_missing_and_garbage_files(tmp_path: Path) -> None:
    assert "certificate file not found" in refused(tmp_path / "nope.crt")
    assert "is not a PEM certificate" in refused(write(tmp_path / "x.crt", b"hello\n"))


# --- through the model and the CLI ----------------------------------------------------


def test_warnings_reach_the_composition(tmp_path: Path) -> None:
    write(tmp_path / "certs/ca.crt", make("Soon CA", ca=True, valid_days=5).pem())
    findings = assemble(["default", "self-signed-certs"], site_file(tmp_path)).findings
    assert any("expires on" in str(f) for f in findings)


def test_gitlab_host_not_declared_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path / "certs/ca.crt", make("CA", ca=True).pem())
    site = site_file(tmp_path, hosts=["harbor.test.org"])
    findings = assemble(["default", "self-signed-certs"], site).findings
    assert any("no certificate lists gitlab.test.org" in str(f) for f in findings)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


BAD_INPUT = {
    "missing": (None, "certificate file not found"),
    "private-key": (lambda m: m.key_pem(), "holds a private key"),
    "der": (lambda m: m.der(), "is not a PEM certificate"),
    "expired": ("expired", "expired on"),
    "wrong-san": ("wrong-san", "does not cover gitlab.test.org"),
}


@pytest.mark.parametrize("target", ["compose", "swarm", "dockerfile", "config-toml"])
@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_certificates_exit_2_and_write_nothing(tmp_path: Path, case: str, target: str) -> None:
    made, expect = BAD_INPUT[case]
    ca = make("CA", ca=True)
    if made == "expired":
        write(tmp_path / "certs/ca.crt", make("CA", ca=True, valid_days=-1, starts_in_days=-9).pem())
    elif made == "wrong-san":
        write(tmp_path / "certs/ca.crt", make("srv", sans=["other.test.org"]).pem())
    elif callable(made):
        write(tmp_path / "certs/ca.crt", made(ca))
    site = site_file(tmp_path)
    code, err = cli("build", "default", "self-signed-certs", "--target", target, "-f", str(site),
                    "-o", "out")
    assert code == 2, err
    assert expect in err and "Traceback" not in err
    assert err.startswith("stackgen: error: site.yaml:")
    assert not (tmp_path / "out").exists()


def test_unknown_runner_image_family_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "certs/ca.crt", make("CA", ca=True).pem())
    site = site_file(tmp_path, runner="registry.test.org/custom/runner:1.0")
    code, err = cli("build", "default", "--target", "dockerfile", "-f", str(site), "-o", "out")
    assert code == 2
    assert "cannot tell the OS family of runner image 'registry.test.org/custom/runner:1.0'" in err
    assert not (tmp_path / "out").exists()


def test_good_site_builds_every_ca_target(tmp_path: Path) -> None:
    write(tmp_path / "certs/ca.crt", make("CA", ca=True).pem())
    site = site_file(tmp_path)
    for target in ("compose", "swarm", "dockerfile", "config-toml"):
        code, err = cli("build", "default", "self-signed-certs", "--target", target,
                        "-f", str(site), "--stdout")
        assert code == 0, err
