package report

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/loadsim/loadsim/sim"
)

// TestMain fails the package's tests if any goroutine (an Async's background
// goroutine in particular) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// feedReused sends recs to rec the way the simulator does: through one
// Attempt and one Outcome value overwritten for every record, so a recorder
// that kept the pointers would see wrong data.
func feedReused(rec sim.Recorder, recs []record) {
	var a sim.Attempt
	var o sim.Outcome
	obs, _ := rec.(sim.CircuitObserver)
	for _, r := range recs {
		switch {
		case r.attempt != nil:
			a = *r.attempt
			rec.RecordAttempt(&a)
			a = sim.Attempt{Code: "overwritten", Status: 999}
		case r.outcome != nil:
			o = *r.outcome
			rec.RecordOutcome(&o)
			o = sim.Outcome{Kind: sim.GaveUp, Tenant: 1}
		case obs != nil:
			obs.ObserveCircuit(r.circuit.t, r.circuit.s)
		}
	}
}

// renderJSON returns r's summary.json and series.json.
func renderJSON(t *testing.T, r *Recorder) (summary, series []byte) {
	t.Helper()
	var a, b bytes.Buffer
	if err := r.Summary(testMeta()).WriteJSON(&a); err != nil {
		t.Fatalf("Summary().WriteJSON: %v", err)
	}
	se, err := r.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	if err := se.WriteJSON(&b); err != nil {
		t.Fatalf("Series().WriteJSON: %v", err)
	}
	return a.Bytes(), b.Bytes()
}

// TestAsyncEqualsDirect records the same stream directly and through an
// Async and requires byte-identical summary.json and series.json.
func TestAsyncEqualsDirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     AsyncConfig
		flushAt int // Flush after this many records (0: never)
	}{
		{"defaults", AsyncConfig{}, 0},                                               // one partial batch per Flush/Close
		{"one record per batch", AsyncConfig{BatchSize: 1}, 0},                       // every record is its own batch
		{"odd size, two batches", AsyncConfig{BatchSize: 7, Batches: 2}, 0},          // the producer waits on the consumer often
		{"flush mid-stream", AsyncConfig{BatchSize: 64}, 1000},                       // Flush, then go on recording
		{"negative values are defaults", AsyncConfig{BatchSize: -3, Batches: -1}, 0}, // raised to the defaults/minimum
	}
	recs := synth(11, 3000)
	want := newTestRecorder(20 * time.Second)
	feedReused(want, recs)
	wantSum, wantSer := renderJSON(t, want)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := newTestRecorder(20 * time.Second)
			a := NewAsync(got, tt.cfg)
			if tt.flushAt > 0 {
				feedReused(a, recs[:tt.flushAt])
				a.Flush()
				feedReused(a, recs[tt.flushAt:])
			} else {
				feedReused(a, recs)
			}
			a.Close()
			gotSum, gotSer := renderJSON(t, got)
			if !bytes.Equal(gotSum, wantSum) {
				t.Errorf("NewAsync(rec, %+v): summary.json differs from direct recording:\n%s\nwant\n%s", tt.cfg, gotSum, wantSum)
			}
			if !bytes.Equal(gotSer, wantSer) {
				t.Errorf("NewAsync(rec, %+v): series.json differs from direct recording", tt.cfg)
			}
		})
	}
}

// logRecorder logs every call it receives, to check order.
type logRecorder struct{ log []string }

func (l *logRecorder) RecordAttempt(a *sim.Attempt) {
	l.log = append(l.log, fmt.Sprintf("attempt %d/%d %d %q", a.Request, a.Number, a.Status, a.Code))
}

func (l *logRecorder) RecordOutcome(o *sim.Outcome) {
	l.log = append(l.log, fmt.Sprintf("outcome %d %v %d", o.Request, o.Kind, o.Attempts))
}

// logObserver is a logRecorder that also observes the circuit.
type logObserver struct{ logRecorder }

func (l *logObserver) ObserveCircuit(t time.Time, s sim.CircuitState) {
	l.log = append(l.log, fmt.Sprintf("circuit %v %v", t.Sub(t0), s))
}

