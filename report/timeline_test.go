package report

import (
	"reflect"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// TestCircuitAndFirst429 checks summary.json's circuit and
// first_429_seconds, to the 1 s bucket, from the Recorder and from its
// Series alike.
func TestCircuitAndFirst429(t *testing.T) {
	t.Parallel()
	type obs struct {
		at    time.Duration
		state sim.CircuitState
	}
	f := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		name      string
		circuit   []obs
		web429    []time.Duration // when web's attempts answered 429 were sent
		batch429  []time.Duration
		want      *CircuitStats
		webFirst  *float64
		batchFrst *float64
		allFirst  *float64
	}{
		// nothing observed, no 429: both absent
		{name: "none"},
		// closed throughout: zero times, no first opening
		{name: "closed", circuit: []obs{{0, sim.CircuitClosed}}, want: &CircuitStats{}},
		// open 5.3–9.3 s, half-open 9.3–9.4 s: buckets 5–9 count as open (9 holds the carried open)
		{name: "one period", circuit: []obs{{0, sim.CircuitClosed}, {5300 * time.Millisecond, sim.CircuitOpen},
			{9300 * time.Millisecond, sim.CircuitHalfOpen}, {9400 * time.Millisecond, sim.CircuitClosed}},
			want: &CircuitStats{OpenSeconds: 5, OpenPeriods: 1, FirstOpenSeconds: f(5)}},
		// two openings with closed buckets between: two periods
		{name: "two periods", circuit: []obs{{0, sim.CircuitClosed}, {2500 * time.Millisecond, sim.CircuitOpen},
			{3500 * time.Millisecond, sim.CircuitClosed}, {6200 * time.Millisecond, sim.CircuitOpen}, {6400 * time.Millisecond, sim.CircuitClosed}},
			want: &CircuitStats{OpenSeconds: 3, OpenPeriods: 2, FirstOpenSeconds: f(2)}},
		// half-open from 4.5 s to 5.5 s: two half-open buckets, never open
		{name: "half-open", circuit: []obs{{0, sim.CircuitClosed}, {4500 * time.Millisecond, sim.CircuitHalfOpen},
			{5500 * time.Millisecond, sim.CircuitClosed}},
			want: &CircuitStats{HalfOpenSeconds: 2}},
		// a state still open at the end is open to the last bucket (20 s run, records to 19 s)
		{name: "open at the end", circuit: []obs{{0, sim.CircuitClosed}, {17500 * time.Millisecond, sim.CircuitOpen}},
			web429: []time.Duration{19 * time.Second},
			want:   &CircuitStats{OpenSeconds: 3, OpenPeriods: 1, FirstOpenSeconds: f(17)}, webFirst: f(19), allFirst: f(19)},
		// 429s: each tenant's first bucket, and the earliest for the run
		{name: "429s", web429: []time.Duration{7200 * time.Millisecond, 3900 * time.Millisecond}, batch429: []time.Duration{12 * time.Second},
			webFirst: f(3), batchFrst: f(12), allFirst: f(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRecorder(20 * time.Second)
			for _, o := range tc.circuit {
				r.ObserveCircuit(t0.Add(o.at), o.state)
			}
			send := func(tenant, status int, at time.Duration) {
				r.RecordAttempt(&sim.Attempt{Tenant: tenant, Request: 1, Number: 1, Sent: t0.Add(at), Status: status})
			}
			send(0, 200, 0)
			send(1, 200, 0)
			for _, at := range tc.web429 {
				send(0, 429, at)
			}
			for _, at := range tc.batch429 {
				send(1, 429, at)
			}
			for _, s := range bothSummaries(t, r, testMeta()) {
				if !reflect.DeepEqual(s.sum.Circuit, tc.want) {
					t.Errorf("%s: circuit = %+v; want %+v", s.from, s.sum.Circuit, tc.want)
				}
				for _, c := range []struct {
					scope     string
					got, want *float64
				}{{"all", s.sum.First429Seconds, tc.allFirst}, {"web", s.sum.Tenants["web"].First429Seconds, tc.webFirst},
					{"batch-jobs", s.sum.Tenants["batch-jobs"].First429Seconds, tc.batchFrst}} {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s: %s first_429_seconds = %v; want %v", s.from, c.scope, deref(c.got), deref(c.want))
					}
				}
			}
		})
	}
}

