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

The checks read `CertFacts`. A file of plain PEM certificates (nearly every one) is read by
stackgen.layers.der: importing cryptography.x509 would cost more than the rest of a build.
Anything else goes to cryptography, lazily imported, which reads it or words the error, so
odd or broken files give the results and messages they always did.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackgen.errors import Finding, Origin, Problem, UserError
from stackgen.layers.der import CertFacts, IPAddress, IPNetwork, Unsupported, read_pem
from stackgen.model import Certificate
from stackgen.records import dataclass
from stackgen.resources import display_path

if TYPE_CHECKING:
    from cryptography import x509

PEM_CERT = "-----BEGIN CERTIFICATE-----"
EXPIRY_WARNING_DAYS = 30

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
    # re-serialised: one canonical PEM block per certificate, no comments or stray text
    pem = "".join(_pem_block(c.der) for c in certs)
    not_after = min(c.not_after for c in certs).date().isoformat()
    return Loaded(Certificate(name, pem, tuple(hosts), not_after), tuple(findings))


def _pem_block(der: bytes) -> str:
    """`der` as cryptography's public_bytes(Encoding.PEM) writes it: 64-character lines."""
    text = base64.b64encode(der).decode("ascii")
    lines = "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}-----END CERTIFICATE-----\n"


def _parse(path: Path, name: str, origin: Origin, key: str) -> list[CertFacts]:
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
    if b"PRIVATE KEY-----" not in raw:  # a PEM key is refused by _load, as always
        try:
            return read_pem(raw)  # plain PEM certificates: no need to import cryptography
        except Unsupported:
            pass  # odd or broken: cryptography reads it or words the error, as it always did
    return [_from_x509(cert) for cert in _load(raw, path, name, fail)]


def _load(
    raw: bytes, path: Path, name: str, fail: Callable[..., UserError]
) -> list[x509.Certificate]:
    """The certificates as cryptography loads them, or the error it always gave."""
    from cryptography import x509

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


class _Undecodable(CertFacts):
    """A certificate whose issuer or subject cryptography loads but cannot decode (say a
    non-UTF-8 T61String): the error surfaces where the checks first read that name, as it
    did when they read x509.Certificate, so a CA nobody needs to name still passes.
    (Not a dataclass of its own: that would cost every start-up for a rare case.)"""

    issuer_error: Exception | None = None
    subject_error: Exception | None = None


