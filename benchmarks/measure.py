"""Measuring a command the same way for every tool a benchmark compares: wall time and the peak
resident memory of its whole process tree (the process and its workers, summed), sampled from
/proc every 50 ms."""

from __future__ import annotations

import os
import subprocess
import threading
import time


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_captured(cmd: list[str], env=None) -> tuple[float, float, int, bytes, bytes]:
    """Run a command; return wall seconds, the peak resident memory of its process tree in MiB,
    its exit code, its standard output and its standard error.

    The memory of the process and its worker processes is summed, sampled every 50 ms.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return wall, peak / 2**20, proc.returncode, out, err


def run(cmd: list[str], env=None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak resident memory of its process tree in MiB).

    Stops the benchmark when the command fails (see :func:`run_captured`).
    """
    wall, peak, code, _, err = run_captured(cmd, env)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall, peak
