"""Throwaway certificates made at test time with cryptography (never committed, never keys)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Made:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

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
) -> Made:
    """A certificate: self-signed unless `issuer` is given; `sans` may hold IP literals."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = NOW + dt.timedelta(days=starts_in_days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(NOW + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        names: list[x509.GeneralName] = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if permitted:
        subtrees: list[x509.GeneralName] = [x509.DNSName(p) for p in permitted]
        builder = builder.add_extension(
            x509.NameConstraints(permitted_subtrees=subtrees, excluded_subtrees=None),
            critical=True,
        )
    signer = issuer.key if issuer else key
    return Made(builder.sign(signer, hashes.SHA256()), key)


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
