package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/backoff"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu        sync.Mutex
	attempts  []sim.Attempt
	outcomes  []sim.Outcome
	onAttempt func(*sim.Attempt)
}

func (r *recorder) RecordAttempt(a *sim.Attempt) {
	r.mu.Lock()
	r.attempts = append(r.attempts, *a)
	f := r.onAttempt
	r.mu.Unlock()
	if f != nil {
		f(a)
	}
}

func (r *recorder) RecordOutcome(o *sim.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, *o)
}

// script is a test server answering the n-th request (1-based) with step(n, r).
func script(t *testing.T, step func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *http.Transport) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step(int(n.Add(1)), w, r)
	}))
	tr := &http.Transport{}
	t.Cleanup(func() { tr.CloseIdleConnections(); srv.Close() })
	return srv, tr
}

func fastPolicy(t *testing.T, c backoff.Config) *backoff.Policy {
	t.Helper()
	ms := func(n int) *time.Duration { d := time.Duration(n) * time.Millisecond; return &d }
	if c.Base == nil {
		c.Base, c.Cap, c.ErrorDelay = ms(1), ms(5), ms(2)
	}
	p, err := c.Resolve()
	if err != nil {
		t.Fatalf("%+v.Resolve(): %v", c, err)
	}
	return p
}

const validBody = `{"query":"q","context":"c","compression_model_name":"latte_v1"}`
const qsPath = "/api/compress/question-specific/"

func post(t *testing.T, ctx context.Context, url, body string, seq string) *http.Request {
	t.Helper()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url+qsPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-API-Key", "cmp_demo_tier1")
	if seq != "" {
		r.Header.Set(SeqHeader, seq)
	}
	return r
}

