"""Reading the site's CA certificates and checking them before anything is told to trust them.

A certificate file must be PEM (the only form update-ca-certificates, gitlab-runner's
`tls-ca-file` and docker's `certs.d` read), hold no private key, be valid today, and cover
every host the site file declares for it. What "covers" means depends on the certificate:

- a CA certificate (BasicConstraints ca=True) signs server certificates rather than naming
  servers, so it covers any host its NameConstraints permit (every host when it has none);
- any other certificate (a self-signed server certificate used as its own anchor) must name
  the host in its subjectAltName: Go clients such as gitlab-runner and dockerd ignore the
  subject CN since Go 1.15.

Expiry within `EXPIRY_WARNING_DAYS` is a warning (a `Finding`), not an error.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackgen.errors import Finding, Origin, Problem, UserError
from stackgen.model import Certificate
from stackgen.resources import display_path

if TYPE_CHECKING:
    from cryptography import x509

PEM_CERT = "-----BEGIN CERTIFICATE-----"
EXPIRY_WARNING_DAYS = 30

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CERT_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Loaded:
    """A certificate accepted for the model, with the warnings found on the way."""

    certificate: Certificate
    findings: tuple[Finding, ...] = ()


def read_certificate(
    path: Path,
    name: str,
    hosts: Sequence[str],
    origin: Origin,
    host_origins: Sequence[Origin] = (),
    now: dt.datetime | None = None,
) -> Loaded:
    """Load and check a PEM certificate (or bundle) declared in the site file.

    Raises UserError listing every problem; `host_origins[i]` is where `hosts[i]` was written.
    """
    import warnings

    with warnings.catch_warnings():
        # cryptography's deprecation notices (a negative serial, ...) are not the user's
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _read_certificate(path, name, hosts, origin, host_origins, now)


def _read_certificate(
    path: Path,
    name: str,
    hosts: Sequence[str],
    origin: Origin,
    host_origins: Sequence[Origin],
    now: dt.datetime | None,
) -> Loaded:
    key = f"certificates.{name}.file"
    certs = _parse(path, name, origin, key)
    now = now or dt.datetime.now(dt.UTC)
    problems: list[Problem] = []
    findings: list[Finding] = []
    for cert in certs:
        _check_dates(cert, path, now, origin, key, problems, findings)
        findings.extend(_anchor_findings(cert, path, origin, key))
    for i, host in enumerate(hosts):
        where = host_origins[i] if i < len(host_origins) else origin
        problem = _coverage_problem(certs, host, path)
        if problem:
            problems.append(
                Problem(
                    problem,
                    where,
                    f"certificates.{name}.hosts[{i}]",
                    "list only hosts whose server certificates this CA issued, or give the "
                    "CA certificate that issued the server's certificate",
                )
            )
    if problems:
        raise UserError(problems)
    from cryptography.hazmat.primitives.serialization import Encoding

    # re-serialised: one canonical PEM block per certificate, no comments or stray text
    pem = "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)
    not_after = min(c.not_valid_after_utc for c in certs).date().isoformat()
    return Loaded(Certificate(name, pem, tuple(hosts), not_after), tuple(findings))


def _parse(path: Path, name: str, origin: Origin, key: str) -> list[x509.Certificate]:
    from cryptography import x509

    def fail(message: str, hint: str | None = None) -> UserError:
        return UserError(Problem(message, origin, key, hint))

    from stackgen.layers.located import read_input

    try:
        # a FIFO or /dev/zero is refused before reading; a CA bundle is far below 1 MiB
        raw = read_input(path, limit=CERT_MAX_BYTES)
    except FileNotFoundError:
        raise fail(f"certificate file not found: {display_path(path)}") from None
    except OSError as exc:
        raise fail(f"cannot read certificate {display_path(path)}: {exc.strerror}") from None
    except ValueError as exc:
        raise fail(f"cannot read certificate {display_path(path)}: {exc}") from None
    if b"PRIVATE KEY-----" in raw or _is_der_key(raw):
        raise fail(
            f"{display_path(path)} holds a private key, not a certificate",
            "give the CA certificate (BEGIN CERTIFICATE); private keys never belong in a site "
            "file, an image or a job",
        )
    if PEM_CERT.encode() not in raw:
        raise fail(f"{display_path(path)} is not a PEM certificate", _not_pem_hint(raw, path, name))
    try:
        return x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise fail(f"{display_path(path)} is not a valid PEM certificate: {exc}") from None


def _is_der_key(raw: bytes) -> bool:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        load_der_private_key(raw, password=None)
    except TypeError:
        return True  # "private key is encrypted": a key all the same
    except Exception:  # ValueError (not a key) or an algorithm this build cannot load
        return False
    return True


def _not_pem_hint(raw: bytes, path: Path, name: str) -> str | None:
    from cryptography import x509

    if b"-----BEGIN CERTIFICATE REQUEST-----" in raw:
        return "this is a certificate signing request; give the issued certificate"
    try:
        x509.load_der_x509_certificate(raw)
    except ValueError:
        return None
    return f"it is DER: convert it with openssl x509 -inform der -in {path.name} -out {name}.crt"


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _check_dates(
    cert: x509.Certificate,
    path: Path,
    now: dt.datetime,
    origin: Origin,
    key: str,
    problems: list[Problem],
    findings: list[Finding],
) -> None:
    end = cert.not_valid_after_utc
    if end < now:
        problems.append(
            Problem(
                f"{display_path(path)}: certificate {_subject(cert)!r} expired on {end.date().isoformat()}",
                origin,
                key,
                "renew it, or drop it from the site file",
            )
        )
    elif end - now < dt.timedelta(days=EXPIRY_WARNING_DAYS):
        findings.append(
            Finding(
                f"{display_path(path)}: certificate {_subject(cert)!r} expires on {end.date().isoformat()} "
                f"(in {(end - now).days} days): renew it and rebuild",
                origin,
                key,
            )
        )
    if cert.not_valid_before_utc > now:
        findings.append(
            Finding(
                f"{display_path(path)}: certificate {_subject(cert)!r} is not valid before "
                f"{cert.not_valid_before_utc.isoformat()}: TLS clients reject it until then",
                origin,
                key,
            )
        )


def is_ca(cert: x509.Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _anchor_findings(cert: x509.Certificate, path: Path, origin: Origin, key: str) -> list[Finding]:
    # Go (gitlab-runner, dockerd) accepts any certificate in its root pool as an anchor, but
    # OpenSSL (git and curl in jobs) only anchors on self-issued ones without partial chains.
    if is_ca(cert) or cert.issuer == cert.subject:
        return []
    return [
        Finding(
            f"{display_path(path)}: {_subject(cert)!r} is a server certificate issued by "
            f"{cert.issuer.rfc4514_string()!r}, not a CA: git and curl in jobs will not trust "
            "it alone; give the issuing CA certificate instead",
            origin,
            key,
        )
    ]


def _coverage_problem(certs: Sequence[x509.Certificate], host: str, path: Path) -> str | None:
    """None when some certificate in the file covers `host`, else why none does."""
    name = _hostname(host)
    reasons = []
    for cert in certs:
        reason = _why_not(cert, name)
        if reason is None:
            return None
        reasons.append(reason)
    return f"{display_path(path)} does not cover {host}: " + "; ".join(reasons)


def covers(cert: x509.Certificate, host: str) -> bool:
    """Whether `cert`, trusted as an anchor, vouches for TLS to `host` (see module doc)."""
    return _why_not(cert, _hostname(host)) is None


def _why_not(cert: x509.Certificate, host: str) -> str | None:
    if is_ca(cert):
        return _name_constraints_reason(cert, host)
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (
            f"{_subject(cert)!r} is a server certificate without subjectAltName "
            "(Go clients ignore the CN)"
        )
    ip = _ip(host)
    if ip is not None:
        if ip in san.get_values_for_type(x509.IPAddress):
            return None
    elif any(_dns_match(pattern, host) for pattern in san.get_values_for_type(x509.DNSName)):
        return None
    names = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    names += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    return f"server certificate {_subject(cert)!r} names only {', '.join(names) or 'no hosts'}"


def _name_constraints_reason(cert: x509.Certificate, host: str) -> str | None:
    from cryptography import x509

    try:
        nc = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None  # an unconstrained CA may sign for any host
    ip = _ip(host)
    kind: type[x509.GeneralName] = x509.IPAddress if ip is not None else x509.DNSName

    def matches(subtree: x509.GeneralName) -> bool:
        if ip is not None and isinstance(subtree, x509.IPAddress):
            network = subtree.value
            return isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network)) and (
                ip in network
            )
        if ip is None and isinstance(subtree, x509.DNSName):
            base = subtree.value.lstrip(".").lower()
            return host == base or host.endswith("." + base)
        return False

    excluded = nc.excluded_subtrees or []
    if any(matches(s) for s in excluded):
        return f"CA {_subject(cert)!r} excludes {host} in its name constraints"
    permitted = [s for s in nc.permitted_subtrees or [] if isinstance(s, kind)]
    # RFC 5280 4.2.1.10: a name type without permitted subtrees is unconstrained
    if permitted and not any(matches(s) for s in permitted):
        return f"CA {_subject(cert)!r} name constraints do not permit {host}"
    return None


def _hostname(host: str) -> str:
    """`harbor.example.org:5050` -> `harbor.example.org`; IPv6 literals stay whole."""
    text = host.strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1 and text.rsplit(":", 1)[1].isdigit():
        return text.rsplit(":", 1)[0]
    return text


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _dns_match(pattern: str, host: str) -> bool:
    # RFC 6125 6.4.3: a wildcard stands for exactly one left-most label
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host
