from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from streams import settings as settings_mod
from streams.kafka.broker import EmbeddedBroker, ensure_topics
from streams.settings import Settings

# `make mutation` (bench/mutation.py) runs the properties derandomized: a mutant's verdict
# must not depend on which examples hypothesis happened to draw.
hypothesis_settings.register_profile("mutation", derandomize=True, deadline=None, max_examples=60,
                                     database=None)
if os.environ.get("HYPOTHESIS_PROFILE") == "mutation":
    hypothesis_settings.load_profile("mutation")


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
