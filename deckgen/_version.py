"""The builder's version, in one place: setup.cfg, the CLI, manifests and cache keys read it here."""

__version__ = "0.2.0"
