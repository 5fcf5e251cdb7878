"""One connection object: every client family gets the same, validated settings."""

from __future__ import annotations

import itertools
from pathlib import Path

import faust
import pytest

from streams.core.errors import ConfigError
from streams.kafka.connection import MECHANISMS, PROTOCOLS, KafkaConnection, parse_bootstrap
from streams.settings import load

SASL = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093, k2:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "ingester",
        "KAFKA_SASL_PASSWORD": "pw"}


def connection(protocol: str, mechanism: str | None, cafile: str | None) -> KafkaConnection:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093", "KAFKA_SECURITY_PROTOCOL": protocol}
    if mechanism:
        env |= {"KAFKA_SASL_MECHANISM": mechanism, "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p"}
    if cafile:
        env["KAFKA_SSL_CAFILE"] = cafile
    return KafkaConnection.from_settings(load(env))


def valid_pairs() -> list[tuple[str, str | None]]:
    return [(p, m) for p, m in itertools.product(PROTOCOLS, (None, *MECHANISMS))
            if p.startswith("SASL_") == (m is not None)]


@pytest.mark.parametrize(("protocol", "mechanism"), valid_pairs())
def test_every_client_family_gets_the_same_settings(
    protocol: str, mechanism: str | None, tmp_path: Path
) -> None:
    import certifi

    cafile = certifi.where() if protocol.endswith("SSL") else None
    conn = connection(protocol, mechanism, cafile)
    aio, kp, creds = conn.aiokafka_options(), conn.kafka_python_options(), conn.faust_credentials()
    assert conn.faust_broker() == ["kafka://k1:9093", "kafka://k2:9093"]
    assert aio["bootstrap_servers"] == kp["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert aio["security_protocol"] == kp["security_protocol"] == protocol
    assert aio.get("sasl_mechanism") == kp.get("sasl_mechanism") == mechanism
    assert aio.get("sasl_plain_username") == kp.get("sasl_plain_username")
    assert aio.get("sasl_plain_password") == kp.get("sasl_plain_password")
    assert (aio.get("ssl_context") is not None) == (kp.get("ssl_cafile") == cafile is not None)
    if mechanism:
        assert isinstance(creds, faust.SASLCredentials)
        assert str(creds.mechanism.value) == mechanism
        assert (creds.username, creds.password) == ("u", "p")
        assert (creds.ssl_context is not None) == (protocol == "SASL_SSL")
    elif protocol == "SSL":
        assert isinstance(creds, faust.SSLCredentials)
    else:
        assert creds is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"},
         "SASL_SSL needs KAFKA_SASL_MECHANISM"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL='TLS' is not one of"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "GSSAPI",
          "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_MECHANISM='GSSAPI' is not one of"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN"},
         "SASL_PLAINTEXT needs KAFKA_SASL_USERNAME"),
        ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "PLAINTEXT does not use SASL"),
        ({"KAFKA_SSL_CAFILE": "/etc/hosts"}, "PLAINTEXT does not use TLS"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
         "is not a readable file"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "k1"}, "entry 'k1' is not host:port"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "k1:99999"}, "entry 'k1:99999' is not host:port"),
    ],
)
def test_invalid_combinations_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        KafkaConnection.from_settings(load({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", **env}))


def test_protocol_and_mechanism_are_case_insensitive() -> None:
    conn = KafkaConnection.from_settings(load({**SASL, "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                                               "KAFKA_SASL_MECHANISM": "scram-sha-512"}))
    assert (conn.protocol, conn.mechanism) == ("SASL_SSL", "SCRAM-SHA-512")


def test_bootstrap_is_parsed_once() -> None:
    assert parse_bootstrap(" a:1 ,b:2,, ") == ("a:1", "b:2")
    with pytest.raises(ConfigError, match="empty"):
        parse_bootstrap(" , ")


def test_password_never_in_repr() -> None:
    assert "pw" not in repr(KafkaConnection.from_settings(load(SASL)))