def _from_x509(cert: x509.Certificate) -> CertFacts:
    """The facts the checks read, as they read them from x509.Certificate before."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    not_after, not_before = cert.not_valid_after_utc, cert.not_valid_before_utc
    extensions = cert.extensions  # raises as before on a malformed or duplicate extension

    def value(kind: type[x509.ExtensionType]) -> Any:
        try:
            return extensions.get_extension_for_class(kind).value
        except x509.ExtensionNotFound:
            return None

    basic, san, nc = (value(x509.BasicConstraints), value(x509.SubjectAlternativeName),
                      value(x509.NameConstraints))

    def subtrees(names: list[x509.GeneralName] | None) -> tuple[tuple[str, ...], tuple[IPNetwork, ...]]:
        names = names or []
        return (tuple(n.value for n in names if isinstance(n, x509.DNSName)),
                tuple(n.value for n in names if isinstance(n, x509.IPAddress)
                      and isinstance(n.value, ipaddress.IPv4Network | ipaddress.IPv6Network)))

    permitted = subtrees(nc.permitted_subtrees if nc else None)
    excluded = subtrees(nc.excluded_subtrees if nc else None)
    try:
        issuer: x509.Name | Exception = cert.issuer
    except Exception as exc:  # raised again where the checks first read it, as before
        issuer = exc
    try:
        subject: x509.Name | Exception = cert.subject
    except Exception as exc:
        subject = exc
    facts = CertFacts(
        der=cert.public_bytes(Encoding.DER),
        not_before=not_before,
        not_after=not_after,
        subject=subject.rfc4514_string() or "(empty subject)" if isinstance(subject, x509.Name) else "",
        issuer=issuer.rfc4514_string() if isinstance(issuer, x509.Name) else "",
        self_issued=issuer == subject,
        is_ca=bool(basic and basic.ca),
        has_san=san is not None,
        san_dns=tuple(san.get_values_for_type(x509.DNSName)) if san else (),
        san_ips=tuple(san.get_values_for_type(x509.IPAddress)) if san else (),
        permitted_dns=permitted[0],
        permitted_ips=permitted[1],
        excluded_dns=excluded[0],
        excluded_ips=excluded[1],
    )
    if isinstance(issuer, Exception) or isinstance(subject, Exception):
        undecodable = _Undecodable(**vars(facts))
        object.__setattr__(undecodable, "issuer_error", issuer if isinstance(issuer, Exception) else None)
        object.__setattr__(undecodable, "subject_error", subject if isinstance(subject, Exception) else None)
        return undecodable
    return facts


def _subject(cert: CertFacts) -> str:
    if isinstance(cert, _Undecodable) and cert.subject_error:
        raise cert.subject_error
    return cert.subject


def _self_issued(cert: CertFacts) -> bool:
    if isinstance(cert, _Undecodable):  # `cert.issuer == cert.subject` read the issuer first
        for error in (cert.issuer_error, cert.subject_error):
            if error:
                raise error
    return cert.self_issued


def _check_dates(
    cert: CertFacts,
    path: Path,
    now: dt.datetime,
    origin: Origin,
    key: str,
    problems: list[Problem],
    findings: list[Finding],
) -> None:
    end = cert.not_after
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
    if cert.not_before > now:
        findings.append(
            Finding(
                f"{display_path(path)}: certificate {_subject(cert)!r} is not valid before "
                f"{cert.not_before.isoformat()}: TLS clients reject it until then",
                origin,
                key,
            )
        )


def is_ca(cert: CertFacts) -> bool:
    return cert.is_ca


def _anchor_findings(cert: CertFacts, path: Path, origin: Origin, key: str) -> list[Finding]:
    # Go (gitlab-runner, dockerd) accepts any certificate in its root pool as an anchor, but
    # OpenSSL (git and curl in jobs) only anchors on self-issued ones without partial chains.
    if cert.is_ca or _self_issued(cert):
        return []
    return [
        Finding(
            f"{display_path(path)}: {_subject(cert)!r} is a server certificate issued by "
            f"{cert.issuer!r}, not a CA: git and curl in jobs will not trust "
            "it alone; give the issuing CA certificate instead",
            origin,
            key,
        )
    ]


def _coverage_problem(certs: Sequence[CertFacts], host: str, path: Path) -> str | None:
    """None when some certificate in the file covers `host`, else why none does."""
    name = _hostname(host)
    reasons = []
    for cert in certs:
        reason = _why_not(cert, name)
        if reason is None:
            return None
        reasons.append(reason)
    return f"{display_path(path)} does not cover {host}: " + "; ".join(reasons)


def covers(cert: CertFacts, host: str) -> bool:
    """Whether `cert`, trusted as an anchor, vouches for TLS to `host` (see module doc)."""
    return _why_not(cert, _hostname(host)) is None


def _why_not(cert: CertFacts, host: str) -> str | None:
    if cert.is_ca:
        return _name_constraints_reason(cert, host)
    if not cert.has_san:
        return (
            f"{_subject(cert)!r} is a server certificate without subjectAltName "
            "(Go clients ignore the CN)"
        )
    ip = _ip(host)
    if ip is not None:
        if ip in cert.san_ips:
            return None
    elif any(_dns_match(pattern, host) for pattern in cert.san_dns):
        return None
    names = [*cert.san_dns, *(str(v) for v in cert.san_ips)]
    return f"server certificate {_subject(cert)!r} names only {', '.join(names) or 'no hosts'}"


def _name_constraints_reason(cert: CertFacts, host: str) -> str | None:
    # no NameConstraints leaves every list empty: an unconstrained CA may sign for any host
    ip = _ip(host)

    def dns_match(base: str) -> bool:
        base = base.lstrip(".").lower()
        return host == base or host.endswith("." + base)

    if ip is not None:
        excluded = any(ip in network for network in cert.excluded_ips)
        permitted = [ip in network for network in cert.permitted_ips]
    else:
        excluded = any(dns_match(base) for base in cert.excluded_dns)
        permitted = [dns_match(base) for base in cert.permitted_dns]
    if excluded:
        return f"CA {_subject(cert)!r} excludes {host} in its name constraints"
    # RFC 5280 4.2.1.10: a name type without permitted subtrees is unconstrained
    if permitted and not any(permitted):
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
