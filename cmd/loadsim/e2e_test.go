package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd builds the binary, starts `loadsim mock` on a free loopback
// port, checks every error code over HTTP and stops it with SIGINT.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "loadsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s .: %v\n%s", bin, err, out)
	}
	cfg := filepath.Join(dir, "api.yaml")
	// Zero latency; tier2 allows one request a minute and a day (so the
	// second is a 429 whatever the wall clock); a 1 KiB body limit. The 500 and 503 paths use a second config below.
	if err := os.WriteFile(cfg, []byte(`api:
  upstream: {latency: {median: 0s}}
  tiers: {tier2: {requests_per_minute: 1, requests_per_day: 1}}
  body_limit: 1KiB
`), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startMock(t, bin, "--config", cfg)

	const qs = "/api/compress/question-specific/"
	valid := `{"context":"Some context.","query":"What?","compression_model_name":"latte_v1"}`
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	tests := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		// The demo tier1 key compresses.
		{"success", "POST", qs, "cmp_demo_tier1", valid, 200, ""},
		// Health needs no key.
		{"health", "GET", "/health", "", "", 200, ""},
		// Unknown route.
		{"not found", "POST", "/api/nope", "cmp_demo_tier1", valid, 404, "not_found"},
		// Wrong method.
		{"method", "GET", qs, "cmp_demo_tier1", "", 405, "method_not_allowed"},
		// No key.
		{"missing key", "POST", qs, "", valid, 401, "missing_api_key"},
		// Unknown key.
		{"invalid key", "POST", qs, "cmp_nope", valid, 401, "invalid_api_key"},
		// Expired demo key.
		{"expired key", "POST", qs, "cmp_demo_expired", valid, 401, "expired_api_key"},
		// Not JSON.
		{"bad body", "POST", qs, "cmp_demo_tier1", "{", 400, "invalid_request"},
		// Over the 1 KiB body limit.
		{"too large", "POST", qs, "cmp_demo_tier1", `{"context":"` + strings.Repeat("x", 2048) + `"}`, 400, "invalid_request"},
		// Empty query.
		{"validation", "POST", qs, "cmp_demo_tier1", `{"query":"","compression_model_name":"latte_v1"}`, 422, "validation_error"},
		// latte_v2 needs tier2.
		{"forbidden", "POST", qs, "cmp_demo_tier1", `{"query":"q","compression_model_name":"latte_v2"}`, 403, "forbidden"},
		// tier2 allows one request: the first passes…
		{"quota first", "POST", qs, "cmp_demo_tier2", valid, 200, ""},
		// …the second is rate-limited.
		{"quota second", "POST", qs, "cmp_demo_tier2", valid, 429, "rate_limit_exceeded"},
	}
	for _, tt := range tests {
		status, code, hdr := call(t, client, base, tt.method, tt.path, tt.key, tt.body)
		if status != tt.status || code != tt.code {
			t.Errorf("%s: %s %s = %d %q; want %d %q", tt.name, tt.method, tt.path, status, code, tt.status, tt.code)
		}
		if tt.status == 429 && hdr.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", tt.name)
		}
	}
	client.CloseIdleConnections()
	stop()

	// Faults: every call fails upstream; one failure opens the circuit.
	faults := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(faults, []byte(`api:
  internal_error_rate: 0
  upstream:
    latency: {median: 0s}
    incidents: [{start: 0s, duration: 1h, error_rate: 1.0}]
  circuit: {window: 10s, min_requests: 1, failure_ratio: 0.5, open_for: 30s, half_open_probes: 1}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop = startMock(t, bin, "--config", faults)
	for _, want := range []struct {
		status int
		code   string
	}{{500, "internal_error"}, {503, "service_unavailable"}} {
		status, code, _ := call(t, client, base, "POST", qs, "cmp_demo_tier5", valid)
		if status != want.status || code != want.code {
			t.Errorf("faults: POST %s = %d %q; want %d %q", qs, status, code, want.status, want.code)
		}
	}
	client.CloseIdleConnections()
	stop()
}

// startMock starts `bin mock --addr 127.0.0.1:0 args…`, reads its listening
// line and returns the base URL and a stop function that sends SIGINT and
// checks the clean exit.
func startMock(t *testing.T, bin string, args ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"mock", "--addr", "127.0.0.1:0"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("loadsim mock first line %q, %v; want listening on http://127.0.0.1:PORT (stderr: %s)", line, err, stderr.String())
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Errorf("SIGINT: %v", err)
		}
		_, _ = io.Copy(io.Discard, rd)
		if err := cmd.Wait(); err != nil {
			t.Errorf("loadsim mock after SIGINT: %v; want exit 0 (stderr: %s)", err, stderr.String())
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// call sends one request and returns the status, the nested envelope's
// error.code and the headers.
func call(t *testing.T, client *http.Client, base, method, path, key, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var env struct {
		Success bool `json:"success"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &env); err != nil {
		t.Errorf("%s %s: body %q is not JSON: %v", method, path, b, err)
	}
	return res.StatusCode, env.Error.Code, res.Header
}
