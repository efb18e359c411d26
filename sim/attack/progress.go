package attack

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
)

// DefaultLiveEvery is the redraw interval of Options.ProgressLive.
const DefaultLiveEvery = time.Second

// circuitPoll is how often a live run against the in-process mock reads the
// modelled breaker's state: a state held for less than this may be missed.
const circuitPoll = 100 * time.Millisecond

// circuitUnknown is circuitWatch's state before anything was seen.
const circuitUnknown = -1

// circuitWatch tells a sim.CircuitObserver the server's circuit state, on
// every change it sees. Against the in-process mock it reads the model
// (poll); against a remote target it infers the state from the answers
// (inferCircuit): a 503 service_unavailable means open (the API contract's
// only 503), a success means the upstream was reached (closed, or a
// half-open probe, which answers cannot tell apart). Safe for concurrent
// use.
type circuitWatch struct {
	model *api.Model // nil: infer from answers
	obs   sim.CircuitObserver
	last  atomic.Int32 // sim.CircuitState, or circuitUnknown
}

// newCircuitWatch returns a watch reporting to obs, reading model when not
// nil.
func newCircuitWatch(model *api.Model, obs sim.CircuitObserver) *circuitWatch {
	w := &circuitWatch{model: model, obs: obs}
	w.last.Store(circuitUnknown)
	return w
}

// see reports s at t if it differs from the last state seen.
func (w *circuitWatch) see(t time.Time, s sim.CircuitState) {
	if w.last.Swap(int32(s)) != int32(s) {
		w.obs.ObserveCircuit(t, s)
	}
}

// poll reads the model's state at now (in-process mock only).
func (w *circuitWatch) poll(now time.Time) {
	if w.model != nil {
		w.see(now, w.model.Circuit(now))
	}
}

// state returns the last state seen, "?" when none.
func (w *circuitWatch) state() string {
	s := w.last.Load()
	if s == circuitUnknown {
		return "?"
	}
	return sim.CircuitState(s).String()
}

// inferCircuit is a sim.Recorder passing records on to Recorder and
// inferring the remote server's circuit state from each attempt's answer.
type inferCircuit struct {
	sim.Recorder
	w *circuitWatch
}

// RecordAttempt implements sim.Recorder.
func (r inferCircuit) RecordAttempt(a *sim.Attempt) {
	r.Recorder.RecordAttempt(a)
	switch {
	case a.Status == 503 && a.Code == api.ServiceUnavailable.String():
		r.w.see(a.Sent, sim.CircuitOpen)
	case a.Status >= 200 && a.Status < 300:
		r.w.see(a.Sent, sim.CircuitClosed)
	}
}

// progress writes progress lines: plain lines, or one line redrawn in
// place on a terminal (live).
type progress struct {
	w       io.Writer
	live    bool
	rec     *report.Recorder
	meta    report.Meta
	total   time.Duration
	active  *atomic.Int64 // attempts under way
	circuit *circuitWatch

	prevAt            time.Duration
	prevReq, prevSucc uint64
	drawn             bool // a live line is on screen
}

// line writes the state at elapsed: elapsed/total, requests arrived per
// second since the previous line (the achieved rate) beside the planned
// average (the offered rate), requests succeeded per second,
// attempts by status, attempts under way, requests waiting to retry (past
// their first attempt, no outcome yet) and the circuit state seen.
func (p *progress) line(elapsed time.Duration) {
	c := p.rec.Counts()
	dt := (elapsed - p.prevAt).Seconds()
	var offered, achieved float64
	if dt > 0 {
		offered = float64(c.Requests-min(p.prevReq, c.Requests)) / dt
		achieved = float64(c.Succeeded-min(p.prevSucc, c.Succeeded)) / dt
	}
	p.prevAt, p.prevReq, p.prevSucc = elapsed, c.Requests, c.Succeeded

	var b strings.Builder
	if p.live {
		b.WriteString("\r\x1b[K")
	}
	fmt.Fprintf(&b, "loadsim: %s/%s  arrivals %.1f/s (planned %.1f/s)  succeeded %.1f/s  attempts %d [", clock(elapsed), clock(p.total), offered, p.meta.OfferedRPS, achieved, c.Attempts)
	for i, sc := range c.ByStatus {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", sc.Status, sc.Count)
	}
	fmt.Fprintf(&b, "]  in flight %d  retrying %d  circuit %s", p.active.Load(), c.InFlight, p.circuit.state())
	if !p.live {
		b.WriteByte('\n')
	}
	p.drawn = p.live
	io.WriteString(p.w, b.String())
}

// end finishes a live line, so that what follows starts on its own line.
func (p *progress) end() {
	if p.drawn {
		io.WriteString(p.w, "\n")
		p.drawn = false
	}
}

// clock formats d as m:ss (h:mm:ss from an hour on).
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
