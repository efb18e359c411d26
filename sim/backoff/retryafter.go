package backoff

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// ParseRetryAfter parses a Retry-After header value (RFC 9110 §10.2.3):
// delay-seconds (1*DIGIT) or an HTTP-date (IMF-fixdate, or the obsolete
// RFC 850 and asctime forms), relative to now. Surrounding whitespace is
// ignored. It returns:
//
//	""                          0, RetryAfterNone
//	garbage, negative, "1.5"    0, RetryAfterInvalid
//	a date in the past          0, RetryAfterValid
//	a value above max (> 0)     max, RetryAfterClamped (also for digit strings that overflow)
//	otherwise                   the delay, RetryAfterValid
//
// max ≤ 0 means no clamp (overflowing values then give math.MaxInt64). The
// delay-seconds form does not allocate.
func ParseRetryAfter(raw string, now time.Time, max time.Duration) (time.Duration, sim.RetryAfterStatus) {
	s := strings.Trim(raw, " \t")
	if s == "" {
		if raw == "" {
			return 0, sim.RetryAfterNone
		}
		return 0, sim.RetryAfterInvalid
	}
	if max <= 0 {
		max = math.MaxInt64
	}
	if s[0] >= '0' && s[0] <= '9' {
		const limit = int64(math.MaxInt64 / int64(time.Second))
		var secs int64
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, sim.RetryAfterInvalid
			}
			if secs <= limit {
				secs = secs*10 + int64(c-'0')
			}
		}
		if secs > limit {
			return max, sim.RetryAfterClamped
		}
		return clampRetryAfter(time.Duration(secs)*time.Second, max)
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return 0, sim.RetryAfterInvalid
	}
	d := t.Sub(now)
	if d < 0 {
		return 0, sim.RetryAfterValid
	}
	return clampRetryAfter(d, max)
}

func clampRetryAfter(d, max time.Duration) (time.Duration, sim.RetryAfterStatus) {
	if d > max {
		return max, sim.RetryAfterClamped
	}
	return d, sim.RetryAfterValid
}

// RetryAfterSeconds classifies a Retry-After already parsed to whole seconds
// (as the simulator gets it from sim/api): ≤ 0 → none, above max → clamped.
func RetryAfterSeconds(secs int, max time.Duration) (time.Duration, sim.RetryAfterStatus) {
	if secs <= 0 {
		return 0, sim.RetryAfterNone
	}
	if max <= 0 {
		max = math.MaxInt64
	}
	if int64(secs) > int64(max/time.Second) {
		return max, sim.RetryAfterClamped
	}
	return time.Duration(secs) * time.Second, sim.RetryAfterValid
}
