package mock

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
)

// TestHeaderCache: pre-rendered header values say what formatting them
// says, and values out of the cache's range fall back to formatting.
func TestHeaderCache(t *testing.T) {
	t.Parallel()
	s := &Server{hdr: newHeaderCache(map[string]api.Tier{"tier1": {}, "bench": {}})}
	tests := []struct {
		length     int64
		l          sim.RateLimits
		retryAfter int
		cached     bool
	}{
		// A success of the benchmark's unlimited tier: all cached.
		{480, sim.RateLimits{Tier: "bench", LimitMinute: -1, RemainingMinute: -1, LimitDay: -1, RemainingDay: -1}, 0, true},
		// A 429 of tier1 early in the day: the day's 5000 is not cached.
		{160, sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 0, LimitDay: 5000, RemainingDay: 4940}, 17, false},
		// A 429 late in the day of a small tier: all cached, Retry-After too.
		{160, sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 0, LimitDay: 2000, RemainingDay: 0}, 2047, true},
		// Retry-After above the cache.
		{160, sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 0, LimitDay: 2000, RemainingDay: 0}, 2048, false},
		// A tier the cache does not know.
		{160, sim.RateLimits{Tier: "custom", LimitMinute: 1, RemainingMinute: 0, LimitDay: 1, RemainingDay: 0}, 0, false},
		// No rate-limit headers (before authentication), a body over the cache.
		{4096, sim.RateLimits{}, 0, false},
		// No rate-limit headers, small body.
		{90, sim.RateLimits{}, 0, true},
		// No Content-Length (net/http sends it), a success of the bench tier.
		{-1, sim.RateLimits{Tier: "bench", LimitMinute: -1, RemainingMinute: -1, LimitDay: -1, RemainingDay: -1}, 0, true},
		// No Content-Length, a 429 with an uncached day count.
		{-1, sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 0, LimitDay: 5000, RemainingDay: 4940}, 17, false},
	}
	for _, tt := range tests {
		got, want := http.Header{}, http.Header{}
		ok := s.setCached(got, tt.length, &tt.l, tt.retryAfter)
		setFormatted(want, tt.length, &tt.l, tt.retryAfter)
		if ok != tt.cached {
			t.Errorf("setCached(%d, %+v, %d) = %v; want %v", tt.length, tt.l, tt.retryAfter, ok, tt.cached)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("setCached(%d, %+v, %d) set %v; formatting sets %v", tt.length, tt.l, tt.retryAfter, got, want)
		}
		if !ok && len(got) != 0 {
			t.Errorf("setCached(%d, %+v, %d) = false but set %v", tt.length, tt.l, tt.retryAfter, got)
		}
	}
}
