package des

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
)

// parse parses an inline scenario or fails the test.
func parse(t testing.TB, yaml string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse([]byte(yaml), "test.yaml", nil)
	if err != nil {
		t.Fatalf("scenario.Parse: %v", err)
	}
	return sc
}

// log keeps copies of every record, in order.
type log struct {
	attempts []sim.Attempt
	outcomes []sim.Outcome
	circuit  []sim.CircuitState
}

func (l *log) RecordAttempt(a *sim.Attempt) { l.attempts = append(l.attempts, *a) }
func (l *log) RecordOutcome(o *sim.Outcome) { l.outcomes = append(l.outcomes, *o) }
func (l *log) ObserveCircuit(_ time.Time, s sim.CircuitState) {
	l.circuit = append(l.circuit, s)
}

// counter counts records without keeping them. It is a report.Sink, so
// the engine builds the compact records a report.Recorder takes, as
// loadsim simulate does.
type counter struct{ attempts, outcomes int }

func (c *counter) RecordAttempt(*sim.Attempt)                 { c.attempts++ }
func (c *counter) RecordOutcome(*sim.Outcome)                 { c.outcomes++ }
func (c *counter) AddAttempt(*report.AttemptRecord)           { c.attempts++ }
func (c *counter) AddOutcome(*report.OutcomeRecord)           { c.outcomes++ }
func (c *counter) ObserveCircuit(time.Time, sim.CircuitState) {}

// quotaYAML: a tier1 tenant at 2 req/s (twice its 60 req/min quota) with no
// retries, and a tier5 tenant well under quota. No upstream latency, so each
// attempt takes exactly the 2 ms network round trip.
const quotaYAML = `
name: quota
seed: 7
duration: 120s
api:
  upstream:
    latency: {median: 0s}
tenants:
  - name: small
    key: cmp_test_small
    tier: tier1
    traffic: {profile: {type: constant, rate: 2}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 100}]
    client: {strategy: {preset: naive-immediate, max_attempts: 1}}
  - name: big
    key: cmp_test_big
    tier: tier5
    traffic: {profile: {type: constant, rate: 1}}
    mix: [{weight: 1, endpoint: question-agnostic, model: espresso_v1, tokens: 100}]
    client: {strategy: {preset: naive-immediate, max_attempts: 1}}
`

func TestRunQuotaCountsMatchHandComputed(t *testing.T) {
	t.Parallel()
	sc := parse(t, quotaYAML)
	var l log
	st, err := Run(context.Background(), sc, Options{Seed: 7, Recorder: &l})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// small: 240 arrivals, 120 per minute window, 60 admitted per window.
	// big: 120 arrivals, all admitted.
	type key struct{ tenant, status int }
	got := map[key]int{}
	for _, a := range l.attempts {
		got[key{a.Tenant, a.Status}]++
		if a.Latency != 2*time.Millisecond {
			t.Fatalf("attempt %+v: latency %s, want the 2ms round trip", a, a.Latency)
		}
	}
	want := map[key]int{{0, 200}: 120, {0, 429}: 120, {1, 200}: 120}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Run(quota) attempts by (tenant, status) = %v; want %v", got, want)
	}
	kinds := map[sim.OutcomeKind]int{}
	for _, o := range l.outcomes {
		kinds[o.Kind]++
	}
	wantKinds := map[sim.OutcomeKind]int{sim.Succeeded: 240, sim.GaveUp: 120}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("Run(quota) outcomes by kind = %v; want %v", kinds, wantKinds)
	}
	if st.Requests != 360 || st.Attempts != 360 {
		t.Errorf("Run(quota) stats = %+v; want 360 requests and 360 attempts", st)
	}
	// The last event is the completion of the last arrival (119.5 s) + 2 ms.
	if st.Simulated != 119*time.Second+502*time.Millisecond {
		t.Errorf("Run(quota) simulated %s; want 1m59.502s", st.Simulated)
	}
}

// retryYAML: two tenants with jittered retries over quota, ending mid-window
// so that some retries fall after the end.
const retryYAML = `
name: retry
seed: 3
duration: 90s
tenants:
  - name: small
    key: cmp_test_small
    tier: tier1
    traffic: {profile: {type: poisson, rate: 3}}
    mix:
      - {weight: 95, endpoint: question-specific, model: latte_v1, tokens: {mean: 500}}
      - {weight: 5, invalid: validation_error}
    client: {strategy: compresr-recommended}
  - name: other
    key: cmp_test_other
    tier: tier1
    traffic: {profile: {type: ramp, from: 0.5, to: 4, over: 60s}}
    mix: [{weight: 1, endpoint: question-agnostic/batch, model: espresso_v1, inputs: 4, tokens: 200}]
    client: {strategy: brooker-full}
`

