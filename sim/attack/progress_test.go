package attack

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim"
)

func TestClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00"},                            // the start
		{1499 * time.Millisecond, "0:01"},      // rounded to the second
		{10 * time.Minute, "10:00"},            // minutes
		{time.Hour + 2*time.Second, "1:00:02"}, // hours
	}
	for _, tc := range tests {
		if got := clock(tc.d); got != tc.want {
			t.Errorf("clock(%s) = %q; want %q", tc.d, got, tc.want)
		}
	}
}

// The progress line shows elapsed/total, rates since the previous line,
// attempts by status, attempts under way, requests retrying and the circuit;
// a live line is redrawn in place and ended once.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	rec := report.NewRecorder(report.RecorderConfig{Tenants: []string{"a"}, Start: start, Duration: 10 * time.Second})
	watch := newCircuitWatch(nil, rec)
	for i := range 4 {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		rec.RecordAttempt(&sim.Attempt{Request: uint64(i), Number: 1, Sent: at, Latency: time.Millisecond, Status: 200, Stop: sim.StopSucceeded})
		rec.RecordOutcome(&sim.Outcome{Request: uint64(i), Kind: sim.Succeeded, Reason: sim.StopSucceeded, Attempts: 1, Arrived: at, Ended: at.Add(time.Millisecond)})
	}
	rec.RecordAttempt(&sim.Attempt{Request: 9, Number: 1, Sent: start, Status: 429, Code: "rate_limit_exceeded", Retry: true, Delay: time.Second})
	watch.see(start, sim.CircuitOpen)
	var active atomic.Int64
	active.Store(3)
	tests := []struct {
		live bool
		want string
	}{
		// a plain line, for logs
		{false, "loadsim: 0:02/0:10  arrivals 2.5/s (planned 3.0/s)  succeeded 2.0/s  attempts 5 [200:4 429:1]  in flight 3  retrying 1  circuit open\n"},
		// a live line, redrawn in place
		{true, "\r\x1b[Kloadsim: 0:02/0:10  arrivals 2.5/s (planned 3.0/s)  succeeded 2.0/s  attempts 5 [200:4 429:1]  in flight 3  retrying 1  circuit open"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		p := &progress{w: &b, live: tc.live, rec: rec, meta: report.Meta{Duration: 10 * time.Second, OfferedRPS: 3}, total: 10 * time.Second, active: &active, circuit: watch}
		p.line(2 * time.Second)
		if b.String() != tc.want {
			t.Errorf("live=%v: line(2s) = %q; want %q", tc.live, b.String(), tc.want)
		}
		b.Reset()
		p.line(3 * time.Second)
		if !strings.Contains(b.String(), "arrivals 0.0/s (planned 3.0/s)  succeeded 0.0/s") {
			t.Errorf("live=%v: line(3s) after no new request = %q; want zero rates", tc.live, b.String())
		}
		b.Reset()
		p.end()
		p.end()
		if want := map[bool]string{true: "\n", false: ""}[tc.live]; b.String() != want {
			t.Errorf("live=%v: end() twice wrote %q; want %q", tc.live, b.String(), want)
		}
	}
}

// circuitScenario has an upstream failing every call from the start and a
// breaker opening after 5 calls for 1 s.
const circuitScenario = `name: circuit
duration: 3s
api:
  upstream:
    latency: {median: 1ms}
    incidents: [{start: 0s, duration: 1h, error_rate: 1}]
  circuit: {window: 10s, min_requests: 5, failure_ratio: 0.5, open_for: 1s, half_open_probes: 1}
  keys: [{key: cmp_circ_a, name: a, tier: tier3}]
tenants:
  - name: a
    key: cmp_circ_a
    key_env: CIRC_A
    tier: tier3
    traffic: {profile: {type: constant, rate: 20}}
    mix: [{weight: 1}]
    client: {strategy: {preset: compresr-recommended, max_attempts: 1}}
`

// Live runs fill series.json's circuit field: read from the in-process mock's
// model, or inferred from a remote target's 503s.
func TestRunCircuit(t *testing.T) {
	sc, err := scenario.Parse([]byte(circuitScenario), "circuit.yaml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	base, _, stop := startMock(t, sc, 1)
	defer stop()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		// the in-process mock: the model's breaker
		{"in-process", Options{Seed: 1}},
		// a remote target: inferred from 503 service_unavailable
		{"remote", Options{Seed: 1, Target: base, Getenv: func(string) string { return "cmp_circ_a" }}},
	} {
		res, err := Run(context.Background(), sc, tc.opts)
		if err != nil {
			t.Fatalf("%s: Run: %v", tc.name, err)
		}
		series, err := res.Recorder.Series()
		if err != nil {
			t.Fatal(err)
		}
		s := res.Recorder.Summary(res.Meta)
		if s.Attempts.ByStatus["503"] == 0 {
			t.Fatalf("%s: attempts %v; want 503s from an open circuit", tc.name, s.Attempts.ByStatus)
		}
		if !slices.Contains(series.Circuit, int(sim.CircuitOpen)) || slices.Contains(series.Circuit, -1) && tc.name == "in-process" {
			t.Errorf("%s: series circuit = %v; want an open bucket (and no unknown one in-process)", tc.name, series.Circuit)
		}
	}
}
