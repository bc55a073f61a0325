"""`python -m bench.run`: footfall against its baselines, in one run; writes bench/RESULTS.md.

One run, one machine, every comparison measured side by side (issue 7):

1. single-event ingest (`POST /api/v1/events`, `/visit`, `/api/event`) under wrk,
   next to the contract 001 replica and the bare-ASGI ceiling; one row with
   both cores given to the server;
2. batch ingest (NDJSON bodies of up to 10,000 events) into the loaded store;
3. every dashboard and contract query on the generated data set through HTTP,
   next to the hand-written DuckDB SQL for the same answer on the same file;
4. the contract 001 and 003 replicas as baselines (003 on SQLite, loaded with
   the same events);
5. the server's memory while serving queries and under sustained ingest;
6. the scaling table over every run size saved in bench/results/.

The data set is written straight into a store file made by footfall's own
migrations (bench/direct_load.py), so 10 M events load in seconds.
See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import datagen, direct_load, scaling
from bench.baselines import SqlRunner
from bench.ingest import (
    EVENT003,
    SINGLE_EVENT_ENDPOINTS,
    V1,
    VISIT,
    Endpoint,
    rename_apps,
    settled_count,
    stored_events,
)
from bench.loadgen import (
    WRK_INSTALL_HINT,
    JsonClient,
    LoadResult,
    combine,
    percentile,
    post_bodies,
    python_post_loop,
    wrk_post,
    wrk_version,
)
from bench.memory import RssSampler
from bench.querying import Timed, is_dashboard, measure
from bench.report import Report, Section, fmt_bytes, fmt_int, fmt_ms, machine_table, utc_now
from bench.servers import (
    REPO_ROOT,
    RunningServer,
    ceiling_spec,
    directory_size,
    footfall_spec,
    replica001_spec,
    replica003_spec,
    start,
)
from bench.system import CpuShare, CpuWatch, busy_now, load_average

NOISE_LIMIT = 0.10  # other work taking more than this share of the server's core: a warning
JWT_SECRET = "footfall-bench-secret-not-for-production-0123456789"
BATCH_PREFIX = "batch-"
BATCH_PHASE = "NDJSON batches"
CEILING = "bare ASGI ceiling"
REPLICA001 = "contract 001 replica (POST /visit)"
REPLICA003 = "contract 003 replica (POST /events/)"
GIB = 1 << 30
FLAT = 1.10  # RSS at the end of a phase within 10 % of its start
# Issue 7's numbers.
TARGET_VS_001 = 7.0
TARGET_VS_CEILING = 0.65
TARGET_P99_MS = 10.0
TARGET_BOTH_CORES = 20_000
TARGET_BATCH = 500_000
TARGET_QUERY_MS = 50.0
TARGET_PAGE_MS = 300.0
TARGET_SQL_RATIO = 1.5
STORES = ("duckdb", "chdb")
REPLICA003_STATS = (
    "/stats/total",
    "/stats/by-event-type",
    "/stats/by-user?limit=10",
    "/stats/over-time?days=7",
    "/stats/recent-activity?minutes=60",
)
SMOKE = {
    "events": 3_000, "duration": 2.0, "query_runs": 1, "warmup": 0,
    "batch_size": 500, "batch_events": 2_000, "rounds": 1,
}  # fmt: skip
QUICK = {
    "events": 1_000_000, "duration": 8.0, "query_runs": 10, "warmup": 1,
    "batch_size": 10_000, "batch_events": 200_000, "rounds": 3,
}  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark footfall against its baselines; writes a Markdown report.",
    )
    parser.add_argument("--events", type=int, help="events in the query data set (1,000,000)")
    parser.add_argument("--duration", type=float, help="seconds of wrk per measurement (8)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--rounds", type=int, help="ingest loads alternate in this many rounds (3)")
    parser.add_argument("--query-runs", type=int, help="timed runs per query (10)")
    parser.add_argument("--warmup", type=int, help="untimed runs per query first (1)")
    parser.add_argument("--batch-size", type=int, help="events per NDJSON body (10,000)")
    parser.add_argument("--batch-events", type=int, help="events sent as batches (200,000)")
    parser.add_argument("--batch-threads", type=int, default=2, help="batch client threads (2)")
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--server-cpus", default="0", help="taskset list for servers ('0')")
    parser.add_argument("--client-cpus", default="1", help="taskset list for clients ('1')")
    parser.add_argument(
        "--query-cpus",
        help="taskset list for footfall and the hand-written SQL while queries are timed "
        "(default: the server and client cpus together, '0,1': the issue's query figures "
        "are for two cores; ingest stays on --server-cpus)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin anything to CPUs")
    parser.add_argument("--smoke", action="store_true", help="tiny run: checks the harness")
    parser.add_argument(
        "--store",
        choices=STORES,
        default="duckdb",
        help="footfall's store: duckdb (the default) or chdb (the data set copied into it)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md", help="report path"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        help="where run summaries for the scaling table live (default: bench/results next "
        "to the report; a smoke run keeps none)",
    )
    args = parser.parse_args(argv)
    for key, value in (SMOKE if args.smoke else QUICK).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.events, args.query_runs, args.connections, args.rounds) < 1:
        parser.error("--events, --query-runs, --connections and --rounds must be at least 1")
    if not 1 <= args.batch_size <= datagen.MAX_EVENTS_PER_BODY:
        parser.error(f"--batch-size must be 1..{datagen.MAX_EVENTS_PER_BODY}")
    if args.results_dir is None and not args.smoke:
        args.results_dir = args.output.parent / "results"
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
        f"servers `taskset -c {args.server_cpus}`, wrk and Python clients "
        f"`taskset -c {args.client_cpus}`; footfall and the hand-written SQL on "
        f"`{args.query_cpus or 'both'}` while queries are timed",
    )


@dataclass
class Phase:
    name: str
    share: CpuShare | None


@dataclass
class Outcome:
    """The headline numbers, for the targets table, the scaling summary and the console."""

    ceiling: LoadResult | None = None
    replica001: LoadResult | None = None
    single: dict[str, LoadResult] = field(default_factory=dict)
    both_cores: LoadResult | None = None
    batch_events_per_s: float | None = None
    queries: list[Timed] = field(default_factory=list)
    page_ms: float | None = None
    query_rss_peak: int | None = None
    # Per ingest phase: mean RSS after warm-up (10 % of samples from the 25 % mark), mean of
    # the last 10 %, peak.
    ingest_rss: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    peak_rss: int | None = None
    load_s: float | None = None
    disk: int | None = None
    replica003: dict[str, tuple[float, float]] = field(default_factory=dict)  # ms: ff, replica
    ingest003: tuple[LoadResult | None, LoadResult | None] = (None, None)


class Bench:
    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        self.args = args
        self.wrk = wrk_version()
        self.server_cpus, self.client_cpus, self.pinning = choose_pinning(args)
        self.server_cpu_set = _cpu_set(self.server_cpus) if self.server_cpus else None
        self.outcome = Outcome()
        self.phases: list[Phase] = []
        # (endpoint, 2xx counted, events stored) per single-event measurement.
        self.durability: list[tuple[str, int, int]] = []
        # Contract 003 answers per path: footfall's, then the replica's.
        self.answers003: dict[str, list[object]] = {}
        self.sql_copy = Path()
        self.started = utc_now()
        command = " ".join(["python -m bench.run", *map(shlex.quote, argv)])
        self.report = Report(
            "footfall benchmark results",
            intro=[
                f"Run on {self.started:%Y-%m-%d %H:%M} UTC with:",
                f"```\n{command}\n```",
                "Every comparison is measured in this run, on this machine; ratios are the "
                "numbers to read. How to read them: bench/README.md."
                + (" **Smoke run: the timings mean nothing.**" if args.smoke else ""),
            ],
        )
        r = self.report
        self.machine = r.section("Machine and versions")
        self.data_section = r.section("Data set")
        self.single_section = r.section("Single-event ingest (target 1)")
        self.batch_section = r.section("Batch ingest (target 2)")
        self.query_section = r.section("Dashboard queries (target 3)")
        self.contract_section = r.section("Contract endpoints (target 3)")
        self.replica_section = r.section("Contract replicas as baselines (target 4)")
        self.memory_section = r.section("Server resources (target 5)")
        self.scaling_section = r.section("Scaling (target 6)")
        self.noise_section = r.section("Noise: where the server's core went")
        self.targets_section = r.section("Against the issue 7 targets")

    # --- helpers -------------------------------------------------------------------------

    def watch(self, server: RunningServer) -> CpuWatch:
        return CpuWatch(self.server_cpu_set, server.pid)

    def guarded(self, name: str, section: Section, measure: Callable[[], None]) -> None:
        """Run one measurement; a failure is reported in its section, the run goes on."""
        try:
            measure()
        except Exception as exc:
            log(f"{name} failed: {exc!r}")
            section.error(f"{name} failed: {exc!r}\n{traceback.format_exc(limit=-3)}")

    def load(
        self, server: RunningServer, endpoint: Endpoint, name: str, seconds: float
    ) -> LoadResult:
        """Closed-loop single-event POSTs (wrk; a Python loop in a smoke run without wrk)."""
        watch = self.watch(server)
        try:
            if self.wrk is not None:
                return wrk_post(
                    server.url + endpoint.path,
                    endpoint.body,
                    connections=self.args.connections,
                    duration_s=seconds,
                    cpus=self.client_cpus,
                    headers=endpoint.headers,
                )
            host, port = server.host_port
            return python_post_loop(
                host,
                port,
                endpoint.path,
                endpoint.body,
                connections=min(self.args.connections, 8),
                duration_s=seconds,
                headers=endpoint.headers,
            )
        finally:
            self.phases.append(Phase(name, watch.stop()))

    @staticmethod
    def chdb_dir(data_dir: Path) -> Path:
        return data_dir / "chdb"

    def footfall(self, data_dir: Path, cpus: str | None) -> RunningServer:
        env = {"FOOTFALL_JWT_SECRET": JWT_SECRET}
        if self.args.store == "chdb":
            env["FOOTFALL_STORE"] = f"chdb://{self.chdb_dir(data_dir)}"
        return start(footfall_spec(data_dir, env=env), cpus=cpus, timeout=300)

    # --- the run -------------------------------------------------------------------------

    def run(self) -> Report:
        if self.client_cpus is not None:
            os.sched_setaffinity(0, _cpu_set(self.client_cpus))
        machine = machine_table(self.machine, root=REPO_ROOT, wrk=self.wrk, pinning=self.pinning)
        machine.add("sqlalchemy", _version("sqlalchemy"))
        busy = busy_now(1.0)
        machine.add(
            "CPU busy before the run",
            ", ".join(f"cpu{cpu} {share:.0%}" for cpu, share in sorted(busy.items()))
            + f" (1 s, harness idle); load average {load_average()}",
        )
        with tempfile.TemporaryDirectory(prefix="footfall-bench-") as tmp:
            data_dir = Path(tmp) / "data"
            sqlite003 = Path(tmp) / "contract003.sqlite"
            log(f"generating {self.args.events:,} events and loading them into the stores")
            started = time.perf_counter()
            sim = datagen.simulate(self.args.events, seed=self.args.seed)
            table = direct_load.arrow_events(sim)
            del sim
            loaded = direct_load.load_footfall_store(table, data_dir / "footfall.duckdb")
            generate_s = time.perf_counter() - started - loaded.seconds
            # The hand-written SQL's copy: DuckDB lets one process own a file.
            self.sql_copy = Path(tmp) / "sql-baseline.duckdb"
            if self.args.store == "chdb":
                # `footfall migrate` moves the rows into chDB;
                # the DuckDB file stays only as the hand-written SQL's.
                log("copying the data set into chDB")
                copy_s = copy_into_chdb(data_dir / "footfall.duckdb", self.chdb_dir(data_dir))
                loaded = direct_load.Loaded(loaded.events, loaded.per_app, loaded.seconds + copy_s)
                shutil.move(data_dir / "footfall.duckdb", self.sql_copy)
            else:
                shutil.copyfile(data_dir / "footfall.duckdb", self.sql_copy)
            replica_rows = direct_load.load_contract003(table, sqlite003)
            del table
            self.outcome.load_s = loaded.seconds
            self.describe_data(loaded, replica_rows, generate_s)
            batch = datagen.generate(
                self.args.batch_events, seed=self.args.seed + 1, batch_size=self.args.batch_size
            )
            batch_bodies = rename_apps(batch.bodies, BATCH_PREFIX)

            self.guarded(
                "servers",
                self.single_section,
                lambda: self.measure_all(data_dir, sqlite003, loaded, batch, batch_bodies),
            )
            self.outcome.disk = directory_size(data_dir)
        self.describe_single()
        self.describe_queries()
        self.describe_replicas()
        self.describe_memory()
        self.describe_noise()
        self.save_scaling()
        self.describe_targets()
        return self.report

    # --- data --------------------------------------------------------------------------

    def describe_data(
        self, loaded: direct_load.Loaded, replica: direct_load.Loaded, generate_s: float
    ) -> None:
        section = self.data_section
        section.text(
            "Generated by bench/datagen.py (deterministic for a seed, a size and an end time): "
            "8 apps, 90 days ending an hour before the run, visits of 1–10 events with "
            "session ids, returning visitors, Zipf pages, search/social/direct referrers, UTM "
            "on some visits, browsers, OS, devices and countries, custom events with props. "
            "Written straight into a store file created by footfall's own migrations "
            "(bench/direct_load.py: the rows footfall's ingest would store for the same "
            "NDJSON; tests/e2e/test_bench_smoke.py checks every dashboard query answers the "
            "same on a store loaded over HTTP)."
        )
        table = section.table(["", ""], numeric=False)
        table.add("events", fmt_int(loaded.events))
        table.add(
            "events per app",
            ", ".join(f"{app} {fmt_int(n)}" for app, n in sorted(
                loaded.per_app.items(), key=lambda kv: -kv[1]
            )),
        )  # fmt: skip
        table.add(
            "queried app",
            f"{datagen.MAIN_APP} ({fmt_int(loaded.per_app.get(datagen.MAIN_APP, 0))} events)",
        )
        table.add("generation (numpy) and Arrow table", f"{generate_s:.1f} s")
        how = (
            "DuckDB insert + checkpoint"
            if self.args.store == "duckdb"
            else f"DuckDB insert + checkpoint, then copied into {self.args.store}"
        )
        table.add(f"load into footfall's store ({how})", f"{loaded.seconds:.1f} s")
        table.add(
            "contract 003 replica's SQLite",
            f"the {fmt_int(replica.events)} events of {datagen.MAIN_APP} "
            f"(user, type, time, props), loaded in {replica.seconds:.1f} s",
        )
        table.add("seed", str(self.args.seed))

    # --- baselines for single-event ingest ------------------------------------------------

    def measure_all(
        self,
        data_dir: Path,
        sqlite003: Path,
        loaded: direct_load.Loaded,
        batch: datagen.Dataset,
        batch_bodies: list[bytes],
    ) -> None:
        """Every server up at once, each pinned to the server core(s); loads alternate
        between them round by round, so they share whatever else the machine is doing."""
        cpus = self.server_cpus
        log("starting the ceiling, the contract 001 and 003 replicas and footfall")
        with (
            start(ceiling_spec(), cpus=cpus) as ceiling,
            start(replica001_spec(), cpus=cpus) as replica001,
            start(replica003_spec(sqlite003), cpus=cpus, timeout=120) as replica003,
            self.footfall(data_dir, cpus) as server,
        ):
            self.check_loaded(server, loaded)
            with RssSampler(server.pid) as sampler:
                sampler.phase = "queries"
                self.guarded("queries", self.query_section, lambda: self.queries(server))
                self.outcome.query_rss_peak = max(sampler.series.values("queries"), default=0)
                sampler.phase = "003 stats"
                self.guarded(
                    "contract 003 stats",
                    self.replica_section,
                    lambda: self.stats003(server, replica003),
                )
                targets: list[tuple[str, RunningServer, Endpoint]] = [
                    (CEILING, ceiling, V1),
                    (REPLICA001, replica001, VISIT),
                    *((e.label, server, e) for e in SINGLE_EVENT_ENDPOINTS),
                    (EVENT003.label, server, EVENT003),
                ]
                self.guarded(
                    "single-event ingest",
                    self.single_section,
                    lambda: self.ingest_rounds(targets, sampler),
                )
                self.guarded(
                    "contract 003 replica ingest",
                    self.replica_section,
                    lambda: self.ingest_replica003(replica003),
                )
                sampler.phase = BATCH_PHASE
                self.guarded(
                    "batch ingest",
                    self.batch_section,
                    lambda: self.measure_batch(server, batch, batch_bodies),
                )
                sampler.phase = ""
                self.guarded("both cores", self.single_section, lambda: self.measure_both(server))
                for phase in (
                    *(e.label for e in SINGLE_EVENT_ENDPOINTS),
                    EVENT003.label,
                    BATCH_PHASE,
                ):
                    values = sampler.series.values(phase)
                    if values:
                        # The first quarter is warm-up (buffers, caches, the first batch).
                        k = max(1, len(values) // 10)
                        settled = values[len(values) // 4 :][:k]
                        self.outcome.ingest_rss[phase] = (
                            sum(settled) / len(settled), sum(values[-k:]) / k, max(values),
                        )  # fmt: skip
                self.outcome.peak_rss = server.memory()[1]
            log("stopping every server (SIGTERM)")
            code = server.stop()
            if code != 0:
                self.memory_section.warning(
                    f"footfall exited with {code} on SIGTERM (expected 0)\n{server.output_tail()}"
                )

    def check_loaded(self, server: RunningServer, loaded: direct_load.Loaded) -> None:
        client = JsonClient(*server.host_port)
        try:
            stored = {app: stored_events(client, app) for app in loaded.per_app}
        finally:
            client.close()
        if stored != loaded.per_app:
            self.query_section.error(
                f"footfall sees {stored} events per app, loaded {loaded.per_app}"
            )

    def queries(self, server: RunningServer) -> None:
        from footfall.auth import mint_token

        runs, warmup = self.args.query_runs, self.args.warmup
        log(f"queries through HTTP: {warmup} warm-up + {runs} timed each")
        token = mint_token(JWT_SECRET, "bench", dt.timedelta(hours=6))
        cpus = self.query_cpus
        if cpus is not None and self.server_cpus is not None:
            log(f"footfall and the hand-written SQL on cpus {cpus} while queries are timed")
            set_affinity(server.pid, cpus)
        try:
            with SqlRunner(self.sql_copy, cpus) as sql:
                watch = CpuWatch(_cpu_set(cpus) if cpus else None, server.pid, helper=sql.proc.pid)
                self.outcome.queries = measure(
                    *server.host_port, sql, runs=runs, warmup=warmup, token=token,
                    app=datagen.MAIN_APP,
                )  # fmt: skip
                self.phases.append(
                    Phase(f"(3) queries, HTTP and hand SQL alternating, cpus {cpus}", watch.stop())
                )
        finally:
            if cpus is not None and self.server_cpus is not None:
                set_affinity(server.pid, self.server_cpus)

    def query_pinning(self) -> str:
        cpus = self.query_cpus
        if cpus is None:
            return "Nothing is pinned."
        return (
            f"While queries are timed, footfall (all its threads) and the hand-written SQL "
            f"run on cpus {cpus} (`--query-cpus`; the issue's query figures are for two "
            "cores), the one client sharing them; ingest is measured on "
            f"`{self.server_cpus}` only."
        )

    @property
    def query_cpus(self) -> str | None:
        """Where queries run: --query-cpus, else the server's and the clients' cpus."""
        if self.server_cpus is None or self.client_cpus is None:
            return None
        if self.args.query_cpus:
            return str(self.args.query_cpus)
        both = _cpu_set(self.server_cpus) | _cpu_set(self.client_cpus)
        return ",".join(str(c) for c in sorted(both))

    def ingest_rounds(
        self, targets: list[tuple[str, RunningServer, Endpoint]], sampler: RssSampler
    ) -> None:
        """`--rounds` rounds; in each, every target gets duration/rounds seconds of wrk."""
        rounds = self.args.rounds
        seconds = max(1.0, self.args.duration / rounds)
        before: dict[str, int] = {}
        for key, server, endpoint in targets:
            if server.spec.name == "footfall":
                before[key] = self.count(server, endpoint.app)
        runs: dict[str, list[LoadResult]] = {key: [] for key, _, _ in targets}
        for round_index in range(rounds):
            log(f"single-event ingest, round {round_index + 1} of {rounds}")
            for key, server, endpoint in targets:
                sampler.phase = key if key in before else ""
                runs[key].append(self.load(server, endpoint, f"(1) {key}", seconds))
        sampler.phase = ""
        for key, server, endpoint in targets:
            result = combine(runs[key])
            if key == CEILING:
                self.outcome.ceiling = result
            elif key == REPLICA001:
                self.outcome.replica001 = result
            elif endpoint is EVENT003:
                self.outcome.ingest003 = (result, self.outcome.ingest003[1])
            else:
                self.outcome.single[key] = result
            if key in before:
                self.check_durable(
                    key, result, self.count(server, endpoint.app, settle=True) - before[key]
                )

    def ingest_replica003(self, replica: RunningServer) -> None:
        """One run of the full duration: a commit per request on SQLite can take longer
        than a round, and a round with no answer at all says nothing."""
        log("contract 003 replica: POST /events/")
        result = self.load(replica, EVENT003, f"(4) {REPLICA003}", self.args.duration)
        self.outcome.ingest003 = (self.outcome.ingest003[0], result)

    def count(self, server: RunningServer, app: str, *, settle: bool = False) -> int:
        # A fresh connection each time: one left idle during a load would be closed by
        # the server (keep-alive timeout).
        client = JsonClient(*server.host_port)
        try:
            return settled_count(client, app) if settle else stored_events(client, app)
        finally:
            client.close()

    def check_durable(self, label: str, result: LoadResult, stored: int) -> None:
        slack = (result.connections + result.errors) * result.rounds
        if stored < result.ok:
            self.single_section.error(
                f"{label}: {result.ok - stored:,} acknowledged events are missing "
                f"(2xx {result.ok:,}, stored {stored:,})"
            )
        elif stored - result.ok > slack:
            self.single_section.warning(
                f"{label}: {stored - result.ok:,} more events stored than 2xx counted "
                f"(at most {slack} can be in flight when wrk stops)"
            )
        self.durability.append((label, result.ok, stored))

    def measure_batch(
        self, server: RunningServer, batch: datagen.Dataset, bodies: list[bytes]
    ) -> None:
        host, port = server.host_port
        threads = self.args.batch_threads
        log(f"batch ingest: {len(bodies)} NDJSON bodies, {threads} client threads")
        watch = self.watch(server)
        result = post_bodies(
            host, port, "/api/v1/events", bodies, batch.body_events, threads=threads
        )
        self.phases.append(Phase("(2) batch ingest", watch.stop()))
        self.outcome.batch_events_per_s = result.events_per_s
        section = self.batch_section
        section.text(
            f"{fmt_int(batch.events)} generated events (the same generator, other seed, apps "
            f"renamed `{BATCH_PREFIX}*`) as NDJSON bodies of up to {self.args.batch_size:,} "
            f"events, `POST /api/v1/events`, {threads} client threads with keep-alive, into the "
            f"store already holding the query data set. Bodies are built before the clock "
            "starts; each 202 means the whole body is committed, with full enrichment."
        )
        table = section.table(
            ["events", "bodies", "seconds", "events/s", "MB/s", "p50 ms per body",
             "p99 ms per body", "target", "met"]
        )  # fmt: skip
        eps = result.events_per_s
        table.add(
            fmt_int(result.events_accepted), fmt_int(result.requests), f"{result.seconds:.2f}",
            fmt_int(eps),
            f"{result.bytes_sent / 1e6 / result.seconds:.1f}" if result.seconds else "n/a",
            fmt_ms(percentile(result.latencies_ms, 50)),
            fmt_ms(percentile(result.latencies_ms, 99)),
            f"≥ {fmt_int(TARGET_BATCH)}", _met(eps >= TARGET_BATCH),
        )  # fmt: skip
        for failure in result.failures[:5]:
            section.error(failure)
        client = JsonClient(host, port)
        try:
            stored = {app: stored_events(client, BATCH_PREFIX + app) for app in batch.per_app}
        finally:
            client.close()
        if stored == batch.per_app:
            section.text(
                f"Check: the store holds {sum(stored.values()):,} `{BATCH_PREFIX}*` events, "
                "exactly the generated count per app."
            )
        else:
            section.error(f"batch apps hold {stored}, generated {batch.per_app}")

    def measure_both(self, server: RunningServer) -> None:
        """footfall (all its threads) moved onto both cores, wrk sharing them; moved back."""
        if self.server_cpus is None or self.client_cpus is None:
            return
        both = ",".join(
            str(c) for c in sorted(_cpu_set(self.server_cpus) | _cpu_set(self.client_cpus))
        )
        log(f"footfall on cpus {both}, wrk sharing them")
        set_affinity(server.pid, both)
        saved, self.client_cpus = self.client_cpus, both
        saved_set, self.server_cpu_set = self.server_cpu_set, _cpu_set(both)
        try:
            self.outcome.both_cores = self.load(
                server, V1, f"(1) footfall v1, cpus {both}", self.args.duration
            )
        finally:
            self.client_cpus, self.server_cpu_set = saved, saved_set
            set_affinity(server.pid, self.server_cpus)

    # --- contract 003 --------------------------------------------------------------------

    def stats003(self, server: RunningServer, replica: RunningServer) -> None:
        """Contract 003's statistics from footfall and from the replica, run by run."""
        runs = max(1, min(self.args.query_runs, 5))
        log(f"contract 003 stats: footfall and the replica, {runs} runs each")
        ours = JsonClient(*server.host_port, timeout=600)
        theirs = JsonClient(*replica.host_port, timeout=600)
        try:
            for path in REPLICA003_STATS:
                times: tuple[list[float], list[float]] = ([], [])
                answers: list[object] = [None, None]
                for attempt in range(self.args.warmup + runs):
                    for side, (client, url) in enumerate(
                        ((ours, _with_app(path, datagen.MAIN_APP)), (theirs, path))
                    ):
                        status, body, elapsed = client.get(url)
                        if status != 200:
                            raise RuntimeError(f"GET {url}: HTTP {status}: {str(body)[:300]}")
                        if attempt >= self.args.warmup:
                            times[side].append(elapsed)
                        answers[side] = body
                self.outcome.replica003[path] = (
                    percentile(times[0], 50), percentile(times[1], 50),
                )  # fmt: skip
                self.answers003[path] = answers
        finally:
            ours.close()
            theirs.close()

    # --- sections ------------------------------------------------------------------------

    def describe_single(self) -> None:
        section = self.single_section
        out = self.outcome
        tool = (
            f"wrk -t1 -c{self.args.connections} -d{self.args.duration:g}s"
            if self.wrk
            else "Python threads (wrk missing: client-bound numbers)"
        )
        section.text(
            f"One small event per request, {tool} in total per server, split into "
            f"{self.args.rounds} rounds that alternate between the servers (all running, "
            "each pinned to the server core), so every server shares the machine's noise; "
            "req/s and latency percentiles are the medians of the rounds. Keep-alive, closed "
            f"loop; server on "
            f"`{self.server_cpus or 'any'}`, load generator on `{self.client_cpus or 'any'}`. "
            "footfall answers 2xx only once the event is committed (durable ack), on a store "
            "already holding the query data set; each endpoint writes to its own app. "
            "Baselines in the same run: the contract 001 replica (bench/replicas/contract001.py: "
            "FastAPI, sync handler, `threading.Lock` counter, nothing stored) and the bare-ASGI "
            "ceiling (bench/ceiling.py: msgspec decode, a counter, no framework, no storage), "
            "both on the same uvicorn (uvloop, httptools) and pinning."
        )
        c, r = out.ceiling, out.replica001
        table = section.table(
            ["server", "req/s", "p50 ms", "p99 ms", "max ms", "responses", "non-2xx",
             "socket errors", "× 001 replica", "of ceiling", "met (≥ 7×, ≥ 65 %, p99 < 10 ms)"]
        )  # fmt: skip

        def add(name: str, row: LoadResult | None, judge: bool) -> None:
            if row is None:
                return
            vs_r = row.rps / r.rps if r and r.rps else None
            vs_c = row.rps / c.rps if c and c.rps else None
            errors = ", ".join(f"{k} {v}" for k, v in row.socket_errors.items()) or "0"
            met = "n/a"
            if judge and vs_r is not None and vs_c is not None:
                met = _met(
                    vs_r >= TARGET_VS_001 and vs_c >= TARGET_VS_CEILING
                    and row.p99_ms < TARGET_P99_MS and row.non_2xx + row.errors == 0
                )  # fmt: skip
            table.add(
                name, fmt_int(row.rps), fmt_ms(row.p50_ms), fmt_ms(row.p99_ms),
                fmt_ms(row.max_ms), fmt_int(row.requests), fmt_int(row.non_2xx), errors,
                f"{vs_r:.2f}×" if vs_r is not None else "n/a",
                f"{vs_c:.0%}" if vs_c is not None else "n/a", met,
            )  # fmt: skip

        add("bare ASGI ceiling", c, False)
        add("contract 001 replica (POST /visit)", r, False)
        for label, row in out.single.items():
            add(f"footfall {label}", row, True)
        if out.both_cores is not None:
            add("footfall POST /api/v1/events, both cores (wrk shares them)", out.both_cores, False)
            ok = out.both_cores.rps >= TARGET_BOTH_CORES
            section.text(
                f"Both cores to the server: **{fmt_int(out.both_cores.rps)}** acknowledged "
                f"events/s (target ≥ {fmt_int(TARGET_BOTH_CORES)}: {_met(ok)}). wrk runs on "
                "the same two cores, so this is a lower bound."
            )
        if self.durability:
            section.text(
                "Durability check (events stored in the endpoint's app vs 2xx counted by the "
                "load generator; a surplus of at most one per connection is requests answered "
                "after wrk stopped counting): "
                + "; ".join(
                    f"{label}: {ok:,} 2xx, {stored:,} stored"
                    for label, ok, stored in self.durability
                )
                + "."
            )
            if all(stored >= ok for _, ok, stored in self.durability):
                section.text("Every acknowledged event is stored.")

    def describe_queries(self) -> None:
        out = self.outcome
        dashboard = [t for t in out.queries if is_dashboard(t.name)]
        contracts = [t for t in out.queries if not is_dashboard(t.name)]
        runs = self.args.query_runs
        self.query_section.text(
            f"`POST /api/v1/query` on app `{datagen.MAIN_APP}`, one keep-alive connection, one "
            f"query at a time, {self.args.warmup} untimed + {runs} timed runs; client latency "
            "(request sent → whole response read). **hand SQL** is the hand-written DuckDB SQL for "
            "the same answer (bench/queries.py), run right after each HTTP run in a child "
            "process on a byte copy of the store file taken after loading (DuckDB lets one "
            "process own a file): same engine, data, cores and noise. "
            f"{self.query_pinning()} "
            "Its time is execute + fetch; its answer is checked equal to the HTTP answer. "
            "**HTTP / hand** = HTTP median / hand SQL median (target ≤ 1.5×). **footfall's "
            "SQL** is the statement footfall's compiler makes of the same query, timed the "
            "same way: HTTP / footfall's SQL is the HTTP and Python layer's share of the gap, "
            "footfall's SQL / hand the compiler's. ★ = one of the queries a "
            "dashboard page fires when it opens."
        )
        if self.args.store != "duckdb":
            self.query_section.warning(
                f"This run's footfall stores its events in {self.args.store}; the hand-written "
                "SQL and footfall's SQL columns are still DuckDB's, on a DuckDB copy of the "
                "same data: their ratios compare two engines (the answers must still match)."
            )
        self._query_table(self.query_section, dashboard, page=True)
        page = [t for t in dashboard if t.on_page]
        if page and all(t.error is None for t in page):
            out.page_ms = sum(t.median for t in page)
            sql_page = sum(t.sql_median or 0 for t in page)
            self.query_section.text(
                f"One dashboard page (the {len(page)} ★ queries, one after another): "
                f"**{fmt_ms(out.page_ms)} ms** (sum of medians; hand-written SQL: "
                f"{fmt_ms(sql_page)} ms). Target < {TARGET_PAGE_MS:.0f} ms at 10 M events: "
                f"{_met(out.page_ms < TARGET_PAGE_MS)}."
            )
        self.contract_section.text(
            "The compatibility endpoints on the same store and app, same method; the 002 "
            "window is the last 30 days given explicitly so the SQL uses the same one. The "
            "data set has no contract 004 session lifecycle events: the heatmap scans the "
            "app's last 30 days and finds none (its answer, 0 sessions, is still checked)."
        )
        self._query_table(self.contract_section, contracts, page=False)

    def _query_table(self, section: Section, rows: list[Timed], *, page: bool) -> None:
        table = section.table(
            ["query", "HTTP median ms", "HTTP p90 ms", "footfall's SQL ms", "hand SQL ms",
             "HTTP / hand", "footfall's SQL / hand", "rows", "same answer",
             f"< {TARGET_QUERY_MS:.0f} ms", "≤ 1.5× hand"]
        )  # fmt: skip
        for t in rows:
            label = f"★ {t.name}" if page and t.on_page else t.name
            if t.error:
                section.error(f"{t.name}: {t.error}")
                continue
            if t.mismatch:
                section.error(f"{t.name}: hand-written SQL answers differently: {t.mismatch}")
            compiled = t.compiled_median
            table.add(
                label, fmt_ms(t.median), fmt_ms(t.p90),
                fmt_ms(compiled) if compiled is not None else "n/a",
                fmt_ms(t.sql_median) if t.sql_median is not None else "n/a",
                f"{t.ratio:.2f}×" if t.ratio is not None else "n/a",
                f"{compiled / t.sql_median:.2f}×" if compiled and t.sql_median else "n/a",
                fmt_int(len(t.rows)),
                "n/a" if t.sql_median is None else ("yes" if not t.mismatch else "**no**"),
                _met(t.median < TARGET_QUERY_MS),
                "n/a" if t.ratio is None else _met(t.ratio <= TARGET_SQL_RATIO),
            )  # fmt: skip

    def describe_replicas(self) -> None:
        section = self.replica_section
        out = self.outcome
        section.text(
            "Contract 001: see the single-event table (its replica is the ingest baseline). "
            "Contract 003: the replica (bench/replicas/contract003.py: FastAPI, SQLAlchemy ORM, "
            "SQLite, sync handlers, a session per request) holds exactly the events of "
            f"`{datagen.MAIN_APP}`; footfall answers the same endpoints with "
            f"`?app={datagen.MAIN_APP}` over its whole store. Same client, same pinning, "
            f"median of up to 5 runs after {self.args.warmup} warm-up."
        )
        table = section.table(["endpoint", "footfall ms", "replica ms", "replica / footfall"])
        for path, (ours, theirs) in out.replica003.items():
            table.add(
                f"GET {path}", fmt_ms(ours), fmt_ms(theirs),
                f"{theirs / ours:.1f}×" if ours and theirs else "n/a",
            )  # fmt: skip
        for path in ("/stats/total", "/stats/by-event-type"):
            answers = self.answers003.get(path, [])
            if len(answers) == 2:
                if answers[0] != answers[1]:
                    section.error(f"GET {path}: footfall {answers[0]!r} != replica {answers[1]!r}")
                else:
                    section.text(f"`GET {path}`: footfall and the replica give the same answer.")
        ours003, theirs003 = out.ingest003
        if ours003 is not None and theirs003 is not None:
            table = section.table(
                [
                    "POST /events/ (003)",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "non-2xx",
                    "footfall / replica",
                ]
            )
            if theirs003.requests == 0:
                section.text(
                    f"The replica answered no `POST /events/` within {self.args.duration:g} s "
                    "under 64 connections: each request is its own SQLite transaction (a "
                    "commit with fsync), queued behind the others."
                )
            for name, res in (("contract 003 replica", theirs003), ("footfall", ours003)):
                table.add(
                    name, fmt_int(res.rps), fmt_ms(res.p50_ms), fmt_ms(res.p99_ms),
                    fmt_int(res.non_2xx),
                    f"{ours003.rps / theirs003.rps:.1f}×" if theirs003.rps else "n/a",
                )  # fmt: skip

    def describe_memory(self) -> None:
        section = self.memory_section
        out = self.outcome
        section.text(
            "footfall's resident memory (VmRSS, sampled every 0.25 s from /proc) while it "
            "served the queries above, and during each ingest phase (a sustained load of its "
            "own). Flat = the mean of a phase's last 10 % of samples within 10 % of the mean "
            "after warm-up (10 % of the samples from the 25 % mark)."
        )
        table = section.table(["", "value", "target", "met"])
        if out.query_rss_peak:
            table.add(
                "peak RSS serving queries", fmt_bytes(out.query_rss_peak), "< 1 GiB",
                _met(out.query_rss_peak < GIB),
            )  # fmt: skip
        for phase, (first, last, peak) in out.ingest_rss.items():
            table.add(
                f"ingest, {phase}: RSS after warm-up → at the end (peak)",
                f"{fmt_bytes(first)} → {fmt_bytes(last)} ({fmt_bytes(peak)})",
                "flat, < 1 GiB", _met(last <= first * FLAT and peak < GIB),
            )  # fmt: skip
        if out.peak_rss:
            table.add(
                "peak RSS of the whole run (VmHWM)",
                fmt_bytes(out.peak_rss),
                "< 1 GiB",
                _met(out.peak_rss < GIB),
            )
        if out.disk is not None:
            section.text(f"Data directory after the run: {fmt_bytes(out.disk)}.")

    def describe_noise(self) -> None:
        section = self.noise_section
        section.text(
            "Share of the server's core(s) during each measurement (/proc/stat, "
            "/proc/PID/stat): the server process; the bench's own hand-SQL process (it "
            "alternates with the HTTP queries on the same core); other processes; interrupts "
            "(loopback networking is partly counted here); steal (the hypervisor). On a quiet "
            "machine "
            '"other processes" and "steal" are near 0 %; where they are not, that '
            "measurement is pessimistic. Ratios within this run share the noise."
        )
        table = section.table(
            ["measurement", "seconds", "server", "bench's SQL process", "other processes",
             "interrupts", "steal"]
        )  # fmt: skip
        noisy: list[str] = []
        for phase in merge_phases(self.phases):
            share = phase.share
            if share is None:
                table.add(phase.name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a")
                continue
            table.add(
                phase.name, f"{share.seconds:.1f}", f"{share.server:.0%}", f"{share.helper:.0%}",
                f"{share.others:.0%}",
                f"{share.interrupts:.0%}", f"{share.steal:.0%}",
            )  # fmt: skip
            if share.lost > NOISE_LIMIT:
                noisy.append(f"{phase.name} ({share.lost:.0%})")
        if noisy:
            section.warning(
                f"other processes or steal took more than {NOISE_LIMIT:.0%} of the server's "
                "core during: " + ", ".join(noisy) + ". Re-run on a quiet machine to compare."
            )

    def summary(self) -> scaling.Summary:
        out = self.outcome
        v1 = out.single.get(V1.label)
        ok = [t for t in out.queries if t.error is None and is_dashboard(t.name)]
        slowest = max(ok, key=lambda t: t.median, default=None)
        rated = [t for t in out.queries if t.ratio is not None]
        worst = max(rated, key=lambda t: t.ratio or 0.0, default=None)
        cross_engine = self.args.store != "duckdb"
        return scaling.Summary(
            events=self.args.events,
            store=self.args.store,
            date=f"{self.started:%Y-%m-%d %H:%M}",
            load_s=out.load_s,
            single_rps=v1.rps if v1 else None,
            single_vs_ceiling=v1.rps / out.ceiling.rps
            if v1 and out.ceiling and out.ceiling.rps
            else None,
            batch_events_per_s=out.batch_events_per_s,
            page_ms=out.page_ms,
            slowest_query=slowest.name if slowest else None,
            slowest_ms=slowest.median if slowest else None,
            # The hand-written SQL is DuckDB's: against chDB it is not the same engine.
            worst_sql_ratio=worst.ratio if worst and not cross_engine else None,
            worst_sql_query=worst.name if worst and not cross_engine else None,
            peak_rss=out.peak_rss,
            disk_bytes=out.disk,
            query_medians={t.name: round(t.median, 2) for t in out.queries if t.error is None},
        )

    def save_scaling(self) -> None:
        summary = self.summary()
        directory = self.args.results_dir
        if directory is not None and not self.report.errors:
            scaling.save(summary, directory)
        summaries = scaling.load_all(directory) if directory is not None else []
        if not any(s.events == summary.events and s.date == summary.date for s in summaries):
            summaries = sorted([*summaries, summary], key=lambda s: (s.events, s.store))
        scaling.describe(self.scaling_section, summaries)

    def describe_targets(self) -> None:
        section = self.targets_section
        out = self.outcome
        section.text(
            "Issue 7's targets, where this run measures them (the query targets are stated "
            "for 10 M events)." + (" Smoke run: not meaningful." if self.args.smoke else "")
        )
        table = section.table(["target", "measured", "met"], numeric=False)

        def row(target: str, measured: str, met: bool | None) -> None:
            table.add(target, measured, "n/a" if met is None else _met(met))

        r, c = out.replica001, out.ceiling
        for label, res in out.single.items():
            if r and r.rps:
                row(
                    f"1. {label} ≥ 7× the 001 replica",
                    f"{res.rps / r.rps:.2f}×",
                    res.rps / r.rps >= TARGET_VS_001,
                )
            if c and c.rps:
                row(
                    f"1. {label} ≥ 65 % of the ceiling",
                    f"{res.rps / c.rps:.0%}",
                    res.rps / c.rps >= TARGET_VS_CEILING,
                )
            row(
                f"1. {label} p99 < 10 ms at 64 connections",
                f"{fmt_ms(res.p99_ms)} ms",
                res.p99_ms < TARGET_P99_MS,
            )
            row(
                f"1. {label}: 0 errors",
                fmt_int(res.non_2xx + res.errors),
                res.non_2xx + res.errors == 0,
            )
        if out.both_cores is not None:
            row(
                "1. both cores: ≥ 20,000 acknowledged events/s",
                fmt_int(out.both_cores.rps),
                out.both_cores.rps >= TARGET_BOTH_CORES,
            )
        if out.batch_events_per_s is not None:
            row(
                "2. batch ingest ≥ 500,000 events/s",
                fmt_int(out.batch_events_per_s),
                out.batch_events_per_s >= TARGET_BATCH,
            )
        dash = [t for t in out.queries if t.error is None and is_dashboard(t.name)]
        if dash:
            worst = max(dash, key=lambda t: t.median)
            row(
                "3. every dashboard query median < 50 ms",
                f"slowest {fmt_ms(worst.median)} ms ({worst.name})",
                worst.median < TARGET_QUERY_MS,
            )
        if out.page_ms is not None:
            row(
                "3. one dashboard page < 300 ms",
                f"{fmt_ms(out.page_ms)} ms",
                out.page_ms < TARGET_PAGE_MS,
            )
        rated = [t for t in out.queries if t.ratio is not None]
        if rated:
            over = [t for t in rated if (t.ratio or 0) > TARGET_SQL_RATIO]
            worst_r = max(rated, key=lambda t: t.ratio or 0.0)
            row(
                "3. every query ≤ 1.5× its hand-written SQL",
                f"{len(over)} of {len(rated)} over; worst {worst_r.ratio:.2f}× ({worst_r.name})",
                not over,
            )
        ff003, replica003 = out.ingest003
        if ff003 is not None and replica003 is not None and replica003.rps:
            row(
                "4. replicas run beside footfall (001 ingest, 003 ingest and stats)",
                f"003 ingest {ff003.rps / replica003.rps:.1f}× the replica",
                None,
            )
        if out.query_rss_peak:
            row(
                "5. RSS < 1 GiB serving queries",
                fmt_bytes(out.query_rss_peak),
                out.query_rss_peak < GIB,
            )
        if out.ingest_rss:
            grew = [p for p, (first, last, _) in out.ingest_rss.items() if last > first * FLAT]
            row(
                "5. RSS flat under sustained ingest (each ingest phase)",
                "; ".join(
                    f"{p}: {fmt_bytes(a)} → {fmt_bytes(b)}"
                    for p, (a, b, _) in out.ingest_rss.items()
                ),
                not grew,
            )
        row("6. scaling table (1 M, 10 M on DuckDB and chDB; 100 M pending)", "see Scaling", None)


def merge_phases(phases: list[Phase]) -> list[Phase]:
    """One row per measurement name: its rounds' shares weighted by their length."""
    merged: dict[str, list[CpuShare | None]] = {}
    for phase in phases:
        merged.setdefault(phase.name, []).append(phase.share)
    out: list[Phase] = []
    for name, shares in merged.items():
        known = [s for s in shares if s is not None]
        total = sum(s.seconds for s in known)
        if not known or total <= 0:
            out.append(Phase(name, None))
            continue

        def mean(attr: str, known: list[CpuShare] = known, total: float = total) -> float:
            return float(sum(getattr(s, attr) * s.seconds for s in known)) / total

        out.append(
            Phase(
                name,
                CpuShare(
                    seconds=total,
                    cores=known[0].cores,
                    server=mean("server"),
                    others=mean("others"),
                    interrupts=mean("interrupts"),
                    steal=mean("steal"),
                    helper=mean("helper"),
                ),
            )
        )
    return out


def copy_into_chdb(source: Path, target: Path) -> float:
    """Seconds `footfall migrate` takes to copy the DuckDB store at `source` into a new chDB
    store at `target` (Arrow batches, `seq` and `id` kept, counts per app and day checked)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "footfall", "migrate",
         "--from", f"duckdb://{source}", "--to", f"chdb://{target}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"footfall migrate into chDB failed: {result.stderr[-2000:]}")
    return time.perf_counter() - started


def set_affinity(pid: int, cpus: str) -> None:
    """Pin every thread of `pid` (DuckDB starts its own) to `cpus`."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, capture_output=True)


def _with_app(path: str, app: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}app={app}"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _version(package: str) -> str:
    from bench.report import version

    return version(package)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if wrk_version() is None:
        log(WRK_INSTALL_HINT)
        if not args.smoke:
            log("a full run needs wrk (a Python client measures itself, not the server)")
            return 2
        log("smoke run: using a Python load loop instead")
    bench = Bench(args, argv)
    report = bench.run()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.render())
    log(f"wrote {args.output}")
    out = bench.outcome
    for label, res in out.single.items():
        log(f"{label}: {fmt_int(res.rps)} req/s, p99 {fmt_ms(res.p99_ms)} ms")
    if out.page_ms is not None:
        log(f"one dashboard page: {fmt_ms(out.page_ms)} ms")
    for problem in report.warnings:
        log(f"WARNING {problem.splitlines()[0]}")
    for problem in report.errors:
        log(f"ERROR {problem.splitlines()[0]}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
