#!/usr/bin/env python3
"""Loops compared: does a continuous microbatch loop close the latency gap to
event-at-a-time processing, and what does each loop cost? (issue #7, items
2, 3, 5 and 6)

Drives the `cep` binary as subprocesses, standard library only:

  1. Workload: `cep gen card-testing` (JSON lines) with planted frauds, and
     patterns/card_testing.cep, which must find each planted fraud once.
  2. Configurations: loops event; microbatch with --trigger 10ms, 100ms, 1s;
     realtime (--commit-interval 1s); each with memory state and with
     RocksDB state (fresh directory per run, checkpoints at the loop's own
     cadence: event loop every event, microbatch every trigger interval,
     realtime every second). For each one a saturation run (no --rate),
     then open-loop runs (--rate) at fractions of that saturation rate, and
     one run at a rate common to all configurations (for the CDF plot).
  3. Correctness while measuring: every run writes its matches with
     --match-ids; the sorted ids must equal those of the event-loop/memory
     reference over the same input, and their number the planted frauds.
     Any difference is printed and the harness exits with status 1.
  4. Output in --out (default build/bench-compare/): results.csv (one row per
     run), results.md (tables, machine named), PNG plots drawn by gnuplot.
  5. CORE's never-completing stock query (`cep gen stock-ticks --query
     3,never --window W`) for W = 100, 1000, 10000, 100000 over one
     stock-ticks file, under both evaluation strategies (`--evaluation
     auto`: shared partial matches; `--evaluation per-run`, no cap, given
     at most the stock cap per W): events/s per W, the ratio W=10^5 /
     W=10^2, a plot, and the check that both strategies count the same
     timed-out partial matches wherever both read every event.
  6. --vs 'COMMAND {input}': times an external command on the workload file;
     it prints its match count as the last line of stdout.
  7. --throughput (issue 15): only `cep run patterns/card_testing.cep` over
     `cep gen card-testing --events N` (default 10M) in memory (a file on
     /dev/shm), one run each with --parallelism 1 and 2: wall time, CPU
     time, events/s, events per CPU-second and the ratios; both runs must
     find every planted fraud and write the same sorted matches. Then, when
     built, bench/runtime_benchmark (the same pattern through a Runtime over
     typed events, no decoding). Writes OUT/throughput.md.

Usage:
  python3 bench/compare.py [--smoke] [--cep build/release/cep] [--out DIR]
                           [--seed S] [--vs 'COMMAND {input}'] [--require-plots]
  python3 bench/compare.py --throughput [--smoke] [--throughput-events N]

Exit status: 0 all runs agree; 1 a correctness check failed (the report is
still written); 2 the harness could not run (bad flags, cep failed, ...).
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATTERN = os.path.join(REPO, "patterns", "card_testing.cep")
STOCK_WINDOWS = (100, 1000, 10000, 100000)

# Full and smoke presets; flags override single values.
PRESETS = {
    "full": dict(
        loops=["event", "microbatch 10ms", "microbatch 100ms", "microbatch 1s",
               "realtime"],
        fractions=[0.1, 0.25, 0.5, 0.75, 0.9],
        duration=3.0,        # seconds of input per paced run (at least)
        pilot_events=100000,  # first saturation try
        sat_seconds=3.0,     # a saturation run lasts about this long
        rate_cap=0,          # paced rates are fractions of min(sat, cap)
        stock_events=1000000,
        stock_cap=45.0,      # seconds the slowest stock-query window may take
        keys=10000,
        fraud_rate=0.01,
    ),
    "smoke": dict(
        loops=["event", "microbatch 10ms", "realtime"],
        fractions=[0.25, 0.75],
        duration=1.0,
        pilot_events=5000,
        sat_seconds=0.0,
        rate_cap=8000,
        stock_events=20000,
        stock_cap=2.0,
        keys=1000,
        fraud_rate=0.01,
    ),
}

# A paced run "kept up" when it sustained this share of its input rate (the
# wall time also holds start-up and the last batch).
KEPT_UP = 0.95

ID_RE = re.compile(r'"id":"([0-9a-fA-F]+)"')


class HarnessError(Exception):
    """The harness cannot go on (exit status 2)."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# -- Formatting ----------------------------------------------------------------

def fmt_ns(ns):
    if ns is None:
        return "-"
    ns = float(ns)
    if ns <= 0:
        return "0"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale * 0.9995:  # 999.7 ms is "1 s", not "1e+03 ms"
            v = ns / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:.0f} {unit}"
    return f"{ns:.0f} ns"


def fmt_rate(r):
    if r is None:
        return "-"
    return f"{int(round(r)):,}"


def fmt_si(r):
    r = float(r)
    if r >= 1e6:
        return f"{r / 1e6:.3g}M"
    if r >= 1e3:
        return f"{r / 1e3:.3g}k"
    return f"{r:.3g}"


def round_sig(x, digits=2):
    if x <= 0:
        return 0
    e = math.floor(math.log10(x)) - digits + 1
    return int(round(x / 10 ** e) * 10 ** e) if e >= 0 else round(x, -e)


LADDER = (1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8, 10)


def ladder_up(n, minimum=1000):
    """Smallest workload size of the ladder >= n, so that runs of nearby
    rates share generated files and reference results."""
    n = max(int(math.ceil(n)), minimum)
    base = 10 ** math.floor(math.log10(n))
    for step in LADDER:
        v = int(round(step * base))
        if v >= n:
            return v
    return int(10 * base)


# -- Machine -------------------------------------------------------------------

def machine_info(cep):
    info = {"cpu": platform.processor() or "unknown CPU", "cores": os.cpu_count(),
            "ram_gib": None, "kernel": platform.release(), "cep": "unknown"}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["ram_gib"] = int(line.split()[1]) / 1024 / 1024
                    break
    except OSError:
        pass
    try:
        out = subprocess.run([cep, "--version"], capture_output=True, text=True,
                             timeout=30)
        info["cep"] = (out.stdout.strip() or out.stderr.strip()).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return info


def machine_line(info, load_start, load_end):
    ram = f"{info['ram_gib']:.1f} GiB RAM" if info["ram_gib"] else "RAM unknown"
    return (f"{info['cpu']}, {info['cores']} cores, {ram}, Linux "
            f"{info['kernel']}, {info['cep']}; load average {load_start:.1f} "
            f"at start, {load_end:.1f} at end")


# -- Running cep ---------------------------------------------------------------

