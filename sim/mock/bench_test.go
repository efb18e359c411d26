package mock_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/loadsim/loadsim/sim/mock"
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

// BenchmarkServeLoopback is the Go-benchmark form of benchmarks/mock/run.sh:
// the real server (net/http included) answering keep-alive connections over
// loopback, side by side with a bare net/http hello-world. Each parallel
// client holds one connection and sends the request of benchmarks/mock/
// post.lua (or wrk's GET / for the hello-world), reading each answer whole
// before the next. ns/op is wall time per request with the clients' own cost;
// compare the two sub-benchmarks of one run, not absolute figures.
func BenchmarkServeLoopback(b *testing.B) {
	srv, _, _ := newServer(b, benchConfig)
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello, world\n")
	})
	post := "POST /api/compress/question-specific/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
		"X-API-Key: cmp_bench\r\nContent-Length: " + strconv.Itoa(len(validBody)) + "\r\n\r\n" + validBody
	cases := []struct {
		name string
		h    http.Handler
		req  string
	}{
		{"hello-baseline", hello, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
		{"mock-success", srv, post},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			hs := &http.Server{Handler: c.h} // bare, as benchmarks/mock/hello
			if s, ok := c.h.(*mock.Server); ok {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- s.Serve(ctx, ln) }()
				defer func() { cancel(); <-done }()
			} else {
				go func() { _ = hs.Serve(ln) }()
				defer hs.Close()
			}
			addr := ln.Addr().String()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				req := []byte(c.req)
				for pb.Next() {
					if _, err := conn.Write(req); err != nil {
						b.Error(err)
						return
					}
					if err := readAnswer(br); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// readAnswer reads one HTTP/1.1 response with a Content-Length from br and
// fails unless its status is 200.
func readAnswer(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q; want 200", line)
	}
	n := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, err = strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return fmt.Errorf("content-length %q: %w", line, err)
			}
		}
	}
	if n < 0 {
		return fmt.Errorf("answer without Content-Length")
	}
	_, err = br.Discard(n)
	return err
}
