package backoff

import "time"

// Config is a retry strategy as declared in a scenario file's
// `client.strategy` block, or as a named preset adjusted field by field:
//
//	strategy: compresr-recommended            # a preset by name (see Presets)
//	strategy: {preset: aws-standard, max_attempts: 5}
//	strategy: {type: exponential, base: 200ms, multiplier: 2, cap: 20s, jitter: full,
//	           max_attempts: 4, deadline: 60s, retry_on: [429, 500, 503], retry_after: floor,
//	           budget: {type: token-bucket, capacity: 500, cost: 5, refund: 1}}
//
// It maps one-to-one to YAML; pointer fields distinguish "not set" (take the
// preset's value) from zero. A string node decodes as {preset: NAME}.
type Config struct {
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty"`

	// Delay shape: none | constant | linear | exponential.
	Type       string         `yaml:"type,omitempty" json:"type,omitempty"`
	Base       *time.Duration `yaml:"base,omitempty" json:"base,omitempty"`
	Multiplier *float64       `yaml:"multiplier,omitempty" json:"multiplier,omitempty"`
	Cap        *time.Duration `yaml:"cap,omitempty" json:"cap,omitempty"`

	// ThrottleBase, when > 0, is the base of the delay shape for retries
	// after a 429 (throttling), Base staying that of the other retries: AWS
	// Retry Behavior 2.1 backs off from 1 s after throttling and from 50 ms
	// otherwise. 0 (default) = Base for every retry.
	ThrottleBase *time.Duration `yaml:"throttle_base,omitempty" json:"throttle_base,omitempty"`

	// Jitter: none | full | equal | decorrelated | proportional (±JitterFraction).
	Jitter         string   `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	JitterFraction *float64 `yaml:"jitter_fraction,omitempty" json:"jitter_fraction,omitempty"`

	MaxAttempts *int           `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"` // including the first; 1 = no retries
	Deadline    *time.Duration `yaml:"deadline,omitempty" json:"deadline,omitempty"`         // per logical request, from arrival; 0 = none

	RetryOn []int `yaml:"retry_on,omitempty" json:"retry_on,omitempty"` // statuses to retry (0 = transport error); default 429, 500, 503

	// ErrorRetries bounds the retries after a 500 or a transport error
	// (status 0) within one logical request; 0 = no separate bound (only
	// MaxAttempts). ErrorDelay, when > 0, replaces the shaped delay for those
	// retries with a short equal-jittered delay in [ErrorDelay/2, ErrorDelay).
	ErrorRetries *int           `yaml:"error_retries,omitempty" json:"error_retries,omitempty"`
	ErrorDelay   *time.Duration `yaml:"error_delay,omitempty" json:"error_delay,omitempty"`

	// Retry-After policy: floor (default) | replace | ignore, clamped to MaxRetryAfter.
	RetryAfter    string         `yaml:"retry_after,omitempty" json:"retry_after,omitempty"`
	MaxRetryAfter *time.Duration `yaml:"max_retry_after,omitempty" json:"max_retry_after,omitempty"`
	// RetryAfterJitter, a fraction f ≥ 0 (default 0), spreads clients told
	// the same Retry-After: when the header sets the delay (floor or
	// replace), the delay becomes Retry-After × (1 + U[0, f)). Without it,
	// every client refused by an open circuit returns in the same second.
	RetryAfterJitter *float64 `yaml:"retry_after_jitter,omitempty" json:"retry_after_jitter,omitempty"`

	Budget         *BudgetConfig         `yaml:"budget,omitempty" json:"budget,omitempty"`
	Throttle       *ThrottleConfig       `yaml:"throttle,omitempty" json:"throttle,omitempty"`
	CircuitBreaker *CircuitBreakerConfig `yaml:"circuit_breaker,omitempty" json:"circuit_breaker,omitempty"`
	Pacing         *bool                 `yaml:"pacing,omitempty" json:"pacing,omitempty"`                 // proactive pacing from X-RateLimit-Remaining-*
	ValidateFirst  *bool                 `yaml:"validate_first,omitempty" json:"validate_first,omitempty"` // client-side validation: invalid requests are never sent
}

// BudgetConfig is a retry budget shared by all requests of one client.
//
//	token-bucket (AWS SDK standard retry quota): capacity 500, cost 5, timeout_cost 10, refund 1;
//	             throttle_cost (default cost) for a retry after a 429
//	ratio (Envoy/Finagle): retries ≤ ratio × requests over window, plus min_per_second
//	grpc (gRPC retry throttling): max_tokens, token_ratio
type BudgetConfig struct {
	Type         string         `yaml:"type" json:"type"`
	Capacity     *float64       `yaml:"capacity,omitempty" json:"capacity,omitempty"`
	Cost         *float64       `yaml:"cost,omitempty" json:"cost,omitempty"`
	TimeoutCost  *float64       `yaml:"timeout_cost,omitempty" json:"timeout_cost,omitempty"`
	ThrottleCost *float64       `yaml:"throttle_cost,omitempty" json:"throttle_cost,omitempty"`
	Refund       *float64       `yaml:"refund,omitempty" json:"refund,omitempty"`
	Ratio        *float64       `yaml:"ratio,omitempty" json:"ratio,omitempty"`
	Window       *time.Duration `yaml:"window,omitempty" json:"window,omitempty"`
	MinPerSecond *float64       `yaml:"min_per_second,omitempty" json:"min_per_second,omitempty"`
	MaxTokens    *float64       `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	TokenRatio   *float64       `yaml:"token_ratio,omitempty" json:"token_ratio,omitempty"`
}

// ThrottleConfig is Google SRE client-side adaptive throttling: reject locally
// with probability max(0, (requests − K·accepts)/(requests + 1)) over Window.
type ThrottleConfig struct {
	K      *float64       `yaml:"k,omitempty" json:"k,omitempty"`           // default 2
	Window *time.Duration `yaml:"window,omitempty" json:"window,omitempty"` // default 2m
}

// CircuitBreakerConfig is a client-side circuit breaker: it opens after
// Failures consecutive 500/503 responses, for OpenFor or the server's
// Retry-After, whichever is longer.
type CircuitBreakerConfig struct {
	Failures *int           `yaml:"failures,omitempty" json:"failures,omitempty"`
	OpenFor  *time.Duration `yaml:"open_for,omitempty" json:"open_for,omitempty"`
}
