package api

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/trace-*.golden from the current model")
	dump   = flag.String("dump", "", "also write every trace line to files in this directory (to diff two models)")
)

// traceCfg is the model of the trace tests: small quotas on a custom tier, a
// key that expires mid-trace, injected faults, capped capacity, incidents
// and an eager breaker, so every code and every breaker state shows up.
const traceCfg = `api:
  quota: %s
  internal_error_rate: 0.02
  upstream:
    latency: {median: %s, p99: 2s}
    timeout: 1s
    capacity_rps: 2.5
    incidents:
      - {start: 4m, duration: 3m, error_rate: 0.7}
      - {start: 20m, duration: 5m, latency_factor: 4}
  circuit: {window: 5s, min_requests: 5, failure_ratio: 0.5, open_for: 10s, half_open_probes: 2}
  tiers:
    small: {rank: 1, requests_per_minute: 30, tokens_per_minute: 600, requests_per_day: 900, tokens_per_day: 9000}
  keys:
    - {key: cmp_small, tier: small}
    - {key: cmp_soon, tier: tier2, expires: 2026-03-03T00:20:00.5Z}
`

// traceStart is neither minute- nor second-aligned and 4 min 43 s before a
// UTC day ends, so the trace crosses minute and day windows.
var traceStart = time.Date(2026, 3, 2, 23, 55, 17, 250_000_000, time.UTC)

// runTrace drives a model with n pseudo-random requests (seeded) and calls
// emit with one line per decision (and per Circuit/Quotas probe).
func runTrace(t *testing.T, kind QuotaKind, median string, n int, emit func(string)) {
	t.Helper()
	r, err := resolveYAML(t, fmt.Sprintf(traceCfg, kind, median))
	if err != nil {
		t.Fatal(err)
	}
	m := New(r, traceStart, 7)
	rng := rand.New(rand.NewPCG(11, 13))
	keys := []string{"cmp_small", "cmp_small", "cmp_soon", "cmp_demo_tier1", "cmp_demo_tier2", "cmp_demo_tier5",
		"cmp_demo_expired", "cmp_demo_revoked", "cmp_nope", ""}
	models := []string{"latte_v1", "latte_v1", "latte_v1", "latte_v2", "espresso_v1", "", "nope"}
	routes := []Route{RouteQuestionSpecific, RouteQuestionSpecific, RouteQuestionSpecific, RouteQuestionAgnostic,
		RouteQuestionSpecificBatch, RouteQuestionAgnosticBatch, RouteRateLimits, RouteHealth, RouteModels, RouteMetrics, RouteUnknown}
	now := traceStart
	for i := range n {
		// Bursts (µs apart, ties), steady traffic, pauses past windows, and
		// instants slightly in the past (clamped).
		switch x := rng.IntN(1000); {
		case x < 300:
		case x < 600:
			now = now.Add(time.Duration(rng.IntN(2000)) * time.Microsecond)
		case x < 970:
			now = now.Add(time.Duration(rng.IntN(200)) * time.Millisecond)
		case x < 973:
			now = now.Add(time.Duration(rng.IntN(70)) * time.Second)
		default:
			now = now.Add(-time.Duration(rng.IntN(50)) * time.Millisecond)
		}
		req := Request{Route: routes[rng.IntN(len(routes))], Key: keys[rng.IntN(len(keys))],
			Model: models[rng.IntN(len(models))], Ratio: []float64{0.5, 0.3, 0, 2, 250, -1}[rng.IntN(6)],
			Tokens: []int64{1, 10, 50, 200, 700, 10000}[rng.IntN(6)], Items: rng.IntN(103)}
		if rng.IntN(20) == 0 {
			req.Problem, req.ProblemMessage = []Code{InvalidRequest, ValidationError}[rng.IntN(2)], "p"
		}
		emit(fmt.Sprintf("%d %+v", i, m.Handle(now, &req)))
		if i%97 == 0 {
			emit(fmt.Sprintf("circuit %v", m.Circuit(now)))
		}
		if i%1009 == 0 {
			m.Quotas(now, func(q KeyQuota) { emit(fmt.Sprintf("quota %+v", q)) })
		}
	}
	emit(fmt.Sprintf("stats %+v", m.Stats()))
}

// TestTraceGolden replays a long pseudo-random trace per quota kind and
// latency (random, and zero: every completion ties with its start) and
// compares the SHA-256 of every block of 1000 decision lines with
// testdata/trace-*.golden, written by the model before its hot path was
// rewritten: the faster model must decide exactly as the first one did.
func TestTraceGolden(t *testing.T) {
	t.Parallel()
	const n, block = 30000, 1000
	for _, kind := range []QuotaKind{QuotaFixedWindow, QuotaSlidingWindow, QuotaTokenBucket} {
		for _, median := range []string{"50ms", "0s"} {
			name := fmt.Sprintf("trace-%s-%s.golden", kind, median)
			var sums []string
			h := sha256.New()
			lines := 0
			var out *bufio.Writer
			if *dump != "" {
				f, err := os.Create(filepath.Join(*dump, strings.TrimSuffix(name, ".golden")+".txt"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				out = bufio.NewWriter(f)
				defer out.Flush()
			}
			runTrace(t, kind, median, n, func(s string) {
				if out != nil {
					out.WriteString(s + "\n")
				}
				h.Write([]byte(s + "\n"))
				if lines++; lines%block == 0 {
					sums = append(sums, hex.EncodeToString(h.Sum(nil)))
					h.Reset()
				}
			})
			sums = append(sums, hex.EncodeToString(h.Sum(nil)))
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(strings.Join(sums, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestTraceGolden -update with a model known to be right)", err)
			}
			sc := bufio.NewScanner(f)
			var want []string
			for sc.Scan() {
				want = append(want, sc.Text())
			}
			f.Close()
			if len(want) != len(sums) {
				t.Errorf("runTrace(%s, median %s): %d blocks; golden %s has %d", kind, median, len(sums), name, len(want))
				continue
			}
			for i := range sums {
				if sums[i] != want[i] {
					t.Errorf("runTrace(%s, median %s): lines %d–%d differ from %s", kind, median, i*block, (i+1)*block-1, name)
					break
				}
			}
		}
	}
}
