#!/usr/bin/env bash
# Overhead of loadsim's live runner against a plain vegeta attack: same rate,
# same request, same `loadsim mock` (its own process, zero modelled latency,
# no quota) on loopback, no retries. For each rate, BenchmarkOverhead runs
# vegeta then loadsim side by side, in -c rounds; the script prints the
# medians of achieved req/s and of this process's CPU µs per request, and
# loadsim's ratios to vegeta. Goal (issue 5): achieved rate within 5 %, CPU
# per request within 10 %. A rate whose attack misses answers fails its
# benchmark and is reported as not sustained.
#
# usage: benchmarks/attack/run.sh [-r "RATE…"] [-s SECONDS] [-c COUNT]
# (defaults: -r "1000 2000 4000" -s 3 -c 3)
set -euo pipefail

rates="1000 2000 4000" seconds=3 count=3
while getopts "r:s:c:" opt; do
	case "$opt" in
	r) rates="$OPTARG" ;;
	s) seconds="$OPTARG" ;;
	c) count="$OPTARG" ;;
	*) echo "usage: $0 [-r \"RATE…\"] [-s SECONDS] [-c COUNT]" >&2; exit 2 ;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../server.sh
source "$here/../server.sh"
cd "$here/../.."

server_tmp

go build -o "$tmp/loadsim" ./cmd/loadsim
go test -c -o "$tmp/bench.test" ./benchmarks/attack

"$tmp/loadsim" mock --addr 127.0.0.1:0 --config "$here/../mock/mock.yaml" >"$tmp/mock.out" 2>"$tmp/mock.err" &
pid="$!"
url="$(listening_url "$tmp/mock.out" "$tmp/mock.err" "loadsim mock")"

echo "loadsim live runner vs plain vegeta against loadsim mock at $url; ${seconds}s per attack, -count $count; $(nproc) CPUs"
printf "%8s  %12s %12s %8s   %14s %14s %8s\n" "rate/s" "vegeta req/s" "loadsim" "ratio" "vegeta cpu-µs" "loadsim" "ratio"
for rate in $rates; do
	n=$((rate * seconds))
	# -count rounds of (vegeta, loadsim), so that both sides of a round share
	# the machine's load at that moment.
	sustained=1
	: >"$tmp/bench.$rate"
	for _ in $(seq "$count"); do
		if ! LOADSIM_BENCH_TARGET="$url" LOADSIM_BENCH_RATE="$rate" "$tmp/bench.test" \
			-test.run '^$' -test.bench 'Overhead' -test.benchtime "${n}x" -test.count 1 >>"$tmp/bench.$rate" 2>&1; then
			sustained=0
			break
		fi
	done
	if [[ $sustained == 0 ]]; then
		printf "%8s  not sustained (missing or failed answers)\n" "$rate"
		grep -m3 -E "answered|FAIL" "$tmp/bench.$rate" >&2 || true
		continue
	fi
	cat "$tmp/bench.$rate" >>"$tmp/bench.all"
	awk -v rate="$rate" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		/^BenchmarkOverhead\// {
			side = ($1 ~ /vegeta/) ? "v" : "l"
			for (i = 2; i < NF; i++) {
				if ($(i+1) == "req/s") rps[side, ++nr[side]] = $i
				if ($(i+1) == "cpu-µs/req") cpu[side, ++nc[side]] = $i
			}
		}
		END {
			for (i = 1; i <= nr["v"]; i++) vr[i] = rps["v", i]; for (i = 1; i <= nr["l"]; i++) lr[i] = rps["l", i]
			for (i = 1; i <= nc["v"]; i++) vc[i] = cpu["v", i]; for (i = 1; i <= nc["l"]; i++) lc[i] = cpu["l", i]
			a = median(vr, nr["v"]); b = median(lr, nr["l"]); c = median(vc, nc["v"]); d = median(lc, nc["l"])
			printf "%8d  %12.0f %12.0f %7.1f%%   %14.1f %14.1f %7.1f%%\n", rate, a, b, 100 * b / a, c, d, 100 * d / c
		}' "$tmp/bench.$rate"
done
echo
echo "raw benchmark lines:"
grep -h "^BenchmarkOverhead" "$tmp/bench.all" 2>/dev/null || true
