"""CPU seconds per process from /proc (Linux): where a machine's cores went during a benchmark run."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_s(pid: int, *, with_reaped_children: bool = True) -> float:
    """User + system CPU of a live process (and of its children it has waited for, e.g. ended backends)."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the name: state, ppid, ... utime is field 14 of the full line, i.e. index 11 here.
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS_PER_S


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(_stat_fields(int(stat.parent.name))[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return found


def tree_cpu_s(pid: int) -> float:
    """A server's CPU: the process, the children it reaped, and its live children (PostgreSQL's backends)."""
    return cpu_s(pid) + sum(cpu_s(child) for child in _children(pid))


def machine_busy_s() -> float:
    """CPU seconds all cores spent outside idle and iowait since boot (every process, everyone's)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / _TICKS_PER_S
