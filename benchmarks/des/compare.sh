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
#      loadsim ships. Deterministic, unlike times on a shared VM: compare
#      times only side by side, alternated (see RESULTS.md).
# Needs git and, for 2, valgrind (apt-get install -y valgrind); -n skips 2.
#
#   benchmarks/des/compare.sh [-b BASE] [-n]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

base=HEAD~1
count=1
while getopts "b:n" o; do
	case $o in
	b) base=$OPTARG ;;
	n) count=0 ;;
	*) echo "usage: $0 [-b BASE] [-n]" >&2; exit 2 ;;
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
	if [[ $count == 1 ]]; then
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
	for b in 'BenchmarkRun$' 'RunRecorded/day-10m-counts$' 'RunRecorded/day-10m-async$' 'RunRecorded/simpy-counts$'; do
		declare -A n
		for side in base new; do
			n[$side]=$(($(ir "$tmp/des-$side.test" "$b" 2) - $(ir "$tmp/des-$side.test" "$b" 1)))
		done
		printf "%-34s %15d %15d %+7.1f%%\n" "$b" "${n[base]}" "${n[new]}" \
			"$(awk -v a="${n[base]}" -v b="${n[new]}" 'BEGIN {print 100 * (b - a) / a}')"
	done
fi
exit $differ
