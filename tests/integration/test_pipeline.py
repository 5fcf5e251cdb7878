"""The whole pipeline on a real Tansu broker with a real worker process (issue: pipeline)."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from streams.kafka.broker import EmbeddedBroker
from tests.conftest import broker_settings
from tests.harness import SAMPLES, Collected, Worker, collect, envelope, produce, schema_errors

pytestmark = pytest.mark.broker


def _assert_valid(got: Collected) -> None:
    for topic, record in got.records:
        assert schema_errors(topic, record) == [], (topic, record)


@pytest.mark.parametrize("partitions", [1, 4])
def test_samples_enriched_and_resend_is_exact_duplicate(
    broker: EmbeddedBroker, tmp_path: Path, partitions: int
) -> None:
    settings = broker_settings(broker, partitions=partitions)
    worker = Worker(settings, tmp_path / "w1").start()
    try:
        # 000, 002, 003 are different articles; 001 and 004 are one article (004: no footer).
        placed = produce(settings, [envelope(p) for p in SAMPLES], partition=0)
        collect(settings, lambda c: set(placed) <= c.verdicts().keys())
        # Then an exact re-send of 000 under a new id, on another partition when there are
        # several. (Copies that race each other are test_distributed's subject.)
        resend_partition = partitions - 1
        resend = produce(settings, [envelope(SAMPLES[0], id="resend-000")],
                         partition=resend_partition)
        # Another producer reusing 000's id, with 002's text: ids are scoped by source, so
        # this is not a revision of 000 but its own article (an exact copy of 002).
        reused = produce(settings, [envelope(SAMPLES[2], id=SAMPLES[0].stem,
                                             source="other.example")], partition=0)
        expected = set(placed) | set(resend) | set(reused)
        got = collect(settings, lambda c: expected <= c.verdicts().keys())
    finally:
        worker.stop()

    _assert_valid(got)
    # Every output is keyed by its scoped id: the id alone without a source.
    assert [key.decode() for key in got.keys] == [value["scoped_id"] for _, value in got.records]
    enriched = {r["id"] for r in got.by_topic("articles.enriched")}
    duplicates = {r["scoped_id"]: r for r in got.by_topic("articles.duplicates")}
    stems = [p.stem for p in SAMPLES]
    assert enriched == {stems[0], stems[1], stems[2], stems[3]}
    assert set(duplicates) == {stems[4], "resend-000", f"other.example:{stems[0]}"}
    reuse = duplicates[f"other.example:{stems[0]}"]
    assert (reuse["id"], reuse["revision"], reuse["previous_content_hash"]) == (
        stems[0], 1, None)
    assert (reuse["duplicate_of"], reuse["match"]) == (stems[2], "exact")
    assert {r["revision"] for r in got.by_topic("articles.enriched")} == {1}
    assert duplicates["resend-000"]["match"] == "exact"
    assert duplicates["resend-000"]["duplicate_of"] == stems[0]
    assert duplicates["resend-000"]["similarity"] == 1.0
    assert duplicates["resend-000"]["origin"]["partition"] == resend_partition
    assert duplicates[stems[4]]["duplicate_of"] == stems[1]
    assert got.by_topic("articles.deadletter") == []
    # Nothing else: one record per raw message.
    assert len(got.records) == len(expected)


@pytest.mark.parametrize("keep_data_dir", [True, False])
def test_resend_after_restart_is_duplicate(
    broker: EmbeddedBroker, tmp_path: Path, keep_data_dir: bool
) -> None:
    settings = broker_settings(broker, partitions=2)
    first = Worker(settings, tmp_path / "first").start()
    try:
        placed = produce(settings, [envelope(SAMPLES[2])])
        collect(settings, lambda c: set(placed) <= c.verdicts().keys())
    finally:
        assert first.stop() == 0
    data_dir = tmp_path / "first" if keep_data_dir else tmp_path / "empty"
    second = Worker(settings, data_dir, name="w2").start()
    try:
        again = produce(settings, [envelope(SAMPLES[2], id="after-restart")])
        got = collect(settings, lambda c: set(again) <= c.verdicts().keys())
    finally:
        second.stop()
    topic, record = got.verdicts()[again[0]]
    assert topic == "articles.duplicates"
    assert record["duplicate_of"] == SAMPLES[2].stem
    assert record["match"] == "exact"


def test_malformed_messages_are_dead_lettered_and_worker_continues(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = broker_settings(broker, partitions=1)
    worker = Worker(settings, tmp_path / "w1").start()
    try:
        bad = [
            random.Random(5).randbytes(512),  # no encoding decides it
            orjson.dumps({"title": "no body here"}),
            orjson.dumps({"body": "   "}),
        ]
        placed = produce(settings, [*bad, envelope(SAMPLES[0])])
        got = collect(settings, lambda c: set(placed) <= c.verdicts().keys())
        assert worker.process is not None and worker.process.poll() is None
    finally:
        worker.stop()
    _assert_valid(got)
    verdicts = got.verdicts()
    codes = [verdicts[p][1].get("error") for p in placed[:3]]
    assert codes == ["not_utf8", "missing_body", "empty_body"]
    assert all(verdicts[p][0] == "articles.deadletter" for p in placed[:3])
    assert verdicts[placed[3]][0] == "articles.enriched"
    # The raw value travels with the dead letter so it can be replayed.
    missing = verdicts[placed[1]][1]
    assert orjson.loads(missing["raw"]) == {"title": "no body here"}
