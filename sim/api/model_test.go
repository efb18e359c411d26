package api

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/loadsim/loadsim/sim"
)

// t0 is the start of a UTC minute, 10:00 (14 h before the day ends).
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// zeroLatency prefixes configs whose upstream answers instantly.
const zeroLatency = "api:\n  upstream:\n    latency: {median: 0s}\n"

func newModel(t testing.TB, y string) *Model {
	t.Helper()
	if y == "" {
		y = zeroLatency
	}
	r, err := resolveYAML(t, y)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", y, err)
	}
	return New(r, t0, 1)
}

// qs builds a valid question-specific request.
func qs(key, model string, tokens int64) Request {
	return Request{Route: RouteQuestionSpecific, Key: key, Model: model, Ratio: 0.5, Tokens: tokens}
}

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestHandleCodes(t *testing.T) {
	t.Parallel()
	future := "api:\n  upstream:\n    latency: {median: 0s}\n  keys:\n    - {key: cmp_future, tier: tier2, expires: 2026-03-03T00:00:00Z}\n    - {key: cmp_past, tier: tier2, expires: 2026-03-02T10:00:00Z}\n"
	tests := []struct {
		name     string
		cfg      string
		req      Request
		want     Code
		upstream bool
		limits   bool // X-RateLimit-* expected
	}{
		// Unknown route → 404.
		{"unknown route", "", Request{Route: RouteUnknown, Key: "cmp_demo_tier1"}, NotFound, false, false},
		// Routes without a key.
		{"health", "", Request{Route: RouteHealth}, OK, false, false},
		{"models", "", Request{Route: RouteModels}, OK, false, false},
		{"metrics", "", Request{Route: RouteMetrics}, OK, false, false},
		// Rate limits need a key and carry limits.
		{"rate-limits", "", Request{Route: RouteRateLimits, Key: "cmp_demo_tier2"}, OK, false, true},
		{"rate-limits no key", "", Request{Route: RouteRateLimits}, MissingAPIKey, false, false},
		// 401 causes.
		{"missing key", "", qs("", "latte_v1", 1), MissingAPIKey, false, false},
		{"unknown key", "", qs("cmp_nope", "latte_v1", 1), InvalidAPIKey, false, false},
		{"malformed key", "", qs("not a key", "latte_v1", 1), InvalidAPIKey, false, false},
		{"revoked key", "", qs("cmp_demo_revoked", "latte_v1", 1), InvalidAPIKey, false, false},
		{"expired demo key", "", qs("cmp_demo_expired", "latte_v1", 1), ExpiredAPIKey, false, false},
		{"expired at t0", future, qs("cmp_past", "latte_v1", 1), ExpiredAPIKey, false, false},
		{"not yet expired", future, qs("cmp_future", "latte_v1", 1), OK, true, true},
		// 400/422 found by Decode pass through after auth, with limits.
		{"decode 400", "", Request{Route: RouteQuestionSpecific, Key: "cmp_demo_tier1", Problem: InvalidRequest, ProblemMessage: "x"}, InvalidRequest, false, true},
		{"decode 422", "", Request{Route: RouteQuestionSpecific, Key: "cmp_demo_tier1", Problem: ValidationError, ProblemMessage: "query: x"}, ValidationError, false, true},
		// 422 config checks.
		{"model absent", "", qs("cmp_demo_tier1", "", 1), ValidationError, false, true},
		{"unknown model", "", qs("cmp_demo_tier1", "no_such", 1), ValidationError, false, true},
		{"tokens over minute budget", "", qs("cmp_demo_tier1", "latte_v1", 250_001), ValidationError, false, true},
		{"tokens at minute budget", "", qs("cmp_demo_tier1", "latte_v1", 250_000), OK, true, true},
		{"batch of 0", "", Request{Route: RouteQuestionSpecificBatch, Key: "cmp_demo_tier1", Model: "latte_v1"}, ValidationError, false, true},
		// 403 tier gate.
		{"latte_v2 on tier1", "", qs("cmp_demo_tier1", "latte_v2", 1), Forbidden, false, true},
		{"latte_v2 on tier2", "", qs("cmp_demo_tier2", "latte_v2", 1), OK, true, true},
		// 500 causes.
		{"injected fault", "api:\n  internal_error_rate: 1\n", qs("cmp_demo_tier3", "latte_v1", 1), InternalError, false, true},
		{"incident error", "api:\n  upstream:\n    incidents: [{start: 0s, duration: 1h, error_rate: 1}]\n", qs("cmp_demo_tier3", "latte_v1", 1), InternalError, true, true},
		// 200.
		{"success", "", qs("cmp_demo_tier3", "espresso_v1", 10), OK, true, true},
	}
	for _, tt := range tests {
		m := newModel(t, tt.cfg)
		req := tt.req
		got := m.Handle(t0, &req)
		if got.Code != tt.want || got.Upstream != tt.upstream || got.Limits.Known() != tt.limits {
			t.Errorf("%s: Handle(t0, %+v) = %v upstream %v limits %+v; want %v upstream %v limits %v",
				tt.name, tt.req, got.Code, got.Upstream, got.Limits, tt.want, tt.upstream, tt.limits)
		}
		if got.Code != OK && got.Message == "" {
			t.Errorf("%s: Handle(t0, %+v) = %v without a message", tt.name, tt.req, got.Code)
		}
	}
}

func TestHandleSuccessFields(t *testing.T) {
	t.Parallel()
	m := newModel(t, "")
	req := qs("cmp_demo_tier1", "latte_v1", 100)
	got := m.Handle(t0, &req)
	want := Response{Code: OK, Upstream: true, Tokens: 100, CompressedTokens: 50,
		Limits: sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 59, LimitDay: 5000, RemainingDay: 4999}}
	if got != want {
		t.Errorf("Handle(t0, %+v) = %+v; want %+v", req, got, want)
	}
	// Default latency is drawn (80 ms median) and positive.
	d := New(mustDefaults(t), t0, 7)
	if r := d.Handle(t0, &req); r.Latency <= 0 || r.Latency > 2*time.Second {
		t.Errorf("default model Handle latency = %v; want in (0, 2s]", r.Latency)
	}
}

