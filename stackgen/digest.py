"""SHA-256 in hex, the one digest stackgen writes (manifests, swarm config names).

`hashlib` links OpenSSL when it is imported: about 3 ms of every start, for a digest
CPython also builds in. The built-in module is taken where it is there; the result is the
same either way (tests/test_digest.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256 as _sha256
else:
    try:
        from _sha256 import sha256 as _sha256  # CPython 3.11
    except ImportError:  # pragma: no cover - other Pythons
        try:
            from _sha2 import sha256 as _sha256  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256 as _sha256


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hexdigest()
