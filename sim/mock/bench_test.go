package mock_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchConfig: zero modelled latency and a tier without limits, so the
// benchmark measures the server, not the quota.
const benchConfig = `api:
  upstream: {latency: {median: 0s}}
  tiers: {bench: {rank: 9, requests_per_minute: -1, tokens_per_minute: -1, requests_per_day: -1, tokens_per_day: -1}}
  keys: [{key: cmp_bench, name: bench, tier: bench}]
`

// sinkWriter is a reusable http.ResponseWriter that discards the body.
type sinkWriter struct {
	h      http.Header
	status int
}

func (w *sinkWriter) Header() http.Header    { return w.h }
func (w *sinkWriter) WriteHeader(status int) { w.status = status }
func (w *sinkWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

// rewindBody is a request body that can be replayed without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

func BenchmarkServeHTTP(b *testing.B) {
	srv, _, _ := newServer(b, benchConfig)
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = io.WriteString(w, "hello, world\n")
	})
	cases := []struct {
		name         string
		h            http.Handler
		method, path string
		key, body    string
		status       int
	}{
		{"hello-baseline", hello, "GET", "/", "", "", 200},
		{"success", srv, "POST", qs, "cmp_bench", validBody, 200},
		{"batch-10", srv, "POST", qsBatch, "cmp_bench", `{"inputs":[` +
			`{"context":"c0","query":"q"},{"context":"c1","query":"q"},{"context":"c2","query":"q"},{"context":"c3","query":"q"},{"context":"c4","query":"q"},` +
			`{"context":"c5","query":"q"},{"context":"c6","query":"q"},{"context":"c7","query":"q"},{"context":"c8","query":"q"},{"context":"c9","query":"q"}` +
			`],"compression_model_name":"latte_v1"}`, 200},
		{"missing-key", srv, "POST", qs, "", validBody, 401},
		{"validation-error", srv, "POST", qs, "cmp_bench", `{"query":"","compression_model_name":"latte_v1"}`, 422},
		{"health", srv, "GET", "/health", "", "", 200},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body, raw := &rewindBody{}, []byte(c.body)
			req := httptest.NewRequest(c.method, c.path, nil)
			req.Body = body
			req.ContentLength = int64(len(c.body))
			if c.key != "" {
				req.Header.Set("X-API-Key", c.key)
			}
			w := &sinkWriter{h: make(http.Header, 12)}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				body.Reset(raw)
				clear(w.h)
				w.status = 0
				c.h.ServeHTTP(w, req)
			}
			if w.status != c.status {
				b.Fatalf("%s %s = %d; want %d", c.method, c.path, w.status, c.status)
			}
		})
	}
}
