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

// keyState is one key and its quota, with what the hot path needs
// precomputed.
type keyState struct {
	Key
	rank     int
	tokMin   int64 // largest request the per-minute token budget allows (MaxInt64 unlimited)
	tokDay   int64 // same for the per-day budget
	expires  int64 // offset from the model's start at which the key is expired (MaxInt64 never)
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
// is clamped to be non-decreasing. Internally every instant is an int64
// offset in nanoseconds from start (instants more than 292 years away
// saturate).
type Model struct {
	cfg       Resolved
	start     time.Time
	startSec  int64 // start's Unix second and nanosecond: capacity seconds stay UTC-aligned
	startNs   int64
	startMono bool // start has a monotonic clock reading (time.Now)

	mu        sync.Mutex
	last      time.Duration // latest instant seen, as an offset from start
	rng       *rand.Rand
	keys      map[string]*keyState
	order     []*keyState
	modelRank map[string]int

	// One-entry caches of the last key and model looked up: a client sends
	// the same ones again and again, and comparing a string with the one it
	// usually is (often the same pointer) is cheaper than hashing it.
	lastKey   string
	lastKS    *keyState
	lastModel string
	lastRank  int
	lastKnown bool

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
		startSec:  start.Unix(),
		startNs:   int64(start.Nanosecond()),
		startMono: start != start.Round(0),
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		keys:      make(map[string]*keyState, len(cfg.Keys)),
		modelRank: make(map[string]int, len(cfg.Models)),
		br:        newBreaker(cfg.Circuit),
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
		ks := &keyState{Key: k, rank: t.Rank, tokMin: budget(t.TokensPerMinute), tokDay: budget(t.TokensPerDay),
			expires: math.MaxInt64,
			min:     newSpan(kind, minuteSpan, t.RequestsPerMinute, t.TokensPerMinute, start),
			day:     newSpan(kind, daySpan, t.RequestsPerDay, t.TokensPerDay, start)}
		if !k.Expires.IsZero() {
			// Saturates: an expiry before the start is MinInt64 (expired at
			// any instant the model sees).
			ks.expires = int64(k.Expires.Sub(start))
		}
		if _, dup := m.keys[k.Key]; !dup {
			m.keys[k.Key] = ks
			m.order = append(m.order, ks)
		}
	}
	return m
}

// budget is a token limit as the largest request it allows.
func budget(limit int64) int64 {
	if limit < 0 {
		return math.MaxInt64
	}
	return limit
}

// Config returns the configuration the model was built with.
func (m *Model) Config() Resolved { return m.cfg }

// clamp returns now as an offset from the start, made non-decreasing
// (concurrent callers may pass slightly older instants). Call with mu held.
func (m *Model) clamp(now time.Time) time.Duration { return m.clampOffset(m.offset(now)) }

// offset returns now as an offset from the model's start (New's start).
func (m *Model) offset(now time.Time) time.Duration {
	if sec := now.Unix() - m.startSec; !m.startMono && sec > -9e9 && sec < 9e9 {
		// now.Sub(m.start) without its overflow check, which this range
		// makes unnecessary (the simulator's clock has no monotonic reading).
		return time.Duration(sec)*time.Second + time.Duration(int64(now.Nanosecond())-m.startNs)
	}
	return now.Sub(m.start)
}

// clampOffset returns rel made non-decreasing. Call with mu held.
func (m *Model) clampOffset(rel time.Duration) time.Duration {
	if rel < m.last {
		return m.last
	}
	m.last = rel
	return rel
}

// key returns the state of key, nil if unknown. Call with mu held.
func (m *Model) key(key string) *keyState {
	if key == m.lastKey && m.lastKS != nil {
		return m.lastKS
	}
	k := m.keys[key]
	if k != nil {
		m.lastKey, m.lastKS = k.Key.Key, k
	}
	return k
}

// rank returns the rank of model's min_tier and whether the model exists.
// Call with mu held.
func (m *Model) rank(model string) (int, bool) {
	if model == m.lastModel && m.lastKnown {
		return m.lastRank, true
	}
	r, ok := m.modelRank[model]
	if ok {
		m.lastModel, m.lastRank, m.lastKnown = model, r, true
	}
	return r, ok
}

