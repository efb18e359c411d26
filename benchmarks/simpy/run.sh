#!/usr/bin/env bash
# benchmarks/simpy/run.sh: the same scenario (scenario.yaml) simulated by
# `loadsim simulate` and by the SimPy 2 model (model.py, Debian's
# python3-simpy under /usr/bin/python3; the API model as sim/api has it for
# this scenario, and, for comparison with figures before 2026-11-27 18:00
# UTC, model.py --minimal: the minute's request count alone, no day window,
# token budgets, rate-limit values or breaker), side by side. Reports
#   - the counts (attempts by status, requests by outcome) of both and
#     whether they agree within 2 % (of the larger; categories of a handful
#     of events, such as a rare upstream timeout, may differ by 2);
#   - the speed ratio SimPy / loadsim: simulation proper (SimPy's simulate()
#     vs run.json's wall_seconds, which includes loadsim's full
#     report.Recorder), whole processes, and the Go benchmark that only
#     counts records as model.py does (BenchmarkRunRecorded/simpy-counts,
#     built with cmd/loadsim/default.pgo and run with the collector off, as
#     loadsim simulate ships and runs its engine, 5 runs per round).
#     Each of the -r rounds runs the four back to back, so a round's ratios
#     compare times taken within seconds of each other: this VM's speed
#     moves by ±30 % within seconds and drifts more between half hours, so a
#     ratio of two bests taken minutes apart is noisier still. Printed: the median of the per-round ratios (the
#     figure to quote) and the ratio of the bests.
# Goals (issue 6): counts within 2 %, loadsim ≥ 50× faster.
#
#   benchmarks/simpy/run.sh [-r ROUNDS] [-s SEED]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

rounds=3
seed=1
while getopts "r:s:" o; do
	case $o in
	r) rounds=$OPTARG ;;
	s) seed=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-s SEED]" >&2; exit 2 ;;
	esac
done
if ! /usr/bin/python3 -c 'import SimPy.Simulation' 2>/dev/null; then
	echo "run.sh: SimPy 2 not found: apt-get install -y python3-simpy" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loadsim" ./cmd/loadsim
go test -c -o "$tmp/des.test" -pgo="$PWD/cmd/loadsim/default.pgo" ./sim/des/
now() { date +%s.%N; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3-), $(/usr/bin/python3 --version), SimPy $(dpkg-query -W -f '${Version}' python3-simpy 2>/dev/null), load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$rounds"); do
	t0=$(now)
	"$tmp/loadsim" simulate benchmarks/simpy/scenario.yaml --seed "$seed" --quiet --out "$tmp/go-$i" >/dev/null 2>&1
	t1=$(now)
	/usr/bin/python3 benchmarks/simpy/model.py "$seed" >"$tmp/simpy-$i.json"
	t2=$(now)
	echo "$t0 $t1 $t2" >"$tmp/times-$i"
	(cd sim/des && GOGC=off "$tmp/des.test" -test.run XXX -test.bench 'RunRecorded/simpy-counts$' -test.benchtime=5x) >"$tmp/bench-$i.txt"
	/usr/bin/python3 benchmarks/simpy/model.py --minimal "$seed" >"$tmp/minimal-$i.json"
done

/usr/bin/python3 - "$tmp" "$rounds" <<'PY'
import json, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
go_engine, go_proc, py_engine, py_proc, py_minimal = [], [], [], [], []
for i in range(1, rounds + 1):
    t0, t1, t2 = map(float, open(f"{tmp}/times-{i}").read().split())
    go_proc.append(t1 - t0)
    py_proc.append(t2 - t1)
    go_engine.append(json.load(open(f"{tmp}/go-{i}/run.json"))["wall_seconds"])
    py_engine.append(json.load(open(f"{tmp}/simpy-{i}.json"))["wall_seconds"])
    py_minimal.append(json.load(open(f"{tmp}/minimal-{i}.json"))["wall_seconds"])
summ = json.load(open(f"{tmp}/go-1/summary.json"))
py = json.load(open(f"{tmp}/simpy-1.json"))
pym = json.load(open(f"{tmp}/minimal-1.json"))
if (pym["by_status"], pym["outcomes"]) != (py["by_status"], py["outcomes"]):
    sys.exit("run.sh: model.py and model.py --minimal disagree on the counts")
def bench_ns(i):
    for line in open(f"{tmp}/bench-{i}.txt"):
        if line.startswith("Benchmark"):
            return float(line.split("ns/op")[0].split()[-1])
    sys.exit(f"run.sh: no benchmark result in round {i}")
go_count = [bench_ns(i) / 1e9 for i in range(1, rounds + 1)]
attempts = py["attempts"]

rows = []
statuses = sorted(set(summ["attempts"]["by_status"]) | set(py["by_status"]), key=int)
for s in statuses:
    rows.append((f"attempts {s}", summ["attempts"]["by_status"].get(s, 0), py["by_status"].get(s, 0)))
rows.append(("attempts total", summ["attempts"]["total"], py["attempts"]))
rows.append(("requests total", summ["requests"]["total"], py["requests"]))
for k in ("succeeded", "gave_up", "failed_permanent"):
    rows.append((f"requests {k}", summ["requests"][k], py["outcomes"][k]))
ok = True
print(f"{'count':<26}{'loadsim':>10}{'simpy':>10}{'diff':>9}")
for name, a, b in rows:
    diff = abs(a - b)
    good = diff <= max(0.02 * max(a, b), 2)
    ok &= good
    pct = 100 * diff / max(a, b, 1)
    print(f"{name:<26}{a:>10}{b:>10}{pct:>8.2f}%{'' if good else '  ✗'}")
print(f"counts agree within 2 %: {'yes' if ok else 'NO'}")
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
print(f"speed ratio SimPy / loadsim over {rounds} rounds: median of the per-round ratios (ratio of the bests)")
for name, go, py_t, what in (("simulation proper", go_engine, py_engine, "full report recorder"),
                             ("counting only", go_count, py_engine, "Go benchmark, counts as model.py"),
                             ("whole processes", go_proc, py_proc, "outputs written"),
                             ("counting, --minimal", go_count, py_minimal, "SimPy: the minute's count only")):
    per = [p / g for g, p in zip(go, py_t)]
    print(f"  {name:<20} {median(per):5.1f}×  ({min(py_t) / min(go):.1f}×)   loadsim median {median(go)*1e3:4.0f} ms ({what}), SimPy median {median(py_t)*1e3:5.0f} ms;"
          f" rounds: {' '.join(f'{r:.1f}' for r in per)}")
print(f"  counting only: {median(go_count)*1e9/attempts:.0f} ns/attempt (median)")
sys.exit(0 if ok else 1)
PY