// namedSummary is a summary and how it was computed.
type namedSummary struct {
	from string
	sum  *Summary
}

// bothSummaries returns r's summary with meta as Recorder.Summary computes
// it and as Series.Summary recomputes it from r's series: they must agree.
func bothSummaries(t *testing.T, r *Recorder, meta Meta) []namedSummary {
	t.Helper()
	series, err := r.Series()
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	again, err := series.Summary(meta)
	if err != nil {
		t.Fatalf("Series.Summary: %v", err)
	}
	return []namedSummary{{"Recorder.Summary", r.Summary(meta)}, {"Series.Summary", again}}
}

// deref shows a *float64 in a message ("absent" for nil).
func deref(p *float64) any {
	if p == nil {
		return "absent"
	}
	return *p
}

// TestIncidentGoodput checks incident_goodput, to the 1 s bucket, from the
// Recorder and from its Series alike.
func TestIncidentGoodput(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name      string
		incidents []Window
		web       []time.Duration // when web's requests succeeded
		wantWeb   *IncidentGoodput
		wantBatch *IncidentGoodput
	}{
		// no incident: absent
		{name: "none", web: []time.Duration{ms(9100)}},
		// 8–12 s: one success before (5.5 s; 2.5 s is outside the 4 s window), one during, three after
		{name: "one", incidents: []Window{{8 * time.Second, 4 * time.Second}},
			web:     []time.Duration{ms(2500), ms(5500), ms(9100), ms(12000), ms(13000), ms(15900)},
			wantWeb: &IncidentGoodput{BeforeRPS: 0.25, DuringRPS: 0.25, AfterRPS: 0.75}, wantBatch: &IncidentGoodput{}},
		// at the start: the window before is empty (clipped), its rate 0
		{name: "at the start", incidents: []Window{{0, 2 * time.Second}},
			web:     []time.Duration{ms(500), ms(2500), ms(3000)},
			wantWeb: &IncidentGoodput{DuringRPS: 0.5, AfterRPS: 1}, wantBatch: &IncidentGoodput{}},
		// two incidents: successes and seconds add up
		{name: "two", incidents: []Window{{4 * time.Second, 2 * time.Second}, {10 * time.Second, 2 * time.Second}},
			web:     []time.Duration{ms(4100), ms(10100), ms(11100), ms(12100)},
			wantWeb: &IncidentGoodput{DuringRPS: 0.75, AfterRPS: 0.25}, wantBatch: &IncidentGoodput{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRecorder(20 * time.Second)
			r.RecordAttempt(&sim.Attempt{Tenant: 1, Request: 1, Number: 1, Sent: t0.Add(19 * time.Second), Status: 200})
			for i, at := range tc.web {
				r.RecordOutcome(&sim.Outcome{Tenant: 0, Request: uint64(i + 2), Kind: sim.Succeeded, Attempts: 1, Arrived: t0.Add(at), Ended: t0.Add(at)})
			}
			meta := testMeta()
			meta.Incidents = tc.incidents
			for _, s := range bothSummaries(t, r, meta) {
				for _, c := range []struct {
					scope     string
					got, want *IncidentGoodput
				}{{"all", s.sum.IncidentGoodput, tc.wantWeb}, {"web", s.sum.Tenants["web"].IncidentGoodput, tc.wantWeb},
					{"batch-jobs", s.sum.Tenants["batch-jobs"].IncidentGoodput, tc.wantBatch}} {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s(incidents %v): %s incident_goodput = %+v; want %+v", s.from, tc.incidents, c.scope, c.got, c.want)
					}
				}
				if len(s.sum.Incidents) != len(tc.incidents) {
					t.Errorf("%s: incidents = %+v; want %d", s.from, s.sum.Incidents, len(tc.incidents))
				}
			}
		})
	}
}
