package scenario

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// testProfiles are one of each profile kind, with their span.
func testProfiles() []struct {
	name string
	p    func() Profile
	span time.Duration
} {
	trace := func() Profile {
		rng := rand.New(rand.NewPCG(1, 2))
		var rows []TraceRow
		t := 0.0
		for range 20000 {
			t += rng.ExpFloat64() / 50
			d, _ := fromSeconds(t)
			rows = append(rows, TraceRow{At: d})
		}
		return NewTrace("mem.csv", 1, rows)
	}
	return []struct {
		name string
		p    func() Profile
		span time.Duration
	}{
		// constant, fractional rate
		{"constant", func() Profile { return Constant{PerSecond: 33.3} }, 5 * time.Minute},
		// ramp up from 0, then holds
		{"ramp-up-from-0", func() Profile { return Ramp{From: 0, To: 50, Over: 2 * time.Minute} }, 3 * time.Minute},
		// ramp as in the reference file
		{"ramp-reference", func() Profile { return Ramp{From: 0.2, To: 2, Over: 5 * time.Minute} }, 10 * time.Minute},
		// ramp down to 0: stops when the ramp ends
		{"ramp-down-to-0", func() Profile { return Ramp{From: 40, To: 0, Over: time.Minute} }, 2 * time.Minute},
		// steps with a silent start and a gap
		{"step", func() Profile {
			return NewStep([]StepPoint{{10 * time.Second, 5}, {time.Minute, 40}, {2 * time.Minute, 0}, {150 * time.Second, 12.5}})
		}, 4 * time.Minute},
		// sine with the amplitude touching 0
		{"sine-full", func() Profile { return Sine{Mean: 20, Amplitude: 20, Period: 45 * time.Second} }, 5 * time.Minute},
		// sine as in the reference comments
		{"sine", func() Profile { return Sine{Mean: 5, Amplitude: 3, Period: 2 * time.Minute} }, 10 * time.Minute},
		// spike on a base
		{"spike", func() Profile {
			return Spike{Base: 2, Peak: 40, At: 4 * time.Minute, For: 20 * time.Second}
		}, 10 * time.Minute},
		// spike from nothing
		{"spike-zero-base", func() Profile { return Spike{Base: 0, Peak: 100, At: 3 * time.Second, For: 10 * time.Second} }, 30 * time.Second},
		// poisson, seeded
		{"poisson", func() Profile { return NewPoisson(2000, 42) }, 10 * time.Minute},
		// trace of recorded times
		{"trace", trace, 5 * time.Minute},
	}
}

// integrate is ∫₀ᵈ Rate by the midpoint rule on 1 ms steps: independent of
// the profiles' own Hits and Due.
func integrate(p Profile, d time.Duration) float64 {
	const step = time.Millisecond
	sum := 0.0
	for t := time.Duration(0); t < d; t += step {
		sum += p.Rate(t+step/2) * step.Seconds()
	}
	return sum
}

// drive runs a pacer as vegeta's attacker does, without sleeping: it asks
// Pace, "sleeps" the wait plus an overshoot from jitter, sends a hit.
func drive(pc interface {
	Pace(time.Duration, uint64) (time.Duration, bool)
}, du time.Duration, jitter func() time.Duration) (sent []time.Duration) {
	var elapsed time.Duration
	for hits := uint64(0); ; hits++ {
		if elapsed > du {
			return sent
		}
		wait, stop := pc.Pace(elapsed, hits)
		if stop {
			return sent
		}
		elapsed += wait
		if jitter != nil && wait > 0 { // a sleep overshoots; no sleep, no overshoot
			elapsed += jitter()
		}
		sent = append(sent, elapsed)
	}
}

func TestPacerHitsMatchRateIntegral(t *testing.T) {
	t.Parallel()
	for _, tc := range testProfiles() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.p()
			want := integrate(p, tc.span)
			got := float64(len(drive(Bounded{p, tc.span}, tc.span, nil)))
			if want < 100 {
				t.Fatalf("%s: ∫Rate over %s = %g: too few hits for a 1%% check", p, tc.span, want)
			}
			if math.Abs(got-want)/want > 0.01 {
				t.Errorf("Bounded{%s, %s}: %g hits; ∫Rate = %g (off by %.2f%%)", p, tc.span, got, want, 100*(got-want)/want)
			}
			if h := p.Hits(tc.span); math.Abs(h-want)/want > 0.005 {
				t.Errorf("%s.Hits(%s) = %g; ∫Rate = %g", p, tc.span, h, want)
			}
		})
	}
}

func TestArrivalsEqualPacerSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range testProfiles() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.p()
			// The pacer's schedule: Pace(0, k) is hit k's due time, asked in
			// order as vegeta does (a late attacker would see 0 instead).
			b := Bounded{p, tc.span}
			var want []time.Duration
			for k := uint64(0); ; k++ {
				w, stop := b.Pace(0, k)
				if stop {
					break
				}
				want = append(want, w)
			}
			seq := Arrivals(tc.p(), tc.span)
			var got []time.Duration
			for {
				d, ok := seq.Next()
				if !ok {
					break
				}
				got = append(got, d)
			}
			if len(got) != len(want) {
				t.Fatalf("Arrivals(%s, %s): %d arrivals; the pacer schedules %d", p, tc.span, len(got), len(want))
			}
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("Arrivals(%s) #%d = %s; Pace(0, %d) = %s", p, k, got[k], k, want[k])
				}
				if k > 0 && got[k] < got[k-1] {
					t.Fatalf("Arrivals(%s) #%d = %s before #%d = %s", p, k, got[k], k-1, got[k-1])
				}
			}
			if uint64(len(got)) != seq.Count() {
				t.Errorf("Count() = %d; want %d", seq.Count(), len(got))
			}
		})
	}
}

