"""How the end-to-end benchmark counts verdicts: one per raw message, corrections left out."""

from __future__ import annotations

import orjson

from bench.e2e import OutRecord, count_verdicts, verdict_origins


def out(value: dict[str, object], topic: str = "articles.duplicates") -> OutRecord:
    return OutRecord(topic, 0, orjson.dumps(value))


def test_a_whole_record_superseding_a_kept_verdict_is_its_messages_verdict() -> None:
    """A resend decided by another worker than its kept copy's can have only a whole
    duplicates record with ``"supersedes": "kept"`` (README, Record contracts): counted as
    its message's verdict; a correction (no ``received_at``) is not a message's verdict."""
    records = [
        out({"origin": {"partition": 0, "offset": 1}, "received_at": "t"}, "articles.enriched"),
        out({"origin": {"partition": 0, "offset": 1}, "supersedes": "kept"}),  # a correction
        out({"origin": {"partition": 1, "offset": 73}, "received_at": "t",
             "supersedes": "kept"}),  # a resend's whole record
        out({"origin": {"partition": 2, "offset": 5}, "supersedes": "duplicate_of"}),
    ]
    assert sorted(verdict_origins(records)) == [(0, 1), (1, 73)]
    assert verdict_origins(records)[(0, 1)].topic == "articles.enriched"
    assert count_verdicts(records) == 2
