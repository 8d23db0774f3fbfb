"""Turn an archive of daily paper digests into feeds, email newsletters and a web archive."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsletter")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
