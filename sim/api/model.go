package api

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// Static messages of the model's responses.
const (
	msgNotFound       = "route not found; see the route table of the API reference"
	msgMissingKey     = "missing X-API-Key header; send your API key in X-API-Key"
	msgInvalidKey     = "invalid API key: unknown, malformed or revoked; issue a new key in the dashboard"
	msgExpiredKey     = "API key expired; issue a fresh key in the dashboard"
	msgUnknownModel   = "compression_model_name: unknown model; see GET /api/compress/models"
	msgTokensMinute   = "tokens: the request needs more tokens than the tier's per-minute token budget; split it"
	msgTokensDay      = "tokens: the request needs more tokens than the tier's per-day token budget; split it"
	msgItems          = "inputs: must have 1 to 100 items"
	msgForbidden      = "the key's tier may not use this compression model; upgrade the tier or pick another model"
	msgRateLimited    = "rate limit exceeded for this key's tier; retry after Retry-After seconds"
	msgCircuitOpen    = "upstream compression service unavailable (circuit open); retry after Retry-After seconds"
	msgInternalFault  = "internal server error; retry once with a short delay"
	msgUpstreamFailed = "internal server error: the upstream compression service failed; retry once with a short delay"
)

// UpstreamResult classifies a call that reached the upstream.
type UpstreamResult uint8

// Upstream results (the `result` label of compresr_mock_upstream_calls_total).
const (
	UpstreamOK       UpstreamResult = iota // answered in time
	UpstreamError                          // failed (incident error_rate)
	UpstreamTimeout                        // latency reached upstream.timeout
	UpstreamOverflow                       // beyond capacity_rps in its second; fails after upstream.timeout
	numUpstreamResults
)

// NumUpstreamResults is the number of UpstreamResult values, for arrays
// indexed by result.
const NumUpstreamResults = int(numUpstreamResults)

var upstreamNames = [...]string{"ok", "error", "timeout", "overflow"}

// String returns "ok", "error", "timeout" or "overflow".
func (r UpstreamResult) String() string {
	if int(r) < len(upstreamNames) {
		return upstreamNames[r]
	}
	return "unknown"
}

// Stats are cumulative counters since New.
type Stats struct {
	// Transitions counts circuit transitions by the state entered, indexed
	// by sim.CircuitState.
	Transitions [3]uint64
	// Upstream counts calls that reached the upstream, by result.
	Upstream [NumUpstreamResults]uint64
	// InternalFaults counts injected internal_error_rate 500s (not breaker
	// failures).
	InternalFaults uint64
}

// KeyQuota is what one active key has left in one window of one kind.
type KeyQuota struct {
	Name      string // the key's name (never the key)
	Tier      string
	Window    string // "minute" or "day"
	Kind      string // "requests" or "tokens"
	Limit     int64  // -1 unlimited
	Remaining int64  // -1 unlimited
}

// keyState is one key and its quota.
type keyState struct {
	Key
	tier     *Tier
	rank     int
	min, day span
}

// incident is an Incident as offsets from the model's start.
type incident struct {
	from, to        time.Duration
	errRate, factor float64
}

// Model is the Compresr API model: it decides each request at a given
// instant, with quotas, the upstream and the circuit breaker. Build it with
// New. It is safe for concurrent use (one mutex); time passed to its methods
// is clamped to be non-decreasing.
type Model struct {
	cfg   Resolved
	start time.Time

	mu        sync.Mutex
	last      time.Time
	rng       *rand.Rand
	keys      map[string]*keyState
	order     []*keyState
	modelRank map[string]int

	mu0, sigma float64 // log-normal latency parameters (ln ns)
	incidents  []incident
	capLimit   int64 // calls per clock-aligned second (0 = unlimited)
	capSecond  int64
	capCount   int64

	br    breaker
	stats Stats
}

// z99 is the standard normal 99th percentile.
const z99 = 2.3263478740408408

