"""Turn an archive of daily paper digests into feeds, email newsletters and a web archive."""

__version__ = "0.1.0"
