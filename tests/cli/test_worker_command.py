"""``ingest worker`` as a user runs it: its options, its help, how it stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from streams.cli.main import build_parser
from streams.core.errors import ConfigError
from streams.kafka.broker import EmbeddedBroker, free_port
from streams.settings import load
from streams.shell.worker import faust_argv, faust_log_level, lock_data_dir
from tests.conftest import broker_settings
from tests.harness import Worker, wait_for


def ingest_worker(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # No broker configured: anything that started one would say so on stderr.
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker", *args], capture_output=True, text=True,
        timeout=60, env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "", **env}, check=False,
    )


def test_h_and_help_print_our_options_and_start_nothing() -> None:
    short, long = ingest_worker("-h"), ingest_worker("--help")
    assert (short.returncode, short.stderr) == (0, "")
    assert (long.returncode, long.stdout, long.stderr) == (0, short.stdout, "")
    assert short.stdout.startswith(
        "usage: ingest worker [-h] [-l LEVEL] [--web-port PORT] [--web-host HOST]\n")
    for true_default in ("INGEST_LOG_LEVEL, else info", "INGEST_WEB_PORT, else 6066",
                         "INGEST_WEB_HOST,", "127.0.0.1", "README, Settings"):
        assert true_default in short.stdout
    # Faust's own defaults, which this worker does not use.
    assert "0.0.0.0" not in short.stdout
    assert "WARN" not in short.stdout


@pytest.mark.parametrize(("args", "refusal"), [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["extra"], "unrecognized arguments: extra"),
    (["-l", "loud"], "argument -l/--loglevel: invalid choice: 'loud' (choose from 'debug', "
                     "'info', 'warning', 'error', 'critical', 'warn', 'fatal')"),
    (["--web-port", "x"], "argument --web-port: invalid int value: 'x'"),
])
def test_a_wrong_option_is_refused_before_a_broker_starts(args: list[str], refusal: str) -> None:
    result = ingest_worker(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: ingest worker [-h]")
    assert result.stderr.splitlines()[-1] == f"ingest worker: error: {refusal}"


@pytest.mark.parametrize(("given", "read"), [("INFO", "info"), ("Warn", "warn"),
                                             ("FATAL", "fatal"), ("debug", "debug")])
def test_a_log_level_is_taken_in_any_case_as_its_variable_is(given: str, read: str) -> None:
    assert build_parser().parse_args(["worker", "-l", given]).loglevel == read


def test_python_level_names_become_faust_ones() -> None:
    assert [faust_log_level(level) for level in ("debug", "INFO", "warning", "error",
                                                 "critical")] == [
        "debug", "info", "warn", "error", "crit"]


def test_faust_is_quiet_only_with_json_logs() -> None:
    assert faust_argv(load({"INGEST_LOG_FORMAT": "json", "INGEST_LOG_LEVEL": "warning"})) == [
        "ingest", "--quiet", "worker", "--loglevel", "warn"]
    assert faust_argv(load({"INGEST_LOG_FORMAT": "text"})) == [
        "ingest", "worker", "--loglevel", "info"]


@pytest.mark.broker
def test_a_worker_with_json_logs_writes_only_json_lines(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    worker = Worker(broker_settings(broker), tmp_path / "w",
                    extra_env={"INGEST_LOG_FORMAT": "json"})
    try:
        worker.start()
    finally:
        code = worker.stop()
    assert code == 0
    lines = Path(str(worker.log_path)).read_text(errors="replace").splitlines()
    # Before: Faust's banner, 16 lines of text starting "+ƒaµS† v0.15.3+---", came first.
    not_json = []
    for line in lines:
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            not_json.append(line)
    assert not_json == []
    assert "[^---Recovery]: Worker ready" in {orjson.loads(line)["message"] for line in lines}


@pytest.mark.broker
def test_options_override_the_environment_on_a_real_worker(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    port = free_port()
    worker = Worker(broker_settings(broker), tmp_path / "w", web_port=port,
                    extra_env={"INGEST_WEB_PORT": str(free_port()), "INGEST_LOG_LEVEL": "info"},
                    args=["--web-port", str(port), "-l", "debug"])
    try:
        worker.start()  # ready on --web-port's port, not INGEST_WEB_PORT's
    finally:
        code = worker.stop()
    assert code == 0
    assert "[DEBUG]" in Path(str(worker.log_path)).read_text(errors="replace")


@pytest.mark.broker
@pytest.mark.parametrize("to_group", [False, True], ids=["kill-pid", "ctrl-c-to-the-group"])
def test_ctrl_c_right_after_ready_stops_gracefully_with_130_and_no_traceback(
    broker: EmbeddedBroker, tmp_path: Path, to_group: bool,
) -> None:
    # A pool of two, whatever this host's cores: its children are still loading now.
    worker = Worker(broker_settings(broker), tmp_path / "w", extra_env={"INGEST_PROCESSES": "2"})
    worker.start(wait=False)
    try:
        assert worker.process is not None
        wait_for(lambda: worker.get("/readyz")[0] == 200, "/readyz 200", timeout_s=60)
        if to_group:  # a terminal's Ctrl-C reaches the worker and its pool processes
            os.killpg(worker.process.pid, signal.SIGINT)
        else:
            worker.process.send_signal(signal.SIGINT)
        code = worker.process.wait(timeout=60)
    finally:
        worker.kill()
    log = worker.log_tail(1_000_000)
    assert code == 130, log[-3000:]
    assert "Traceback" not in log
    assert "BrokenPipeError" not in log
    assert "Signal received: 2 (2)" in log  # the graceful stop, as on SIGTERM


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_a_data_directory_that_cannot_be_used_is_refused_before_anything_starts(
    tmp_path: Path, kind: str,
) -> None:
    if kind == "file":
        data = tmp_path / "data"
        data.write_text("not a directory")
        expected = f"INGEST_DATA_DIR={str(data)!r} is not a directory"
    else:
        data = Path("/proc/ingest-nope/data")  # procfs refuses new directories, even to root
        expected = f"INGEST_DATA_DIR={str(data)!r} cannot be created: No such file or directory"
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "worker"], check=False, capture_output=True,
        timeout=60, env={**os.environ, "INGEST_DATA_DIR": str(data), "KAFKA_BOOTSTRAP_SERVERS": ""},
    )
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == f"ingest: error [invalid_setting]: {expected}\n"


def test_a_web_port_in_use_is_refused_before_a_broker_starts() -> None:
    # A second worker on the host with the same INGEST_WEB_PORT. Before: the embedded broker
    # started, then Faust's OSError traceback and exit 1.
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = ingest_worker("--web-port", str(port))
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        f"ingest: error [invalid_setting]: port {port} on 127.0.0.1 is in use "
        "(INGEST_WEB_PORT, --web-port): another worker on this host needs a port of its own\n"))


def test_a_web_host_that_does_not_resolve_is_refused_before_a_broker_starts() -> None:
    # Found by a new-user trial: Faust's banner, then a gaierror traceback and exit 1.
    with pytest.raises(socket.gaierror) as resolver:
        socket.getaddrinfo("notahost.invalid", 6066)
    result = ingest_worker(INGEST_WEB_HOST="notahost.invalid")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        "ingest: error [invalid_setting]: web host notahost.invalid cannot be resolved "
        f"(INGEST_WEB_HOST, --web-host): {resolver.value.strerror}\n"))


@pytest.mark.parametrize("port", ["6066", "0"])
def test_a_web_host_that_is_not_an_address_of_this_machine_is_refused(port: str) -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine has it. Port 0 is checked too.
    result = ingest_worker("--web-host", "192.0.2.1", "--web-port", port)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        "ingest: error [invalid_setting]: web host 192.0.2.1 is not an address of this "
        "machine (INGEST_WEB_HOST, --web-host): Cannot assign requested address\n"))


def test_a_dead_letter_topic_that_is_the_raw_topic_is_refused_before_a_broker_starts() -> None:
    # Found by a new-user trial: each dead letter was read back and dead-lettered again, for
    # ever (641 in 60 s).
    result = ingest_worker(INGEST_TOPIC_DEADLETTER="articles.raw")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        "ingest: error [invalid_setting]: INGEST_TOPIC_RAW and INGEST_TOPIC_DEADLETTER name "
        "the same topic, 'articles.raw': each needs a topic of its own\n"))


@pytest.mark.parametrize(("var", "value"), [("INGEST_DEDUP_WINDOW_DAYS", "inf"),
                                            ("INGEST_BROKER_WAIT_S", "1e400")])
def test_an_infinite_setting_is_refused_before_a_broker_starts(var: str, value: str) -> None:
    # Found by a new-user trial: an OverflowError traceback turning it into milliseconds.
    result = ingest_worker(**{var: value})
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"ingest: error [invalid_setting]: {var} must be a finite number\n")


def test_a_data_directory_another_worker_holds_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    """Until 2026-12-06 two workers shared it, each overwriting the other's index snapshots
    (an operator trial). The lock is the kernel's: it goes with the process that held it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from streams.shell.worker import lock_data_dir; lock_data_dir(Path(sys.argv[1])); "
         "print('held', flush=True); time.sleep(60)", str(tmp_path)],
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        result = subprocess.run(
            [sys.executable, "-m", "streams.cli.main", "worker"], check=False,
            capture_output=True, timeout=60,
            env={**os.environ, "INGEST_DATA_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": ""},
        )
        assert (result.returncode, result.stdout) == (2, b"")
        assert result.stderr.decode() == (
            f"ingest: error [invalid_setting]: INGEST_DATA_DIR={str(tmp_path)!r} is in use by "
            f"another worker (pid {holder.pid}): give each worker on a host its own data "
            "directory\n")
    finally:
        holder.kill()
        holder.wait()
    again = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from streams.shell.worker import lock_data_dir; lock_data_dir(Path(sys.argv[1]))",
         str(tmp_path)], check=False, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()  # SIGKILL released it


def test_a_lock_file_that_cannot_be_opened_is_refused_with_one_line(tmp_path: Path) -> None:
    """A directory named LOCK gave an IsADirectoryError traceback (a review)."""
    (tmp_path / "LOCK").mkdir()
    with pytest.raises(ConfigError, match="its LOCK file cannot be opened: Is a directory"):
        lock_data_dir(tmp_path)
