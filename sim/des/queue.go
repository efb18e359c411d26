package des

import (
	"math"
	"math/bits"
)

// event is one scheduled happening in virtual time. It is a 24-byte value
// type: the queue stores events inline, so scheduling allocates nothing once
// the queue's backing array has grown to the run's peak size.
type event struct {
	at  int64  // virtual nanoseconds since the run start
	seq uint64 // scheduling order, stamped by queue.push
	// ref packs the event's kind (top 2 bits) and its index: the tenant
	// index for arrivals, the request slot for attempt events.
	ref uint32
}

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evArrival  eventKind = iota // the tenant's next logical request arrives
	evSend                      // a request's next attempt is sent (after a backoff delay)
	evComplete                  // an attempt's response arrives
)

const (
	kindShift = 30
	indexMask = 1<<kindShift - 1
)

// newEvent returns an event of kind k at virtual offset at about index i (a
// tenant for arrivals, a slot otherwise); i must be below 2^30.
func newEvent(at int64, k eventKind, i int32) event {
	return event{at: at, ref: uint32(k)<<kindShift | uint32(i)}
}

// kind returns what the event does.
func (e *event) kind() eventKind { return eventKind(e.ref >> kindShift) }

// index returns the event's tenant (arrivals) or slot (attempt events).
func (e *event) index() int32 { return int32(e.ref & indexMask) }

// before orders events by time, then by scheduling order, so that equal
// times fire first-scheduled first and a run is deterministic.
func (e *event) before(o *event) bool {
	return e.at < o.at || (e.at == o.at && e.seq < o.seq)
}

// arity is the heaps' fan-out: a 4-ary heap is half as deep as a binary
// one, and a node's four children share one or two cache lines.
const arity = 4

// heap4 is a 4-ary min-heap of events ordered by (at, seq). Unlike
// container/heap it is typed, so pushes and pops neither box nor allocate
// once its backing array has grown. The zero value is empty.
type heap4 []event

