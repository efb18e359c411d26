package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/loadsim/loadsim/report"

	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/backoff"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func load(t testing.TB, name string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatalf("scenario.Load(%q): %v", name, err)
	}
	return sc
}

func preset(name string) *scenario.Strategy {
	return &scenario.Strategy{Config: backoff.Config{Preset: name}}
}

func strategies(names ...string) []Variant {
	out := make([]Variant, len(names))
	for i, n := range names {
		out[i] = Variant{Name: n, Strategy: preset(n)}
	}
	return out
}

// summaries encodes every run's summary, for comparing sweeps byte by byte.
func summaries(t *testing.T, rs []Result) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		for _, s := range r.Sims {
			b, err := json.Marshal(s.Summary)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Variant.Name+" "+string(b))
		}
	}
	return out
}

func TestRunDeterministicUnderParallelism(t *testing.T) {
	sc := load(t, "quota-exhaustion")
	vs := strategies("compresr-recommended", "naive-immediate", "aws-standard", "brooker-full")
	opts := Options{Seed: 3, Seeds: 2, Duration: time.Minute, Series: true}
	opts.Parallel = 1
	serial, err := Run(context.Background(), sc, vs, opts)
	if err != nil {
		t.Fatalf("Run(Parallel 1): %v", err)
	}
	opts.Parallel = 0
	parallel, err := Run(context.Background(), sc, vs, opts)
	if err != nil {
		t.Fatalf("Run(Parallel GOMAXPROCS): %v", err)
	}
	a, b := summaries(t, serial), summaries(t, parallel)
	if len(a) != 8 {
		t.Fatalf("Run: %d runs; want 4 variants × 2 seeds", len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("run %d differs between Parallel 1 and GOMAXPROCS:\n%s\n%s", i, a[i], b[i])
		}
	}
	for _, r := range parallel {
		if r.Sims[0].Seed != 3 || r.Sims[1].Seed != 4 {
			t.Errorf("variant %s: seeds %d, %d; want 3, 4", r.Variant.Name, r.Sims[0].Seed, r.Sims[1].Seed)
		}
		if r.Sims[0].Series == nil || r.Sims[1].Series != nil {
			t.Errorf("variant %s: series of seeds 3, 4: %t, %t; want the first seed's only", r.Variant.Name, r.Sims[0].Series != nil, r.Sims[1].Series != nil)
		}
		if a, b := r.Sims[0].Summary.Attempts.Total, r.Sims[1].Summary.Attempts.Total; a == b && r.Variant.Name == "brooker-full" {
			t.Logf("variant %s: seeds 3 and 4 sent the same number of attempts (%d)", r.Variant.Name, a)
		}
	}
}

func TestNaiveAmplifiesMoreOnQuota(t *testing.T) {
	sc := load(t, "quota-exhaustion")
	rs, err := Run(context.Background(), sc, strategies("compresr-recommended", "naive-immediate"), Options{Seed: sc.Seed})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	rec, naive := rs[0].Sims[0].Summary, rs[1].Sims[0].Summary
	if !(naive.Amplification > rec.Amplification) {
		t.Errorf("amplification: naive-immediate %g, compresr-recommended %g; want naive higher", naive.Amplification, rec.Amplification)
	}
	if naive.Attempts.ByStatus["429"] <= rec.Attempts.ByStatus["429"] {
		t.Errorf("429s: naive-immediate %d, compresr-recommended %d; want naive higher",
			naive.Attempts.ByStatus["429"], rec.Attempts.ByStatus["429"])
	}
	// Same seed, same arrivals: both see the same logical requests.
	if naive.Requests.Total != rec.Requests.Total {
		t.Errorf("requests: naive-immediate %d, compresr-recommended %d; want equal (same arrivals)", naive.Requests.Total, rec.Requests.Total)
	}
}