// New builds a model from cfg. start is the instant incidents count from;
// seed seeds the model's own PCG source (internal faults, incident errors,
// latency draws), so equal inputs give equal decisions.
func New(cfg Resolved, start time.Time, seed uint64) *Model {
	m := &Model{
		cfg:       cfg,
		start:     start,
		last:      start,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		keys:      make(map[string]*keyState, len(cfg.Keys)),
		modelRank: make(map[string]int, len(cfg.Models)),
		br:        breaker{cfg: cfg.Circuit},
		capSecond: math.MinInt64,
	}
	if cfg.Upstream.CapacityRPS > 0 {
		m.capLimit = int64(math.Ceil(cfg.Upstream.CapacityRPS))
	}
	if med := cfg.Upstream.Median; med > 0 {
		m.mu0 = math.Log(float64(med))
		m.sigma = (math.Log(float64(cfg.Upstream.P99)) - m.mu0) / z99
	}
	for _, in := range cfg.Upstream.Incidents {
		m.incidents = append(m.incidents, incident{from: in.Start, to: in.Start + in.Duration, errRate: in.ErrorRate, factor: in.LatencyFactor})
	}
	for name, cm := range cfg.Models {
		m.modelRank[name] = cfg.Tiers[cm.MinTier].Rank
	}
	kind := cfg.Quota
	if kind == "" {
		kind = QuotaFixedWindow
	}
	for _, k := range cfg.Keys {
		t, ok := cfg.Tiers[k.Tier]
		if !ok {
			continue // Resolve rejects this; a hand-built Resolved may not
		}
		ks := &keyState{Key: k, tier: &t, rank: t.Rank,
			min: newSpan(kind, minuteSpan, t.RequestsPerMinute, t.TokensPerMinute),
			day: newSpan(kind, daySpan, t.RequestsPerDay, t.TokensPerDay)}
		if _, dup := m.keys[k.Key]; !dup {
			m.keys[k.Key] = ks
			m.order = append(m.order, ks)
		}
	}
	return m
}

// Config returns the configuration the model was built with.
func (m *Model) Config() Resolved { return m.cfg }

// clamp makes time non-decreasing (concurrent callers may pass slightly
// older instants). Call with mu held.
func (m *Model) clamp(now time.Time) time.Time {
	if now.Before(m.last) {
		return m.last
	}
	m.last = now
	return now
}

// limits is the key's X-RateLimit-* view at now (after roll).
func (k *keyState) limits(now time.Time) sim.RateLimits {
	return sim.RateLimits{Tier: k.Tier,
		LimitMinute: k.min.limit[0], RemainingMinute: k.min.remaining(now, 0),
		LimitDay: k.day.limit[0], RemainingDay: k.day.remaining(now, 0)}
}