// TestAsyncOrder checks that any wrapped recorder receives exactly the calls
// made to the Async, in the same order, circuit observations included when
// (and only when) it implements sim.CircuitObserver.
func TestAsyncOrder(t *testing.T) {
	t.Parallel()
	recs := synth(12, 500)
	tests := []struct {
		name      string
		direct    func() (sim.Recorder, *logRecorder)
		observing bool
	}{
		{"observer", func() (sim.Recorder, *logRecorder) { l := &logObserver{}; return l, &l.logRecorder }, true}, // circuit observations forwarded in order
		{"recorder only", func() (sim.Recorder, *logRecorder) { l := &logRecorder{}; return l, l }, false},        // circuit observations dropped
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantRec, wantLog := tt.direct()
			feedReused(wantRec, recs)
			gotRec, gotLog := tt.direct()
			a := NewAsync(gotRec, AsyncConfig{BatchSize: 5, Batches: 2})
			view := a.Recorder()
			if _, ok := view.(sim.CircuitObserver); ok != tt.observing {
				t.Errorf("NewAsync(%T).Recorder().(sim.CircuitObserver) ok = %v; want %v", gotRec, ok, tt.observing)
			}
			// Half through the Async itself, whose ObserveCircuit must drop
			// observations the wrapped recorder cannot take, half through
			// the view.
			feedReused(a, recs[:len(recs)/2])
			feedReused(view, recs[len(recs)/2:])
			a.Close()
			if len(gotLog.log) != len(wantLog.log) {
				t.Fatalf("NewAsync(%T): %d calls forwarded; want %d", gotRec, len(gotLog.log), len(wantLog.log))
			}
			for i := range wantLog.log {
				if gotLog.log[i] != wantLog.log[i] {
					t.Fatalf("NewAsync(%T): call %d = %s; want %s", gotRec, i, gotLog.log[i], wantLog.log[i])
				}
			}
		})
	}
}

// TestAsyncFlushAndClose checks that Flush applies what was queued, that
// Close stops the goroutine and may be repeated, and that recording after
// Close panics rather than losing records silently.
func TestAsyncFlushAndClose(t *testing.T) {
	t.Parallel()
	l := &logRecorder{}
	a := NewAsync(l, AsyncConfig{BatchSize: 100})
	for i := range 250 {
		a.RecordAttempt(&sim.Attempt{Request: uint64(i), Number: 1, Status: 200})
	}
	a.Flush()
	if len(l.log) != 250 { // safe to read: the goroutine is idle after Flush
		t.Errorf("after 250 RecordAttempt and Flush: %d applied; want 250", len(l.log))
	}
	a.Close()
	select {
	case <-a.done:
	default:
		t.Error("Close returned before the background goroutine exited")
	}
	a.Close() // a second Close is a no-op
	for name, call := range map[string]func(){
		"RecordAttempt":  func() { a.RecordAttempt(&sim.Attempt{}) },
		"RecordOutcome":  func() { a.RecordOutcome(&sim.Outcome{}) },
		"ObserveCircuit": func() { a.ObserveCircuit(t0, sim.CircuitOpen) },
		"Flush":          a.Flush,
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s after Close did not panic", name)
				}
			}()
			call()
		}()
	}
}

// TestAsyncAllocs requires no allocation per record once the batches are
// allocated, on either goroutine.
func TestAsyncAllocs(t *testing.T) {
	r := newTestRecorder(time.Minute)
	a := NewAsync(r, AsyncConfig{BatchSize: 64})
	defer a.Close()
	at := &sim.Attempt{Number: 2, Status: 429, Code: "rate_limit_exceeded", Sent: t0.Add(time.Second),
		Latency: 80 * time.Millisecond, RetryAfterStatus: sim.RetryAfterValid, RetryAfter: time.Second,
		Retry: true, Delay: 1500 * time.Millisecond, Limits: sim.RateLimits{Tier: "tier1", RemainingMinute: 3}}
	o := &sim.Outcome{Kind: sim.Succeeded, Attempts: 2, Arrived: t0, Ended: t0.Add(3 * time.Second)}
	for range 1000 { // warm up: every pair and bucket exists
		a.RecordAttempt(at)
		a.RecordOutcome(o)
	}
	a.Flush()
	if n := testing.AllocsPerRun(5000, func() {
		a.RecordAttempt(at)
		a.RecordOutcome(o)
		a.ObserveCircuit(t0, sim.CircuitClosed)
	}); n != 0 {
		t.Errorf("Async RecordAttempt+RecordOutcome+ObserveCircuit allocate %v times per call; want 0", n)
	}
}

// discard is a sim.Recorder that does nothing: it isolates Async's own cost.
type discard struct{}

func (discard) RecordAttempt(*sim.Attempt) {}
func (discard) RecordOutcome(*sim.Outcome) {}