func TestRunShard(t *testing.T) {
	sc := load(t, "demo")
	vs := strategies("compresr-recommended", "naive-immediate", "aws-standard", "grpc", "cenkalti")
	for _, tc := range []struct {
		shard scenario.Shard
		want  []int
	}{
		{scenario.Shard{}, []int{0, 1, 2, 3, 4}},     // whole: every variant
		{scenario.Shard{K: 1, N: 2}, []int{0, 2, 4}}, // first of two: even indexes
		{scenario.Shard{K: 2, N: 2}, []int{1, 3}},    // second of two: odd indexes
		{scenario.Shard{K: 3, N: 3}, []int{2}},       // third of three
		{scenario.Shard{K: 7, N: 7}, nil},            // more shards than variants: nothing here
	} {
		rs, err := Run(context.Background(), sc, vs, Options{Shard: tc.shard, Duration: 5 * time.Second})
		if err != nil {
			t.Fatalf("Run(shard %s): %v", tc.shard, err)
		}
		var got []int
		for _, r := range rs {
			got = append(got, r.Index)
			if r.Variant.Name != vs[r.Index].Name {
				t.Errorf("Run(shard %s): result %d is %s; want %s", tc.shard, r.Index, r.Variant.Name, vs[r.Index].Name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Run(shard %s): variants %v; want %v", tc.shard, got, tc.want)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	sc := load(t, "launch-day")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, sc, strategies("compresr-recommended", "naive-immediate"), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run(cancelled ctx) = %v; want context.Canceled", err)
	}
}

// TestRunStoppedKeepsFinished: stopped after its first variant, Run
// returns that variant's results and a *StoppedError saying how many of
// how many finished.
func TestRunStoppedKeepsFinished(t *testing.T) {
	sc := load(t, "demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vs := strategies("compresr-recommended", "naive-immediate", "aws-standard")
	rs, err := Run(ctx, sc, vs, Options{Parallel: 1, Progress: func(done, total int) {
		if done == 1 {
			cancel()
		}
	}})
	var se *StoppedError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || se.Done != 1 || se.Total != 3 {
		t.Fatalf("Run(stopped after one variant) = %v; want a *StoppedError, 1 of 3 done, wrapping context.Canceled", err)
	}
	if len(rs) != 1 || rs[0].Variant.Name != vs[0].Name || rs[0].Sims[0].Summary == nil {
		t.Errorf("Run(stopped after one variant) results = %+v; want the first variant's, complete", rs)
	}
}

func TestRunErrors(t *testing.T) {
	sc := load(t, "demo")
	for _, tc := range []struct {
		name string
		vs   []Variant
		opts Options
		want string
	}{
		{"none", nil, Options{}, "no variants"},                                                                   // nothing to run
		{"duplicate", strategies("grpc", "grpc"), Options{}, `two variants are named "grpc"`},                     // same name twice
		{"tenant", []Variant{{Name: "x", Tenant: "nobody", Tier: "tier2"}}, Options{}, `unknown tenant "nobody"`}, // unknown tenant
		{"tier", []Variant{{Name: "x", Tenant: "web", Tier: "tier9"}}, Options{}, `unknown tier "tier9"`},         // unknown tier
		{"no tenant", []Variant{{Name: "x", Tier: "tier2"}}, Options{}, "needs a tenant"},                         // tier without tenant
		{"scale", []Variant{{Name: "x", Tenant: "web", Scale: -2}}, Options{}, "factor must be in"},               // negative multiplier
		{"drain", strategies("grpc"), Options{Drain: -time.Second}, "drain"},                                      // negative drain
		{"strategy", []Variant{{Name: "x", Strategy: preset("no-such-preset")}}, Options{}, "strategy"},           // unknown preset
	} {
		_, err := Run(context.Background(), sc, tc.vs, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%s) = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	sc := load(t, "demo")
	for _, tc := range []struct {
		v         Variant
		strategy  []string // per tenant, after
		tier      []string
		hitsRatio float64 // tenant 0's hits after / before
	}{
		{Variant{Name: "all", Strategy: preset("grpc")}, []string{"grpc", "grpc"}, []string{"tier1", "tier3"}, 1},                                                    // every tenant's strategy
		{Variant{Name: "one", Tenant: "batch", Strategy: preset("grpc")}, []string{"compresr-recommended (adjusted)", "grpc"}, []string{"tier1", "tier3"}, 1},        // only batch's
		{Variant{Name: "tier", Tenant: "web", Tier: "tier4"}, []string{"compresr-recommended (adjusted)", "aws-standard (adjusted)"}, []string{"tier4", "tier3"}, 1}, // web moves to tier4
		{Variant{Name: "x2", Tenant: "web", Scale: 2}, []string{"compresr-recommended (adjusted)", "aws-standard (adjusted)"}, []string{"tier1", "tier3"}, 2},        // web's traffic doubled
	} {
		got, err := tc.v.Apply(sc)
		if err != nil {
			t.Fatalf("%+v.Apply: %v", tc.v, err)
		}
		for i, tn := range got.Tenants {
			if s := tn.Client.Strategy.String(); s != tc.strategy[i] {
				t.Errorf("%s.Apply: tenant %s strategy %s; want %s", tc.v.Name, tn.Name, s, tc.strategy[i])
			}
			if tn.Tier != tc.tier[i] {
				t.Errorf("%s.Apply: tenant %s tier %s; want %s", tc.v.Name, tn.Name, tn.Tier, tc.tier[i])
			}
		}
		before, after := sc.Profile(0, 0).Hits(sc.Duration), got.Profile(0, 0).Hits(sc.Duration)
		if r := after / before; r < tc.hitsRatio*0.99 || r > tc.hitsRatio*1.01 {
			t.Errorf("%s.Apply: tenant 0 hits ×%g; want ×%g", tc.v.Name, r, tc.hitsRatio)
		}
	}
	if s := sc.Tenants[0].Client.Strategy.String(); s != "compresr-recommended (adjusted)" || sc.Tenants[0].Tier != "tier1" {
		t.Errorf("Apply modified the base scenario: tenant 0 has %s on %s", s, sc.Tenants[0].Tier)
	}
}

func TestParseStrategy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		arg      string
		wantName string
		wantErr  string
	}{
		{"naive-immediate", "naive-immediate", ""},                                                                                          // a preset
		{write("slow.yaml", "{preset: aws-standard, max_attempts: 5}\n"), "slow", ""},                                                       // a block in a file
		{write("bare.yml", "grpc\n"), "bare", ""},                                                                                           // a bare preset name in a file
		{write("wrapped.yaml", "strategy:\n  preset: grpc\n"), "wrapped", ""},                                                               // the block under strategy:
		{write("typo.yaml", "{preset: grpc, max_atempts: 5}\n"), "", "typo.yaml:1: max_atempts: unknown field; did you mean max_attempts?"}, // strict decoding names the field
		{write("bad.yaml", "{type: exponential, base: -1s}\n"), "", "bad.yaml:1: base: -1s is negative"},                                    // resolves badly
		{write("empty.yaml", ""), "", "empty.yaml: empty; write a preset name"},                                                             // empty file
		{"no-such-thing", "", "neither a preset"},                                                                                           // neither
	} {
		_, name, err := ParseStrategy(tc.arg)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseStrategy(%q): %v", tc.arg, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseStrategy(%q) = %v; want an error containing %q", tc.arg, err, tc.wantErr)
		case tc.wantErr != "" && !errors.Is(err, scenario.ErrInvalid):
			t.Errorf("ParseStrategy(%q) = %v; want an error matching scenario.ErrInvalid (exit 2)", tc.arg, err)
		case tc.wantErr == "" && name != tc.wantName:
			t.Errorf("ParseStrategy(%q) name %q; want %q", tc.arg, name, tc.wantName)
		}
	}
}

