package backoff

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func mustPolicy(t testing.TB, c Config) *Policy {
	t.Helper()
	p, err := c.Resolve()
	if err != nil {
		t.Fatalf("%+v.Resolve(): %v", c, err)
	}
	return p
}

func dur(v time.Duration) *time.Duration { return &v }
func flt(v float64) *float64             { return &v }
func num(v int) *int                     { return &v }

// failN drives one request through n failed attempts with status and returns
// the decisions.
func failN(p *Policy, rng *rand.PCG, n int, resp Response) []Decision {
	s := p.NewState()
	req := Request{Arrived: t0}
	now := t0
	var out []Decision
	for k := 0; k < n; k++ {
		if _, stop := s.Before(now, &req, rng); stop != sim.StopNone {
			out = append(out, Decision{Stop: stop})
			return out
		}
		d := s.After(now, &req, &resp, rng)
		out = append(out, d)
		if !d.Retry {
			return out
		}
		now = now.Add(d.Delay)
	}
	return out
}

func TestJitterBounds(t *testing.T) {
	t.Parallel()
	base, capD := 100*time.Millisecond, 3*time.Second
	tests := []struct {
		jitter string
		frac   float64
		lo, hi func(n int, prev time.Duration) time.Duration // inclusive lo, exclusive hi (hi inclusive for none)
	}{
		// none: exactly min(cap, base·2^n)
		{"none", 0, expo(base, capD, 1), expo(base, capD, 1)},
		// full: [0, v)
		{"full", 0, func(int, time.Duration) time.Duration { return 0 }, expo(base, capD, 1)},
		// equal: [v/2, v)
		{"equal", 0, expo(base, capD, 0.5), expo(base, capD, 1)},
		// proportional ±25%: [0.75v, 1.25v]
		{"proportional", 0.25, expo(base, capD, 0.75), expo(base, capD, 1.25)},
		// decorrelated: [base, min(cap, 3·prev)]
		{"decorrelated", 0, func(int, time.Duration) time.Duration { return base },
			func(_ int, prev time.Duration) time.Duration { return min(capD, 3*max(prev, base)) }},
	}
	for _, tt := range tests {
		p := mustPolicy(t, Config{Preset: "brooker-full", Base: &base, Cap: &capD, Jitter: tt.jitter,
			JitterFraction: flt(tt.frac), MaxAttempts: num(0), RetryAfter: "ignore"})
		for seed := uint64(0); seed < 200; seed++ {
			rng := rand.NewPCG(seed, 7)
			req := Request{Arrived: t0, Attempts: 1}
			for n := 0; n < 12; n++ {
				prev := req.Prev
				d := decided(p, t0, &req, &Response{Status: 503}, rng)
				lo, hi := tt.lo(n, prev), tt.hi(n, prev)
				if !d.Retry || d.Delay < lo || d.Delay > hi || (d.Delay == hi && lo != hi && tt.jitter != "proportional" && tt.jitter != "decorrelated") {
					t.Fatalf("jitter %s seed %d retry %d: delay %s; want in [%s, %s)", tt.jitter, seed, n, d.Delay, lo, hi)
				}
				req.Attempts++
			}
		}
	}
}

// expo returns f·min(cap, base·2^n).
func expo(base, capD time.Duration, f float64) func(int, time.Duration) time.Duration {
	return func(n int, _ time.Duration) time.Duration {
		v := min(capD, base<<n)
		return time.Duration(f * float64(v))
	}
}

func TestSeedPolicy(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{})
	rng := rand.NewPCG(1, 2)
	// A 422 is never retried.
	if d := failN(p, rng, 5, Response{Status: 422, Code: "validation_error"}); len(d) != 1 || d[0].Retry || d[0].Stop != sim.StopNotRetryable {
		t.Errorf("422: decisions %+v; want one not_retryable", d)
	}
	// A 500 is retried once, with a short delay.
	d := failN(p, rng, 5, Response{Status: 500})
	if len(d) != 2 || !d[0].Retry || d[0].Delay < 125*time.Millisecond || d[0].Delay >= 250*time.Millisecond || d[1].Stop != sim.StopMaxAttempts {
		t.Errorf("500: decisions %+v; want one retry in [125ms, 250ms) then max_attempts", d)
	}
	// A 429 with Retry-After: 7 never waits less than 7 s under floor.
	for seed := uint64(0); seed < 500; seed++ {
		rng := rand.NewPCG(seed, 0)
		for _, dd := range failN(p, rng, 5, Response{Status: 429, RetryAfter: "7"}) {
			if dd.Retry && dd.Delay < 7*time.Second {
				t.Fatalf("429 Retry-After 7 seed %d: delay %s < 7s", seed, dd.Delay)
			}
			if dd.RetryAfter != 7*time.Second || dd.RetryAfterStatus != sim.RetryAfterValid {
				t.Fatalf("429 Retry-After 7: parsed %s %s", dd.RetryAfter, dd.RetryAfterStatus)
			}
		}
	}
	// 200 succeeds.
	if d := failN(p, rng, 1, Response{Status: 200}); d[0].Stop != sim.StopSucceeded {
		t.Errorf("200: %+v; want succeeded", d)
	}
}

func TestRetryAfterPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy string
		raw    string
		want   time.Duration // with jitter none, base 1s: the computed delay is 1s
	}{
		{"floor", "7", 7 * time.Second},       // floor: Retry-After above computed
		{"floor", "0", time.Second},           // floor: computed above Retry-After
		{"replace", "0", 0},                   // replace: Retry-After 0 wins
		{"replace", "9000", 10 * time.Minute}, // replace: clamped to max_retry_after
		{"replace", "soon", time.Second},      // invalid header: computed delay
		{"ignore", "7", time.Second},          // ignore
		{"floor", "", time.Second},            // no header
	}
	for _, tt := range tests {
		p := mustPolicy(t, Config{Preset: "retryablehttp", RetryAfter: tt.policy, MaxRetryAfter: dur(10 * time.Minute)})
		req := Request{Arrived: t0, Attempts: 1}
		d := decided(p, t0, &req, &Response{Status: 429, RetryAfter: tt.raw}, rand.NewPCG(1, 1))
		if !d.Retry || d.Delay != tt.want {
			t.Errorf("retry_after %s, header %q: delay %s retry %v; want %s", tt.policy, tt.raw, d.Delay, d.Retry, tt.want)
		}
	}
}

// TestThrottleBase: with throttle_base, each retry's un-jittered delay
// starts from the base of the status that caused it (the 429's or the
// others'), at the retry's index, whatever the previous retries were.
func TestThrottleBase(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		typ      string
		statuses []int // the responses of attempts 1, 2, …
		want     []time.Duration
	}{
		{"exponential", []int{503, 429, 503, 500, 429, 429}, []time.Duration{ms(50), ms(2000), ms(200), ms(400), ms(16000), ms(20000)}},
		{"exponential", []int{429, 429, 429}, []time.Duration{ms(1000), ms(2000), ms(4000)}},
		{"linear", []int{503, 429, 503}, []time.Duration{ms(50), ms(2000), ms(150)}},
		{"constant", []int{429, 503, 429}, []time.Duration{ms(1000), ms(50), ms(1000)}},
	}
	for _, tt := range tests {
		p := mustPolicy(t, Config{Type: tt.typ, Base: dur(ms(50)), ThrottleBase: dur(time.Second), Cap: dur(20 * time.Second),
			Jitter: "none", MaxAttempts: num(0), Deadline: dur(0), RetryOn: []int{429, 500, 503}, ErrorRetries: num(0), ErrorDelay: dur(0)})
		req := Request{Arrived: t0}
		rng := rand.NewPCG(1, 1)
		for k, st := range tt.statuses {
			req.Attempts++
			d := decided(p, t0, &req, &Response{Status: st}, rng)
			if !d.Retry || d.Delay != tt.want[k] {
				t.Errorf("%s, retry %d after %d: %+v; want a retry after %s", tt.typ, k+1, st, d, tt.want[k])
			}
		}
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Deadline: dur(10 * time.Second)})
	req := Request{Arrived: t0, Attempts: 1}
	// Retry-After 30 s would start the retry after the 10 s deadline.
	d := decided(p, t0, &req, &Response{Status: 429, RetryAfter: "30"}, rand.NewPCG(1, 1))
	if d.Retry || d.Stop != sim.StopDeadline {
		t.Errorf("Retry-After 30 with deadline 10s: %+v; want deadline", d)
	}
}

// firstDelays returns the first n delays of a preset against 503s without
// Retry-After, or the stop reason in place of a delay.
func firstDelays(p *Policy, seed uint64, n int) []string {
	rng := rand.NewPCG(seed, 0)
	var out []string
	for _, d := range failN(p, rng, n, Response{Status: 503}) {
		if d.Retry {
			out = append(out, d.Delay.Round(time.Millisecond).String())
		} else {
			out = append(out, d.Stop.String())
		}
	}
	return out
}

