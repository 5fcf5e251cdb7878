"""A worker restarted from its index snapshot on the real broker: ready from the snapshot's
offsets, the same verdicts and stories as a worker that never stopped; a corrupt snapshot is
not used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from streams.core.fingerprint_log import FENCE_PREFIX
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.clients import make_producer
from tests.conftest import broker_settings
from tests.harness import SAMPLES, Worker, collect, envelope, produce

pytestmark = pytest.mark.broker

# Only the snapshot at a clean stop: the periodic one would race the test's stops. Stories
# are on (the default): the snapshot holds them with the index.
SNAPSHOTS = {"INGEST_SNAPSHOT_INTERVAL_S": "3600", "INGEST_INDEX_BACKEND": "compact"}
STORIES: dict[str, set[str]] = {}  # story ids seen per call of verdict_of


def verdict_of(settings, placed: list[tuple[int, int]]) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    got = collect(settings, lambda c: set(placed) <= c.verdicts().keys())
    verdicts = got.verdicts()
    STORIES["last"] = {verdicts[p][1].get("story_id") for p in placed}
    return [(verdicts[p][1]["id"], verdicts[p][1].get("duplicate_of")) for p in placed]


def three_samples_kept_then_stopped(settings, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    """Samples 000-002 on partition 0 through ``worker``, each kept; then a clean stop,
    which writes the snapshot."""
    first = verdict_of(settings, produce(settings, [envelope(p) for p in SAMPLES[:3]],
                                         partition=0))
    assert first == [(p.stem, None) for p in SAMPLES[:3]]
    assert worker.stop() == 0


def test_restart_from_snapshot_then_from_the_log_when_it_is_corrupt(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker)
    data_dir = tmp_path / "w1"
    worker = Worker(settings, data_dir, extra_env=SNAPSHOTS).start()
    try:
        three_samples_kept_then_stopped(settings, worker)
        assert STORIES["last"] == {SAMPLES[0].stem}  # four outlets on one resignation
        assert re.search(r"index snapshot snap-\d+ written: 3 entries, 1 stories",
                         worker.log_tail(20_000))

        worker = Worker(settings, data_dir, extra_env=SNAPSHOTS).start()
        log = worker.log_tail(20_000)
        assert re.search(r"index snapshot snap-\d+ loaded: 3 entries, 1 stories", log), log
        assert "from the snapshot's offsets" in log, log
        # 003 is new; 004 is 001 without its footer; a re-send of 000 under a new id.
        second = verdict_of(settings, produce(
            settings, [envelope(SAMPLES[3]), envelope(SAMPLES[4]),
                       envelope(SAMPLES[0], id="resend-000")], partition=1))
        # What a worker that never stopped publishes for these (tests/integration/
        # test_pipeline.py pins the same verdicts on one uninterrupted worker).
        assert second == [(SAMPLES[3].stem, None), (SAMPLES[4].stem, SAMPLES[1].stem),
                          ("resend-000", SAMPLES[0].stem)]
        assert STORIES["last"] == {SAMPLES[0].stem}  # the restored story, not a new one
        assert worker.stop() == 0

        snapshot_dir = data_dir / "index-snapshot"
        [snap] = [p for p in snapshot_dir.iterdir() if p.name.startswith("snap-")]
        signatures = snap / "signatures.npy"
        data = bytearray(signatures.read_bytes())
        data[-3] ^= 0xFF
        signatures.write_bytes(bytes(data))

        worker = Worker(settings, data_dir, extra_env=SNAPSHOTS).start()
        log = worker.log_tail(20_000)
        assert ("index snapshot not used (checksum mismatch in signatures.npy): replaying the "
                "whole fingerprint log") in log, log
        assert "from the beginning" in log, log
        third = verdict_of(settings, produce(
            settings, [envelope(SAMPLES[2], id="resend-002")], partition=2))
        assert third == [("resend-002", SAMPLES[2].stem)]
    finally:
        worker.stop()


def test_a_snapshot_of_a_log_recreated_longer_under_its_name_is_not_used(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The embedded broker keeps topics in memory: a worker started again with its data
    directory on a new broker met a log of the same name, as long as its snapshot's offsets
    or longer. Until 2026-12-06 the snapshot was used, and copies of articles the new log
    never held were published as their duplicates (a new-user trial: 166 of 166 new pages)."""
    settings = broker_settings(broker)
    data_dir = tmp_path / "w1"
    worker = Worker(settings, data_dir, extra_env=SNAPSHOTS).start()
    try:
        three_samples_kept_then_stopped(settings, worker)
        covered = re.search(r"covering fingerprint-log offsets (\{.*?\})",
                            worker.log_tail(20_000))
        assert covered is not None
        offsets: dict[int, int] = ast.literal_eval(covered.group(1))

        with EmbeddedBroker(log_path=tmp_path / "broker2.log") as other:
            renewed = broker_settings(other)
            # Another log of the same name, longer than the snapshot's offsets everywhere.
            producer = make_producer(renewed)
            for partition, offset in offsets.items():
                for i in range(offset + 2):
                    producer.send(renewed.topic_fingerprints, key=FENCE_PREFIX + b"other-%d" % i,
                                  value=None, partition=partition).get(timeout=30)
            producer.close(timeout=10)

            worker = Worker(renewed, data_dir, extra_env=SNAPSHOTS).start()
            log = worker.log_tail(20_000)
            assert re.search(r"index snapshot not used \(partition \d holds another record at "
                             r"offset \d+ than the one the snapshot applied there \(topic "
                             r"recreated\?\)\): replaying the whole fingerprint log", log), log
            assert "from the beginning" in log, log
            again = verdict_of(renewed, produce(
                renewed, [envelope(SAMPLES[0], id="copy-000"), envelope(SAMPLES[1])],
                partition=1))
            # Neither article is in this log: both are kept.
            assert again == [("copy-000", None), (SAMPLES[1].stem, None)]
            assert worker.stop() == 0
    finally:
        worker.stop()
