"""article-ingester: normalizes, fingerprints and de-duplicates streamed news articles."""

__version__ = "0.1.0"
