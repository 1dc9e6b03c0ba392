#!/usr/bin/env bash
# End-to-end test of examples/fraud_service (CTest: example.fraud_service).
#
#   e2e_test.sh FRAUD_SERVICE CEP
#
# Input: `cep gen card-testing` (50,000 authorisations on 1,000 cards) plus a
# hand-written tail of three declines and a large charge on one card, since
# the generator never makes declines_then_charge. Checks:
#   1. an uninterrupted run writes alerts A of all five patterns (the four
#      files' and the C++ amount_spike), as many card_testing alerts as the
#      generator planted frauds, and the summary says it reached the end;
#   2. --generate with the same seed and cards gives A minus the tail's alert;
#   3. a paced run stopped by SIGTERM exits 0, says it stopped, and has
#      written a prefix of A; restarted (input through a pipe) it processes
#      only the rest of the input and completes the file to exactly A;
#   4. a paced --generate run killed with SIGKILL, then restarted, processes
#      only the rest and ends with exactly the alerts of step 2;
#   5. --help exits 0; bad flags exit 2 with one line on stderr (an unknown
#      flag last says so; --alerts that is the input is refused, and the
#      input left alone); --seed without --generate warns; --generate
#      beyond memory fails with a clear error;
#   6. a run on an idle named pipe holds the state: a second run is refused
#      without creating its alerts file, and SIGTERM stops the first;
#   7. with --parallelism 2: the alerts of step 1 (as a set of lines: the
#      workers interleave cards), also across a SIGKILL and a restart with
#      --parallelism 2, and across a SIGTERM and a restart with 3 workers;
#      --max-partial-matches and --overflow are taken.
# Alerts are compared byte for byte without their "latency_us" member,
# which differs from run to run.
set -euo pipefail

