package client

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
	"github.com/loadsim/loadsim/sim/mock"
)

// TestAgainstMock runs the retrying transport against the real mock (sim/mock
// around sim/api) on loopback: a tier allowing one request per minute answers
// the second request 429 with Retry-After and X-RateLimit-* headers.
func TestAgainstMock(t *testing.T) {
	one := int64(1)
	cfg, err := api.Config{Tiers: map[string]api.TierConfig{"tier1": {RequestsPerMinute: &one}}}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	// A fixed clock keeps all requests in one quota minute.
	clock := fixedClock(time.Date(2026, 7, 1, 12, 0, 30, 0, time.UTC))
	srv := httptest.NewServer(mock.New(api.New(cfg, clock.Now(), 1), cfg, mock.WithClock(clock)))
	tr := &http.Transport{}
	defer func() { tr.CloseIdleConnections(); srv.Close() }()

	two := 2
	p := fastPolicy(t, backoff.Config{RetryAfter: "ignore", MaxAttempts: &two})
	rec := &recorder{}
	c := New(tr, p, WithRecorder(rec))
	for k := 0; k < 2; k++ {
		resp, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, ""))
		if err != nil {
			t.Fatalf("request %d: %v", k+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if len(rec.attempts) != 3 {
		t.Fatalf("attempts = %+v; want 1 success then 2 rate-limited attempts", rec.attempts)
	}
	if a := rec.attempts[0]; a.Status != 200 || a.Stop != sim.StopSucceeded || a.Limits.Tier != "tier1" || a.Limits.RemainingMinute != 0 {
		t.Errorf("first attempt = %+v", a)
	}
	for _, a := range rec.attempts[1:] {
		if a.Status != 429 || a.Code != "rate_limit_exceeded" || a.RetryAfterStatus != sim.RetryAfterValid ||
			a.RetryAfter < time.Second || a.Limits.LimitMinute != 1 {
			t.Errorf("rate-limited attempt = %+v", a)
		}
	}
	if o := rec.outcomes[1]; o.Kind != sim.GaveUp || o.Reason != sim.StopMaxAttempts || o.Attempts != 2 {
		t.Errorf("second outcome = %+v; want gave_up/max_attempts after 2", o)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
