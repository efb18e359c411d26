package backoff

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/loadsim/loadsim/internal/suggest"
)

// Shape is the delay shape before jitter.
type Shape uint8

// Delay shapes. For the n-th retry (n = 0 for the first retry) the
// un-jittered delay v is 0 (ShapeNone), Base (ShapeConstant),
// min(Cap, Base·(n+1)) (ShapeLinear) or min(Cap, Base·Multiplier^n)
// (ShapeExponential, computed iteratively as cenkalti/backoff does).
const (
	ShapeNone Shape = iota
	ShapeConstant
	ShapeLinear
	ShapeExponential
)

var shapeNames = [...]string{"none", "constant", "linear", "exponential"}

// String returns the YAML name of the shape.
func (s Shape) String() string { return enumName(shapeNames[:], int(s)) }

// Jitter is how the un-jittered delay v is randomised (u uniform in [0, 1)).
type Jitter uint8

// Jitter kinds (Brooker 2015 for full, equal and decorrelated):
//
//	none          d = v
//	full          d = u·v
//	equal         d = v/2 + u·v/2
//	decorrelated  d = min(Cap, Base + u·(3·prev − Base)), prev = the previous d (Base at first)
//	proportional  d = v·(1 − f + 2f·u), f = JitterFraction
const (
	JitterNone Jitter = iota
	JitterFull
	JitterEqual
	JitterDecorrelated
	JitterProportional
)

var jitterNames = [...]string{"none", "full", "equal", "decorrelated", "proportional"}

// String returns the YAML name of the jitter kind.
func (j Jitter) String() string { return enumName(jitterNames[:], int(j)) }

// RetryAfterPolicy is how a response's Retry-After combines with the computed delay.
type RetryAfterPolicy uint8

// Retry-After policies. Floor: d = max(d, Retry-After); replace: d = Retry-After
// when the header is present and valid; ignore: d unchanged (the header is still
// parsed and reported).
const (
	RetryAfterFloor RetryAfterPolicy = iota
	RetryAfterReplace
	RetryAfterIgnore
)

var retryAfterPolicyNames = [...]string{"floor", "replace", "ignore"}

// String returns the YAML name of the policy.
func (r RetryAfterPolicy) String() string { return enumName(retryAfterPolicyNames[:], int(r)) }

// BudgetKind selects a retry budget.
type BudgetKind uint8

// Retry budgets shared by all requests of one client (see State).
const (
	BudgetNone        BudgetKind = iota
	BudgetTokenBucket            // AWS SDK standard retry quota
	BudgetRatio                  // Finagle/Envoy: retries ≤ Ratio·requests + MinPerSecond·Window over Window
	BudgetGRPC                   // gRPC retry throttling (gRFC A6)
)

var budgetNames = [...]string{"none", "token-bucket", "ratio", "grpc"}

// String returns the YAML name of the budget kind.
func (b BudgetKind) String() string { return enumName(budgetNames[:], int(b)) }

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return "unknown"
}

// Budget is a resolved retry budget. Only the fields of its Kind are used.
type Budget struct {
	Kind BudgetKind

	// Token bucket: starts full at Capacity; a retry takes Cost
	// (TimeoutCost after a timeout, ThrottleCost after a 429) or is
	// refused; a success on the first attempt adds Refund; a successful
	// retry gives back what it took. Never above Capacity.
	Capacity, Cost, TimeoutCost, ThrottleCost, Refund float64

	// Ratio: a retry is allowed while retries+1 ≤ Ratio·requests +
	// MinPerSecond·Window, counting first attempts and retries over the last
	// Window (ten buckets).
	Ratio        float64
	Window       time.Duration
	MinPerSecond float64

	// gRPC: tokens start at MaxTokens; a failure with a retryable status takes
	// 1, a success adds TokenRatio; retries only while tokens > MaxTokens/2.
	MaxTokens, TokenRatio float64
}

// Throttle is Google SRE client-side adaptive throttling: each attempt is
// rejected locally with probability max(0, (requests − K·accepts)/(requests+1))
// over the last Window (twelve buckets). Disabled when K == 0.
type Throttle struct {
	K      float64
	Window time.Duration
}