// A late attacker (sleep overshoot) catches up: Pace returns 0 until the
// hits due by now are sent, so the count over the span is unchanged.
func TestPacerCatchesUp(t *testing.T) {
	t.Parallel()
	for _, tc := range testProfiles() {
		p := tc.p()
		rng := rand.New(rand.NewPCG(3, 4))
		jitter := func() time.Duration { return time.Duration(rng.Int64N(int64(5 * time.Millisecond))) }
		exact := len(drive(Bounded{tc.p(), tc.span}, tc.span, nil))
		late := len(drive(Bounded{p, tc.span}, tc.span, jitter))
		if d := math.Abs(float64(late - exact)); d > 0.01*float64(exact) {
			t.Errorf("%s with up to 5ms overshoot: %d hits; %d without", p, late, exact)
		}
	}
}

// Due is a pure function of k: asking out of order gives the same times.
func TestDueOutOfOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range testProfiles() {
		p := tc.p()
		var inOrder []time.Duration
		for k := uint64(0); k < 500; k++ {
			d, ok := p.Due(k)
			if !ok {
				break
			}
			inOrder = append(inOrder, d)
		}
		for _, k := range []int{len(inOrder) - 1, 0, len(inOrder) / 2, 1, len(inOrder) / 3} {
			if k < 0 {
				continue
			}
			if d, _ := p.Due(uint64(k)); d != inOrder[k] {
				t.Errorf("%s: Due(%d) = %s out of order; %s in order", p, k, d, inOrder[k])
			}
		}
	}
}

func TestDueValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Profile
		k    uint64
		want time.Duration
		ok   bool
	}{
		{Constant{PerSecond: 4}, 0, 0, true},                                                               // first hit at once
		{Constant{PerSecond: 4}, 3, 750 * time.Millisecond, true},                                          // k/rate
		{Constant{PerSecond: 0}, 0, 0, false},                                                              // no rate: never
		{Ramp{From: 0, To: 2, Over: 2 * time.Second}, 1, 1414213562, true},                                 // t²/2 = 1 at √2 s
		{Ramp{From: 0, To: 2, Over: 2 * time.Second}, 4, 3 * time.Second, true},                            // 2 in the ramp, then 2/s
		{Ramp{From: 2, To: 0, Over: 2 * time.Second}, 3, 0, false},                                         // ramp to 0 holds 2 hits
		{NewStep([]StepPoint{{time.Minute, 2}}), 0, time.Minute, true},                                     // silent until the first step
		{NewStep([]StepPoint{{0, 1}, {2 * time.Second, 0}}), 2, 2 * time.Second, true},                     // H reaches 2 as the rate drops
		{NewStep([]StepPoint{{0, 1}, {2 * time.Second, 0}}), 3, 0, false},                                  // and never reaches 3
		{Spike{Base: 0, Peak: 10, At: time.Second, For: time.Second}, 5, 1500 * time.Millisecond, true},    // inside the spike
		{Sine{Mean: 1, Amplitude: 0, Period: time.Second}, 7, 7 * time.Second, true},                       // a flat sine
		{NewTrace("x", 1, []TraceRow{{At: time.Second}, {At: 2 * time.Second}}), 1, 2 * time.Second, true}, // row times
		{NewTrace("x", 1, []TraceRow{{At: time.Second}}), 1, 0, false},                                     // past the end
	}
	for _, tc := range tests {
		got, ok := tc.p.Due(tc.k)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s.Due(%d) = %s, %t; want %s, %t", tc.p, tc.k, got, ok, tc.want, tc.ok)
		}
	}
}

// Bounded stops at the duration; Pace returns the wait until the hit is due.
func TestBoundedPace(t *testing.T) {
	t.Parallel()
	b := Bounded{Constant{PerSecond: 10}, time.Second}
	if w, stop := b.Pace(250*time.Millisecond, 5); w != 250*time.Millisecond || stop {
		t.Errorf("Pace(250ms, 5) = %s, %t; want 250ms, false", w, stop)
	}
	if w, stop := b.Pace(800*time.Millisecond, 5); w != 0 || stop {
		t.Errorf("Pace(800ms, 5) = %s, %t; want 0 (late), false", w, stop)
	}
	if _, stop := b.Pace(900*time.Millisecond, 10); !stop {
		t.Errorf("Pace(900ms, 10): hit 10 is due at 1s = the duration; want stop")
	}
	if r := b.Rate(2 * time.Second); r != 0 {
		t.Errorf("Rate(2s) = %g after the duration; want 0", r)
	}
}

// Poisson is deterministic given the seed, and different seeds differ.
func TestPoissonSeeded(t *testing.T) {
	t.Parallel()
	a, b, c := NewPoisson(10, 1), NewPoisson(10, 1), NewPoisson(10, 2)
	same := true
	for k := uint64(0); k < 100; k++ {
		da, _ := a.Due(k)
		db, _ := b.Due(k)
		dc, _ := c.Due(k)
		if da != db {
			t.Fatalf("seed 1: Due(%d) = %s and %s", k, da, db)
		}
		same = same && da == dc
	}
	if same {
		t.Errorf("seeds 1 and 2 gave the same 100 arrivals")
	}
}

func BenchmarkArrivalsNext(b *testing.B) {
	for _, tc := range testProfiles() {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			p := tc.p()
			seq := Arrivals(p, 0)
			for b.Loop() {
				if _, ok := seq.Next(); !ok {
					seq = Arrivals(p, 0)
				}
			}
		})
	}
}

func BenchmarkPace(b *testing.B) {
	for _, tc := range testProfiles() {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			p := tc.p()
			k := uint64(0)
			for b.Loop() {
				if _, stop := p.Pace(0, k); stop {
					k = 0
				}
				k++
			}
		})
	}
}