fs=$(realpath "$1")
cep=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
  echo "FAIL: $*" >&2
  for f in *.err; do
    [[ -f $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  exit 1
}
strip_latency() { sed -E 's/,"latency_us":[0-9]+//' "$1"; }
# Waits (up to 20 s) until FILE has N lines: the run has checkpointed.
wait_lines() {
  local tries=0
  until [[ -f $1 ]] && (($(wc -l <"$1") >= $2)); do
    ((++tries < 200)) || fail "$1 never reached $2 lines"
    sleep 0.1
  done
}
same() {  # same FILE1 FILE2 WHAT
  cmp -s <(strip_latency "$1") <(strip_latency "$2") ||
    fail "$3: $1 and $2 differ: $(diff <(strip_latency "$1") \
      <(strip_latency "$2") | head -4)"
}

gen_flags=(--events 50000 --keys 1000 --seed 7)
"$cep" gen card-testing "${gen_flags[@]}" -o gen.jsonl 2>gen.err ||
  fail "cep gen exited $?"
planted=$(sed -nE 's/.* ([0-9]+) planted frauds$/\1/p' gen.err)
[[ -n $planted ]] || fail "no planted-fraud count from cep gen: $(cat gen.err)"
last_ts=$(tail -n 1 gen.jsonl | sed -E 's/.*"ts":([0-9]+).*/\1/')
{
  cat gen.jsonl
  for step in 1 2 3; do
    echo "{\"card\":\"5100-0000-0000-0001\",\"amount\":49.99,\"merchant\":\"online\",\"result\":\"declined\",\"ts\":$((last_ts + step * 1000))}"
  done
  echo "{\"card\":\"5100-0000-0000-0001\",\"amount\":1499.00,\"merchant\":\"electronics\",\"result\":\"approved\",\"ts\":$((last_ts + 60000))}"
} >events.jsonl

# 1. Uninterrupted.
"$fs" --input events.jsonl --state a.state --alerts a.jsonl 2>a.err ||
  fail "run A exited $?"
grep -q "end of input" a.err || fail "run A: no 'end of input' in summary"
[[ -s a.jsonl ]] || fail "run A wrote no alerts"
for pattern in card_testing card_cashout velocity declines_then_charge \
  amount_spike; do
  grep -q "^{\"pattern\":\"$pattern\"" a.jsonl ||
    fail "run A: no $pattern alert"
done
[[ $(grep -c '^{"pattern":"card_testing"' a.jsonl) == "$planted" ]] ||
  fail "run A: card_testing alerts differ from the $planted planted frauds"
grep -q ',"id":"[0-9a-f]\{16\}","latency_us":[0-9]*}$' a.jsonl ||
  fail "run A: alerts lack id and latency_us"

# 2. Generated in-process: A without the tail's alert.
"$fs" --generate 50000 --cards 1000 --seed 7 --state g.state \
  --alerts g.jsonl 2>g.err || fail "run G exited $?"
grep -v '^{"pattern":"declines_then_charge"' a.jsonl >a_gen.jsonl || true
same a_gen.jsonl g.jsonl "--generate vs --input"

# 3. SIGTERM mid-run (50,000 events at 10,000/s take 5 s; alerts reach the
# file at checkpoints), then a restart that reads the input from a pipe.
"$fs" --input events.jsonl --state b.state --alerts b.jsonl --rate 10000 \
  --checkpoint-every 1000events 2>b1.err &
pid=$!
wait_lines b.jsonl 3
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[[ $status == 0 ]] || fail "run B after SIGTERM exited $status"
grep -q "stopped by a signal" b1.err || fail "run B: no 'stopped' in summary"
lines=$(wc -l <b.jsonl)
((lines < $(wc -l <a.jsonl))) || fail "run B was not stopped mid-way"
head -n "$lines" a.jsonl >a_prefix.jsonl
same a_prefix.jsonl b.jsonl "after SIGTERM"
# shellcheck disable=SC2002  # a pipe on purpose: stdin cannot seek
cat events.jsonl | "$fs" --state b.state --alerts b.jsonl 2>b2.err ||
  fail "run B restart exited $?"
grep -q "end of input" b2.err || fail "run B restart did not finish"
events=$(sed -nE 's/^fraud_service: ([0-9]+) events.*/\1/p' b2.err)
((events > 0 && events < 50000)) ||
  fail "run B restart processed $events events, not the rest of the input"
same a.jsonl b.jsonl "SIGTERM and restart"

# 4. SIGKILL mid-run of --generate, then a restart.
"$fs" --generate 50000 --cards 1000 --seed 7 --state c.state \
  --alerts c.jsonl --rate 10000 --checkpoint-every 1000events 2>c1.err &
pid=$!
wait_lines c.jsonl 3
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[[ ! -s c1.err ]] || fail "run C printed before the kill"
(($(wc -l <c.jsonl) < $(wc -l <g.jsonl))) || fail "run C was not killed mid-way"
"$fs" --generate 50000 --cards 1000 --seed 7 --state c.state \
  --alerts c.jsonl 2>c2.err || fail "run C restart exited $?"
events=$(sed -nE 's/^fraud_service: ([0-9]+) events.*/\1/p' c2.err)
((events > 0 && events < 50000)) ||
  fail "run C restart processed $events events, not the rest of the input"
same g.jsonl c.jsonl "SIGKILL and restart"

# 5. Command line.
# (Into a file: grep -q would stop reading early, and the writer get SIGPIPE.)
"$fs" --help >help.txt || fail "--help exited $?"
grep -q "^Usage: fraud_service" help.txt || fail "--help"
for bad in "--bogus" "--rate fast" "--generate 0" "--input x --generate 5" \
  "--state" "--generate 10000001" "--alerts events.jsonl --input events.jsonl" \
  "--checkpoint-every 106752d"; do
  status=0
  # shellcheck disable=SC2086
  "$fs" $bad >bad.out 2>bad.err || status=$?
  [[ $status == 2 && ! -s bad.out && $(wc -l <bad.err) == 1 ]] ||
    fail "'$bad': exit $status, stderr: $(cat bad.err)"
done

status=0
"$fs" --input events.jsonl --bogus 2>bad.err || status=$?
[[ $status == 2 && $(cat bad.err) == "fraud_service: error: unknown flag '--bogus' (see --help)" ]] ||
  fail "--bogus last: exit $status, stderr: $(cat bad.err)"
ln -s events.jsonl link.jsonl
status=0
"$fs" --input events.jsonl --alerts ./link.jsonl 2>bad.err || status=$?
[[ $status == 2 && $(cat bad.err) == "fraud_service: error: --alerts './link.jsonl' is the same file as --input 'events.jsonl' (see --help)" ]] ||
  fail "--alerts through a symlink to the input: exit $status, stderr: $(cat bad.err)"
cmp -s events.jsonl link.jsonl || fail "the input changed"
"$fs" --input events.jsonl --seed 3 --state w.state --alerts w.jsonl 2>w.err ||
  fail "run W exited $?"
grep -qx "fraud_service: warning: --seed has no effect without --generate" w.err ||
  fail "no warning for --seed without --generate: $(cat w.err)"
# --generate beyond memory (here 600 MB of address space): a clear error.
status=0
(
  ulimit -v 600000
  "$fs" --generate 9000000 --state m.state --alerts m.jsonl
) 2>bad.err || status=$?
[[ $status == 1 && $(cat bad.err) == "fraud_service: error: --generate 9000000: out of memory holding the transactions (about 990 MB); generate fewer, or pipe \`cep gen card-testing\` into --input -" ]] ||
  fail "--generate out of memory: exit $status, stderr: $(cat bad.err)"
[[ ! -e m.jsonl ]] || fail "--generate out of memory created its alerts file"

# 6. An idle named pipe: a second run over the locked state is refused and
# creates no alerts file; SIGTERM stops the first at once.
mkfifo idle.fifo
"$fs" --input idle.fifo --state d.state --alerts d1.jsonl 2>d1.err &
pid=$!
tries=0
until [[ -e d1.jsonl ]]; do  # opened once the state is locked
  ((++tries < 200)) || fail "run D never opened its alerts file"
  sleep 0.1
done
status=0
"$fs" --input events.jsonl --state d.state --alerts d2.jsonl 2>d2.err ||
  status=$?
[[ $status == 1 ]] || fail "a second run over a locked state exited $status"
[[ ! -e d2.jsonl ]] || fail "the refused run created its alerts file"
kill -TERM "$pid"
tries=0
while kill -0 "$pid" 2>/dev/null; do
  ((++tries < 100)) || { kill -KILL "$pid"; fail "SIGTERM did not stop run D"; }
  sleep 0.1
done
status=0
wait "$pid" || status=$?
[[ $status == 0 ]] || fail "run D after SIGTERM exited $status"
grep -q "stopped by a signal" d1.err || fail "run D: no 'stopped' in summary"

# 7. Two workers; a kill and a restart; a stop and a restart with three.
same_lines() {  # same_lines FILE1 FILE2 WHAT
  cmp -s <(strip_latency "$1" | sort) <(strip_latency "$2" | sort) ||
    fail "$3: $1 and $2 differ as sets of lines: $(diff \
      <(strip_latency "$1" | sort) <(strip_latency "$2" | sort) | head -4)"
}
"$fs" --input events.jsonl --state p.state --alerts p.jsonl --parallelism 2 \
  --max-partial-matches 5000 --overflow drop-oldest 2>p.err ||
  fail "run P exited $?"
same_lines a.jsonl p.jsonl "--parallelism 2"
"$fs" --input events.jsonl --state k.state --alerts k.jsonl --parallelism 2 \
  --rate 10000 --checkpoint-every 1000events 2>k1.err &
pid=$!
wait_lines k.jsonl 3
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
(($(wc -l <k.jsonl) < $(wc -l <a.jsonl))) || fail "run K was not killed mid-way"
"$fs" --input events.jsonl --state k.state --alerts k.jsonl --parallelism 2 \
  2>k2.err || fail "run K restart exited $?"
events=$(sed -nE 's/^fraud_service: ([0-9]+) events.*/\1/p' k2.err)
((events > 0 && events < 50000)) ||
  fail "run K restart processed $events events, not the rest of the input"
same_lines a.jsonl k.jsonl "--parallelism 2, SIGKILL and restart"
"$fs" --input events.jsonl --state t.state --alerts t.jsonl --parallelism 2 \
  --rate 10000 --checkpoint-every 1000events 2>t1.err &
pid=$!
wait_lines t.jsonl 3
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[[ $status == 0 ]] || fail "run T after SIGTERM exited $status"
"$fs" --input events.jsonl --state t.state --alerts t.jsonl --parallelism 3 \
  2>t2.err || fail "run T restart exited $?"
same_lines a.jsonl t.jsonl "--parallelism 2, SIGTERM and restart with 3"

echo "fraud_service e2e: OK ($(wc -l <a.jsonl) alerts)"