// Breaker is the client circuit breaker: after Failures consecutive 500/503
// responses it refuses attempts for max(OpenFor, the response's Retry-After),
// then lets one probe through per OpenFor; a probe that gets any other
// response closes it. Disabled when Failures == 0.
type Breaker struct {
	Failures int
	OpenFor  time.Duration
}

// Policy is a resolved, validated strategy (see Config.Resolve). It is
// immutable after Resolve and safe for concurrent use; the state it shares
// between requests lives in a State.
type Policy struct {
	Name string // the preset it started from

	Shape      Shape
	Base       time.Duration
	Multiplier float64
	Cap        time.Duration // > 0; math.MaxInt64 when unbounded

	// ThrottleBase > 0 replaces Base for retries after a 429; the shape is
	// then computed from the retry's index (min(Cap, b·Multiplier^n)), not
	// iteratively, since consecutive retries may start from either base.
	ThrottleBase time.Duration

	Jitter         Jitter
	JitterFraction float64

	MaxAttempts int           // including the first; 0 = unlimited
	Deadline    time.Duration // per logical request from its arrival; 0 = none

	ErrorRetries int           // bound on retries after 500/transport errors; 0 = none
	ErrorDelay   time.Duration // short delay for those retries; 0 = the shaped delay

	RetryAfter    RetryAfterPolicy
	MaxRetryAfter time.Duration // Retry-After values above are clamped to it
	// RetryAfterJitter f ≥ 0: a delay set by Retry-After is stretched by a
	// uniform factor in [1, 1+f); 0 = exactly Retry-After.
	RetryAfterJitter float64

	Budget        Budget
	Throttle      Throttle
	Breaker       Breaker
	Pacing        bool // proactive pacing from X-RateLimit-Remaining-*
	ValidateFirst bool // invalid requests are never sent

	retryOn [10]uint64 // bit set over statuses 0..639
}

// RetriesStatus reports whether status (0 = transport error or timeout) is in
// retry_on.
func (p *Policy) RetriesStatus(status int) bool {
	if status < 0 || status >= 640 {
		return false
	}
	return p.retryOn[status>>6]&(1<<(uint(status)&63)) != 0
}

// RetryOn returns retry_on in ascending order.
func (p *Policy) RetryOn() []int {
	var out []int
	for s := 0; s < 640; s++ {
		if p.RetriesStatus(s) {
			out = append(out, s)
		}
	}
	return out
}

// ErrInvalidConfig is wrapped by every error Resolve returns.
var ErrInvalidConfig = errors.New("invalid strategy")

// FieldError is a configuration error about one field, e.g.
// `client.strategy.jitter: unknown "fulll" (want none, full, equal, decorrelated, proportional)`.
// errors.Is(err, ErrInvalidConfig) holds.
type FieldError struct {
	Field string // path such as "client.strategy.budget.cost"
	Msg   string // what is wrong and how to fix it
}

// Error returns "Field: Msg".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Is matches ErrInvalidConfig.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidConfig }

const fieldPrefix = "client.strategy."

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: fieldPrefix + field, Msg: fmt.Sprintf(format, args...)}
}

func parseEnum(field, v string, names []string) (int, error) {
	for i, n := range names {
		if n == v {
			return i, nil
		}
	}
	return 0, unknownName(field, v, names)
}

// unknownName is the error for a value of field that is none of names: the
// closest of them, when one is near, and all of them.
func unknownName(field, v string, names []string) error {
	return fieldErr(field, "unknown %q%s (want %s)", v, suggest.Hint(v, names), strings.Join(names, ", "))
}

// DefaultPreset is the preset a Config without Preset starts from.
const DefaultPreset = "compresr-recommended"

// Resolve applies the preset named by c.Preset (DefaultPreset when empty),
// then every field c sets, and validates the result. Errors name the field and
// the fix, and wrap ErrInvalidConfig.
func (c Config) Resolve() (*Policy, error) {
	name := c.Preset
	if name == "" {
		name = DefaultPreset
	}
	base, ok := Preset(name)
	if !ok {
		return nil, unknownName("preset", name, PresetNames())
	}
	m := base.merge(c)
	m.Preset = name
	return m.resolve()
}

