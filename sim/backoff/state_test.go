package backoff

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
)

func TestGRPCThrottling(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "grpc"})
	s := p.NewState()
	rng := rand.NewPCG(1, 1)
	// Each failure takes a token from 10; retries stop once tokens ≤ 5.
	var got []bool
	for k := 0; k < 7; k++ {
		req := Request{Arrived: t0}
		s.Before(t0, &req, rng)
		got = append(got, s.After(t0, &req, &Response{Status: 503}, rng).Retry)
	}
	want := []bool{true, true, true, true, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("retry after failure %d = %v; want %v (tokens %v)", i+1, got[i], want[i], s.Tokens())
		}
	}
	// Successes add 0.1 each: 11 successes bring 3 → 4.1.
	for k := 0; k < 11; k++ {
		req := Request{Arrived: t0}
		s.Before(t0, &req, rng)
		s.After(t0, &req, &Response{Status: 200}, rng)
	}
	if tok := s.Tokens(); tok < 4.09 || tok > 4.11 {
		t.Errorf("tokens after 7 failures and 11 successes = %v; want 4.1", tok)
	}
}

func TestRatioBudget(t *testing.T) {
	t.Parallel()
	zero := 0.0
	p := mustPolicy(t, Config{Budget: &BudgetConfig{Type: "ratio", Ratio: flt(0.2), MinPerSecond: &zero, Window: dur(10 * time.Second)}})
	s := p.NewState()
	rng := rand.NewPCG(1, 1)
	// 10 requests in the window allow 2 retries.
	retries := 0
	for k := 0; k < 10; k++ {
		req := Request{Arrived: t0}
		s.Before(t0, &req, rng)
		d := s.After(t0, &req, &Response{Status: 503}, rng)
		if d.Retry {
			retries++
		} else if d.Stop != sim.StopBudgetExhausted {
			t.Fatalf("request %d: stop %s; want budget_exhausted", k, d.Stop)
		}
	}
	if retries != 2 {
		t.Errorf("retries allowed for 10 requests at ratio 0.2 = %d; want 2", retries)
	}
	// After the window slides past, old requests no longer count.
	later := t0.Add(time.Minute)
	req := Request{Arrived: later}
	s.Before(later, &req, rng)
	if d := s.After(later, &req, &Response{Status: 503}, rng); d.Retry {
		t.Errorf("one request a minute later: retry allowed with 0.2 of 1 request")
	}
}

func TestSREThrottle(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "sre-throttled", MaxAttempts: num(1)})
	s := p.NewState()
	rng := rand.NewPCG(1, 1)
	now := t0
	rejected := 0
	// All backend answers are 429: accepts stay 0, so rejection probability
	// tends to requests/(requests+1) → almost every attempt is refused locally.
	for k := 0; k < 1000; k++ {
		req := Request{Arrived: now}
		if _, stop := s.Before(now, &req, rng); stop == sim.StopThrottledLocally {
			rejected++
			continue
		}
		s.After(now, &req, &Response{Status: 429}, rng)
		now = now.Add(10 * time.Millisecond)
	}
	if rejected < 900 {
		t.Errorf("rejected %d of 1000 attempts against a backend that accepts nothing; want ≥ 900", rejected)
	}
	// With every request accepted, nothing is rejected (requests < 2·accepts).
	s = p.NewState()
	for k := 0; k < 1000; k++ {
		req := Request{Arrived: now}
		if _, stop := s.Before(now, &req, rng); stop != sim.StopNone {
			t.Fatalf("attempt %d refused (%s) while the backend accepts everything", k, stop)
		}
		s.After(now, &req, &Response{Status: 200}, rng)
		now = now.Add(10 * time.Millisecond)
	}
}

func TestBreakerHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{CircuitBreaker: &CircuitBreakerConfig{Failures: num(2), OpenFor: dur(10 * time.Second)}, MaxAttempts: num(1)})
	s := p.NewState()
	rng := rand.NewPCG(1, 1)
	for k := 0; k < 2; k++ {
		req := Request{Arrived: t0}
		s.Before(t0, &req, rng)
		s.After(t0, &req, &Response{Status: 503, RetryAfter: "30"}, rng)
	}
	tests := []struct {
		at   time.Duration
		open bool
	}{
		{0, true},                 // just opened
		{20 * time.Second, true},  // past open_for, within the server's Retry-After
		{30 * time.Second, false}, // half-open: a probe may go
	}
	for _, tt := range tests {
		if got := s.CircuitOpen(t0.Add(tt.at)); got != tt.open {
			t.Errorf("CircuitOpen(t0+%s) = %v; want %v", tt.at, got, tt.open)
		}
	}
	// The probe is admitted, a second attempt meanwhile is not; success closes.
	probe, other := Request{Arrived: t0}, Request{Arrived: t0}
	at := t0.Add(31 * time.Second)
	if _, stop := s.Before(at, &probe, rng); stop != sim.StopNone {
		t.Fatalf("probe refused: %s", stop)
	}
	if _, stop := s.Before(at, &other, rng); stop != sim.StopClientCircuitOpen {
		t.Fatalf("second attempt while probing: %s; want client_circuit_open", stop)
	}
	s.After(at, &probe, &Response{Status: 200}, rng)
	if _, stop := s.Before(at, &other, rng); stop != sim.StopNone {
		t.Errorf("after a successful probe: %s; want admitted", stop)
	}
}

func TestPacing(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Pacing: ptr(true)})
	s := p.NewState()
	rng := rand.NewPCG(1, 1)
	at := t0.Add(30 * time.Second) // 30 s left in the minute
	req := Request{Arrived: at}
	s.Before(at, &req, rng)
	s.After(at, &req, &Response{Status: 200, Limits: sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 2,
		LimitDay: 5000, RemainingDay: sim.Unlimited}}, rng)
	// 2 left over 30 s: sends spaced 10 s apart, then wait for the reset.
	var waits []time.Duration
	for k := 0; k < 3; k++ {
		r := Request{Arrived: at}
		w, stop := s.Before(at, &r, rng)
		if stop != sim.StopNone {
			t.Fatalf("pacing stop %s", stop)
		}
		waits = append(waits, w)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("pacing waits = %v; want %v", waits, want)
		}
	}
}

// TestUnsharedReadsTimeOnlyForDeadlines pins what the simulator relies on to
// skip building times: without shared state, Before reads neither now nor
// req.Arrived, nor does After unless a deadline may stop a retry (a non-2xx
// answer, Deadline > 0) or Retry-After is an HTTP date; the zero time gives
// the same decisions as the real one.
func TestUnsharedReadsTimeOnlyForDeadlines(t *testing.T) {
	t.Parallel()
	unshared := 0
	for _, name := range PresetNames() {
		p := mustPolicy(t, Config{Preset: name, Deadline: dur(0)})
		if p.Shared() {
			continue
		}
		unshared++
		for _, st := range []int{200, 201, 299, 0, 429, 500, 503} {
			real, zero := Request{Arrived: t0.Add(-time.Minute)}, Request{}
			s := p.NewState()
			rngA, rngB := rand.NewPCG(1, 2), rand.NewPCG(1, 2)
			wa, sa := s.Before(t0, &real, rngA)
			wb, sb := s.Before(time.Time{}, &zero, rngB)
			if wa != wb || sa != sb || real.Attempts != zero.Attempts {
				t.Errorf("%s: Before with the zero time = %v %v; with the real one %v %v", name, wb, sb, wa, sa)
			}
			resp := Response{Status: st, RetryAfterSeconds: 3, Limits: sim.RateLimits{Tier: "tier1", RemainingMinute: 4}}
			da := s.After(t0, &real, &resp, rngA)
			db := s.After(time.Time{}, &zero, &resp, rngB)
			if da != db {
				t.Errorf("%s, %d: After with the zero time = %+v; with the real one %+v", name, st, db, da)
			}
		}
	}
	if unshared == 0 {
		t.Fatal("every preset has shared state; the test checks nothing")
	}
}