// Handle decides one request at now, in the contract's order: route (404),
// 401 (missing, invalid or revoked, expired key), req.Problem (400/422),
// 422 (unknown model, tokens above the tier's token budgets, batch size),
// 403 (model above the key's tier), 429 (quota), 503 (circuit open, or
// half-open with its probes in flight: Retry-After 1), 500 (injected fault,
// or upstream failure: incident error, timeout, capacity overflow), 200.
// RouteHealth, RouteModels and RouteMetrics need no key and answer OK;
// RouteRateLimits authenticates and answers OK with Limits. Every response
// after authentication carries Limits (Remaining counts this request).
// Method checks (405) are the caller's. Handle does not allocate on the
// success path (amortised) and is safe for concurrent use.
func (m *Model) Handle(now time.Time, req *Request) Response {
	switch req.Route {
	case RouteHealth, RouteModels, RouteMetrics:
		return Response{Code: OK}
	case RouteQuestionSpecific, RouteQuestionSpecificBatch, RouteQuestionAgnostic, RouteQuestionAgnosticBatch, RouteRateLimits:
	default:
		return Response{Code: NotFound, Message: msgNotFound}
	}
	if req.Key == "" {
		return Response{Code: MissingAPIKey, Message: msgMissingKey}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now = m.clamp(now)
	rel := now.Sub(m.start)
	m.br.advance(rel)

	k := m.keys[req.Key]
	switch {
	case k == nil || k.Revoked:
		return Response{Code: InvalidAPIKey, Message: msgInvalidKey}
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return Response{Code: ExpiredAPIKey, Message: msgExpiredKey}
	}
	k.min.roll(now)
	k.day.roll(now)
	resp := m.decide(now, rel, k, req)
	// Limits after the decision: Remaining counts this request if admitted.
	resp.Limits = k.limits(now)
	return resp
}

// decide runs the checks after authentication. Call with mu held.
func (m *Model) decide(now time.Time, rel time.Duration, k *keyState, req *Request) Response {
	var resp Response
	if req.Route == RouteRateLimits {
		return resp
	}
	resp.Tokens = req.Tokens

	// 400/422 found by Decode, then the checks that need configuration.
	if req.Problem != OK {
		resp.Code, resp.Message = req.Problem, req.ProblemMessage
		if resp.Message == "" {
			resp.Message = msgWrongType
		}
		return resp
	}
	rank, known := m.modelRank[req.Model]
	switch {
	case req.Model == "":
		resp.Code, resp.Message = ValidationError, msgModelMissing
	case !known:
		resp.Code, resp.Message = ValidationError, msgUnknownModel
	case !(req.Ratio >= 0 && req.Ratio <= 200):
		resp.Code, resp.Message = ValidationError, msgRatio
	case req.Route.Batch() && (req.Items < 1 || req.Items > MaxInputs):
		resp.Code, resp.Message = ValidationError, msgItems
	case k.tier.TokensPerMinute >= 0 && req.Tokens > k.tier.TokensPerMinute:
		resp.Code, resp.Message = ValidationError, msgTokensMinute
	case k.tier.TokensPerDay >= 0 && req.Tokens > k.tier.TokensPerDay:
		resp.Code, resp.Message = ValidationError, msgTokensDay
	case rank > k.rank:
		resp.Code, resp.Message = Forbidden, msgForbidden
	}
	if resp.Code != OK {
		return resp
	}

	// 429: all windows at once; a refusal consumes nothing.
	need := [2]int64{1, req.Tokens}
	if w := max(k.min.wait(now, need), k.day.wait(now, need)); w > 0 {
		resp.Code, resp.Message, resp.RetryAfter = RateLimitExceeded, msgRateLimited, ceilSeconds(w)
		return resp
	}
	k.min.consume(now, need)
	k.day.consume(now, need)

	// 503: circuit.
	ok, probe, ra := m.br.admit(rel)
	if !ok {
		resp.Code, resp.Message, resp.RetryAfter = ServiceUnavailable, msgCircuitOpen, ra
		return resp
	}

	// 500: injected fault (not a breaker failure, no upstream call).
	if r := m.cfg.InternalErrorRate; r > 0 && m.rng.Float64() < r {
		m.stats.InternalFaults++
		resp.Code, resp.Message = InternalError, msgInternalFault
		return resp
	}

	// The upstream call.
	lat, result := m.upstream(now, rel)
	failed := result != UpstreamOK
	m.stats.Upstream[result]++
	m.br.start(rel+lat, failed, probe)
	resp.Upstream, resp.Latency = true, lat
	if failed {
		resp.Code, resp.Message = InternalError, msgUpstreamFailed
		return resp
	}
	resp.CompressedTokens = Compress(req.Tokens, req.Ratio)
	return resp
}

// upstream draws one call at now (rel after the start): its latency and
// result. Call with mu held.
func (m *Model) upstream(now time.Time, rel time.Duration) (time.Duration, UpstreamResult) {
	timeout := m.cfg.Upstream.Timeout
	if m.capLimit > 0 {
		if sec := now.Unix(); sec != m.capSecond {
			m.capSecond, m.capCount = sec, 0
		}
		m.capCount++
		if m.capCount > m.capLimit {
			return timeout, UpstreamOverflow
		}
	}
	ok, factor := 1.0, 1.0
	for i := range m.incidents {
		in := &m.incidents[i]
		if rel >= in.from && rel < in.to {
			ok *= 1 - in.errRate
			factor *= in.factor
		}
	}
	var lat time.Duration
	if m.cfg.Upstream.Median > 0 {
		ns := math.Exp(m.mu0+m.sigma*m.rng.NormFloat64()) * factor
		lat = time.Duration(min(ns, float64(math.MaxInt64/2)))
	}
	if errRate := 1 - ok; errRate > 0 && m.rng.Float64() < errRate {
		if lat >= timeout {
			return timeout, UpstreamTimeout
		}
		return lat, UpstreamError
	}
	if lat >= timeout {
		return timeout, UpstreamTimeout
	}
	return lat, UpstreamOK
}

// Circuit returns the breaker's state at now, after processing the upstream
// calls completed by then. Safe for concurrent use.
func (m *Model) Circuit(now time.Time) sim.CircuitState {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.br.advance(m.clamp(now).Sub(m.start))
	return m.br.state
}

// Stats returns the cumulative counters. Safe for concurrent use.
func (m *Model) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Transitions = m.br.transitions
	return s
}

// Quotas calls fn, outside the model's lock, once per window (minute, day)
// and kind (requests, tokens) of every active key (neither revoked nor
// expired at now), in configuration order, with what is left at now.
func (m *Model) Quotas(now time.Time, fn func(KeyQuota)) {
	m.mu.Lock()
	now = m.clamp(now)
	out := make([]KeyQuota, 0, 4*len(m.order))
	for _, k := range m.order {
		if k.Revoked || (!k.Expires.IsZero() && !now.Before(k.Expires)) {
			continue
		}
		k.min.roll(now)
		k.day.roll(now)
		for _, w := range [...]struct {
			name string
			s    *span
		}{{"minute", &k.min}, {"day", &k.day}} {
			for i, kind := range [...]string{"requests", "tokens"} {
				out = append(out, KeyQuota{Name: k.Name, Tier: k.Tier, Window: w.name, Kind: kind,
					Limit: w.s.limit[i], Remaining: w.s.remaining(now, i)})
			}
		}
	}
	m.mu.Unlock()
	for _, q := range out {
		fn(q)
	}
}