func Test429ThenSuccess(t *testing.T) {
	var bodies, seqs []string
	var mu sync.Mutex
	srv, tr := script(t, func(n int, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, seqs = append(bodies, string(b)), append(seqs, r.Header.Get(SeqHeader))
		mu.Unlock()
		w.Header().Set("X-RateLimit-Tier", "tier1")
		w.Header().Set("X-RateLimit-Limit-Minute", "60")
		w.Header().Set("X-RateLimit-Remaining-Minute", "0")
		w.Header().Set("X-RateLimit-Limit-Day", "5000")
		w.Header().Set("X-RateLimit-Remaining-Day", "4990")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			io.WriteString(w, `{"success":false,"error":{"code":"rate_limit_exceeded","message":"slow down"}}`)
			return
		}
		io.WriteString(w, `{"success":true}`)
	})
	rec := &recorder{}
	maxRA := 3 * time.Millisecond
	c := New(tr, fastPolicy(t, backoff.Config{MaxRetryAfter: &maxRA}), WithRecorder(rec), WithTenant(2))
	resp, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, "41"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"success":true}` {
		t.Errorf("final body %q", b)
	}
	if len(bodies) != 2 || bodies[0] != validBody || bodies[1] != validBody || seqs[1] != "41" {
		t.Errorf("server saw bodies %q seqs %q; want the body and X-Vegeta-Seq replayed", bodies, seqs)
	}
	if len(rec.attempts) != 2 {
		t.Fatalf("recorded %d attempts; want 2", len(rec.attempts))
	}
	a := rec.attempts[0]
	if a.Tenant != 2 || a.Request != 41 || a.Number != 1 || a.Status != 429 || a.Code != "rate_limit_exceeded" ||
		a.RetryAfterRaw != "1" || a.RetryAfter != maxRA || a.RetryAfterStatus != sim.RetryAfterClamped ||
		!a.Retry || a.Delay < maxRA || a.Limits.RemainingDay != 4990 || a.Limits.Tier != "tier1" {
		t.Errorf("first attempt = %+v", a)
	}
	if b := rec.attempts[1]; b.Number != 2 || b.Status != 200 || b.Stop != sim.StopSucceeded || b.Code != "" {
		t.Errorf("second attempt = %+v", b)
	}
	if len(rec.outcomes) != 1 || rec.outcomes[0].Kind != sim.Succeeded || rec.outcomes[0].Attempts != 2 || rec.outcomes[0].Request != 41 {
		t.Errorf("outcomes = %+v", rec.outcomes)
	}
}

func TestNotRetriedAndRejected(t *testing.T) {
	var hits atomic.Int64
	srv, tr := script(t, func(n int, w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(422)
		io.WriteString(w, `{"success":false,"error":"query is required","code":"validation_error"}`)
	})
	rec := &recorder{}
	c := New(tr, fastPolicy(t, backoff.Config{}), WithRecorder(rec))
	// Client-side validation: a body without query is never sent.
	_, err := c.RoundTrip(post(t, context.Background(), srv.URL, `{"compression_model_name":"latte_v1"}`, ""))
	if !errors.Is(err, ErrRejectedClientSide) || hits.Load() != 0 {
		t.Fatalf("invalid body: err %v, server hits %d; want ErrRejectedClientSide and 0", err, hits.Load())
	}
	// A 422 (here the server disagrees with the client) is not retried; flat envelope code.
	resp, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, ""))
	if err != nil || resp.StatusCode != 422 || hits.Load() != 1 {
		t.Fatalf("422: %v, %v, hits %d; want one 422", resp, err, hits.Load())
	}
	if len(rec.attempts) != 1 || rec.attempts[0].Code != "validation_error" || rec.attempts[0].Stop != sim.StopNotRetryable {
		t.Errorf("attempts = %+v", rec.attempts)
	}
	if len(rec.outcomes) != 2 || rec.outcomes[0].Kind != sim.RejectedClientSide || rec.outcomes[1].Kind != sim.FailedPermanent {
		t.Errorf("outcomes = %+v", rec.outcomes)
	}
}

func TestTimeoutThen503ThenSuccess(t *testing.T) {
	srv, tr := script(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1: // hang until the client's attempt timeout (bounded)
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			io.WriteString(w, `{"success":false,"error":{"code":"service_unavailable","message":"open"}}`)
		default:
			io.WriteString(w, `{}`)
		}
	})
	rec := &recorder{}
	c := New(tr, fastPolicy(t, backoff.Config{}), WithRecorder(rec), WithAttemptTimeout(50*time.Millisecond))
	resp, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, ""))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v; want 200 on the third attempt", resp, err)
	}
	if len(rec.attempts) != 3 || rec.attempts[0].Status != 0 || rec.attempts[0].Code != CodeTimeout || !rec.attempts[0].Retry ||
		rec.attempts[1].Status != 503 || rec.attempts[1].Code != "service_unavailable" || rec.attempts[1].RetryAfterStatus != sim.RetryAfterValid {
		t.Errorf("attempts = %+v", rec.attempts)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	srv, tr := script(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(503)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{onAttempt: func(*sim.Attempt) { cancel() }}
	c := New(tr, fastPolicy(t, backoff.Config{}), WithRecorder(rec))
	_, err := c.RoundTrip(post(t, ctx, srv.URL, validBody, ""))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip error = %v; want context.Canceled", err)
	}
	if len(rec.attempts) != 1 || !rec.attempts[0].Retry || rec.attempts[0].Delay < 60*time.Second {
		t.Errorf("attempts = %+v; want one, retrying after ≥ 60s", rec.attempts)
	}
	if len(rec.outcomes) != 1 || rec.outcomes[0].Kind != sim.InFlight || rec.outcomes[0].Reason != sim.StopCancelled {
		t.Errorf("outcomes = %+v; want in_flight/cancelled", rec.outcomes)
	}
}

func TestClientCircuitBreaker(t *testing.T) {
	var hits atomic.Int64
	srv, tr := script(t, func(n int, w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(503)
	})
	two, open := 2, time.Hour
	rec := &recorder{}
	p := fastPolicy(t, backoff.Config{CircuitBreaker: &backoff.CircuitBreakerConfig{Failures: &two, OpenFor: &open}})
	c := New(tr, p, WithRecorder(rec))
	_, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, ""))
	var se *StopError
	if !errors.As(err, &se) || se.Reason != sim.StopClientCircuitOpen || hits.Load() != 2 {
		t.Fatalf("RoundTrip error = %v after %d hits; want client_circuit_open after 2", err, hits.Load())
	}
	// The next request fails fast without reaching the server.
	if _, err := c.RoundTrip(post(t, context.Background(), srv.URL, validBody, "")); !errors.As(err, &se) || hits.Load() != 2 {
		t.Errorf("second request: %v, hits %d; want refused locally", err, hits.Load())
	}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{`{"success":false,"error":{"code":"rate_limit_exceeded","message":"x"}}`, "rate_limit_exceeded"},     // nested
		{`{"success":false,"error":"x","code":"service_unavailable","retry_after":3}`, "service_unavailable"}, // flat
		{`{"error": {"message":"say \"code\": \"no\"", "code" : "internal_error"}}`, "internal_error"},        // code text in a message
		{`{"success":true,"data":{}}`, ""}, // success
		{`not json "code"`, ""},            // garbage
		{``, ""},                           // empty
	}
	for _, tt := range tests {
		if got := ErrorCode([]byte(tt.body)); got != tt.want {
			t.Errorf("ErrorCode(%q) = %q; want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzErrorCode(f *testing.F) {
	f.Add(`{"error":{"code":"x"}}`)
	f.Add(`{"code":"`)
	f.Fuzz(func(t *testing.T, body string) {
		if c := ErrorCode([]byte(body)); len(c) > len(body) || strings.ContainsAny(c, `"\`) {
			t.Fatalf("ErrorCode(%q) = %q", body, c)
		}
	})
}

func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"success":true}`)
	}))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	p, _ := backoff.Config{}.Resolve()
	for _, name := range []string{"direct", "retrying"} {
		b.Run(name, func(b *testing.B) {
			var rt http.RoundTripper = tr
			if name == "retrying" {
				rt = New(tr, p)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, _ := http.NewRequest(http.MethodPost, srv.URL+qsPath, strings.NewReader(validBody))
				resp, err := rt.RoundTrip(r)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