func mustDefaults(t testing.TB) Resolved {
	r, err := Defaults().Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHandleErrorOrder(t *testing.T) {
	t.Parallel()
	bad := Request{Route: RouteQuestionSpecific, Problem: InvalidRequest, ProblemMessage: "x", Model: "latte_v2"}
	tests := []struct {
		name string
		req  Request
		want Code
	}{
		// 401 before 400.
		{"missing key before bad body", withKey(bad, ""), MissingAPIKey},
		{"invalid key before bad body", withKey(bad, "cmp_nope"), InvalidAPIKey},
		// 400 before unknown-model 422 and 403.
		{"bad body before 403", withKey(bad, "cmp_demo_tier1"), InvalidRequest},
		// 422 (tokens) before 403 (tier gate).
		{"422 before 403", qs("cmp_demo_tier1", "latte_v2", 300_000), ValidationError},
		// 403 before 429 (the key's quota is spent below).
		{"403 before 429", qs("cmp_demo_tier1", "latte_v2", 1), Forbidden},
		// 429 before 503 (the circuit is open below).
		{"429 before 503", qs("cmp_demo_tier1", "latte_v1", 1), RateLimitExceeded},
		// 503 before the injected 500.
		{"503 before 500", qs("cmp_demo_tier3", "latte_v1", 1), ServiceUnavailable},
	}
	m := newModel(t, "api:\n  internal_error_rate: 1\n  upstream:\n    latency: {median: 0s}\n    incidents: [{start: 0s, duration: 1h, error_rate: 1}]\n  circuit: {min_requests: 1}\n")
	// Spend tier1's minute; open the circuit (internal faults do not count, so
	// set the rate to 0 for the opening call).
	for range 60 {
		r := qs("cmp_demo_tier1", "latte_v1", 1)
		m.Handle(t0, &r)
	}
	m.cfg.InternalErrorRate = 0
	r := qs("cmp_demo_tier2", "latte_v1", 1)
	m.Handle(t0, &r)
	m.cfg.InternalErrorRate = 1
	if s := m.Circuit(t0); s != sim.CircuitOpen {
		t.Fatalf("setup: Circuit(t0) = %v; want open", s)
	}
	for _, tt := range tests {
		req := tt.req
		if got := m.Handle(t0, &req); got.Code != tt.want {
			t.Errorf("%s: Handle(t0, %+v) = %v; want %v", tt.name, tt.req, got.Code, tt.want)
		}
	}
}

func withKey(r Request, key string) Request { r.Key = key; return r }

// step is one request of a timeline: at seconds after t0, want a code,
// Retry-After and remaining counts (-2 = don't check).
type step struct {
	at         float64
	key        string
	tokens     int64
	want       Code
	retryAfter int
	remMinute  int64
	remDay     int64
}

func runSteps(t *testing.T, m *Model, steps []step) {
	t.Helper()
	for i, s := range steps {
		key := s.key
		if key == "" {
			key = "cmp_demo_tier1"
		}
		req := qs(key, "latte_v1", s.tokens)
		got := m.Handle(at(s.at), &req)
		if got.Code != s.want || got.RetryAfter != s.retryAfter ||
			(s.remMinute != -2 && got.Limits.RemainingMinute != s.remMinute) || (s.remDay != -2 && got.Limits.RemainingDay != s.remDay) {
			t.Errorf("step %d: Handle(t0+%vs, %s tokens %d) = %v Retry-After %d remaining %d/%d; want %v %d %d/%d",
				i, s.at, key, s.tokens, got.Code, got.RetryAfter, got.Limits.RemainingMinute, got.Limits.RemainingDay,
				s.want, s.retryAfter, s.remMinute, s.remDay)
		}
	}
}

func TestQuotaFixedWindow(t *testing.T) {
	t.Parallel()
	m := newModel(t, "")
	var steps []step
	for k := range 60 { // 60 requests over the first 30 s
		steps = append(steps, step{at: float64(k) * 0.5, tokens: 10, want: OK, remMinute: int64(59 - k), remDay: int64(4999 - k)})
	}
	steps = append(steps,
		step{at: 30, want: RateLimitExceeded, retryAfter: 30, remMinute: 0, remDay: 4940},                   // minute spent; 429 consumes nothing
		step{at: 59.2, want: RateLimitExceeded, retryAfter: 1, remMinute: 0, remDay: 4940},                  // ceil(0.8 s)
		step{at: 60, tokens: 10, want: OK, remMinute: 59, remDay: 4939},                                     // next minute
		step{at: 61, tokens: 250_000, want: RateLimitExceeded, retryAfter: 59, remMinute: 59, remDay: 4939}, // token budget: 10+250000 > 250000
		step{at: 120, tokens: 250_000, want: OK, remMinute: 59, remDay: 4938},                               // fresh minute: the whole budget
	)
	runSteps(t, m, steps)
}

func TestQuotaDayRollover(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  tiers:\n    tier1: {requests_per_minute: 2, requests_per_day: 3}\n")
	runSteps(t, m, []step{
		{at: 0, want: OK, remMinute: 1, remDay: 2},
		{at: 1, want: OK, remMinute: 0, remDay: 1},
		{at: 2, want: RateLimitExceeded, retryAfter: 58, remMinute: 0, remDay: 1}, // minute only
		{at: 60, want: OK, remMinute: 1, remDay: 0},
		{at: 61, want: RateLimitExceeded, retryAfter: 14*3600 - 61, remMinute: 1, remDay: 0}, // day only
		{at: 62, want: RateLimitExceeded, retryAfter: 14*3600 - 62, remMinute: 1, remDay: 0},
		{at: 14 * 3600, want: OK, remMinute: 1, remDay: 2}, // midnight UTC
	})
	// Both windows exhausted: the later reset wins.
	m2 := newModel(t, zeroLatency+"  tiers:\n    tier1: {requests_per_minute: 1, requests_per_day: 1}\n")
	runSteps(t, m2, []step{
		{at: 0, want: OK, remMinute: 0, remDay: 0},
		{at: 1, want: RateLimitExceeded, retryAfter: 14*3600 - 1, remMinute: 0, remDay: 0},
	})
}

func TestQuotaHeadersUnlimited(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  tiers:\n    tier1: {requests_per_day: -1}\n")
	req := qs("cmp_demo_tier1", "latte_v1", 1)
	got := m.Handle(t0, &req)
	if want := (sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 59, LimitDay: -1, RemainingDay: -1}); got.Limits != want {
		t.Errorf("Handle(t0, %+v).Limits = %+v; want %+v", req, got.Limits, want)
	}
}

