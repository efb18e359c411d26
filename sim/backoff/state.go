package backoff

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// State is the strategy state one client (tenant) shares between its
// requests: the retry budget, the SRE adaptive throttle, the client circuit
// breaker and proactive pacing. Create it with Policy.NewState. Its methods
// are safe for concurrent use and take the time as a parameter; they never
// sleep and do not allocate.
type State struct {
	p      *Policy
	shared bool // any shared feature enabled: take the lock

	mu sync.Mutex

	tokens float64 // token-bucket and gRPC budgets

	ratio    window // ratio budget: a = requests, b = retries
	throttle window // SRE throttle: a = requests, b = accepts

	breakerFails int
	openUntil    time.Time

	minute, day pace
}

// pace is proactive pacing over one quota window.
type pace struct {
	remaining int64     // requests left in the window, as last reported (minus reservations)
	reset     time.Time // when the window ends; zero = unknown
	last      time.Time // the last reserved send time
}

// window counts two quantities over a sliding window of ten buckets.
type window struct {
	span  time.Duration // bucket width
	epoch [12]int64     // bucket number held by each slot
	a, b  [12]float64
	n     int
}

func (w *window) init(total time.Duration, n int) {
	w.n = n
	w.span = total / time.Duration(n)
	if w.span <= 0 {
		w.span = 1
	}
	for i := range w.epoch {
		w.epoch[i] = -1
	}
}

func (w *window) slot(now time.Time) int {
	e := now.UnixNano() / int64(w.span)
	i := int(uint64(e) % uint64(w.n))
	if w.epoch[i] != e {
		w.epoch[i], w.a[i], w.b[i] = e, 0, 0
	}
	return i
}

// sums returns the totals over the window ending at now.
func (w *window) sums(now time.Time) (a, b float64) {
	e := now.UnixNano() / int64(w.span)
	for i := 0; i < w.n; i++ {
		if w.epoch[i] > e-int64(w.n) && w.epoch[i] <= e {
			a += w.a[i]
			b += w.b[i]
		}
	}
	return a, b
}

// Shared reports whether the policy keeps state shared by a client's
// requests (a budget, throttling, the client breaker or pacing), so that
// one request's responses bear on another's decisions. Without it, State
// takes no lock, and After decides from the request and its response
// alone.
func (p *Policy) Shared() bool {
	return p.Budget.Kind != BudgetNone || p.Throttle.K > 0 || p.Breaker.Failures > 0 || p.Pacing
}

// NewState returns the shared state of one client under the policy: budgets
// full, breaker closed, no pacing information.
func (p *Policy) NewState() *State {
	s := &State{p: p}
	switch p.Budget.Kind {
	case BudgetTokenBucket:
		s.tokens = p.Budget.Capacity
	case BudgetGRPC:
		s.tokens = p.Budget.MaxTokens
	case BudgetRatio:
		s.ratio.init(p.Budget.Window, 10)
	}
	if p.Throttle.K > 0 {
		s.throttle.init(p.Throttle.Window, 12)
	}
	s.shared = p.Shared()
	return s
}

// Policy returns the policy the state was created from.
func (s *State) Policy() *Policy { return s.p }

// Before is called when req's next attempt is due at now. It either admits
// the attempt, counting it in req.Attempts, to be sent after wait (≥ 0; > 0
// only under proactive pacing), or refuses it with StopThrottledLocally,
// StopClientCircuitOpen or StopDeadline (the pacing wait would pass the
// deadline). rng, the request's generator, is used by the throttle only.
// Without shared state (Policy.Shared) it reads neither now nor
// req.Arrived.
func (s *State) Before(now time.Time, req *Request, rng *rand.PCG) (wait time.Duration, stop sim.StopReason) {
	if !s.shared {
		req.Attempts++
		return 0, sim.StopNone
	}
	return s.beforeShared(now, req, rng)
}

// beforeShared is Before with shared state.
func (s *State) beforeShared(now time.Time, req *Request, rng *rand.PCG) (wait time.Duration, stop sim.StopReason) {
	p := s.p
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Breaker.Failures > 0 && s.breakerFails >= p.Breaker.Failures {
		if now.Before(s.openUntil) {
			return 0, sim.StopClientCircuitOpen
		}
		// Half-open: this attempt is the probe; others wait OpenFor.
		s.openUntil = now.Add(p.Breaker.OpenFor)
	}
	if p.Throttle.K > 0 {
		i := s.throttle.slot(now)
		requests, accepts := s.throttle.sums(now)
		pr := (requests - p.Throttle.K*accepts) / (requests + 1)
		s.throttle.a[i]++
		if pr > 0 && uniform(rng) < pr {
			return 0, sim.StopThrottledLocally
		}
	}
	if p.Pacing {
		wait = max(s.minute.delay(now), s.day.delay(now))
		if p.Deadline > 0 && now.Add(wait).Sub(req.Arrived) > p.Deadline {
			return 0, sim.StopDeadline
		}
		s.minute.reserve(now.Add(wait))
		s.day.reserve(now.Add(wait))
	}
	if p.Budget.Kind == BudgetRatio && req.Attempts == 0 {
		s.ratio.a[s.ratio.slot(now)]++
	}
	req.Attempts++
	return wait, sim.StopNone
}