// merge returns base with every field that o sets.
func (base Config) merge(o Config) Config {
	m := base
	setS := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setS(&m.Type, o.Type)
	setS(&m.Jitter, o.Jitter)
	setS(&m.RetryAfter, o.RetryAfter)
	setP(&m.Base, o.Base)
	setP(&m.ThrottleBase, o.ThrottleBase)
	setP(&m.Multiplier, o.Multiplier)
	setP(&m.Cap, o.Cap)
	setP(&m.JitterFraction, o.JitterFraction)
	setP(&m.MaxAttempts, o.MaxAttempts)
	setP(&m.Deadline, o.Deadline)
	setP(&m.ErrorRetries, o.ErrorRetries)
	setP(&m.ErrorDelay, o.ErrorDelay)
	setP(&m.MaxRetryAfter, o.MaxRetryAfter)
	setP(&m.RetryAfterJitter, o.RetryAfterJitter)
	setP(&m.Pacing, o.Pacing)
	setP(&m.ValidateFirst, o.ValidateFirst)
	if o.RetryOn != nil {
		m.RetryOn = append([]int(nil), o.RetryOn...)
	}
	if o.Budget != nil {
		b := BudgetConfig{Type: o.Budget.Type}
		if m.Budget != nil && (o.Budget.Type == "" || o.Budget.Type == m.Budget.Type) {
			b = *m.Budget
		}
		ob := *o.Budget
		setS(&b.Type, ob.Type)
		setP(&b.Capacity, ob.Capacity)
		setP(&b.Cost, ob.Cost)
		setP(&b.TimeoutCost, ob.TimeoutCost)
		setP(&b.ThrottleCost, ob.ThrottleCost)
		setP(&b.Refund, ob.Refund)
		setP(&b.Ratio, ob.Ratio)
		setP(&b.Window, ob.Window)
		setP(&b.MinPerSecond, ob.MinPerSecond)
		setP(&b.MaxTokens, ob.MaxTokens)
		setP(&b.TokenRatio, ob.TokenRatio)
		m.Budget = &b
	}
	if o.Throttle != nil {
		t := ThrottleConfig{}
		if m.Throttle != nil {
			t = *m.Throttle
		}
		setP(&t.K, o.Throttle.K)
		setP(&t.Window, o.Throttle.Window)
		m.Throttle = &t
	}
	if o.CircuitBreaker != nil {
		cb := CircuitBreakerConfig{}
		if m.CircuitBreaker != nil {
			cb = *m.CircuitBreaker
		}
		setP(&cb.Failures, o.CircuitBreaker.Failures)
		setP(&cb.OpenFor, o.CircuitBreaker.OpenFor)
		m.CircuitBreaker = &cb
	}
	return m
}

func setP[T any](dst **T, v *T) {
	if v != nil {
		x := *v
		*dst = &x
	}
}

