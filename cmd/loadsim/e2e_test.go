package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/report"
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

// buildBinary builds loadsim into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s .: %v\n%s", bin, err, out)
	}
	return bin
}

// waitExit waits at most limit for cmd to exit and returns its exit code;
// past the limit it kills it and fails the test.
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		if err == nil {
			return 0
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", cmd, err)
		}
		return ee.ExitCode()
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %s", cmd, limit)
		return -1
	}
}

// readSummary reads and checks dir/summary.json: the outcome and status
// invariants hold.
func readSummary(t *testing.T, dir string) *report.Summary {
	t.Helper()
	s, err := report.ReadSummary(filepath.Join(dir, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Requests
	if r.Total != r.Succeeded+r.GaveUp+r.FailedPermanent+r.RejectedClientSide+r.InFlight {
		t.Errorf("%s: requests %+v: total is not the sum of outcomes", dir, r)
	}
	var sum uint64
	for _, n := range s.Attempts.ByStatus {
		sum += n
	}
	if sum != s.Attempts.Total {
		t.Errorf("%s: Σ by_status = %d, attempts.total = %d", dir, sum, s.Attempts.Total)
	}
	return s
}

// TestRunBinary builds the binary and runs it as a user would, on loopback
// only: (1) `run demo --duration 20s` interrupted by SIGINT after 2 s exits
// 130 within the stop grace, with partial outputs; (2) `run launch-day
// --duration 20s` (the reference scenario) completes with consistent
// outputs, vegeta results as many as its attempts, and no key in any file or
// stream.
func TestRunBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it for ~25 s; skipped with -short")
	}
	bin := buildBinary(t)

	t.Run("interrupt", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(bin, "run", "demo", "--duration", "20s", "--out", out)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatalf("SIGINT: %v", err)
		}
		// The stop grace is 5 s; writing the outputs takes well under 10 s more.
		if code := waitExit(t, cmd, 15*time.Second); code != exitInterrupted {
			t.Errorf("loadsim run demo, SIGINT after 2s: exit %d; want %d (stderr: %s)", code, exitInterrupted, stderr.String())
		}
		s := readSummary(t, out)
		if !s.Partial || s.DurationSeconds >= 20 || s.Requests.Total == 0 {
			t.Errorf("summary: partial %v, duration %vs, %d requests; want a partial run shorter than 20s with requests", s.Partial, s.DurationSeconds, s.Requests.Total)
		}
		for _, f := range []string{report.SeriesJSONFile, report.SummaryMarkdownFile, report.ScenarioFile} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("partial output %s: %v", f, err)
			}
		}
		if !strings.Contains(stdout.String(), "results: "+out) || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("stdout %q, stderr %q; want the results path and the interruption", stdout.String(), stderr.String())
		}
	})

	t.Run("launch-day", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		results := filepath.Join(dir, "results.gob")
		cmd := exec.Command(bin, "run", "launch-day", "--duration", "20s", "--drain", "5s", "--out", out, "--vegeta-results", results)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		code := waitExit(t, cmd, 60*time.Second)
		if code != exitOK && code != exitThresholds {
			t.Fatalf("loadsim run launch-day --duration 20s: exit %d; want 0 or 99 (stderr: %s)", code, stderr.String())
		}
		s := readSummary(t, out)
		if s.Partial || s.Scenario != "launch-day" || s.DurationSeconds != 20 || len(s.Tenants) != 2 || s.Requests.Total == 0 {
			t.Errorf("summary: %s, partial %v, %vs, %d tenants, %d requests; want a complete 20 s run of launch-day's two tenants", s.Scenario, s.Partial, s.DurationSeconds, len(s.Tenants), s.Requests.Total)
		}
		if passed := s.Passed(); passed != (code == exitOK) {
			t.Errorf("exit %d with thresholds passed = %v", code, passed)
		}
		f, err := os.Open(results)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dec := vegeta.NewDecoder(f)
		var n uint64
		for r := new(vegeta.Result); dec.Decode(r) == nil; n++ {
		}
		if n != s.Attempts.Total {
			t.Errorf("%s holds %d vegeta results; summary has %d attempts", results, n, s.Attempts.Total)
		}
		streams := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
		files, _ := filepath.Glob(filepath.Join(out, "*"))
		for _, p := range append(files, results) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			streams[p] = string(b)
		}
		for name, text := range streams {
			for _, key := range []string{"cmp_launch_web", "cmp_launch_batch"} {
				if strings.Contains(text, key) {
					t.Errorf("%s contains a tenant key", name)
				}
			}
		}
	})
}
