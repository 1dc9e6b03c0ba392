#!/usr/bin/env python3
"""RocksDB state with one and more workers (issue 15, item 5).

`cep run patterns/card_testing.cep` over `cep gen card-testing --events N
--keys K` (default 2,000,000 events on 1,000,000 cards) with
`--state rocksdb:DIR --state-cache K/10` in the microbatch loop (trigger
100 ms), a checkpoint per batch (`--checkpoint-every loop`), and, for
comparison, the same run with in-memory state. Each configuration runs once
per `--workers` value; the script prints wall time, CPU time (user + system
of the child), events/s, events per CPU-second, the ratio to one worker, and
checks that every run finds the same matches (sorted match ids) as the
in-memory run with one worker, failing otherwise.

  bench/rocksdb_workers.py [--cep build/release/cep] [--events N] [--keys K]
                           [--workers 1,2] [--out DIR]
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    """Runs `cmd`; returns (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def sorted_lines(path):
    with open(path, encoding="utf-8") as f:
        return sorted(f.read().splitlines())


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cep", default=os.path.join(REPO, "build", "release", "cep"))
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-rocksdb-workers"))
    args = ap.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(args.out, "in.jsonl")
    if not os.path.exists(data):
        subprocess.run([args.cep, "gen", "card-testing", "--events", str(args.events),
                        "--keys", str(args.keys), "--seed", "1", "-o", data],
                       check=True, stderr=subprocess.DEVNULL)
    pattern = os.path.join(REPO, "patterns", "card_testing.cep")
    common = [args.cep, "run", pattern, "--input", data, "--match-ids",
              "--loop", "microbatch", "--trigger", "100ms"]
    rows = []
    reference = None
    for state in ("memory", "rocksdb"):
        base = None
        for n in workers:
            out = os.path.join(args.out, f"{state}-{n}.jsonl")
            cmd = common + ["--output", out, "--parallelism", str(n)]
            if state == "rocksdb":
                state_dir = os.path.join(args.out, f"state-{n}")
                shutil.rmtree(state_dir, ignore_errors=True)
                cmd += ["--state", "rocksdb:" + state_dir,
                        "--state-cache", str(max(1, args.keys // 10)),
                        "--checkpoint-every", "loop"]
            wall, cpu = run(cmd)
            lines = sorted_lines(out)
            if reference is None:
                reference = lines
            elif lines != reference:
                sys.exit(f"{state} with {n} workers: matches differ from memory, 1 worker")
            rate = args.events / wall
            base = base or rate
            rows.append((state, n, wall, cpu, rate, args.events / cpu, rate / base))
    print(f"{args.events} events, {args.keys} cards, {len(reference)} matches; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| state | workers | wall s | CPU s | events/s | events/CPU-s | vs 1 worker |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for state, n, wall, cpu, rate, per_cpu, ratio in rows:
        print(f"| {state} | {n} | {wall:.2f} | {cpu:.2f} | {rate / 1e6:.2f} M | "
              f"{per_cpu / 1e6:.2f} M | {ratio:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1:])
