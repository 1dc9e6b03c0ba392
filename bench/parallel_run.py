#!/usr/bin/env python3
"""`cep run` with one worker against several (issue 15, item 5).

`cep run patterns/card_testing.cep` over `cep gen card-testing --events N`
(default 10,000,000 events), event loop, state in memory — or with
`--rocksdb`, over `--keys K` cards (default 1,000,000), state in RocksDB
(a fresh directory per run, `--state-cache K/10`), the microbatch loop
(trigger 100 ms) and a checkpoint per batch — once per
`--workers` value per round, rounds alternating (`--rounds`, default 5), so
that a noisy spell of a shared machine hits every configuration alike.
Prints each run's wall time, CPU time (user + system of the child) and the
time the hypervisor stole from this virtual machine while it ran (the
`steal` column of /proc/stat, over all CPUs: a VM whose host is busy runs
two threads at once only part of the time), then per configuration the
medians, events/s and the ratio to the first configuration's median wall
time. Checks that every run finds the same matches (sorted) as the first,
failing otherwise.

  bench/parallel_run.py [--cep build/release/cep] [--events N]
                        [--workers 1,2] [--rounds R] [--out DIR]
                        [--rocksdb [--keys K]]
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def steal_seconds():
    """CPU time stolen by the hypervisor so far, over all CPUs (0 if unknown)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run(cmd, out_path):
    """Runs `cmd` with stdout to `out_path`; returns (wall, cpu, steal) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stolen = steal_seconds()
    start = time.monotonic()
    with open(out_path, "w", encoding="utf-8") as out:
        subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, steal_seconds() - stolen


def sorted_lines(path):
    with open(path, encoding="utf-8") as f:
        return sorted(f.read().splitlines())


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cep", default=os.path.join(REPO, "build", "release", "cep"))
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-parallel-run"))
    ap.add_argument("--rocksdb", action="store_true")
    ap.add_argument("--keys", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    os.makedirs(args.out, exist_ok=True)
    gen = [args.cep, "gen", "card-testing", "--events", str(args.events)]
    data = os.path.join(args.out, f"in-{args.events}.jsonl")
    if args.rocksdb:
        gen += ["--keys", str(args.keys), "--seed", "1"]
        data = os.path.join(args.out, f"in-{args.events}-{args.keys}.jsonl")
    if not os.path.exists(data):
        subprocess.run(gen + ["-o", data], check=True, stderr=subprocess.DEVNULL)
    pattern = os.path.join(REPO, "patterns", "card_testing.cep")
    state_dir = os.path.join(args.out, "state")
    state = []
    if args.rocksdb:
        state = ["--state", "rocksdb:" + state_dir,
                 "--state-cache", str(max(1, args.keys // 10)),
                 "--loop", "microbatch", "--trigger", "100ms",
                 "--checkpoint-every", "loop"]
    results = {w: [] for w in workers}
    reference = None
    for round_no in range(1, args.rounds + 1):
        for w in workers:
            out_path = os.path.join(args.out, f"matches-p{w}.jsonl")
            shutil.rmtree(state_dir, ignore_errors=True)
            wall, cpu, steal = run([args.cep, "run", pattern, "--input", data,
                                    "--parallelism", str(w)] + state, out_path)
            results[w].append((wall, cpu, steal))
            print(f"round {round_no} workers {w}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{steal:.2f} s stolen", flush=True)
            matches = sorted_lines(out_path)
            if reference is None:
                reference = matches
            elif matches != reference:
                print(f"workers {w}: the matches differ from the first run's",
                      file=sys.stderr)
                return 1
    print(f"\n{args.events} events, {len(reference)} matches, "
          f"{'RocksDB' if args.rocksdb else 'memory'}; medians of "
          f"{args.rounds} rounds:")
    print("| workers | wall | CPU | stolen | events/s | vs first |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    base = statistics.median(r[0] for r in results[workers[0]])
    for w in workers:
        wall = statistics.median(r[0] for r in results[w])
        cpu = statistics.median(r[1] for r in results[w])
        steal = statistics.median(r[2] for r in results[w])
        print(f"| {w} | {wall:.2f} s | {cpu:.2f} s | {steal:.2f} s | "
              f"{args.events / wall / 1e6:.2f} M | {base / wall:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
