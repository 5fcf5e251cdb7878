"""The embedded broker gives a vanished group member's partitions back (README, "Running on
Tansu"): measured by ``bench.group_recovery`` on a real Tansu."""

from __future__ import annotations

import asyncio

import pytest

from bench import group_recovery
from streams.kafka.broker import EmbeddedBroker

pytestmark = pytest.mark.broker


def test_a_member_that_joins_and_vanishes_does_not_keep_partitions_from_the_group(
    broker: EmbeddedBroker,
) -> None:
    group_recovery._create_topic(broker.bootstrap)
    result = asyncio.run(group_recovery.measure(broker.bootstrap, "vanished", session_s=6.0,
                                                timeout_s=40.0))
    # The survivors hold every partition at the end, each at least one, within the timeout.
    assert result.recovered_after_s is not None
    assert sorted(p for member in result.held_at_end for p in member) == [0, 1, 2, 3]
    assert all(result.held_at_end)
    if result.member_held_partitions:
        # it took some while it counted as a member: the survivors held fewer meanwhile
        assert len([p for member in result.held_with_member for p in member]) < 4
        assert result.recovered_after_s > 0
