package attack

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// demo loads the embedded demo scenario.
func demo(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load("demo")
	if err != nil {
		t.Fatalf("scenario.Load(demo): %v", err)
	}
	return sc
}

// checkAgainstMock checks a live run's summary s: the outcome and status
// invariants, one vegeta result per request, and attempts by status equal
// to the in-process mock's compresr_mock_requests_total in reg.
func checkAgainstMock(t *testing.T, s *report.Summary, res *Result, reg *prometheus.Registry) {
	t.Helper()
	r := s.Requests
	if r.Total == 0 || r.Total != r.Succeeded+r.GaveUp+r.FailedPermanent+r.RejectedClientSide+r.InFlight {
		t.Errorf("requests = %+v: total is not the sum of outcomes", r)
	}
	var sum uint64
	for _, n := range s.Attempts.ByStatus {
		sum += n
	}
	if sum != s.Attempts.Total {
		t.Errorf("Σ by_status = %d, attempts.total = %d", sum, s.Attempts.Total)
	}
	if res.Hits != r.Total {
		t.Errorf("vegeta results = %d, requests.total = %d", res.Hits, r.Total)
	}
	got := mockCounts(t, reg)
	for status, n := range s.Attempts.ByStatus {
		if status == "0" {
			continue
		}
		if got[status] != n {
			t.Errorf("status %s: runner saw %d attempts, mock answered %d (runner %v, mock %v)", status, n, got[status], s.Attempts.ByStatus, got)
		}
	}
	for status, n := range got {
		if s.Attempts.ByStatus[status] != n {
			t.Errorf("status %s: mock answered %d, runner saw %d", status, n, s.Attempts.ByStatus[status])
		}
	}
}

// TestRunReference runs the reference scenario (../shared/scenario-example.yaml
// next to the repository, else its embedded copy launch-day) unchanged but
// for --duration 20s against the in-process mock, and checks the invariants
// and that the runner's attempts by status equal the mock's own counts.
func TestRunReference(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 s live run; skipped with -short")
	}
	t.Parallel()
	path := filepath.Join("..", "..", "..", "shared", "scenario-example.yaml")
	if _, err := os.Stat(path); err != nil {
		path = "launch-day"
	}
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatalf("scenario.Load(%s): %v", path, err)
	}
	reg := prometheus.NewRegistry()
	res, err := Run(context.Background(), sc, Options{Seed: sc.Seed, Duration: 20 * time.Second, Drain: 5 * time.Second, Registry: reg})
	if err != nil {
		t.Fatalf("Run(%s, 20s): %v", path, err)
	}
	s := res.Recorder.Summary(res.Meta)
	checkAgainstMock(t, s, res, reg)
	if s.Partial || s.DurationSeconds != 20 || len(s.Tenants) != 2 || s.Attempts.Total == 0 {
		t.Errorf("%s for 20 s: partial %v, %v s, %d tenants, attempts %v; want a complete 20 s run of both tenants",
			path, s.Partial, s.DurationSeconds, len(s.Tenants), s.Attempts.ByStatus)
	}
}

// mockCounts gathers compresr_mock_requests_total by status from reg.
func mockCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "compresr_mock_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					out[l.GetValue()] += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// TestRunDemo runs the demo scenario for 5 s against the in-process mock and
// checks the summary's invariants, that the runner's attempts by status equal
// the mock's counts, and that no output file holds a tenant's key.
func TestRunDemo(t *testing.T) {
	sc := demo(t)
	reg := prometheus.NewRegistry()
	var progress bytes.Buffer
	res, err := Run(context.Background(), sc, Options{Seed: sc.Seed, Duration: 5 * time.Second, Registry: reg,
		Progress: &progress, ProgressEvery: 2 * time.Second})
	if err != nil {
		t.Fatalf("Run(demo, 5s): %v", err)
	}
	s := res.Recorder.Summary(res.Meta)
	checkAgainstMock(t, s, res, reg)
	if s.Partial || s.Engine != report.EngineLive {
		t.Errorf("partial = %v, engine = %q; want a complete live run", s.Partial, s.Engine)
	}
	if !strings.Contains(progress.String(), "attempts") {
		t.Errorf("progress = %q; want progress lines", progress.String())
	}

	// No output (files, progress, metrics) holds a key.
	dir := t.TempDir()
	series, err := res.Recorder.Series()
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteOutputs(dir, s, series, resolved); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{"progress": progress.Bytes(), "text summary": text.Bytes()}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = b
	}
	mfs, _ := reg.Gather()
	var metrics strings.Builder
	for _, mf := range mfs {
		metrics.WriteString(mf.String())
	}
	outputs["metrics"] = []byte(metrics.String())
	for name, b := range outputs {
		for _, tn := range sc.Tenants {
			if bytes.Contains(b, []byte(tn.Key)) {
				t.Errorf("%s contains tenant %s's key", name, tn.Name)
			}
		}
	}
}