func TestQuotaSlidingWindow(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  quota: sliding-window\n  tiers:\n    tier1: {requests_per_day: -1}\n")
	var steps []step
	for k := range 60 {
		steps = append(steps, step{at: 0.5, want: OK, remMinute: int64(59 - k), remDay: -1})
	}
	steps = append(steps,
		// cur 60 > 59: next window, where 60×(1 − y/60) ≤ 59 at y = 1 s: 60.5 s from now.
		step{at: 0.5, want: RateLimitExceeded, retryAfter: 61, remMinute: 0, remDay: -1},
		// at 60.9 s the estimate is 60×59.1/60 = 59.1 > 59: 0.1 s more.
		step{at: 60.9, want: RateLimitExceeded, retryAfter: 1, remMinute: 0, remDay: -1},
		// at 61 s it is exactly 59: admitted, nothing left.
		step{at: 61, want: OK, remMinute: 0, remDay: -1},
		// at 91 s: 60×29/60 + 1 + this one = 31 used.
		step{at: 91, want: OK, remMinute: 29, remDay: -1},
	)
	runSteps(t, m, steps)
}

func TestQuotaTokenBucket(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  quota: token-bucket\n  tiers:\n    tier1: {tokens_per_minute: 600, requests_per_day: 100}\n")
	var steps []step
	for k := range 60 {
		steps = append(steps, step{at: 0, want: OK, remMinute: int64(59 - k), remDay: int64(99 - k)})
	}
	steps = append(steps,
		step{at: 0, want: RateLimitExceeded, retryAfter: 1, remMinute: 0, remDay: 40},                // refill 1/s
		step{at: 1, want: OK, remMinute: 0, remDay: 39},                                              // one refilled
		step{at: 1, want: RateLimitExceeded, retryAfter: 1, remMinute: 0, remDay: 39},                // empty again
		step{at: 10, tokens: 300, want: OK, remMinute: 8, remDay: 38},                                // 600 tokens: 300 left
		step{at: 10, tokens: 400, want: RateLimitExceeded, retryAfter: 10, remMinute: 8, remDay: 38}, // 100 missing at 10/s
	)
	runSteps(t, m, steps)
	// The day bucket refills at limit/86400 per second.
	d := newModel(t, zeroLatency+"  quota: token-bucket\n  tiers:\n    tier1: {requests_per_minute: -1, requests_per_day: 3}\n")
	runSteps(t, d, []step{
		{at: 0, want: OK, remMinute: -1, remDay: 2},
		{at: 0, want: OK, remMinute: -1, remDay: 1},
		{at: 0, want: OK, remMinute: -1, remDay: 0},
		{at: 0, want: RateLimitExceeded, retryAfter: 28800, remMinute: -1, remDay: 0},
		{at: 28800, want: OK, remMinute: -1, remDay: 0},
	})
}

// TestRetryAfterAdmits checks, for every quota kind, that a request sent
// Retry-After seconds after a 429 (with nothing else sent) is admitted and
// one sent a second earlier is not.
func TestRetryAfterAdmits(t *testing.T) {
	t.Parallel()
	for _, kind := range []QuotaKind{QuotaFixedWindow, QuotaSlidingWindow, QuotaTokenBucket} {
		m := newModel(t, zeroLatency+"  quota: "+string(kind)+"\n  tiers:\n    tier1: {requests_per_minute: 7, tokens_per_minute: 1000, requests_per_day: 50}\n")
		now := at(13.25)
		for i := 0; i < 200; i++ {
			req := qs("cmp_demo_tier1", "latte_v1", int64(37*i%300))
			got := m.Handle(now, &req)
			if got.Code == RateLimitExceeded {
				if got.RetryAfter < 1 {
					t.Fatalf("%s: Handle(%v) Retry-After = %d; want ≥ 1", kind, now, got.RetryAfter)
				}
				if got.RetryAfter > 1 {
					if early := m.Handle(now.Add(time.Duration(got.RetryAfter-1)*time.Second), &req); early.Code != RateLimitExceeded {
						t.Errorf("%s: Retry-After %d at %v, but admitted a second early (%v)", kind, got.RetryAfter, now, early.Code)
					}
				}
				now = now.Add(time.Duration(got.RetryAfter) * time.Second)
				if again := m.Handle(now, &req); again.Code != OK {
					t.Errorf("%s: Retry-After %d, then Handle(%v, tokens %d) = %v Retry-After %d; want OK", kind, got.RetryAfter, now, req.Tokens, again.Code, again.RetryAfter)
				}
			}
			now = now.Add(700 * time.Millisecond)
		}
	}
}

