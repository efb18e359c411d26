package scenario

import (
	"fmt"
	"math"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Profile is an arrival process: a vegeta.Pacer whose hit k (counting from
// 0) is due when the expected number of hits, Hits(t) = ∫₀ᵗ Rate, reaches k
// (hit 0 is due when traffic starts: the first instant with a positive rate).
// Over [0, D) a profile therefore sends ⌈Hits(D)⌉ hits. Pace(elapsed, hits)
// returns Due(hits) − elapsed (0 when late) and stops when no hit is ever due
// again; Bounded also stops at the run's duration. Arrivals gives the same
// schedule to the simulator.
//
// Constant, Ramp, Step, Sine, Spike and Trace are immutable values, safe for
// concurrent use; *Poisson holds a cursor behind a mutex.
type Profile interface {
	vegeta.Pacer
	fmt.Stringer
	// Due returns when hit k is due, from the start of the run; false when
	// it never is (the rate stays 0, the trace has ended).
	Due(k uint64) (time.Duration, bool)
	// Hits returns the expected number of hits in [0, t): ∫₀ᵗ Rate.
	Hits(t time.Duration) float64
}

// Compile-time checks.
var (
	_ Profile = Constant{}
	_ Profile = Ramp{}
	_ Profile = Step{}
	_ Profile = Sine{}
	_ Profile = Spike{}
	_ Profile = Trace{}
	_ Profile = (*Poisson)(nil)

	_ vegeta.Pacer = Bounded{}
)

// maxSeconds bounds due times so that they fit a time.Duration.
const maxSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

// fromSeconds converts a due time in seconds to a Duration, rounding to the
// nanosecond; false when it does not fit.
func fromSeconds(s float64) (time.Duration, bool) {
	if !(s < maxSeconds) || math.IsNaN(s) {
		return 0, false
	}
	if s < 0 {
		s = 0
	}
	return time.Duration(math.Round(s * 1e9)), true
}

// pace turns a due time into vegeta's (wait, stop).
func pace(due time.Duration, ok bool, elapsed time.Duration) (time.Duration, bool) {
	if !ok {
		return 0, true
	}
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Bounded paces Profile and stops at the first hit due at or after Duration
// (Duration ≤ 0: never). It is what runners hand to vegeta.Attack.
type Bounded struct {
	Profile  Profile
	Duration time.Duration
}

// Pace implements vegeta.Pacer.
func (b Bounded) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := b.Profile.Due(hits)
	if ok && b.Duration > 0 && d >= b.Duration {
		ok = false
	}
	return pace(d, ok, elapsed)
}

// Rate implements vegeta.Pacer: the profile's rate, 0 from Duration on.
func (b Bounded) Rate(elapsed time.Duration) float64 {
	if b.Duration > 0 && elapsed >= b.Duration {
		return 0
	}
	return b.Profile.Rate(elapsed)
}

// String describes the profile and its bound.
func (b Bounded) String() string { return fmt.Sprintf("%s for %s", b.Profile, b.Duration) }

// Constant is a constant rate in requests per second (≤ 0: no requests).
// Hit k is due at k/Rate.
type Constant struct {
	PerSecond float64 // requests per second
}

// Rate implements vegeta.Pacer.
func (c Constant) Rate(time.Duration) float64 { return math.Max(c.PerSecond, 0) }

// Hits implements Profile.
func (c Constant) Hits(t time.Duration) float64 {
	return math.Max(c.PerSecond, 0) * math.Max(t.Seconds(), 0)
}

// Due implements Profile.
func (c Constant) Due(k uint64) (time.Duration, bool) {
	if !(c.PerSecond > 0) {
		return 0, false
	}
	return fromSeconds(float64(k) / c.PerSecond)
}

// Pace implements vegeta.Pacer.
func (c Constant) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := c.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "constant 5/s".
func (c Constant) String() string { return fmt.Sprintf("constant %g/s", c.PerSecond) }

// Ramp goes linearly from From to To requests per second over Over, then
// holds To. Hits(t) = From·t + (To−From)·t²/(2·Over) for t ≤ Over.
type Ramp struct {
	From, To float64       // requests per second, ≥ 0
	Over     time.Duration // > 0; ≤ 0 is a constant To
}

// Rate implements vegeta.Pacer.
func (r Ramp) Rate(t time.Duration) float64 {
	if t < 0 {
		t = 0
	}
	if t >= r.Over {
		return math.Max(r.To, 0)
	}
	return math.Max(r.From+(r.To-r.From)*(t.Seconds()/r.Over.Seconds()), 0)
}

// head returns the hits of the linear part.
func (r Ramp) head() float64 {
	if r.Over <= 0 {
		return 0
	}
	return (r.From + r.To) / 2 * r.Over.Seconds()
}

// Hits implements Profile.
func (r Ramp) Hits(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	if t >= r.Over {
		return r.head() + r.To*(t-max(r.Over, 0)).Seconds()
	}
	x := t.Seconds()
	return r.From*x + (r.To-r.From)*x*x/(2*r.Over.Seconds())
}

// Due implements Profile: the root of a quadratic on the ramp, linear after.
func (r Ramp) Due(k uint64) (time.Duration, bool) {
	if r.From < 0 || r.To < 0 || (r.From == 0 && r.To == 0) {
		return 0, false
	}
	kk := float64(k)
	if k == 0 {
		if r.Over > 0 || r.To > 0 {
			return 0, true
		}
		return 0, false
	}
	if h := r.head(); kk <= h {
		a := (r.To - r.From) / r.Over.Seconds()
		disc := math.Max(r.From*r.From+2*a*kk, 0)
		// The numerically stable root of a/2·x² + From·x − k = 0.
		return fromSeconds(2 * kk / (r.From + math.Sqrt(disc)))
	} else if r.To > 0 {
		return fromSeconds(max(r.Over, 0).Seconds() + (kk-h)/r.To)
	}
	return 0, false
}

// Pace implements vegeta.Pacer.
func (r Ramp) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := r.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "ramp 0.2→2/s over 5m0s".
func (r Ramp) String() string { return fmt.Sprintf("ramp %g→%g/s over %s", r.From, r.To, r.Over) }

// StepPoint is one step: from At on, Rate requests per second.
type StepPoint struct {
	At   time.Duration
	Rate float64
}

// Step is a piecewise-constant rate: 0 before the first step, then each
// step's rate until the next one; the last one holds. Build it with NewStep.
type Step struct {
	points []StepPoint
	cum    []float64 // cum[i] = Hits(points[i].At)
}

// NewStep returns the step profile of points, which must be sorted by At
// with At ≥ 0 and rates ≥ 0 (validation checks this). It copies points.
func NewStep(points []StepPoint) Step {
	s := Step{points: append([]StepPoint(nil), points...), cum: make([]float64, len(points))}
	for i := 1; i < len(points); i++ {
		s.cum[i] = s.cum[i-1] + math.Max(points[i-1].Rate, 0)*(points[i].At-points[i-1].At).Seconds()
	}
	return s
}

// Points returns a copy of the steps.
func (s Step) Points() []StepPoint { return append([]StepPoint(nil), s.points...) }

// Rate implements vegeta.Pacer.
func (s Step) Rate(t time.Duration) float64 { return stepRate(s.points, t) }

// Hits implements Profile.
func (s Step) Hits(t time.Duration) float64 { return stepHits(s.points, s.cum, t) }

// Due implements Profile (binary search over the steps).
func (s Step) Due(k uint64) (time.Duration, bool) { return stepDue(s.points, s.cum, k) }

// Pace implements vegeta.Pacer.
func (s Step) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := s.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "step 1/s@0s 6/s@3m0s …".
func (s Step) String() string {
	out := "step"
	for _, p := range s.points {
		out += fmt.Sprintf(" %g/s@%s", p.Rate, p.At)
	}
	return out
}

// stepRate is the rate of a piecewise-constant profile.
func stepRate(pts []StepPoint, t time.Duration) float64 {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].At > t }) - 1
	if i < 0 {
		return 0
	}
	return math.Max(pts[i].Rate, 0)
}

