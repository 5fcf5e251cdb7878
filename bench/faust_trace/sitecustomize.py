"""Faust's offset bookkeeping in the worker logs, for a post-mortem of lost or repeated messages.

Not part of the worker: put this folder first on the workers' ``PYTHONPATH`` and Python
imports it at start-up (``site``), before the worker imports Faust::

    PYTHONPATH=bench/faust_trace python -m bench.kill_trials --seeds 1-5

Each line is a WARNING of the logger ``faust_trace``, so it shows at the default log level:

* ``seek``: after every ``Consumer.perform_seek``, Faust's committed and read offsets;
* ``commit``: every offset Faust decides to commit (``Consumer._new_offset``), with the
  committed offset it held and the first acknowledged offsets;
* ``gap``: offsets Faust marks as a gap to commit past (``Consumer._add_gap``);
* ``dropped-fetch``: records a fetch returned while Faust's flow was stopped, which
  ``Consumer.getmany`` drops (first and last offset per partition) and then seeks back;
* ``dropped-inactive``: records a fetch returned for partitions that are not active (paused),
  which ``getmany`` drops without seeking;
* ``skipped``: a debug line of Faust's that says it dropped a message: an event its stream
  skips as stale (and acknowledges), or a message at or below the read offset.

A ``dropped-fetch`` holding a partition that the ``seek`` after it lists without a committed
offset is the situation ``streams.kafka.faust_compat.rewind_uncommitted_partitions`` mends.
Wrappers are installed only when Faust imports; a Faust release that renames one of these
methods makes this module fail loudly at start-up rather than log nothing.
"""

from __future__ import annotations

import logging
from typing import Any

try:
    from faust.transport import consumer as _consumer
    from mode.utils import logging as _mode_logging
except ImportError:  # not a worker's interpreter (this folder on PYTHONPATH by mistake)
    _consumer = None

log = logging.getLogger("faust_trace")


def _partitions(offsets: Any) -> dict[str, Any]:
    return {f"{tp.topic}:{tp.partition}": offset for tp, offset in dict(offsets).items()}


def install(consumer_class: Any) -> None:
    """Wrap the methods named in the module docstring (once)."""
    if getattr(consumer_class, "_faust_trace", False):
        return
    consumer_class._faust_trace = True
    perform_seek = consumer_class.perform_seek
    new_offset = consumer_class._new_offset
    add_gap = consumer_class._add_gap
    wait_next_records = consumer_class._wait_next_records

    async def traced_perform_seek(self: Any) -> None:
        await perform_seek(self)
        log.warning("faust_trace seek committed=%s read=%s",
                    _partitions(self._committed_offset), _partitions(self._read_offset))

    def traced_new_offset(self: Any, tp: Any) -> Any:
        before = self._committed_offset.get(tp)
        acked = sorted(self._acked[tp])[:3]
        result = new_offset(self, tp)
        if result is not None and (before is None or result > before):
            log.warning("faust_trace commit %s:%s -> %s (committed %s, acked from %s)",
                        tp.topic, tp.partition, result, before, acked)
        return result

    async def traced_add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        log.warning("faust_trace gap %s:%s %d-%d (committed %s, read %s)", tp.topic,
                    tp.partition, offset_from, offset_to, self._committed_offset.get(tp),
                    self._read_offset.get(tp))
        await add_gap(self, tp, offset_from, offset_to)

    async def traced_wait_next_records(self: Any, timeout: float) -> Any:
        records, active = await wait_next_records(self, timeout)
        if records and not self.flow_active:
            log.warning("faust_trace dropped-fetch %s committed=%s",
                        {f"{tp.topic}:{tp.partition}": (rs[0].offset, rs[-1].offset)
                         for tp, rs in records.items() if rs},
                        _partitions(self._committed_offset))
        elif records and active is not None:
            # getmany hands out only active partitions' records and drops the rest, unsought
            inactive = {f"{tp.topic}:{tp.partition}": (rs[0].offset, rs[-1].offset)
                        for tp, rs in records.items()
                        if rs and tp not in active and tp not in self._buffered_partitions}
            if inactive:
                log.warning("faust_trace dropped-inactive %s committed=%s", inactive,
                            _partitions(self._committed_offset))
        return records, active

    consumer_class.perform_seek = traced_perform_seek
    consumer_class._new_offset = traced_new_offset
    consumer_class._add_gap = traced_add_gap
    consumer_class._wait_next_records = traced_wait_next_records


# Faust's debug lines (``log.dev``) that report a message it drops.
DROPPING = ("Skipping message", "DROPPED MESSAGE")


def install_skips(logger_class: Any) -> None:
    """Repeat as a WARNING each of Faust's ``log.dev`` lines that starts with DROPPING."""
    if getattr(logger_class, "_faust_trace", False):
        return
    logger_class._faust_trace = True
    dev = logger_class.dev

    def traced_dev(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(message, str) and message.startswith(DROPPING):
            # "DROPPED MESSAGE ROFF %r: k=%r v=%r": the offset only, not the article
            if message.startswith("DROPPED MESSAGE"):
                message, args = message.split(":")[0], args[:1]
            log.warning("faust_trace skipped " + message, *args)
        return dev(self, message, *args, **kwargs)

    logger_class.dev = traced_dev


if _consumer is not None:
    install(_consumer.Consumer)
    install_skips(_mode_logging.CompositeLogger)
