"""The writer's promises (DESIGN.md "One writer"), proven against real server processes.

A 202 means the event is durable: `kill -9` loses none and a retry stores none
twice; a query issued after a 202 sees the event; when the disk is full or
read-only, ingest answers 503 with `Retry-After`, stores nothing it refused,
and recovers by itself; SIGTERM and SIGINT drain the writer.

Events with a client id are committed to the store before their 202; events
without one (the tracker's, most single events) are acknowledged from
footfall's journal and loaded in bulk (docs/durability.md): the tests cover both.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.server import ServerProcess
from tests.support.tmpfs import fill, mounted_tmpfs

Batch = list[dict[str, Any]]


# -- helpers -----------------------------------------------------------------


def _start(data_dir: Path, env: dict[str, str] | None = None) -> ServerProcess:
    return ServerProcess(data_dir, env=env).start()


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    """A started server and a client for it; the server is SIGKILLed on the way out."""
    server = _start(data_dir)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield server, http
    finally:
        server.kill()


def _event(app: str, marker: str, *, pad: int = 0, with_id: bool = True) -> dict[str, Any]:
    """An event (with a client id) whose page, /e/<marker>, tells it apart from every other."""
    props: dict[str, Any] = {"marker": marker}
    if pad:  # random, so that DuckDB cannot compress it away when it checkpoints
        props["pad"] = random.randbytes(pad // 2).hex()
    event = {"app": app, "name": "pageview", "url": f"https://example.com/e/{marker}"}
    if with_id:
        event["id"] = str(uuid.uuid4())
    return {**event, "props": props}


def _page(event: dict[str, Any]) -> str:
    return "/e/" + str(event["props"]["marker"])


def _page_counts(http: httpx.Client, app: str) -> dict[str, int]:
    """How many stored events each page of `app` has, through the public query API."""
    counts: dict[str, int] = {}
    offset = 0
    while True:
        response = http.post(
            "/api/v1/query",
            json={
                "app": app,
                "date_range": "all",
                "metrics": ["events"],
                "dimensions": ["event:page"],
                "limit": 10_000,
                "offset": offset,
            },
        )
        assert response.status_code == 200, response.text
        rows = response.json()["results"]
        for row in rows:
            counts[row["dimensions"][0]] = row["metrics"][0]
        if len(rows) < 10_000:
            return counts
        offset += len(rows)


class _Ingest:
    """Posts batches from many threads; remembers which were acknowledged and which refused."""

    def __init__(self, url: str, app: str, *, with_ids: bool = True) -> None:
        self.url = url
        self.app = app
        self.with_ids = with_ids
        self.lock = threading.Lock()
        self.sent: list[Batch] = []
        self.acked: list[Batch] = []
        self.refused: list[Batch] = []  # answered 503
        self.broken: list[Batch] = []  # no answer: the connection died
        self.unexpected: list[str] = []
        self.last_503: httpx.Response | None = None
        self.query_statuses: list[int] = []

    def batch(self, label: str, size: int | tuple[int, int] = 10, pad: int = 0) -> Batch:
        """`size` events, or between size[0] and size[1] of them."""
        count = size if isinstance(size, int) else random.randint(*size)
        return [
            _event(self.app, f"{label}-{k}", pad=pad, with_id=self.with_ids) for k in range(count)
        ]

    def post(self, http: httpx.Client, batch: Batch) -> int:
        """POST `batch`; its status, or 0 when no answer came."""
        with self.lock:
            self.sent.append(batch)
        try:
            response = http.post("/api/v1/events", json=batch)
        except httpx.TransportError:
            with self.lock:
                self.broken.append(batch)
            return 0
        with self.lock:
            if response.status_code == 202:
                if response.json() != {"accepted": len(batch), "duplicates": 0}:
                    self.unexpected.append(f"202 {response.text}")
                self.acked.append(batch)
            elif response.status_code == 503:
                self.refused.append(batch)
                self.last_503 = response
            else:  # a 500 or any other answer is a bug, whatever the disk does
                self.unexpected.append(f"{response.status_code} {response.text}")
        return response.status_code

    def run(
        self,
        workers: int,
        label: str,
        *,
        size: int | tuple[int, int] = 10,
        pad: int = 0,
        until: Callable[[], bool],
        refusals: int | None = None,
        readers: int = 0,
        timeout: float = 60,
    ) -> None:
        """Ingest from `workers` threads until `until()` holds, a worker got `refusals` 503s,
        or its connection broke; meanwhile `readers` more threads query all along."""
        done = threading.Event()
        deadline = time.monotonic() + timeout

        def ingest(worker: int) -> None:
            seen_503 = 0
            with httpx.Client(base_url=self.url, timeout=30) as http:
                for i in range(100_000):
                    if until() or done.is_set() or time.monotonic() > deadline:
                        return
                    status = self.post(http, self.batch(f"{label}-{worker}-{i}", size, pad))
                    seen_503 += status == 503
                    if status == 0 or (refusals is not None and seen_503 >= refusals):
                        return

        def read() -> None:
            with httpx.Client(base_url=self.url, timeout=30) as http:
                while not done.is_set():
                    response = http.post(
                        "/api/v1/query",
                        json={"app": self.app, "date_range": "all", "metrics": ["events"]},
                    )
                    with self.lock:
                        self.query_statuses.append(response.status_code)

        threads = [threading.Thread(target=ingest, args=(w,)) for w in range(workers)]
        reading = [threading.Thread(target=read) for _ in range(readers)]
        for thread in reading + threads:
            thread.start()
        try:
            for thread in threads:
                thread.join(timeout=120)
        finally:
            done.set()
            for thread in reading:
                thread.join(timeout=60)
        assert not self.unexpected, self.unexpected[:3]
        assert set(self.query_statuses) <= {200, 503}, sorted(set(self.query_statuses))

    def assert_stored_exactly(self, counts: dict[str, int]) -> None:
        """Every acknowledged event once, nothing refused, nothing unknown, no request in part."""
        acked = {_page(e) for batch in self.acked for e in batch}
        refused = {_page(e) for batch in self.refused for e in batch}
        missing = sorted(page for page in acked if counts.get(page) != 1)
        assert not missing, f"{len(missing)} acknowledged events not stored exactly once"
        stored_refused = sorted(page for page in refused if page in counts)
        assert not stored_refused, f"{len(stored_refused)} events answered 503 but stored"
        assert all(count == 1 for count in counts.values()), "an event is stored twice"
        assert set(counts) <= {_page(e) for batch in self.sent for e in batch}
        for batch in self.sent:
            present = {counts.get(_page(e), 0) for e in batch}
            assert len(present) == 1, "a request was stored in part"


# -- kill -9 -----------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_during_concurrent_ingest_loses_no_acked_event_and_retries_store_none_twice(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with _serving(data_dir) as (server, _):
        ingest = _Ingest(server.url, "kill9")
        once = threading.Lock()

        def kill_when_enough() -> bool:
            if len(ingest.acked) >= 600 and once.acquire(blocking=False):
                server.kill()  # SIGKILL, while eight requests are on the wire
            return False

        ingest.run(8, "req", size=(1, 4), until=kill_when_enough)
        assert once.locked(), f"only {len(ingest.acked)} requests acknowledged in a minute"
    assert server.proc is not None and server.proc.returncode == -signal.SIGKILL
    assert ingest.broken, "the kill interrupted no request: it was not mid-stream"

    with _serving(data_dir) as (_, http):
        counts = _page_counts(http, "kill9")
        ingest.assert_stored_exactly(counts)
        stored_before_retry = sum(counts.values())

        # The clients retry every request, acknowledged or not, with the same ids.
        acked = {id(batch) for batch in ingest.acked}
        accepted = duplicates = 0
        for batch in ingest.sent:
            response = http.post("/api/v1/events", json=batch)
            assert response.status_code == 202, response.text
            body = response.json()
            assert body["accepted"] == len(batch)
            if id(batch) in acked:
                assert body["duplicates"] == len(batch), "an acknowledged event was stored again"
            accepted += body["accepted"]
            duplicates += body["duplicates"]
        assert duplicates == stored_before_retry

        counts = _page_counts(http, "kill9")
        distinct_ids = {e["id"] for batch in ingest.sent for e in batch}
        assert sum(counts.values()) == len(distinct_ids) == accepted
        assert set(counts.values()) == {1}


def _kill_at(
    server: ServerProcess, ingest: _Ingest, acked: int
) -> tuple[threading.Lock, Callable[[], bool]]:
    """An `until` for `_Ingest.run` that SIGKILLs `server` once `acked` requests were
    acknowledged (while the others are on the wire), and the lock it takes then."""
    once = threading.Lock()

    def kill_when_enough() -> bool:
        if len(ingest.acked) >= acked and once.acquire(blocking=False):
            server.kill()
        return False

    return once, kill_when_enough


@pytest.mark.slow
def test_kill_9_during_sustained_single_event_ingest_loses_no_journaled_event(
    tmp_path: Path,
) -> None:
    """Single events without ids are acknowledged from the journal and loaded in bulk
    (every 4,096 events or 0.5 s): killed at any moment, twice, the server stores
    every acknowledged event exactly once when it comes back."""
    data_dir = tmp_path / "data"
    ingest = _Ingest("", "single", with_ids=False)
    for round_ in range(2):
        with _serving(data_dir) as (server, _):
            ingest.url = server.url
            target = len(ingest.acked) + 2500 + random.randint(0, 2000)
            killed, kill_when_enough = _kill_at(server, ingest, target)
            ingest.run(16, f"round{round_}", size=1, until=kill_when_enough)
            assert killed.locked(), f"only {len(ingest.acked)} requests acknowledged in a minute"
        assert server.proc is not None and server.proc.returncode == -signal.SIGKILL
        with _serving(data_dir) as (_, http):
            ingest.assert_stored_exactly(_page_counts(http, "single"))
    assert ingest.broken, "no kill interrupted a request: they were not mid-stream"


# -- read-your-writes --------------------------------------------------------


def _sees(http: httpx.Client | TestClient, event: dict[str, Any]) -> int:
    """How many events the query API counts on `event`'s page."""
    response = http.post(
        "/api/v1/query",
        json={
            "app": event["app"],
            "date_range": "all",
            "metrics": ["events"],
            "filters": [["is", "event:page", [_page(event)]]],
        },
    )
    assert response.status_code == 200, response.text
    count: int = response.json()["results"][0]["metrics"][0]
    return count