// Bind resolves req's Key, validates req for that key and computes its
// compressed tokens once, so that Handle skips these steps for req; a
// caller that sends the same requests again and again (the simulator's
// pooled requests) binds them once. req must not change afterwards (bind
// it again if it does); a request bound to another model is handled as
// usual. Safe for concurrent use.
func (m *Model) Bind(req *Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	req.bound, req.boundKey = m, m.keys[req.Key]
	req.boundCode, req.boundMessage = OK, ""
	if req.boundKey != nil {
		rank, known := m.modelRank[req.Model]
		req.boundCode, req.boundMessage = check(req, req.boundKey, rank, known)
	}
	req.boundCompressed = Compress(req.Tokens, req.Ratio)
}

// check returns how req fails validation for key k, whose model has rank
// (known: the model name is known), or OK: req.Problem (400/422 found by
// Decode), then the checks that need configuration, in the contract's
// order. It depends on the request and the key alone, so Bind runs it once.
func check(req *Request, k *keyState, rank int, known bool) (Code, string) {
	if req.Problem != OK {
		if req.ProblemMessage == "" {
			return req.Problem, msgWrongType
		}
		return req.Problem, req.ProblemMessage
	}
	switch {
	case req.Model == "":
		return ValidationError, msgModelMissing
	case !known:
		return ValidationError, msgUnknownModel
	case !(req.Ratio >= 0 && req.Ratio <= 200):
		return ValidationError, msgRatio
	case req.Route.Batch() && (req.Items < 1 || req.Items > MaxInputs):
		return ValidationError, msgItems
	case req.Tokens > k.tokMin:
		return ValidationError, msgTokensMinute
	case req.Tokens > k.tokDay:
		return ValidationError, msgTokensDay
	case rank > k.rank:
		return Forbidden, msgForbidden
	}
	return OK, ""
}

