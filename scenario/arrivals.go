package scenario

import "time"

// ArrivalSeq is the arrival times of a profile in order, for the simulator:
// exactly the due times Bounded{p, duration} paces a live run with (the same
// arithmetic, the same seed). Next costs O(1) (O(log steps) for a step
// profile, a few Newton steps for a sine) and never allocates. Not safe for
// concurrent use.
type ArrivalSeq struct {
	p    Profile
	end  time.Duration
	k    uint64
	done bool
	ps   *poissonStream // a private stream for a *Poisson, nil otherwise
}

// Arrivals returns the arrivals of p before duration (≤ 0: unbounded). The
// seed of a Poisson profile is the one it was built with (see
// Scenario.Profile); the sequence draws from its own copy of the stream, so
// it neither disturbs nor depends on p's pacer.
func Arrivals(p Profile, duration time.Duration) *ArrivalSeq {
	a := &ArrivalSeq{p: p, end: duration}
	if pp, ok := p.(*Poisson); ok {
		a.ps = newPoissonStream(pp.rate, pp.seed)
	}
	return a
}

// Next returns the next arrival's time from the start of the run, or false
// when there are no more.
func (a *ArrivalSeq) Next() (time.Duration, bool) {
	if a.done {
		return 0, false
	}
	var d time.Duration
	var ok bool
	if a.ps != nil {
		d, ok = a.ps.due(a.k)
	} else {
		d, ok = a.p.Due(a.k)
	}
	if !ok || (a.end > 0 && d >= a.end) {
		a.done = true
		return 0, false
	}
	a.k++
	return d, true
}

// Count returns how many arrivals Next has returned; the last one's index
// (its row in a Trace) is Count()−1.
func (a *ArrivalSeq) Count() uint64 { return a.k }