// TestRunStop stops a run after its first second: the result is partial,
// shorter than planned, and still consistent.
func TestRunStop(t *testing.T) {
	sc := demo(t)
	stop := make(chan struct{})
	go func() { time.Sleep(time.Second); close(stop) }()
	res, err := Run(context.Background(), sc, Options{Seed: 1, Stop: stop, StopGrace: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run(demo, stop after 1s): %v", err)
	}
	s := res.Recorder.Summary(res.Meta)
	if !s.Partial || res.Meta.Duration >= sc.Duration {
		t.Errorf("partial = %v, duration = %v; want a partial run shorter than %v", s.Partial, res.Meta.Duration, sc.Duration)
	}
	r := s.Requests
	if r.Total != r.Succeeded+r.GaveUp+r.FailedPermanent+r.RejectedClientSide+r.InFlight {
		t.Errorf("requests = %+v: total is not the sum of outcomes", r)
	}
}

// TestRunPartialReason: a run cut short says why (Meta.PartialReason), and
// its offered rate is over the span it covered (at most the profiles' plan
// over that span), not the whole 20 s plan's average (9.8/s for demo, whose
// first seconds plan about 5/s).
func TestRunPartialReason(t *testing.T) {
	sc := demo(t)
	whole, _ := sc.OfferedRPS(sc.Duration, scenario.Shard{})
	for _, c := range []struct {
		name   string
		stop   bool   // close Stop after a second (Ctrl-C)
		max    uint64 // Options.MaxRequests
		reason string
		capped bool
	}{
		// Ctrl-C after a second.
		{"interrupted", true, 0, report.PartialInterrupted, false},
		// The cap of 3 attempts is passed within the first second (5 arrivals/s).
		{"attempt cap", false, 3, report.PartialMaxRequests, true},
	} {
		stop := make(chan struct{})
		if c.stop {
			go func() { time.Sleep(time.Second); close(stop) }()
		}
		res, err := Run(context.Background(), sc, Options{Seed: 1, Stop: stop, StopGrace: 500 * time.Millisecond, MaxRequests: c.max})
		if err != nil {
			t.Fatalf("%s: Run(demo, stop %v, max %d): %v", c.name, c.stop, c.max, err)
		}
		m := res.Meta
		if !m.Partial || m.PartialReason != c.reason || m.MaxRequests != c.max || res.Capped != c.capped {
			t.Errorf("%s: Run(demo, stop %v, max %d): partial %v reason %q max_requests %d capped %v; want partial, %q, %d, capped %v",
				c.name, c.stop, c.max, m.Partial, m.PartialReason, m.MaxRequests, res.Capped, c.reason, c.max, c.capped)
		}
		if c.capped && res.Sent != c.max {
			t.Errorf("%s: Run(demo, max %d): %d attempts sent; want the cap", c.name, c.max, res.Sent)
		}
		if m.Duration <= 0 || m.Duration >= sc.Duration {
			t.Errorf("%s: duration %v; want a partial run shorter than %v", c.name, m.Duration, sc.Duration)
			continue
		}
		planned, _ := sc.OfferedRPS(m.Duration, scenario.Shard{})
		if m.OfferedRPS <= 0 || m.OfferedRPS > planned+1e-9 || m.OfferedRPS >= whole {
			t.Errorf("%s: offered %v/s over %v; want > 0 and at most the plan over that span (%v/s), below the whole run's %v/s",
				c.name, m.OfferedRPS, m.Duration, planned, whole)
		}
		var sum float64
		for _, v := range m.TenantOfferedRPS {
			sum += v
		}
		if math.Abs(sum-m.OfferedRPS) > 1e-9 {
			t.Errorf("%s: tenants' offered %v sum to %v; want the total %v", c.name, m.TenantOfferedRPS, sum, m.OfferedRPS)
		}
	}
}

// TestRunTargetChecks covers the refusals before any request is sent.
func TestRunTargetChecks(t *testing.T) {
	sc := demo(t)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		// A remote target without a cap is refused.
		{"no cap", Options{Target: "https://api.example.com", Getenv: func(string) string { return "k" }}, "key_env"},
		// A bad URL is refused.
		{"bad url", Options{Target: "ftp//x", MaxRequests: 1}, "key_env"},
	} {
		_, err := Run(context.Background(), sc, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Run(%+v) = %v; want an error mentioning %q", tc.name, tc.opts.Target, err, tc.want)
		}
	}
	// With key_env set, a remote target still needs MaxRequests.
	sc2 := *sc
	sc2.Tenants = append([]scenario.Tenant(nil), sc.Tenants...)
	for i := range sc2.Tenants {
		sc2.Tenants[i].KeyEnv = "LOADSIM_TEST_KEY_" + strconv.Itoa(i)
	}
	_, err := Run(context.Background(), &sc2, Options{Target: "https://api.example.com", Getenv: func(string) string { return "k" }})
	if !errors.Is(err, ErrMaxRequestsRequired) {
		t.Errorf("Run(remote, no cap) = %v; want ErrMaxRequestsRequired", err)
	}
	_, err = Run(context.Background(), &sc2, Options{Target: "ftp//x", MaxRequests: 1, Getenv: func(string) string { return "k" }})
	if err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Errorf("Run(bad url) = %v; want a base URL error", err)
	}
}

