"""article-ingester: a streaming ingester that normalizes, fingerprints and de-duplicates news articles."""

__version__ = "0.1.0"
