"""A strict reader of PEM certificates for the facts stackgen checks, without cryptography.

Importing cryptography.x509 costs more than the rest of a short build, and a site's CA file is
nearly always a few well-formed PEM certificates. This reader takes exactly those: canonical
base64 and DER, the algorithms and extensions CA certificates use. On anything else it raises
`Unsupported` (malformed, or merely outside what it knows) and the caller hands the file to
cryptography, which accepts it or words the error. So it must never accept what cryptography
refuses, nor read a fact differently: tests/test_der.py holds it to cryptography's answers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator

from stackgen.records import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Unsupported(ValueError):
    """Not something this reader fully understands: cryptography decides."""


@dataclass(frozen=True)
class CertFacts:
    """What the checks read from one certificate, as cryptography reports it."""

    der: bytes
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime
    subject: str  # RFC 4514, "(empty subject)" when empty: as the messages show it
    issuer: str  # RFC 4514
    self_issued: bool  # issuer == subject, compared as cryptography compares names
    is_ca: bool  # BasicConstraints cA
    has_san: bool
    san_dns: tuple[str, ...] = ()
    san_ips: tuple[IPAddress | IPNetwork, ...] = ()  # cryptography reads 8/32 bytes as a network
    permitted_dns: tuple[str, ...] = ()  # NameConstraints subtrees of the two kinds checked
    permitted_ips: tuple[IPNetwork, ...] = ()
    excluded_dns: tuple[str, ...] = ()
    excluded_ips: tuple[IPNetwork, ...] = ()


# --- PEM -----------------------------------------------------------------------------------

_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END CERTIFICATE-----"
)
# Every DER private key holds INTEGER, OCTET STRING or OID tags (bytes 0x02-0x06), so a file
# without such control bytes is no DER key: the key probe needs cryptography only for files
# this reader declines.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def read_pem(raw: bytes) -> list[CertFacts]:
    """The certificates of a file of PEM CERTIFICATE blocks and free text, in order."""
    if _CONTROL.search(raw):
        raise Unsupported("control bytes")
    certs = []
    pos = 0
    for block in _BLOCK.finditer(raw):
        _free_text(raw[pos : block.start()])
        pos = block.end()
        text = block[1].replace(b"\r", b"").replace(b"\n", b"")
        try:
            der = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise Unsupported("bad base64") from None
        if base64.b64encode(der) != text:  # odd padding or trailing bits cryptography may refuse
            raise Unsupported("non-canonical base64")
        certs.append(read_der(der))
    _free_text(raw[pos:])
    if not certs:
        raise Unsupported("no certificate")
    return certs


def _free_text(text: bytes) -> None:
    # Dashes here could be other PEM sections, headers or a block this reader did not match,
    # and next to a marker they break cryptography's PEM parser: all that is left to it.
    if b"-----" in text or text.startswith(b"-") or text.endswith(b"-"):
        raise Unsupported("other PEM framing")


# --- DER -----------------------------------------------------------------------------------

BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
UTC_TIME, GENERALIZED_TIME, SEQUENCE, SET = 0x17, 0x18, 0x30, 0x31


class _Cursor:
    """The consecutive DER elements in data[pos:end]."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < self.end else None

    def take_any(self) -> tuple[int, _Cursor]:
        data, pos, end = self.data, self.pos, self.end
        if end - pos < 2 or data[pos] & 0x1F == 0x1F:  # truncated, or a multi-byte tag
            raise Unsupported("bad tag")
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:  # long form: 1-3 length bytes, minimal; 0x80 (indefinite) is BER
            size = length & 0x7F
            if not 1 <= size <= 3 or end - pos < size or data[pos] == 0:
                raise Unsupported("bad length")
            length = int.from_bytes(data[pos : pos + size], "big")
            pos += size
            if length < 0x80:
                raise Unsupported("non-minimal length")
        if end - pos < length:
            raise Unsupported("truncated")
        self.pos = pos + length
        return tag, _Cursor(data, pos, pos + length)

    def take(self, tag: int) -> _Cursor:
        got, inner = self.take_any()
        if got != tag:
            raise Unsupported(f"tag {got:#x}, expected {tag:#x}")
        return inner

    def items(self, tag: int) -> Iterator[_Cursor]:
        while self.pos < self.end:
            yield self.take(tag)

    def bytes(self) -> bytes:
        return self.data[self.pos : self.end]

    def done(self) -> None:
        if self.pos != self.end:
            raise Unsupported("trailing data")


