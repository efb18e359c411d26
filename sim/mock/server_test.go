package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/mock"
)

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	const (
		internal = zeroLatency + "  internal_error_rate: 1.0\n"
		tiny     = zeroLatency + "  body_limit: 64\n"
	)
	tests := []struct {
		name         string
		cfg          string
		method, path string
		key, body    string
		status       int
		code         string
		limits       bool // X-RateLimit-* headers expected
		allow        string
	}{
		// An unknown path is 404 in the envelope, whatever the method.
		{"unknown route", "", "POST", "/api/compress/nothing/", k3, validBody, 404, "not_found", false, ""},
		// A near miss is unknown too: no trailing-slash redirect.
		{"no trailing slash", "", "POST", "/api/compress/question-specific", k3, validBody, 404, "not_found", false, ""},
		// A known path with the wrong method is 405 with Allow.
		{"wrong method", "", "GET", qs, k3, "", 405, "method_not_allowed", false, "POST"},
		// GET routes refuse POST.
		{"POST to health", "", "POST", "/health", "", "", 405, "method_not_allowed", false, "GET"},
		// No X-API-Key header.
		{"missing key", "", "POST", qs, "", validBody, 401, "missing_api_key", false, ""},
		// A key the model does not know.
		{"unknown key", "", "POST", qs, "cmp_nope", validBody, 401, "invalid_api_key", false, ""},
		// A revoked demo key.
		{"revoked key", "", "POST", qs, "cmp_demo_revoked", validBody, 401, "invalid_api_key", false, ""},
		// An expired demo key.
		{"expired key", "", "POST", qs, "cmp_demo_expired", validBody, 401, "expired_api_key", false, ""},
		// A body that is not JSON.
		{"not JSON", "", "POST", qs, k3, "{not json", 400, "invalid_request", true, ""},
		// A body over the body limit, with a valid key.
		{"body over limit", tiny, "POST", qs, k3, validBody, 400, "invalid_request", true, ""},
		// A body over the limit without a key: authentication comes first.
		{"body over limit, no key", tiny, "POST", qs, "", validBody, 401, "missing_api_key", false, ""},
		// An empty query.
		{"empty query", "", "POST", qs, k3, `{"query":"","compression_model_name":"latte_v1"}`, 422, "validation_error", true, ""},
		// A model above the key's tier.
		{"tier-gated model", "", "POST", qs, k1, `{"query":"q","compression_model_name":"latte_v2"}`, 403, "forbidden", true, ""},
		// Injected server faults.
		{"internal error", internal, "POST", qs, k3, validBody, 500, "internal_error", true, ""},
		// The rate-limit profile needs a key.
		{"rate limits without key", "", "GET", "/api/profile/rate-limits", "", "", 401, "missing_api_key", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, _ := newServer(t, tt.cfg)
			r := serve(t, srv, tt.method, tt.path, tt.key, tt.body)
			code, msg := r.errorCode()
			if r.status != tt.status || code != tt.code || msg == "" || r.body["success"] != false {
				t.Fatalf("%s %s (key %q, body %.40q) = %d %s; want %d %s with a message",
					tt.method, tt.path, tt.key, tt.body, r.status, r.raw, tt.status, tt.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q; want application/json", tt.method, tt.path, ct)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("%s %s: Allow %q; want %q", tt.method, tt.path, got, tt.allow)
			}
			if got := r.header.Get("X-RateLimit-Tier") != ""; got != tt.limits {
				t.Errorf("%s %s: X-RateLimit-Tier present = %v; want %v (headers %v)", tt.method, tt.path, got, tt.limits, r.header)
			}
			if r.header.Get("Retry-After") != "" {
				t.Errorf("%s %s: unexpected Retry-After %q", tt.method, tt.path, r.header.Get("Retry-After"))
			}
		})
	}
}

func TestRateLimitedAndCircuitOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        string
		key        string
		first      int // status of the first request
		status     int // status of the second
		code       string
		retryAfter string
	}{
		// One request a minute: the second, 30 s into the minute, waits 30 s.
		{"quota", zeroLatency + "  tiers: {tier1: {requests_per_minute: 1}}\n", k1, 200, 429, "rate_limit_exceeded", "30"},
		// Every upstream call fails and one failure opens the circuit for 30 s.
		{"circuit", "api:\n  upstream:\n    latency: {median: 0s}\n    incidents: [{start: 0s, duration: 1h, error_rate: 1.0}]\n" +
			"  circuit: {window: 10s, min_requests: 1, failure_ratio: 0.5, open_for: 30s, half_open_probes: 1}\n",
			k5, 500, 503, "service_unavailable", "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, _ := newServer(t, tt.cfg)
			if r := serve(t, srv, "POST", qs, tt.key, validBody); r.status != tt.first {
				t.Fatalf("first POST %s = %d %s; want %d", qs, r.status, r.raw, tt.first)
			}
			r := serve(t, srv, "POST", qs, tt.key, validBody)
			if code, _ := r.errorCode(); r.status != tt.status || code != tt.code {
				t.Fatalf("second POST %s = %d %s; want %d %s", qs, r.status, r.raw, tt.status, tt.code)
			}
			if got := r.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("second POST %s: Retry-After %q; want %q", qs, got, tt.retryAfter)
			}
			if r.header.Get("X-RateLimit-Remaining-Minute") == "" {
				t.Errorf("second POST %s: no X-RateLimit-Remaining-Minute", qs)
			}
		})
	}
}

func TestFlatEnvelope(t *testing.T) {
	t.Parallel()
	const flat = zeroLatency + "  envelope: flat\n  tiers: {tier1: {requests_per_minute: 1}}\n"
	tests := []struct {
		name       string
		key        string
		status     int
		code       string
		retryAfter any // the retry_after member; nil = absent
	}{
		// 401: no retry_after.
		{"missing key", "", 401, "missing_api_key", nil},
		// The first request of the minute succeeds (checked for its success envelope).
		{"success", k1, 200, "", nil},
		// 429 carries retry_after in the body too.
		{"quota", k1, 429, "rate_limit_exceeded", float64(30)},
	}
	srv, _, _ := newServer(t, flat)
	for _, tt := range tests { // in order: the quota row needs the success row first
		r := serve(t, srv, "POST", qs, tt.key, validBody)
		if r.status != tt.status {
			t.Fatalf("%s: POST %s (key %q) = %d %s; want %d", tt.name, qs, tt.key, r.status, r.raw, tt.status)
		}
		if tt.status == 200 {
			if r.body["success"] != true || r.body["data"] == nil {
				t.Errorf("%s: flat success body %s; want the success envelope", tt.name, r.raw)
			}
			continue
		}
		msg, _ := r.body["error"].(string)
		ra, has := r.body["retry_after"]
		if r.body["success"] != false || msg == "" || r.body["code"] != tt.code || ra != tt.retryAfter || has != (tt.retryAfter != nil) {
			t.Errorf("%s: flat body %s; want error string, code %q, retry_after %v", tt.name, r.raw, tt.code, tt.retryAfter)
		}
	}
}

func TestSuccessBodies(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "")
	ctx := strings.Repeat("Compression keeps what matters. ", 8) // 256 bytes
	single := `{"context":"` + ctx + `","query":"What matters?","compression_model_name":"latte_v1","target_compression_ratio":0.25}`
	r := serve(t, srv, "POST", qs, k3, single)
	if r.status != 200 || r.body["success"] != true || r.body["message"] != nil {
		t.Fatalf("POST %s = %d %s; want 200 success", qs, r.status, r.raw)
	}
	d := r.body["data"].(map[string]any)
	orig, comp := d["original_tokens"].(float64), d["compressed_tokens"].(float64)
	// 256+13 bytes → 68 tokens; ratio 0.25 keeps ceil(68×0.75) = 51.
	if orig != 68 || comp != 51 || d["tokens_saved"] != orig-comp || d["original_context"] != ctx ||
		d["target_compression_ratio"] != 0.25 || d["actual_compression_ratio"] != comp/orig {
		t.Errorf("POST %s data = %v; want 68 → 51 tokens, the context echoed", qs, d)
	}
	cc, _ := d["compressed_context"].(string)
	if !strings.HasPrefix(ctx, cc) || len(cc) != 204 {
		t.Errorf("compressed_context %q (%d bytes); want the context's first 51×4 = 204 bytes", cc, len(cc))
	}
	if _, ok := d["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms missing or not a number in %v", d)
	}
	for _, h := range []string{"X-RateLimit-Limit-Minute", "X-RateLimit-Remaining-Minute", "X-RateLimit-Limit-Day", "X-RateLimit-Remaining-Day", "X-RateLimit-Tier"} {
		if r.header.Get(h) == "" {
			t.Errorf("POST %s: 200 without %s", qs, h)
		}
	}
	if got := r.header.Get("X-RateLimit-Remaining-Minute"); got != "249" {
		t.Errorf("POST %s: X-RateLimit-Remaining-Minute %q; want 249 (tier3, one used)", qs, got)
	}

	batch := `{"inputs":[{"context":"abcdefgh"},{"context":"abcd"},{"context":"a"}],"compression_model_name":"espresso_v1"}`
	r = serve(t, srv, "POST", qaBatch, k3, batch)
	if r.status != 200 {
		t.Fatalf("POST %s = %d %s; want 200", qaBatch, r.status, r.raw)
	}
	d = r.body["data"].(map[string]any)
	res, _ := d["results"].([]any)
	// 2 + 1 + 1 tokens; ratio 0.5: ceil(1) + ceil(0.5) + ceil(0.5) = 3 kept.
	if len(res) != 3 || d["count"] != 3.0 || d["total_original_tokens"] != 4.0 ||
		d["total_compressed_tokens"] != 3.0 || d["total_tokens_saved"] != 1.0 {
		t.Errorf("POST %s data = %v; want 3 results, 4 → 3 tokens", qaBatch, d)
	}
	// Mean of the items' ratios 1/2, 1/1 and 1/1.
	if avg := d["average_compression_ratio"].(float64); avg != 2.5/3 {
		t.Errorf("POST %s average_compression_ratio %v; want %v", qaBatch, avg, 2.5/3)
	}
}

