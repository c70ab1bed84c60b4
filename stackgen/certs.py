"""Reading CA certificates from the site file and checking them before anyone trusts them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from .errors import Origin, Problem, UserError
from .model import Certificate

PEM_CERT = "-----BEGIN CERTIFICATE-----"


def read_certificate(path: Path, name: str, hosts: Sequence[str], origin: Origin) -> Certificate:
    """Load a PEM certificate (or bundle) declared in the site file, or raise UserError."""
    from cryptography import x509

    def fail(message: str, hint: str | None = None) -> UserError:
        return UserError(Problem(message, origin, f"certificates.{name}.file", hint))

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail(f"certificate file not found: {path}") from None
    except OSError as exc:
        raise fail(f"cannot read certificate {path}: {exc}") from None
    if b"PRIVATE KEY-----" in raw:
        raise fail(
            f"{path} holds a private key, not a certificate",
            "give the CA certificate (BEGIN CERTIFICATE); never put private keys in a site file",
        )
    if PEM_CERT.encode() not in raw:
        hint = None
        try:
            x509.load_der_x509_certificate(raw)
            hint = f"it looks like DER: convert it with openssl x509 -inform der -in {path.name} -out {name}.crt"
        except ValueError:
            pass
        raise fail(f"{path} is not a PEM certificate", hint)
    try:
        certs = x509.load_pem_x509_certificates(raw)
        text = raw.decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(f"{path} is not a valid PEM certificate: {exc}") from None
    now = dt.datetime.now(dt.timezone.utc)
    for cert in certs:
        if cert.not_valid_after_utc < now:
            raise fail(
                f"{path}: certificate {cert.subject.rfc4514_string()!r} expired on "
                f"{cert.not_valid_after_utc.date().isoformat()}"
            )
    pem = "".join(
        block.strip() + "\n" for block in _pem_blocks(text)
    )
    not_after = min(c.not_valid_after_utc for c in certs).date().isoformat()
    return Certificate(name=name, pem=pem, hosts=tuple(hosts), not_after=not_after)


def _pem_blocks(text: str) -> list[str]:
    """Only the certificate blocks, without comments or stray text around them."""
    blocks, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if line == PEM_CERT:
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "-----END CERTIFICATE-----":
                blocks.append("\n".join(current))
                current = None
    return blocks
