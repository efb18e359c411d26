#!/usr/bin/env bash
# benchmarks/pgo/profile.sh: regenerates cmd/loadsim/default.pgo, the CPU
# profile that `go build ./cmd/loadsim` (and `go run`, `go install`) uses for
# profile-guided optimisation (-pgo=auto; Go ≥ 1.21). It profiles the loadsim
# binary itself (--cpuprofile) on the workloads whose speed the benchmarks
# judge, all on loopback, and merges the profiles:
#   - simulate: benchmarks/des/day.yaml for -s of simulated time (the 24 h
#     speed goal's scenario; Parallel engine and report.Async) and the SimPy
#     comparison scenario (retries piling on a quota);
#   - mock: `loadsim mock` with benchmarks/mock/mock.yaml under wrk -d D with
#     post.lua (the throughput goal's setup);
#   - run: the demo scenario live against the in-process mock (vegeta, the
#     backoff client, recording), cut to -d D.
# Regenerate after a change that moves hot code (the profile is matched by
# function and line offset; a stale one still works, with less effect), then
# compare speed with and without: go build -pgo=off.
#
#   benchmarks/pgo/profile.sh [-s SIMULATED] [-d SECONDS]   (defaults 45m, 8)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=../server.sh
source benchmarks/server.sh

sim=45m secs=8
while getopts "s:d:" o; do
	case $o in
	s) sim=$OPTARG ;;
	d) secs=$OPTARG ;;
	*) echo "usage: $0 [-s SIMULATED] [-d SECONDS]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "profile.sh: wrk not found: apt-get install -y wrk" >&2; exit 1; }

server_tmp
go build -o "$tmp/loadsim" ./cmd/loadsim

echo "simulate day.yaml, $sim simulated" >&2
"$tmp/loadsim" simulate benchmarks/des/day.yaml --duration "$sim" --quiet --out "$tmp/day" --cpuprofile "$tmp/day.prof" >/dev/null
echo "simulate the SimPy scenario" >&2
"$tmp/loadsim" simulate benchmarks/simpy/scenario.yaml --duration 12h --quiet --out "$tmp/simpy" --cpuprofile "$tmp/simpy.prof" >/dev/null

echo "mock under wrk, ${secs}s" >&2
"$tmp/loadsim" mock --addr 127.0.0.1:0 --config benchmarks/mock/mock.yaml --cpuprofile "$tmp/mock.prof" >"$tmp/mock.out" 2>"$tmp/mock.err" &
pid=$!
url="$(listening_url "$tmp/mock.out" "$tmp/mock.err" "profile.sh: loadsim mock")"
wrk -t2 -c64 -d"${secs}s" -s benchmarks/mock/post.lua "$url/" >/dev/null
kill -TERM "$pid"
wait "$pid" || true
pid=""

echo "run demo, ${secs}s" >&2
"$tmp/loadsim" run demo --duration "${secs}s" --drain 2s --quiet --out "$tmp/run" --cpuprofile "$tmp/run.prof" >/dev/null || true

for p in day simpy mock run; do
	[[ -s "$tmp/$p.prof" ]] || { echo "profile.sh: no profile from $p" >&2; exit 1; }
done
go tool pprof -proto "$tmp/day.prof" "$tmp/simpy.prof" "$tmp/mock.prof" "$tmp/run.prof" >cmd/loadsim/default.pgo 2>/dev/null
echo "wrote cmd/loadsim/default.pgo ($(wc -c <cmd/loadsim/default.pgo) bytes)" >&2