// breakerCfg: every upstream call takes 1 s (median = p99) and fails until 20 s.
const breakerCfg = `api:
  upstream:
    latency: {median: 1s, p99: 1s}
    incidents: [{start: 0s, duration: 20s, error_rate: 1}]
  circuit: {window: 10s, min_requests: 3, failure_ratio: 0.5, open_for: 10s, half_open_probes: 2}
`

func TestBreakerTransitions(t *testing.T) {
	t.Parallel()
	m := newModel(t, breakerCfg)
	tests := []struct {
		at         float64
		want       Code
		retryAfter int
		state      sim.CircuitState // after the request
	}{
		{0, InternalError, 0, sim.CircuitClosed},            // fails at ~1.0
		{0.1, InternalError, 0, sim.CircuitClosed},          // ~1.1
		{0.2, InternalError, 0, sim.CircuitClosed},          // ~1.2
		{0.3, InternalError, 0, sim.CircuitClosed},          // ~1.3: nothing completed yet
		{1.05, InternalError, 0, sim.CircuitClosed},         // 1 completed call < min_requests
		{1.25, ServiceUnavailable, 10, sim.CircuitOpen},     // 3 failures completed: open at ~1.2 until ~11.2
		{11.1, ServiceUnavailable, 1, sim.CircuitOpen},      // ceil(0.1 s)
		{11.5, InternalError, 0, sim.CircuitHalfOpen},       // probe 1 (incident still on)
		{11.6, InternalError, 0, sim.CircuitHalfOpen},       // probe 2
		{11.7, ServiceUnavailable, 1, sim.CircuitHalfOpen},  // probes in flight
		{12.55, ServiceUnavailable, 10, sim.CircuitOpen},    // probe 1 failed at ~12.5: open until ~22.5
		{22.6, OK, 0, sim.CircuitHalfOpen},                  // incident over: probe 1
		{22.7, OK, 0, sim.CircuitHalfOpen},                  // probe 2
		{22.8, ServiceUnavailable, 1, sim.CircuitHalfOpen},  // probes in flight
		{23.65, ServiceUnavailable, 1, sim.CircuitHalfOpen}, // one probe done, one in flight
		{23.75, OK, 0, sim.CircuitClosed},                   // both succeeded: closed
	}
	for i, tt := range tests {
		req := qs("cmp_demo_tier5", "latte_v1", 1)
		got := m.Handle(at(tt.at), &req)
		state := m.Circuit(at(tt.at))
		if got.Code != tt.want || got.RetryAfter != tt.retryAfter || state != tt.state {
			t.Errorf("row %d: Handle(t0+%vs) = %v Retry-After %d, Circuit = %v; want %v %d %v", i, tt.at, got.Code, got.RetryAfter, state, tt.want, tt.retryAfter, tt.state)
		}
	}
	st := m.Stats()
	if st.Transitions != [3]uint64{1, 2, 2} {
		t.Errorf("Stats().Transitions = %v; want closed 1, half_open 2, open 2", st.Transitions)
	}
	if st.Upstream[UpstreamError] != 7 || st.Upstream[UpstreamOK] != 3 {
		t.Errorf("Stats().Upstream = %v; want 7 errors, 3 ok", st.Upstream)
	}
}

func TestBreakerMinRequestsExact(t *testing.T) {
	t.Parallel()
	// The conformance case: every call fails, min_requests 5, sequential.
	for _, lat := range []string{"0s", "80ms"} {
		m := newModel(t, "api:\n  upstream:\n    latency: {median: "+lat+"}\n    incidents: [{start: 0s, duration: 1h, error_rate: 1}]\n  circuit: {min_requests: 5, half_open_probes: 1}\n")
		now := t0
		var codes []Code
		for range 7 {
			req := qs("cmp_demo_tier5", "latte_v1", 1)
			got := m.Handle(now, &req)
			codes = append(codes, got.Code)
			now = now.Add(got.Latency + time.Millisecond)
		}
		want := []Code{InternalError, InternalError, InternalError, InternalError, InternalError, ServiceUnavailable, ServiceUnavailable}
		if fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Errorf("latency %s: 7 sequential Handle = %v; want %v", lat, codes, want)
		}
	}
}

func TestBreakerRatioAndWindow(t *testing.T) {
	t.Parallel()
	// capacity_rps 1: per second, the first call succeeds (instantly) and the
	// second overflows, failing after the 2 s timeout.
	tests := []struct {
		circuit string
		want    sim.CircuitState
	}{
		{"{min_requests: 4, failure_ratio: 0.5}", sim.CircuitOpen},               // 2 of 4 ≥ 0.5
		{"{min_requests: 4, failure_ratio: 0.6}", sim.CircuitClosed},             // 0.5 < 0.6
		{"{min_requests: 5, failure_ratio: 0.5}", sim.CircuitClosed},             // only 4 calls
		{"{min_requests: 4, failure_ratio: 0.5, window: 2s}", sim.CircuitClosed}, // 0 s and 1 s successes left the window
	}
	for _, tt := range tests {
		m := newModel(t, "api:\n  upstream:\n    latency: {median: 0s}\n    capacity_rps: 1\n  circuit: "+tt.circuit+"\n")
		var codes []Code
		for _, s := range []float64{0, 0.5, 1, 1.5} {
			req := qs("cmp_demo_tier5", "latte_v1", 1)
			got := m.Handle(at(s), &req)
			codes = append(codes, got.Code)
			if got.Code == InternalError && got.Latency != 2*time.Second {
				t.Errorf("%s: overflow latency = %v; want the 2s timeout", tt.circuit, got.Latency)
			}
		}
		if got := m.Circuit(at(3.5)); got != tt.want || fmt.Sprint(codes) != fmt.Sprint([]Code{OK, InternalError, OK, InternalError}) {
			t.Errorf("circuit %s: codes %v, Circuit(t0+3.5s) = %v; want [OK 500 OK 500], %v", tt.circuit, codes, got, tt.want)
		}
		if st := m.Stats(); st.Upstream[UpstreamOverflow] != 2 || st.Upstream[UpstreamOK] != 2 {
			t.Errorf("circuit %s: Stats().Upstream = %v; want 2 ok, 2 overflow", tt.circuit, st.Upstream)
		}
	}
}