// stepHits is ∫₀ᵗ of a piecewise-constant profile.
func stepHits(pts []StepPoint, cum []float64, t time.Duration) float64 {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].At > t }) - 1
	if i < 0 {
		return 0
	}
	return cum[i] + math.Max(pts[i].Rate, 0)*(t-pts[i].At).Seconds()
}

// stepDue inverts stepHits: the first step whose end reaches k (or, for
// k = 0, exceeds 0), then a division.
func stepDue(pts []StepPoint, cum []float64, k uint64) (time.Duration, bool) {
	n := len(pts)
	kk := float64(k)
	end := func(i int) float64 {
		if i+1 < n {
			return cum[i+1]
		}
		if pts[i].Rate > 0 {
			return math.Inf(1)
		}
		return cum[i]
	}
	i := sort.Search(n, func(i int) bool {
		e := end(i)
		return e >= kk && e > 0
	})
	if i == n || !(pts[i].Rate > 0) {
		return 0, false
	}
	d, ok := fromSeconds((kk - cum[i]) / pts[i].Rate)
	if !ok || d > math.MaxInt64-pts[i].At {
		return 0, false
	}
	return pts[i].At + d, true
}

// Spike is Base requests per second, except Peak during [At, At+For).
type Spike struct {
	Base, Peak float64
	At, For    time.Duration
}