func FuzzParseStrategy(f *testing.F) {
	for _, s := range []string{"grpc", "{preset: aws-standard, max_attempts: 5}", "{type: exponential, base: 1s, cap: 60s, jitter: full}", "[1, 2]", ":", ""} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		st, _, err := ParseStrategy(p)
		if err != nil {
			return
		}
		if _, err := st.Resolve(); err != nil {
			t.Errorf("ParseStrategy(%q) accepted a strategy that does not resolve: %v", body, err)
		}
	})
}

func BenchmarkRun(b *testing.B) {
	sc := load(b, "quota-exhaustion")
	vs := strategies("compresr-recommended", "naive-immediate", "aws-standard", "grpc")
	for _, bc := range []struct {
		name     string
		parallel int
	}{{"parallel=1", 1}, {"parallel=GOMAXPROCS", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run(context.Background(), sc, vs, Options{Duration: time.Minute, Parallel: bc.parallel}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// quotaYAML is one tier1 tenant (60 requests per minute) offering 30 per
// minute: its traffic can double before the first 429.
const quotaYAML = `
name: headroom
seed: 1
duration: 3m
tenants:
  - name: web
    key: cmp_headroom_web
    tier: tier1
    traffic:
      profile: {type: constant, rate: 0.5}
    mix:
      - {weight: 1, tokens: 100}
    client:
      strategy: naive-immediate
`

func TestHeadroom(t *testing.T) {
	sc, err := scenario.Parse([]byte(quotaYAML), "headroom.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	no429 := func(s *report.Summary) bool { return s.Attempts.ByStatus["429"] == 0 }
	m, capped, err := Headroom(context.Background(), sc, Variant{Tenant: "web"}, no429, Options{Seed: 1}, 100)
	if err != nil {
		t.Fatalf("Headroom: %v", err)
	}
	if capped || m < 1.9 || m > 2.05 {
		t.Errorf("Headroom(tier1 at half its quota, no 429) = %g (capped %v); want about 2", m, capped)
	}
	// The SLO holds however much traffic: the search stops at the cap.
	always := func(*report.Summary) bool { return true }
	mc, capped, err := Headroom(context.Background(), sc, Variant{Tenant: "web"}, always, Options{Seed: 1, Duration: 10 * time.Second}, 5)
	if err != nil || !capped || mc != 5 {
		t.Errorf("Headroom(always ok, max 5) = %g, %v, %v; want 5, capped", mc, capped, err)
	}
	// A tier with twice the quota doubles the headroom.
	m2, _, err := Headroom(context.Background(), sc, Variant{Tenant: "web", Tier: "tier2"}, no429, Options{Seed: 1}, 100)
	if err != nil {
		t.Fatalf("Headroom(tier2): %v", err)
	}
	if m2 < 1.9*m || m2 > 2.1*m {
		t.Errorf("Headroom on tier2 = %g; want about twice tier1's %g", m2, m)
	}
	if _, _, err := Headroom(context.Background(), sc, Variant{}, no429, Options{}, 100); err == nil {
		t.Errorf("Headroom without a tenant: no error")
	}
}
