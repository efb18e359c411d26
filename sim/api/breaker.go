package api

import (
	"math/bits"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// completion is an upstream call that ends at `at` (time since the model's
// start: plain int64 comparisons keep the hot path cheap).
type completion struct {
	at     time.Duration
	gen    uint32 // breaker generation when the call started (wraps harmlessly)
	failed bool
	probe  bool // a half-open probe
}

// inFlight is the upstream calls in flight, a timing wheel: a ring of slots
// of 2^shift ns, each holding its calls sorted by end time, calls of equal
// end time in the order they started; a bitmap marks the non-empty slots.
// Every call ends within upstream.timeout of its start, so a wheel longer
// than the timeout by two slots never wraps onto itself: starting a call is
// an insertion into a slot that rarely holds more than a few calls, and
// finding the next one to end a bitmap scan, both O(1) where a heap of every
// call in flight costs O(log n) and was the largest part of a decision.
// Not safe for concurrent use (the Model's mutex guards it).
type inFlight struct {
	slots []wheelSlot // a power of two of them
	occ   []uint64    // bit i set when slots[i] holds calls
	shift uint
	cur   int64 // slot number (end>>shift) before which no call ends; ≤ the last advance's slot
	n     int   // calls in the wheel
}

// wheelSlot is one slot's calls, consumed from head.
type wheelSlot struct {
	calls []completion
	head  int
}

// wheelShift is the default slot width, 2^20 ns ≈ 1 ms: at the default
// latency a slot holds about one call per 1,000 requests per second.
const wheelShift = 20

// newInFlight returns a wheel for calls lasting at most timeout: slots of
// about 1 ms, wider when the timeout needs more than 4,096 of them.
func newInFlight(timeout time.Duration) inFlight {
	shift := uint(wheelShift)
	for int64(timeout)>>shift+2 > 4096 {
		shift++
	}
	n := 64
	for int64(n) < int64(timeout)>>shift+2 {
		n *= 2
	}
	w := inFlight{slots: make([]wheelSlot, n), occ: make([]uint64, n/64), shift: shift}
	// Every slot starts with room for slotCalls calls in one contiguous
	// array: walking the wheel then walks memory in order (a slot that
	// needs more grows its own array).
	arena := make([]completion, n*slotCalls)
	for i := range w.slots {
		w.slots[i].calls = arena[i*slotCalls : i*slotCalls : (i+1)*slotCalls]
	}
	return w
}

// slotCalls is the calls a slot holds before it grows its own array: one
// 64-byte cache line of completions.
const slotCalls = 4

// push adds c, which ends at or after the last advance's now and at most
// the timeout after it.
func (w *inFlight) push(c completion) {
	s := int64(c.at) >> w.shift
	i := s & int64(len(w.slots)-1)
	sl := &w.slots[i]
	if sl.head == len(sl.calls) {
		sl.calls, sl.head = sl.calls[:0], 0
		w.occ[i>>6] |= 1 << (i & 63)
	}
	// Insert after every call ending at or before c (usually at the end).
	calls := append(sl.calls, c)
	j := len(calls) - 1
	for j > sl.head && calls[j-1].at > c.at {
		calls[j] = calls[j-1]
		j--
	}
	calls[j] = c
	sl.calls = calls
	w.n++
}

// next returns the earliest call ending at or before now without removing
// it; ok is false when there is none. It moves the wheel's cursor up to
// now's slot.
func (w *inFlight) next(now time.Duration) (c *completion, ok bool) {
	last := int64(now) >> w.shift
	if w.n == 0 {
		w.cur = max(w.cur, last)
		return nil, false
	}
	for {
		i := w.cur & int64(len(w.slots)-1)
		if sl := &w.slots[i]; sl.head < len(sl.calls) {
			// A slot before now's holds only calls that have ended.
			if c := &sl.calls[sl.head]; c.at <= now {
				return c, true
			}
			return nil, false // the earliest call ends after now, in now's slot
		}
		if w.cur >= last {
			return nil, false
		}
		// Skip to the next non-empty slot, but never past now's: calls
		// started later may end in the slots between.
		w.cur = min(w.cur+w.gap(i), last)
	}
}

// gap returns how many slots from slot index i (empty) to the next
// non-empty one, counting around the ring; at least 1.
func (w *inFlight) gap(i int64) int64 {
	n := int64(len(w.slots))
	j := (i + 1) & (n - 1)
	word := w.occ[j>>6] &^ (1<<(j&63) - 1)
	for k := int64(0); k <= n/64; k++ {
		if word != 0 {
			found := (j>>6)<<6 + int64(bits.TrailingZeros64(word))
			return 1 + (found-j+n)&(n-1)
		}
		j = ((j>>6 + 1) << 6) & (n - 1)
		word = w.occ[j>>6]
	}
	return n // unreachable while n > 0
}

// pop removes the call next returned.
func (w *inFlight) pop() {
	i := w.cur & int64(len(w.slots)-1)
	sl := &w.slots[i]
	sl.head++
	w.n--
	if sl.head == len(sl.calls) {
		sl.calls, sl.head = sl.calls[:0], 0
		w.occ[i>>6] &^= 1 << (i & 63)
	}
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

	pending inFlight // upstream calls in flight
	window  ring     // completed calls while closed, over the last cfg.Window

	transitions [3]uint64
}

// advance processes the completions due at or before now, in time order,
// with the open → half-open timer interleaved.
// now is the time since the model's start.
func (b *breaker) advance(now time.Duration) {
	for {
		p, ok := b.pending.next(now)
		if !ok {
			break
		}
		c := *p
		b.pending.pop()
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
		b.window.push(outcome{at: c.at, failed: c.failed})
		b.window.dropUntil(c.at - b.cfg.Window)
		n := b.window.size
		if n >= b.cfg.MinRequests && float64(b.window.failures) >= b.cfg.FailureRatio*float64(n) {
			b.open(c.at)
		}
	case sim.CircuitHalfOpen:
		if !c.probe || c.gen != b.gen {
			return // a call from before the circuit opened
		}
		b.probesInFlight--
		if c.failed {
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
	b.pending.push(completion{at: end, gen: b.gen, failed: failed, probe: probe})
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}
