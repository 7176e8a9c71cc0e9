"""Load, CPU and hash-rate measurement: threads for HTTP load, /proc for CPU, processes for hashing."""

import itertools
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path


def run_for(seconds: float, concurrency: int, task: Callable[[int], None], *,
            max_tasks: int = 100_000) -> tuple[int, float]:
    """Run ``task(n)`` from ``concurrency`` threads for about ``seconds`` (at most ``max_tasks``).

    Returns the tasks completed and the wall time until the last one finished: a task still running
    at the deadline is waited for and counted, so the rate is completions over the time they took.
    """
    counter = itertools.count()
    done = [0] * concurrency
    errors: list[BaseException] = []
    deadline = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        try:
            while time.perf_counter() < deadline:
                n = next(counter)
                if n >= max_tasks:
                    return
                task(n)
                done[slot] += 1
        except BaseException as error:  # surfaced below: a bench must not hide a failure
            errors.append(error)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(done), elapsed


def run_count(count: int, concurrency: int, task: Callable[[int], None]) -> float:
    """Run ``task(n)`` exactly ``count`` times from ``concurrency`` threads; returns the wall time."""
    completed, elapsed = run_for(3600, concurrency, task, max_tasks=count)
    assert completed == count, (completed, count)
    return elapsed


# --- CPU --------------------------------------------------------------------------------------------

def cpu_seconds(pids: list[int]) -> float:
    """CPU time the processes have run, all their threads, in seconds (schedstat: nanoseconds)."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total / 1e9


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- Hashing ----------------------------------------------------------------------------------------

def _hash_worker(commands, results) -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password

    results.put("ready")
    while True:
        command = commands.get()
        if command is None:
            return
        seconds, password, encoded = command
        count, started = 0, time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            if not check_password(password, encoded):
                raise RuntimeError("check_password refused the bench password")
            count += 1
        results.put((count, time.perf_counter() - started))


class HashWorkers:
    """``processes`` processes calling Django's ``check_password`` in a loop, on demand."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.queues = [context.Queue() for _ in range(processes)]
        self.processes = [context.Process(target=_hash_worker, args=(queue, self.results), daemon=True)
                          for queue in self.queues]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            if self.results.get(timeout=120) != "ready":
                raise RuntimeError("a hash worker did not start")

    def rate(self, seconds: float, password: str, encoded: str) -> float:
        """check_password calls per second, summed over the processes."""
        for queue in self.queues:
            queue.put((seconds, password, encoded))
        outcomes = [self.results.get(timeout=seconds + 120) for _ in self.queues]
        self.last_count = sum(count for count, _ in outcomes)
        return sum(count / elapsed for count, elapsed in outcomes)

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def close(self) -> None:
        for queue in self.queues:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def median(values: list[float]) -> float:
    return statistics.median(values)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