func TestRunIsDeterministic(t *testing.T) {
	t.Parallel()
	sc := parse(t, retryYAML)
	var a, b, c log
	for _, l := range []*log{&a, &b} {
		if _, err := Run(context.Background(), sc, Options{Seed: 3, Recorder: l}); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	if len(a.attempts) == 0 || len(a.outcomes) == 0 {
		t.Fatalf("Run(retry) recorded %d attempts, %d outcomes; want some", len(a.attempts), len(a.outcomes))
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two Run(retry, seed 3) differ: %d/%d attempts, %d/%d outcomes",
			len(a.attempts), len(b.attempts), len(a.outcomes), len(b.outcomes))
	}
	if _, err := Run(context.Background(), sc, Options{Seed: 4, Recorder: &c}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if reflect.DeepEqual(a.attempts, c.attempts) {
		t.Errorf("Run(retry) with seeds 3 and 4 recorded identical attempts; want different")
	}
}

// TestSimulateParallelIsIdentical: recording on a second goroutine
// (Options.Parallel) leaves the summary and the series exactly as
// recording inline does, the breaker-tripping benchmark scenario included.
func TestSimulateParallelIsIdentical(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, yaml string }{
		{"retry", retryYAML},    // retries, two tenants
		{"incident", benchYAML}, // quota-heavy, an incident trips the breaker
	} {
		sc := parse(t, tt.yaml)
		var out [2][2][]byte // [inline, async][summary, series]
		for i, async := range []bool{false, true} {
			res, err := Simulate(context.Background(), sc, Options{Seed: 5, Parallel: async})
			if err != nil {
				t.Fatalf("%s: Simulate(Parallel %v): %v", tt.name, async, err)
			}
			out[i] = recorderJSON(t, res.Recorder, res.Meta)
		}
		sameJSON(t, tt.name+": with Parallel", out[1], out[0])
	}
}

// recorderJSON returns rec's summary (under meta) and series as JSON.
func recorderJSON(t *testing.T, rec *report.Recorder, meta report.Meta) [2][]byte {
	t.Helper()
	sum, err := json.Marshal(rec.Summary(meta))
	if err != nil {
		t.Fatal(err)
	}
	series, err := rec.Series()
	if err != nil {
		t.Fatal(err)
	}
	ser, err := json.Marshal(series)
	if err != nil {
		t.Fatal(err)
	}
	return [2][]byte{sum, ser}
}

// sameJSON fails the test unless got and want (recorderJSON's) are equal.
func sameJSON(t *testing.T, what string, got, want [2][]byte) {
	t.Helper()
	if !bytes.Equal(got[0], want[0]) {
		t.Errorf("%s: summary differs:\n%s\nwant\n%s", what, got[0], want[0])
	}
	if !bytes.Equal(got[1], want[1]) {
		t.Errorf("%s: series differs (%d vs %d bytes)", what, len(got[1]), len(want[1]))
	}
}

