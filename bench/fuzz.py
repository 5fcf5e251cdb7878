"""Coverage-guided fuzzing of the core's text path with atheris (libFuzzer), for bounded time.

Run: .venv/bin/python -m bench.fuzz --seconds 60   (``make fuzz`` installs atheris first)

The target is ``Deduplicator.process`` on a fresh instance: envelope parsing,
``normalize_article``, the fingerprint, the decision and the output records. A dead letter with
an input error code is the expected answer to bad input; an ``internal_error`` dead letter (any
unexpected exception), an output over the record budget (32 KiB here, so that 64 KiB inputs
reach the cutting paths), a per-input timeout (2 s: the super-linear paths fixed in issue 11
took seconds at this size) or the RSS limit is a finding. libFuzzer stops at its first finding, so
the parent process restarts it on the same corpus until the time is up and reports every
distinct finding. Findings (``crash-*``, ``timeout-*``, ``oom-*``), the grown corpus and the
libFuzzer log go to ``bench/results/fuzz/``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "fuzz"
CORPUS = RESULTS / "corpus"
LOG = RESULTS / "libfuzzer.log"
FINDING_PREFIXES = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")
# After a finding libFuzzer exits; a restart costs ~2 s of imports, so cap the restarts.
MAX_RESTARTS = 25
# Record budget of the fuzzed core: small enough for 64 KiB inputs to need cutting.
FUZZ_RECORD_BYTES = 32 * 1024

_SEED_VALUES = (
    b'{"id": "a1", "title": "T", "source": "s", "body": "<p>Text &amp; more.</p>"}',
    b'{"body": "date 2024-08-18 F-N-S-T-A-R-T. x F-N-E-N-D. T-E-X-T-S-T-A-R-T. Word."}',
    b"\xef\xbb\xbfPlain text with a BOM.\n\nSecond paragraph.",
    "Ünïcödé “quoted” — text".encode("utf-16"),
    b"<!doctype html><html><head><title>T</title></head><body><article><p>Body text.</p>"
    b"</article></body></html>",
    b"[UPDATED] Council votes.\x00\x07",
    b'{"body": "x", "extra": {"a": [1, 2.5, null, true]}}',
    # Shapes of the hostile cases (tests/robustness/corpus.py), small: the fuzzer grows them.
    b"T-E-X-T-S-T-A-R-T. a" + b" " * 64 + "\u201dHe said, external   on Friday.".encode(),
    b"date 2024-08-18 date 2024-08-19 <html><body><p>Text.</p></body></html>",
    b"Image caption " + b"!" * 64 + b"a\nImage source " + b"!" * 40 + b"b",
    "\ufdfa\ufdfa \u00c3\u00a9 \u4e00\u0e01\u0e31".encode(),
    b'<!doctype html><html><body><article><p>Read <a href="/x">the report</a> now.</p>'
    b'<p>the report</p></article></body></html>',
    b'{"body": "Text.", "title": "' + b"T" * 2000 + b'", "source": "\\u0001s"}',
)


def child(libfuzzer_args: list[str]) -> None:
    """Runs inside the fuzzing process: instrument the streams package, then fuzz.

    The package is imported here, inside ``instrument_imports``, and not at the top: atheris
    only instruments modules imported after it starts.
    """
    import atheris  # noqa: PLC0415 - optional dependency (the fuzz extra)

    with atheris.instrument_imports(include=["streams"]):
        from streams.core.config import CoreConfig  # noqa: PLC0415 - see docstring
        from streams.core.errors import InternalError  # noqa: PLC0415 - see docstring
        from streams.core.pipeline import Deduplicator  # noqa: PLC0415 - see docstring
        from streams.core.record_budget import encoded_size  # noqa: PLC0415 - see docstring
        from streams.core.records import RawMessage  # noqa: PLC0415 - see docstring

    config = CoreConfig(max_record_bytes=FUZZ_RECORD_BYTES)

    def run_target(data: bytes) -> None:
        """One input through the core; a dead letter for bad input, every output in budget."""
        raw = RawMessage("articles.raw", 0, 0, data[:64], data, 1_723_939_200_000)
        outcome = Deduplicator(config, worker="fuzz").process(raw, 1_723_939_201_000)
        if outcome.error_code == InternalError.code:
            raise AssertionError(f"internal_error: {outcome.outputs[0].value['detail']}")
        for output in outcome.outputs:
            size = encoded_size(output.key, output.value)
            if size > config.max_record_bytes:
                raise AssertionError(f"{output.kind} record of {size} bytes is over budget")

    atheris.Setup([sys.argv[0], *libfuzzer_args], run_target)
    atheris.Fuzz()


@dataclass
class Report:
    runs: int = 0
    restarts: int = 0
    coverage: str = ""
    findings: dict[str, list[Path]] = field(default_factory=dict)

    def add(self, signature: str, path: Path) -> None:
        self.findings.setdefault(signature, []).append(path)


def seed_corpus() -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ".gitignore").write_text("*\n")
    seeds = [*_SEED_VALUES, *(p.read_bytes() for p in sorted((ROOT / "streams" / "samples")
                                                             .glob("*.txt")))]
    for index, value in enumerate(seeds):
        path = CORPUS / f"seed-{index:02d}"
        if not path.exists():
            path.write_bytes(value)


def findings_on_disk() -> set[Path]:
    return {p for p in RESULTS.iterdir() if p.name.startswith(FINDING_PREFIXES)}


_RUNS = re.compile(r"^(?:Done (\d+) runs|stat::number_of_executed_units: (\d+))", re.M)
_STATUS = re.compile(r"^#\d+\s+\w+\s+(cov: \d+ ft: \d+ corp: \S+)", re.M)
# atheris prints the exception line right after this banner, then the traceback.
_EXCEPTION = re.compile(r"=== Uncaught Python exception: ===\n([^\n]+)")


def signature(log: str, finding: Path) -> str:
    """A short name for a finding: the exception line, or the libFuzzer kind."""
    match = _EXCEPTION.search(log)
    if finding.name.startswith("crash-") and match:
        return match.group(1)[:160]
    return finding.name.split("-", 1)[0]


def fuzz(seconds: float, rss_limit_mb: int, max_len: int, timeout_s: int) -> Report:
    seed_corpus()
    report = Report()
    deadline = time.monotonic() + seconds
    with LOG.open("w") as log:
        while report.restarts <= MAX_RESTARTS:
            left = int(deadline - time.monotonic())
            if left < 3:
                break
            before = findings_on_disk()
            args = [
                str(CORPUS),
                f"-max_total_time={left}",
                f"-rss_limit_mb={rss_limit_mb}",
                f"-max_len={max_len}",
                f"-timeout={timeout_s}",
                f"-artifact_prefix={RESULTS}/",
                "-print_final_stats=1",
            ]
            done = subprocess.run(
                [sys.executable, "-m", "bench.fuzz", "--child", *args],
                cwd=ROOT, capture_output=True, text=True, errors="replace", check=False,
            )
            output = done.stdout + done.stderr
            log.write(output)
            report.runs += _executed(output)
            status = _STATUS.findall(output)
            report.coverage = status[-1] if status else report.coverage
            new = sorted(findings_on_disk() - before)
            for path in new:
                report.add(signature(output, path), path)
            if not new:
                break
            report.restarts += 1
    return report


def _executed(output: str) -> int:
    counts = [int(a or b) for a, b in _RUNS.findall(output)]
    return max(counts, default=0)


def print_report(report: Report, seconds: float) -> None:
    print(f"fuzzed {seconds:.0f} s: {report.runs} inputs tried, {report.restarts} restart(s) "
          f"after findings; last status: {report.coverage or 'n/a'}")
    print(f"corpus: {len(list(CORPUS.iterdir()))} inputs in {CORPUS.relative_to(ROOT)}; "
          f"log: {LOG.relative_to(ROOT)}")
    if not report.findings:
        print("findings: none")
        return
    print(f"findings: {len(report.findings)} distinct")
    for name, paths in sorted(report.findings.items()):
        shown = ", ".join(p.name for p in paths[:3])
        print(f"  {name}  ({len(paths)} input(s): {shown})")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total fuzzing time")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--max-len", type=int, default=65536, help="largest input, bytes")
    parser.add_argument("--timeout", type=int, default=2, help="seconds per input")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return 0
    args = _parse(argv)
    started = time.monotonic()
    report = fuzz(args.seconds, args.rss_limit_mb, args.max_len, args.timeout)
    print_report(report, time.monotonic() - started)
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
