#!/usr/bin/env bash
# benchmarks/des/rss.sh: peak RSS of `loadsim simulate` on day.yaml (1,000
# requests/s) for 1 h and 24 h of simulated traffic, report writing included,
# measured with GNU time (`apt-get install time`), with the process's wall
# and CPU time (user + system: on a machine shared with other jobs the CPU
# time is the steadier figure). Goals (issue 6): the 24 h peak within ±10 %
# of the 1 h one; 24 h simulated in < 30 s of wall time.
#
#   benchmarks/des/rss.sh [-d "1h 24h"] [-k]    (-k keeps the outputs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

durations="1h 24h"
keep=0
while getopts "d:k" o; do
	case $o in
	d) durations=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: $0 [-d \"1h 24h\"] [-k]" >&2; exit 2 ;;
	esac
done
if [[ ! -x /usr/bin/time ]]; then
	echo "rss.sh: /usr/bin/time not found: apt-get install time" >&2
	exit 1
fi

tmp=$(mktemp -d)
[[ $keep == 1 ]] || trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loadsim" ./cmd/loadsim

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3-), load $(cut -d' ' -f1-3 /proc/loadavg)"
first=""
for d in $durations; do
	"/usr/bin/time" -v -o "$tmp/time-$d.txt" "$tmp/loadsim" simulate benchmarks/des/day.yaml \
		--duration "$d" --quiet --out "$tmp/out-$d" >/dev/null 2>"$tmp/stderr-$d.txt"
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time-$d.txt")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time-$d.txt")
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$tmp/time-$d.txt")
	engine=$(grep -o '"wall_seconds": [0-9.]*' "$tmp/out-$d/run.json" | awk '{printf "%.1f", $2}')
	attempts=$(grep -o '"attempts": [0-9]*' "$tmp/out-$d/run.json" | awk '{print $2}')
	line="simulated $d: peak RSS $((rss / 1024)) MiB, process wall $wall, CPU $cpu s (engine wall $engine s), $attempts attempts"
	if [[ -z $first ]]; then
		first=$rss
	else
		line+=$(awk -v a="$first" -v b="$rss" 'BEGIN {printf ", %+.1f %% vs the first", (b - a) * 100 / a}')
	fi
	echo "$line"
done
[[ $keep == 1 ]] && echo "outputs kept in $tmp"
