"""Memory of a process tree from /proc: VmRSS and PSS (proportional set size: a page shared by n
processes counts 1/n to each, so the PSS of a prefork worker's parent and children adds up to
what the worker really costs the machine, models shared copy-on-write counted once); and the CPU
time a process tree has used, which a busy neighbour on the same cores cannot inflate the way
it does wall-clock figures.

As a script, the tree of each PID given (a worker's main process: its pool children are found
by their parent id), one line per process and a total per tree:

    python bench/procmem.py $(pgrep -f 'newsflow.worker enrich' | head -1)

``shared`` and ``private`` are smaps_rollup's Shared_* and Private_* (a page another process
also maps, or one only this one does); a child's ``private`` is what it copied or allocated
since the fork, and the parent's grows too as the children copy the pages they shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid``, from each process's parent id in /proc/<pid>/stat (this
    kernel has no /proc/<pid>/task/<tid>/children, and psutil is not a dependency)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        # The command name may hold spaces and parentheses; the fields after the last ')' do not.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents[ppid].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in sorted(parents.get(todo.pop(), [])):
            found.append(child)
            todo.append(child)
    return found


def memory_mb(pid: int) -> dict[str, float | None]:
    """VmRSS from /proc/<pid>/status and Pss from /proc/<pid>/smaps_rollup, in MB."""

    def field(path: str, name: str) -> float | None:
        try:
            text = Path(f"/proc/{pid}/{path}").read_text()
        except OSError:
            return None
        match = re.search(rf"^{name}:\s+(\d+) kB", text, re.MULTILINE)
        return int(match[1]) / 1024 if match else None

    return {"rss": field("status", "VmRSS"), "pss": field("smaps_rollup", "Pss")}


def worker_memory(pid: int) -> dict[str, Any]:
    parent = memory_mb(pid)
    children = {child: memory_mb(child) for child in children_of(pid)}
    every = [parent, *children.values()]
    return {
        "parent": parent,
        "children": {str(child): figures for child, figures in children.items()},
        "total_rss": sum(m["rss"] or 0.0 for m in every),
        "total_pss": sum(m["pss"] or 0.0 for m in every),
    }


_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of ``pid`` and its live descendants, and of the children
    they have reaped (a prefork child replaced during a run still counts)."""
    total = 0
    for member in (pid, *children_of(pid)):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:  # gone since the listing
            continue
        # utime, stime, cutime, cstime: fields 14-17, the 12th to 15th after the name.
        fields = stat.rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15])
    return total / _TICKS_PER_S


def detail_mb(pid: int) -> dict[str, float] | None:
    """Rss, Pss, shared, private and anonymous memory from /proc/<pid>/smaps_rollup, in MB."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    kb = {name: int(value) for name, value in re.findall(r"^(\w+):\s+(\d+) kB", text, re.M)}
    return {
        "rss": kb["Rss"] / 1024,
        "pss": kb["Pss"] / 1024,
        "shared": (kb["Shared_Clean"] + kb["Shared_Dirty"]) / 1024,
        "private": (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024,
        "anonymous": kb["Anonymous"] / 1024,
    }


def tree_detail(pid: int) -> dict[str, Any]:
    processes = {}
    for member in (pid, *children_of(pid)):
        figures = detail_mb(member)
        if figures is not None:
            processes[str(member)] = figures
    return {
        "processes": processes,
        "total_pss": sum(figures["pss"] for figures in processes.values()),
        "total_rss": sum(figures["rss"] for figures in processes.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("pids", nargs="+", type=int, help="a worker's main process id")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    trees = {str(pid): tree_detail(pid) for pid in args.pids}
    if args.json:
        print(json.dumps(trees))
        return 0
    columns = ("rss", "pss", "shared", "private", "anonymous")
    print(f"{'pid':>8} {'role':8} " + " ".join(f"{name:>9}" for name in columns) + "  (MB)")
    for root, tree in trees.items():
        for pid, figures in tree["processes"].items():
            role = "parent" if pid == root else "child"
            print(f"{pid:>8} {role:8} " + " ".join(f"{figures[n]:9.1f}" for n in columns))
        print(f"{root:>8} {'total':8} {tree['total_rss']:9.1f} {tree['total_pss']:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
