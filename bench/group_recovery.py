"""How long the embedded broker's consumer group takes to give a vanished member's partitions
back to the members still alive.

    python -m bench.group_recovery                 # both scenarios, 6 s sessions
    python -m bench.group_recovery --scenario vanished --json

Two aiokafka consumers share the raw topic (4 partitions) of a fresh Tansu. Then a member
goes away:

* ``vanished``: a third client sends one JoinGroup as a consumer does (no member id yet),
  is answered MEMBER_ID_REQUIRED and never joins again, syncs, heartbeats or leaves. Apache
  Kafka keeps such a pending member out of the assignment; Tansu 0.6.0 adds it to the
  members the leader assigns to (README, "Running on Tansu"), so it holds partitions until
  it expires;
* ``killed``: a third consumer in its own process joins, takes its partitions and is
  SIGKILLed.

Reported: seconds from the member going away until the two survivors together hold every
partition again (0 if it never took any, ``None`` if they do not within ``--timeout``), next
to the session timeout. Apache Kafka's coordinator expires a member one session timeout after
its last heartbeat; Tansu's only when another member's request arrives, so expect a little more.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
from aiokafka import AIOKafkaConsumer, errors
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.coordinator.protocol import (
    ConsumerProtocol,
    ConsumerProtocolMemberMetadata,
)
from aiokafka.protocol.group import JoinGroupRequest

from bench import e2e
from streams.kafka.connection import KafkaConnection
from streams.settings import Settings

GROUP = "recovery"
SCENARIOS = ("vanished", "killed")

# A consumer in its own process, so that SIGKILL takes it without a LeaveGroup.
_MEMBER = """
import asyncio, sys
from aiokafka import AIOKafkaConsumer
async def main():
    consumer = AIOKafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
                                session_timeout_ms=int(sys.argv[4]), heartbeat_interval_ms=1000)
    await consumer.start()
    while True:
        await consumer.getmany(timeout_ms=200)
        if consumer.assignment():
            print("assigned", flush=True)
asyncio.run(main())
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Recovery:
    scenario: str
    session_timeout_s: float
    # Seconds from the member going away until the survivors hold every partition.
    recovered_after_s: float | None
    # What the survivors held while the member was in the group, and at the end.
    held_with_member: tuple[tuple[int, ...], ...]
    held_at_end: tuple[tuple[int, ...], ...]
    # Whether the member took partitions from the survivors at all.
    member_held_partitions: bool
    # ``vanished``: the error name of the broker's answer to its JoinGroup.
    join_answer: str | None = None


def _held(consumers: Sequence[AIOKafkaConsumer]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(sorted(tp.partition for tp in c.assignment())) for c in consumers)


def _covers_all(held: tuple[tuple[int, ...], ...], partitions: int) -> bool:
    return sorted(p for member in held for p in member) == list(range(partitions))


async def _poll_until(
    consumers: Sequence[AIOKafkaConsumer], done: Callable[[], bool], timeout_s: float
) -> bool:
    """Poll every consumer (heartbeats, rebalances) until ``done()``; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.gather(*(c.getmany(timeout_ms=200) for c in consumers))
        if done():
            return True
    return False


async def _join_and_vanish(bootstrap: str, topic: str, session_ms: int) -> str:
    """One JoinGroup for the group as a consumer sends it (no static membership), then
    nothing: no SyncGroup, heartbeat or LeaveGroup. Returns the answer's error name."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        node = await client.coordinator_lookup(CoordinationType.GROUP, GROUP)
        metadata = ConsumerProtocolMemberMetadata(0, [topic], b"").encode()
        response = await client.send(node, JoinGroupRequest(
            GROUP, session_ms, session_ms, JoinGroupRequest.UNKNOWN_MEMBER_ID, None,
            ConsumerProtocol.PROTOCOL_TYPE, [("roundrobin", metadata)]))
        return str(errors.for_code(response.error_code).__name__)
    finally:
        await client.close()


