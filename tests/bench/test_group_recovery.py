"""The embedded broker gives a vanished group member's partitions back (README, "Running on
Tansu"): measured by ``bench.group_recovery`` on a real Tansu."""

from __future__ import annotations

import asyncio

import pytest

from bench import group_recovery
from streams.kafka.broker import EmbeddedBroker
from tests.conftest import broker_settings

pytestmark = pytest.mark.broker


def test_a_member_that_joins_and_vanishes_does_not_keep_partitions_from_the_group(
    broker: EmbeddedBroker,
) -> None:
    result = asyncio.run(group_recovery.measure(broker_settings(broker), "vanished",
                                                session_s=6.0, timeout_s=40.0))
    # The member was told to join again with the id it was given (MEMBER_ID_REQUIRED) and
    # never did; Tansu still gave it partitions in the rebalance its join started (Kafka
    # keeps such a pending member out of the assignment), so the survivors held fewer.
    assert result.join_answer == "MemberIdRequired"
    assert result.member_held_partitions
    assert len([p for member in result.held_with_member for p in member]) < 4
    # Once it expired, the survivors hold every partition again, each at least one.
    assert result.recovered_after_s is not None
    assert result.recovered_after_s > 0
    assert sorted(p for member in result.held_at_end for p in member) == [0, 1, 2, 3]
    assert all(result.held_at_end)
