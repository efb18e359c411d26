package api

import (
	"time"

	"github.com/loadsim/loadsim/sim"
)

// completion is an upstream call that ends at `at` (time since the model's
// start: plain int64 comparisons keep the hot path cheap). The rest is
// packed in tag, so that the heap moves a completion as two words: the
// breaker generation when the call started (wrapping harmlessly) in the
// high 32 bits, then whether it is a half-open probe (bit 1) and whether it
// failed (bit 0).
type completion struct {
	at  time.Duration
	tag uint64
}

// newCompletion returns a call ending at at, started in breaker generation
// gen.
func newCompletion(at time.Duration, gen uint32, failed, probe bool) completion {
	tag := uint64(gen) << 32
	if probe {
		tag |= 2
	}
	if failed {
		tag |= 1
	}
	return completion{at: at, tag: tag}
}

func (c completion) failed() bool { return c.tag&1 != 0 }
func (c completion) probe() bool  { return c.tag&2 != 0 }
func (c completion) gen() uint32  { return uint32(c.tag >> 32) }

// completionHeap is a min-heap of completions by time, slice-backed (no
// container/heap boxing). push and pop move a hole instead of swapping; they
// pick the same child on every comparison as the textbook swapping sift (a
// right child only when strictly earlier than the left), so completions of
// equal time come out in the same order as they always did.
type completionHeap []completion

func (h *completionHeap) push(c completion) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if c.at >= s[p].at {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = c
}

func (h *completionHeap) pop() completion {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	*h = s[:n]
	// s keeps x at index n, so a missing right child compares as x and
	// ends the sift as the textbook loop would.
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		// The right child when strictly earlier, without a branch: times
		// are non-negative, so the difference cannot overflow.
		c := l + int(uint64(s[l+1].at-s[l].at)>>63)
		if s[c].at >= x.at {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = x
	return top
}

// outcome is a completed call in the breaker's window.
type outcome struct {
	at     time.Duration
	failed bool
}

// ring is a FIFO of outcomes ordered by time, growing by doubling (its
// length is always a power of two, so indexes wrap with a mask).
type ring struct {
	buf        []outcome
	head, size int
	failures   int
}

func (r *ring) push(o outcome) {
	if r.size == len(r.buf) {
		nb := make([]outcome, max(16, 2*len(r.buf)))
		for i := range r.size {
			nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = o
	r.size++
	if o.failed {
		r.failures++
	}
}

// dropUntil removes outcomes at or before t.
func (r *ring) dropUntil(t time.Duration) {
	for r.size > 0 && r.buf[r.head].at <= t {
		if r.buf[r.head].failed {
			r.failures--
		}
		r.head = (r.head + 1) & (len(r.buf) - 1)
		r.size--
	}
}

func (r *ring) reset() { r.head, r.size, r.failures = 0, 0, 0 }

// breaker is the server-side circuit breaker over completed upstream calls
// ("one model, two clocks": calls start at Handle's now and complete at
// now+latency). Not safe for concurrent use (the Model's mutex guards it).
type breaker struct {
	cfg       Circuit
	state     sim.CircuitState
	gen       uint32        // incremented on every transition
	openUntil time.Duration // since the model's start

	probesAdmitted, probesOK, probesInFlight int

	pending completionHeap
	window  ring // completed calls while closed: those of the last cfg.Window, and older ones until complete drops them

	transitions [3]uint64
}

// advance processes the completions due at or before now, in time order,
// with the open → half-open timer interleaved.
// now is the time since the model's start.
func (b *breaker) advance(now time.Duration) {
	for len(b.pending) > 0 && b.pending[0].at <= now {
		c := b.pending.pop()
		b.tick(c.at)
		b.complete(c)
	}
	b.tick(now)
}

// tick moves open → half-open once open_for has passed.
func (b *breaker) tick(t time.Duration) {
	if b.state == sim.CircuitOpen && t >= b.openUntil {
		b.to(sim.CircuitHalfOpen)
		b.probesAdmitted, b.probesOK, b.probesInFlight = 0, 0, 0
	}
}

func (b *breaker) to(s sim.CircuitState) {
	b.state = s
	b.gen++
	b.window.reset()
	b.transitions[s]++
}

func (b *breaker) open(t time.Duration) {
	b.to(sim.CircuitOpen)
	b.openUntil = t + b.cfg.OpenFor
}

// complete applies one completed call.
func (b *breaker) complete(c completion) {
	switch b.state {
	case sim.CircuitClosed:
		// Calls that left the window are dropped only when they could
		// matter: while none of the calls kept has failed, none in the
		// window has, and the ratio (FailureRatio > 0) cannot be met
		// whatever their number. A full ring drops them before it grows,
		// so the ring is no larger than before.
		w := &b.window
		if w.size == len(w.buf) {
			w.dropUntil(c.at - b.cfg.Window)
		}
		w.push(outcome{at: c.at, failed: c.failed()})
		if w.failures == 0 {
			return
		}
		w.dropUntil(c.at - b.cfg.Window)
		if n := w.size; n >= b.cfg.MinRequests && float64(w.failures) >= b.cfg.FailureRatio*float64(n) {
			b.open(c.at)
		}
	case sim.CircuitHalfOpen:
		if !c.probe() || c.gen() != b.gen {
			return // a call from before the circuit opened
		}
		b.probesInFlight--
		if c.failed() {
			b.open(c.at)
			return
		}
		b.probesOK++
		if b.probesOK >= b.cfg.HalfOpenProbes {
			b.to(sim.CircuitClosed)
		}
	}
	// Open: calls still completing from before it opened are ignored.
}

// admit decides whether a call may go upstream at now (after advance): ok,
// whether it is a half-open probe, and otherwise the Retry-After seconds.
func (b *breaker) admit(now time.Duration) (ok, probe bool, retryAfter int) {
	switch b.state {
	case sim.CircuitOpen:
		return false, false, ceilSeconds(b.openUntil - now)
	case sim.CircuitHalfOpen:
		if b.probesAdmitted < b.cfg.HalfOpenProbes {
			return true, true, 0
		}
		return false, false, 1
	}
	return true, false, 0
}

// start records a call admitted at now that completes at end.
func (b *breaker) start(end time.Duration, failed, probe bool) {
	if probe {
		b.probesAdmitted++
		b.probesInFlight++
	}
	b.pending.push(newCompletion(end, b.gen, failed, probe))
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}