// limits sets l to the key's X-RateLimit-* view at rel (after roll).
func (k *keyState) limits(rel int64, l *sim.RateLimits) {
	l.Tier, l.LimitMinute, l.LimitDay = k.Tier, k.min.limit[0], k.day.limit[0]
	if k.min.kind == fixedWindow { // both spans: a key has one algorithm
		l.RemainingMinute, l.RemainingDay = k.min.fixedRemaining(0), k.day.fixedRemaining(0)
		return
	}
	l.RemainingMinute, l.RemainingDay = k.min.remaining(rel, 0), k.day.remaining(rel, 0)
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
// Every response carries the circuit's state after the decision (Circuit at
// now would return the same). Method checks (405) are the caller's. Handle
// does not allocate on the success path (amortised) and is safe for
// concurrent use.
func (m *Model) Handle(now time.Time, req *Request) (resp Response) {
	m.HandleAt(m.offset(now), req, &resp)
	return resp
}

// HandleAt is Handle at offset, the time since the model's start (New's
// start), into resp, which it overwrites: the simulator keeps its virtual
// time as such offsets, so it hands them over without a round trip through
// time.Time, and reads the response where it was written, without a copy.
func (m *Model) HandleAt(offset time.Duration, req *Request, resp *Response) {
	*resp = Response{}
	keyed := false
	switch req.Route {
	case RouteHealth, RouteModels, RouteMetrics:
		resp.Code = OK
	case RouteQuestionSpecific, RouteQuestionSpecificBatch, RouteQuestionAgnostic, RouteQuestionAgnosticBatch, RouteRateLimits:
		if req.Key == "" {
			resp.Code, resp.Message = MissingAPIKey, msgMissingKey
		} else {
			keyed = true
		}
	default:
		resp.Code, resp.Message = NotFound, msgNotFound
	}

	m.mu.Lock()
	rel := m.clampOffset(offset)
	if !m.br.lazy { // a lazy breaker has nothing to advance
		m.br.advance(rel)
	}
	if keyed {
		var k *keyState
		if req.bound == m {
			k = req.boundKey
		} else {
			k = m.key(req.Key)
		}
		switch {
		case k == nil || k.Revoked:
			resp.Code, resp.Message = InvalidAPIKey, msgInvalidKey
		case int64(rel) >= k.expires:
			resp.Code, resp.Message = ExpiredAPIKey, msgExpiredKey
		default:
			k.min.roll(int64(rel))
			k.day.roll(int64(rel))
			m.decide(rel, k, req, resp)
			// Limits after the decision: Remaining counts this request if admitted.
			k.limits(int64(rel), &resp.Limits)
		}
	}
	resp.Circuit = m.br.state
	m.mu.Unlock()
}

// decide runs the checks after authentication into resp (zero on entry).
// Call with mu held.
func (m *Model) decide(rel time.Duration, k *keyState, req *Request, resp *Response) {
	if req.Route == RouteRateLimits {
		return
	}
	resp.Tokens = req.Tokens

	// 400/422 found by Decode, then the checks that need configuration.
	code, msg := req.boundCode, req.boundMessage
	if req.bound != m {
		rank, known := m.rank(req.Model)
		code, msg = check(req, k, rank, known)
	}
	if code != OK {
		resp.Code, resp.Message = code, msg
		return
	}

	// 429: all windows at once; a refusal consumes nothing.
	need := [2]int64{1, req.Tokens}
	var w time.Duration
	if k.min.kind == fixedWindow { // both spans have the key's one algorithm; fixedWait inlines
		w = max(k.min.fixedWait(need), k.day.fixedWait(need))
	} else {
		w = max(k.min.waitOther(int64(rel), need), k.day.waitOther(int64(rel), need))
	}
	if w > 0 {
		resp.Code, resp.Message, resp.RetryAfter = RateLimitExceeded, msgRateLimited, ceilSeconds(w)
		return
	}
	k.min.consume(int64(rel), need)
	k.day.consume(int64(rel), need)

	// 503: circuit.
	ok, probe, ra := m.br.admit(rel)
	if !ok {
		resp.Code, resp.Message, resp.RetryAfter = ServiceUnavailable, msgCircuitOpen, ra
		return
	}

	// 500: injected fault (not a breaker failure, no upstream call).
	if r := m.cfg.InternalErrorRate; r > 0 && m.rng.Float64() < r {
		m.stats.InternalFaults++
		resp.Code, resp.Message = InternalError, msgInternalFault
		return
	}

	// The upstream call.
	lat, result := m.upstream(rel)
	failed := result != UpstreamOK
	m.stats.Upstream[result]++
	m.br.start(rel, rel+lat, failed, probe)
	resp.Upstream, resp.Latency = true, lat
	if failed {
		resp.Code, resp.Message = InternalError, msgUpstreamFailed
		return
	}
	if req.bound == m {
		resp.CompressedTokens = req.boundCompressed
	} else {
		resp.CompressedTokens = Compress(req.Tokens, req.Ratio)
	}
}

// upstream draws one call at rel after the start: its latency and result.
// Call with mu held.
func (m *Model) upstream(rel time.Duration) (time.Duration, UpstreamResult) {
	timeout := m.cfg.Upstream.Timeout
	if m.capLimit > 0 {
		// The UTC second holding the instant (capacity buckets are aligned).
		if sec := m.startSec + floorDiv(m.startNs+int64(rel), 1e9); sec != m.capSecond {
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
		ns := expFast(m.mu0+m.sigma*m.rng.NormFloat64()) * factor
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
	m.br.advance(m.clamp(now))
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
	rel := int64(m.clamp(now))
	out := make([]KeyQuota, 0, 4*len(m.order))
	for _, k := range m.order {
		if k.Revoked || rel >= k.expires {
			continue
		}
		k.min.roll(rel)
		k.day.roll(rel)
		for _, w := range [...]struct {
			name string
			s    *span
		}{{"minute", &k.min}, {"day", &k.day}} {
			for i, kind := range [...]string{"requests", "tokens"} {
				out = append(out, KeyQuota{Name: k.Name, Tier: k.Tier, Window: w.name, Kind: kind,
					Limit: w.s.limit[i], Remaining: w.s.remaining(rel, i)})
			}
		}
	}
	m.mu.Unlock()
	for _, q := range out {
		fn(q)
	}
}