@pytest.mark.slow
@pytest.mark.parametrize("with_id", [True, False], ids=["committed", "journaled"])
def test_a_query_after_a_202_sees_the_event(client: TestClient, with_id: bool) -> None:
    for i in range(200):
        event = _event("ryw", f"{with_id}-{i}", with_id=with_id)
        response = client.post("/api/v1/events", json=event)
        assert response.status_code == 202, response.text
        assert _sees(client, event) == 1, f"write {i} not visible"


@pytest.mark.slow
@pytest.mark.parametrize("with_id", [True, False], ids=["committed", "journaled"])
def test_a_query_after_a_202_sees_the_event_under_concurrent_ingest(
    tmp_path: Path, with_id: bool
) -> None:
    """Many clients at once, so commits are grouped and reads run on many threads."""
    failures: list[str] = []

    def client_loop(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for i in range(50):
                event = _event("ryw", f"{worker}-{i}", with_id=with_id)
                response = http.post("/api/v1/events", json=event)
                if response.status_code != 202:
                    failures.append(response.text)
                elif (seen := _sees(http, event)) != 1:
                    failures.append(f"{_page(event)} seen {seen} times right after its 202")

    with _serving(tmp_path / "data") as (server, _):
        threads = [threading.Thread(target=client_loop, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, failures[:5]


# -- SIGTERM, SIGINT ---------------------------------------------------------


def _stop_with(
    sig: signal.Signals, tmp_path: Path, *, with_ids: bool = True
) -> tuple[int, ServerProcess, _Ingest]:
    """Signal a server in the middle of concurrent ingest; its exit code once it is gone."""
    data_dir = tmp_path / "data"
    with _serving(data_dir) as (server, _):
        ingest = _Ingest(server.url, "signal", with_ids=with_ids)
        assert server.proc is not None
        exit_code: list[int] = []

        def signal_when_enough() -> bool:
            if len(ingest.acked) >= 200 and not exit_code:
                exit_code.append(-1)
                threading.Thread(target=lambda: exit_code.append(server.signal(sig))).start()
            return False

        ingest.run(4, "req", size=3, until=signal_when_enough)
        server.proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while len(exit_code) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(exit_code) == 2, "the server did not stop after the signal"
    return exit_code[1], server, ingest


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "with_ids"),
    [(signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["SIGTERM", "SIGINT", "SIGTERM-journaled"],
)
def test_a_signal_drains_the_writer_exits_0_and_keeps_every_acked_event(
    sig: signal.Signals, with_ids: bool, tmp_path: Path
) -> None:
    exit_code, server, ingest = _stop_with(sig, tmp_path, with_ids=with_ids)
    output = "".join(server.output)
    assert exit_code == 0, output[-3000:]
    assert "Application shutdown complete" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    with _serving(tmp_path / "data") as (_, http):
        ingest.assert_stored_exactly(_page_counts(http, "signal"))


# -- disk full, read-only ----------------------------------------------------


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems of our own, to fill them or make them read-only."""
    mounted: list[Path] = []
    with contextlib.ExitStack() as mounts:

        def mount(size: str) -> Path:
            mountpoint = tmp_path / f"tmpfs-{len(mounted)}"
            mounted.append(mounts.enter_context(mounted_tmpfs(mountpoint, size)))
            return mountpoint

        yield mount


def _remount(mountpoint: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", "-o", f"remount,{mode}", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )


def _assert_503(response: httpx.Response, cause: str) -> None:
    assert response.status_code == 503, response.text
    retry_after = response.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
    assert response.json()["retry_after"] == int(retry_after)
    detail = response.json()["detail"]
    assert "unavailable" in detail and "nothing was stored" in detail, detail
    assert cause in detail, detail


def _assert_unhealthy(http: httpx.Client, cause: str) -> None:
    for path in ("/health", "/healthz"):
        response = http.get(path)
        assert response.status_code == 503, response.text
        assert cause in response.json()["reason"], response.text


@pytest.mark.slow
def test_full_disk_answers_503_stores_nothing_refused_and_recovers_by_itself(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    tmpfs = mount_tmpfs("4m")
    data_dir = tmpfs / "data"
    with _serving(data_dir) as (server, http):
        ingest = _Ingest(server.url, "full")
        for i in range(5):
            assert ingest.post(http, ingest.batch(f"before-{i}", size=1)) == 202
        filler = fill(tmpfs, leave=192 * 1024)
        # Four clients ingest (four more query) until each has been refused three times.
        ingest.run(4, "filling", pad=500, until=lambda: False, refusals=3, readers=4)
        assert len(ingest.acked) > 5, "the space left should have taken a few batches"
        assert ingest.last_503 is not None
        _assert_503(ingest.last_503, "No space left on device")
        _assert_unhealthy(http, "No space left on device")

        filler.unlink()
        # No restart, no operator: the next write simply works.
        for i in range(20):
            assert ingest.post(http, ingest.batch(f"after-{i}", size=3)) == 202
        assert http.get("/health").status_code == 200
        ingest.assert_stored_exactly(_page_counts(http, "full"))

        # A refused request left no trace: retried with the same ids, it is stored in full.
        refused, ingest.refused = ingest.refused, []
        for batch in refused:
            response = http.post("/api/v1/events", json=batch)
            assert response.status_code == 202, response.text
            assert response.json() == {"accepted": len(batch), "duplicates": 0}
            ingest.acked.append(batch)
        ingest.assert_stored_exactly(_page_counts(http, "full"))

    # All of it survives kill -9 and a restart (WAL replay), nothing half-written.
    with _serving(data_dir) as (_, http):
        ingest.assert_stored_exactly(_page_counts(http, "full"))


@pytest.mark.slow
def test_health_turns_green_again_without_traffic_once_retry_after_has_passed(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    # A load balancer that stops sending traffic to an unhealthy node must see it
    # recover even though no write can come through to prove it.
    tmpfs = mount_tmpfs("4m")
    server = _start(tmpfs / "data", env={"FOOTFALL_RETRY_AFTER_SECONDS": "1"})
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            ingest = _Ingest(server.url, "idle")
            filler = fill(tmpfs)
            statuses = [
                ingest.post(http, ingest.batch(f"full-{i}", size=20, pad=500)) for i in range(3)
            ]
            assert 503 in statuses
            _assert_unhealthy(http, "No space left on device")
            filler.unlink()
            time.sleep(1.5)
            for path in ("/health", "/healthz"):
                assert http.get(path).status_code == 200
    finally:
        server.kill()


@pytest.mark.slow
def test_disk_full_when_the_wal_is_checkpointed_refuses_only_what_it_did_not_store(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    """DuckDB folds its WAL into the file at 16 MiB; that can fail on a full disk too.

    DuckDB's own automatic checkpoint then raises from COMMIT although the
    batch is already durable: a 503 for stored events, and their seqs reused.
    """
    tmpfs = mount_tmpfs("24m")
    data_dir = tmpfs / "data"
    wal = data_dir / "footfall.duckdb.wal"

    def wal_bytes() -> int:
        return wal.stat().st_size if wal.exists() else 0

    with _serving(data_dir) as (server, http):
        # Without client ids: then DuckDB logs the commit first and checkpoints after.
        ingest = _Ingest(server.url, "ckpt", with_ids=False)
        ingest.run(4, "fill-wal", size=50, pad=800, until=lambda: wal_bytes() > 14 << 20)
        assert not ingest.refused
        filler = fill(tmpfs, leave=4 << 20)  # room for the WAL, not for a checkpoint
        ingest.run(2, "checkpoint", size=50, pad=800, until=lambda: False, refusals=2, readers=2)
        assert ingest.last_503 is not None
        _assert_503(ingest.last_503, "No space left on device")
        filler.unlink()
        for i in range(10):
            assert ingest.post(http, ingest.batch(f"after-{i}", size=3)) == 202
        assert http.get("/health").status_code == 200
        ingest.assert_stored_exactly(_page_counts(http, "ckpt"))

    with _serving(data_dir) as (_, http):
        ingest.assert_stored_exactly(_page_counts(http, "ckpt"))


@pytest.mark.slow
def test_read_only_data_dir_answers_503_and_recovers_when_writable_again(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    tmpfs = mount_tmpfs("4m")
    data_dir = tmpfs / "data"
    with _serving(data_dir) as (server, http):
        ingest = _Ingest(server.url, "ro")
        for i in range(5):
            assert ingest.post(http, ingest.batch(f"before-{i}", size=2)) == 202
        # Linux refuses to remount read-only while a file is open for writing, and the
        # store holds its file open. A failed commit makes the store let go of it
        # (it reopens on the next use), so fill the disk first, then flip to read-only.
        filler = fill(tmpfs)
        assert ingest.post(http, ingest.batch("full", pad=500)) == 503
        remounted = _remount(tmpfs, "ro")
        assert remounted.returncode == 0, (
            "the store still holds its file open after a failed commit: " + remounted.stderr
        )
        try:
            for i in range(3):
                assert ingest.post(http, ingest.batch(f"ro-{i}")) == 503
            assert ingest.last_503 is not None
            _assert_503(ingest.last_503, "Read-only file system")
            _assert_unhealthy(http, "Read-only file system")
            response = http.post("/api/v1/query", json={"app": "ro", "metrics": ["events"]})
            assert response.status_code == 503, response.text
        finally:
            assert _remount(tmpfs, "rw").returncode == 0
        filler.unlink()
        for i in range(10):
            assert ingest.post(http, ingest.batch(f"after-{i}", size=3)) == 202
        assert http.get("/health").status_code == 200
        ingest.assert_stored_exactly(_page_counts(http, "ro"))

    with _serving(data_dir) as (_, http):
        ingest.assert_stored_exactly(_page_counts(http, "ro"))


def test_a_server_on_a_read_only_data_dir_refuses_to_start_with_a_clear_message(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    tmpfs = mount_tmpfs("4m")
    (tmpfs / "data").mkdir()
    assert _remount(tmpfs, "ro").returncode == 0
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "footfall",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(tmpfs / "data"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        _remount(tmpfs, "rw")
    assert result.returncode != 0
    assert "Read-only file system" in result.stdout + result.stderr, result.stderr[-3000:]