async def measure(
    settings: Settings, scenario: str, session_s: float = 6.0, timeout_s: float = 60.0
) -> Recovery:
    """One scenario on the raw topic of the broker ``settings`` name (topics created), in a
    consumer group of its own."""
    session_ms = int(session_s * 1000)
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic_raw
    options = KafkaConnection.from_settings(settings).aiokafka_options()
    survivors = [AIOKafkaConsumer(topic, group_id=GROUP, session_timeout_ms=session_ms,
                                  heartbeat_interval_ms=1000, **options) for _ in range(2)]

    def covered() -> bool:
        return _covers_all(_held(survivors), settings.partitions)

    member: subprocess.Popen[bytes] | None = None
    joining: asyncio.Task[str] | None = None
    join_answer = None
    try:
        for consumer in survivors:
            await consumer.start()
        if not await _poll_until(survivors, lambda: covered() and all(_held(survivors)),
                                 timeout_s):
            raise RuntimeError(f"two consumers never shared the partitions: {_held(survivors)}")
        if scenario == "vanished":
            joining = asyncio.create_task(_join_and_vanish(bootstrap, topic, session_ms))
            # The survivors must keep polling (heartbeats, rejoin) while the join is pending.
            if not await _poll_until(survivors, joining.done, timeout_s):
                raise RuntimeError(f"the JoinGroup got no answer in {timeout_s:g} s")
            join_answer = joining.result()
        elif scenario == "killed":
            member = subprocess.Popen(
                [sys.executable, "-c", _MEMBER, bootstrap, topic, GROUP, str(session_ms)],
                stdout=subprocess.DEVNULL)
            if not await _poll_until(survivors, lambda: not covered(), timeout_s):
                raise RuntimeError(f"the third consumer never took a partition (exit code "
                                   f"{member.poll()})")
            member.send_signal(signal.SIGKILL)
            member.wait()
        else:
            raise ValueError(f"unknown scenario {scenario!r}; one of {SCENARIOS}")
        gone = time.monotonic()
        # The vanished member's join rebalances the group; it may or may not get partitions.
        lost = await _poll_until(survivors, lambda: not covered(), 3 * session_s)
        with_member = _held(survivors)
        if not lost:
            return Recovery(scenario, session_s, 0.0, with_member, with_member, False,
                            join_answer)
        recovered = await _poll_until(survivors, covered, timeout_s)
        return Recovery(scenario, session_s,
                        round(time.monotonic() - gone, 1) if recovered else None,
                        with_member, _held(survivors), True, join_answer)
    finally:
        if joining is not None and not joining.done():
            joining.cancel()
        if member is not None and member.poll() is None:
            member.kill()
            member.wait()
        for consumer in survivors:
            await consumer.stop()


def run(scenarios: Sequence[str], session_s: float, timeout_s: float) -> list[Recovery]:
    """Each scenario on its own fresh embedded broker (``e2e.fresh_broker``: the ingester's
    topics, 4 partitions)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="group-recovery-") as workdir:
        for scenario in scenarios:
            with e2e.fresh_broker(Path(workdir), scenario) as (_, settings):
                results.append(asyncio.run(measure(settings, scenario, session_s, timeout_s)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--session", type=float, default=6.0, help="session timeout, s")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = run(args.scenario or SCENARIOS, args.session, args.timeout)
    for result in results:
        if args.json:
            print(orjson.dumps(dataclasses.asdict(result)).decode())
            continue
        after = ("never" if result.recovered_after_s is None
                 else f"{result.recovered_after_s:.1f} s")
        held = [list(m) for m in result.held_with_member]
        end = [list(m) for m in result.held_at_end]
        answer = f" (JoinGroup answered {result.join_answer})" if result.join_answer else ""
        if not result.member_held_partitions:
            print(f"{result.scenario}{answer}: the member never held a partition (survivors "
                  f"{held})")
            continue
        print(f"{result.scenario}{answer}: survivors held {held} with the member, every "
              f"partition again {after} after it went (session "
              f"{result.session_timeout_s:g} s), at the end {end}")
    return 0 if all(r.recovered_after_s is not None for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
