package backoff

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// Request is the retry history of one logical request. The caller keeps one
// per logical request, sets Arrived, and passes it to State.Before before each
// attempt and to State.After after each response; it is not safe for
// concurrent use (one request is handled by one goroutine at a time). The zero
// value with Arrived set is a request that has sent nothing.
type Request struct {
	Arrived      time.Time     // when the request arrived (deadline origin)
	Attempts     int           // attempts admitted by Before so far
	Prev         time.Duration // the last backoff chosen before Retry-After (decorrelated jitter's prev)
	ErrorRetries int           // retries spent on 500s and transport errors

	interval time.Duration // the next un-jittered exponential interval; 0 = Base
	held     float64       // token-bucket tokens taken by the latest retry
}

// Response summarises one attempt's result for the strategy.
type Response struct {
	Status  int    // HTTP status; 0 for a transport error or a timeout
	Code    string // error.code of the body ("" if none); informational
	Timeout bool   // the attempt hit its per-attempt timeout (Status 0)

	// RetryAfter is the raw Retry-After header ("" if none); when empty,
	// RetryAfterSeconds (> 0) is used instead, as the simulator has it.
	RetryAfter        string
	RetryAfterSeconds int

	Limits sim.RateLimits // X-RateLimit-* headers (zero value if none)
}

// Decision is what follows a response: retry after Delay, or stop for Stop.
// RetryAfter and RetryAfterStatus are the parsed header, for the record.
type Decision struct {
	Retry            bool
	Delay            time.Duration // ≥ 0, when Retry
	Stop             sim.StopReason
	RetryAfter       time.Duration
	RetryAfterStatus sim.RetryAfterStatus
}

// Fill copies the decision into an attempt record.
func (d Decision) Fill(a *sim.Attempt) {
	a.Retry, a.Delay, a.Stop = d.Retry, d.Delay, d.Stop
	a.RetryAfter, a.RetryAfterStatus = d.RetryAfter, d.RetryAfterStatus
}

// Succeeded reports whether status is a 2xx.
func Succeeded(status int) bool { return status >= 200 && status <= 299 }

func isError(status int) bool { return status == 0 || status == 500 }

// decide is the pure part of After: retryability, attempt bounds, the delay
// and the deadline, into d (the zero Decision on entry: it is written
// in place, not returned, which spares a 40-byte copy at each of its
// returns). It updates req's delay history only when it retries.
func (p *Policy) decide(now time.Time, req *Request, resp *Response, rng *rand.PCG, d *Decision) {
	// The Retry-After under the policy's clamp: the header's text, or the
	// simulator's seconds.
	if resp.RetryAfter != "" {
		d.RetryAfter, d.RetryAfterStatus = ParseRetryAfter(resp.RetryAfter, now, p.MaxRetryAfter)
	} else {
		d.RetryAfter, d.RetryAfterStatus = RetryAfterSeconds(resp.RetryAfterSeconds, p.MaxRetryAfter)
	}
	switch {
	case Succeeded(resp.Status):
		d.Stop = sim.StopSucceeded
		return
	case !p.RetriesStatus(resp.Status):
		d.Stop = sim.StopNotRetryable
		return
	case p.MaxAttempts > 0 && req.Attempts >= p.MaxAttempts,
		p.ErrorRetries > 0 && isError(resp.Status) && req.ErrorRetries >= p.ErrorRetries:
		d.Stop = sim.StopMaxAttempts
		return
	}
	var delay, interval time.Duration
	if p.ErrorDelay > 0 && isError(resp.Status) {
		h := p.ErrorDelay / 2
		delay = h + scale(p.ErrorDelay-h, uniform(rng))
		interval = req.interval
	} else {
		delay, interval = p.backoff(req, resp.Status, rng)
	}
	prev := delay
	if d.RetryAfterStatus == sim.RetryAfterValid || d.RetryAfterStatus == sim.RetryAfterClamped {
		ra := d.RetryAfter
		if p.RetryAfterJitter > 0 && p.RetryAfter != RetryAfterIgnore {
			ra += scale(ra, p.RetryAfterJitter*uniform(rng))
		}
		switch p.RetryAfter {
		case RetryAfterFloor:
			delay = max(delay, ra)
		case RetryAfterReplace:
			delay = ra
		}
	}
	if p.Deadline > 0 && now.Add(delay).Sub(req.Arrived) > p.Deadline {
		d.Stop = sim.StopDeadline
		return
	}
	d.Retry, d.Delay = true, delay
	req.Prev, req.interval = prev, interval
	if isError(resp.Status) {
		req.ErrorRetries++
	}
}

// uniform returns the next draw of rng in [0, 1), as math/rand/v2's
// Rand.Float64 computes it from its source: the strategies take the
// request's generator itself, so a draw costs no call through the
// rand.Source interface.
func uniform(rng *rand.PCG) float64 { return float64(rng.Uint64()<<11>>11) / (1 << 53) }

// scale returns u·d for u in [0, 1), never negative.
func scale(d time.Duration, u float64) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(u * float64(d))
}

// backoff returns the jittered delay for the next retry, after a response
// of status, and the next un-jittered exponential interval.
func (p *Policy) backoff(req *Request, status int, rng *rand.PCG) (delay, next time.Duration) {
	n := req.Attempts - 1 // 0 for the first retry
	if n < 0 {
		n = 0
	}
	base := p.Base
	if p.ThrottleBase > 0 && status == 429 {
		base = p.ThrottleBase
	}
	var v time.Duration
	switch p.Shape {
	case ShapeConstant:
		v = base
	case ShapeLinear:
		if int64(n+1) > int64(p.Cap/base) {
			v = p.Cap
		} else {
			v = base * time.Duration(n+1)
		}
	case ShapeExponential:
		if p.ThrottleBase > 0 {
			// From the retry's index: the previous retry may have started
			// from the other base. As AWS computes it: x·r^n, then the cap.
			if f := float64(base) * math.Pow(p.Multiplier, float64(n)); f < float64(p.Cap) {
				v = time.Duration(f)
			} else {
				v = p.Cap
			}
			break
		}
		v = req.interval
		if v <= 0 {
			v = p.Base
		}
		if v > p.Cap {
			v = p.Cap
		}
		// cenkalti/backoff's increment, overflow-safe.
		if float64(v) >= float64(p.Cap)/p.Multiplier {
			next = p.Cap
		} else {
			next = time.Duration(float64(v) * p.Multiplier)
		}
	}
	switch p.Jitter {
	case JitterFull:
		delay = scale(v, uniform(rng))
	case JitterEqual:
		h := v / 2
		delay = h + scale(v-h, uniform(rng))
	case JitterDecorrelated:
		prev := req.Prev
		if prev < p.Base {
			prev = p.Base
		}
		hi := float64(prev) * 3
		f := float64(p.Base) + uniform(rng)*(hi-float64(p.Base))
		if f >= float64(p.Cap) || f >= math.MaxInt64 {
			delay = p.Cap
		} else {
			delay = time.Duration(f)
		}
	case JitterProportional:
		f := float64(v) * (1 - p.JitterFraction + 2*p.JitterFraction*uniform(rng))
		if f >= math.MaxInt64 {
			delay = math.MaxInt64
		} else {
			delay = time.Duration(f)
		}
	default:
		delay = v
	}
	return delay, next
}