func TestInfoRoutes(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "")
	tests := []struct {
		name, path, key string
		want            []string // substrings of the body
	}{
		// Health needs no key and reports the circuit.
		{"health", "/health", "", []string{`"status":"ok"`, `"circuit":"closed"`}},
		// Models with their min_tier, no key needed.
		{"models", "/api/compress/models", "", []string{`{"name":"latte_v2","min_tier":"tier2"}`, `{"name":"latte_v1","min_tier":"tier1"}`}},
		// The key's tier and limits.
		{"rate limits", "/api/profile/rate-limits", k1, []string{`"tier":"tier1"`, `"requests_per_minute":60`, `"tokens_per_minute":250000`, `"requests_per_day":5000`, `"tokens_per_day":-1`}},
		// Prometheus text, no key.
		{"metrics", "/metrics", "", []string{"# TYPE compresr_mock_circuit_state gauge", "compresr_mock_quota_remaining{"}},
	}
	for _, tt := range tests {
		r := serve(t, srv, "GET", tt.path, tt.key, "")
		if r.status != 200 {
			t.Errorf("GET %s = %d %s; want 200", tt.path, r.status, r.raw)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.raw, w) {
				t.Errorf("GET %s body %.400s; want it to contain %s", tt.path, r.raw, w)
			}
		}
	}
}

// TestLatencyWaitCancelled: a request whose modelled latency is an hour ends
// as soon as its context is cancelled, without writing an answer.
func TestLatencyWaitCancelled(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "api:\n  upstream: {latency: {median: 1h, p99: 2h}, timeout: 3h}\n")
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", qs, strings.NewReader(validBody)).WithContext(ctx)
	req.Header.Set("X-API-Key", k3)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		srv.ServeHTTP(rec, req)
		close(done)
	}()
	cancel()
	<-done
	if rec.Body.Len() != 0 {
		t.Errorf("ServeHTTP after the client left wrote %q; want nothing", rec.Body.String())
	}
}

// serveLoopback serves srv on a free loopback port and returns its base URL,
// a client of its own and stop, which closes the client's idle connections,
// cancels Serve and checks that it returned nil.
func serveLoopback(t *testing.T, srv *mock.Server) (base string, client *http.Client, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	client = &http.Client{Transport: &http.Transport{}}
	return "http://" + ln.Addr().String(), client, func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve after cancel = %v; want nil", err)
		}
	}
}

// TestServeOverLoopback runs the real server: a request with a small modelled
// latency is answered, and cancelling the context shuts the server down cleanly.
func TestServeOverLoopback(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "api:\n  upstream: {latency: {median: 2ms, p99: 5ms}}\n")
	base, client, stop := serveLoopback(t, srv)
	req, _ := http.NewRequest("POST", base+qs, strings.NewReader(validBody))
	req.Header.Set("X-API-Key", k3)
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s over loopback: %v", qs, err)
	}
	var body map[string]any
	err = json.NewDecoder(res.Body).Decode(&body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || err != nil || body["success"] != true {
		t.Errorf("POST %s over loopback = %d %v (decode err %v); want 200 success", qs, res.StatusCode, body, err)
	}
	stop()
	if _, err := client.Get(base + "/health"); err == nil {
		t.Errorf("GET /health after shutdown succeeded; want a connection error")
	}
	client.CloseIdleConnections()
}

