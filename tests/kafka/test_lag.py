from __future__ import annotations

from streams.kafka.lag import true_end


def test_true_end_is_the_reported_end_on_kafka() -> None:
    # Kafka: "latest" is 13 and the batch read at 12 holds offset 12 only.
    assert true_end(13, [12]) == 13


def test_true_end_corrects_tansus_newest_batch_answer() -> None:
    # Tansu: "latest" is 11 (first offset of the newest batch + 1); that batch holds 10-12.
    assert true_end(11, [10, 11, 12]) == 13


def test_empty_partition() -> None:
    assert true_end(0, []) == 0
