"""The installed processmining version, without importing pandas (``processmining version`` prints it instantly)."""

from __future__ import annotations

from importlib import metadata


def tool_version() -> str:
    """The package version (``0+unknown`` when running from a source tree that was never installed)."""
    try:
        return metadata.version("processmining")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"
