package des

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

// arity is the queue's fan-out: a 4-ary heap is half as deep as a binary
// one, and a node's four children share one or two cache lines.
const arity = 4

// queue is a 4-ary min-heap of events ordered by (at, seq). Unlike
// container/heap it is typed, so pushes and pops neither box nor allocate.
// The zero value is an empty queue. It is not safe for concurrent use.
type queue struct {
	items []event
	seq   uint64
}

// Len returns the number of scheduled events.
func (q *queue) Len() int { return len(q.items) }

// push schedules e, stamping it with the next sequence number.
func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.items = append(q.items, e)
	q.up(len(q.items) - 1)
}

// pop removes and returns the earliest event. It must not be called on an
// empty queue.
func (q *queue) pop() event {
	n := len(q.items) - 1
	top := q.items[0]
	last := q.items[n]
	q.items = q.items[:n]
	if n > 0 {
		q.down(last)
	}
	return top
}

// peek returns the earliest event's time; ok is false when the queue is empty.
func (q *queue) peek() (at int64, ok bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

func (q *queue) up(i int) {
	items := q.items
	e := items[i]
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

// down sifts e down from the root's place.
func (q *queue) down(e event) {
	items := q.items
	n := len(items)
	i := 0
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		// The least of up to arity children.
		m := c
		end := min(c+arity, n)
		for j := c + 1; j < end; j++ {
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
}