def run_process(cmd, timeout, shell=False, stdout=subprocess.DEVNULL):
    """Runs cmd; after `timeout` seconds sends SIGTERM (cep then stops
    cleanly and still writes --stats-json), then SIGKILL 30 s later.
    Returns (returncode, stdout text or None, stderr text, wall seconds,
    timed_out)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, shell=shell, stdout=stdout,
                            stderr=subprocess.PIPE, text=True,
                            start_new_session=shell)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        if shell:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            if shell:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            out, err = proc.communicate()
    return proc.returncode, out, err or "", time.monotonic() - start, timed_out


class Workloads:
    """Generated card-testing files by size, with their planted-fraud counts,
    and the reference (event loop, memory) match ids over each."""

    def __init__(self, cep, workdir, keys, seed, fraud_rate):
        self.cep, self.dir = cep, workdir
        self.keys, self.seed, self.fraud_rate = keys, seed, fraud_rate
        self.files = {}      # events -> (path, planted)
        self.reference = {}  # events -> sorted ids

    def gen_command(self, n="N"):
        return (f"cep gen card-testing --events {n} --keys {self.keys} "
                f"--seed {self.seed} --fraud-rate {self.fraud_rate}")

    def get(self, n):
        if n in self.files:
            return self.files[n]
        path = os.path.join(self.dir, f"card-testing-{n}.jsonl")
        cmd = [self.cep, "gen", "card-testing", "--events", str(n),
               "--keys", str(self.keys), "--seed", str(self.seed),
               "--fraud-rate", str(self.fraud_rate), "--output", path]
        rc, _, err, _, _ = run_process(cmd, timeout=600)
        m = re.search(r"(\d+) events, (\d+) planted frauds", err)
        if rc != 0 or not m:
            raise HarnessError(f"cep gen failed (status {rc}): "
                               f"{' '.join(map(shlex.quote, cmd))}\n{err}")
        if int(m.group(1)) != n:
            raise HarnessError(f"cep gen wrote {m.group(1)} events, asked {n}")
        self.files[n] = (path, int(m.group(2)))
        return self.files[n]


def read_ids(path):
    ids, lines = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            m = ID_RE.search(line, max(0, len(line) - 64)) or ID_RE.search(line)
            ids.append(m.group(1) if m else "<no id>")
    ids.sort()
    return ids


def diff_ids(got, want, limit=5):
    """How two sorted id lists differ, in words."""
    from collections import Counter
    g, w = Counter(got), Counter(want)
    missing = sorted((w - g).elements())
    extra = sorted((g - w).elements())
    parts = [f"{len(got)} ids vs {len(want)} in the reference"]
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:limit])})")
    if extra:
        parts.append(f"{len(extra)} extra or repeated "
                     f"(e.g. {', '.join(extra[:limit])})")
    return "; ".join(parts)


class Config:
    def __init__(self, loop_name, state, event_checkpoint):
        self.loop_name, self.state = loop_name, state
        words = loop_name.split()
        self.loop = words[0]
        self.trigger = words[1] if len(words) > 1 else ""
        self.args = ["--loop", self.loop]
        if self.loop == "microbatch":
            self.args += ["--trigger", self.trigger]
            cadence = self.trigger
        elif self.loop == "realtime":
            self.args += ["--commit-interval", "1s"]
            cadence = "1s"
        else:
            cadence = event_checkpoint
        self.checkpoint = cadence if state == "rocksdb" else ""

    @property
    def name(self):
        return f"{self.loop_name}, {self.state}"

    def state_args(self, state_dir):
        if self.state == "memory":
            return []
        return ["--state", f"rocksdb:{state_dir}", "--checkpoint-every",
                self.checkpoint]


class Harness:
    def __init__(self, args, preset):
        self.args, self.p = args, preset
        self.cep = args.cep
        self.out = args.out
        self.work = tempfile.mkdtemp(prefix="work-", dir=self.out)
        self.workloads = Workloads(self.cep, self.work, preset["keys"],
                                   args.seed, preset["fraud_rate"])
        self.rows = []          # card-testing runs
        self.stock_rows = []
        self.vs_rows = []
        self.failures = []      # correctness disagreements
        self.notes = []
        self.step, self.total = 0, 0
        self.configs = [Config(loop, state, args.event_checkpoint)
                        for state in ("memory", "rocksdb")
                        for loop in preset["loops"]]
        self.reference_config = Config("event", "memory", "")

    # One cep run over the card-testing file of n events.
    def cep_run(self, config, n, rate=None, tag="run"):
        path, planted = self.workloads.get(n)
        ident = f"{len(self.rows)}-{tag}-{config.loop}{config.trigger}-{config.state}"
        matches = os.path.join(self.work, f"matches-{ident}.jsonl")
        stats_path = os.path.join(self.work, f"stats-{ident}.json")
        state_dir = os.path.join(self.work, f"state-{ident}")
        cmd = [self.cep, "run", PATTERN, "--input", path, "--output", matches,
               "--match-ids", "--stats-json", stats_path] + config.args
        cmd += config.state_args(state_dir)
        if rate:
            cmd += ["--rate", str(rate)]
        expected = n / rate if rate else n / 20000.0
        timeout = max(120.0, 5 * expected + 60)
        rc, _, err, wall, timed_out = run_process(cmd, timeout)
        shutil.rmtree(state_dir, ignore_errors=True)
        if timed_out or rc != 0:
            raise HarnessError(
                f"{config.name}: cep run {'timed out' if timed_out else f'exited {rc}'}"
                f" after {wall:.1f}s: {' '.join(map(shlex.quote, cmd))}\n{err}")
        try:
            with open(stats_path) as f:
                stats = json.load(f)
        except (OSError, ValueError) as e:
            raise HarnessError(f"{config.name}: cannot read --stats-json: {e}")
        ids = read_ids(matches)
        os.unlink(matches)
        os.unlink(stats_path)
        return stats, ids, planted

    def reference(self, n):
        if n not in self.workloads.reference:
            stats, ids, planted = self.cep_run(self.reference_config, n, tag="ref")
            self.set_reference(n, ids, planted)
        return self.workloads.reference[n]

    def set_reference(self, n, ids, planted):
        self.workloads.reference[n] = ids
        if len(ids) != planted:
            self.fail(f"reference (event, memory) over {n} events: {len(ids)} "
                      f"matches, but cep gen planted {planted} frauds")
        if len(set(ids)) != len(ids):
            self.fail(f"reference (event, memory) over {n} events: repeated ids")

    def fail(self, msg):
        self.failures.append(msg)
        log(f"CORRECTNESS FAILURE: {msg}")

    def measure(self, config, n, rate, kind, fraction=None, counted=True):
        stats, ids, planted = self.cep_run(config, n, rate, tag=kind)
        is_reference = (config.loop == "event" and config.state == "memory"
                        and not rate)
        if is_reference and n not in self.workloads.reference:
            self.set_reference(n, ids, planted)
        ref = self.reference(n)
        problems = []
        if ids != ref:
            problems.append(diff_ids(ids, ref))
        if len(ids) != planted:
            problems.append(f"{len(ids)} matches, {planted} planted frauds")
        if stats.get("matches") != len(ids):
            problems.append(f"stats say {stats.get('matches')} matches, the "
                            f"output has {len(ids)} lines")
        if stats.get("events") != n:
            problems.append(f"stats say {stats.get('events')} events of {n}")
        for field in ("late", "errors"):
            if stats.get(field):
                problems.append(f"{stats[field]} {field}")
        ok = not problems
        where = f"{config.name}, {kind}" + (f" at {rate} ev/s" if rate else "")
        for problem in problems:
            self.fail(f"{where} over {n} events: {problem}")
        row = dict(
            workload="card-testing", loop=config.loop, trigger=config.trigger,
            state=config.state, checkpoint_every=config.checkpoint, kind=kind,
            fraction=fraction if fraction is not None else "",
            target_rate=rate or "", events=stats["events"],
            wall_s=round(stats["wall_s"], 3),
            events_per_s=round(stats["events_per_s"], 1),
            kept_up=(stats["events_per_s"] >= KEPT_UP * rate) if rate else "",
            latency_count=stats.get("latency_count", ""),
            latency_p50_ns=stats["latency_p50_ns"],
            latency_p90_ns=stats["latency_p90_ns"],
            latency_p99_ns=stats["latency_p99_ns"],
            latency_p999_ns=stats["latency_p999_ns"],
            latency_max_ns=stats["latency_max_ns"],
            cpu_ns_per_event=stats["cpu_ns_per_event"],
            max_rss_kb=stats["max_rss_kb"], matches=len(ids),
            planted=planted, reference_matches=len(ref),
            ids_equal_reference=(ids == ref), correct=ok,
            latency_cdf=json.dumps(stats.get("latency_cdf", [])),
        )
        if counted:
            self.rows.append(row)
            self.step += 1
            what = (f"{fmt_rate(rate)} ev/s" if rate else "saturation")
            line = (f"[{self.step}/{self.total}] {config.name}, {what}: ")
            if rate:
                if not row["kept_up"]:
                    line += f"sustained {fmt_rate(row['events_per_s'])} ev/s, "
            else:
                line += f"{fmt_rate(row['events_per_s'])} ev/s, "
            line += (f"p99 {fmt_ns(row['latency_p99_ns'])}, "
                     f"{row['cpu_ns_per_event']:.0f} CPU ns/ev, {len(ids)} matches"
                     + ("" if ok else "  ** DISAGREES **"))
            log(line)
        return row

    # -- Card testing: saturation, paced, common rate.
    def card_testing(self):
        p = self.p
        per_config = 1 + len(p["fractions"]) + 1
        self.total = len(self.configs) * per_config + (
            0 if self.args.no_stock else 2 * len(STOCK_WINDOWS) + 1)
        saturation = {}
        for config in self.configs:
            n = ladder_up(p["pilot_events"])
            row = self.measure(config, n, None, "pilot", counted=False)
            if row["wall_s"] < p["sat_seconds"]:
                n = ladder_up(row["events_per_s"] * p["sat_seconds"])
                row = self.measure(config, n, None, "saturation")
            else:
                row["kind"] = "saturation"
                self.rows.append(row)
                self.step += 1
                log(f"[{self.step}/{self.total}] {config.name}, saturation: "
                    f"{fmt_rate(row['events_per_s'])} ev/s, p99 "
                    f"{fmt_ns(row['latency_p99_ns'])}, "
                    f"{row['cpu_ns_per_event']:.0f} CPU ns/ev, "
                    f"{row['matches']} matches")
            saturation[config.name] = row["events_per_s"]
        slowest = min(saturation.values())
        base_cap = p["rate_cap"] or float("inf")
        self.common_rate = round_sig(0.5 * min(slowest, base_cap), 2)
        self.saturation = saturation
        for config in self.configs:
            base = min(saturation[config.name], base_cap)
            duration = p["duration"]
            runs = [(round_sig(f * base, 3), "paced", f) for f in p["fractions"]]
            runs.append((self.common_rate, "common", ""))
            for rate, kind, fraction in runs:
                n = ladder_up(rate * duration)
                self.measure(config, n, rate, kind, fraction)

    # -- CORE stock query, never completing.
    def stock_query_text(self, window):
        """The .cep file of CORE's 3-step query plus a step no event matches:
        from `cep gen stock-ticks --query 3,never` when this cep has it,
        else written here."""
        cmd = [self.cep, "gen", "stock-ticks", "--query", "3,never",
               "--window", str(window)]
        rc, out, err, _, _ = run_process(cmd, 60, stdout=subprocess.PIPE)
        if rc == 0 and "pattern" in out:
            return out, "cep gen stock-ticks --query 3,never"
        return (f"""// CORE stock query, 3 steps and one that never completes (bench/compare.py)
