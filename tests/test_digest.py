"""stackgen.digest gives hashlib's SHA-256, without loading OpenSSL."""

from __future__ import annotations

import hashlib
import os

from stackgen.digest import sha256_hex


def test_the_same_digest_as_hashlib() -> None:
    for data in (b"", b"abc", os.urandom(1), os.urandom(4096), os.urandom(1 << 20)):
        assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
