package backoff

import "time"

// presetNames lists the presets in documentation order.
var presetNames = [...]string{
	"compresr-recommended", "compresr-sdk", "aws-standard", "aws-standard-2.1", "aws-adaptive", "grpc",
	"retryablehttp", "cenkalti", "sre-throttled", "brooker-none", "brooker-full",
	"brooker-equal", "brooker-decorrelated", "naive-immediate",
}

// PresetNames returns the preset names in documentation order (a fresh slice).
func PresetNames() []string { return append([]string(nil), presetNames[:]...) }

func ptr[T any](v T) *T { return &v }

// fiveXX returns 0 (transport errors), 429 and every 5xx except those listed.
func fiveXX(except ...int) []int {
	out := []int{0, 429}
	for s := 500; s <= 599; s++ {
		skip := false
		for _, e := range except {
			skip = skip || s == e
		}
		if !skip {
			out = append(out, s)
		}
	}
	return out
}

// Preset returns the named preset as a Config with every field set, and
// whether the name is known. Each call returns a fresh value. The presets and
// their sources are documented in docs/strategies.md.
func Preset(name string) (Config, bool) {
	ms := func(n int) *time.Duration { return ptr(time.Duration(n) * time.Millisecond) }
	c := Config{Preset: name, Pacing: ptr(false), ValidateFirst: ptr(false),
		ErrorRetries: ptr(0), ErrorDelay: ptr(time.Duration(0)), Deadline: ptr(time.Duration(0)),
		MaxRetryAfter: ptr(time.Hour), JitterFraction: ptr(0.0), Multiplier: ptr(2.0)}
	switch name {
	case "compresr-recommended", "sre-throttled":
		// The Compresr reference: validate first; retry 429, 500 (once, short
		// delay) and 503; exponential backoff with jitter; Retry-After is a floor.
		c.Type, c.Base, c.Cap, c.Jitter = "exponential", ms(500), ptr(30*time.Second), "full"
		c.MaxAttempts, c.Deadline = ptr(5), ptr(2*time.Minute)
		c.RetryOn = []int{0, 429, 500, 503}
		c.ErrorRetries, c.ErrorDelay = ptr(1), ms(250)
		c.RetryAfter, c.MaxRetryAfter = "floor", ptr(5*time.Minute)
		c.ValidateFirst = ptr(true)
		if name == "sre-throttled" {
			c.Throttle = &ThrottleConfig{K: ptr(2.0), Window: ptr(2 * time.Minute)}
		}
	case "compresr-sdk":
		// Compresr SDKs (2026): 429/503, 3 retries, 0.5 s × 2^n ± 25 %, cap 30 s,
		// Retry-After replaces the delay, capped at 30 s.
		c.Type, c.Base, c.Cap = "exponential", ms(500), ptr(30*time.Second)
		c.Jitter, c.JitterFraction = "proportional", ptr(0.25)
		c.MaxAttempts, c.RetryOn = ptr(4), []int{429, 503}
		c.RetryAfter, c.MaxRetryAfter = "replace", ptr(30*time.Second)
	case "aws-standard", "aws-adaptive":
		// aws-sdk-go-v2's standard retryer before Retry Behavior 2.1 (see
		// aws-standard-2.1): NewExponentialJitterBackoff(20s), u·2^attempt s,
		// and the 500/5/10/1 retry quota; it reads no Retry-After header.
		c.Type, c.Base, c.Cap, c.Jitter = "exponential", ms(2000), ptr(20*time.Second), "full"
		c.MaxAttempts, c.RetryOn = ptr(3), []int{0, 429, 500, 502, 503, 504}
		c.RetryAfter = "ignore"
		c.Budget = &BudgetConfig{Type: "token-bucket", Capacity: ptr(500.0), Cost: ptr(5.0),
			TimeoutCost: ptr(10.0), Refund: ptr(1.0)}
		if name == "aws-adaptive" {
			// Approximates the SDK's adaptive mode (a CUBIC client rate
			// limiter fed by throttling errors) with SRE adaptive throttling.
			c.Throttle = &ThrottleConfig{K: ptr(2.0), Window: ptr(2 * time.Minute)}
		}
	case "aws-standard-2.1":
		// aws-sdk-go-v2 retry.NewStandard() with its defaults as of v1.48.0
		// (Retry Behavior 2.1): full jitter over min(x·2^n, 20 s) with x = 1 s
		// after a throttling error (an HTTP 429) and 50 ms otherwise; a retry
		// takes 14 tokens of 500 (5 after throttling, timeouts no dearer), a
		// successful retry gives them back, a first-attempt success adds 1.
		// It reads only x-amz-retry-after, so Retry-After is ignored.
		c.Type, c.Base, c.ThrottleBase, c.Cap, c.Jitter = "exponential", ms(50), ptr(time.Second), ptr(20*time.Second), "full"
		c.MaxAttempts, c.RetryOn = ptr(3), []int{0, 429, 500, 502, 503, 504}
		c.RetryAfter = "ignore"
		c.Budget = &BudgetConfig{Type: "token-bucket", Capacity: ptr(500.0), Cost: ptr(14.0),
			TimeoutCost: ptr(14.0), ThrottleCost: ptr(5.0), Refund: ptr(1.0)}
	case "grpc":
		// gRPC retry policy (gRFC A6, the service-config example): 4 attempts,
		// 0.1 s × 2^n up to 1 s with full jitter, UNAVAILABLE only, server
		// pushback replaces the delay, retry throttling 10 / 0.1.
		c.Type, c.Base, c.Cap, c.Jitter = "exponential", ms(100), ptr(time.Second), "full"
		c.MaxAttempts, c.RetryOn = ptr(4), []int{0, 429, 502, 503, 504}
		c.RetryAfter = "replace"
		c.Budget = &BudgetConfig{Type: "grpc", MaxTokens: ptr(10.0), TokenRatio: ptr(0.1)}
	case "retryablehttp":
		// hashicorp/go-retryablehttp v0.7.8 defaults: RetryMax 4, DefaultBackoff
		// 1 s × 2^n capped at 30 s, Retry-After replaces (429/503),
		// DefaultRetryPolicy: transport errors, 429 and 5xx except 501.
		c.Type, c.Base, c.Cap, c.Jitter = "exponential", ms(1000), ptr(30*time.Second), "none"
		c.MaxAttempts, c.RetryOn = ptr(5), fiveXX(501)
		c.RetryAfter = "replace"
	case "cenkalti":
		// cenkalti/backoff/v5 ExponentialBackOff defaults and Retry: 0.5 s ×
		// 1.5^n ± 50 %, interval capped at 60 s, no try limit, 15 min max
		// elapsed time; RetryAfterError replaces the delay.
		c.Type, c.Base, c.Cap, c.Multiplier = "exponential", ms(500), ptr(60*time.Second), ptr(1.5)
		c.Jitter, c.JitterFraction = "proportional", ptr(0.5)
		c.MaxAttempts, c.Deadline, c.RetryOn = ptr(0), ptr(15*time.Minute), fiveXX()
		c.RetryAfter = "replace"
	case "brooker-none", "brooker-full", "brooker-equal", "brooker-decorrelated":
		// Marc Brooker, "Exponential Backoff And Jitter" (AWS Architecture
		// Blog, 2015) and its simulator: base 5 ms, cap 2 s, retry until success.
		c.Type, c.Base, c.Cap = "exponential", ms(5), ptr(2*time.Second)
		c.Jitter = name[len("brooker-"):]
		c.MaxAttempts, c.RetryOn = ptr(0), []int{0, 429, 500, 503}
		c.RetryAfter = "ignore"
	case "naive-immediate":
		// The anti-pattern: retry at once, many times, whatever the server says.
		c.Type, c.Base, c.Cap, c.Jitter = "none", ms(0), ptr(time.Duration(0)), "none"
		c.MaxAttempts, c.RetryOn = ptr(20), []int{0, 429, 500, 502, 503, 504}
		c.RetryAfter = "ignore"
	default:
		return Config{}, false
	}
	return c, true
}
