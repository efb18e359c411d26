package des

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestQueueOrdersByTimeThenSchedulingOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var q queue
	type key struct{ at, slot int64 }
	var want []key
	for i := 0; i < 5000; i++ {
		at := rng.Int64N(200) // many ties, to exercise the seq tie-break
		q.push(newEvent(at, evSend, int32(i)))
		want = append(want, key{at, int64(i)})
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].at < want[j].at })
	for i, w := range want {
		if e := peek(&q); e == nil || e.at != w.at {
			t.Fatalf("peek() before pop %d = %v; want an event at %d", i, e, w.at)
		}
		e := q.pop()
		if e.at != w.at || int64(e.index()) != w.slot || e.kind() != evSend {
			t.Fatalf("pop %d = (at %d, slot %d, kind %d); want (at %d, slot %d, kind %d)", i, e.at, e.index(), e.kind(), w.at, w.slot, evSend)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len() after draining = %d; want 0", q.Len())
	}
	if e := peek(&q); e != nil {
		t.Fatalf("peek() on an empty queue = %+v; want nil", e)
	}
}

func TestQueueInterleavedPushPop(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var q queue
	now := int64(0)
	for i := 0; i < 20000; i++ {
		if q.Len() == 0 || rng.IntN(3) > 0 {
			q.push(event{at: now + rng.Int64N(1000)})
			continue
		}
		e := q.pop()
		if e.at < now {
			t.Fatalf("pop() = %d after an event at %d: time went backwards", e.at, now)
		}
		now = e.at
	}
}

