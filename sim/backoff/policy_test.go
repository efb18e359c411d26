package backoff

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPresetsResolve(t *testing.T) {
	t.Parallel()
	for _, name := range PresetNames() {
		p, err := Config{Preset: name}.Resolve()
		if err != nil {
			t.Errorf("Config{Preset: %q}.Resolve() error: %v", name, err)
			continue
		}
		if p.Name != name {
			t.Errorf("Resolve(%q).Name = %q", name, p.Name)
		}
		if p.RetriesStatus(422) || p.RetriesStatus(400) {
			t.Errorf("preset %q retries a 4xx other than 429", name)
		}
	}
	if _, ok := Preset("nope"); ok {
		t.Error(`Preset("nope") ok = true; want false`)
	}
}

func TestResolveDefaultAndOverride(t *testing.T) {
	t.Parallel()
	p, err := Config{}.Resolve()
	if err != nil || p.Name != DefaultPreset || !p.ValidateFirst || p.RetryAfter != RetryAfterFloor {
		t.Fatalf("Config{}.Resolve() = %+v, %v; want the %s preset", p, err, DefaultPreset)
	}
	five := 5
	p, err = Config{Preset: "aws-standard", MaxAttempts: &five}.Resolve()
	if err != nil || p.MaxAttempts != 5 || p.Budget.Kind != BudgetTokenBucket || p.Budget.Capacity != 500 {
		t.Fatalf("aws-standard with max_attempts 5 = %+v, %v", p, err)
	}
	ratio := 0.5
	p, err = Config{Preset: "aws-standard", Budget: &BudgetConfig{Type: "ratio", Ratio: &ratio}}.Resolve()
	if err != nil || p.Budget.Kind != BudgetRatio || p.Budget.Ratio != 0.5 || p.Budget.Window != 10*time.Second {
		t.Fatalf("aws-standard with a ratio budget = %+v, %v", p.Budget, err)
	}
	cost := 7.0
	p, err = Config{Preset: "aws-standard", Budget: &BudgetConfig{Cost: &cost}}.Resolve()
	if err != nil || p.Budget.Cost != 7 || p.Budget.Capacity != 500 {
		t.Fatalf("aws-standard with budget.cost 7 = %+v, %v", p.Budget, err)
	}
	if p.Budget.ThrottleCost != 7 {
		t.Fatalf("aws-standard with budget.cost 7: throttle_cost %v; want the cost, 7", p.Budget.ThrottleCost)
	}
	p, err = Config{Preset: "compresr-recommended", Budget: &BudgetConfig{Type: "none"}}.Resolve()
	if err != nil || p.Budget.Kind != BudgetNone {
		t.Fatalf("budget none = %+v, %v", p.Budget, err)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	d := func(v time.Duration) *time.Duration { return &v }
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	tests := []struct {
		c    Config
		want string
	}{
		{Config{Jitter: "fulll"}, `client.strategy.jitter: unknown "fulll"; did you mean full? (want none, full, equal, decorrelated, proportional)`}, // typo in jitter
		{Config{Preset: "aws"}, `client.strategy.preset: unknown "aws" (want `},                                                                       // unknown preset, nothing near
		{Config{Preset: "compresr-recomended"}, `client.strategy.preset: unknown "compresr-recomended"; did you mean compresr-recommended? (want `},   // a typo in a preset
		{Config{Type: "cubic"}, `client.strategy.type: unknown "cubic"`},                                                                              // unknown shape
		{Config{RetryAfter: "max"}, `client.strategy.retry_after: unknown "max"`},                                                                     // unknown Retry-After policy
		{Config{Base: d(-time.Second)}, "client.strategy.base: -1s is negative"},                                                                      // negative base
		{Config{Multiplier: f(0.5)}, "client.strategy.multiplier: 0.5 is invalid"},                                                                    // shrinking multiplier
		{Config{Cap: d(time.Millisecond)}, "client.strategy.cap: 1ms is below base 500ms"},                                                            // cap below base
		{Config{Jitter: "proportional", JitterFraction: f(1.5)}, "client.strategy.jitter_fraction: 1.5 is out of range"},                              // fraction > 1
		{Config{MaxAttempts: i(-1)}, "client.strategy.max_attempts: -1 is negative"},                                                                  // negative attempts
		{Config{RetryOn: []int{429, 422}}, "client.strategy.retry_on[1]: 422 is a client error and is never retried"},                                 // 4xx never retried
		{Config{RetryOn: []int{302}}, "client.strategy.retry_on[0]: 302 is not a retryable status"},                                                   // a redirect
		{Config{MaxRetryAfter: d(0)}, "client.strategy.max_retry_after: 0s must be > 0"},                                                              // zero clamp
		{Config{Budget: &BudgetConfig{Type: "leaky"}}, `client.strategy.budget.type: unknown "leaky"`},                                                // unknown budget
		{Config{Budget: &BudgetConfig{Type: "grpc", MaxTokens: f(5000)}}, "client.strategy.budget.max_tokens: 5000 is out of range"},                  // gRPC limit
		{Config{Budget: &BudgetConfig{Type: "token-bucket", Cost: f(-1)}}, "client.strategy.budget.cost: -1 is invalid"},                              // negative cost
		{Config{Throttle: &ThrottleConfig{Window: d(0)}}, "client.strategy.throttle.window: 0s must be > 0"},                                          // zero window
		{Config{CircuitBreaker: &CircuitBreakerConfig{OpenFor: d(-1)}}, "client.strategy.circuit_breaker.open_for"},                                   // negative open_for
		{Config{ThrottleBase: d(-time.Second)}, "client.strategy.throttle_base: -1s is negative"},                                                     // negative throttle base
		{Config{ThrottleBase: d(time.Minute)}, "client.strategy.cap: 30s is below throttle_base 1m0s"},                                                // cap below throttle base
		{Config{Jitter: "decorrelated", ThrottleBase: d(time.Second)}, "client.strategy.throttle_base: applies to type exponential"},                  // decorrelated has one base
		{Config{Type: "none", ThrottleBase: d(time.Second)}, "client.strategy.throttle_base: applies to type exponential"},                            // no shape to scale
		{Config{Budget: &BudgetConfig{Type: "token-bucket", ThrottleCost: f(-2)}}, "client.strategy.budget.throttle_cost: -2 is invalid"},             // negative throttle cost
	}
	for _, tt := range tests {
		_, err := tt.c.Resolve()
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v.Resolve() error = %v; want prefix %q", tt.c, err, tt.want)
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v.Resolve() error %v does not wrap ErrInvalidConfig", tt.c, err)
		}
	}
}
