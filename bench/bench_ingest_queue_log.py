"""Ingest throughput of a large generated queue_log, against a line-by-line baseline.

Both sides run in the same process on the same file and end in the same store:

- servicelevel: ``ingest_paths(store, "asterisk-queue-log", [path])``: read, pair, store
  (contacts and agent states), as ``slm ingest`` does;
- baseline: a straightforward Python parser and pairer (split each line, a dict of open
  calls keyed by (callid, queue)) that builds the same contact and on-call rows and writes
  them with the same ``Store.upsert``.

Parse-only figures (the adapter's ``parse`` against the baseline's loop) are printed too,
with CPU seconds: on a shared machine, CPU ≈ wall means the run got one core.

Run: ``python bench/bench_ingest_queue_log.py [--lines 5000000] [--mix ringing|dense]``.
It prints lines per second for both and their ratio; BENCHMARKS.md records the figures.
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

from servicelevel.sources import SourceChunk, get_format
from servicelevel.store import Store
from servicelevel.store.ingest import ingest_paths

AGENTS = [f"Agent/{1000 + i}" for i in range(60)]
QUEUES = ["sales", "support", "billing", "it"]


#: Line mixes. ``ringing``: while a call waits, an agent's phone rings unanswered every
#: 14 s from the 10th second (one RINGNOANSWER each), as in the PBXware log of
#: ../shared/data (0.07 RINGNOANSWER per second waited; 2.7 per call there, about 3 here;
#: 6.9 lines per call there without its vendor OUT* lines, about 5.8 here). ``dense``: a
#: RINGNOANSWER for 30 % of the answered calls only (3 lines per call): the most calls,
#: and so the most rows to store, per line.
MIXES = ("ringing", "dense")
_FIRST_RING_S, _RING_CYCLE_S = 10, 14


def generate(path: Path, lines: int, seed: int = 7, mix: str = "ringing") -> int:
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
        if mix == "ringing":
            for ring in range(_FIRST_RING_S, wait, _RING_CYCLE_S):
                add(t + ring, f"{rng.choice(AGENTS)}|RINGNOANSWER|10000")
        draw = rng.random()
        agent = rng.choice(AGENTS)
        if draw < 0.80:
            if mix == "dense" and rng.random() < 0.3:
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


def baseline_parse(path: Path) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Line by line: split, pair in a dict of open calls, build contact and on-call rows."""
    open_calls: dict[tuple[str, str], dict[str, Any]] = {}
    contacts: list[dict[str, Any]] = []
    on_contact: list[dict[str, Any]] = []
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
                    "tenant": "default", "source": "asterisk-queue-log",
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
                    contacts.append(open_calls.pop(key))
                    on_contact.append({
                        "tenant": "default", "source": "asterisk-queue-log",
                        "agent_id": call["agent_id"], "queue": queue, "state": "on_contact",
                        "started_at": call["answered_at"], "ended_at": call["ended_at"],
                    })
                elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY"):
                    outcome = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout",
                               "EXITWITHKEY": "exit_key"}[event]
                    wait = data[3] if event == "EXITWITHKEY" else data[2]
                    call.update(outcome=outcome, ended_at=_ts(int(epoch)),
                                wait_s=float(wait), transferred=False)
                    contacts.append(open_calls.pop(key))
    contacts.extend(open_calls.values())
    # One agent answering two calls at one instant is one on-call interval (as the adapter).
    unique = {(r["agent_id"], r["queue"], r["started_at"]): r for r in on_contact}
    return count, contacts, list(unique.values())


def baseline_ingest(store: Store, path: Path) -> int:
    """The baseline end to end: parse and pair line by line, then write with the store."""
    count, contacts, on_contact = baseline_parse(path)
    with store.transaction():
        store.upsert("contacts", pa.Table.from_pylist(contacts))
        store.upsert("agent_states", pa.Table.from_pylist(on_contact))
    return count


