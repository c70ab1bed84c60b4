"""The DER reader (stackgen.layers.der) held to cryptography, which it stands in for.

For any input the reader either declines (`Unsupported`: the file goes to cryptography) or
gives exactly the facts stackgen reads through cryptography. Declining costs only time;
accepting what cryptography refuses, or reading a fact differently, would change what a
build says. So: certificates from cryptography's builder must be read, and agree; hand-made
DER and mutated DER may be declined, but whatever is read must agree; and through
read_certificate every file, odd or broken, gives the result the cryptography path gives.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import ipaddress
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from hypothesis import given, settings
from hypothesis import strategies as st

from stackgen.errors import Origin, UserError
from stackgen.layers import certs
from stackgen.layers.der import CertFacts, Unsupported, read_der, read_pem
from tests import derbuild as d
from tests.certfactory import NOW, Made, make, write

ORIGIN = Origin("site", "site.yaml", 9, 5)
UTC = dt.UTC


def theirs(der: bytes) -> CertFacts:
    """The facts as stackgen reads them through cryptography (the fallback path)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative serials and the like: loaded all the same
        return certs._from_x509(x509.load_der_x509_certificate(der))


def agrees(der: bytes) -> bool:
    """False if the reader declines `der`; else it must read what cryptography reads."""
    try:
        mine = read_der(der)
    except Unsupported:
        return False
    assert mine == theirs(der)  # cryptography must also load it: the reader refused nothing
    return True


def assert_read(made: Made) -> None:
    assert agrees(made.der()), "a certificate cryptography's builder makes must be read"
    assert certs._pem_block(made.der()) == made.pem().decode()


# --- certificates cryptography makes: always read, always the same facts -------------------

def attr(oid: ObjectIdentifier, value: str, kind: x509.name._ASN1Type | None = None) -> x509.NameAttribute[str]:
    return x509.NameAttribute(oid, value, kind) if kind else x509.NameAttribute(oid, value)