// steps returns the spike as three steps and their cumulative hits.
func (s Spike) steps() ([3]StepPoint, [3]float64) {
	p := [3]StepPoint{{0, s.Base}, {s.At, s.Peak}, {s.At + s.For, s.Base}}
	c := [3]float64{0, math.Max(s.Base, 0) * s.At.Seconds(), 0}
	c[2] = c[1] + math.Max(s.Peak, 0)*s.For.Seconds()
	return p, c
}

// Rate implements vegeta.Pacer.
func (s Spike) Rate(t time.Duration) float64 {
	p, _ := s.steps()
	return stepRate(p[:], t)
}

// Hits implements Profile.
func (s Spike) Hits(t time.Duration) float64 {
	p, c := s.steps()
	return stepHits(p[:], c[:], t)
}

// Due implements Profile.
func (s Spike) Due(k uint64) (time.Duration, bool) {
	p, c := s.steps()
	return stepDue(p[:], c[:], k)
}

// Pace implements vegeta.Pacer.
func (s Spike) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := s.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "spike 2/s, 40/s at 4m0s for 20s".
func (s Spike) String() string {
	return fmt.Sprintf("spike %g/s, %g/s at %s for %s", s.Base, s.Peak, s.At, s.For)
}

// Sine is Mean + Amplitude·sin(2πt/Period) requests per second, starting at
// the mean and rising; 0 ≤ Amplitude ≤ Mean.
// Hits(t) = Mean·t + Amplitude·Period/(2π)·(1 − cos(2πt/Period)).
type Sine struct {
	Mean, Amplitude float64
	Period          time.Duration
}

func (s Sine) valid() bool {
	return s.Mean > 0 && s.Amplitude >= 0 && s.Amplitude <= s.Mean && s.Period > 0
}

// Rate implements vegeta.Pacer.
func (s Sine) Rate(t time.Duration) float64 {
	if !s.valid() {
		return 0
	}
	return s.Mean + s.Amplitude*math.Sin(2*math.Pi*t.Seconds()/s.Period.Seconds())
}

// hits is Hits for t in seconds.
func (s Sine) hits(x float64) float64 {
	p := s.Period.Seconds()
	return s.Mean*x + s.Amplitude*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/p))
}

// Hits implements Profile.
func (s Sine) Hits(t time.Duration) float64 {
	if t <= 0 || !s.valid() {
		return 0
	}
	return s.hits(t.Seconds())
}

// Due implements Profile. Each period holds Mean·Period hits, so hit k lies
// in period ⌊k/(Mean·Period)⌋; within it, a Newton iteration safeguarded by
// bisection solves Hits(x) = k to a nanosecond. It is a pure function of k.
func (s Sine) Due(k uint64) (time.Duration, bool) {
	if !s.valid() {
		return 0, false
	}
	p := s.Period.Seconds()
	perPeriod := s.Mean * p
	kk := float64(k)
	n := math.Floor(kk / perPeriod)
	r := kk - n*perPeriod // hits to place within the period
	lo, hi := 0.0, p
	x := math.Min(r/s.Mean, p)
	for range 60 {
		f := s.hits(x) - r
		if f == 0 {
			break
		}
		if f > 0 {
			hi = x
		} else {
			lo = x
		}
		rate := s.Mean + s.Amplitude*math.Sin(2*math.Pi*x/p)
		nx := 0.0
		if rate > 0 {
			nx = x - f/rate
		}
		if rate <= 0 || nx <= lo || nx >= hi {
			nx = (lo + hi) / 2
		}
		if math.Abs(nx-x) < 1e-10 {
			x = nx
			break
		}
		x = nx
	}
	return fromSeconds(n*p + math.Min(math.Max(x, 0), p))
}

// Pace implements vegeta.Pacer.
func (s Sine) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := s.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "sine 5±3/s period 2m0s".
func (s Sine) String() string {
	return fmt.Sprintf("sine %g±%g/s period %s", s.Mean, s.Amplitude, s.Period)
}