func TestPresetFirstDelays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		preset string
		want   []string
	}{
		{"retryablehttp", []string{"1s", "2s", "4s", "8s", "max_attempts"}},                                                 // deterministic doubling from 1s, RetryMax 4
		{"brooker-none", []string{"5ms", "10ms", "20ms", "40ms", "80ms"}},                                                   // base 5ms ×2
		{"naive-immediate", []string{"0s", "0s", "0s", "0s", "0s"}},                                                         // at once
		{"aws-standard", []string{firstDelays(mustPolicy(t, Config{Preset: "aws-standard"}), 1, 1)[0], "", "max_attempts"}}, // 3 attempts
	}
	for _, tt := range tests {
		got := firstDelays(mustPolicy(t, Config{Preset: tt.preset}), 1, 5)
		for i, w := range tt.want {
			if w != "" && (i >= len(got) || got[i] != w) {
				t.Errorf("first delays of %s = %v; want %v", tt.preset, got, tt.want)
				break
			}
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), 503, "7", 0, uint64(1), 1, false)
	f.Add(uint8(3), 429, "Wed, 21 Oct 2015 07:28:00 GMT", 0, uint64(2), 9, true)
	f.Add(uint8(5), 0, "", 99999999, uint64(3), 40, false)
	f.Add(uint8(11), 500, "-1", 0, uint64(4), 3, false)
	names := PresetNames()
	f.Fuzz(func(t *testing.T, preset uint8, status int, raw string, secs int, seed uint64, attempts int, timeout bool) {
		p := mustPolicy(t, Config{Preset: names[int(preset)%len(names)]})
		s := p.NewState()
		rng := rand.NewPCG(seed, seed)
		req := Request{Arrived: t0}
		now := t0
		for k := 0; k < 1+(attempts&63); k++ {
			if _, stop := s.Before(now, &req, rng); stop != sim.StopNone {
				return
			}
			d := s.After(now, &req, &Response{Status: status, RetryAfter: raw, RetryAfterSeconds: secs, Timeout: timeout}, rng)
			if d.Delay < 0 || d.RetryAfter < 0 || d.RetryAfter > p.MaxRetryAfter || float64(d.Delay) >= math.Inf(1) {
				t.Fatalf("%s status %d Retry-After %q/%d: decision %+v", p.Name, status, raw, secs, d)
			}
			if d.Retry == (d.Stop != sim.StopNone) {
				t.Fatalf("%s: decision %+v both retries and stops", p.Name, d)
			}
			if !d.Retry {
				return
			}
			now = now.Add(d.Delay)
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	for _, name := range PresetNames() {
		b.Run(name, func(b *testing.B) {
			p := mustPolicy(b, Config{Preset: name, MaxAttempts: num(0), Deadline: dur(0), ErrorRetries: num(0)})
			s := p.NewState()
			rng := rand.NewPCG(1, 2)
			resp := Response{Status: 503, RetryAfterSeconds: 1,
				Limits: sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 30, LimitDay: 5000, RemainingDay: 4000}}
			now := t0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := Request{Arrived: now, Attempts: 1 + i&7}
				d := s.After(now, &req, &resp, rng)
				if d.Delay < 0 {
					b.Fatal(d)
				}
				now = now.Add(time.Millisecond)
			}
		})
	}
}

// TestRetryAfterJitter: with retry_after_jitter f, a delay set by
// Retry-After lies in [RA, RA·(1+f)) and differs between clients; ignore is
// unaffected; a negative or huge f is refused.
func TestRetryAfterJitter(t *testing.T) {
	t.Parallel()
	ra := Response{Status: 503, RetryAfter: "10"}
	for _, policy := range []string{"floor", "replace"} {
		p := mustPolicy(t, Config{Type: "constant", Base: dur(time.Millisecond), RetryAfter: policy, RetryAfterJitter: flt(0.5), MaxAttempts: num(2)})
		rng := rand.NewPCG(1, 2)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := failN(p, rng, 1, ra)[0]
			if !d.Retry || d.Delay < 10*time.Second || d.Delay >= 15*time.Second {
				t.Fatalf("%s + jitter 0.5, Retry-After 10: decision %+v; want a retry in [10s, 15s)", policy, d)
			}
			seen[d.Delay] = true
		}
		if len(seen) < 100 {
			t.Errorf("%s + jitter 0.5: %d distinct delays over 200 clients; want them spread", policy, len(seen))
		}
	}
	p := mustPolicy(t, Config{Type: "constant", Base: dur(time.Second), Jitter: "none", RetryAfter: "ignore", RetryAfterJitter: flt(0.5), MaxAttempts: num(2)})
	if d := failN(p, rand.NewPCG(1, 2), 1, ra)[0]; d.Delay != time.Second {
		t.Errorf("ignore + jitter: delay %s; want the shaped 1s", d.Delay)
	}
	for _, f := range []float64{-0.1, 11, math.NaN()} {
		if _, err := (Config{RetryAfterJitter: flt(f)}).Resolve(); err == nil {
			t.Errorf("Resolve(retry_after_jitter %v): no error; want one", f)
		}
	}
}

// decided returns p's decision on resp (After's pure part, as a value).
func decided(p *Policy, now time.Time, req *Request, resp *Response, rng *rand.PCG) Decision {
	var d Decision
	p.decide(now, req, resp, rng, &d)
	return d
}
