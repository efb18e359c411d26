package attack

import (
	"context"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/mock"
)

// shardScenario has two tenants with keys from the environment and an API
// whose quota the shards share (tier1: 60 requests a minute).
const shardScenario = `name: shards
duration: 2s
api:
  upstream: {latency: {median: 1ms}}
  keys:
    - {key: cmp_shard_a, name: a, tier: tier1}
    - {key: cmp_shard_b, name: b, tier: tier3}
tenants:
  - name: a
    key_env: SHARD_A
    tier: tier1
    traffic: {profile: {type: constant, rate: 25}}
    mix: [{weight: 1}]
    client: {strategy: {preset: compresr-recommended, max_attempts: 2}}
  - name: b
    key_env: SHARD_B
    tier: tier3
    traffic: {profile: {type: poisson, rate: 20}}
    mix: [{weight: 1}]
    client: {strategy: compresr-recommended}
`

// startMock serves the scenario's API on a free loopback port with its own
// registry; stop shuts it down.
func startMock(t *testing.T, sc *scenario.Scenario, seed uint64) (base string, reg *prometheus.Registry, stop func()) {
	t.Helper()
	resolved, err := sc.API.Resolve()
	if err != nil {
		t.Fatalf("Resolve(api): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg = prometheus.NewRegistry()
	srv := mock.New(api.New(resolved, time.Now(), seed), resolved, mock.WithRegistry(reg), mock.WithShutdownGrace(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), reg, func() { cancel(); <-done }
}

// TestRunShards runs shards 1/2 and 2/2 of a scenario at once against one
// shared mock: together they send exactly the whole run's arrivals, their
// attempts by status add up to the mock's counts, and each result names its
// shard and offers half the rate.
func TestRunShards(t *testing.T) {
	sc, err := scenario.Parse([]byte(shardScenario), "shards.yaml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	base, reg, stop := startMock(t, sc, 1)
	defer stop()
	env := map[string]string{"SHARD_A": "cmp_shard_a", "SHARD_B": "cmp_shard_b"}
	getenv := func(k string) string { return env[k] }

	const n = 2
	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := 1; k <= n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[k-1], errs[k-1] = Run(context.Background(), sc, Options{Target: base, Seed: 5, Getenv: getenv, Shard: scenario.Shard{K: k, N: n}})
		}()
	}
	wg.Wait()

	var whole uint64 // the whole run's arrivals
	for i := range sc.Tenants {
		seq := scenario.Arrivals(sc.Profile(i, 5), sc.Duration)
		for _, ok := seq.Next(); ok; _, ok = seq.Next() {
			whole++
		}
	}
	var hits uint64
	byStatus := map[string]uint64{}
	sums := make([]*report.Summary, n)
	for k, res := range results {
		if errs[k] != nil {
			t.Fatalf("Run(shard %d/%d): %v", k+1, n, errs[k])
		}
		hits += res.Hits
		s := res.Recorder.Summary(res.Meta)
		sums[k] = s
		if want := (scenario.Shard{K: k + 1, N: n}).String(); s.Shard != want || res.Meta.Shard != want {
			t.Errorf("shard %d: summary.shard = %q, meta.Shard = %q; want %q", k+1, s.Shard, res.Meta.Shard, want)
		}
		if s.Requests.Total != res.Hits {
			t.Errorf("shard %d: requests.total = %d, vegeta hits = %d", k+1, s.Requests.Total, res.Hits)
		}
		for st, c := range s.Attempts.ByStatus {
			byStatus[st] += c
		}
	}
	if hits != whole {
		t.Errorf("shards sent %d requests together; the whole run has %d arrivals", hits, whole)
	}
	// tenant a: 25/s over 2 s = 50 arrivals, 25 per shard, offered 12.5/s each.
	for k, s := range sums {
		if got := s.Tenants["a"].OfferedRPS; math.Abs(got-12.5) > 1e-9 {
			t.Errorf("shard %d: tenant a offered %v/s; want 12.5/s", k+1, got)
		}
		if got := s.Tenants["a"].Requests.Total; got != 25 {
			t.Errorf("shard %d: tenant a sent %d requests; want 25", k+1, got)
		}
	}
	got := mockCounts(t, reg)
	if byStatus["0"] != 0 {
		t.Errorf("shards saw %d transport errors; want none on loopback", byStatus["0"])
	}
	for st, c := range got {
		if byStatus[st] != c {
			t.Errorf("status %s: mock answered %d, shards saw %d together (shards %v, mock %v)", st, c, byStatus[st], byStatus, got)
		}
	}
	for st, c := range byStatus {
		if st != "0" && got[st] != c {
			t.Errorf("status %s: shards saw %d, mock answered %d", st, c, got[st])
		}
	}
}