func BenchmarkQueuePushPop(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	var q queue
	for i := 0; i < 10000; i++ {
		q.push(event{at: rng.Int64N(1e9)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := q.pop()
		e.at += rng.Int64N(1e9)
		q.push(e)
	}
}

// TestQueueMatchesReferenceOrder interleaves pushes and pops over time
// spreads from nanoseconds to hours (the current slot, the wheel, far
// events, jumps over empty stretches) and checks every pop against a sorted
// reference.
func TestQueueMatchesReferenceOrder(t *testing.T) {
	t.Parallel()
	spreads := []int64{ // upper bound of the delay of each push, ns
		100,                 // ties and the current slot only
		int64(50e6),         // a few slots ahead
		int64(90e9),         // beyond the wheel's ≈ 68.7 s
		int64(2 * 3600e9),   // hours: far events, jumps
		int64(1) << 24 << 1, // exactly two slots
	}
	for _, spread := range spreads {
		rng := rand.New(rand.NewPCG(uint64(spread), 9))
		var q queue
		var ref []event // pending, as (at, seq) with seq = push order
		seq := uint64(0)
		now := int64(0)
		for i := 0; i < 30000; i++ {
			if q.Len() != len(ref) {
				t.Fatalf("spread %d: Len() = %d; want %d", spread, q.Len(), len(ref))
			}
			if len(ref) == 0 || rng.IntN(5) < 3 {
				d := rng.Int64N(spread + 1)
				if rng.IntN(4) == 0 {
					d = 0 // a tie with now
				}
				seq++
				q.push(newEvent(now+d, evSend, int32(seq%indexMask)))
				ref = insertSorted(ref, event{at: now + d, seq: seq})
				continue
			}
			want := ref[0]
			ref = ref[1:]
			if e := peek(&q); e == nil || e.at != want.at {
				t.Fatalf("spread %d, step %d: peek() = %v; want an event at %d", spread, i, e, want.at)
			}
			got := q.pop()
			if got.at != want.at || got.seq != want.seq {
				t.Fatalf("spread %d, step %d: pop() = (at %d, seq %d); want (at %d, seq %d)", spread, i, got.at, got.seq, want.at, want.seq)
			}
			now = got.at
		}
	}
}

// TestQueueFarThenRingTie: an event pushed beyond the wheel and one pushed
// later into the wheel for the same instant come out in push order, as do
// ties within the slot's list and with an event pushed into the open slot.
func TestQueueFarThenRingTie(t *testing.T) {
	t.Parallel()
	var q queue
	const at = int64(100e9)                  // beyond the wheel from 0
	q.push(newEvent(at, evSend, 1))          // far
	q.push(newEvent(int64(50e9), evSend, 0)) // ring
	if e := q.pop(); e.index() != 0 {
		t.Fatalf("first pop = slot %d; want 0", e.index())
	}
	q.push(newEvent(at, evSend, 2)) // now within the wheel: ring
	q.push(newEvent(at-1, evSend, 3))
	q.push(newEvent(at, evSend, 4))
	var got []int32
	for q.Len() > 0 {
		e := q.pop()
		got = append(got, e.index())
		if e.index() == 3 {
			q.push(newEvent(at, evSend, 5)) // into the open slot: near
		}
	}
	if want := []int32{3, 1, 2, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("pop order = %v; want %v (time, then push order)", got, want)
	}
}

// TestSortByTime: both of sortByTime's paths (the insertion sort and the
// natural merge sort) sort stably by time, ties keeping their order, for
// random events and for a few interleaved ascending runs (a large slot's
// usual shape), with a scratch buffer that starts empty or too small.
func TestSortByTime(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var scratch []event
	for n := range 400 {
		for _, runs := range []int{0, 1, 2, 3, 7} { // 0: random times
			run := make([]event, n)
			for i := range run {
				if runs == 0 {
					run[i] = event{at: rng.Int64N(8), seq: uint64(i)} // many ties
				} else {
					// runs ascending sequences, each event appended to a
					// random one of them.
					r := rng.IntN(runs)
					run[i] = event{at: int64(r*1000 + i/runs + rng.IntN(2)), seq: uint64(i)}
				}
			}
			if runs > 0 {
				slices.SortStableFunc(run, func(a, b event) int { return int(a.at/1000 - b.at/1000) })
				// Now grouped by run; interleave the groups' halves so
				// that runs cross.
				half := len(run) / 2
				run = append(run[half:], run[:half]...)
			}
			want := slices.Clone(run)
			slices.SortStableFunc(want, func(a, b event) int { return int(a.at - b.at) })
			sortByTime(run, &scratch)
			if !slices.Equal(run, want) {
				t.Fatalf("sortByTime of %d events (%d runs) = %v; want %v", n, runs, run, want)
			}
		}
	}
}

// TestQueueWithArrivals drives the queue as Run does, with a stream of
// events from elsewhere (arrivals, stamped by the queue) that popBefore
// keeps the calendar from opening slots past: the queue's events and the
// arrivals must come out in one (at, seq) order, whatever the spread of
// delays (events appended to the open slot's run, in near, in the wheel,
// beyond it).
func TestQueueWithArrivals(t *testing.T) {
	t.Parallel()
	for _, spread := range []int64{0, 1e6, 20e6, 500e6, 5e9, 200e9} {
		rng := rand.New(rand.NewPCG(uint64(spread), 11))
		var q queue
		var ref []event  // the queue's pending events, sorted by (at, seq)
		seq := uint64(0) // mirrors q.seq: pushes and stamps both take one
		now := int64(0)
		gap := func() int64 { return rng.Int64N(max(spread/4, 1)) }
		seq++
		arrival := q.stamp(newEvent(gap(), evArrival, 0))
		for i := 0; i < 30000; i++ {
			if len(ref) == 0 || rng.IntN(5) < 3 {
				d := rng.Int64N(spread + 1)
				if rng.IntN(3) == 0 {
					d = spread / 50 // a constant round trip: in order
				}
				seq++
				q.push(newEvent(now+d, evSend, int32(seq%indexMask)))
				ref = insertSorted(ref, event{at: now + d, seq: seq})
				continue
			}
			got, ok := q.popBefore(&arrival)
			if arrival.before(&ref[0]) {
				if ok {
					t.Fatalf("spread %d, step %d: popBefore(at %d, seq %d) = (at %d, seq %d); want the arrival first (the reference's next is at %d, seq %d)",
						spread, i, arrival.at, arrival.seq, got.at, got.seq, ref[0].at, ref[0].seq)
				}
				now = arrival.at
				seq++
				arrival = q.stamp(newEvent(now+gap(), evArrival, 0))
				continue
			}
			want := ref[0]
			ref = ref[1:]
			if !ok || got.at != want.at || got.seq != want.seq {
				t.Fatalf("spread %d, step %d: popBefore(at %d, seq %d) = (at %d, seq %d), %v; want (at %d, seq %d)", spread, i, arrival.at, arrival.seq, got.at, got.seq, ok, want.at, want.seq)
			}
			now = want.at
		}
	}
}

// peek returns the queue's earliest event without removing it, nil when it
// is empty.
func peek(q *queue) *event {
	if q.Len() == 0 {
		return nil
	}
	if inRun, _ := q.inRun(noLimit); inRun {
		return &q.run[q.head]
	}
	return q.second()
}

// TestQueuePopWithoutPeek: pop opens the next slot itself, also for the
// last event, waiting in the wheel or beyond it.
func TestQueuePopWithoutPeek(t *testing.T) {
	t.Parallel()
	for _, at := range []int64{5, 1e9, 500e9} { // the open slot, the wheel, far
		var q queue
		q.push(newEvent(at, evSend, 1))
		if e := q.pop(); e.at != at || q.Len() != 0 {
			t.Errorf("pop() = at %d with %d left; want at %d, none left", e.at, q.Len(), at)
		}
	}
}

// insertSorted inserts e into ref, sorted by (at, seq), after every event
// not after it: the reference queue of the tests.
func insertSorted(ref []event, e event) []event {
	j := sort.Search(len(ref), func(k int) bool { return e.before(&ref[k]) })
	ref = append(ref, event{})
	copy(ref[j+1:], ref[j:])
	ref[j] = e
	return ref
}
