from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams import settings as settings_mod
from streams.kafka.broker import EmbeddedBroker, ensure_topics
from streams.settings import Settings


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as running:
        yield running


def broker_settings(broker: EmbeddedBroker, partitions: int = 4) -> Settings:
    settings = settings_mod.load(
        {}, kafka_bootstrap_servers=broker.bootstrap, partitions=partitions
    )
    ensure_topics(settings)
    return settings