// delay returns how long to wait from now so that the remaining requests are
// spread evenly until the window resets.
func (w *pace) delay(now time.Time) time.Duration {
	if w.reset.IsZero() || !now.Before(w.reset) {
		return 0
	}
	if w.remaining <= 0 {
		return w.reset.Sub(now)
	}
	at := w.last.Add(w.reset.Sub(w.last) / time.Duration(w.remaining+1))
	if at.Before(now) {
		return 0
	}
	return at.Sub(now)
}

func (w *pace) reserve(at time.Time) {
	if w.reset.IsZero() || !at.Before(w.reset) {
		return
	}
	w.remaining--
	w.last = at
}

func (w *pace) observe(now time.Time, remaining int64, span time.Duration) {
	if remaining == sim.Unlimited || remaining < -1 {
		w.reset = time.Time{}
		return
	}
	w.remaining = remaining
	w.reset = now.Truncate(span).Add(span)
	if w.last.IsZero() || w.last.Before(now.Truncate(span)) {
		w.last = now
	}
}

// After is called when an attempt of req ended at now with resp. It decides
// whether to retry and after which delay, and updates the shared state
// (budgets, throttle, breaker, pacing). rng, the request's generator,
// draws the jitter. Without shared state it reads now and req.Arrived only
// to hold a deadline (a retry after a non-2xx answer, Deadline > 0) and to
// read a Retry-After given as an HTTP date (resp.RetryAfter), and never
// reads resp.Limits (pacing's): the simulator builds none of them
// otherwise.
func (s *State) After(now time.Time, req *Request, resp *Response, rng *rand.PCG) (d Decision) {
	s.p.decide(now, req, resp, rng, &d)
	if s.shared {
		s.afterShared(now, req, resp, &d)
	}
	return d
}

// afterShared is After's update of the shared state, which may turn d's
// retry into a stop (budget exhausted).
func (s *State) afterShared(now time.Time, req *Request, resp *Response, d *Decision) {
	p := s.p
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := Succeeded(resp.Status)
	if p.Throttle.K > 0 && resp.Status != 0 && resp.Status != 429 && resp.Status != 503 {
		s.throttle.b[s.throttle.slot(now)]++
	}
	if p.Breaker.Failures > 0 && resp.Status != 0 {
		if resp.Status == 500 || resp.Status == 503 {
			s.breakerFails++
			if s.breakerFails >= p.Breaker.Failures {
				open := max(p.Breaker.OpenFor, d.RetryAfter)
				s.openUntil = now.Add(open)
			}
		} else {
			s.breakerFails = 0
		}
	}
	if p.Pacing && resp.Limits.Known() {
		s.minute.observe(now, resp.Limits.RemainingMinute, time.Minute)
		s.day.observe(now, resp.Limits.RemainingDay, 24*time.Hour)
	}
	switch p.Budget.Kind {
	case BudgetTokenBucket:
		b := &p.Budget
		if ok {
			if req.Attempts <= 1 {
				s.tokens = min(b.Capacity, s.tokens+b.Refund)
			} else {
				s.tokens = min(b.Capacity, s.tokens+req.held)
			}
			req.held = 0
		} else if d.Retry {
			cost := b.Cost
			switch {
			case resp.Timeout:
				cost = b.TimeoutCost
			case resp.Status == 429:
				cost = b.ThrottleCost
			}
			if cost > s.tokens {
				stopBudget(d)
				return
			}
			s.tokens -= cost
			req.held = cost
		}
	case BudgetGRPC:
		b := &p.Budget
		if ok {
			s.tokens = min(b.MaxTokens, s.tokens+b.TokenRatio)
		} else if p.RetriesStatus(resp.Status) {
			s.tokens = max(0, s.tokens-1)
		}
		if d.Retry && s.tokens <= b.MaxTokens/2 {
			stopBudget(d)
			return
		}
	case BudgetRatio:
		if d.Retry {
			b := &p.Budget
			requests, retries := s.ratio.sums(now)
			if retries+1 > b.Ratio*requests+b.MinPerSecond*b.Window.Seconds() {
				stopBudget(d)
				return
			}
			s.ratio.b[s.ratio.slot(now)]++
		}
	}
}

// stopBudget turns d into a stop for an exhausted budget.
func stopBudget(d *Decision) {
	d.Retry, d.Delay, d.Stop = false, 0, sim.StopBudgetExhausted
}

// Tokens returns the token-bucket or gRPC budget's tokens (0 for other budgets).
func (s *State) Tokens() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// CircuitOpen reports whether the client circuit breaker refuses attempts at now.
func (s *State) CircuitOpen(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.Breaker.Failures > 0 && s.breakerFails >= s.p.Breaker.Failures && now.Before(s.openUntil)
}
