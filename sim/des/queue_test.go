package des

import (
	"math/rand/v2"
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
		if at, ok := q.peek(); !ok || at != w.at {
			t.Fatalf("peek() before pop %d = %d, %v; want %d, true", i, at, ok, w.at)
		}
		e := q.pop()
		if e.at != w.at || int64(e.index()) != w.slot || e.kind() != evSend {
			t.Fatalf("pop %d = (at %d, slot %d, kind %d); want (at %d, slot %d, kind %d)", i, e.at, e.index(), e.kind(), w.at, w.slot, evSend)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len() after draining = %d; want 0", q.Len())
	}
	if _, ok := q.peek(); ok {
		t.Fatal("peek() on an empty queue reported an event")
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
