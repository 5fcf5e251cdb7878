"""The ``ingest`` command: worker, demo, produce, tail, broker."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Sequence

from streams import settings as settings_mod
from streams.core.errors import IngestError
from streams.kafka.connection import check_connection
from streams.kafka.process import Terminated, stop_on_sigterm
from streams.settings import LOG_LEVELS, Settings
from streams.shell.lifecycle import INTERRUPTED_EXIT_CODE
from streams.shell.logs import configure_logging

log = logging.getLogger("streams.cli")

# The worker's own codes (3, 5) are in streams/shell/lifecycle.py; README, Guarantees.
EXIT_CANNOT_START = 2  # invalid settings, no broker answered within INGEST_BROKER_WAIT_S
EXIT_INTERRUPTED = INTERRUPTED_EXIT_CODE  # Ctrl-C (128 + SIGINT) before the command finished
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM) before the command finished
# stdout's reader went away (`ingest tail | head -1`): what a shell reports for a tool that
# SIGPIPE ended (128 + SIGPIPE), without Python's BrokenPipeError traceback.
EXIT_BROKEN_PIPE = 141


WORKER_ENVIRONMENT = """\
main environment variables (all of them: README, Settings):
  KAFKA_BOOTSTRAP_SERVERS  host:port[,...]; unset: start an embedded Tansu broker
                           (in-memory, development only)
  INGEST_DATA_DIR          local state: index snapshots, spill files (.ingest-data)
  INGEST_PROCESSES         prepare processes (-1: one per usable core, 0: none)
  INGEST_LOG_FORMAT        text or json