// TestRunConfigErrors: problems with what Run is asked to run match
// ErrConfig (exit 2), before any request is sent.
func TestRunConfigErrors(t *testing.T) {
	sc := demo(t)
	withEnv := *sc
	withEnv.Tenants = append([]scenario.Tenant(nil), sc.Tenants...)
	for i := range withEnv.Tenants {
		withEnv.Tenants[i].Key, withEnv.Tenants[i].KeyEnv = "", "LOADSIM_TEST_KEY_"+strconv.Itoa(i)
	}
	badStrategy := withEnv
	badStrategy.Tenants = append([]scenario.Tenant(nil), withEnv.Tenants...)
	badStrategy.Tenants[0].Client.Strategy.Config.Preset = "nope"
	for _, tc := range []struct {
		name string
		sc   *scenario.Scenario
		opts Options
		want string
	}{
		// literal keys only serve the in-process mock
		{"literal key, target", sc, Options{Target: "http://127.0.0.1:9", MaxRequests: 1}, "reads keys from key_env only"},
		// key_env set in the scenario but empty in the environment
		{"empty key_env", &withEnv, Options{Getenv: func(string) string { return "" }}, "is empty: export"},
		// a strategy that does not resolve
		{"strategy", &badStrategy, Options{Getenv: func(string) string { return "k" }}, "client.strategy"},
	} {
		_, err := Run(context.Background(), tc.sc, tc.opts)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Run = %v; want an ErrConfig mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestRunDrain runs a tenant whose quota (2 requests a minute) makes its
// strategy wait out Retry-After: with Drain, the run ends soon after its
// duration, complete (not partial), with the waiting requests in flight.
func TestRunDrain(t *testing.T) {
	sc, err := scenario.Parse([]byte(`name: drain
duration: 1s
api:
  tiers: {tier1: {requests_per_minute: 2}}
tenants:
  - name: slow
    key: cmp_test_slow
    tier: tier1
    traffic: {profile: {type: constant, rate: 5}}
    mix: [{weight: 1}]
    client: {strategy: compresr-recommended}
`), "drain.yaml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	reg := prometheus.NewRegistry()
	res, err := Run(context.Background(), sc, Options{Seed: 1, Drain: 500 * time.Millisecond, Registry: reg})
	if err != nil {
		t.Fatalf("Run(drain): %v", err)
	}
	s := res.Recorder.Summary(res.Meta)
	r := s.Requests
	if s.Partial || r.InFlight == 0 || r.Total != r.Succeeded+r.GaveUp+r.FailedPermanent+r.RejectedClientSide+r.InFlight {
		t.Errorf("partial %v, requests %+v; want a complete run with requests left in flight", s.Partial, r)
	}
	if got := mockCounts(t, reg); got["429"] == 0 || got["200"] != s.Attempts.ByStatus["200"] {
		t.Errorf("mock counts %v, runner %v; want 429s and equal 200s", got, s.Attempts.ByStatus)
	}
}
