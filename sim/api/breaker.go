package api

import (
	"math"
	"slices"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// completion is an upstream call that ends at `at` (time since the model's
// start: plain int64 comparisons keep the hot path cheap). The rest is
// packed in tag, so that the heap moves a completion as two words: the
// breaker generation when the call started (wrapping harmlessly) in the
// high 32 bits, the call's start order (30 bits, wrapping) and whether it
// is a half-open probe (bit 1) and whether it failed (bit 0) in the low 32.
type completion struct {
	at  time.Duration
	tag uint64
}

// newCompletion returns a call ending at at, started in breaker generation
// gen as the seq-th call.
func newCompletion(at time.Duration, gen, seq uint32, failed, probe bool) completion {
	tag := uint64(gen)<<32 | uint64(seq<<2)
	if probe {
		tag |= 2
	}
	if failed {
		tag |= 1
	}
	return completion{at: at, tag: tag}
}

// before orders completions by time, then calls ending at the same instant
// in the order they started: their 30-bit start orders compared modulo
// 2^30, which holds while fewer than 2^29 calls are in flight together.
func (c completion) before(o completion) bool {
	return c.at < o.at || (c.at == o.at && int32(uint32(c.tag)-uint32(o.tag)) < 0)
}

func (c completion) failed() bool { return c.tag&1 != 0 }
func (c completion) probe() bool  { return c.tag&2 != 0 }
func (c completion) gen() uint32  { return uint32(c.tag >> 32) }

// completionHeap is a min-heap of completions by completion.before,
// slice-backed (no container/heap boxing). push and pop move a hole instead
// of swapping.
type completionHeap []completion

func (h *completionHeap) push(c completion) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !c.before(s[p]) {
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
		c := l
		if s[l+1].before(s[l]) {
			c++
		}
		if !s[c].before(x) {
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

// lazyAfter is how many windows without a failed call the closed breaker
// waits before it goes lazy (see breaker): going eager again sorts a
// window's calls, so a breaker that sees a failure now and then stays eager.
const lazyAfter = 3

// minCompact is the fewest success times a lazy breaker keeps before it
// drops those that left the window.
const minCompact = 1024

// breaker is the server-side circuit breaker over completed upstream calls
// ("one model, two clocks": calls start at Handle's now and complete at
// now+latency). Not safe for concurrent use (the Model's mutex guards it).
//
// While it is closed with no failed call in flight and none completed in
// the last lazyAfter windows, it is lazy: a successful call can then matter
// only as one of the calls that a later failure's window counts, so the
// end times of successes wait unsorted in calls (completed or not), with no
// heap push and pop each. The first failed call started makes it eager
// again: the successes that ended in the last window enter the window in
// time order, those still in flight the heap, exactly as if they had gone
// through both; then it goes on as always.
type breaker struct {
	cfg       Circuit
	state     sim.CircuitState
	gen       uint32        // incremented on every transition
	openUntil time.Duration // since the model's start

	probesAdmitted, probesOK, probesInFlight int

	pending completionHeap
	seq     uint32 // start order of the next call into pending
	window  ring   // completed calls while closed: those of the last cfg.Window, and older ones until complete drops them

	lazy      bool
	calls     []time.Duration // lazy: end times of successful calls, unsorted; those that left the window dropped at compactAt
	compactAt int
	done      []time.Duration // scratch of eager
	failing   int             // failed calls in pending
	lastFail  time.Duration   // end of the latest failed call completed
	lazyGap   time.Duration   // lazyAfter windows (saturated)

	transitions [3]uint64
}

// newBreaker returns a closed breaker, lazy (no call has failed yet).
func newBreaker(cfg Circuit) breaker {
	gap := time.Duration(math.MaxInt64)
	if cfg.Window <= math.MaxInt64/(2*lazyAfter) {
		gap = lazyAfter * cfg.Window
	}
	return breaker{cfg: cfg, lazy: true, compactAt: minCompact, lazyGap: gap, lastFail: math.MinInt64 / 2}
}

// advance processes the completions due at or before now, in time order,
// with the open → half-open timer interleaved.
// now is the time since the model's start.
func (b *breaker) advance(now time.Duration) {
	if b.lazy {
		return // closed, and its successes wait in calls
	}
	for len(b.pending) > 0 && b.pending[0].at <= now {
		c := b.pending.pop()
		if c.failed() {
			b.failing--
			b.lastFail = c.at
		}
		b.tick(c.at)
		b.complete(c)
	}
	b.tick(now)
	if b.state == sim.CircuitClosed && b.failing == 0 && now-b.lastFail >= b.lazyGap {
		b.toLazy(now)
	}
}

// toLazy moves the calls of the window and those in flight (all successes:
// nothing failed for lazyAfter windows and no failed call is in flight)
// into calls. now is the time of the latest advance.
func (b *breaker) toLazy(now time.Duration) {
	from := now - b.cfg.Window
	w := &b.window
	b.calls = b.calls[:0]
	for i := range w.size {
		if o := w.buf[(w.head+i)&(len(w.buf)-1)]; o.at > from {
			b.calls = append(b.calls, o.at)
		}
	}
	// In their heap's order, so that calls ending at the same instant stay
	// in the order they started (calls keeps start order among ties).
	slices.SortFunc(b.pending, func(x, y completion) int {
		switch {
		case x.before(y):
			return -1
		case y.before(x):
			return 1
		}
		return 0
	})
	for _, c := range b.pending {
		b.calls = append(b.calls, c.at)
	}
	b.pending = b.pending[:0]
	w.reset()
	b.lazy = true
	b.compactAt = max(minCompact, 2*len(b.calls))
}

// toEager puts the lazy breaker's successes back where an eager one keeps
// them at now (after advance(now)): those ended in the last window into
// the window in time order, those in flight into pending.
func (b *breaker) toEager(now time.Duration) {
	from := now - b.cfg.Window
	done := b.done[:0]
	for _, end := range b.calls {
		switch {
		case end <= from:
		case end <= now:
			done = append(done, end)
		default:
			b.pending.push(newCompletion(end, b.gen, b.seq, false, false))
			b.seq++
		}
	}
	slices.Sort(done)
	for _, end := range done {
		b.window.push(outcome{at: end})
	}
	b.done, b.calls = done[:0], b.calls[:0]
	b.lazy = false
}

// compact drops the lazy breaker's successes that left the window at now:
// no later failure's window reaches back to them.
func (b *breaker) compact(now time.Duration) {
	from := now - b.cfg.Window
	k := 0
	for _, end := range b.calls {
		if end > from {
			b.calls[k] = end
			k++
		}
	}
	b.calls = b.calls[:k]
	b.compactAt = max(minCompact, 2*k)
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
func (b *breaker) start(now, end time.Duration, failed, probe bool) {
	if probe {
		b.probesAdmitted++
		b.probesInFlight++
	}
	if b.lazy {
		if !failed {
			b.calls = append(b.calls, end)
			if len(b.calls) >= b.compactAt {
				b.compact(now)
			}
			return
		}
		b.toEager(now)
	}
	if failed {
		b.failing++
	}
	b.pending.push(newCompletion(end, b.gen, b.seq, failed, probe))
	b.seq++
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}