event Stock {{
  event_type  string
  id          int
  name        string
  volume      int
  price       double
  stock_time  timestamp  time
}}

pattern core_stock_3_never on Stock
  within {window}ms {{
  begin a where event_type == "SELL" and name == "INTC"
  followed by any b where event_type == "BUY" and name == "RIMM"
  followed by any c where event_type == "BUY" and name == "QQQ"
  followed by any d where name == "NEVER"
}}
""", "written by bench/compare.py (cep gen has no --query)")

    def stock_run(self, query, data, cap, strategy="shared"):
        stats_path = os.path.join(self.work, "stock-stats.json")
        if os.path.exists(stats_path):
            os.unlink(stats_path)
        cmd = [self.cep, "run", query, "--input", data, "--output",
               os.path.join(self.work, "stock-matches.jsonl"),
               "--stats-json", stats_path]
        if strategy == "per-run":
            # Every partial match a run of its own, none evicted.
            cmd += ["--evaluation", "per-run", "--max-partial-matches", "0"]
        rc, _, err, wall, timed_out = run_process(cmd, cap)
        try:
            with open(stats_path) as f:
                stats = json.load(f)
        except (OSError, ValueError):
            raise HarnessError(f"stock query: cep run exited {rc} without "
                               f"stats: {' '.join(cmd)}\n{err}")
        if rc != 0 and not timed_out:
            raise HarnessError(f"stock query: cep run exited {rc}: "
                               f"{' '.join(cmd)}\n{err}")
        stats["stopped"] = bool(stats.get("stopped")) or timed_out
        return stats

    def stock_gen(self, n):
        path = os.path.join(self.work, f"stock-ticks-{n}.jsonl")
        if not os.path.exists(path):
            cmd = [self.cep, "gen", "stock-ticks", "--events", str(n),
                   "--seed", str(self.args.seed), "--output", path]
            rc, _, err, _, _ = run_process(cmd, 600)
            if rc != 0:
                raise HarnessError(f"cep gen stock-ticks failed: {err}")
        return path

    def stock(self):
        p = self.p
        cap = p["stock_cap"]
        if not self.total:  # --only-stock
            self.total = 2 * len(STOCK_WINDOWS) + 1
        queries = {}
        for w in STOCK_WINDOWS:
            text, source = self.stock_query_text(w)
            path = os.path.join(self.work, f"core-stock-{w}.cep")
            with open(path, "w") as f:
                f.write(text)
            rc, _, err, _, _ = run_process([self.cep, "check", path], 60)
            if rc != 0:
                raise HarnessError(f"cep check {path} failed:\n{err}")
            queries[w] = path
        self.stock_source = source
        n = p["stock_events"]
        total = self.total
        # The largest window is the slowest: its events processed within the
        # cap set the (common) event count of every window.
        biggest = STOCK_WINDOWS[-1]
        probe = self.stock_run(queries[biggest], self.stock_gen(n), cap)
        self.step += 1
        log(f"[{self.step}/{total}] stock query W={biggest}, probe over {n} "
            f"events (cap {cap:.0f} s): {probe['events']} events in "
            f"{probe['wall_s']:.1f} s" + (", stopped" if probe["stopped"] else ""))
        self.stock_cut = None
        if probe["stopped"]:
            cut = int(round_sig(max(probe["events"] * 0.9, 1000), 2))
            self.stock_cut = (n, cut, biggest, probe["events"], probe["wall_s"])
            self.notes.append(
                f"Stock query: W={biggest} processed only {probe['events']:,} "
                f"of {n:,} events in the {cap:.0f} s cap, so every W ran over "
                f"the first {cut:,} events.")
            n = cut
        data = self.stock_gen(n)
        same = [w for w in STOCK_WINDOWS if w >= n]
        if len(same) > 1:
            self.notes.append(
                f"Stock query: with {n:,} events (stock_time 0 to {n - 1:,}) no "
                f"partial match expires under W = "
                f"{', '.join(f'{w:,}' for w in same)}, so those runs do the same "
                f"work.")
        for w in STOCK_WINDOWS:
            counted = {}
            for strategy in ("shared", "per-run"):
                if strategy == "shared" and w == biggest and not probe["stopped"]:
                    stats = probe
                elif strategy == "shared":
                    stats = self.stock_run(queries[w], data, 2 * cap + 30)
                else:
                    stats = self.stock_run(queries[w], data, cap, strategy)
                self.step += 1
                log(f"[{self.step}/{total}] stock query W={w} {strategy}: "
                    f"{stats['events']} events, "
                    f"{fmt_rate(stats['events_per_s'])} ev/s, "
                    f"{stats['cpu_ns_per_event']:.0f} CPU ns/ev, "
                    f"{stats['timeouts']} timeouts"
                    + (", STOPPED at the cap" if stats["stopped"] else ""))
                self.stock_rows.append(dict(
                    workload="core-stock-3-never", window=w, strategy=strategy,
                    input_events=n, events=stats["events"],
                    stopped=stats["stopped"], wall_s=round(stats["wall_s"], 3),
                    events_per_s=round(stats["events_per_s"], 1),
                    cpu_ns_per_event=stats["cpu_ns_per_event"],
                    max_rss_kb=stats["max_rss_kb"], matches=stats["matches"],
                    timeouts=stats["timeouts"]))
                if stats["matches"]:
                    self.fail(f"stock query W={w} {strategy}: "
                              f"{stats['matches']} matches, the "
                              f"never-completing query must have none")
                if not stats["stopped"]:
                    counted[strategy] = stats["timeouts"]
            if len(counted) == 2 and counted["shared"] != counted["per-run"]:
                self.fail(f"stock query W={w}: shared partial matches count "
                          f"{counted['shared']} timeouts, per run "
                          f"{counted['per-run']}")

    # -- --vs: an external command over the same workload.
    def versus(self):
        if not self.args.vs:
            return
        n = self.args.vs_events or self.vs_default_events
        path, planted = self.workloads.get(n)
        ours = len(self.reference(n))
        for command in self.args.vs:
            cmd = command.replace("{input}", shlex.quote(path))
            rc, out, err, wall, timed_out = run_process(
                cmd, self.args.vs_timeout, shell=True, stdout=subprocess.PIPE)
            lines = [l for l in (out or "").splitlines() if l.strip()]
            count = None
            if lines:
                try:
                    count = int(lines[-1].strip().split()[-1])
                except ValueError:
                    count = None
            status = ("timed out" if timed_out else
                      f"exit {rc}" if rc != 0 else
                      "last line not a number" if count is None else
                      "count differs" if count != ours else "ok")
            agrees = count == ours
            row = dict(command=command, events=n, wall_s=round(wall, 3),
                       events_per_s=round(n / wall, 1) if wall > 0 else 0,
                       matches=count if count is not None else "",
                       ours=ours, agrees=agrees, status=status)
            self.vs_rows.append(row)
            log(f"--vs {command!r}: {n} events in {wall:.2f} s "
                f"({fmt_rate(row['events_per_s'])} ev/s), matches "
                f"{count if count is not None else '?'} vs ours {ours}: "
                + ("agree" if agrees else f"DISAGREE ({status})"))
            if rc != 0 or timed_out:
                log(f"--vs stderr: {err.strip()[-2000:]}")


# -- Reports -------------------------------------------------------------------

CSV_FIELDS = ["workload", "loop", "trigger", "state", "checkpoint_every", "kind",
              "fraction", "target_rate", "events", "wall_s", "events_per_s",
              "kept_up", "latency_count", "latency_p50_ns", "latency_p90_ns",
              "latency_p99_ns", "latency_p999_ns", "latency_max_ns",
              "cpu_ns_per_event", "max_rss_kb", "matches", "planted",
              "reference_matches", "ids_equal_reference", "correct", "window",
              "input_events", "strategy", "stopped", "timeouts", "command",
              "agrees", "status"]


def write_csv(h, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for row in h.rows:
            w.writerow(row)
        for row in h.stock_rows:
            w.writerow(row)
        for row in h.vs_rows:
            w.writerow(dict(row, workload="card-testing", loop="external",
                            kind="vs", correct=row["agrees"]))


def loop_label(row):
    return row["loop"] + (f" {row['trigger']}" if row["trigger"] else "")


def write_markdown(h, path, info, elapsed, plots, load_start, load_end):
    p, a = h.p, h.args
    L = []
    L.append("# Loops compared: event, microbatch, realtime (`bench/compare.py`)")
    L.append("")
    L.append(f"Machine: {machine_line(info, load_start, load_end)}. "
             f"Mode {'smoke' if a.smoke else 'full'}, seed {a.seed}, "
             f"{datetime.date.today().isoformat()}, the whole run took "
             f"{elapsed:.0f} s.")
    L.append("")
    # The card_testing loops (not with --only-stock).
    if h.rows:
        L.append(f"Workload: `{h.workloads.gen_command()}` (N per run below), "
                 f"pattern `patterns/card_testing.cep`, `cep run --match-ids "
                 f"--stats-json`, parallelism 1. Latency is detection latency "
                 f"(from when the completing event was due under `--rate`, or "
                 f"read in a saturation run, to the match handed to the output). "
                 f"RocksDB runs use a fresh `--state rocksdb:DIR` and checkpoint "
                 f"at the loop's own cadence: event loop `--checkpoint-every "
                 f"{a.event_checkpoint}`, microbatch every trigger interval, "
                 f"realtime `--checkpoint-every 1s` (commit interval 1s). "
                 f"Paced runs (`--rate`) carry at least {p['duration']:g} s of input"
                 + (f" at fractions of min(saturation, {p['rate_cap']:,} ev/s)"
                    if p["rate_cap"] else " at fractions of the configuration's own "
                    "saturation rate")
                 + f"; the common rate {fmt_rate(h.common_rate)} ev/s is half the "
                   f"slowest configuration's saturation rate.")
        L.append("")
        # Correctness.
        n_runs = len(h.rows)
        if h.failures:
            L.append(f"**Correctness: {len(h.failures)} disagreement(s):**")
            L.append("")
            for f in h.failures:
                L.append(f"- {f}")
        else:
            files = sorted({r["events"] for r in h.rows})
            L.append(f"Correctness: all {n_runs} runs found exactly the match ids of "
                     f"the event-loop/memory run over the same input ({len(files)} "
                     f"input sizes), and as many matches as `cep gen` planted frauds.")
        L.append("")
        # Saturation.
        L.append("## Saturation (no `--rate`)")
        L.append("")
        L.append("| loop | state | checkpoint every | events | max events/s | CPU ns/event "
                 "| peak RSS | latency p50 / p99 | matches |")
        L.append("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |")
        for r in h.rows:
            if r["kind"] != "saturation":
                continue
            L.append(f"| {loop_label(r)} | {r['state']} | {r['checkpoint_every'] or '-'} "
                     f"| {r['events']:,} | {fmt_rate(r['events_per_s'])} "
                     f"| {r['cpu_ns_per_event']:,.0f} | {r['max_rss_kb'] / 1024:.0f} MiB "
                     f"| {fmt_ns(r['latency_p50_ns'])} / {fmt_ns(r['latency_p99_ns'])} "
                     f"| {r['matches']:,} |")
        L.append("")
        # p99 pivot.
        fr = p["fractions"]
        L.append("## Detection latency p99 by input rate")
        L.append("")
        L.append("Each cell: p99 at that fraction of the configuration's saturation "
                 "rate (the rate in ev/s in brackets); `*` marks a run that did not "
                 f"sustain its input rate (below {KEPT_UP:.0%}).")
        L.append("")
        L.append("| loop | state | " + " | ".join(f"{f:.0%}" for f in fr)
                 + f" | common {fmt_si(h.common_rate)}/s |")
        L.append("| --- | --- |" + " ---: |" * (len(fr) + 1))
        for c in h.configs:
            cells = []
            for f in fr + ["common"]:
                rr = [r for r in h.rows if r["loop"] == c.loop and r["trigger"] == c.trigger
                      and r["state"] == c.state and
                      ((r["kind"] == "paced" and r["fraction"] == f) or
                       (f == "common" and r["kind"] == "common"))]
                if not rr:
                    cells.append("-")
                    continue
                r = rr[0]
                star = "" if r["kept_up"] else "*"
                cells.append(f"{fmt_ns(r['latency_p99_ns'])}{star}"
                             + ("" if f == "common" else f" ({fmt_si(r['target_rate'])})"))
            L.append(f"| {c.loop_name} | {c.state} | " + " | ".join(cells) + " |")
        L.append("")
        # All runs.
        L.append("## Every run")
        L.append("")
        L.append("| loop | state | kind | target ev/s | sustained ev/s | events | p50 | "
                 "p99 | p99.9 | max | CPU ns/event | peak RSS | matches |")
        L.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                 "| ---: | ---: | ---: |")
        for r in h.rows:
            kind = r["kind"] + (f" {r['fraction']:.0%}" if r["kind"] == "paced" else "")
            L.append(f"| {loop_label(r)} | {r['state']} | {kind} "
                     f"| {fmt_rate(r['target_rate']) if r['target_rate'] else '-'} "
                     f"| {fmt_rate(r['events_per_s'])}{'' if r['kept_up'] in ('', True) else '*'} "
                     f"| {r['events']:,} | {fmt_ns(r['latency_p50_ns'])} "
                     f"| {fmt_ns(r['latency_p99_ns'])} | {fmt_ns(r['latency_p999_ns'])} "
                     f"| {fmt_ns(r['latency_max_ns'])} | {r['cpu_ns_per_event']:,.0f} "
                     f"| {r['max_rss_kb'] / 1024:.0f} MiB | {r['matches']:,} |")
        L.append("")
    # Stock.
    if h.stock_rows:
        L.append("## CORE stock query that never completes, by window")
        L.append("")
        L.append(f"`cep gen stock-ticks --events N --seed {a.seed}`, the query "
                 f"from {h.stock_source} (SELL INTC, BUY RIMM, BUY QQQ, then a "
                 f"step no event matches; followed by any; no key), W in "
                 f"stock_time units (ms), unpaced, in-memory state. shared: "
                 f"`--evaluation auto` (the pattern shares its partial "
                 f"matches), given at most {2 * p['stock_cap'] + 30:.0f} s; "
                 f"per-run: `--evaluation per-run --max-partial-matches 0` "
                 f"(no cap), given at most {p['stock_cap']:.0f} s per W. "
                 f"Timed-out partial matches are counted, not written.")
        L.append("")
        L.append("| W | strategy | events | events/s | CPU ns/event | peak RSS "
                 "| timed-out partial matches | note |")
        L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for r in h.stock_rows:
            note = (f"stopped at the cap after {r['events']:,} of "
                    f"{r['input_events']:,}" if r["stopped"] else "")
            L.append(f"| {r['window']:,} | {r['strategy']} | {r['events']:,} | "
                     f"{fmt_rate(r['events_per_s'])} | {r['cpu_ns_per_event']:,.0f} "
                     f"| {r['max_rss_kb'] / 1024:.0f} MiB | {r['timeouts']:,} | {note} |")
        for strategy in ("shared", "per-run"):
            by_w = {r["window"]: r for r in h.stock_rows
                    if r["strategy"] == strategy}
            lo, hi = by_w.get(STOCK_WINDOWS[0]), by_w.get(STOCK_WINDOWS[-1])
            if lo and hi and lo["events_per_s"] > 0:
                ratio = hi["events_per_s"] / lo["events_per_s"]
                cpu_ratio = (lo["cpu_ns_per_event"] / hi["cpu_ns_per_event"]
                             if hi["cpu_ns_per_event"] else 0)
                L.append("")
                L.append(f"{strategy}: events/s at W=10^5 ÷ events/s at W=10^2: "
                         f"**{ratio:.3g}** (CPU time per event: {cpu_ratio:.3g}); "
                         f"target ≥ 0.5 (within 2x): "
                         f"**{'met' if ratio >= 0.5 else 'missed'}**.")
        L.append("")
    # Versus.
    if h.vs_rows:
        L.append("## External command (`--vs`)")
        L.append("")
        ref_row = next((r for r in h.rows if r["kind"] == "saturation"
                        and r["loop"] == "event" and r["state"] == "memory"), None)
        L.append("| engine | events | wall s | events/s | matches | equals ours |")
        L.append("| --- | ---: | ---: | ---: | ---: | --- |")
        if ref_row:
            L.append(f"| cep (event, memory, saturation) | {ref_row['events']:,} | "
                     f"{ref_row['wall_s']:.2f} | {fmt_rate(ref_row['events_per_s'])} "
                     f"| {ref_row['matches']:,} | - |")
        for r in h.vs_rows:
            cmd = r["command"].replace("|", "\\|")
            verdict = "yes" if r["agrees"] else f"**no** ({r['status']})"
            L.append(f"| `{cmd}` | {r['events']:,} | {r['wall_s']:.2f} | "
                     f"{fmt_rate(r['events_per_s'])} | {r['matches']} "
                     f"(ours {r['ours']:,}) | {verdict} |")
        L.append("")
    # Plots and notes.
    if plots:
        L.append("## Plots")
        L.append("")
        for name, title in plots:
            L.append(f"![{title}]({name})")
        L.append("")
    notes = list(h.notes)
    notes.append("Latency percentiles come from the matches only (about one per "
                 f"{1 / p['fraud_rate']:.0f} events), so low-rate runs over few "
                 "events have coarse p99.9 and max.")
    if a.event_checkpoint == "1events" and any(
            c.loop == "event" and c.state == "rocksdb" for c in h.configs):
        notes.append("The event loop with RocksDB commits after every event "
                     "(`--checkpoint-every 1events`, its natural cadence), one "
                     "RocksDB write batch per event: hence its low saturation "
                     "rate and the low rates of its paced runs. "
                     "`--event-checkpoint 100events` measures a cheaper cadence.")
    notes.append("No `--max-out-of-orderness`: the watermark trails the newest "
                 "event by 1 ms, so the event that completes a match is "
                 "processed only when the next event arrives; under `--rate R` "
                 "every loop's latency therefore includes about 1/R.")
    notes.append("Wall-clock rates depend on the shared machine's load; CPU ns "
                 "per event is steadier.")
    L.append("## Notes")
    L.append("")
    for n in notes:
        L.append(f"- {n}")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def gnuplot_terminal(gnuplot):
    out = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True,
                         text=True)
    text = out.stdout + out.stderr
    if "pngcairo" in text:
        return "pngcairo noenhanced size 1000,650 font 'sans,10'"
    return "png noenhanced size 1000,650"


def make_plots(h, out, require):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        msg = "gnuplot not found (Debian: apt-get install gnuplot-nox): no plots"
        if require:
            raise HarnessError(msg)
        log(msg)
        h.notes.append("No plots: gnuplot was not installed.")
        return []
    gdir = os.path.join(out, "gnuplot")
    os.makedirs(gdir, exist_ok=True)
    term = gnuplot_terminal(gnuplot)
    plots = []
    scripts = []
    dash = {"memory": 1, "rocksdb": 2}

    def dat(name, rows):
        path = os.path.join(gdir, name)
        with open(path, "w") as f:
            for row in rows:
                f.write(" ".join(str(x) for x in row) + "\n")
        return path

    # (a) p99 against input rate, one plot per state.
    for state in ("memory", "rocksdb"):
        series = []
        for i, c in enumerate(h.configs):
            if c.state != state:
                continue
            pts = sorted((r["target_rate"], max(r["latency_p99_ns"], 1) / 1e6)
                         for r in h.rows
                         if r["loop"] == c.loop and r["trigger"] == c.trigger
                         and r["state"] == state and r["kind"] in ("paced", "common")
                         and r["latency_count"])
            if not pts:
                continue
            d = dat(f"p99-{state}-{c.loop}{c.trigger}.dat", pts)
            series.append(f"'{d}' using 1:2 with linespoints lw 2 pt 7 "
                          f"title '{c.loop_name}'")
        if not series:
            continue
        png = f"p99-{state}.png"
        gp = os.path.join(gdir, f"p99-{state}.gp")
        with open(gp, "w") as f:
            f.write(f"set terminal {term}\nset output '{os.path.join(out, png)}'\n"
                    f"set title 'card_testing, {state} state: detection latency p99 "
                    f"vs input rate (open loop, --rate)'\n"
                    "set xlabel 'input rate (events/s)'\nset ylabel 'p99 latency (ms)'\n"
                    "set logscale xy\nset grid\nset key outside right top\n"
                    "set format y '%g'\nset format x '%.0s%c'\n"
                    "plot " + ", \\\n     ".join(series) + "\n")
        scripts.append(gp)
        plots.append((png, f"p99 latency vs input rate, {state} state"))
    # (b) CDF at the common rate.
    series = []
    for c in h.configs:
        rr = [r for r in h.rows if r["loop"] == c.loop and r["trigger"] == c.trigger
              and r["state"] == c.state and r["kind"] == "common"]
        if not rr or not rr[0]["latency_count"]:
            continue
        cdf = json.loads(rr[0]["latency_cdf"])
        pts = [(max(ns, 1) / 1e6, pct) for pct, ns in cdf]
        d = dat(f"cdf-{c.state}-{c.loop}{c.trigger}.dat", pts)
        series.append(f"'{d}' using 1:2 with linespoints lw 2 pt 7 ps 0.6 "
                      f"dt {dash[c.state]} title '{c.name}'")
    if series:
        png = "latency-cdf.png"
        gp = os.path.join(gdir, "latency-cdf.gp")
        with open(gp, "w") as f:
            f.write(f"set terminal {term}\nset output '{os.path.join(out, png)}'\n"
                    f"set title 'card_testing at {fmt_rate(h.common_rate)} events/s "
                    f"(every configuration): detection latency CDF'\n"
                    "set xlabel 'detection latency (ms)'\nset ylabel 'percentile'\n"
                    "set logscale x\nset grid\nset key outside right top\n"
                    "set yrange [0:100]\nset format x '%g'\n"
                    "plot " + ", \\\n     ".join(series) + "\n")
        scripts.append(gp)
        plots.append((png, f"latency CDF at {fmt_rate(h.common_rate)} events/s"))
    # (c) the never-completing stock query: events/s by window, per strategy.
    series = []
    for strategy in ("shared", "per-run"):
        # Events per CPU-second: steadier than wall time on a shared machine.
        pts = [(r["window"], 1e9 / max(r["cpu_ns_per_event"], 1))
               for r in h.stock_rows if r["strategy"] == strategy]
        if not pts:
            continue
        d = dat(f"stock-{strategy}.dat", sorted(pts))
        series.append(f"'{d}' using 1:2 with linespoints lw 2 pt 7 "
                      f"title '{strategy}'")
    if series:
        png = "stock-window.png"
        gp = os.path.join(gdir, "stock-window.gp")
        with open(gp, "w") as f:
            f.write(f"set terminal {term}\nset output '{os.path.join(out, png)}'\n"
                    "set title 'CORE never-completing stock query: "
                    "throughput by window (cep run)'\n"
                    "set xlabel 'window W (events)'\n"
                    "set ylabel 'events per CPU-second'\n"
                    "set logscale xy\nset grid\nset key outside right top\n"
                    "set format y '%.0s%c'\nset format x '%.0s%c'\n"
                    "plot " + ", \\\n     ".join(series) + "\n")
        scripts.append(gp)
        plots.append((png, "stock query throughput by window, per strategy"))
    done = []
    for gp, plot in zip(scripts, plots):
        r = subprocess.run([gnuplot, gp], capture_output=True, text=True)
        if r.returncode != 0:
            msg = f"gnuplot {gp} failed: {r.stderr.strip()}"
            if require:
                raise HarnessError(msg)
            log(msg)
            continue
        done.append(plot)
    return done


# -- Main ----------------------------------------------------------------------

# -- Throughput of cep run, one and two workers (--throughput) -----------------

def throughput(args, info, load_start):
    """One run each of `cep run` with --parallelism 1 and 2 over one
    card-testing file in memory; returns the markdown report, or raises
    HarnessError. Correctness failures are appended to `failures`."""
    events = args.throughput_events or (20000 if args.smoke else 10_000_000)
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    work = tempfile.mkdtemp(prefix="cep-throughput-", dir=shm)
    failures, rows = [], []
    try:
        path = os.path.join(work, "card-testing.jsonl")
        cmd = [args.cep, "gen", "card-testing", "--events", str(events),
               "--seed", str(args.seed), "--output", path]
        rc, _, err, _, _ = run_process(cmd, timeout=1200)
        m = re.search(r"(\d+) events, (\d+) planted frauds", err)
        if rc != 0 or not m:
            raise HarnessError(f"cep gen failed (status {rc}): {err}")
        planted = int(m.group(2))
        outputs = {}
        for parallelism in (1, 2):
            out = os.path.join(work, f"matches-p{parallelism}.jsonl")
            stats = os.path.join(work, f"stats-p{parallelism}.json")
            cmd = [args.cep, "run", PATTERN, "--input", path, "--output", out,
                   "--parallelism", str(parallelism), "--stats-json", stats]
            log(f"compare.py: {' '.join(map(shlex.quote, cmd))}")
            rc, _, err, wall, _ = run_process(cmd, timeout=3600)
            if rc != 0:
                raise HarnessError(f"cep run failed (status {rc}): {err}")
            with open(stats) as f:
                st = json.load(f)
            with open(out) as f:
                outputs[parallelism] = sorted(f)
            if st["matches"] != planted:
                failures.append(f"--parallelism {parallelism}: {st['matches']} "
                                f"matches, {planted} planted frauds")
            rows.append({"parallelism": parallelism, "events": st["events"],
                         "wall": st["wall_s"], "cpu": st["cpu_s"],
                         "matches": st["matches"]})
        if outputs[1] != outputs[2]:
            failures.append("--parallelism 2 wrote other matches than 1")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()[0]
    lines = [f"# `cep run` throughput, one and two workers", "",
             f"Machine: {machine_line(info, load_start, load_end)}.", "",
             f"Workload: `cep run patterns/card_testing.cep` over `cep gen "
             f"card-testing --events {events} --seed {args.seed}` (a file on "
             f"{shm or 'the temporary directory'}), {planted} planted frauds; "
             f"in-memory state, event loop; one run each.", "",
             "| run | wall | CPU | events/s (wall) | events per CPU-second | matches |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| `--parallelism {r['parallelism']}` | {r['wall']:.2f} s | "
                     f"{r['cpu']:.2f} s | {fmt_si(r['events'] / r['wall'])} | "
                     f"{fmt_si(r['events'] / r['cpu'])} | {r['matches']} |")
    one, two = rows
    lines += ["", f"Two workers against one: {one['wall'] / two['wall']:.2f}x "
              f"the events/s in wall time, for {two['cpu'] / one['cpu']:.2f}x "
              f"the CPU time. While other work keeps the load average above "
              f"the cores' number, wall times include waiting for a core and "
              f"events per CPU-second are the measure that holds."]
    bench = os.path.join(os.path.dirname(args.cep), "runtime_benchmark")
    if not args.smoke and os.access(bench, os.X_OK):
        rc, out, err, _, _ = run_process([bench, "--benchmark_format=json"],
                                         timeout=1200, stdout=subprocess.PIPE)
        if rc == 0:
            lines += ["", "The same pattern through a `Runtime` over typed events "
                      "(`bench/runtime_benchmark`, no framing or decoding, "
                      "2M events):", "",
                      "| run | wall | CPU | events/s (wall) | events per CPU-second |",
                      "| --- | ---: | ---: | ---: | ---: |"]
            for b in json.loads(out)["benchmarks"]:
                n = b["items_per_second"] * b["real_time"] / 1e3
                lines.append(f"| `{b['name'].split('/process_time')[0]}` | "
                             f"{b['real_time'] / 1e3:.2f} s | "
                             f"{b['cpu_time'] / 1e3:.2f} s | "
                             f"{fmt_si(b['items_per_second'])} | "
                             f"{fmt_si(n / (b['cpu_time'] / 1e3))} |")
    if failures:
        lines += ["", "**Correctness checks FAILED:**", ""] + \
            [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n", failures


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Compare cep's loops (event, microbatch, realtime) with "
                    "memory and RocksDB state: throughput, open-loop latency, "
                    "CPU and memory, checking every run's matches.")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny run for CI (< 60 s): a few thousand events, two "
                         "rates, three loops, both states, all checks")
    ap.add_argument("--cep", default=os.path.join(REPO, "build", "release", "cep"),
                    help="the cep binary (default: build/release/cep)")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-compare"),
                    help="output directory (default: build/bench-compare)")
    ap.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    ap.add_argument("--vs", action="append", default=[], metavar="'COMMAND {input}'",
                    help="also time this shell command on the workload file "
                         "({input} is replaced by its path); its last stdout "
                         "line is its match count. May be repeated.")
    ap.add_argument("--vs-events", type=int, default=0,
                    help="workload size for --vs (default: the event/memory "
                         "saturation run's)")
    ap.add_argument("--vs-timeout", type=float, default=600)
    ap.add_argument("--require-plots", action="store_true",
                    help="fail when gnuplot is missing or fails")
    ap.add_argument("--event-checkpoint", default="1events",
                    help="--checkpoint-every of the event loop with RocksDB "
                         "(default 1events: a commit per event)")
    ap.add_argument("--duration", type=float,
                    help="seconds of input per paced run (default 3, smoke 1)")
    ap.add_argument("--fractions",
                    help="comma-separated fractions of saturation for paced runs")
    ap.add_argument("--loops", help="comma-separated loops, e.g. "
                    "'event,microbatch 100ms,realtime'")
    ap.add_argument("--stock-events", type=int,
                    help="stock-ticks events for the stock query (default 1000000)")
    ap.add_argument("--stock-cap", type=float,
                    help="seconds the slowest stock-query window may run "
                         "before the event count is cut (default 30)")
    ap.add_argument("--no-stock", action="store_true", help="skip the stock query")
    ap.add_argument("--only-stock", action="store_true",
                    help="run only the stock query (the window sweep of both "
                         "evaluation strategies)")
    ap.add_argument("--throughput", action="store_true",
                    help="only `cep run` throughput with --parallelism 1 and 2 "
                         "(issue 15), into OUT/throughput.md")
    ap.add_argument("--throughput-events", type=int, default=0,
                    help="events for --throughput (default 10000000, smoke "
                         "20000)")
    ap.add_argument("--keep-work", action="store_true",
                    help="keep the generated workloads in OUT/work-*")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    preset = dict(PRESETS["smoke" if args.smoke else "full"])
    if args.duration:
        preset["duration"] = args.duration
    if args.fractions:
        preset["fractions"] = [float(x) for x in args.fractions.split(",")]
    if args.loops:
        preset["loops"] = [x.strip() for x in args.loops.split(",")]
    if args.stock_events:
        preset["stock_events"] = args.stock_events
    if args.stock_cap:
        preset["stock_cap"] = args.stock_cap
    for loop in preset["loops"]:
        if not re.fullmatch(r"event|realtime|microbatch \S+", loop):
            log(f"compare.py: unknown loop {loop!r}")
            return 2
    args.cep = os.path.abspath(args.cep)
    if not (os.path.isfile(args.cep) and os.access(args.cep, os.X_OK)):
        log(f"compare.py: no cep binary at {args.cep} (build it: make build, "
            f"or pass --cep PATH)")
        return 2
    for cmd in args.vs:
        if "{input}" not in cmd:
            log(f"compare.py: --vs {cmd!r} has no {{input}}")
            return 2
    os.makedirs(args.out, exist_ok=True)
    args.out = os.path.abspath(args.out)
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    info = machine_info(args.cep)
    if args.throughput:
        try:
            report, failures = throughput(args, info, load_start)
        except HarnessError as e:
            log(f"compare.py: error: {e}")
            return 2
        with open(os.path.join(args.out, "throughput.md"), "w") as f:
            f.write(report)
        print(report, end="")
        return 1 if failures else 0
    log(f"compare.py: {machine_line(info, load_start, load_start)}; "
        f"mode {'smoke' if args.smoke else 'full'}, output in {args.out}")
    h = Harness(args, preset)
    try:
        if not args.only_stock:
            h.card_testing()
            ref_sat = next(r for r in h.rows if r["kind"] == "saturation"
                           and r["loop"] == "event" and r["state"] == "memory") \
                if any(c.loop == "event" and c.state == "memory"
                       for c in h.configs) else h.rows[0]
            h.vs_default_events = ref_sat["events"]
        if not args.no_stock:
            h.stock()
        h.versus()
        plots = make_plots(h, args.out, args.require_plots)
        elapsed = time.monotonic() - started
        load_end = os.getloadavg()[0]
        write_csv(h, os.path.join(args.out, "results.csv"))
        write_markdown(h, os.path.join(args.out, "results.md"), info, elapsed,
                       plots, load_start, load_end)
    except HarnessError as e:
        log(f"compare.py: error: {e}")
        return 2
    finally:
        if not args.keep_work:
            shutil.rmtree(h.work, ignore_errors=True)
    log(f"compare.py: wrote {os.path.join(args.out, 'results.csv')}, "
        f"results.md" + "".join(f", {p}" for p, _ in plots)
        + f" in {time.monotonic() - started:.0f} s")
    if h.failures:
        log(f"compare.py: {len(h.failures)} correctness check(s) FAILED:")
        for f in h.failures:
            log(f"  {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
