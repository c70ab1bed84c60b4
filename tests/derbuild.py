"""A tiny DER writer for certificates cryptography's builder will not make: odd encodings,
odd dates, malformed parts. The signature is a placeholder: loading never checks it."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for value in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | value & 0x7F)
            value >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def boolean(value: bool) -> bytes:
    return tlv(0x01, b"\xff" if value else b"\x00")


def utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode())


def name(*attributes: tuple[str, bytes]) -> bytes:
    """A Name of single-attribute RDNs: (type OID, encoded value)."""
    return seq(*[tlv(0x31, seq(oid(kind), value)) for kind, value in attributes])


def utc(text: str) -> bytes:
    return tlv(0x17, text.encode())


def generalized(text: str) -> bytes:
    return tlv(0x18, text.encode())


def extension(kind: str, value: bytes, critical: bool | None = None) -> bytes:
    flag = b"" if critical is None else boolean(critical)
    return seq(oid(kind), flag, tlv(0x04, value))


ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))
SPKI = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
CN = name(("2.5.4.3", utf8("hand made")))
SIGNATURE = tlv(0x03, b"\x00" + seq(integer(1), integer(1)))


def certificate(
    *,
    version: bytes | None = integer(2),
    serial: bytes = integer(0x5EED),
    algorithm: bytes = ECDSA_SHA256,
    issuer: bytes = CN,
    not_before: bytes = utc("250101000000Z"),
    not_after: bytes = utc("450101000000Z"),
    subject: bytes = CN,
    spki: bytes = SPKI,
    extra: bytes = b"",
    extensions: list[bytes] | None = None,
    outer_algorithm: bytes = ECDSA_SHA256,
    signature: bytes = SIGNATURE,
) -> bytes:
    """A DER certificate; `extra` goes after the key (unique IDs), `extensions` in [3]."""
    parts = [tlv(0xA0, version)] if version is not None else []
    parts += [serial, algorithm, issuer, seq(not_before, not_after), subject, spki, extra]
    if extensions is not None:
        parts.append(tlv(0xA3, seq(*extensions)))
    return seq(seq(*parts), outer_algorithm, signature)
