#!/usr/bin/env bash
# soak.sh: runs the bundled suite N times in a row, optionally beside K CPU-bound loops, and
# prints a table (scenario, runs, failures, first failing step). A flaky scenario shows up
# here instead of as a one-off red CI run; every failing run keeps its whole evidence.
#
#   scripts/soak.sh [-n RUNS] [-k BUSY_LOOPS] [-o OUTDIR] [-- TF_RUN_ARGS...]
#
# Per run i, OUTDIR/run-i/ holds pretty.txt, report.ndjson (Cucumber Messages with the
# attachments: timelines, node log tails), report.xml and, for a failing run only, tmp/
# (every cluster's member data and logs: TF_KEEP_CLUSTER=1 with TMPDIR pointing there).
# Passing runs keep only their reports. Exit status: 0 when every run passed, 1 otherwise.
set -euo pipefail

runs=10 busy=0 out="" tf="${TF_BIN:-}"
while getopts "n:k:o:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    k) busy=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "soak: -n $runs: a positive run count" >&2; exit 2; }
[[ $busy =~ ^[0-9]+$ ]] || { echo "soak: -k $busy: a count of busy loops" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
tf=${tf:-$root/build/bin/tf}
[ -x "$tf" ] || { echo "soak: $tf is not built (make build, or set TF_BIN)" >&2; exit 2; }
out=${out:-$root/build/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=("$root/scenarios")

loops=()
stop_loops() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_loops EXIT
for ((b = 0; b < busy; b++)); do
  ( while :; do :; done ) &
  loops+=($!)
done

echo "soak: $runs runs, $busy busy loops, reports in $out"
failed_runs=0
for ((i = 1; i <= runs; i++)); do
  d=$out/run-$i
  mkdir -p "$d/tmp"
  start=$(date +%s%N)
  rc=0
  TMPDIR=$d/tmp TF_KEEP_CLUSTER=1 "$tf" run --store "$d/state.db" \
    --format "pretty:$d/pretty.txt" --format "message:$d/report.ndjson" \
    --format "junit:$d/report.xml" --format summary "${args[@]}" >"$d/stdout.txt" 2>"$d/stderr.txt" || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  secs=$((ms / 1000)).$(((ms % 1000) / 100))
  if [ $rc -eq 0 ]; then
    rm -rf "$d/tmp" "$d/state.db" "$d/state.db-wal" "$d/state.db-shm"
    printf 'run %3d: passed in %s s\n' "$i" "$secs"
  else
    failed_runs=$((failed_runs + 1))
    printf 'run %3d: FAILED (exit %d) in %s s: evidence kept in %s\n' "$i" "$rc" "$secs" "$d"
  fi
done
stop_loops
trap - EXIT

echo
python3 "$root/scripts/soak-table.py" "$out"/run-*/report.ndjson || true
echo
echo "soak: $failed_runs of $runs runs failed ($busy busy loops)"
[ $failed_runs -eq 0 ]
