"""Throwaway certificates made at test time with cryptography (never committed, never keys)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from stackgen.layers.der import CertFacts, read_der

NOW = dt.datetime.now(dt.UTC)


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
_RSA: list[rsa.RSAPrivateKey] = []  # one RSA key for the session: generating one is slow


def new_key(kind: str = "ec") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if not _RSA:
        _RSA.append(rsa.generate_private_key(65537, 2048))
    return _RSA[0]


@dataclass
class Made:
    cert: x509.Certificate
    key: PrivateKey

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def facts(self) -> CertFacts:
        """What the DER reader makes of it (stackgen's view without cryptography)."""
        return read_der(self.der())

    def key_der(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make(
    cn: str,
    *,
    ca: bool = False,
    sans: Sequence[str] = (),
    valid_days: float = 365,
    starts_in_days: float = -1,
    issuer: Made | None = None,
    permitted: Sequence[str] = (),
    excluded: Sequence[str] = (),
    subject: x509.Name | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: str = "ec",
    hash_name: str = "sha256",
    basic_constraints: bool = True,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Made:
    """A certificate: self-signed unless `issuer` is given; `sans` may hold IP literals and
    `permitted`/`excluded` (NameConstraints) IP networks. `subject` replaces CN=`cn`, and
    `not_before`/`not_after` the dates relative to now; `extensions` are (value, critical)."""
    private = new_key(key)
    name = subject if subject is not None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW + dt.timedelta(days=starts_in_days))
        .not_valid_after(not_after or NOW + dt.timedelta(days=valid_days))
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(_names(sans)), critical=False)
    if permitted or excluded:
        builder = builder.add_extension(
            x509.NameConstraints(permitted_subtrees=_names(permitted) or None,
                                 excluded_subtrees=_names(excluded) or None),
            critical=True,
        )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    signer = issuer.key if issuer else private
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None
    if not isinstance(signer, ed25519.Ed25519PrivateKey):
        algorithm = (hashes.SHA384() if hash_name == "sha384" else hashes.SHA512()
                     if hash_name == "sha512" else hashes.SHA256())
    return Made(builder.sign(signer, algorithm), private)


def _names(values: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for value in values:
        try:
            address = ipaddress.ip_network(value) if "/" in value else ipaddress.ip_address(value)
            names.append(x509.IPAddress(address))
        except ValueError:
            names.append(x509.DNSName(value))
    return names


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


SITE = """\
name: certsite
gitlab: {{url: "https://gitlab.test.org"}}
registry: harbor.test.org
nodes:
  data: {{hostname: data01.test.org}}
default_node: data
certificates:
  site-ca:
    file: {file}
    hosts: [{hosts}]
images:
  runner: {runner}
  runner-ca: harbor.test.org/ops/gitlab-runner-ca:v18.5.0
manager:
  concurrent: 2
"""


def site_file(
    root: Path,
    cert_file: str = "certs/ca.crt",
    hosts: Sequence[str] = ("gitlab.test.org", "harbor.test.org"),
    runner: str = "gitlab/gitlab-runner:v18.5.0",
) -> Path:
    path = root / "site.yaml"
    path.write_text(SITE.format(file=cert_file, hosts=", ".join(hosts), runner=runner))
    return path
