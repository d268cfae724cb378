"""Ingest throughput of a large generated queue_log, against a line-by-line baseline.

Both sides run in the same process on the same file and end in the same store:

- servicelevel: ``ingest_paths(store, "asterisk-queue-log", [path])``: read, pair, store
  (contacts and agent states), as ``slm ingest`` does;
- baseline: a straightforward Python parser and pairer (split each line, a dict of open
  calls keyed by (callid, queue)) that builds the same contact rows and writes them with
  the same ``Store.upsert``.

Run: ``python bench/bench_ingest_queue_log.py [--lines 5000000]``. It prints lines per
second for both and their ratio; BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from servicelevel.store import Store
from servicelevel.store.ingest import ingest_paths

AGENTS = [f"Agent/{1000 + i}" for i in range(60)]
QUEUES = ["sales", "support", "billing", "it"]


def generate(path: Path, lines: int, seed: int = 7) -> int:
    """A chronological queue_log of about ``lines`` lines; returns the exact count."""
    rng = random.Random(seed)
    events: list[tuple[int, int, str]] = []  # (time, order, line)
    t = 1_700_000_000
    order = 0
    for agent in AGENTS:
        events.append((t, order, f"{t}|NONE|NONE|{agent}|AGENTLOGIN|SIP/{agent[6:]}"))
        order += 1
    call = 0
    while len(events) < lines:
        t += rng.randint(0, 1)
        call += 1
        callid, queue = f"{t}.{call}", rng.choice(QUEUES)
        wait = rng.randint(0, 90)

        def add(at: int, text: str, callid: str = callid, queue: str = queue) -> None:
            nonlocal order
            events.append((at, order, f"{at}|{callid}|{queue}|{text}"))
            order += 1

        add(t, f"NONE|ENTERQUEUE||0{rng.randint(10**8, 10**9 - 1)}|1")
        draw = rng.random()
        agent = rng.choice(AGENTS)
        if draw < 0.80:
            if rng.random() < 0.3:
                add(t + wait // 2, f"{rng.choice(AGENTS)}|RINGNOANSWER|15000")
            add(t + wait, f"{agent}|CONNECT|{wait}|{t}.{call}9|{rng.randint(1, 9)}")
            talk = rng.randint(20, 900)
            end = "COMPLETECALLER" if rng.random() < 0.5 else "COMPLETEAGENT"
            if rng.random() < 0.03:
                add(t + wait + talk, f"{agent}|BLINDTRANSFER|200|default|{wait}|{talk}|1")
            else:
                add(t + wait + talk, f"{agent}|{end}|{wait}|{talk}|1")
        elif draw < 0.95:
            add(t + wait, f"NONE|ABANDON|1|1|{wait}")
        elif draw < 0.98:
            add(t + wait, f"NONE|EXITWITHTIMEOUT|1|1|{wait}")
        else:
            add(t + wait, f"NONE|EXITWITHKEY|5|1|1|{wait}")
        if call % 5000 == 0:
            pause = rng.choice(AGENTS)
            add(t, "")  # placeholder keeps the order counter simple
            events[-1] = (t, order, f"{t}|NONE|{queue}|{pause}|PAUSE|break")
            events.append((t + 300, order + 1, f"{t + 300}|NONE|{queue}|{pause}|UNPAUSE|"))
            order += 2
    events.sort()
    with path.open("w") as out:
        out.write("\n".join(line for _, _, line in events))
        out.write("\n")
    return len(events)


# -- baseline: the straightforward way --------------------------------------------------


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def baseline_ingest(store: Store, path: Path) -> int:
    """Line by line: split, pair in a dict, build rows, write them with the store."""
    open_calls: dict[tuple[str, str], dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    count = 0
    with path.open() as handle:
        for line in handle:
            count += 1
            fields = line.rstrip("\r\n").split("|")
            if len(fields) < 5:
                continue
            epoch, callid, queue, agent, event = fields[:5]
            data = fields[5:]
            key = (callid, queue)
            if event == "ENTERQUEUE":
                open_calls[key] = {
                    "tenant": "baseline", "source": "asterisk-queue-log",
                    "contact_id": f"{callid}|{queue}|{int(epoch) * 1_000_000}",
                    "channel": "voice", "queue": queue, "direction": "inbound",
                    "arrived_at": _ts(int(epoch)), "outcome": "waiting",
                    "customer_id": data[1] if len(data) > 1 else None,
                }
            elif key in open_calls:
                call = open_calls[key]
                if event == "CONNECT":
                    call.update(outcome="answered", answered_at=_ts(int(epoch)),
                                wait_s=float(data[0]), ring_s=float(data[2]), agent_id=agent)
                elif event in ("COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER"):
                    talk = data[1] if event != "BLINDTRANSFER" else data[3]
                    call.update(ended_at=_ts(int(epoch)), talk_s=float(talk),
                                transferred=event == "BLINDTRANSFER")
                    rows.append(open_calls.pop(key))
                elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY"):
                    outcome = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout",
                               "EXITWITHKEY": "exit_key"}[event]
                    wait = data[3] if event == "EXITWITHKEY" else data[2]
                    call.update(outcome=outcome, ended_at=_ts(int(epoch)),
                                wait_s=float(wait), transferred=False)
                    rows.append(open_calls.pop(key))
    rows.extend(open_calls.values())
    with store.transaction():
        store.upsert("contacts", pa.Table.from_pylist(rows))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "queue_log"
        started = time.perf_counter()
        lines = generate(path, args.lines)
        print(f"generated {lines:,} lines ({path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cores")

        store = Store.open(Path(tmp) / "ours.duckdb")
        started = time.perf_counter()
        summary = ingest_paths(store, "asterisk-queue-log", [path], tenant="default")
        ours = time.perf_counter() - started
        contacts = store.count("contacts")
        store.close()

        store = Store.open(Path(tmp) / "baseline.duckdb")
        started = time.perf_counter()
        baseline_lines = baseline_ingest(store, path)
        baseline = time.perf_counter() - started
        baseline_contacts = store.count("contacts")
        store.close()

    assert baseline_lines == lines and summary.total("rows_read") == lines
    assert contacts == baseline_contacts, (contacts, baseline_contacts)
    print(f"servicelevel: {ours:6.2f} s  {lines / ours / 1e6:5.2f} M lines/s  "
          f"({contacts:,} contacts, {summary.total('quarantined')} quarantined)")
    print(f"baseline:     {baseline:6.2f} s  {lines / baseline / 1e6:5.2f} M lines/s")
    print(f"ratio:        {baseline / ours:5.2f}x")


if __name__ == "__main__":
    main()