// TestContentLength: over a real connection every answer has a
// Content-Length equal to its body, whether net/http adds it (bodies of up to
// 2048 bytes) or the mock does (longer ones), and none is chunked.
func TestContentLength(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "")
	base, client, stop := serveLoopback(t, srv)
	defer stop()

	long := strings.Repeat("x", 600) // each of 4 inputs echoed ~twice: > 2048 bytes
	tests := []struct {
		method, path, key, body string
		minLen, maxLen          int // the body length this row is about
	}{
		// A compression: ~480 bytes, net/http's Content-Length.
		{"POST", qs, k3, validBody, 100, 2048},
		// A 401 error envelope: small, no rate-limit headers.
		{"POST", qs, "", validBody, 50, 2048},
		// A 405 with Allow, answered before any body is read.
		{"GET", qs, k3, "", 50, 2048},
		// The models list, a pre-rendered body.
		{"GET", "/api/compress/models", "", "", 50, 2048},
		// A batch answer over 2048 bytes: the mock's own Content-Length.
		{"POST", qsBatch, k3, `{"inputs":[{"context":"` + long + `","query":"q"},{"context":"` + long + `","query":"q"},{"context":"` +
			long + `","query":"q"},{"context":"` + long + `","query":"q"}],"compression_model_name":"latte_v1"}`, 2049, 1 << 20},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
		if tt.body == "" {
			req.Body = http.NoBody
		}
		if tt.key != "" {
			req.Header.Set("X-API-Key", tt.key)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s over loopback: %v", tt.method, tt.path, err)
		}
		b, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", tt.method, tt.path, err)
		}
		if len(b) < tt.minLen || len(b) > tt.maxLen {
			t.Errorf("%s %s: body of %d bytes; this row wants %d…%d", tt.method, tt.path, len(b), tt.minLen, tt.maxLen)
		}
		if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(b)) || res.TransferEncoding != nil {
			t.Errorf("%s %s: Content-Length %q, Transfer-Encoding %v; want %d, none", tt.method, tt.path, got, res.TransferEncoding, len(b))
		}
	}
}

// TestServeListenerError: Serve reports a listener that fails.
func TestServeListenerError(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	err = srv.Serve(context.Background(), ln)
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve(closed listener) = %v; want an error wrapping net.ErrClosed", err)
	}
}

// TestShutdownGraceCutsOff: a request still waiting when the grace ends is cut
// off and Serve says so.
func TestShutdownGraceCutsOff(t *testing.T) {
	t.Parallel()
	res := resolve(t, "api:\n  upstream: {latency: {median: 1h, p99: 2h}, timeout: 3h}\n")
	srv := mock.New(api.New(res, time.Now(), 1), res, mock.WithShutdownGrace(time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	reqDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+qs, strings.NewReader(validBody))
		req.Header.Set("X-API-Key", k3)
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
		reqDone <- err
	}()
	// The request is waiting its hour once the model has admitted it.
	for quotaRemaining(t, srv.Registry(), "demo_tier3", "minute", "requests") == 250 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Errorf("Serve with a request still waiting after the grace = nil; want an error")
	}
	if err := <-reqDone; err == nil {
		t.Errorf("the cut-off request got an answer; want a transport error")
	}
}

// TestBodyLimitUnknownLength: a body without Content-Length (chunked) is cut
// at the limit by http.MaxBytesReader: over it is 400, within it is decoded.
func TestBodyLimitUnknownLength(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t, zeroLatency+"  body_limit: 200\n")
	tests := []struct {
		name   string
		body   string
		status int
	}{
		// 167 bytes: within the limit.
		{"within", validBody, 200},
		// 2 KiB: over it.
		{"over", `{"context":"` + strings.Repeat("x", 2048) + `","query":"q","compression_model_name":"latte_v1"}`, 400},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", qs, io.NopCloser(strings.NewReader(tt.body)))
		req.ContentLength = -1
		req.Header.Set("X-API-Key", k3)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tt.status || (tt.status == 400 && !strings.Contains(rec.Body.String(), "body_limit")) {
			t.Errorf("%s: chunked POST %s of %d bytes = %d %s; want %d", tt.name, qs, len(tt.body), rec.Code, rec.Body.String(), tt.status)
		}
	}
}
