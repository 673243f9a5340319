"""Cache keys: a hash of everything that shapes an entry, the builder's version first."""

from __future__ import annotations

import hashlib

from deckgen import __version__


def key(*parts: bytes | str) -> str:
    h = hashlib.sha256(__version__.encode())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()
