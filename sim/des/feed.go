package des

import (
	"time"

	"github.com/loadsim/loadsim/scenario"
)

// feedBatch is how many arrival times a feed computes ahead at a time.
const feedBatch = 4096

// arrivals is a tenant's arrival sequence as the engine reads it: straight
// from its scenario.ArrivalSeq, or, with Options.Parallel, from batches a
// goroutine of its own computes ahead (a Poisson tenant's exponential draws
// then cost the engine's goroutine nothing). Both give the same times.
type arrivals struct {
	seq   *scenario.ArrivalSeq
	count uint64 // arrivals returned so far

	// The feed, when there is one: batch[i:] is unread; a batch shorter
	// than feedBatch is the last one.
	batch []time.Duration
	i     int
	last  bool
	full  chan []time.Duration
	free  chan []time.Duration
	stop  chan struct{}
	done  chan struct{}
}

// newArrivals reads seq, ahead on a goroutine when feed is set; stop it
// with close.
func newArrivals(seq *scenario.ArrivalSeq, feed bool) *arrivals {
	a := &arrivals{seq: seq}
	if !feed {
		return a
	}
	a.full = make(chan []time.Duration, 2)
	a.free = make(chan []time.Duration, 3)
	a.stop = make(chan struct{})
	a.done = make(chan struct{})
	for range 3 {
		a.free <- make([]time.Duration, 0, feedBatch)
	}
	go a.produce()
	return a
}

// produce fills batches until the sequence ends or close stops it.
func (a *arrivals) produce() {
	defer close(a.done)
	for {
		var b []time.Duration
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		b = b[:0]
		for len(b) < feedBatch {
			d, ok := a.seq.Next()
			if !ok {
				break
			}
			b = append(b, d)
		}
		select {
		case a.full <- b:
		case <-a.stop:
			return
		}
		if len(b) < feedBatch {
			return
		}
	}
}

// next returns the next arrival's time, or false when there are no more.
func (a *arrivals) next() (time.Duration, bool) {
	if a.full == nil {
		d, ok := a.seq.Next()
		if ok {
			a.count++
		}
		return d, ok
	}
	if a.i == len(a.batch) {
		if a.last {
			return 0, false
		}
		if a.batch != nil {
			a.free <- a.batch
		}
		a.batch, a.i = <-a.full, 0
		a.last = len(a.batch) < feedBatch
		if len(a.batch) == 0 {
			return 0, false
		}
	}
	d := a.batch[a.i]
	a.i++
	a.count++
	return d, true
}

// close stops the feed's goroutine, if any, and waits for it.
func (a *arrivals) close() {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	}
}
