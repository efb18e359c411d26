// Package attackbench measures the overhead of loadsim's live runner
// (sim/attack: one vegeta attacker per tenant, the sim/client retrying
// transport, the streaming report.Recorder) against a plain vegeta attack:
// same rate, same request, same mock on loopback, no retries.
//
// Each benchmark op is one request: an attack of b.N requests at Rate, so
// run it with -benchtime=Nx (N ≥ a few seconds' worth). Both sub-benchmarks
// report achieved req/s (answers per second of wall time, ≤ Rate) and
// cpu-µs/req (this process's user+system CPU per request, from getrusage).
// With LOADSIM_BENCH_TARGET unset the mock runs in-process and its CPU is
// counted on both sides (the ratio is then diluted); run.sh starts
// `loadsim mock` as its own process and sets the variable.
//
// Environment: LOADSIM_BENCH_TARGET (base URL of a mock knowing key
// cmp_bench on an unlimited tier, see ../mock/mock.yaml), LOADSIM_BENCH_RATE
// (requests per second, default 1000).
package attackbench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/attack"
	"github.com/loadsim/loadsim/sim/mock"
)

// benchKey is the key of ../mock/mock.yaml's unlimited tier.
const benchKey = "cmp_bench"

// benchAPI is ../mock/mock.yaml's api section: no modelled latency, no quota.
const benchAPI = `api:
  upstream:
    latency: {median: 0s}
  tiers:
    bench: {rank: 9, requests_per_minute: -1, tokens_per_minute: -1, requests_per_day: -1, tokens_per_day: -1}
  keys:
    - {key: cmp_bench, name: bench, tier: bench}
`

// tokens is the request size: 200 tokens, an 800-byte context.
const tokens = 200

// benchScenario is one tenant at rate for d, sending the request vegeta
// sends, with one attempt per request (no retries).
func benchScenario(rate float64, d time.Duration) string {
	return fmt.Sprintf(`name: overhead
duration: %s
%stenants:
  - name: bench
    key_env: LOADSIM_BENCH_KEY
    tier: bench
    traffic: {profile: {type: constant, rate: %g}}
    mix: [{weight: 1, endpoint: question-agnostic, model: latte_v1, tokens: %d}]
    client: {strategy: {preset: compresr-recommended, max_attempts: 1, validate_first: false}}
`, d, benchAPI, rate, tokens)
}

// body is the JSON loadsim's targeter renders for benchScenario's mix item:
// 4 bytes of context per token.
func body() []byte {
	text := strings.Repeat("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ", 20)
	return []byte(`{"context":"` + text[:4*tokens] + `","compression_model_name":"latte_v1"}`)
}

// target returns the mock's base URL: LOADSIM_BENCH_TARGET, or an in-process
// mock on loopback stopped at the end of the benchmark.
func target(b *testing.B) string {
	if t := os.Getenv("LOADSIM_BENCH_TARGET"); t != "" {
		return strings.TrimRight(t, "/")
	}
	sc, err := scenario.Parse([]byte(benchScenario(1, time.Second)), "overhead.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	resolved, err := sc.API.Resolve()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := mock.New(api.New(resolved, time.Now(), 1), resolved)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// rate returns LOADSIM_BENCH_RATE (default 1000 requests per second).
func rate(b *testing.B) float64 {
	r := 1000.0
	if s := os.Getenv("LOADSIM_BENCH_RATE"); s != "" {
		var err error
		if r, err = strconv.ParseFloat(s, 64); err != nil || r <= 0 {
			b.Fatalf("LOADSIM_BENCH_RATE=%q: want requests per second > 0", s)
		}
	}
	return r
}

// cpu returns this process's user+system CPU time so far.
func cpu(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report reports achieved req/s and cpu-µs/req of n answers (ok of them
// 200s) over wall and cpu, failing when answers are missing or not 200 (the
// pacer's count may differ from b.N by one in float rounding of the
// duration).
func report(b *testing.B, n, ok int, wall, cpuUsed time.Duration) {
	if n < b.N-1 || n > b.N+1 || ok != n {
		b.Fatalf("%d requests asked, %d answered, %d with 200: the mock or the loopback did not keep up", b.N, n, ok)
	}
	b.ReportMetric(float64(n)/wall.Seconds(), "req/s")
	b.ReportMetric(float64(cpuUsed.Microseconds())/float64(n), "cpu-µs/req")
}

// BenchmarkOverhead attacks the mock with b.N requests at the same rate,
// first with plain vegeta, then with loadsim's live runner.
func BenchmarkOverhead(b *testing.B) {
	base := target(b)
	r := rate(b)
	b.Run("vegeta", func(b *testing.B) {
		b.ReportAllocs()
		tgt := vegeta.Target{Method: http.MethodPost, URL: base + "/api/compress/question-agnostic/", Body: body(),
			Header: http.Header{"Content-Type": {"application/json"}, "X-API-Key": {benchKey}}}
		atk := vegeta.NewAttacker(vegeta.MaxBody(0))
		// The pacer loadsim uses for a constant profile, stopping at d (no
		// vegeta duration, so that no late hit is dropped).
		d := time.Duration(float64(b.N) / r * float64(time.Second))
		pacer := scenario.Bounded{Profile: scenario.Constant{PerSecond: r}, Duration: d}
		b.ResetTimer()
		start, c0 := time.Now(), cpu(b)
		n, ok := 0, 0
		for res := range atk.Attack(vegeta.NewStaticTargeter(tgt), pacer, 0, "vegeta") {
			n++
			if res.Code == 200 {
				ok++
			}
		}
		wall, used := time.Since(start), cpu(b)-c0
		b.StopTimer()
		report(b, n, ok, wall, used)
	})
	b.Run("loadsim", func(b *testing.B) {
		b.ReportAllocs()
		d := time.Duration(float64(b.N) / r * float64(time.Second))
		sc, err := scenario.Parse([]byte(benchScenario(r, d)), "overhead.yaml", nil)
		if err != nil {
			b.Fatal(err)
		}
		getenv := func(string) string { return benchKey }
		b.ResetTimer()
		start, c0 := time.Now(), cpu(b)
		res, err := attack.Run(context.Background(), sc, attack.Options{Target: base, Seed: 1, Getenv: getenv})
		wall, used := time.Since(start), cpu(b)-c0
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		s := res.Recorder.Summary(res.Meta)
		report(b, int(s.Attempts.Total), int(s.Attempts.ByStatus["200"]), wall, used)
	})
}