exit codes: 0 stopped (SIGTERM), 130 stopped by Ctrl-C (the same graceful stop),
1 crashed, 2 could not start, 3 broker lost, 5 an output and its dead letter both refused,
6 the fingerprint log was recreated under it (a restart replays the log)
"""


TAIL_OUTPUTS = ("enriched", "duplicates", "deadletter", "stories")


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (``-n 0`` read nothing and never stopped)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (a free one) to 65535 (others gave an OverflowError
    traceback and exit 1)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port, 0 to 65535, not {value}")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap-servers",
        help="Kafka bootstrap servers host:port[,...] (env KAFKA_BOOTSTRAP_SERVERS)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest",
        description="Streaming ingester for news articles: normalize, fingerprint, "
        "de-duplicate and publish enriched records.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worker = sub.add_parser(
        "worker",
        help="run a worker (embedded broker when KAFKA_BOOTSTRAP_SERVERS is unset)",
        description="Run a worker: consume the raw topic, publish enriched, duplicate and\n"
        "dead-letter records, serve /metrics, /healthz and /readyz. Settings come from\n"
        "the environment (README, Settings); these options override their variables.",
        epilog=WORKER_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Any case, and warn/fatal, as INGEST_LOG_LEVEL takes them (until 2026-12-05 -l INFO was
    # refused while INGEST_LOG_LEVEL=INFO worked).
    worker.add_argument("-l", "--loglevel", type=str.lower, choices=(*LOG_LEVELS, "warn", "fatal"),
                        metavar="LEVEL",
                        help=f"{', '.join(LOG_LEVELS)} (default: INGEST_LOG_LEVEL, else info)")
    worker.add_argument("--web-port", type=int, metavar="PORT",
                        help="HTTP port of /metrics, /healthz, /readyz "
                             "(default: INGEST_WEB_PORT, else 6066)")
    worker.add_argument("--web-host", metavar="HOST",
                        help="address that port binds to (default: INGEST_WEB_HOST, "
                             "else 127.0.0.1)")

    demo = sub.add_parser("demo", help="zero-configuration demo on the bundled sample articles")
    demo.add_argument("--timeout", type=positive_seconds, default=120.0, metavar="S",
                      help="give up after S seconds, waiting for the worker to be ready and "
                           "again for the verdicts (default: %(default)g s)")
    demo.add_argument("--keep-running", action="store_true",
                      help="leave broker and worker running until Ctrl-C after the table")

    produce = sub.add_parser("produce",
                             help="publish files, directories or stdin (-) as raw articles")
    _add_common(produce)
    produce.add_argument("paths", nargs="+", metavar="PATH",
                         help="text, HTML, JSON envelope, JSON Lines, JSON array or .csv/.tsv "
                              "table files, any of them gzip-compressed (.gz); directories "
                              "(their files, recursively, in sorted order, hidden ones "
                              "skipped); - for stdin")
    produce.add_argument("--topic", help="topic (default: INGEST_TOPIC_RAW)")
    produce.add_argument("--partition", type=int, help="send every message to this partition")
    produce.add_argument("--format", choices=("csv", "tsv"), dest="table",
                         help="read every input, stdin included, as a table of this kind "
                              "(default: .csv and .tsv files are tables, by their name)")
    produce.add_argument("--raw", action="store_true",
                         help="send file bytes verbatim instead of wrapping them in an envelope")
    produce.add_argument("--source",
                         help="the publisher (envelope `source`) of text and HTML files "
                              "and of JSON envelopes that name none; default: none, so the "
                              "worker takes the page URL's domain")

    tail = sub.add_parser("tail", help="print output records as JSON lines")
    _add_common(tail)
    tail.add_argument("output", nargs="?", default="enriched", choices=TAIL_OUTPUTS,
                      help="the output topic to read (default: enriched); its name comes "
                           "from INGEST_TOPIC_ENRICHED, _DUPLICATES, _DEADLETTER, _STORIES")
    tail.add_argument("--from-beginning", action="store_true",
                      help="print the records already in the topic first (default: only "
                           "those written after tail started)")
    tail.add_argument("-n", type=positive_int, default=None, metavar="N",
                      help="stop after N records (N >= 1; default: never)")
    tail.add_argument("--idle-timeout", type=positive_seconds, default=None, metavar="S",
                      help="stop after S seconds without a record (S > 0; default: never)")

    broker = sub.add_parser("broker", help="run the embedded Tansu broker in the foreground")
    broker.add_argument("--port", type=port_number, default=9092,
                        help="the broker's Kafka port, 0 for a free one (default: %(default)s)")
    for command in sub.choices.values():  # its own usage line when refusing an option
        command.set_defaults(command_parser=command)
    return parser


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "worker":
        from streams.shell.worker import run_worker

        return run_worker(settings)
    if args.command == "demo":
        from streams.cli.demo import run_demo

        return run_demo(settings, timeout_s=args.timeout, keep_running=args.keep_running)
    if args.command == "produce":
        from streams.cli.produce import run_produce

        return run_produce(settings, args.paths, topic=args.topic,
                           partition=args.partition, raw=args.raw, source=args.source,
                           table=args.table)
    if args.command == "tail":
        from streams.cli.tail import run_tail

        return run_tail(settings, args.output, from_beginning=args.from_beginning,
                        limit=args.n, idle_timeout_s=args.idle_timeout)
    from streams.kafka.broker import run_broker

    return run_broker(args.port)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Every option is known here, the worker's too: a wrong one is refused before a broker
    # or Faust starts.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    # SIGTERM unwinds like Ctrl-C, so every command stops the processes it started. The
    # worker's Faust loop installs its own handler while it runs (a graceful stop, exit 0).
    with stop_on_sigterm():
        try:
            settings = settings_mod.load(
                kafka_bootstrap_servers=getattr(args, "bootstrap_servers", None),
                log_level=getattr(args, "loglevel", None),
                web_port=getattr(args, "web_port", None),
                web_host=getattr(args, "web_host", None),
            )
            check_connection(settings)
            configure_logging(settings)
            return _dispatch(args, settings)
        except IngestError as exc:
            print(f"ingest: error [{exc.code}]: {exc.detail}", file=sys.stderr)
            return EXIT_CANNOT_START
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except Terminated:
            return EXIT_TERMINATED
        except BrokenPipeError:
            _discard_stdout()
            return EXIT_BROKEN_PIPE


def _discard_stdout() -> None:
    """Point stdout at /dev/null: flushing it at exit would raise BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
