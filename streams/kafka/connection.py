"""One validated Kafka connection, exported once per client family.

Faust, aiokafka (the index replica, lag reader) and kafka-python (CLI, admin) spell the same
settings differently. They used to be translated three times and disagreed (with SASL_SSL
and no mechanism, two paths defaulted to PLAIN and one sent none). Now the settings are
parsed and checked once, here, and every client is built from the same object.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.core.errors import ConfigError
from streams.settings import Secret, Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """Where the brokers are and how to authenticate; validated at construction."""

    bootstrap: tuple[str, ...]
    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    cafile: str | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("invalid Kafka connection: " + "; ".join(problems))

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaConnection:
        return cls(
            bootstrap=parse_bootstrap(settings.kafka_bootstrap_servers),
            protocol=settings.kafka_security_protocol.strip().upper(),
            mechanism=settings.kafka_sasl_mechanism.strip().upper() or None,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            cafile=settings.kafka_ssl_cafile or None,
        )

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.cafile) if self.uses_tls else None

    # -- one export per client family ---------------------------------------------------
    def faust_broker(self) -> list[str]:
        return [f"kafka://{server}" for server in self.bootstrap]

    def faust_credentials(self) -> Any:
        """Faust's ``broker_credentials``: SASL or SSL credentials, or None for PLAINTEXT."""
        import faust  # noqa: PLC0415 - only the worker side pays for importing Faust

        if self.uses_sasl:
            return faust.SASLCredentials(
                username=self.username,
                password=self.password.reveal(),
                mechanism=self.mechanism,
                ssl_context=self.ssl_context(),
            )
        if self.uses_tls:
            return faust.SSLCredentials(self.ssl_context())
        return None

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients (which take an SSL context, not a file)."""
        options: dict[str, Any] = {
            "bootstrap_servers": list(self.bootstrap),
            "security_protocol": self.protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        options.update(self._sasl_options())
        return options

    def kafka_python_options(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (producer, readers, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": list(self.bootstrap),
            "security_protocol": self.protocol,
        }
        if self.uses_tls and self.cafile:
            options["ssl_cafile"] = self.cafile
        options.update(self._sasl_options())
        return options

    def _sasl_options(self) -> dict[str, Any]:
        if not self.uses_sasl:
            return {}
        return {
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.reveal(),
        }


def check_connection(settings: Settings) -> None:
    """Raise :class:`ConfigError` at start for an invalid combination of Kafka settings.

    With no bootstrap servers the embedded broker supplies them later; the rest is checked.
    """
    KafkaConnection.from_settings(
        settings.with_bootstrap(settings.kafka_bootstrap_servers or "localhost:9092")
    )


def parse_bootstrap(servers: str) -> tuple[str, ...]:
    """``"a:9092, b:9092"`` -> ``("a:9092", "b:9092")``; each entry must be host:port."""
    entries = tuple(s.strip() for s in servers.split(",") if s.strip())
    if not entries:
        raise ConfigError("KAFKA_BOOTSTRAP_SERVERS is empty")
    for entry in entries:
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"KAFKA_BOOTSTRAP_SERVERS entry {entry!r} is not host:port")
    return entries


def _problems(conn: KafkaConnection) -> list[str]:
    problems = []
    if conn.protocol not in PROTOCOLS:
        problems.append(
            f"KAFKA_SECURITY_PROTOCOL={conn.protocol!r} is not one of {', '.join(PROTOCOLS)}"
        )
    if conn.uses_sasl:
        if conn.mechanism is None:
            problems.append(f"{conn.protocol} needs KAFKA_SASL_MECHANISM ({', '.join(MECHANISMS)})")
        elif conn.mechanism not in MECHANISMS:
            problems.append(
                f"KAFKA_SASL_MECHANISM={conn.mechanism!r} is not one of {', '.join(MECHANISMS)}"
            )
        if not conn.username:
            problems.append(f"{conn.protocol} needs KAFKA_SASL_USERNAME")
    elif conn.mechanism is not None:
        problems.append(f"KAFKA_SASL_MECHANISM is set but {conn.protocol} does not use SASL")
    if conn.cafile is not None:
        if not conn.uses_tls:
            problems.append(f"KAFKA_SSL_CAFILE is set but {conn.protocol} does not use TLS")
        elif not Path(conn.cafile).is_file():
            problems.append(f"KAFKA_SSL_CAFILE={conn.cafile!r} is not a readable file")
    return problems
