"""The pure core's configuration: small frozen dataclasses, built by the shell from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.dedup.config import DedupConfig
from streams.core.stories.config import StoryConfig
from streams.core.text.article import DEFAULT_TEXT_CONFIG, TextConfig
from streams.core.text.learned import LearnedBoilerplateConfig


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Everything the pure core needs to know; built by the shell from the settings."""

    max_body_bytes: int = 4 * 1024 * 1024
    window_ms: int = 14 * 86_400_000
    text: TextConfig = DEFAULT_TEXT_CONFIG
    dedup: DedupConfig = field(default_factory=DedupConfig)
    learned: LearnedBoilerplateConfig = field(default_factory=LearnedBoilerplateConfig)
    stories: StoryConfig = field(default_factory=StoryConfig)
