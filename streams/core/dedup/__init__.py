"""Fingerprints and duplicate decisions: exact content hash, MinHash signatures, LSH banding."""
