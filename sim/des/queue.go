package des

// event is one scheduled happening in virtual time. It is a small value type:
// the queue stores events inline, so scheduling allocates nothing once the
// queue's backing array has grown to the run's peak size.
type event struct {
	at   int64 // virtual nanoseconds since the run start
	seq  uint64
	kind eventKind
	// tenant is the tenant index for arrivals; slot is the request slot for
	// attempt events.
	tenant int32
	slot   int32
}

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evArrival  eventKind = iota // the tenant's next logical request arrives
	evSend                      // a request's next attempt is sent (after a backoff delay)
	evComplete                  // an attempt's response arrives
)

// before orders events by time, then by scheduling order, so that equal
// times fire first-scheduled first and a run is deterministic.
func (e *event) before(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// queue is a binary min-heap of events ordered by (at, seq). Unlike
// container/heap it is typed, so pushes and pops neither box nor allocate.
// The zero value is an empty queue.
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
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	if n > 0 {
		q.down(0)
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
		p := (i - 1) / 2
		if !e.before(&items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = e
}

func (q *queue) down(i int) {
	items := q.items
	n := len(items)
	e := items[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && items[r].before(&items[c]) {
			c = r
		}
		if !items[c].before(&e) {
			break
		}
		items[i] = items[c]
		i = c
	}
	items[i] = e
}