func (h *heap4) push(e event) {
	*h = append(*h, e)
	items := *h
	i := len(items) - 1
	for i > 0 {
		p := (i - 1) / arity
		if !e.before(&items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = e
}

// pop removes and returns the least event; h must not be empty.
func (h *heap4) pop() event {
	items := *h
	n := len(items) - 1
	top, e := items[0], items[n]
	items = items[:n]
	*h = items
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		m := c
		for j, end := c+1, min(c+arity, n); j < end; j++ {
			if items[j].before(&items[m]) {
				m = j
			}
		}
		if !items[m].before(&e) {
			break
		}
		items[i] = items[m]
		i = m
	}
	items[i] = e
	return top
}

// Calendar geometry: slots of 2^slotShift ns (≈ 16.8 ms), a ring of
// wheelSlots of them (≈ 68.7 s ahead).
const (
	slotShift  = 24
	wheelSlots = 4096
	wheelMask  = wheelSlots - 1
)

// queue is the event queue: a calendar of time slots in front of two
// sorted runs and a small heap. When the queue opens a slot it sorts the
// slot's events by (at, seq) into run, consumed from its front; an event
// pushed into the open slot afterwards is appended to run when it comes at
// or after run's last (a burst's answers when the burst ends the slot),
// else to tail when it comes at or after tail's last (a burst's answers,
// due one round trip after sends still in run, arrive in order), else it
// goes to near, a 4-ary heap; pop takes the earliest of the three fronts
// (nsecond, the count of tail and near, keeps the usual case, both empty,
// to one comparison). A slot
// opens when the open one is spent, but never past the caller's next event
// from elsewhere (popBefore's), so that the slot stays the one of the
// present. Events of the next wheelSlots−1 slots wait
// unsorted in their slot of the wheel (an append); later ones wait in far,
// another heap. A retry scheduled seconds ahead thus costs an append and,
// later, its share of one sort of its slot, rather than a push and a pop on
// a heap of every pending event; and the many events of equal time that
// Retry-After synchronises into one slot come out of the sorted run in
// order instead of through a deep heap of ties. Events are virtual times ≥
// the last popped one, as in any discrete-event simulation.
//
// The zero value is an empty queue. Once its slices have grown to the run's
// peak, pushes and pops allocate nothing. It is not safe for concurrent use.
type queue struct {
	run  []event // the open slot's events when it opened, sorted; run[head:] pending
	head int
	near heap4 // events pushed into the open slot after it opened, out of order
	// tail holds, in order, the events pushed into the open slot before
	// run's end but at or after tail's own last (a burst's answers, one
	// round trip after sends that are still in run); tail[th:] pending.
	tail []event
	th   int
	// nsecond counts the events in tail and near.
	nsecond int
	wheel   []slotList // wheelSlots lists, allocated on first use
	// occupied has bit i set when wheel slot i's list holds events, so
	// that advance jumps over empty slots (a sparse scenario has many).
	occupied [wheelSlots / 64]uint64
	nodes    []node // the lists' nodes; free ones are chained from free
	free     int32  // first free node, -1 if none (set when wheel is allocated)
	inRing   int    // events in wheel
	// ringFrom is a slot before which no wheel slot holds events (when
	// inRing > 0): advance skips the wheel's scan when it lies past the
	// caller's limit, the usual case between two arrivals.
	ringFrom int64
	far      heap4
	cur      int64 // the open slot: at>>slotShift of the events in run, tail and near
	// scratch is sortByTime's buffer for a large slot.
	scratch []event
	seq     uint64
	n       int
}

// Len returns the number of scheduled events.
func (q *queue) Len() int { return q.n }

// push schedules e, stamping it with the next sequence number. e.at must not
// be before the last popped event's time.
func (q *queue) push(e event) {
	e = q.stamp(e)
	q.n++
	s := e.at >> slotShift
	switch {
	case s <= q.cur && (len(q.run) == 0 || e.at >= q.run[len(q.run)-1].at):
		// Into the open slot, not before the end of its sorted run (e
		// has the newest seq, so it goes after any equal time): appending
		// keeps the run sorted. This is how the answers of a burst come:
		// retries that Retry-After synchronised into one slot are
		// answered 429 or 503 after the same round trip, in order.
		q.run = append(q.run, e)
	case s <= q.cur && (q.th == len(q.tail) || e.at >= q.tail[len(q.tail)-1].at):
		q.tail = append(q.tail, e)
		q.nsecond++
	case s <= q.cur:
		q.near.push(e)
		q.nsecond++
	case s-q.cur < wheelSlots:
		if q.inRing == 0 || s < q.ringFrom {
			q.ringFrom = s
		}
		q.ring(s&wheelMask, e)
	default:
		q.far.push(e)
	}
}

// slotList is a wheel slot's events, a list of nodes (-1: none).
type slotList struct{ head, tail int32 }

// node is one event waiting in a wheel slot.
type node struct {
	e    event
	next int32 // next node of the slot's list, or of the free list; -1 ends
}

// ring appends e to wheel slot i, taking a free node or growing the node
// slab (which is shared by all slots, so it grows to the run's peak number
// of waiting events and no further).
func (q *queue) ring(i int64, e event) {
	if q.wheel == nil {
		q.wheel = make([]slotList, wheelSlots)
		for j := range q.wheel {
			q.wheel[j] = slotList{-1, -1}
		}
		q.free = -1
	}
	n := q.free
	if n >= 0 {
		q.free = q.nodes[n].next
		q.nodes[n] = node{e: e, next: -1}
	} else {
		n = int32(len(q.nodes))
		q.nodes = append(q.nodes, node{e: e, next: -1})
	}
	l := &q.wheel[i]
	if l.tail < 0 {
		l.head = n
		q.occupied[i>>6] |= 1 << (i & 63)
	} else {
		q.nodes[l.tail].next = n
	}
	l.tail = n
	q.inRing++
}

// stamp returns e stamped with the next sequence number without queueing
// it: the engine keeps its arrivals apart (see arrivals) yet in the
// queue's single (at, seq) order.
func (q *queue) stamp(e event) event {
	q.seq++
	e.seq = q.seq
	return e
}

// noLimit is inRun's until when nothing else is pending: any slot may open.
const noLimit = math.MaxInt64

// inRun reports whether the earliest event is run[head] (else second()),
// opening the next slot holding events first when run, tail and near are
// empty, but none whose events all come after the virtual time until; ok is
// false when no event comes at or before until's slot (the queue may still
// hold later ones).
func (q *queue) inRun(until int64) (inRun, ok bool) {
	if q.nsecond == 0 {
		if q.head == len(q.run) && !q.advance(until>>slotShift) {
			return false, false
		}
		return q.head < len(q.run), true
	}
	return q.head < len(q.run) && q.run[q.head].before(q.second()), true
}

// popBefore removes and returns the earliest event when it comes before a
// (by time, then sequence number), the caller's next event from elsewhere:
// an arrival, stamped by the queue. Otherwise ok is false and a comes
// first. When the open slot is spent, popBefore opens the next slot
// holding events but not one past a's, so that the events the arrival
// then schedules fall into the calendar rather than into near (opening a
// slot seconds ahead would leave every event scheduled before it to near's
// heap).
func (q *queue) popBefore(a *event) (e event, ok bool) {
	if q.n == 0 {
		// Nothing queued: the open slot follows the caller's clock.
		q.cur = max(q.cur, a.at>>slotShift)
		return event{}, false
	}
	inRun, some := q.inRun(a.at)
	switch {
	case !some:
		return event{}, false
	case inRun:
		if !q.run[q.head].before(a) {
			return event{}, false
		}
		q.n--
		q.head++
		return q.run[q.head-1], true
	case !q.second().before(a):
		return event{}, false
	}
	q.n--
	return q.popSecond(), true
}

// pop removes and returns the earliest event, the first scheduled among
// equal times. It must not be called on an empty queue.
func (q *queue) pop() event {
	inRun, _ := q.inRun(noLimit) // before counting e out: advance stops at an empty queue
	q.n--
	if inRun {
		q.head++
		return q.run[q.head-1]
	}
	return q.popSecond()
}

// nearFirst reports whether near's front comes before tail's (one of them
// is not empty).
func (q *queue) nearFirst() bool {
	return q.th == len(q.tail) || (len(q.near) > 0 && q.near[0].before(&q.tail[q.th]))
}

// second returns the earlier of tail's and near's fronts.
func (q *queue) second() *event {
	if q.nearFirst() {
		return &q.near[0]
	}
	return &q.tail[q.th]
}

// popSecond removes and returns the earlier of tail's and near's fronts.
func (q *queue) popSecond() event {
	q.nsecond--
	if q.nearFirst() {
		return q.near.pop()
	}
	q.th++
	return q.tail[q.th-1]
}

// advance opens the next slot holding events, up to slot limit: it sorts
// the slot's events into run and reports true, or reports false, with the
// open slot at most limit, when no slot up to limit holds any. run, tail and
// near are empty on entry.
func (q *queue) advance(limit int64) bool {
	q.run, q.head = q.run[:0], 0
	q.tail, q.th = q.tail[:0], 0
	if q.cur < limit && (q.inRing == 0 || q.ringFrom > limit) && (len(q.far) == 0 || q.far[0].at>>slotShift > limit) {
		// No slot up to limit holds events: open limit's, as the loop
		// below would after scanning for them.
		q.cur = limit
		return false
	}
	for len(q.run) == 0 {
		switch {
		case q.cur >= limit || q.n == 0:
			return false
		case q.inRing == 0:
			// Nothing in the ring: jump to the earliest far event's slot.
			q.cur = min(limit, max(q.cur+1, q.far[0].at>>slotShift))
		default:
			// The next slot holding events: the wheel's, or far's when
			// earlier (far's events are all past the open slot).
			next := q.nextOccupied(q.cur+1, limit)
			q.ringFrom = next
			if len(q.far) > 0 {
				next = min(next, q.far[0].at>>slotShift)
			}
			q.cur = min(limit, max(q.cur+1, next))
		}
		// Far events first, then the slot's list: every far event of a slot
		// was pushed before any event of its list (a slot enters the wheel's
		// reach once, as time advances), and each comes in (at, seq) order
		// (the heap) or seq order (the list). So a stable sort by time alone
		// leaves events of equal time in seq order.
		for len(q.far) > 0 && q.far[0].at>>slotShift <= q.cur {
			q.run = append(q.run, q.far.pop())
		}
		if q.inRing > 0 {
			w := q.cur & wheelMask
			l := &q.wheel[w]
			q.occupied[w>>6] &^= 1 << (w & 63)
			for i := l.head; i >= 0; {
				nd := &q.nodes[i]
				q.run = append(q.run, nd.e)
				next := nd.next
				nd.next, q.free = q.free, i
				i = next
				q.inRing--
			}
			l.head, l.tail = -1, -1
		}
	}
	sortByTime(q.run, &q.scratch)
	return true
}

// nextOccupied returns the first slot at or after s whose wheel list holds
// events, or, when none does up to slot limit, a slot past limit. The
// wheel must hold some, all in the wheelSlots−1 slots after the open one,
// and s must be one of those or the next.
func (q *queue) nextOccupied(s, limit int64) int64 {
	i := s & wheelMask
	w := int(i >> 6)
	if word := q.occupied[w] >> (i & 63); word != 0 {
		return s + int64(bits.TrailingZeros64(word))
	}
	next := s + 64 - i&63 // the first slot of the next word
	for range len(q.occupied) {
		if next > limit {
			break
		}
		w = (w + 1) % len(q.occupied)
		if word := q.occupied[w]; word != 0 {
			return next + int64(bits.TrailingZeros64(word))
		}
		next += 64
	}
	return next
}

// sortByTime sorts events by time, stably: an insertion sort for the few
// events a slot usually holds (no comparison function to call), a natural
// merge sort beyond that, with scratch (grown as needed, kept by the
// caller) as its buffer. A large slot is mostly the retries that
// Retry-After sent to the same second: a few ascending runs (each the
// answers of one burst, delayed by the same whole seconds) merged in
// ⌈log₂ runs⌉ passes.
func sortByTime(run []event, scratch *[]event) {
	if len(run) <= 48 {
		for i := 1; i < len(run); i++ {
			e := run[i]
			j := i
			for j > 0 && run[j-1].at > e.at {
				run[j] = run[j-1]
				j--
			}
			run[j] = e
		}
		return
	}
	if cap(*scratch) < len(run) {
		*scratch = make([]event, len(run))
	}
	src, dst := run, (*scratch)[:len(run)]
	for {
		// One pass: merge each pair of adjacent ascending runs of src
		// into dst, stably (the left run's event first among equal times).
		runs := 0
		for lo := 0; lo < len(src); {
			mid := ascending(src, lo)
			hi := mid
			if mid < len(src) {
				hi = ascending(src, mid)
			}
			mergeByTime(dst[lo:hi], src[lo:mid], src[mid:hi])
			runs++
			lo = hi
		}
		src, dst = dst, src
		if runs == 1 {
			break
		}
	}
	if &src[0] != &run[0] {
		copy(run, src)
	}
}

// ascending returns the end of the ascending (by time) run of s starting at
// lo.
func ascending(s []event, lo int) int {
	i := lo + 1
	for i < len(s) && s[i-1].at <= s[i].at {
		i++
	}
	return i
}

// mergeByTime merges the ascending runs a and b into dst (len(a)+len(b)
// events), a's first among equal times.
func mergeByTime(dst, a, b []event) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if b[j].at < a[i].at {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}
