"""`python -m bench.run`: start a real `footfall serve`, measure it, write bench/RESULTS.md.

Measures, in one run and on one machine:

(a) single-event ingest: wrk POSTing one small JSON event over keep-alive
    connections, against footfall and against a bare ASGI "ceiling" app served
    the same way; every 2xx from footfall is a durable acknowledgement, and the
    stored count is checked against wrk's count afterwards;
(b) batch ingest: the generated data set as NDJSON bodies, events/s;
(c) dashboard queries on that data set: median and p90 latency through HTTP.

The server is pinned to one core and the load generators to another when the
machine has two or more (see --server-cpus, --client-cpus, --no-pin).
See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import datagen
from bench.loadgen import (
    WRK_INSTALL_HINT,
    JsonClient,
    LoadResult,
    percentile,
    post_bodies,
    python_post_loop,
    wrk_post,
    wrk_version,
)
from bench.queries import DASHBOARD
from bench.report import (
    Report,
    Section,
    fmt_bytes,
    fmt_int,
    fmt_ms,
    machine_table,
    utc_now,
)
from bench.servers import (
    REPO_ROOT,
    RunningServer,
    ceiling_spec,
    directory_size,
    footfall_spec,
    start,
)
from bench.system import CpuShare, CpuWatch, busy_now, load_average

# Other work taking more than this share of the server's core makes a warning.
NOISE_LIMIT = 0.10
EVENTS_PATH = "/api/v1/events"
QUERY_PATH = "/api/v1/query"
WRK_APP = "bench-wrk"
# One pageview, ~90 bytes: what a tracker script sends per page load.
SINGLE_EVENT = (
    b'{"app":"' + WRK_APP.encode() + b'","url":"https://bench.example/pricing",'
    b'"referrer":"https://www.google.com/"}'
)
SMOKE = {"events": 2_000, "duration": 2.0, "query_runs": 1, "warmup": 0, "batch_size": 500}
FULL = {"events": 1_000_000, "duration": 15.0, "query_runs": 10, "warmup": 1, "batch_size": 10_000}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark a real footfall server; writes a Markdown report.",
    )
    parser.add_argument("--events", type=int, help="generated events (default 1,000,000)")
    parser.add_argument("--duration", type=float, help="seconds of wrk per server (default 15)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--query-runs", type=int, help="timed runs per query (default 10)")
    parser.add_argument("--warmup", type=int, help="untimed runs per query first (default 1)")
    parser.add_argument("--batch-size", type=int, help="events per NDJSON body (default 10,000)")
    parser.add_argument("--batch-threads", type=int, default=2, help="batch client threads (2)")
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--server-cpus", default="0", help="taskset list for servers ('0')")
    parser.add_argument("--client-cpus", default="1", help="taskset list for clients ('1')")
    parser.add_argument("--no-pin", action="store_true", help="do not pin anything to CPUs")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny, fast run that checks the harness end to end (timings meaningless)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "bench" / "RESULTS.md",
        help="where to write the report (default bench/RESULTS.md)",
    )
    args = parser.parse_args(argv)
    for key, value in (SMOKE if args.smoke else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.events < 1 or args.query_runs < 1 or args.connections < 1:
        parser.error("--events, --query-runs and --connections must be at least 1")
    if not 1 <= args.batch_size <= datagen.MAX_EVENTS_PER_BODY:
        parser.error(f"--batch-size must be 1..{datagen.MAX_EVENTS_PER_BODY}")
    return args


def _cpu_set(spec: str) -> set[int]:
    cpus: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def choose_pinning(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """(server cpus, client cpus, a description) — no pinning on one core or with --no-pin."""
    if args.no_pin:
        return None, None, "not pinned (--no-pin)"
    if (os.cpu_count() or 1) < 2:
        return None, None, "not pinned (one core: server and clients share it)"
    available = os.sched_getaffinity(0)
    if not (_cpu_set(args.server_cpus) | _cpu_set(args.client_cpus)) <= available:
        return None, None, f"not pinned (cpus {sorted(available)} available)"
    return (
        args.server_cpus,
        args.client_cpus,
        f"server `taskset -c {args.server_cpus}`, "
        f"wrk and Python clients `taskset -c {args.client_cpus}`",
    )


@dataclass
class Phase:
    name: str
    share: CpuShare | None


@dataclass
class Memory:
    rows: list[tuple[str, int, int]] = field(default_factory=list)

    def sample(self, moment: str, server: RunningServer) -> None:
        rss, peak = server.memory()
        self.rows.append((moment, rss, peak))


@dataclass
class Outcome:
    """The headline numbers, for the targets table and the console summary."""

    ceiling: LoadResult | None = None
    single: LoadResult | None = None
    batch_events_per_s: float | None = None
    query_medians: dict[str, float] = field(default_factory=dict)
    page_ms: float | None = None
    peak_rss: int | None = None


class Bench:
    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        self.args = args
        self.wrk = wrk_version()
        self.server_cpus, self.client_cpus, self.pinning = choose_pinning(args)
        self.outcome = Outcome()
        started = utc_now()
        command = " ".join(["python -m bench.run", *map(shlex.quote, argv)])
        self.report = Report(
            "footfall benchmark results",
            intro=[
                f"Run on {started:%Y-%m-%d %H:%M} UTC with:",
                f"```\n{command}\n```",
                "How to read these numbers: bench/README.md."
                + (" **Smoke run: the timings mean nothing.**" if args.smoke else ""),
            ],
        )
        self.machine = self.report.section("Machine and versions")
        self.data_section = self.report.section("Data set")
        self.single_section = self.report.section("Single-event ingest")
        self.batch_section = self.report.section("Batch ingest")
        self.query_section = self.report.section("Dashboard queries")
        self.memory_section = self.report.section("Server resources")
        self.targets_section = self.report.section("Against the issue 7 targets")
        self.memory = Memory()
        self.phases: list[Phase] = []
        self.server_cpu_set = _cpu_set(self.server_cpus) if self.server_cpus else None

    def watch(self, server: RunningServer) -> CpuWatch:
        return CpuWatch(self.server_cpu_set, server.pid)

    def record(self, name: str, watch: CpuWatch) -> None:
        self.phases.append(Phase(name, watch.stop()))

    # --- the run ----------------------------------------------------------------------

    def run(self) -> Report:
        if self.client_cpus is not None:
            os.sched_setaffinity(0, _cpu_set(self.client_cpus))
        machine = machine_table(self.machine, root=REPO_ROOT, wrk=self.wrk, pinning=self.pinning)
        busy = busy_now(1.0)
        machine.add(
            "CPU busy before the run",
            ", ".join(f"cpu{cpu} {share:.0%}" for cpu, share in sorted(busy.items()))
            + f" (1 s, harness idle); load average {load_average()}",
        )
        log(f"generating {self.args.events:,} events (seed {self.args.seed})")
        data = datagen.generate(
            self.args.events, seed=self.args.seed, batch_size=self.args.batch_size
        )
        self.describe_data(data)
        ceiling_single = self.measure_ceiling()
        with tempfile.TemporaryDirectory(prefix="footfall-bench-") as tmp:
            data_dir = Path(tmp) / "data"
            try:
                log("starting footfall")
                server = start(footfall_spec(data_dir), cpus=self.server_cpus)
            except Exception as exc:
                self.batch_section.error(f"footfall did not start: {exc}")
                return self.finish()
            with server:
                self.memory.sample("started, empty store", server)
                phases: list[tuple[str, Section, Callable[[], None], str]] = [
                    ("(b) batch ingest", self.batch_section,
                     lambda: self.measure_batch(server, data),
                     f"after loading {data.events:,} events"),
                    ("(c) dashboard queries", self.query_section,
                     lambda: self.measure_queries(server, data), "after the queries"),
                    ("(a) single-event ingest, footfall", self.single_section,
                     lambda: self.measure_single(server, ceiling_single),
                     "after single-event ingest"),
                ]  # fmt: skip
                for name, section, measure, moment in phases:
                    watch = self.watch(server)
                    try:
                        measure()
                    except Exception as exc:
                        log(f"{name} failed: {exc!r}")
                        section.error(
                            f"{name} failed: {exc!r}\n{traceback.format_exc(limit=-3)}"
                            f"\nserver output:\n{server.output_tail()}"
                        )
                    self.record(name, watch)
                    self.memory.sample(moment, server)
                log("stopping footfall (SIGTERM)")
                code = server.stop()
            self.describe_resources(code, directory_size(data_dir), server)
        return self.finish()

    def finish(self) -> Report:
        self.describe_targets()
        return self.report

    # --- data ---------------------------------------------------------------------------

    def describe_data(self, data: datagen.Dataset) -> None:
        section = self.data_section
        section.text(
            "Generated by bench/datagen.py (deterministic for a seed, a size and an end "
            "time): 8 apps, 90 days ending an hour before the run, visits of 1–10 events, "
            "Zipf pages, search/social/direct referrers, UTM on some visits, browsers, "
            "OS, devices and countries, custom events with props."
        )
        table = section.table(["", ""], numeric=False)
        table.add("events", fmt_int(data.events))
        table.add("visits (session ids)", fmt_int(data.visits))
        table.add("visitors (ip / user id)", fmt_int(data.visitors))
        table.add("custom events", fmt_int(data.custom_events))
        table.add("time span", f"{data.first_ts} – {data.last_ts}")
        table.add(
            "events per app",
            ", ".join(f"{app} {fmt_int(n)}" for app, n in data.per_app.items()),
        )
        table.add(
            "NDJSON",
            f"{fmt_bytes(data.total_bytes)} in {len(data.bodies)} bodies "
            f"({data.total_bytes / data.events:.0f} bytes per event)",
        )
        table.add("seed", str(data.seed))
        table.add("generation time", f"{data.seconds:.1f} s")

    # --- (a) single-event ingest -------------------------------------------------------

    def load(self, server: RunningServer) -> LoadResult:
        """Closed-loop single-event POSTs: wrk, or the Python fallback without wrk."""
        if self.wrk is not None:
            return wrk_post(
                server.url + EVENTS_PATH,
                SINGLE_EVENT,
                connections=self.args.connections,
                duration_s=self.args.duration,
                cpus=self.client_cpus,
            )
        host, port = server.host_port
        return python_post_loop(
            host,
            port,
            EVENTS_PATH,
            SINGLE_EVENT,
            connections=min(self.args.connections, 8),
            duration_s=self.args.duration,
        )

    def measure_ceiling(self) -> LoadResult | None:
        log("measuring the bare ASGI ceiling")
        try:
            with start(ceiling_spec(), cpus=self.server_cpus) as ceiling:
                watch = self.watch(ceiling)
                result = self.load(ceiling)
                self.record("(a) single-event ingest, ceiling", watch)
        except Exception as exc:
            self.single_section.error(f"ceiling run failed: {exc}")
            return None
        self.outcome.ceiling = result
        return result

    def measure_single(self, server: RunningServer, ceiling: LoadResult | None) -> None:
        section = self.single_section
        log(f"single-event ingest for {self.args.duration:g} s")
        try:
            result = self.load(server)
        except Exception as exc:
            section.error(f"footfall single-event run failed: {exc}")
            return
        self.outcome.single = result
        tool = (
            f"wrk -t1 -c{result.connections} -d{self.args.duration:g}s"
            if result.tool == "wrk"
            else f"Python, {result.connections} threads (wrk missing: client-bound)"
        )
        section.text(
            f"`POST {EVENTS_PATH}` with one {len(SINGLE_EVENT)}-byte JSON event "
            f"(`{SINGLE_EVENT.decode()}`), {tool}, keep-alive, closed loop. "
            "footfall answers 202 only after the event is committed (durable ack). "
            "The ceiling is bench/ceiling.py: a bare ASGI callable that decodes the "
            "same body with msgspec and bumps a counter, on the same uvicorn "
            "(uvloop, httptools) and the same pinning."
        )
        table = section.table(
            ["server", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "responses",
             "non-2xx", "socket errors", "vs ceiling"]
        )  # fmt: skip
        for name, row in (("bare ASGI ceiling", ceiling), ("footfall", result)):
            if row is None:
                continue
            ratio = f"{row.rps / ceiling.rps:.0%}" if ceiling and ceiling.rps else "n/a"
            errors = ", ".join(f"{k} {v}" for k, v in row.socket_errors.items()) or "0"
            table.add(
                name, fmt_int(row.rps), fmt_ms(row.p50_ms), fmt_ms(row.p90_ms),
                fmt_ms(row.p99_ms), fmt_ms(row.max_ms), fmt_int(row.requests),
                fmt_int(row.non_2xx), errors, ratio,
            )  # fmt: skip
        self.verify_single(server, result)

    def verify_single(self, server: RunningServer, result: LoadResult) -> None:
        """Every 2xx must be stored; at most one request per connection may be unreported."""
        section = self.single_section
        host, port = server.host_port
        client = JsonClient(host, port)
        query = {"app": WRK_APP, "date_range": "all", "metrics": ["events"]}
        stored, previous = -1, -2
        try:
            # Requests in flight when wrk stopped may still be committing: wait until stable.
            deadline = time.monotonic() + 5
            while stored != previous and time.monotonic() < deadline:
                previous = stored
                time.sleep(0.3)
                status, body, _ = client.post(QUERY_PATH, query)
                if status != 200:
                    section.error(f"durability check query failed: HTTP {status}: {body}")
                    return
                stored = int(body["results"][0]["metrics"][0]) if body["results"] else 0
        finally:
            client.close()
        acked = result.ok
        slack = result.connections + result.errors
        extra = stored - acked
        verdict = (
            f"Durability check: the store holds **{fmt_int(stored)}** events of app "
            f"`{WRK_APP}`; the load generator counted **{fmt_int(acked)}** 2xx responses "
            f"(difference {extra:+,}). "
        )
        if stored < acked:
            section.error(verdict + f"{-extra:,} acknowledged events are missing")
        elif extra > slack:
            section.text(
                verdict + f"More than the {slack} requests that can be in flight "
                "(one per connection) when the load generator stops: unexplained surplus."
            )
        else:
            section.text(
                verdict + "Every acknowledged event is stored. A surplus of at most one "
                "request per connection is expected: wrk stops counting at the deadline "
                "while requests already sent are still committed and answered."
            )

    # --- (b) batch ingest ---------------------------------------------------------------

    def measure_batch(self, server: RunningServer, data: datagen.Dataset) -> None:
        section = self.batch_section
        host, port = server.host_port
        threads = self.args.batch_threads
        log(f"batch ingest: {len(data.bodies)} NDJSON bodies, {threads} client threads")
        result = post_bodies(
            host, port, EVENTS_PATH, data.bodies, data.body_events, threads=threads
        )
        self.outcome.batch_events_per_s = result.events_per_s
        section.text(
            f"The whole data set, `POST {EVENTS_PATH}` with `Content-Type: "
            f"application/x-ndjson`, up to {self.args.batch_size:,} events per body, "
            f"{threads} client threads with keep-alive (`http.client`); bodies are built "
            "before the clock starts. Each 202 means the whole body is committed."
        )
        table = section.table(
            ["events", "bodies", "client threads", "seconds", "events/s", "MB/s",
             "p50 ms per body", "p99 ms per body"]
        )  # fmt: skip
        table.add(
            fmt_int(result.events_accepted), fmt_int(result.requests), threads,
            f"{result.seconds:.2f}", fmt_int(result.events_per_s),
            f"{result.bytes_sent / 1e6 / result.seconds:.1f}" if result.seconds else "n/a",
            fmt_ms(percentile(result.latencies_ms, 50)),
            fmt_ms(percentile(result.latencies_ms, 99)),
        )  # fmt: skip
        for failure in result.failures[:5]:
            section.error(failure)
        if result.events_accepted != result.events_sent:
            section.error(f"accepted {result.events_accepted:,} of {result.events_sent:,} events")
        self.verify_stored(server, data)

    def verify_stored(self, server: RunningServer, data: datagen.Dataset) -> None:
        host, port = server.host_port
        client = JsonClient(host, port)
        stored: dict[str, int] = {}
        try:
            for app in data.per_app:
                status, body, _ = client.post(
                    QUERY_PATH, {"app": app, "date_range": "all", "metrics": ["events"]}
                )
                if status != 200:
                    self.batch_section.error(f"count query for {app}: HTTP {status}: {body}")
                    return
                stored[app] = int(body["results"][0]["metrics"][0]) if body["results"] else 0
        finally:
            client.close()
        total = sum(stored.values())
        if stored == data.per_app:
            self.batch_section.text(
                f"Check: the store holds {total:,} events, exactly the generated count per app."
            )
        else:
            self.batch_section.error(
                f"the store holds {total:,} events, generated {data.events:,}: "
                f"per app stored {stored}, generated {data.per_app}"
            )

    # --- (c) queries --------------------------------------------------------------------

    def measure_queries(self, server: RunningServer, data: datagen.Dataset) -> None:
        section = self.query_section
        runs, warmup = self.args.query_runs, self.args.warmup
        log(f"dashboard queries: {len(DASHBOARD)} × ({warmup} warm-up + {runs} timed)")
        host, port = server.host_port
        client = JsonClient(host, port)
        section.text(
            f"`POST {QUERY_PATH}` on app `{datagen.MAIN_APP}` "
            f"({data.per_app.get(datagen.MAIN_APP, 0):,} of the {data.events:,} events), "
            f"one keep-alive connection, one query at a time; {warmup} untimed run(s), then "
            f"{runs} timed. Latency is the client's: request sent → whole response read. "
            "★ = one of the queries a dashboard page fires when it opens."
        )
        table = section.table(["query", "median ms", "p90 ms", "min ms", "rows"])
        page_total = 0.0
        try:
            for case in DASHBOARD:
                timings: list[float] = []
                rows = 0
                failed = False
                for attempt in range(warmup + runs):
                    status, body, elapsed = client.post(QUERY_PATH, case.body)
                    if status != 200:
                        section.error(f"{case.name}: HTTP {status}: {str(body)[:500]}")
                        failed = True
                        break
                    rows = len(body["results"])
                    if attempt >= warmup:
                        timings.append(elapsed)
                if failed:
                    continue
                median = percentile(timings, 50)
                self.outcome.query_medians[case.name] = median
                if case.on_page:
                    page_total += median
                label = f"★ {case.name}" if case.on_page else case.name
                table.add(
                    label, fmt_ms(median), fmt_ms(percentile(timings, 90)),
                    fmt_ms(min(timings)), fmt_int(rows),
                )  # fmt: skip
        finally:
            client.close()
        page = [case.name for case in DASHBOARD if case.on_page]
        if all(name in self.outcome.query_medians for name in page):
            self.outcome.page_ms = page_total
            section.text(
                f"One dashboard page (the {len(page)} ★ queries, one after another): "
                f"**{fmt_ms(page_total)} ms** (sum of medians)."
            )
        with_body = "\n".join(f"- {case.name}: `{_compact(case.body)}`" for case in DASHBOARD)
        section.text(f"<details><summary>Query bodies</summary>\n\n{with_body}\n\n</details>")

    # --- resources and targets ----------------------------------------------------------

    def describe_resources(self, exit_code: int, disk: int, server: RunningServer) -> None:
        section = self.memory_section
        table = section.table(["moment", "server RSS", "peak RSS so far"])
        for moment, rss, peak in self.memory.rows:
            table.add(moment, fmt_bytes(rss), fmt_bytes(peak))
        peaks = [peak for _, _, peak in self.memory.rows if peak]
        self.outcome.peak_rss = max(peaks) if peaks else None
        section.text(
            f"Data directory after shutdown: {fmt_bytes(disk)}. "
            f"Exit code after SIGTERM: {exit_code}."
        )
        self.describe_noise()
        if exit_code != 0:
            # footfall should drain and exit 0; a bug for its own tests, not a bench failure.
            section.warning(
                f"footfall exited with {exit_code} on SIGTERM (expected 0: drain, then exit 0)."
                f"\n{server.output_tail()}"
            )

    def describe_noise(self) -> None:
        section = self.memory_section
        where = "the server's core" if self.server_cpu_set else "the machine"
        section.text(
            f"Where the time of {where} went during each measurement (/proc/stat and "
            "/proc/PID/stat): the server process; other processes; interrupts (loopback "
            "networking is partly counted here); steal (the hypervisor running other "
            'guests). The rest is idle. On a quiet machine "other processes" and '
            '"steal" are near 0 %; where they are not, that measurement is pessimistic.'
        )
        table = section.table(
            ["measurement", "seconds", "server", "other processes", "interrupts", "steal"]
        )
        noisy: list[str] = []
        for phase in self.phases:
            if phase.share is None:
                table.add(phase.name, "n/a", "n/a", "n/a", "n/a", "n/a")
                continue
            share = phase.share
            table.add(
                phase.name, f"{share.seconds:.1f}", f"{share.server:.0%}",
                f"{share.others:.0%}", f"{share.interrupts:.0%}", f"{share.steal:.0%}",
            )  # fmt: skip
            if share.lost > NOISE_LIMIT:
                noisy.append(f"{phase.name} ({share.lost:.0%})")
        if noisy:
            section.warning(
                f"other processes or steal took more than {NOISE_LIMIT:.0%} of {where} during: "
                + ", ".join(noisy)
                + ". Re-run on a quiet machine for numbers to compare."
            )

    def describe_targets(self) -> None:
        section = self.targets_section
        out = self.outcome
        section.text(
            "Issue 7's targets, where this run measures them. The query targets are "
            "stated for 10 M events (`--events 10000000`); the replica baselines "
            "(contract 001 and 003) are not in the bench yet."
            + (" Smoke run: not meaningful." if self.args.smoke else "")
        )
        table = section.table(["target", "measured", "met"], numeric=False)

        def row(target: str, measured: str, met: bool | None) -> None:
            table.add(target, measured, "n/a" if met is None else ("yes" if met else "**no**"))

        if out.single is not None and out.ceiling is not None and out.ceiling.rps:
            ratio = out.single.rps / out.ceiling.rps
            row("single-event ingest ≥ 65 % of the bare-ASGI ceiling", f"{ratio:.0%}",
                ratio >= 0.65)  # fmt: skip
        if out.single is not None:
            row("single-event p99 < 10 ms at 64 connections",
                f"{fmt_ms(out.single.p99_ms)} ms at {out.single.connections}",
                out.single.p99_ms < 10 and out.single.connections >= 64)  # fmt: skip
            errors = out.single.non_2xx + out.single.errors
            row("single-event ingest: 0 errors", fmt_int(errors), errors == 0)
        if out.batch_events_per_s is not None:
            row("batch ingest ≥ 500,000 events/s", fmt_int(out.batch_events_per_s),
                out.batch_events_per_s >= 500_000)  # fmt: skip
        if out.query_medians:
            name, worst = max(out.query_medians.items(), key=lambda kv: kv[1])
            row("every dashboard query median < 50 ms",
                f"slowest: {fmt_ms(worst)} ms ({name})", worst < 50)  # fmt: skip
        if out.page_ms is not None:
            row("one dashboard page < 300 ms", f"{fmt_ms(out.page_ms)} ms",
                out.page_ms < 300)  # fmt: skip
        if out.peak_rss is not None:
            row("server RSS < 1 GiB", f"peak {fmt_bytes(out.peak_rss)}",
                out.peak_rss < 1 << 30)  # fmt: skip


def _compact(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if wrk_version() is None:
        log(WRK_INSTALL_HINT)
        if not args.smoke:
            log("a full run needs wrk (a Python client measures itself, not the server); "
                "--smoke falls back to a Python loop")  # fmt: skip
            return 2
        log("smoke run: using a Python load loop instead")
    bench = Bench(args, argv)
    report = bench.run()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.render())
    out = bench.outcome
    log(f"wrote {args.output}")
    if out.single is not None:
        ceiling = f" (ceiling {fmt_int(out.ceiling.rps)})" if out.ceiling else ""
        log(f"single-event ingest: {fmt_int(out.single.rps)} req/s{ceiling}, "
            f"p99 {fmt_ms(out.single.p99_ms)} ms")  # fmt: skip
    if out.batch_events_per_s is not None:
        log(f"batch ingest: {fmt_int(out.batch_events_per_s)} events/s")
    if out.page_ms is not None:
        log(f"one dashboard page: {fmt_ms(out.page_ms)} ms")
    for problem in report.warnings:
        log(f"WARNING {problem.splitlines()[0]}")
    for problem in report.errors:
        log(f"ERROR {problem.splitlines()[0]}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