func TestInjectedFaultsAreNotBreakerFailures(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  internal_error_rate: 1\n  circuit: {min_requests: 1}\n")
	for i := range 10 {
		req := qs("cmp_demo_tier5", "latte_v1", 1)
		if got := m.Handle(at(float64(i)), &req); got.Code != InternalError || got.Upstream {
			t.Errorf("Handle(t0+%ds) = %v upstream %v; want an injected 500 without upstream", i, got.Code, got.Upstream)
		}
	}
	if s, st := m.Circuit(at(10)), m.Stats(); s != sim.CircuitClosed || st.InternalFaults != 10 {
		t.Errorf("after 10 injected faults: Circuit = %v, InternalFaults = %d; want closed, 10", s, st.InternalFaults)
	}
}

func TestIncidents(t *testing.T) {
	t.Parallel()
	m := newModel(t, `api:
  tiers:
    tier5: {requests_per_minute: -1, requests_per_day: -1, tokens_per_minute: -1}
  upstream:
    latency: {median: 100ms, p99: 100ms}
    incidents:
      - {start: 0s, duration: 60s, error_rate: 0.5, latency_factor: 2}
      - {start: 30s, duration: 60s, error_rate: 0.5, latency_factor: 3}
      - {start: 200s, duration: 10s, latency_factor: 30}
  circuit: {min_requests: 1000000}
`)
	tests := []struct {
		at       float64
		errRate  float64
		latency  time.Duration
		timeouts bool
	}{
		{10, 0.5, 200 * time.Millisecond, false},  // first incident
		{45, 0.75, 600 * time.Millisecond, false}, // overlap: 1 − 0.5×0.5, 2×3
		{75, 0.5, 300 * time.Millisecond, false},  // second incident
		{100, 0, 100 * time.Millisecond, false},   // none
		{205, 0, 2 * time.Second, true},           // 3 s > timeout: every call times out
	}
	const n = 4000
	for _, tt := range tests {
		fails := 0
		for i := range n {
			req := qs("cmp_demo_tier5", "latte_v1", 1)
			got := m.Handle(at(tt.at).Add(time.Duration(i)*time.Microsecond), &req)
			if got.Code == InternalError {
				fails++
			}
			if d := got.Latency - tt.latency; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("Handle(t0+%vs) latency = %v; want %v", tt.at, got.Latency, tt.latency)
			}
		}
		rate := float64(fails) / n
		if tt.timeouts {
			if fails != n {
				t.Errorf("t0+%vs: %d of %d failed; want all (timeouts)", tt.at, fails, n)
			}
			continue
		}
		if math.Abs(rate-tt.errRate) > 0.04 {
			t.Errorf("t0+%vs: error rate %.3f over %d calls; want %.2f ± 0.04", tt.at, rate, n, tt.errRate)
		}
	}
	if st := m.Stats(); st.Upstream[UpstreamTimeout] != n {
		t.Errorf("Stats().Upstream[timeout] = %d; want %d", st.Upstream[UpstreamTimeout], n)
	}
}

func TestLatencyDistribution(t *testing.T) {
	t.Parallel()
	m := New(mustDefaults(t), t0, 3)
	m.keys["cmp_demo_tier5"].min = newSpan(QuotaFixedWindow, minuteSpan, -1, -1, t0)
	m.keys["cmp_demo_tier5"].day = newSpan(QuotaFixedWindow, daySpan, -1, -1, t0)
	const n = 20000
	below80, below400 := 0, 0
	for i := range n {
		req := qs("cmp_demo_tier5", "latte_v1", 1)
		got := m.Handle(t0.Add(time.Duration(i)*time.Millisecond), &req)
		if got.Latency < 80*time.Millisecond {
			below80++
		}
		if got.Latency < 400*time.Millisecond {
			below400++
		}
	}
	if f := float64(below80) / n; math.Abs(f-0.5) > 0.02 {
		t.Errorf("P(latency < median 80ms) = %.3f; want 0.50 ± 0.02", f)
	}
	if f := float64(below400) / n; math.Abs(f-0.99) > 0.004 {
		t.Errorf("P(latency < p99 400ms) = %.4f; want 0.990 ± 0.004", f)
	}
}

func TestCapacityOverflow(t *testing.T) {
	t.Parallel()
	m := newModel(t, "api:\n  upstream: {capacity_rps: 2, latency: {median: 0s}}\n")
	tests := []struct {
		at      float64
		want    Code
		latency time.Duration
	}{
		{0, OK, 0},                            // 1st in second 0
		{0.5, OK, 0},                          // 2nd
		{0.9, InternalError, time.Second * 2}, // 3rd: overflow after the timeout
		{1, OK, 0},                            // new second
	}
	for _, tt := range tests {
		req := qs("cmp_demo_tier5", "latte_v1", 1)
		got := m.Handle(at(tt.at), &req)
		if got.Code != tt.want || got.Latency != tt.latency || !got.Upstream {
			t.Errorf("Handle(t0+%vs) = %v latency %v upstream %v; want %v %v upstream", tt.at, got.Code, got.Latency, got.Upstream, tt.want, tt.latency)
		}
	}
}

