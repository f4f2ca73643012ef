"""Shipped configuration files: the default config, examples and mood taxonomies."""

from __future__ import annotations

from pathlib import Path


def resource(name: str) -> Path:
    """Return the path of a file shipped in this package (e.g. ``taxonomies/cowen13.yaml``)."""
    return Path(__file__).parent / name
