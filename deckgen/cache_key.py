"""Cache keys: a hash of everything that shapes an entry, the builder and its renderers first.

An upgrade of Markdown, Pygments, nh3, PyYAML or jsonschema within the allowed ranges can
change what a field renders to (a sanitiser fix must reach every field), so their versions
are part of every key: after an upgrade a warm build equals a cold one.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib import metadata

from deckgen._version import __version__

RENDERERS = ("markdown", "pygments", "nh3", "pyyaml", "jsonschema")


@lru_cache(maxsize=1)
def environment() -> str:
    """The builder's version, Python's, and each renderer's, as one line."""
    parts = [f"deckgen={__version__}", f"python={sys.version_info.major}.{sys.version_info.minor}"]
    for name in RENDERERS:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=?")
    return " ".join(parts)


def key(*parts: bytes | str) -> str:
    h = hashlib.sha256(environment().encode())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()