func TestRunInvariants(t *testing.T) {
	t.Parallel()
	sc := parse(t, retryYAML)
	var l log
	const drain = 200 * time.Millisecond
	st, err := Run(context.Background(), sc, Options{Seed: 3, Recorder: &l, Drain: drain})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if uint64(len(l.outcomes)) != st.Requests {
		t.Errorf("Run(retry): %d outcomes for %d requests; want one each", len(l.outcomes), st.Requests)
	}
	if uint64(len(l.attempts)) != st.Attempts {
		t.Errorf("Run(retry): %d attempt records for %d attempts", len(l.attempts), st.Attempts)
	}
	perReq := map[uint64]int{}
	for _, a := range l.attempts {
		perReq[a.Request]++
		if perReq[a.Request] != a.Number {
			t.Fatalf("attempt %+v: number %d, want %d", a, a.Number, perReq[a.Request])
		}
	}
	kinds := map[sim.OutcomeKind]int{}
	end := DefaultStart().Add(sc.Duration)
	cutoff := end.Add(drain)
	seen := map[uint64]bool{}
	for _, o := range l.outcomes {
		kinds[o.Kind]++
		if seen[o.Request] {
			t.Fatalf("request %d has two outcomes", o.Request)
		}
		seen[o.Request] = true
		if o.Attempts != perReq[o.Request] {
			t.Errorf("outcome %+v: %d attempts, %d recorded", o, o.Attempts, perReq[o.Request])
		}
		if o.Arrived.Before(DefaultStart()) || !o.Arrived.Before(end) || o.Ended.Before(o.Arrived) {
			t.Errorf("outcome %+v: times out of the run", o)
		}
		switch o.Kind {
		case sim.InFlight:
			if o.Reason != sim.StopCancelled || !o.Ended.Equal(cutoff) {
				t.Errorf("in-flight outcome %+v: want reason cancelled, ended at the end of the drain", o)
			}
		case sim.RejectedClientSide:
			if o.Attempts != 0 || o.Reason != sim.StopRejectedClientSide {
				t.Errorf("rejected outcome %+v: want 0 attempts, reason rejected_client_side", o)
			}
		}
	}
	// The scenario has invalid draws under a validating strategy, quota
	// exhaustion with retries, and retries pending at the end.
	for _, k := range []sim.OutcomeKind{sim.Succeeded, sim.InFlight, sim.RejectedClientSide} {
		if kinds[k] == 0 {
			t.Errorf("Run(retry) outcomes %v: none %s; the scenario should produce some", kinds, k)
		}
	}
	for _, a := range l.attempts {
		if a.Sent.Sub(DefaultStart()) >= sc.Duration+drain {
			t.Fatalf("attempt %+v sent after the drain", a)
		}
	}
}

// incidentYAML: a tier5 tenant at 10 req/s (within its 1,000/min quota) whose upstream fails every call
// from 10 s to 30 s: the server's breaker must open.
const incidentYAML = `
name: incident
duration: 60s
api:
  upstream:
    latency: {median: 20ms, p99: 60ms}
    incidents: [{start: 10s, duration: 20s, error_rate: 1}]
tenants:
  - name: big
    key: cmp_test_big
    tier: tier5
    traffic: {profile: {type: constant, rate: 10}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 100}]
    client: {strategy: {preset: naive-immediate, max_attempts: 1}}
`

func TestRunIncidentTripsBreaker(t *testing.T) {
	t.Parallel()
	sc := parse(t, incidentYAML)
	var l log
	if _, err := Run(context.Background(), sc, Options{Recorder: &l}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	status := map[int]int{}
	for _, a := range l.attempts {
		status[a.Status]++
	}
	if status[503] == 0 || status[500] == 0 || status[200] == 0 {
		t.Errorf("Run(incident) attempts by status %v; want 200s, 500s and 503s", status)
	}
	want := []sim.CircuitState{sim.CircuitClosed, sim.CircuitOpen}
	if len(l.circuit) < 3 || !reflect.DeepEqual(l.circuit[:2], want) || l.circuit[len(l.circuit)-1] != sim.CircuitClosed {
		t.Errorf("Run(incident) circuit states %v; want closed, open, …, closed", l.circuit)
	}
}

func TestRunOptions(t *testing.T) {
	t.Parallel()
	sc := parse(t, quotaYAML)
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		opts     Options
		requests uint64
		firstAt  time.Time
	}{
		// Duration overrides the scenario's: 30 s → 60 + 30 arrivals.
		{"duration", Options{Duration: 30 * time.Second}, 90, DefaultStart()},
		// Start moves the virtual clock.
		{"start", Options{Start: start}, 360, start},
	}
	for _, tc := range tests {
		var l log
		st, err := Run(context.Background(), sc, tc.opts)
		if err != nil {
			t.Fatalf("%s: Run: %v", tc.name, err)
		}
		st2, err := Run(context.Background(), sc, Options{Duration: tc.opts.Duration, Start: tc.opts.Start, Recorder: &l})
		if err != nil {
			t.Fatalf("%s: Run: %v", tc.name, err)
		}
		if st.Requests != tc.requests || st2 != st {
			t.Errorf("Run(quota, %+v) = %+v (with recorder %+v); want %d requests", tc.opts, st, st2, tc.requests)
		}
		if !l.outcomes[0].Arrived.Equal(tc.firstAt) {
			t.Errorf("Run(quota, %+v): first arrival %s; want %s", tc.opts, l.outcomes[0].Arrived, tc.firstAt)
		}
	}
}

