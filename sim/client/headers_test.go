package client

import (
	"net/http"
	"testing"

	"github.com/loadsim/loadsim/sim"
)

func TestParseLimits(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name string
		in   http.Header
		want sim.RateLimits
	}{
		// no tier: nothing known
		{"no tier", h("X-RateLimit-Remaining-Minute", "5"), sim.RateLimits{}},
		// every header, as the contract sends them
		{"all", h("X-RateLimit-Tier", "tier1", "X-RateLimit-Limit-Minute", "60", "X-RateLimit-Remaining-Minute", "0",
			"X-RateLimit-Limit-Day", "5000", "X-RateLimit-Remaining-Day", "4880"),
			sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: 0, LimitDay: 5000, RemainingDay: 4880}},
		// unlimited windows stay -1
		{"unlimited", h("X-RateLimit-Tier", "tier5", "X-RateLimit-Limit-Minute", "-1", "X-RateLimit-Remaining-Minute", "-1",
			"X-RateLimit-Limit-Day", "-1", "X-RateLimit-Remaining-Day", "-1"),
			sim.RateLimits{Tier: "tier5", LimitMinute: -1, RemainingMinute: -1, LimitDay: -1, RemainingDay: -1}},
		// absent and malformed counts are unknown (-1), never "exhausted" (0)
		{"absent and garbage", h("X-RateLimit-Tier", "tier2", "X-RateLimit-Remaining-Minute", "ten", "X-RateLimit-Limit-Day", "-7"),
			sim.RateLimits{Tier: "tier2", LimitMinute: -1, RemainingMinute: -1, LimitDay: -1, RemainingDay: -1}},
	}
	for _, tc := range tests {
		if got := ParseLimits(tc.in); got != tc.want {
			t.Errorf("%s: ParseLimits(%v) = %+v; want %+v", tc.name, tc.in, got, tc.want)
		}
	}
}

// FuzzParseLimits: any header values give counts that are -1 or ≥ 0.
func FuzzParseLimits(f *testing.F) {
	f.Add("tier1", "60", "0", "5000", "4880")
	f.Add("t", "-1", "x", "", "99999999999999999999")
	f.Fuzz(func(t *testing.T, tier, lm, rm, ld, rd string) {
		h := http.Header{}
		h.Set("X-RateLimit-Tier", tier)
		h.Set("X-RateLimit-Limit-Minute", lm)
		h.Set("X-RateLimit-Remaining-Minute", rm)
		h.Set("X-RateLimit-Limit-Day", ld)
		h.Set("X-RateLimit-Remaining-Day", rd)
		l := ParseLimits(h)
		for _, v := range []int64{l.LimitMinute, l.RemainingMinute, l.LimitDay, l.RemainingDay} {
			if v < sim.Unlimited {
				t.Fatalf("ParseLimits(%v) = %+v: a count below -1", h, l)
			}
		}
	})
}
