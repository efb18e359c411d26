#!/usr/bin/env bash
# benchmarks/des/compare.sh: the two checks every simulator optimisation
# gets, against a base revision (default: HEAD~1), for the working tree:
#   1. identical outputs: `loadsim simulate` of every embedded example, the
#      reference scenario (../shared/scenario-example.yaml, when present), the
#      SimPy scenario and 2 h of day.yaml, by both binaries; summary.json and
#      series.json must be byte-identical (exit status 1 otherwise);
#   2. instructions: one run of each sim/des benchmark scenario, counted by
#      cachegrind (the difference of -test.benchtime=2x and 1x, under
#      GOMAXPROCS=1 GOGC=off), test binaries built with default.pgo as
#      loadsim ships. Deterministic, unlike times on a shared VM;
#   3. with -t ROUNDS, times: ROUNDS alternated rounds (base, new, base, …)
#      of BenchmarkRun (attempts/s: the ≥ 5 M/s goal), RunRecorded/simpy,
#      simpy-counts (the SimPy comparison's) and day-10m-async (ns per attempt), -test.benchtime=3x each,
#      with min, median and the median of the per-round new/base ratios (the
#      VM's speed drifts between hours, so only paired figures compare).
# Needs git and, for 2, valgrind (apt-get install -y valgrind); -n skips 2.
#
#   benchmarks/des/compare.sh [-b BASE] [-n] [-t ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

base=HEAD~1
count=1
rounds=0
while getopts "b:nt:" o; do
	case $o in
	b) base=$OPTARG ;;
	n) count=0 ;;
	t) rounds=$OPTARG ;;
	*) echo "usage: $0 [-b BASE] [-n] [-t ROUNDS]" >&2; exit 2 ;;
	esac
done
if [[ $count == 1 ]] && ! command -v valgrind >/dev/null; then
	echo "compare.sh: valgrind not found: apt-get install -y valgrind (or -n)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach -q "$tmp/base" "$base"
echo "base $(git -C "$tmp/base" rev-parse --short HEAD), working tree of $(git rev-parse --short HEAD)"
for side in base new; do
	src=.
	[[ $side == base ]] && src=$tmp/base
	(cd "$src" && go build -o "$tmp/loadsim-$side" ./cmd/loadsim)
	if [[ $count == 1 || $rounds -gt 0 ]]; then
		(cd "$src/sim/des" && go test -c -o "$tmp/des-$side.test" -pgo=../../cmd/loadsim/default.pgo .)
	fi
done

# 1. Identical outputs.
scenarios=(scenario/examples/*.yaml benchmarks/simpy/scenario.yaml)
[[ -f ../shared/scenario-example.yaml ]] && scenarios+=(../shared/scenario-example.yaml)
differ=0
check() { # check NAME ARGS...: simulate with both binaries, compare
	local name=$1
	shift
	for side in base new; do
		"$tmp/loadsim-$side" simulate "$@" --quiet --out "$tmp/out-$side/$name" >/dev/null 2>&1 || true
	done
	for f in summary.json series.json; do
		if ! cmp -s "$tmp/out-base/$name/$f" "$tmp/out-new/$name/$f"; then
			echo "DIFFERS: $name/$f"
			differ=1
		fi
	done
}
for s in "${scenarios[@]}"; do
	check "$(basename "$(dirname "$s")")-$(basename "$s" .yaml)" "$s"
done
check day-2h benchmarks/des/day.yaml --duration 2h
if [[ $differ == 0 ]]; then
	echo "outputs: identical (${#scenarios[@]} scenarios and 2 h of day.yaml)"
fi

# 2. Instructions.
if [[ $count == 1 ]]; then
	ir() { # ir BINARY BENCH N
		(cd sim/des && GOMAXPROCS=1 GOGC=off valgrind --tool=cachegrind --cache-sim=no \
			--cachegrind-out-file=/dev/null "$1" -test.run XXX -test.bench "$2" -test.benchtime="$3x" 2>&1) |
			awk '/I *refs/ {gsub(",", "", $NF); print $NF}'
	}
	printf "%-34s %15s %15s %8s\n" "instructions per run" base new change
	for b in 'BenchmarkRun$' 'RunRecorded/day-10m-counts$' 'RunRecorded/day-10m-async$' 'RunRecorded/simpy-counts$' 'RunRecorded/simpy$'; do
		declare -A n
		for side in base new; do
			n[$side]=$(($(ir "$tmp/des-$side.test" "$b" 2) - $(ir "$tmp/des-$side.test" "$b" 1)))
		done
		printf "%-34s %15d %15d %+7.1f%%\n" "$b" "${n[base]}" "${n[new]}" \
			"$(awk -v a="${n[base]}" -v b="${n[new]}" 'BEGIN {print 100 * (b - a) / a}')"
	done
fi

# 3. Times.
if [[ $rounds -gt 0 ]]; then
	echo "times: $rounds alternated rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
	for i in $(seq "$rounds"); do
		for side in base new; do
			(cd sim/des && "$tmp/des-$side.test" -test.run XXX -test.bench 'BenchmarkRun$|RunRecorded/(simpy|simpy-counts|day-10m-async)$' -test.benchtime=3x) |
				awk -v side="$side" -v round="$i" '/^Benchmark/ {
					for (f = 3; f < NF; f++) if ($(f + 1) == "ns/attempt") print round, side, $1, $f }'
		done
	done >"$tmp/times.txt"
	/usr/bin/env python3 - "$tmp/times.txt" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    r, side, bench, ns = line.split()
    t.setdefault(bench.rsplit("-", 1)[0], {}).setdefault(side, {})[r] = float(ns)
print(f"{'ns per attempt':<34}{'base min/median':>18}{'new min/median':>18}{'new/base':>10}")
for bench, sides in t.items():
    b, n = sides["base"], sides["new"]
    ratio = statistics.median(n[r] / b[r] for r in b if r in n)
    extra = ""
    if bench.endswith("BenchmarkRun"):
        extra = f"   ({1e3 / statistics.median(b.values()):.2f} vs {1e3 / statistics.median(n.values()):.2f} M attempts/s median)"
    print(f"{bench:<34}{min(b.values()):>8.0f} / {statistics.median(b.values()):<7.0f}{min(n.values()):>8.0f} / {statistics.median(n.values()):<7.0f}{ratio:>10.3f}{extra}")
PY
fi
exit $differ