def _only(cursor: _Cursor, tag: int) -> _Cursor:  # the contents of its one element
    inner = cursor.take(tag)
    cursor.done()
    return inner


def _oid(cursor: _Cursor) -> str:
    raw = cursor.bytes()
    if not 0 < len(raw) <= 63 or raw[-1] & 0x80:  # cryptography refuses OIDs over 63 bytes
        raise Unsupported("OID")
    values, value, size = [], 0, 0
    for byte in raw:  # base 128, the high bit set on all but an arc's last byte
        if (size == 0 and byte == 0x80) or size == 9:  # not minimal, over 63 bits: its call
            raise Unsupported("OID arc")
        value, size = value << 7 | byte & 0x7F, size + 1
        if byte < 0x80:
            values.append(value)
            value = size = 0
    first = min(values[0] // 40, 2)
    return ".".join(map(str, [first, values[0] - 40 * first, *values[1:]]))


def _true(cursor: _Cursor) -> None:
    # DER BOOLEAN is 0x00 or 0xFF; each one read here defaults to FALSE, which DER omits
    if cursor.bytes() != b"\xff":
        raise Unsupported("BOOLEAN other than an encoded TRUE")


def _integer(cursor: _Cursor, max_bytes: int = 1 << 20, signed: bool = True) -> None:
    raw = cursor.bytes()
    if not 0 < len(raw) <= max_bytes or (not signed and raw[0] >= 0x80):
        raise Unsupported("INTEGER")
    if len(raw) > 1 and (raw[0] == 0 and raw[1] < 0x80 or raw[0] == 0xFF and raw[1] >= 0x80):
        raise Unsupported("non-minimal INTEGER")


def _bits(cursor: _Cursor) -> bytes:
    raw = cursor.bytes()  # unused-bit count, then the bits; the unused ones must be zero
    if not raw or raw[0] > 7 or (raw[0] and (len(raw) == 1 or raw[-1] & ((1 << raw[0]) - 1))):
        raise Unsupported("BIT STRING")
    return raw[1:]


def _ia5(cursor: _Cursor) -> str:
    raw = cursor.bytes()
    if not raw.isascii():  # cryptography takes any UTF-8 here: the odd ones are its own
        raise Unsupported("non-ASCII IA5String")
    return raw.decode("ascii")


_TIME_LENGTHS = {UTC_TIME: 13, GENERALIZED_TIME: 15}  # YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ


def _time(cursor: _Cursor) -> dt.datetime:
    tag, inner = cursor.take_any()
    raw = inner.bytes()
    if len(raw) != _TIME_LENGTHS.get(tag) or not raw[:-1].isdigit() or raw[-1:] != b"Z":
        # fractions of seconds, offsets or omitted seconds: cryptography refuses or decides
        raise Unsupported("time format")
    if tag == UTC_TIME:  # two-digit years: 50-99 are 19xx, 00-49 20xx (RFC 5280 4.1.2.5.1)
        raw = (b"19" if raw[:2] >= b"50" else b"20") + raw
    month, day, hour, minute, second = (int(raw[i : i + 2]) for i in range(4, 14, 2))
    try:
        return dt.datetime(int(raw[:4]), month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:  # no such date, or year 0 (cryptography loads it, then cannot say it)
        raise Unsupported("time value") from None


# --- names ---------------------------------------------------------------------------------

# cryptography's short names for RFC 4514; other types print as dotted OIDs
_SHORT_NAMES = {"2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
                "2.5.4.6": "C", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
                "0.9.2342.19200300.100.1.1": "UID"}
# UTF8String, NumericString, T61String, IA5String, VisibleString: cryptography decodes UTF-8
_UTF8_TAGS = frozenset({0x0C, 0x12, 0x14, 0x16, 0x1A})
_PRINTABLE_TAG, _UNIVERSAL_TAG, _BMP_TAG = 0x13, 0x1C, 0x1E
# PrintableString's alphabet: cryptography refuses other bytes on load
_PRINTABLE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"

Name = tuple[tuple[str, str], ...]  # (type OID, value) per RDN


def _string(tag: int, raw: bytes) -> str:
    try:
        if tag in _UTF8_TAGS:
            return raw.decode("utf-8")
        if tag == _PRINTABLE_TAG and not raw.translate(None, _PRINTABLE):
            return raw.decode("ascii")
        if tag == _BMP_TAG and len(raw) % 2 == 0 and not any(0xD8 <= b <= 0xDF for b in raw[::2]):
            return raw.decode("utf-16-be")  # surrogates (pairs or not) are left to cryptography
        if tag == _UNIVERSAL_TAG and len(raw) % 4 == 0:
            return raw.decode("utf-32-be")  # refuses surrogates and values past U+10FFFF
    except UnicodeDecodeError:
        pass
    raise Unsupported(f"name value of tag {tag:#x}")


def _name(cursor: _Cursor) -> Name:
    rdns = []
    for rdn in cursor.items(SET):
        # one attribute per RDN: multi-valued ones (order, duplicates) are cryptography's
        attribute = _only(rdn, SEQUENCE)
        kind = _oid(attribute.take(OID))
        tag, value = attribute.take_any()
        attribute.done()
        rdns.append((kind, _string(tag, value.bytes())))
    return tuple(rdns)


_ESCAPES = {ord(c): "\\" + c for c in '\\"+,;<>'} | {0: "\\00"}


def _escape(value: str) -> str:
    """cryptography's RFC 4514 value escaping (x509.name._escape_dn_value)."""
    if not value:
        return ""
    value = value.translate(_ESCAPES)
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def rfc4514(name: Name) -> str:
    return ",".join(f"{_SHORT_NAMES.get(k, k)}={_escape(v)}" for k, v in reversed(name))


# --- extensions ----------------------------------------------------------------------------

# Arcs of the extensions cryptography (this or a later release) parses when asked for a
# certificate's extensions: any but the ones read below goes to it. Others it keeps as opaque
# UnrecognizedExtension, critical or not, and so may this reader.
_PARSED_BY_CRYPTOGRAPHY = ("2.5.29.", "1.3.6.1.5.5.7.", "1.3.6.1.4.1.11129.", "1.3.6.1.4.1.311.21.7",
                           "1.3.36.8.")
_DNS, _IP, _OTHER_IA5 = 0x82, 0x87, (0x81, 0x86)  # GeneralName [2], [7]; [1] email, [6] URI


class _Extensions:
    def __init__(self, cursor: _Cursor | None) -> None:
        self.is_ca = self.has_san = False
        self.san_dns: list[str] = []
        self.san_ips: list[IPAddress] = []
        self.subtrees: dict[int, tuple[list[str], list[IPNetwork]]] = {}
        seen = set()
        for extension in cursor.items(SEQUENCE) if cursor else ():
            kind = _oid(extension.take(OID))
            if kind in seen:  # cryptography: DuplicateExtension
                raise Unsupported("duplicate extension")
            seen.add(kind)
            if extension.peek() == BOOLEAN:
                _true(extension.take(BOOLEAN))  # critical
            value = _only(extension, OCTET_STRING)
            if kind == "2.5.29.19":  # basicConstraints
                constraints = _only(value, SEQUENCE)
                if constraints.peek() == BOOLEAN:
                    _true(constraints.take(BOOLEAN))
                    self.is_ca = True
                if constraints.peek() is not None:  # pathLenConstraint
                    if not self.is_ca:  # BasicConstraints() refuses one without cA
                        raise Unsupported("pathLenConstraint without cA")
                    _integer(_only(constraints, INTEGER), max_bytes=8, signed=False)
            elif kind == "2.5.29.17":  # subjectAltName
                self._san(_only(value, SEQUENCE))
            elif kind == "2.5.29.30":  # nameConstraints
                self._name_constraints(_only(value, SEQUENCE))
            elif kind == "2.5.29.15":  # keyUsage; KeyUsage() refuses encipher/decipherOnly alone
                flags = int.from_bytes(_bits(_only(value, BIT_STRING))[:2].ljust(2, b"\0"), "big")
                if flags & 0x0180 and not flags & 0x0800:  # bits 7, 8 without 4 (keyAgreement)
                    raise Unsupported("encipherOnly or decipherOnly without keyAgreement")
            elif kind == "2.5.29.14":  # subjectKeyIdentifier
                _only(value, OCTET_STRING)
            elif kind == "2.5.29.35":  # authorityKeyIdentifier: keyIdentifier alone
                _only(_only(value, SEQUENCE), 0x80)
            elif kind == "2.5.29.37":  # extKeyUsage
                if not [_oid(usage) for usage in _only(value, SEQUENCE).items(OID)]:
                    raise Unsupported("empty extendedKeyUsage")
            elif kind.startswith(_PARSED_BY_CRYPTOGRAPHY):
                raise Unsupported(f"extension {kind}")
        if cursor and not seen:
            raise Unsupported("empty extensions")

    def _san(self, cursor: _Cursor) -> None:
        if cursor.peek() is None:
            raise Unsupported("empty subjectAltName")
        self.has_san = True
        while cursor.peek() is not None:
            raw = _general_name(cursor, self.san_dns)
            if raw is not None:
                if len(raw) not in (4, 16):  # cryptography would list a network
                    raise Unsupported("IP network in subjectAltName")
                self.san_ips.append(ipaddress.ip_address(raw))

    def _name_constraints(self, cursor: _Cursor) -> None:
        for tag in (0xA0, 0xA1):  # permittedSubtrees, excludedSubtrees
            if cursor.peek() == tag:
                self.subtrees[tag] = _subtrees(cursor.take(tag))
        cursor.done()
        if not self.subtrees:  # NameConstraints() wants one of the two
            raise Unsupported("empty nameConstraints")


def _subtrees(cursor: _Cursor) -> tuple[list[str], list[IPNetwork]]:
    dns: list[str] = []
    ips: list[IPNetwork] = []
    if cursor.peek() is None:  # NameConstraints() refuses an empty list
        raise Unsupported("empty subtrees")
    for subtree in cursor.items(SEQUENCE):
        raw = _general_name(subtree, dns)
        subtree.done()  # minimum/maximum: outside RFC 5280's profile, left to cryptography
        if raw is not None:
            ips.append(_network(raw))
    if any("*" in name for name in dns):  # NameConstraints() refuses wildcards
        raise Unsupported("wildcard in nameConstraints")
    return dns, ips


def _general_name(cursor: _Cursor, dns: list[str]) -> bytes | None:
    """Read one GeneralName: a DNS name goes to `dns`, an IP's octets are returned."""
    tag, name = cursor.take_any()
    if tag == _IP:
        return name.bytes()
    if tag not in (_DNS, *_OTHER_IA5):
        raise Unsupported(f"general name {tag:#x}")
    text = _ia5(name)
    if tag == _DNS:
        dns.append(text)
    return None


def _network(raw: bytes) -> IPNetwork:
    # address and mask, as cryptography reads them: it refuses holes in the mask and host bits
    if len(raw) not in (8, 32):
        raise Unsupported("IP subtree length")
    width = len(raw) * 4
    mask = int.from_bytes(raw[len(raw) // 2 :], "big")
    prefix = width - (~mask & ((1 << width) - 1)).bit_length()
    if mask != ((1 << width) - 1) ^ ((1 << (width - prefix)) - 1):
        raise Unsupported("non-contiguous netmask")
    try:
        address = ipaddress.ip_address(raw[: len(raw) // 2])
        return ipaddress.ip_network(f"{address.exploded}/{prefix}")
    except ValueError:
        raise Unsupported("IP subtree with host bits") from None


# --- algorithms and the certificate ----------------------------------------------------------

# the parameters each algorithm takes: "" none, "null" NULL or none, "curve" a named curve
_SIGNATURES = (  # ECDSA, RSA PKCS#1 v1.5, Ed25519, Ed448
    {f"1.2.840.10045.4.3.{n}": "" for n in (1, 2, 3, 4)}
    | {f"1.2.840.113549.1.1.{n}": "null" for n in (5, 11, 12, 13, 14)}
    | {"1.3.101.112": "", "1.3.101.113": ""}
)
_KEYS = {"1.2.840.10045.2.1": "curve", "1.2.840.113549.1.1.1": "null", "1.3.101.112": "",
         "1.3.101.113": ""}


def _algorithm(cursor: _Cursor, known: dict[str, str]) -> None:
    algorithm = cursor.take(SEQUENCE)
    kind = _oid(algorithm.take(OID))
    parameters = known.get(kind)
    if parameters is None:
        raise Unsupported(f"algorithm {kind}")
    if parameters == "curve":
        _oid(algorithm.take(OID))
    elif parameters == "null" and algorithm.peek() is not None and algorithm.take(NULL).bytes():
        raise Unsupported("NULL with contents")
    algorithm.done()


def read_der(der: bytes) -> CertFacts:
    """The facts of one DER certificate; Unsupported for anything not plainly valid."""
    certificate = _only(_Cursor(der, 0, len(der)), SEQUENCE)
    tbs = certificate.take(SEQUENCE)
    _algorithm(certificate, _SIGNATURES)
    _bits(certificate.take(BIT_STRING))
    certificate.done()

    if tbs.peek() == 0xA0:  # [0] version: v3 (2); v1 omits it (DER leaves out the default)
        if _only(tbs.take(0xA0), INTEGER).bytes() != b"\x02":
            raise Unsupported("version")
    _integer(tbs.take(INTEGER))  # serial: any sign or size cryptography loads
    _algorithm(tbs, _SIGNATURES)
    issuer = _name(tbs.take(SEQUENCE))
    validity = tbs.take(SEQUENCE)
    not_before, not_after = _time(validity), _time(validity)
    validity.done()
    subject = _name(tbs.take(SEQUENCE))
    spki = tbs.take(SEQUENCE)
    _algorithm(spki, _KEYS)
    _bits(spki.take(BIT_STRING))
    spki.done()
    ext = _Extensions(_only(tbs.take(0xA3), SEQUENCE) if tbs.peek() == 0xA3 else None)
    tbs.done()  # issuer/subject unique IDs and anything else: cryptography's

    permitted = ext.subtrees.get(0xA0, ([], []))
    excluded = ext.subtrees.get(0xA1, ([], []))
    return CertFacts(
        der, not_before, not_after, subject=rfc4514(subject) or "(empty subject)",
        issuer=rfc4514(issuer), self_issued=issuer == subject, is_ca=ext.is_ca,
        has_san=ext.has_san, san_dns=tuple(ext.san_dns), san_ips=tuple(ext.san_ips),
        permitted_dns=tuple(permitted[0]), permitted_ips=tuple(permitted[1]),
        excluded_dns=tuple(excluded[0]), excluded_ips=tuple(excluded[1]),
    )