func TestClampNow(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  tiers:\n    tier1: {requests_per_minute: 1}\n")
	req := qs("cmp_demo_tier1", "latte_v1", 1)
	m.Handle(at(61), &req)
	// An older instant (previous minute) is clamped: the minute stays spent.
	if got := m.Handle(at(59), &req); got.Code != RateLimitExceeded || got.RetryAfter != 59 {
		t.Errorf("Handle(t0+59s) after t0+61s = %v Retry-After %d; want 429 after 59 s (clamped to t0+61s)", got.Code, got.RetryAfter)
	}
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	m := newModel(t, zeroLatency+"  keys: [{key: cmp_team, name: team-a, tier: tier2}]\n")
	req := qs("cmp_team", "latte_v1", 40)
	m.Handle(t0, &req)
	got := map[string]KeyQuota{}
	m.Quotas(t0, func(q KeyQuota) { got[q.Name+"/"+q.Window+"/"+q.Kind] = q })
	want := map[string]int64{
		"team-a/minute/requests": 119, "team-a/minute/tokens": 500_000 - 40,
		"team-a/day/requests": 9_999, "team-a/day/tokens": -1, "demo_tier1/minute/requests": 60,
	}
	for k, v := range want {
		if got[k].Remaining != v {
			t.Errorf("Quotas(t0)[%s].Remaining = %d; want %d", k, got[k].Remaining, v)
		}
	}
	if len(got) != 6*4 {
		t.Errorf("Quotas(t0) gave %d entries; want 24 (6 active keys × 4)", len(got))
	}
	for k := range got {
		if k[:4] == "cmp_" || got[k].Name == "demo_expired" || got[k].Name == "demo_revoked" {
			t.Errorf("Quotas(t0) lists %q: want names of active keys only", k)
		}
	}
	m.Quotas(at(60), func(q KeyQuota) {
		if q.Name == "team-a" && q.Window == "minute" && q.Kind == "requests" && q.Remaining != 120 {
			t.Errorf("Quotas(t0+60s) team-a minute requests = %d; want 120", q.Remaining)
		}
	})
}

