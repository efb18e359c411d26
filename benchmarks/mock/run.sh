#!/usr/bin/env bash
# Throughput of `loadsim mock` (zero modelled latency, a 200 compression) against
# a bare net/http hello-world on the same machine, measured side by side with wrk
# on loopback. Goal: the mock serves >= 70 % of the hello-world's requests/s.
#
# usage: benchmarks/mock/run.sh [-t THREADS] [-c CONNECTIONS] [-d DURATION] [-r ROUNDS]
# (defaults: -t2 -c64 -d10s, 2 rounds, each hello-world then mock, after a 1 s
# warm-up of each). Exits 1 if the goal is not met.
set -euo pipefail

threads=2 conns=64 duration=10s rounds=2
while getopts "t:c:d:r:" opt; do
	case "$opt" in
	t) threads="$OPTARG" ;;
	c) conns="$OPTARG" ;;
	d) duration="$OPTARG" ;;
	r) rounds="$OPTARG" ;;
	*) echo "usage: $0 [-t THREADS] [-c CONNECTIONS] [-d DURATION] [-r ROUNDS]" >&2; exit 2 ;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../server.sh
source "$here/../server.sh"
cd "$here/../.."

if ! command -v wrk >/dev/null; then
	echo "wrk not found: installing the Debian package" >&2
	if [[ $(id -u) -eq 0 ]]; then
		apt-get update -qq && apt-get install -y -qq wrk
	else
		sudo apt-get update -qq && sudo apt-get install -y -qq wrk
	fi
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/loadsim" ./cmd/loadsim
go build -o "$tmp/hello" ./benchmarks/mock/hello

# start NAME CMD...: runs CMD in the background (not in a subshell, so cleanup
# can stop it) and sets url to its base URL once it has printed
# `listening on http://HOST:PORT`.
url=""
start() {
	local name="$1"
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=("$!")
	url="$(listening_url "$tmp/$name.out" "$tmp/$name.err" "$name")"
}

start hello "$tmp/hello" -addr 127.0.0.1:0
hello_url="$url" hello_pid="${pids[0]}"
start mock "$tmp/loadsim" mock --addr 127.0.0.1:0 --config "$here/mock.yaml"
mock_url="$url" mock_pid="${pids[1]}"

# cpu PID: the process's user+system CPU time so far, in clock ticks.
hz="$(getconf CLK_TCK)"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# bench URL PID [SCRIPT] [DURATION]: runs wrk and sets rps to its requests/s
# and us to the server's CPU time per request in µs (user+system, read from
# /proc: unlike req/s it hardly depends on what else the machine runs); exits
# on non-2xx answers.
rps="" us=""
bench() {
	local out script=() d="${4:-$duration}" c0 c1
	if [[ -n "${3:-}" ]]; then
		script=(-s "$3")
	fi
	c0="$(cpu "$2")"
	out="$(wrk -t"$threads" -c"$conns" -d"$d" "${script[@]}" "$1")"
	c1="$(cpu "$2")"
	echo "$out" >>"$tmp/wrk.log"
	if grep -q "non-2xx responses: [1-9]" <<<"$out" || grep -q "Non-2xx" <<<"$out"; then
		echo "non-2xx answers during the run:" >&2
		echo "$out" >&2
		exit 1
	fi
	rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
	us="$(awk -v c="$((c1 - c0))" -v hz="$hz" '/requests in/ {printf "%.2f", c / hz * 1e6 / $1}' <<<"$out")"
}

echo "wrk -t$threads -c$conns -d$duration, $rounds rounds; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# Warm-up (connections, pools, heap), not measured.
bench "$hello_url/" "$hello_pid" "" 1s
bench "$mock_url/" "$mock_pid" "$here/post.lua" 1s

hello=() mock=() cpuratios=()
for round in $(seq "$rounds"); do
	bench "$hello_url/" "$hello_pid"
	h="$rps" hu="$us"
	bench "$mock_url/" "$mock_pid" "$here/post.lua"
	m="$rps" mu="$us"
	hello+=("$h") mock+=("$m") cpuratios+=("$(awk -v h="$hu" -v m="$mu" 'BEGIN { printf "%.1f", 100 * h / m }')")
	awk -v r="$round" -v h="$h" -v m="$m" -v hu="$hu" -v mu="$mu" 'BEGIN { printf "round %d: hello-world %10.0f req/s   loadsim mock %10.0f req/s   (%.1f %%)   server CPU/request %.1f µs vs %.1f µs\n", r, h, m, 100 * m / h, hu, mu }'
done
# Secondary figure, not the verdict: hello-world's CPU per request as a
# percentage of the mock's (what the mock would reach if the servers alone
# were CPU-bound; wrk's own cost is left out).
awk -v c="${cpuratios[*]}" 'BEGIN {
	n = split(c, r, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j-1] + 0 > r[j] + 0; j--) { t = r[j]; r[j] = r[j-1]; r[j-1] = t }
	med = (n % 2) ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2
	printf "median server CPU ratio (hello-world CPU/request ÷ mock CPU/request): %.1f %%\n", med
}'
# The verdict uses the median of the per-round ratios: other load on the
# machine hits one side of a round at random, and the median resists it.
awk -v h="${hello[*]}" -v m="${mock[*]}" 'BEGIN {
	n = split(h, hs, " "); split(m, ms, " ")
	for (i = 1; i <= n; i++) { sh += hs[i]; sm += ms[i]; r[i] = 100 * ms[i] / hs[i] }
	for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j-1] > r[j]; j--) { t = r[j]; r[j] = r[j-1]; r[j-1] = t }
	med = (n % 2) ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2
	printf "mean:    hello-world %10.0f req/s   loadsim mock %10.0f req/s   (%.1f %%)\n", sh / n, sm / n, 100 * sm / sh
	printf "median of the round ratios: %.1f %% (goal >= 70 %%)\n", med
	if (med < 70) { print "goal NOT met"; exit 1 }
	print "goal met"
}'