// benchAttempts returns the attempts of a synthetic stream.
func benchAttempts() []*sim.Attempt {
	var as []*sim.Attempt
	for _, rec := range synth(5, 4096) {
		if rec.attempt != nil {
			as = append(as, rec.attempt)
		}
	}
	return as
}

// BenchmarkAsyncRecordAttempt measures the producer's cost per attempt: into
// a Recorder (bounded by the background goroutine when it cannot keep up, as
// a producer doing nothing else makes it), and into a recorder that discards
// (the copy and hand-off alone).
func BenchmarkAsyncRecordAttempt(b *testing.B) {
	for _, bc := range []struct {
		name string
		rec  func() sim.Recorder
		cfg  AsyncConfig
	}{
		{"recorder", func() sim.Recorder { return newTestRecorder(24 * time.Hour) }, AsyncConfig{}},
		{"discard", func() sim.Recorder { return discard{} }, AsyncConfig{}},
		{"discard/batch=256", func() sim.Recorder { return discard{} }, AsyncConfig{BatchSize: 256}},
		{"discard/batch=4096", func() sim.Recorder { return discard{} }, AsyncConfig{BatchSize: 4096}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			as := benchAttempts()
			a := NewAsync(bc.rec(), bc.cfg)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				a.RecordAttempt(as[i%len(as)])
			}
			a.Close()
		})
	}
}

// BenchmarkAsyncRecordOutcome is BenchmarkAsyncRecordAttempt for outcomes.
func BenchmarkAsyncRecordOutcome(b *testing.B) {
	o := &sim.Outcome{Kind: sim.Succeeded, Attempts: 2, Arrived: t0, Ended: t0.Add(3 * time.Second)}
	for _, bc := range []struct {
		name string
		rec  func() sim.Recorder
	}{
		{"recorder", func() sim.Recorder { return newTestRecorder(24 * time.Hour) }},
		{"discard", func() sim.Recorder { return discard{} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := NewAsync(bc.rec(), AsyncConfig{})
			b.ReportAllocs()
			for b.Loop() {
				a.RecordOutcome(o)
			}
			a.Close()
		})
	}
}

// feedCompact sends recs to s in compact form, through one AttemptRecord
// and one OutcomeRecord overwritten for every record.
func feedCompact(s Sink, recs []record) {
	var a AttemptRecord
	var o OutcomeRecord
	for _, r := range recs {
		switch {
		case r.attempt != nil:
			a.set(r.attempt)
			s.AddAttempt(&a)
			a = AttemptRecord{Code: "overwritten", Status: 999}
		case r.outcome != nil:
			o.set(r.outcome)
			s.AddOutcome(&o)
			o = OutcomeRecord{Kind: sim.GaveUp, Tenant: 1}
		default:
			s.ObserveCircuit(r.circuit.t, r.circuit.s)
		}
	}
}

// TestSinkEqualsRecord: compact records given to a Recorder's Sink methods,
// directly or through an Async, leave it exactly as the sim records do;
// only an Async feeding a *Recorder offers a Sink.
func TestSinkEqualsRecord(t *testing.T) {
	t.Parallel()
	recs := synth(13, 3000)
	want := newTestRecorder(20 * time.Second)
	feedReused(want, recs)
	wantSum, wantSer := renderJSON(t, want)

	direct := newTestRecorder(20 * time.Second)
	feedCompact(direct, recs)
	async := newTestRecorder(20 * time.Second)
	a := NewAsync(async, AsyncConfig{BatchSize: 7, Batches: 2})
	sink, ok := a.Recorder().(Sink)
	if !ok {
		t.Fatalf("NewAsync(*Recorder).Recorder() is a %T, not a Sink", a.Recorder())
	}
	feedCompact(sink, recs)
	a.Close()
	for name, got := range map[string]*Recorder{"Recorder": direct, "Async": async} {
		gotSum, gotSer := renderJSON(t, got)
		if !bytes.Equal(gotSum, wantSum) || !bytes.Equal(gotSer, wantSer) {
			t.Errorf("compact records through %s: summary.json or series.json differ from RecordAttempt/RecordOutcome's", name)
		}
	}
	for _, rec := range []sim.Recorder{&logRecorder{}, &logObserver{}} {
		a := NewAsync(rec, AsyncConfig{})
		if _, ok := a.Recorder().(Sink); ok {
			t.Errorf("NewAsync(%T).Recorder() is a Sink; want one only for a *Recorder", rec)
		}
		a.Close()
	}
}