T = x509.name._ASN1Type
SUBJECTS = {
    "empty": x509.Name([]),
    "full": x509.Name([
        attr(NameOID.COUNTRY_NAME, "DE"), attr(NameOID.STATE_OR_PROVINCE_NAME, "Baden-Württemberg"),
        attr(NameOID.LOCALITY_NAME, "Tübingen"), attr(NameOID.ORGANIZATION_NAME, "Uni, Lab + Co"),
        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "MRI"), attr(NameOID.COMMON_NAME, "Site CA"),
        attr(NameOID.EMAIL_ADDRESS, "ca@test.org"), attr(NameOID.DOMAIN_COMPONENT, "test"),
        attr(NameOID.USER_ID, "u1"), attr(NameOID.SERIAL_NUMBER, "42"),
        attr(NameOID.STREET_ADDRESS, "Weg 1"),
    ]),
    "escapes": x509.Name([attr(NameOID.COMMON_NAME, '#a"b\\c<d>e;f=g\0 '),
                          attr(NameOID.ORGANIZATION_NAME, " leading"), attr(NameOID.TITLE, " ")]),
    "types": x509.Name([
        attr(NameOID.COMMON_NAME, "日本 CA", T.BMPString),
        attr(NameOID.ORGANIZATION_NAME, "Ω😀", T.UniversalString),
        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "Print (able) 1+2=3?", T.PrintableString),
        attr(NameOID.LOCALITY_NAME, "ia5", T.IA5String),
        attr(NameOID.STATE_OR_PROVINCE_NAME, "visible", T.VisibleString),
        attr(NameOID.POSTAL_CODE, "72074", T.NumericString),
        attr(NameOID.PSEUDONYM, "tél", T.T61String),
    ]),
    "multi-valued": x509.Name([x509.RelativeDistinguishedName(
        [attr(NameOID.COMMON_NAME, "a"), attr(NameOID.ORGANIZATION_NAME, "b")])]),
}
EXTENSIONS: dict[str, tuple[x509.ExtensionType, bool]] = {
    "key-usage": (x509.KeyUsage(True, False, False, False, False, True, True, False, False), True),
    "key-agreement": (x509.KeyUsage(False, False, False, False, True, False, False, True, True), False),
    "eku": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False),
    "ski": (x509.SubjectKeyIdentifier(b"\x01" * 20), False),
    "aki": (x509.AuthorityKeyIdentifier(b"\x02" * 20, None, None), False),
    "netscape-comment": (x509.UnrecognizedExtension(ObjectIdentifier("2.16.840.1.113730.1.13"),
                                                    b"\x16\x02hi"), False),
    "unknown-critical": (x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"??"), True),
}
CASES: dict[str, Callable[[], Made]] = {
    "ca": lambda: make("Site CA", ca=True),
    "leaf": lambda: make("gitlab", sans=["gitlab.test.org"]),
    "leaf-no-san": lambda: make("gitlab.test.org"),
    "no-basic-constraints": lambda: make("x", basic_constraints=False, sans=["x.test.org"]),
    "san-mixed": lambda: make("s", sans=["*.apps.test.org", "GitLab.Test.Org.", "10.0.0.5", "::1",
                                        "2001:db8::17", "::ffff:10.0.0.1", "0.0.0.0"]),
    "ca-with-san": lambda: make("CA", ca=True, sans=["ca.test.org"]),
    "permitted-dns": lambda: make("CA", ca=True, permitted=["test.org", ".apps.test.org"]),
    "excluded-dns": lambda: make("CA", ca=True, excluded=["bad.test.org"]),
    "ip-subtrees": lambda: make("CA", ca=True, permitted=["10.0.0.0/8", "2001:db8::/32", "test.org"],
                                excluded=["10.9.0.0/16", "0.0.0.0/0", "::/0"]),
    "issued": lambda: make("gitlab", sans=["gitlab.test.org"], issuer=make("CA", ca=True)),
    "rsa": lambda: make("RSA CA", ca=True, key="rsa", hash_name="sha384"),
    "rsa-sha512": lambda: make("RSA", key="rsa", hash_name="sha512", sans=["r.test.org"]),
    "ec384": lambda: make("EC CA", ca=True, key="ec384", hash_name="sha512"),
    "ed25519": lambda: make("Ed CA", ca=True, key="ed25519"),
    "generalized-time": lambda: make("Long CA", ca=True, not_after=dt.datetime(2051, 3, 4, 5, 6, 7, tzinfo=UTC)),
    "utc-time-edges": lambda: make("Edge CA", ca=True, not_before=dt.datetime(1950, 1, 1, tzinfo=UTC),
                                   not_after=dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
    "year-9999": lambda: make("Far CA", ca=True, not_after=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    "expired": lambda: make("Old CA", ca=True, valid_days=-2, starts_in_days=-400),
    **{f"subject-{k}": functools.partial(make, "", subject=n, ca=True) for k, n in SUBJECTS.items()
       if k != "multi-valued"},
    **{f"extension-{k}": functools.partial(make, "X", ca=True, extensions=[e]) for k, e in EXTENSIONS.items()},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_certificates_cryptography_makes_are_read_alike(case: str) -> None:
    assert_read(CASES[case]())


def test_the_facts_are_the_ones_the_messages_show() -> None:
    made = make("CA", subject=SUBJECTS["escapes"], ca=True)
    assert made.facts().subject == made.cert.subject.rfc4514_string()
    assert make("", subject=SUBJECTS["empty"]).facts().subject == "(empty subject)"
    facts = make("s", sans=["*.a.test.org", "10.0.0.5", "::1"]).facts()
    assert facts.san_dns == ("*.a.test.org",) and [str(i) for i in facts.san_ips] == ["10.0.0.5", "::1"]
    facts = make("CA", ca=True, permitted=["10.0.0.0/8", "test.org"], excluded=["::/0"]).facts()
    assert (facts.permitted_dns, facts.excluded_dns) == (("test.org",), ())
    assert facts.permitted_ips == (ipaddress.ip_network("10.0.0.0/8"),)
    assert facts.excluded_ips == (ipaddress.ip_network("::/0"),)
    long = CASES["generalized-time"]().facts()
    assert long.not_after == dt.datetime(2051, 3, 4, 5, 6, 7, tzinfo=UTC) and long.not_after.tzinfo
    assert CASES["subject-types"]().facts().subject.startswith("2.5.4.65=tél,")


NAMES = st.sampled_from(["gitlab.test.org", "*.apps.test.org", "A.Test.Org", "x", "a-b.c",
                         "10.1.2.3", "::1", "fe80::1", "2001:db8::1"])
SUBTREES = st.sampled_from(["test.org", ".test.org", "Example.COM", "10.0.0.0/8",
                            "192.168.1.0/24", "2001:db8::/48", "0.0.0.0/0"])
DATES = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(9999, 1, 1),
                     timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None)
@given(ca=st.booleans(), sans=st.lists(NAMES, max_size=4), permitted=st.lists(SUBTREES, max_size=3),
       excluded=st.lists(SUBTREES, max_size=3), dates=st.lists(DATES, min_size=2, max_size=2),
       key=st.sampled_from(["ec", "ec384", "ed25519"]), cn=TEXT, org=st.one_of(st.none(), TEXT),
       extensions=st.lists(st.sampled_from(sorted(EXTENSIONS)), unique_by=lambda e: EXTENSIONS[e][0].oid,
                                  max_size=3))
def test_any_certificate_cryptography_makes_is_read_alike(
    ca: bool, sans: list[str], permitted: list[str], excluded: list[str], dates: list[dt.datetime],
    key: str, cn: str, org: str | None, extensions: list[str],
) -> None:
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    subject.append(x509.NameAttribute(NameOID.COMMON_NAME, cn[:64], _validate=False))
    made = make(cn, ca=ca, sans=sans, permitted=permitted, excluded=excluded, key=key,
                subject=x509.Name(subject), not_before=min(dates), not_after=max(dates),
                extensions=[EXTENSIONS[e] for e in extensions])
    assert_read(made)


def test_bundles_are_read_block_by_block() -> None:
    made = [make("CA", ca=True), make("gitlab", sans=["gitlab.test.org"]), make("Ed", key="ed25519")]
    pem = b"# site bundle \xc3\xa9 \xe9\n" + made[0].pem() + b"\nIssuer: a - b\n" + made[1].pem()
    pem += made[2].pem().replace(b"\n", b"\r\n") + b"trailer"
    assert read_pem(pem) == [m.facts() for m in made]
    assert read_pem(pem) == [certs._from_x509(c) for c in x509.load_pem_x509_certificates(pem)]
    body = base64.b64encode(made[0].der())
    for lines in ([body], [body[i:i + 76] for i in range(0, len(body), 76)]):  # any line length
        assert read_pem(b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines)
                        + b"\n-----END CERTIFICATE-----\n") == [made[0].facts()]


# --- hand-made DER: what cryptography loads may be read, and then must agree ----------------

SAN, NC, BC = "2.5.29.17", "2.5.29.30", "2.5.29.19"
CA = d.extension(BC, d.seq(d.boolean(True)), True)


def subtree(tag: int, value: bytes) -> bytes:
    return d.seq(d.tlv(tag, value))


READ = {  # hand-made, but plain enough: the reader takes them
    "generalized-before-1950": d.certificate(not_before=d.generalized("19400101000000Z")),
    "generalized-year-1": d.certificate(not_before=d.generalized("00010101000000Z")),
    "generalized-in-utc-range": d.certificate(not_after=d.generalized("20300615120000Z")),
    "utc-1950-and-2049": d.certificate(not_before=d.utc("500101000000Z"), not_after=d.utc("491231235959Z")),
    "version-1": d.certificate(version=None),
    "version-1-with-extensions": d.certificate(version=None, extensions=[CA]),
    "negative-serial": d.certificate(serial=d.integer(-5)),
    "long-serial": d.certificate(serial=d.tlv(0x02, b"\x01" * 40)),
    "rsa-no-null": d.certificate(algorithm=d.seq(d.oid("1.2.840.113549.1.1.11")),
                                 outer_algorithm=d.seq(d.oid("1.2.840.113549.1.1.11"))),
    "algorithms-differ": d.certificate(outer_algorithm=d.seq(d.oid("1.2.840.10045.4.3.3"))),
    "empty-names": d.certificate(issuer=d.seq(), subject=d.seq()),
    "string-types": d.certificate(subject=d.name(
        ("2.5.4.3", d.tlv(0x14, "té".encode())), ("2.5.4.10", d.tlv(0x1A, b"vis")),
        ("2.5.4.11", d.tlv(0x12, b"12 3")), ("1.2.3.4", d.utf8("x\0y")), ("2.5.4.7", d.utf8("")))),
    "unknown-critical-extension": d.certificate(extensions=[CA, d.extension("1.2.3.4", b"\xff", True)]),
    "pathlen": d.certificate(extensions=[d.extension(BC, d.seq(d.boolean(True), d.integer(3)), True)]),
    "ip-subtree-v6": d.certificate(extensions=[CA, d.extension(NC, d.seq(d.tlv(0xA1, subtree(
        0x87, bytes(16) + b"\xff" * 4 + bytes(12)))))]),
    "san-email-uri": d.certificate(extensions=[d.extension(SAN, d.seq(
        d.tlv(0x81, b"a@test.org"), d.tlv(0x86, b"https://x"), d.tlv(0x82, b"x.test.org")))]),
}
DECLINED = {  # cryptography refuses them, or they are odd enough to leave to it
    "explicit-version-1": d.certificate(version=d.integer(0)),
    "version-2": d.certificate(version=d.integer(1)),
    "non-minimal-serial": d.certificate(serial=d.tlv(0x02, b"\x00\x05")),
    "critical-false": d.certificate(extensions=[d.extension(BC, d.seq(d.boolean(True)), False)]),
    "ca-false-encoded": d.certificate(extensions=[d.extension(BC, d.seq(d.boolean(False)), True)]),
    "pathlen-without-ca": d.certificate(extensions=[d.extension(BC, d.seq(d.integer(1)))]),
    "duplicate-extension": d.certificate(extensions=[CA, CA]),
    "empty-extensions": d.certificate(extensions=[]),
    "empty-san": d.certificate(extensions=[d.extension(SAN, d.seq())]),
    "san-network": d.certificate(extensions=[d.extension(SAN, d.seq(d.tlv(0x87, bytes(8))))]),
    "san-directory-name": d.certificate(extensions=[d.extension(SAN, d.seq(d.tlv(0xA4, d.CN)))]),
    "san-non-ascii": d.certificate(extensions=[d.extension(SAN, d.seq(d.tlv(0x82, "é.org".encode())))]),
    "nc-wildcard": d.certificate(extensions=[CA, d.extension(NC, d.seq(d.tlv(0xA0, subtree(0x82, b"*.org"))))]),
    "nc-host-bits": d.certificate(extensions=[CA, d.extension(NC, d.seq(d.tlv(0xA0, subtree(
        0x87, b"\x0a\x00\x00\x01\xff\x00\x00\x00"))))]),
    "nc-holey-mask": d.certificate(extensions=[CA, d.extension(NC, d.seq(d.tlv(0xA0, subtree(
        0x87, b"\x0a\x00\x00\x00\xff\x00\xff\x00"))))]),
    "nc-empty": d.certificate(extensions=[CA, d.extension(NC, d.seq())]),
    "key-usage-encipher-only": d.certificate(extensions=[d.extension("2.5.29.15", d.tlv(0x03, b"\x00\x01"))]),
    "crl-distribution-points": d.certificate(extensions=[d.extension("2.5.29.31", d.seq())]),
    "multi-valued-rdn": d.certificate(subject=d.seq(d.tlv(0x31, d.seq(d.oid("2.5.4.3"), d.utf8("b"))
                                                          + d.seq(d.oid("2.5.4.10"), d.utf8("a"))))),
    "t61-latin-1": d.certificate(subject=d.name(("2.5.4.3", d.tlv(0x14, b"\xe9")))),
    "printable-star": d.certificate(subject=d.name(("2.5.4.3", d.tlv(0x13, b"a*")))),
    "bmp-surrogates": d.certificate(subject=d.name(("2.5.4.3", d.tlv(0x1E, b"\xd8\x00\xdc\x00")))),
    "octet-string-value": d.certificate(subject=d.name(("2.5.4.3", d.tlv(0x04, b"abc")))),
    "oid-64-bytes": d.certificate(subject=d.seq(d.tlv(0x31, d.seq(d.tlv(0x06, b"\x2a" + b"\x01" * 63),
                                                                  d.utf8("b"))))),
    "ecdsa-null": d.certificate(algorithm=d.seq(d.oid("1.2.840.10045.4.3.2"), d.tlv(0x05, b""))),
    "pss": d.certificate(algorithm=d.seq(d.oid("1.2.840.113549.1.1.10"), d.seq())),
    "unique-id": d.certificate(extra=d.tlv(0x81, b"\x00\x01")),
    "generalized-fraction": d.certificate(not_after=d.generalized("20300101000000.5Z")),
    "utc-offset": d.certificate(not_after=d.utc("300101000000+0100")),
    "year-0": d.certificate(not_after=d.generalized("00000101000000Z")),
    "leap-second": d.certificate(not_after=d.utc("301231235960Z")),
    "trailing-byte": d.certificate() + b"\x00",
    "truncated": d.certificate()[:-1],
    "signature-padding": d.certificate(signature=d.tlv(0x03, b"\x01\x01")),
}


@pytest.mark.parametrize("case", sorted(READ))
def test_hand_made_certificates_read(case: str) -> None:
    assert agrees(READ[case])


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_odd_or_broken_der_is_left_to_cryptography(case: str) -> None:
    with pytest.raises(Unsupported):
        read_der(DECLINED[case])


BASE = make("Site CA, Test", ca=True, sans=["gitlab.test.org", "10.0.0.5"], permitted=["test.org", "10.0.0.0/8"],
            extensions=[EXTENSIONS["key-usage"], EXTENSIONS["ski"], EXTENSIONS["eku"]]).der()


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_der_is_declined_or_read_alike(data: st.DataObject) -> None:
    der = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        if not der:
            break
        at = data.draw(st.integers(0, len(der) - 1))
        how = data.draw(st.sampled_from(["set", "flip", "insert", "delete", "cut"]))
        if how == "set":
            der[at] = data.draw(st.integers(0, 255))
        elif how == "flip":
            der[at] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "insert":
            der[at:at] = data.draw(st.binary(min_size=1, max_size=3))
        elif how == "delete":
            del der[at]
        else:
            del der[at:]
    try:
        agrees(bytes(der))
    except ValueError as exc:  # cryptography refused what the reader accepted
        raise AssertionError(f"read, but cryptography refuses it: {exc}") from exc


# --- through read_certificate: the same result as the cryptography path --------------------

def outcome(path: Path) -> str:
    try:
        loaded = certs.read_certificate(path, "site-ca", ["gitlab.test.org", "10.0.0.5"], ORIGIN, now=NOW)
    except UserError as exc:
        return f"refused: {exc}"
    return repr(loaded)


def only_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    def decline(raw: bytes) -> list[CertFacts]:
        raise Unsupported("forced")

    monkeypatch.setattr(certs, "read_pem", decline)


GOOD = make("Site CA", ca=True, sans=["gitlab.test.org"])


def pem(der: bytes, label: bytes = b"CERTIFICATE") -> bytes:
    body = base64.b64encode(der)
    lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN %b-----\n%b\n-----END %b-----\n" % (label, lines, label)


FILES = {
    "good": GOOD.pem(),
    "bundle": GOOD.pem() + b"# x\n" + make("gitlab", sans=["gitlab.test.org", "10.0.0.5"]).pem(),
    "crlf": GOOD.pem().replace(b"\n", b"\r\n"),
    "glued": b"x" + GOOD.pem().rstrip(b"\n") + make("b", ca=True).pem().rstrip(b"\n") + b"y",
    "space-after-begin": GOOD.pem().replace(b"-----\n", b"----- \n", 1),
    "expired": make("Old CA", ca=True, valid_days=-2, starts_in_days=-400).pem(),
    "not-covered": make("srv", sans=["other.test.org"]).pem(),
    "no-san": make("srv").pem(),
    "excluded": make("CA", ca=True, excluded=["gitlab.test.org", "10.0.0.0/8"]).pem(),
    "issued": make("gitlab", sans=["gitlab.test.org", "10.0.0.5"], issuer=make("CA", ca=True)).pem(),
    "key": GOOD.key_pem(),
    "with-key": GOOD.pem() + GOOD.key_pem(),
    "der-key": GOOD.key_der(),
    "der": GOOD.der(),
    "csr": b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    "text": b"hello\n",
    "empty": b"",
    "truncated-pem": GOOD.pem()[:-40] + b"\n-----END CERTIFICATE-----\n",
    "truncated-der": pem(GOOD.der()[:-5]),
    "trailing-der": pem(GOOD.der() + b"\x00\x00"),
    "wrong-tag": pem(b"\x31" + GOOD.der()[1:]),
    "garbage-base64": GOOD.pem().replace(b"\n", b"\n!!\n", 1),
    "bad-padding": pem(GOOD.der()).replace(b"=\n", b"\n"),
    "blank-line": GOOD.pem().replace(b"-----\n", b"-----\n\n", 1),
    "headers": GOOD.pem().replace(b"-----\n", b"-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
    "no-end": GOOD.pem().replace(b"-----END CERTIFICATE-----\n", b""),
    "x509-label": pem(GOOD.der(), b"X509 CERTIFICATE"),
    "trusted-label": pem(GOOD.der(), b"TRUSTED CERTIFICATE"),
    "with-crl": GOOD.pem() + pem(b"\x30\x00", b"X509 CRL"),
    "dash-before": b"-" + GOOD.pem(),
    "dash-after": GOOD.pem().rstrip(b"\n") + b"-\n",
    "nul-in-text": GOOD.pem() + b"\x00",
    "declined-der": pem(DECLINED["critical-false"]),
    "undecodable-subject": pem(DECLINED["t61-latin-1"]),
    "ca-undecodable-subject": pem(d.certificate(subject=d.name(("2.5.4.3", d.tlv(0x14, b"\xe9"))),
                                                extensions=[CA])),
    "duplicate-extension": pem(DECLINED["duplicate-extension"]),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_every_file_gets_the_cryptography_path_result(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "ca.crt", FILES[case])

    def result() -> str:
        try:
            return outcome(path)
        except Exception as exc:  # a crash (exit 3) must be the same crash
            return f"crashed: {type(exc).__name__}: {exc}"

    fast = result()
    only_cryptography(monkeypatch)
    assert fast == result()


def test_malformed_files_keep_their_messages(tmp_path: Path) -> None:
    def refused(data: bytes) -> str:
        return outcome(write(tmp_path / "ca.crt", data))

    assert refused(FILES["truncated-der"]).startswith(
        "refused: site.yaml:9:5: certificates.site-ca.file: ")
    assert "ca.crt is not a valid PEM certificate: error parsing asn1 value" in refused(FILES["truncated-der"])
    assert "is not a valid PEM certificate" in refused(FILES["no-end"])
    assert "holds a private key" in refused(FILES["with-key"])
    assert "holds a private key" in refused(FILES["der-key"])
    assert "it is DER: convert it" in refused(FILES["der"])
    assert "certificate signing request" in refused(FILES["csr"])
    assert outcome(write(tmp_path / "ca.crt", FILES["ca-undecodable-subject"])).startswith("Loaded(")


def test_the_fast_path_is_taken_for_plain_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cryptography(*args: object) -> None:
        raise AssertionError("cryptography was asked")

    monkeypatch.setattr(certs, "_load", no_cryptography)
    for case in ("good", "bundle", "crlf", "expired", "not-covered", "issued"):
        outcome(write(tmp_path / f"{case}.crt", FILES[case]))


def test_a_build_with_the_example_ca_imports_no_cryptography(tmp_path: Path) -> None:
    """The example site's CA is read by the DER reader: `build` never loads cryptography."""
    out = str(tmp_path / "out")
    code = ("import sys, stackgen.cli\n"
            f"try:\n    stackgen.cli.main(['build', 'preproc', 'self-signed-certs', '-t', 'swarm', '-o', {out!r}])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=tmp_path).stderr.split()
    assert "stackgen.layers.certs" in loaded and "stackgen.layers.der" in loaded
    assert not [m for m in loaded if m == "cryptography" or m.startswith("cryptography.")]
    assert (tmp_path / "out").is_dir()
