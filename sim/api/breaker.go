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
	seq    uint64 // start order: calls ending at the same instant end in it
	gen    uint32 // breaker generation when the call started (wraps harmlessly)
	failed bool
	probe  bool // a half-open probe
}

// before orders calls by end time, then start order.
func (c *completion) before(d *completion) bool {
	return c.at < d.at || (c.at == d.at && c.seq < d.seq)
}

// Geometry of inFlight's wheel: 256 slots of 2^20 ns (≈ 1 ms), ≈ 268 ms
// ahead, and room for 4 calls per slot in one array (one slot's calls
// stay within two cache lines). The whole wheel is ≈ 32 KiB, small enough
// to stay in the cache between decisions; most calls end within it (at the
// default latency, median 80 ms and p99 400 ms, about 96 %).
const (
	wheelShift = 20
	wheelSlots = 256
	slotCalls  = 4
)

// inFlight is the upstream calls in flight, in the order the breaker must
// see them end: a timing wheel of 1 ms slots over the next ≈ 268 ms, each
// slot holding its calls sorted by (end, start order) and a bitmap marking
// the non-empty ones, and a heap for calls ending later. Starting a call is
// usually an insertion into a slot holding a call or two, and finding the
// next call to end a bitmap scan: cheaper than a heap of every call in
// flight, which was the largest part of a decision. Not safe for
// concurrent use (the Model's mutex guards it).
type inFlight struct {
	slots [wheelSlots]wheelSlot
	occ   [wheelSlots / 64]uint64 // bit i set when slots[i] holds calls
	cur   int64                   // slot number (at>>wheelShift) of the last advance; no call in the wheel ends before it
	n     int                     // calls in the wheel
	far   callHeap                // calls ending beyond the wheel
	seq   uint64
}

// wheelSlot is one slot's calls, consumed from head.
type wheelSlot struct {
	calls []completion
	head  int
}

// newInFlight returns an empty set of calls in flight.
func newInFlight() *inFlight {
	w := &inFlight{}
	arena := make([]completion, wheelSlots*slotCalls)
	for i := range w.slots {
		w.slots[i].calls = arena[i*slotCalls : i*slotCalls : (i+1)*slotCalls]
	}
	return w
}

// push adds c, which ends at or after the last advance's now.
func (w *inFlight) push(c completion) {
	w.seq++
	c.seq = w.seq
	s := int64(c.at) >> wheelShift
	if s-w.cur >= wheelSlots {
		w.far.push(c)
		return
	}
	i := s & (wheelSlots - 1)
	sl := &w.slots[i]
	if sl.head == len(sl.calls) {
		sl.calls, sl.head = sl.calls[:0], 0
		w.occ[i>>6] |= 1 << (i & 63)
	}
	// Insert after every call ending at or before c (usually at the end:
	// c started last).
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
// it, and whether it waits in far; ok is false when there is none. It
// moves the wheel up to now's slot.
func (w *inFlight) next(now time.Duration) (c *completion, far, ok bool) {
	c = w.wheelNext(now)
	if len(w.far) > 0 && w.far[0].at <= now && (c == nil || w.far[0].before(c)) {
		return &w.far[0], true, true
	}
	return c, false, c != nil
}

// wheelNext is next among the wheel's calls.
func (w *inFlight) wheelNext(now time.Duration) *completion {
	last := int64(now) >> wheelShift
	if w.n == 0 {
		w.cur = max(w.cur, last)
		return nil
	}
	for {
		i := w.cur & (wheelSlots - 1)
		if sl := &w.slots[i]; sl.head < len(sl.calls) {
			// A slot before now's holds only calls that have ended.
			if c := &sl.calls[sl.head]; c.at <= now {
				return c
			}
			return nil // the earliest call ends after now, in now's slot
		}
		if w.cur >= last {
			return nil
		}
		// Skip to the next non-empty slot, but never past now's: calls
		// started later may end in the slots between.
		w.cur = min(w.cur+w.gap(i), last)
	}
}

// gap returns how many slots from slot index i (empty) to the next
// non-empty one, counting around the ring; at least 1.
func (w *inFlight) gap(i int64) int64 {
	j := (i + 1) & (wheelSlots - 1)
	word := w.occ[j>>6] &^ (1<<(j&63) - 1)
	for range len(w.occ) + 1 {
		if word != 0 {
			found := (j>>6)<<6 + int64(bits.TrailingZeros64(word))
			return 1 + (found-j+wheelSlots)&(wheelSlots-1)
		}
		j = ((j>>6 + 1) << 6) & (wheelSlots - 1)
		word = w.occ[j>>6]
	}
	return wheelSlots // unreachable while n > 0
}

// pop removes the call next returned (far says where it was).
func (w *inFlight) pop(far bool) {
	if far {
		w.far.pop()
		return
	}
	i := w.cur & (wheelSlots - 1)
	sl := &w.slots[i]
	sl.head++
	w.n--
	if sl.head == len(sl.calls) {
		sl.calls, sl.head = sl.calls[:0], 0
		w.occ[i>>6] &^= 1 << (i & 63)
	}
}

// callHeap is a binary min-heap of calls by (end, start order),
// slice-backed (no container/heap boxing).
type callHeap []completion

func (h *callHeap) push(c completion) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !c.before(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = c
}

func (h *callHeap) pop() completion {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	*h = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && s[r].before(&s[l]) {
			l = r
		}
		if !s[l].before(&x) {
			break
		}
		s[i] = s[l]
		i = l
	}
	if n > 0 {
		s[i] = x
	}
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

	pending *inFlight // upstream calls in flight
	window  ring      // completed calls while closed, over the last cfg.Window

	transitions [3]uint64
}

// advance processes the completions due at or before now, in time order,
// with the open → half-open timer interleaved.
// now is the time since the model's start.
func (b *breaker) advance(now time.Duration) {
	for {
		p, far, ok := b.pending.next(now)
		if !ok {
			break
		}
		c := *p
		b.pending.pop(far)
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