func TestRunProgressAndCancel(t *testing.T) {
	t.Parallel()
	sc := parse(t, quotaYAML)
	var calls []time.Duration
	_, err := Run(context.Background(), sc, Options{Progress: func(s, total time.Duration) {
		if total != 120*time.Second {
			t.Fatalf("Progress total %s; want 2m0s", total)
		}
		calls = append(calls, s)
	}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(calls) < 90 || len(calls) > 102 || calls[len(calls)-1] != 120*time.Second {
		t.Errorf("Progress called %d times ending at %v; want about 100 ending at 2m0s", len(calls), calls[len(calls)-1])
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Fatalf("Progress went back: %v", calls)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, sc, Options{Duration: 24 * time.Hour}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled ctx) error %v; want context.Canceled", err)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	sc := parse(t, quotaYAML)
	tests := []struct {
		name string
		sc   *scenario.Scenario
		opts Options
	}{
		// A nil scenario has no tenants.
		{"nil", nil, Options{}},
		// A negative duration is refused.
		{"negative", sc, Options{Duration: -time.Second}},
	}
	for _, tc := range tests {
		if _, err := Run(context.Background(), tc.sc, tc.opts); err == nil {
			t.Errorf("Run(%s) = nil error; want one", tc.name)
		}
	}
}

// TestRunAllocationsDoNotGrowWithEvents: a run twice as long allocates
// (almost) nothing more, although it processes millions more events. What
// it may allocate is growth to a higher peak of pending requests (this
// scenario's backlog grows with time): a slab chunk per 4,096 slots and the
// queue's amortised growth, far below one allocation per 100,000 events.
func TestRunAllocationsDoNotGrowWithEvents(t *testing.T) {
	sc := parse(t, retryYAML)
	run := func(d time.Duration) (float64, uint64) {
		var st Stats
		allocs := testing.AllocsPerRun(1, func() {
			var err error
			st, err = Run(context.Background(), sc, Options{Seed: 3, Duration: d, Recorder: &counter{}})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
		return allocs, st.Events
	}
	a1, e1 := run(4 * time.Minute)
	a2, e2 := run(8 * time.Minute)
	if e2-e1 < 1000000 || a2-a1 > float64(e2-e1)/100000 {
		t.Errorf("Run 4m: %v allocs, %d events; 8m: %v allocs, %d events; want ≥ 1e6 more events and < 1 more alloc per 1e5 of them",
			a1, e1, a2, e2)
	}
}

func ExampleRun() {
	sc, err := scenario.Parse([]byte(quotaYAML), "quota.yaml", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := Run(context.Background(), sc, Options{Seed: sc.Seed})
	fmt.Println(st.Requests, st.Attempts, err)
	// Output: 360 360 <nil>
}

// benchYAML is quota-heavy: a tier1 tenant at 50× its quota with naive
// immediate retries, next to a tier5 tenant with the recommended strategy
// and an upstream incident that trips the breaker.
const benchYAML = `
name: bench
duration: 10m
api:
  upstream:
    latency: {median: 80ms, p99: 400ms}
    incidents: [{start: 4m, duration: 90s, error_rate: 0.7, latency_factor: 3}]
tenants:
  - name: flood
    key: cmp_test_flood
    tier: tier1
    traffic: {profile: {type: constant, rate: 50}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: {mean: 800, max: 4000}}]
    client: {strategy: naive-immediate}
  - name: steady
    key: cmp_test_steady
    tier: tier5
    traffic: {profile: {type: poisson, rate: 15}}
    mix: [{weight: 1, endpoint: question-agnostic, model: espresso_v1, tokens: 2000}]
    client: {strategy: compresr-recommended}
`

func BenchmarkRun(b *testing.B) {
	sc := parse(b, benchYAML)
	b.ReportAllocs()
	var attempts, events uint64
	for b.Loop() {
		st, err := Run(context.Background(), sc, Options{Recorder: &counter{}})
		if err != nil {
			b.Fatalf("Run: %v", err)
		}
		attempts += st.Attempts
		events += st.Events
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(attempts)/s, "attempts/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(attempts), "ns/attempt")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

func TestRunDrainUntilEnd(t *testing.T) {
	t.Parallel()
	sc := parse(t, retryYAML)
	var l log
	if _, err := Run(context.Background(), sc, Options{Seed: 3, Recorder: &l}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, o := range l.outcomes {
		if o.Kind == sim.InFlight {
			t.Fatalf("Run(retry, drain 0) left %+v in flight; want every request run to its end", o)
		}
	}
	if _, err := Run(context.Background(), sc, Options{Drain: -time.Second}); err == nil {
		t.Errorf("Run with drain -1s: no error; want one")
	}
}

// BenchmarkRunRecorded runs scenarios of benchmarks/ into a
// report.Recorder, as `loadsim simulate` does: simpy (1 h, two tenants over
// quota, retries honouring Retry-After; simpy-counts only counts records, as
// model.py does) and day (the first 10 min of the 1,000 req/s day scenario).
func BenchmarkRunRecorded(b *testing.B) {
	for _, bc := range []struct {
		name, file string
		duration   time.Duration
		counts     bool // count records only (as model.py does), no report.Recorder
	}{
		{"simpy", "../../benchmarks/simpy/scenario.yaml", 0, false},
		{"simpy-counts", "../../benchmarks/simpy/scenario.yaml", 0, true},
		{"simpy-async", "../../benchmarks/simpy/scenario.yaml", 0, false},
		{"day-10m", "../../benchmarks/des/day.yaml", 10 * time.Minute, false},
		{"day-10m-async", "../../benchmarks/des/day.yaml", 10 * time.Minute, false},
		{"day-10m-counts", "../../benchmarks/des/day.yaml", 10 * time.Minute, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sc, err := scenario.Load(bc.file)
			if err != nil {
				b.Fatalf("scenario.Load(%s): %v", bc.file, err)
			}
			if bc.duration > 0 {
				sc.Duration = bc.duration
			}
			names := make([]string, len(sc.Tenants))
			for i, t := range sc.Tenants {
				names[i] = t.Name
			}
			b.ReportAllocs()
			var attempts uint64
			for b.Loop() {
				if strings.HasSuffix(bc.name, "-async") {
					// As loadsim simulate does on a multi-core machine.
					res, err := Simulate(context.Background(), sc, Options{Seed: sc.Seed, Parallel: true})
					if err != nil {
						b.Fatalf("Simulate(%s): %v", bc.file, err)
					}
					attempts += res.Stats.Attempts
					continue
				}
				var rec sim.Recorder = &counter{}
				if !bc.counts {
					rec = report.NewRecorder(report.RecorderConfig{Tenants: names, Start: DefaultStart(), Duration: sc.Duration})
				}
				st, err := Run(context.Background(), sc, Options{Seed: sc.Seed, Recorder: rec})
				if err != nil {
					b.Fatalf("Run(%s): %v", bc.file, err)
				}
				attempts += st.Attempts
			}
			b.ReportMetric(float64(attempts)/b.Elapsed().Seconds(), "attempts/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(attempts), "ns/attempt")
		})
	}
}

// TestRunDrainCancelsUnansweredAttempts: an attempt whose response is due
// after Duration+Drain is cut off as a live drain cancels it: not recorded,
// its request in flight at the cutoff.
func TestRunDrainCancelsUnansweredAttempts(t *testing.T) {
	t.Parallel()
	// Arrivals every 500 ms for 10 s; each attempt takes exactly the 1 s
	// network round trip. With a 400 ms drain the cutoff is 10.4 s: only the
	// arrival at 9.5 s (answer due at 10.5 s) is cut off.
	sc := parse(t, `
name: drain
duration: 10s
api:
  upstream:
    latency: {median: 0s}
tenants:
  - name: slow
    key: cmp_test_slow
    tier: tier5
    traffic: {profile: {type: constant, rate: 2}}
    mix: [{weight: 1, endpoint: question-agnostic, model: espresso_v1, tokens: 100}]
    client: {network_rtt: 1s, strategy: naive-immediate}
`)
	var l log
	drain := 400 * time.Millisecond
	if _, err := Run(context.Background(), sc, Options{Seed: 1, Drain: drain, Recorder: &l}); err != nil {
		t.Fatalf("Run(drain %s): %v", drain, err)
	}
	cutoff := DefaultStart().Add(10*time.Second + drain)
	var inFlight []sim.Outcome
	for _, o := range l.outcomes {
		if o.Kind == sim.InFlight {
			inFlight = append(inFlight, o)
		}
	}
	if len(l.outcomes) != 20 || len(l.attempts) != 19 || len(inFlight) != 1 {
		t.Fatalf("Run(drain %s): %d outcomes, %d attempts, %d in flight; want 20, 19, 1", drain, len(l.outcomes), len(l.attempts), len(inFlight))
	}
	if o := inFlight[0]; !o.Ended.Equal(cutoff) || o.Attempts != 1 || o.Reason != sim.StopCancelled {
		t.Errorf("Run(drain %s) in-flight outcome = %+v; want 1 attempt, cancelled, ended at the cutoff %s", drain, o, cutoff)
	}
	for _, a := range l.attempts {
		if end := a.Sent.Add(a.Latency); end.After(cutoff) {
			t.Errorf("Run(drain %s) recorded attempt %+v answered at %s, after the cutoff %s", drain, a, end, cutoff)
		}
	}
}

// TestParallelFeedsStop: with Options.Parallel, the arrival feeds' and the
// recorder's goroutines are gone when Run or Simulate returns, whether the
// run ends, is cancelled, or fails to start (a bad strategy after a good
// tenant).
func TestParallelFeedsStop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sc := parse(t, benchYAML)
	if _, err := Simulate(context.Background(), sc, Options{Seed: 1, Duration: time.Minute, Parallel: true}); err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, sc, Options{Seed: 1, Parallel: true, Progress: func(simulated, _ time.Duration) {
		if simulated > time.Minute {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run cancelled after a minute: err = %v; want context.Canceled", err)
	}
	bad := parse(t, benchYAML)
	negative := -time.Second
	bad.Tenants[1].Client.Strategy.Config.Base = &negative
	if _, err := Run(context.Background(), bad, Options{Parallel: true}); err == nil {
		t.Fatal("Run with a negative backoff base: no error; want one")
	}
}

// TestEngineAt: at builds exactly start.Add(ns), for the default start,
// starts with a nanosecond part (carry into the second) and, through
// Time.Add itself, a start in another zone or with a monotonic reading.
func TestEngineAt(t *testing.T) {
	t.Parallel()
	sc := parse(t, benchYAML)
	for _, start := range []time.Time{
		DefaultStart(),
		time.Date(2026, 3, 29, 0, 59, 59, 999_999_999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2026, 3, 29, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		time.Now(),
	} {
		e, err := newEngine(sc, Options{Start: start})
		if err != nil {
			t.Fatalf("newEngine: %v", err)
		}
		for _, ns := range []int64{0, 1, 999_999_999, 1e9, 1e9 + 1, 86_400e9 + 123, 1 << 62} {
			if got, want := e.at(ns), start.Add(time.Duration(ns)); got != want {
				t.Errorf("start %v: at(%d) = %#v, want %#v", start, ns, got, want)
			}
		}
	}
}

// plainRecorder hides every method of a report.Recorder but the sim ones,
// so that the engine records through sim.Attempt and sim.Outcome.
type plainRecorder struct{ r *report.Recorder }

func (p plainRecorder) RecordAttempt(a *sim.Attempt) { p.r.RecordAttempt(a) }
func (p plainRecorder) RecordOutcome(o *sim.Outcome) { p.r.RecordOutcome(o) }
func (p plainRecorder) ObserveCircuit(t time.Time, s sim.CircuitState) {
	p.r.ObserveCircuit(t, s)
}

// edgesYAML ends requests every way: successes, retries, give-ups,
// permanent failures, timeouts (status 0), client-side rejections, and
// attempts cut off by a short drain.
const edgesYAML = `
name: edges
duration: 60s
api:
  upstream:
    latency: {median: 200ms, p99: 3s}
    incidents: [{start: 20s, duration: 15s, error_rate: 0.8}]
tenants:
  - name: small
    key: cmp_test_small
    tier: tier1
    traffic: {profile: {type: poisson, rate: 4}}
    mix:
      - {weight: 90, endpoint: question-specific, model: latte_v1, tokens: {mean: 500}}
      - {weight: 5, invalid: validation_error}
      - {weight: 5, invalid: invalid_api_key}
    client: {strategy: compresr-recommended, timeout: 1s}
  - name: big
    key: cmp_test_big
    tier: tier5
    traffic: {profile: {type: constant, rate: 20}}
    mix: [{weight: 1, endpoint: question-agnostic, model: espresso_v1, tokens: 300}]
    client: {strategy: {preset: aws-standard, max_attempts: 3}}
`

// TestRecordPathsAgree: a report.Recorder given to Run as a report.Sink
// (compact records built from virtual times) ends exactly as one that gets
// sim.Attempt and sim.Outcome values.
func TestRecordPathsAgree(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, yaml string
		drain      time.Duration
	}{
		{"retry", retryYAML, 0},
		{"incident", benchYAML, 0},
		{"edges", edgesYAML, 2 * time.Second},
	} {
		sc := parse(t, tt.yaml)
		var out [2][2][]byte // [sink, plain][summary, series]
		for i := range out {
			rec := report.NewRecorder(report.RecorderConfig{Tenants: sc.TenantNames(), Start: DefaultStart(), Duration: sc.Duration})
			var r sim.Recorder = rec
			if i == 1 {
				r = plainRecorder{rec}
			}
			if _, err := Run(context.Background(), sc, Options{Seed: 9, Drain: tt.drain, Recorder: r}); err != nil {
				t.Fatalf("%s: Run: %v", tt.name, err)
			}
			out[i] = recorderJSON(t, rec, report.Meta{Scenario: sc.Name, Engine: report.EngineSimulated, Duration: sc.Duration})
		}
		sameJSON(t, tt.name+": compact records, against sim records", out[0], out[1])
	}
	// edges covers what its comment says.
	var l log
	if _, err := Run(context.Background(), parse(t, edgesYAML), Options{Seed: 9, Drain: 2 * time.Second, Recorder: &l}); err != nil {
		t.Fatalf("edges: Run: %v", err)
	}
	kinds, timeouts := map[sim.OutcomeKind]int{}, 0
	for _, o := range l.outcomes {
		kinds[o.Kind]++
	}
	for _, a := range l.attempts {
		if a.Status == 0 {
			timeouts++
			if a.Code != sim.TimeoutCode {
				t.Errorf("edges: a timed-out attempt has code %q; want %q, as the live client records it", a.Code, sim.TimeoutCode)
			}
		}
	}
	for _, k := range []sim.OutcomeKind{sim.Succeeded, sim.GaveUp, sim.FailedPermanent, sim.RejectedClientSide, sim.InFlight} {
		if kinds[k] == 0 || timeouts == 0 {
			t.Errorf("edges: outcomes by kind %v, %d timed-out attempts; want some of each", kinds, timeouts)
			break
		}
	}
}

// TestTenantDrawMatchesIntN: draw picks exactly what rand.Rand.IntN(PoolSize)
// picks from the same source, as sim/attack's targeter does, so both
// engines send the same request sequence.
func TestTenantDrawMatchesIntN(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{0, 1, 0x9e3779b97f4a7c15, 1 << 63} {
		tn := tenant{pickSrc: rand.NewPCG(seed, seed^7)}
		ref := rand.New(rand.NewPCG(seed, seed^7))
		for i := range 10_000 {
			if got, want := tn.draw(), int32(ref.IntN(PoolSize)); got != want {
				t.Fatalf("seed %d, draw %d: got %d, want IntN's %d", seed, i, got, want)
			}
		}
	}
}

// TestRefusedByInvalidKind: a tenant's client refuses before sending
// exactly the bodies the API would refuse with 400 or 422, whether refused
// reads the model's prebuilt request (no trace) or the pool's entry.
func TestRefusedByInvalidKind(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind scenario.Invalid
		want bool
	}{
		{scenario.Valid, false},
		{scenario.InvalidRequest, true},
		{scenario.InvalidValidation, true},
		{scenario.InvalidMissingKey, false},
		{scenario.InvalidKey, false},
		{scenario.InvalidForbidden, false},
	} {
		r := scenario.Request{Endpoint: api.RouteQuestionAgnostic, Model: "espresso_v1", Invalid: c.kind}
		for _, traced := range []bool{false, true} {
			tn := tenant{pool: []scenario.Request{r}, reqs: []api.Request{apiRequest(r, "cmp_test_key")}, traced: traced}
			if got := tn.refused(0, 0); got != c.want {
				t.Errorf("refused(%q, traced %v) = %v; want %v", c.kind, traced, got, c.want)
			}
		}
	}
}

// TestCompleteSetsEveryField: the engine reuses its response and records
// (response, recordAttempt, outcome) and sets them field by field, so a
// field added to any of these types would keep a stale value from the
// previous attempt. This list is the one they handle; when it fails, set
// the new field there (or make sure it stays zero) and update the list.
func TestCompleteSetsEveryField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[sim.Attempt](), "Tenant Request Number Sent Latency Status Code RetryAfterRaw RetryAfter RetryAfterStatus Limits Retry Delay Stop"},
		{reflect.TypeFor[backoff.Response](), "Status Code Timeout RetryAfter RetryAfterSeconds Limits"},
		{reflect.TypeFor[report.AttemptRecord](), "Tenant Status SentNs Latency RetryAfter Delay RemainingMinute RemainingDay Code First Retry LimitsKnown RetryAfterStatus"},
		{reflect.TypeFor[report.OutcomeRecord](), "Tenant ArrivedNs EndedNs Duration Kind Reason Sent"},
	} {
		var names []string
		for f := range c.typ.Fields() {
			names = append(names, f.Name)
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%v has fields %q; engine.complete sets %q: set the new ones there, then update this test", c.typ, got, c.want)
		}
	}
}

// TestAnswersAtSendMatchQueue: handling the answers of a client without
// shared strategy state at their send gives the same records (in another
// order), the same counts and the same simulated span as handling every
// answer through the queue, on every embedded example and the test
// scenarios (quota floods, retries, drains).
func TestAnswersAtSendMatchQueue(t *testing.T) {
	t.Parallel()
	type run struct {
		name string
		sc   *scenario.Scenario
	}
	var runs []run
	for _, ex := range scenario.Examples() {
		sc, err := scenario.Load(ex.Name)
		if err != nil {
			t.Fatalf("scenario.Load(%s): %v", ex.Name, err)
		}
		runs = append(runs, run{ex.Name, sc})
	}
	runs = append(runs, run{"bench", parse(t, benchYAML)}, run{"retry", parse(t, retryYAML)})
	for _, r := range runs {
		var inline, queued log
		sti, err := Run(context.Background(), r.sc, Options{Seed: 7, Drain: 30 * time.Second, Recorder: &inline})
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		stq, err := Run(context.Background(), r.sc, Options{Seed: 7, Drain: 30 * time.Second, Recorder: &queued, queueAll: true})
		if err != nil {
			t.Fatalf("%s (queued): %v", r.name, err)
		}
		if sti != stq {
			t.Errorf("%s: stats %+v; through the queue %+v", r.name, sti, stq)
		}
		for _, l := range []*log{&inline, &queued} {
			slices.SortFunc(l.attempts, func(a, b sim.Attempt) int {
				return cmp.Or(cmp.Compare(a.Request, b.Request), cmp.Compare(a.Number, b.Number))
			})
			slices.SortFunc(l.outcomes, func(a, b sim.Outcome) int { return cmp.Compare(a.Request, b.Request) })
		}
		if !reflect.DeepEqual(inline.attempts, queued.attempts) || !reflect.DeepEqual(inline.outcomes, queued.outcomes) ||
			!slices.Equal(inline.circuit, queued.circuit) {
			t.Errorf("%s: records differ from those through the queue (%d/%d attempts, %d/%d outcomes)",
				r.name, len(inline.attempts), len(queued.attempts), len(inline.outcomes), len(queued.outcomes))
		}
	}
}

// TestSimulatePartialOffered: a simulation cancelled part way reports the
// arrivals planned over the part simulated as its offered rate, the span of
// its achieved rate (a ramp's whole-plan average would show a shortfall
// that is not there).
func TestSimulatePartialOffered(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: partial
duration: 10m
tenants:
  - name: ramp
    key: cmp_test_ramp
    tier: tier5
    traffic: {profile: {type: ramp, from: 1, to: 1000, over: 10m}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 100}]
    client: {strategy: {preset: compresr-recommended}}
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Simulate(ctx, sc, Options{Seed: 1, Progress: func(simulated, total time.Duration) {
		if simulated >= total/4 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatalf("Simulate(cancelled at a quarter): %v", err)
	}
	m := res.Meta
	if !m.Partial || m.PartialReason != report.PartialInterrupted || m.Duration <= 0 || m.Duration >= sc.Duration {
		t.Fatalf("Simulate(cancelled at a quarter): partial %v (%q), duration %s; want an interrupted run shorter than %s", m.Partial, m.PartialReason, m.Duration, sc.Duration)
	}
	want, _ := sc.OfferedRPS(m.Duration, scenario.Shard{})
	whole, _ := sc.OfferedRPS(sc.Duration, scenario.Shard{})
	if m.OfferedRPS != want || m.OfferedRPS >= whole {
		t.Errorf("offered %.3f/s over the %s simulated; want %.3f/s (the plan over that span), below the whole plan's %.3f/s", m.OfferedRPS, m.Duration, want, whole)
	}
	achieved := float64(res.Stats.Requests) / m.Duration.Seconds()
	if math.Abs(achieved-m.OfferedRPS) > 0.02*m.OfferedRPS {
		t.Errorf("achieved %.3f/s against offered %.3f/s; want them within 2 %% (the simulator never falls behind)", achieved, m.OfferedRPS)
	}
}