def _timed(work: Any) -> tuple[Any, float, float]:
    """Result, wall seconds and CPU seconds (all threads) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _closing(store: Store, result: Any) -> Any:
    """Close the store inside the timing: DuckDB checkpoints then, and that is storing too."""
    store.close()
    return result


def _median_run(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The run with the median wall time (wall, CPU)."""
    return sorted(runs)[len(runs) // 2]


def _on_calls(store: Store) -> int:
    row = store.connection.execute(
        "SELECT count(*) FROM agent_states WHERE state = 'on_contact'"
    ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3,
                        help="end-to-end runs of each side; the median is reported")
    parser.add_argument("--mix", choices=MIXES, default="ringing",
                        help="line mix of the generated log (see MIXES)")
    args = parser.parse_args()
    source_format = get_format("asterisk-queue-log")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "queue_log"
        started = time.perf_counter()
        lines = generate(path, args.lines, mix=args.mix)
        print(f"generated {lines:,} lines, {args.mix} mix "
              f"({path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        data = path.read_bytes()
        chunk = SourceChunk(str(path), data, 1, "default", None)
        source_format.parse(SourceChunk("warm-up", data[:10_000], 1, "default", None), None)

        parsed, parse_wall, parse_cpu = _timed(lambda: source_format.parse(chunk, None))
        _, base_parse_wall, base_parse_cpu = _timed(lambda: baseline_parse(path))
        del parsed

        ours_runs, baseline_runs = [], []
        for run in range(args.runs):
            store = Store.open(Path(tmp) / f"ours{run}.duckdb")
            summary, ours, ours_cpu = _timed(lambda store=store: _closing(
                store, ingest_paths(store, "asterisk-queue-log", [path], tenant="default")))
            check = Store.open(Path(tmp) / f"ours{run}.duckdb", read_only=True)
            contacts, on_calls = check.count("contacts"), _on_calls(check)
            check.close()
            ours_runs.append((ours, ours_cpu))

            store = Store.open(Path(tmp) / f"baseline{run}.duckdb")
            baseline_lines, baseline, baseline_cpu = _timed(
                lambda store=store: _closing(store, baseline_ingest(store, path)))
            check = Store.open(Path(tmp) / f"baseline{run}.duckdb", read_only=True)
            baseline_contacts, baseline_on_calls = check.count("contacts"), _on_calls(check)
            check.close()
            baseline_runs.append((baseline, baseline_cpu))
            print(f"run {run + 1}: end to end {ours:.2f} s against {baseline:.2f} s "
                  f"({baseline / ours:.2f}x), load average {os.getloadavg()[0]:.1f}")
        ours, ours_cpu = _median_run(ours_runs)
        baseline, baseline_cpu = _median_run(baseline_runs)

    # Both sides wrote the same rows (counts; the tests compare the rows themselves).
    assert baseline_lines == lines and summary.total("rows_read") == lines
    assert contacts == baseline_contacts, (contacts, baseline_contacts)
    assert on_calls == baseline_on_calls, (on_calls, baseline_on_calls)
    rate = lines / 1e6
    print(f"{'':24}{'wall s':>8}{'cpu s':>8}{'M lines/s':>11}")
    for label, wall, cpu in (
        ("servicelevel parse", parse_wall, parse_cpu),
        ("baseline parse", base_parse_wall, base_parse_cpu),
        ("servicelevel end to end", ours, ours_cpu),
        ("baseline end to end", baseline, baseline_cpu),  # medians of --runs
    ):
        print(f"{label:24}{wall:8.2f}{cpu:8.2f}{rate / wall:11.2f}")
    print(f"ratio end to end: {baseline / ours:.2f}x; parse only: "
          f"{base_parse_wall / parse_wall:.2f}x ({contacts:,} contacts, {on_calls:,} on-call "
          f"rows, {summary.total('quarantined')} quarantined); load average at the end "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
