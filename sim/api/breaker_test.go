package api

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestInFlightOrder drives inFlight as the breaker does (advance to now,
// then start calls ending at or after now) with latencies from zero (ties)
// to beyond the wheel (the far heap) and jumps of time over the whole
// wheel, and checks that calls come out in (end, start order) exactly when
// due, against a sorted reference.
func TestInFlightOrder(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		maxLat time.Duration // latency bound
		maxGap time.Duration // bound of the time between two advances
	}{
		{"ties", 0, time.Millisecond}, // every call ends as it starts
		{"within the wheel", 200 * time.Millisecond, time.Millisecond},
		{"beyond the wheel", 3 * time.Second, 5 * time.Millisecond},
		{"jumps", time.Second, 2 * time.Second},                 // gaps longer than the wheel
		{"dense", 30 * time.Millisecond, 50 * time.Microsecond}, // many calls per slot
	} {
		rng := rand.New(rand.NewPCG(7, uint64(tt.maxLat)))
		w := newInFlight()
		type call struct {
			at  time.Duration
			seq int
		}
		var pending []call // sorted by (at, seq)
		now, seq := time.Duration(0), 0
		for step := range 20000 {
			now += time.Duration(rng.Int64N(int64(tt.maxGap) + 1))
			for {
				c, far, ok := w.next(now)
				due := len(pending) > 0 && pending[0].at <= now
				if ok != due {
					t.Fatalf("%s, step %d: next(%v) ok = %v; want %v", tt.name, step, now, ok, due)
				}
				if !ok {
					break
				}
				if want := pending[0]; c.at != want.at || int(c.gen) != want.seq {
					t.Fatalf("%s, step %d: next(%v) = call %d ending %v; want call %d ending %v", tt.name, step, now, c.gen, c.at, want.seq, want.at)
				}
				w.pop(far)
				pending = pending[1:]
			}
			for range rng.IntN(3) {
				lat := time.Duration(0)
				if tt.maxLat > 0 && rng.IntN(4) > 0 { // a quarter end at once: ties
					lat = time.Duration(rng.Int64N(int64(tt.maxLat)))
				}
				seq++
				w.push(completion{at: now + lat, gen: uint32(seq)})
				c := call{now + lat, seq}
				j := sort.Search(len(pending), func(k int) bool { return c.at < pending[k].at })
				pending = append(pending, call{})
				copy(pending[j+1:], pending[j:])
				pending[j] = c
			}
		}
	}
}