func val[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// resolve validates a fully merged Config.
func (c Config) resolve() (*Policy, error) {
	p := &Policy{Name: c.Preset}
	typ := c.Type
	if typ == "" {
		typ = "exponential"
	}
	i, err := parseEnum("type", typ, shapeNames[:])
	if err != nil {
		return nil, err
	}
	p.Shape = Shape(i)
	jit := c.Jitter
	if jit == "" {
		jit = "none"
	}
	if i, err = parseEnum("jitter", jit, jitterNames[:]); err != nil {
		return nil, err
	}
	p.Jitter = Jitter(i)
	ra := c.RetryAfter
	if ra == "" {
		ra = "floor"
	}
	if i, err = parseEnum("retry_after", ra, retryAfterPolicyNames[:]); err != nil {
		return nil, err
	}
	p.RetryAfter = RetryAfterPolicy(i)

	p.Base = val(c.Base, 0)
	if p.Base < 0 {
		return nil, fieldErr("base", "%s is negative (want a duration ≥ 0, e.g. 200ms)", p.Base)
	}
	if p.Base == 0 && (p.Shape != ShapeNone || p.Jitter == JitterDecorrelated) {
		return nil, fieldErr("base", "must be > 0 for type %s and jitter %s (e.g. 200ms)", p.Shape, p.Jitter)
	}
	p.ThrottleBase = val(c.ThrottleBase, 0)
	switch {
	case p.ThrottleBase < 0:
		return nil, fieldErr("throttle_base", "%s is negative (want a duration > 0, e.g. 1s, or 0 for base)", p.ThrottleBase)
	case p.ThrottleBase > 0 && (p.Shape == ShapeNone || p.Jitter == JitterDecorrelated):
		return nil, fieldErr("throttle_base", "applies to type exponential, linear or constant without decorrelated jitter (got type %s, jitter %s); remove it", p.Shape, p.Jitter)
	}
	p.Multiplier = val(c.Multiplier, 2)
	if !finite(p.Multiplier) || p.Multiplier < 1 {
		return nil, fieldErr("multiplier", "%v is invalid (want a finite number ≥ 1, e.g. 2)", p.Multiplier)
	}
	p.Cap = val(c.Cap, 0)
	if p.Cap < 0 {
		return nil, fieldErr("cap", "%s is negative (want a duration > 0, or 0 for no cap)", p.Cap)
	}
	if p.Cap == 0 {
		p.Cap = math.MaxInt64
	}
	if p.Cap < p.Base {
		return nil, fieldErr("cap", "%s is below base %s (raise cap or lower base)", p.Cap, p.Base)
	}
	if p.Cap < p.ThrottleBase {
		return nil, fieldErr("cap", "%s is below throttle_base %s (raise cap or lower throttle_base)", p.Cap, p.ThrottleBase)
	}
	p.JitterFraction = val(c.JitterFraction, 0)
	if !finite(p.JitterFraction) || p.JitterFraction < 0 || p.JitterFraction > 1 {
		return nil, fieldErr("jitter_fraction", "%v is out of range (want 0..1, e.g. 0.25 for ±25%%)", p.JitterFraction)
	}
	if p.Jitter == JitterProportional && c.JitterFraction == nil {
		return nil, fieldErr("jitter_fraction", "required with jitter proportional (e.g. 0.25 for ±25%%)")
	}
	p.MaxAttempts = val(c.MaxAttempts, 0)
	if p.MaxAttempts < 0 {
		return nil, fieldErr("max_attempts", "%d is negative (want ≥ 1, or 0 for unlimited)", p.MaxAttempts)
	}
	p.Deadline = val(c.Deadline, 0)
	if p.Deadline < 0 {
		return nil, fieldErr("deadline", "%s is negative (want a duration, or 0 for none)", p.Deadline)
	}
	p.ErrorRetries = val(c.ErrorRetries, 0)
	if p.ErrorRetries < 0 {
		return nil, fieldErr("error_retries", "%d is negative (want ≥ 1, or 0 for no separate bound)", p.ErrorRetries)
	}
	p.ErrorDelay = val(c.ErrorDelay, 0)
	if p.ErrorDelay < 0 {
		return nil, fieldErr("error_delay", "%s is negative (want e.g. 250ms, or 0 for the shaped delay)", p.ErrorDelay)
	}
	p.MaxRetryAfter = val(c.MaxRetryAfter, time.Hour)
	if p.MaxRetryAfter <= 0 {
		return nil, fieldErr("max_retry_after", "%s must be > 0 (e.g. 5m)", p.MaxRetryAfter)
	}
	p.RetryAfterJitter = val(c.RetryAfterJitter, 0)
	if !(p.RetryAfterJitter >= 0 && p.RetryAfterJitter <= 10) {
		return nil, fieldErr("retry_after_jitter", "%v must be a fraction in [0, 10] (e.g. 0.5 spreads retries over 1–1.5 × Retry-After)", p.RetryAfterJitter)
	}
	retryOn := c.RetryOn
	if retryOn == nil {
		retryOn = []int{429, 500, 503}
	}
	for k, s := range retryOn {
		switch {
		case s == 0 || s == 429 || (s >= 500 && s <= 599):
			p.retryOn[s>>6] |= 1 << (uint(s) & 63)
		case s >= 400 && s <= 499:
			return nil, fieldErr(fmt.Sprintf("retry_on[%d]", k), "%d is a client error and is never retried (want 0 for transport errors, 429 or 5xx)", s)
		default:
			return nil, fieldErr(fmt.Sprintf("retry_on[%d]", k), "%d is not a retryable status (want 0 for transport errors, 429 or 5xx)", s)
		}
	}
	if c.Budget != nil {
		if p.Budget, err = resolveBudget(*c.Budget); err != nil {
			return nil, err
		}
	}
	if t := c.Throttle; t != nil {
		p.Throttle = Throttle{K: val(t.K, 2), Window: val(t.Window, 2*time.Minute)}
		if !finite(p.Throttle.K) || p.Throttle.K < 0 {
			return nil, fieldErr("throttle.k", "%v is invalid (want a number ≥ 1, e.g. 2; 0 disables)", p.Throttle.K)
		}
		if p.Throttle.Window <= 0 {
			return nil, fieldErr("throttle.window", "%s must be > 0 (e.g. 2m)", p.Throttle.Window)
		}
	}
	if b := c.CircuitBreaker; b != nil {
		p.Breaker = Breaker{Failures: val(b.Failures, 5), OpenFor: val(b.OpenFor, 30*time.Second)}
		if p.Breaker.Failures < 0 {
			return nil, fieldErr("circuit_breaker.failures", "%d is negative (want ≥ 1, e.g. 5; 0 disables)", p.Breaker.Failures)
		}
		if p.Breaker.OpenFor <= 0 {
			return nil, fieldErr("circuit_breaker.open_for", "%s must be > 0 (e.g. 30s)", p.Breaker.OpenFor)
		}
	}
	p.Pacing = val(c.Pacing, false)
	p.ValidateFirst = val(c.ValidateFirst, false)
	return p, nil
}

func resolveBudget(b BudgetConfig) (Budget, error) {
	typ := b.Type
	if typ == "" {
		return Budget{}, fieldErr("budget.type", "missing (want %s)", strings.Join(budgetNames[:], ", "))
	}
	i, err := parseEnum("budget.type", typ, budgetNames[:])
	if err != nil {
		return Budget{}, err
	}
	r := Budget{Kind: BudgetKind(i)}
	nonNeg := func(field string, v float64) error {
		if !finite(v) || v < 0 {
			return fieldErr("budget."+field, "%v is invalid (want a finite number ≥ 0)", v)
		}
		return nil
	}
	switch r.Kind {
	case BudgetTokenBucket:
		r.Capacity, r.Cost = val(b.Capacity, 500), val(b.Cost, 5)
		r.TimeoutCost, r.Refund = val(b.TimeoutCost, 10), val(b.Refund, 1)
		r.ThrottleCost = val(b.ThrottleCost, r.Cost)
		for _, f := range []struct {
			n string
			v float64
		}{{"capacity", r.Capacity}, {"cost", r.Cost}, {"timeout_cost", r.TimeoutCost}, {"throttle_cost", r.ThrottleCost}, {"refund", r.Refund}} {
			if err := nonNeg(f.n, f.v); err != nil {
				return r, err
			}
		}
		if r.Capacity == 0 {
			return r, fieldErr("budget.capacity", "must be > 0 (e.g. 500)")
		}
	case BudgetRatio:
		r.Ratio, r.Window, r.MinPerSecond = val(b.Ratio, 0.2), val(b.Window, 10*time.Second), val(b.MinPerSecond, 10)
		if err := nonNeg("ratio", r.Ratio); err != nil {
			return r, err
		}
		if err := nonNeg("min_per_second", r.MinPerSecond); err != nil {
			return r, err
		}
		if r.Window < 10 {
			return r, fieldErr("budget.window", "%s is too short (want e.g. 10s)", r.Window)
		}
	case BudgetGRPC:
		r.MaxTokens, r.TokenRatio = val(b.MaxTokens, 10), val(b.TokenRatio, 0.1)
		if !finite(r.MaxTokens) || r.MaxTokens <= 0 || r.MaxTokens > 1000 {
			return r, fieldErr("budget.max_tokens", "%v is out of range (want 0 < max_tokens ≤ 1000, e.g. 10)", r.MaxTokens)
		}
		if !finite(r.TokenRatio) || r.TokenRatio <= 0 {
			return r, fieldErr("budget.token_ratio", "%v is invalid (want > 0, e.g. 0.1)", r.TokenRatio)
		}
	}
	return r, nil
}
