package client

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/loadsim/loadsim/sim"
)

// ErrorCode returns the error code of a Compresr JSON error body, from either
// envelope: nested {"error":{"code":"…"}} or flat {"error":"…","code":"…"}.
// It scans for the first "code" key with a string value instead of decoding
// the body; "" if there is none.
func ErrorCode(body []byte) string {
	key := []byte(`"code"`)
	for {
		i := bytes.Index(body, key)
		if i < 0 {
			return ""
		}
		body = body[i+len(key):]
		rest := bytes.TrimLeft(body, " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' {
			continue
		}
		rest = rest[1:]
		end := bytes.IndexAny(rest, "\"\\")
		if end < 0 || rest[end] != '"' {
			return "" // escapes never occur in codes
		}
		return string(rest[:end])
	}
}

// ParseLimits reads the X-RateLimit-* headers. Without X-RateLimit-Tier it
// returns the zero value. An absent or malformed count (not a decimal
// integer ≥ -1) is sim.Unlimited: nothing is known of that window, so
// pacing does not hold requests back on it (0 would read as "exhausted").
func ParseLimits(h http.Header) sim.RateLimits {
	tier := h.Get("X-RateLimit-Tier")
	if tier == "" {
		return sim.RateLimits{}
	}
	n := func(name string) int64 {
		v, err := strconv.ParseInt(h.Get(name), 10, 64)
		if err != nil || v < sim.Unlimited {
			return sim.Unlimited
		}
		return v
	}
	return sim.RateLimits{
		Tier:            tier,
		LimitMinute:     n("X-RateLimit-Limit-Minute"),
		RemainingMinute: n("X-RateLimit-Remaining-Minute"),
		LimitDay:        n("X-RateLimit-Limit-Day"),
		RemainingDay:    n("X-RateLimit-Remaining-Day"),
	}
}