func TestConcurrentQuotaExact(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, kind := range []QuotaKind{QuotaFixedWindow, QuotaSlidingWindow, QuotaTokenBucket} {
		m := newModel(t, zeroLatency+"  quota: "+string(kind)+"\n")
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[Code]int{}
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := qs("cmp_demo_tier1", "latte_v1", 1)
				got := m.Handle(t0.Add(time.Duration(i)*time.Millisecond), &req)
				mu.Lock()
				counts[got.Code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[OK] != 60 || counts[RateLimitExceeded] != 140 {
			t.Errorf("%s: 200 concurrent Handle in one minute = %v; want exactly 60 OK, 140 429", kind, counts)
		}
	}
}

func benchModel(b *testing.B, kind QuotaKind) *Model {
	r, err := resolveYAML(b, "api:\n  quota: "+string(kind)+"\n  tiers:\n    big: {rank: 9, requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, requests_per_day: 1000000000, tokens_per_day: 1000000000000}\n  keys: [{key: cmp_bench, tier: big}]\n")
	if err != nil {
		b.Fatal(err)
	}
	return New(r, t0, 1)
}

func BenchmarkHandle(b *testing.B) {
	for _, kind := range []QuotaKind{QuotaFixedWindow, QuotaSlidingWindow, QuotaTokenBucket} {
		b.Run(string(kind), func(b *testing.B) {
			m := benchModel(b, kind)
			req := qs("cmp_bench", "latte_v1", 200)
			now := t0
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(time.Millisecond)
				// A draw above the 2 s timeout (p ≈ 2e-6) is a 500.
				if got := m.Handle(now, &req); got.Code != OK && got.Code != InternalError {
					b.Fatalf("Handle = %v", got.Code)
				}
			}
		})
	}
	// The mock benchmark's configuration (benchmarks/mock/mock.yaml): no
	// modelled upstream latency, so no latency draw and no pending calls.
	b.Run("fixed-window-zero-latency", func(b *testing.B) {
		r, err := resolveYAML(b, "api:\n  upstream: {latency: {median: 0s, p99: 0s}}\n  tiers:\n    big: {rank: 9, requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, requests_per_day: 1000000000, tokens_per_day: 1000000000000}\n  keys: [{key: cmp_bench, tier: big}]\n")
		if err != nil {
			b.Fatal(err)
		}
		m := New(r, t0, 1)
		req := qs("cmp_bench", "latte_v1", 200)
		now := t0
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Millisecond)
			if got := m.Handle(now, &req); got.Code != OK {
				b.Fatalf("Handle = %v", got.Code)
			}
		}
	})
	b.Run("429", func(b *testing.B) {
		m := benchModel(b, QuotaFixedWindow)
		req := qs("cmp_demo_tier1", "latte_v1", 200)
		for range 60 {
			m.Handle(t0, &req)
		}
		b.ReportAllocs()
		for b.Loop() {
			if got := m.Handle(t0, &req); got.Code != RateLimitExceeded {
				b.Fatalf("Handle = %v", got.Code)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"context":"Machine learning is a field of study in artificial intelligence.","query":"What is machine learning?","compression_model_name":"latte_v1"}`)
	b.ReportAllocs()
	for b.Loop() {
		if req, _ := Decode(RouteQuestionSpecific, "k", body); req.Problem != OK {
			b.Fatal(req.ProblemMessage)
		}
	}
}

// TestBucketMatchesRate drives the model's token bucket and a
// golang.org/x/time/rate.Limiter of the same rate and burst with the same
// pseudo-random sequence of checks and takes: they must agree exactly, as
// the bucket replaces the Limiter on the hot path.
func TestBucketMatchesRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		limit, seconds int64
	}{
		{60, minuteSpan},    // tier1 requests per minute
		{250_000, 60},       // tier1 tokens per minute
		{5_000, daySpan},    // tier1 requests per day
		{1, minuteSpan},     // the smallest limit
		{1_000_000_000, 60}, // a huge one
	} {
		s := newSpan(QuotaTokenBucket, tt.seconds, tt.limit, -1, t0)
		b := &s.buckets[0]
		lim := rate.NewLimiter(rate.Limit(float64(tt.limit)/float64(tt.seconds)), int(tt.limit))
		rng := rand.New(rand.NewPCG(uint64(tt.limit), 1))
		rel := int64(0)
		for i := range 5000 {
			rel += rng.Int64N(int64(2 * time.Second / time.Duration(max(1, tt.limit/tt.seconds))))
			now := t0.Add(time.Duration(rel))
			if got, want := b.at(rel), lim.TokensAt(now); got != want {
				t.Fatalf("limit %d/%ds step %d: bucket.at(%d) = %v; rate.Limiter.TokensAt = %v", tt.limit, tt.seconds, i, rel, got, want)
			}
			n := 1 + rng.Int64N(max(1, tt.limit/10))
			if b.at(rel) >= float64(n) {
				b.take(rel, n)
				if !lim.AllowN(now, int(n)) {
					t.Fatalf("limit %d/%ds step %d: bucket took %d tokens; rate.Limiter.AllowN refused", tt.limit, tt.seconds, i, n)
				}
			}
		}
	}
}

// TestMonotonicClock: a model started with time.Now() (monotonic reading)
// decides as one fed the same instants without it.
func TestMonotonicClock(t *testing.T) {
	t.Parallel()
	r, err := resolveYAML(t, "api:\n  upstream: {latency: {median: 20ms, p99: 1s}}\n")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	mono, wall := New(r, start, 5), New(r, start.Round(0), 5)
	for i := range 300 {
		now := start.Add(time.Duration(i) * 7 * time.Millisecond)
		req := qs("cmp_demo_tier1", "latte_v1", 10)
		if got, want := mono.Handle(now, &req), wall.Handle(now.Round(0), &req); got != want {
			t.Fatalf("request %d: Handle(monotonic now) = %+v; without the monotonic reading %+v", i, got, want)
		}
	}
}

// TestBindMatchesLookup: a request bound with Model.Bind gets exactly the
// decision the same request gets unbound, for every key and model case; a
// request bound to another model is looked up as usual.
func TestBindMatchesLookup(t *testing.T) {
	t.Parallel()
	newModel := func() *Model {
		r, err := resolveYAML(t, "api:\n  keys: [{key: cmp_gone, tier: tier2, revoked: true}]\n")
		if err != nil {
			t.Fatal(err)
		}
		return New(r, t0, 1)
	}
	for _, tt := range []struct {
		name, key, model string
		edit             func(*Request) // nil: a valid body
	}{
		{"known key and model", "cmp_demo_tier2", "latte_v1", nil},
		{"unknown key", "cmp_nobody", "latte_v1", nil},
		{"revoked key", "cmp_gone", "latte_v1", nil},
		{"expired demo key", "cmp_demo_expired", "latte_v1", nil},
		{"unknown model", "cmp_demo_tier2", "nope_v9", nil},
		{"model above the tier", "cmp_demo_tier1", "latte_v2", nil},
		{"no model", "cmp_demo_tier2", "", nil},
		{"invalid body", "cmp_demo_tier2", "latte_v1", func(r *Request) { r.Problem, r.ProblemMessage = InvalidRequest, "bad" }},
		{"problem without a message", "cmp_demo_tier2", "latte_v1", func(r *Request) { r.Problem = ValidationError }},
		{"problem, unknown key", "cmp_nobody", "latte_v1", func(r *Request) { r.Problem = InvalidRequest }},
		{"ratio out of range", "cmp_demo_tier2", "latte_v1", func(r *Request) { r.Ratio = 201 }},
		{"empty batch", "cmp_demo_tier2", "latte_v1", func(r *Request) { r.Route, r.Items = RouteQuestionSpecificBatch, 0 }},
		{"tokens above the minute's budget", "cmp_demo_tier1", "latte_v1", func(r *Request) { r.Tokens = 1 << 40 }},
	} {
		plain, bound, other := newModel(), newModel(), newModel()
		req := qs(tt.key, tt.model, 100)
		if tt.edit != nil {
			tt.edit(&req)
		}
		breq := req
		bound.Bind(&breq)
		oreq := req
		other.Bind(&oreq) // bound to other, handled by plain's twin below
		twin := newModel()
		for i := range 70 { // past tier1's 60/minute: 429s too
			now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
			want := plain.Handle(now, &req)
			if got := bound.Handle(now, &breq); got != want {
				t.Fatalf("%s: request %d: bound Handle = %+v; unbound %+v", tt.name, i, got, want)
			}
			if got := twin.Handle(now, &oreq); got != want {
				t.Fatalf("%s: request %d: Handle of a request bound to another model = %+v; want %+v", tt.name, i, got, want)
			}
		}
	}
}

// TestBreakerOpensAsEagerWindow: the closed breaker, which drops calls that
// left its window only when one it keeps has failed (or its ring is full),
// opens exactly when a breaker recounting its window after every call
// would: same call, same time. Long runs of successes (far more than the
// ring's first capacity) alternate with bursts of failures.
func TestBreakerOpensAsEagerWindow(t *testing.T) {
	t.Parallel()
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		cfg := Circuit{Window: time.Duration(1+rng.IntN(5)) * time.Second, MinRequests: 1 + rng.IntN(30),
			FailureRatio: 0.05 + 0.95*rng.Float64(), OpenFor: time.Second, HalfOpenProbes: 1}
		b := breaker{cfg: cfg}
		var calls []outcome // every call so far, for the eager count
		lo := 0             // calls[:lo] left the window
		at := time.Duration(0)
		for i := range 5000 {
			at += time.Duration(rng.IntN(20)) * time.Millisecond
			failRate := 0.0
			if (i/500)%3 == 2 { // every third stretch of 500 calls fails often
				failRate = rng.Float64()
			}
			failed := rng.Float64() < failRate
			calls = append(calls, outcome{at: at, failed: failed})
			for calls[lo].at <= at-cfg.Window {
				lo++
			}
			n, failures := len(calls)-lo, 0
			for _, c := range calls[lo:] {
				if c.failed {
					failures++
				}
			}
			wantOpen := n >= cfg.MinRequests && float64(failures) >= cfg.FailureRatio*float64(n)
			b.complete(newCompletion(at, b.gen, uint32(i), failed, false))
			if gotOpen := b.state == sim.CircuitOpen; gotOpen != wantOpen {
				t.Fatalf("seed %d, call %d at %v (failed %v): open = %v; recounting the window (%d calls, %d failed) gives %v",
					seed, i, at, failed, gotOpen, n, failures, wantOpen)
			}
			if wantOpen {
				break
			}
		}
	}
}

// TestHandleAtMatchesHandle: HandleAt at an offset answers as Handle at the
// start plus that offset (quota windows, Retry-After, breaker and latency
// draws included), and clamps an older offset as Handle clamps an older
// instant.
func TestHandleAtMatchesHandle(t *testing.T) {
	t.Parallel()
	y := "api:\n  tiers:\n    tier1: {requests_per_minute: 5}\n  upstream:\n    latency: {median: 80ms, p99: 400ms}\n" +
		"    incidents: [{start: 20s, duration: 30s, error_rate: 0.8}]\n"
	byTime, byOffset := newModel(t, y), newModel(t, y)
	for i, off := range []time.Duration{0, time.Second, 30 * time.Second, 29 * time.Second, 61 * time.Second, 90 * time.Second} {
		for j := range 40 {
			d := off + time.Duration(j)*250*time.Millisecond
			for _, key := range []string{"cmp_demo_tier1", "cmp_demo_tier3"} {
				req := qs(key, "latte_v1", 100)
				want := byTime.Handle(t0.Add(d), &req)
				got := Response{Message: "stale", Tokens: 7} // overwritten whole
				if byOffset.HandleAt(d, &req, &got); got != want {
					t.Fatalf("step %d.%d, %s at +%s: HandleAt = %+v; Handle = %+v", i, j, key, d, got, want)
				}
			}
		}
	}
}

// TestLazyBreakerMatchesEager: a breaker that goes lazy while nothing fails
// decides every call as one that never does: same admissions, same state
// and transitions after every call. Times and latencies fall on a coarse
// grid, so that many calls end at the same instant (ties with failures
// included); stretches of successes longer than lazyAfter windows
// alternate with stretches of failures, and zero latencies occur.
func TestLazyBreakerMatchesEager(t *testing.T) {
	t.Parallel()
	lazySeen := 0
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 12))
		cfg := Circuit{Window: time.Duration(1+rng.IntN(4)) * time.Second, MinRequests: 1 + rng.IntN(20),
			FailureRatio: 0.05 + 0.95*rng.Float64(), OpenFor: time.Duration(1+rng.IntN(3)) * time.Second, HalfOpenProbes: 1 + rng.IntN(3)}
		lazy, eager := newBreaker(cfg), newBreaker(cfg)
		eager.lazy, eager.lazyGap = false, math.MaxInt64
		grid := time.Duration(1+rng.IntN(50)) * time.Millisecond
		now := time.Duration(0)
		for i := range 4000 {
			now += grid * time.Duration(rng.IntN(3))
			lazy.advance(now)
			eager.advance(now)
			lazySeen += map[bool]int{true: 1}[lazy.lazy]
			okL, probeL, raL := lazy.admit(now)
			okE, probeE, raE := eager.admit(now)
			if okL != okE || probeL != probeE || raL != raE {
				t.Fatalf("seed %d, call %d at %v: lazy admit %v %v %d; eager %v %v %d", seed, i, now, okL, probeL, raL, okE, probeE, raE)
			}
			if okL {
				failRate := 0.0
				if (i/700)%3 == 2 {
					failRate = rng.Float64()
				}
				failed := rng.Float64() < failRate
				end := now + grid*time.Duration(rng.IntN(40))
				lazy.start(now, end, failed, probeL)
				eager.start(now, end, failed, probeE)
			}
			if lazy.state != eager.state || lazy.gen != eager.gen || lazy.transitions != eager.transitions {
				t.Fatalf("seed %d, call %d at %v: lazy %v gen %d %v; eager %v gen %d %v",
					seed, i, now, lazy.state, lazy.gen, lazy.transitions, eager.state, eager.gen, eager.transitions)
			}
		}
	}
	if lazySeen == 0 {
		t.Fatal("no breaker ever went lazy; the test compares nothing")
	}
}

// TestCompletionHeapOrder: the breaker's heap hands back calls by end time
// and, among calls ending at the same instant, in the order they started,
// also across the wrap of the 30-bit start order.
func TestCompletionHeapOrder(t *testing.T) {
	t.Parallel()
	for _, first := range []uint32{0, 1<<30 - 500} {
		rng := rand.New(rand.NewPCG(uint64(first), 3))
		var h completionHeap
		var want []completion
		seq := first
		for range 20 {
			for range rng.IntN(200) {
				c := newCompletion(time.Duration(rng.IntN(30))*time.Millisecond, 7, seq, rng.IntN(2) == 0, false)
				seq++
				h.push(c)
				want = append(want, c)
			}
			// Pop some: the smallest by (time, start order) first.
			slices.SortStableFunc(want, func(x, y completion) int { return cmp.Compare(x.at, y.at) })
			for k := rng.IntN(len(want) + 1); k > 0; k-- {
				if got := h.pop(); got != want[0] {
					t.Fatalf("start %d: pop = %+v; want %+v", first, got, want[0])
				}
				want = want[1:]
			}
		}
	}
}
