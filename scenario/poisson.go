package scenario

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Poisson is a Poisson process of Rate requests per second: the gaps between
// hits are independent exponentials drawn from a PCG seeded with Seed, hit k
// arriving after k+1 gaps. Pace and Due are deterministic functions of (Rate,
// Seed, k): a cursor remembers the last hit computed, so calls with k rising
// by one (as vegeta makes them) cost O(1), and a smaller k replays the
// stream from the seed. Safe for concurrent use.
type Poisson struct {
	rate float64
	seed uint64

	mu sync.Mutex
	st *poissonStream
}

// NewPoisson returns a Poisson process of rate requests per second (≤ 0: no
// requests) drawing from seed.
func NewPoisson(rate float64, seed uint64) *Poisson {
	return &Poisson{rate: rate, seed: seed, st: newPoissonStream(rate, seed)}
}

// PerSecond returns the rate.
func (p *Poisson) PerSecond() float64 { return p.rate }

// Seed returns the seed.
func (p *Poisson) Seed() uint64 { return p.seed }

// Rate implements vegeta.Pacer.
func (p *Poisson) Rate(time.Duration) float64 { return max(p.rate, 0) }

// Hits implements Profile: the expected number of hits, Rate·t.
func (p *Poisson) Hits(t time.Duration) float64 { return max(p.rate, 0) * max(t.Seconds(), 0) }

// Due implements Profile.
func (p *Poisson) Due(k uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.due(k)
}

// Pace implements vegeta.Pacer.
func (p *Poisson) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := p.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "poisson 5/s".
func (p *Poisson) String() string { return fmt.Sprintf("poisson %g/s", p.rate) }

// poissonStream generates the arrival times of a Poisson process in order.
// It must not be copied after newPoissonStream (rng points at pcg).
type poissonStream struct {
	rate float64
	seed uint64
	pcg  rand.PCG
	rng  *rand.Rand
	next uint64  // index of the next hit to generate
	t    float64 // seconds: time of hit next−1
	last time.Duration
}

// poissonSalt decorrelates the PCG's two seed words.
const poissonSalt = 0x9e3779b97f4a7c15

func newPoissonStream(rate float64, seed uint64) *poissonStream {
	s := &poissonStream{rate: rate, seed: seed}
	s.rng = rand.New(&s.pcg)
	s.reset()
	return s
}

func (s *poissonStream) reset() {
	s.pcg.Seed(s.seed, s.seed^poissonSalt)
	s.next, s.t, s.last = 0, 0, 0
}

// due returns hit k's time; O(1) when k is the hit after the last one asked.
func (s *poissonStream) due(k uint64) (time.Duration, bool) {
	if !(s.rate > 0) {
		return 0, false
	}
	if s.next > 0 && k == s.next-1 {
		return s.last, true
	}
	if k < s.next {
		s.reset()
	}
	for s.next <= k {
		s.t += s.rng.ExpFloat64() / s.rate
		s.next++
	}
	d, ok := fromSeconds(s.t)
	s.last = d
	return d, ok
}
