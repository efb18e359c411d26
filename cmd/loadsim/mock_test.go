package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMockFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want mockOptions
	}{
		// Defaults.
		{"defaults", nil, mockOptions{Addr: "127.0.0.1:8080", Seed: 1}},
		// Every flag.
		{"all", []string{"--addr", "127.0.0.1:0", "--config", "api.yaml", "--seed", "42"},
			mockOptions{Addr: "127.0.0.1:0", Config: "api.yaml", Seed: 42}},
		// The = form.
		{"equals", []string{"--addr=[::1]:9000"}, mockOptions{Addr: "[::1]:9000", Seed: 1}},
	}
	for _, tt := range tests {
		var got mockOptions
		cmd := newMockCmd(io.Discard, io.Discard, func(_ context.Context, o mockOptions) error {
			got = o
			return nil
		})
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil || got != tt.want {
			t.Errorf("%s: loadsim mock %q → %+v, %v; want %+v", tt.name, tt.args, got, err, tt.want)
		}
	}
}

// writeConfig writes content to a temporary file and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunMockErrors: options that cannot serve fail before listening, as
// usage errors whose message names the field.
func TestRunMockErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   mockOptions
		config string // written to a file when non-empty
		usage  bool
		want   string // substring of the error
	}{
		// Not HOST:PORT.
		{"addr without port", mockOptions{Addr: "127.0.0.1"}, "", true, "--addr"},
		// Port out of range.
		{"addr port", mockOptions{Addr: "127.0.0.1:70000"}, "", true, "0..65535"},
		// An unknown field in the file, with its line.
		{"unknown field", mockOptions{Addr: "127.0.0.1:0"}, "api:\n  envelop: flat\n", true, "envelop"},
		// An invalid value names its field.
		{"bad envelope", mockOptions{Addr: "127.0.0.1:0"}, "api:\n  envelope: sideways\n", true, "envelope"},
		// A missing file.
		{"missing file", mockOptions{Addr: "127.0.0.1:0", Config: "/nonexistent/api.yaml"}, "", true, "--config"},
		// An address that cannot be listened on is a runtime error.
		{"unlistenable", mockOptions{Addr: "192.0.2.1:0"}, "", false, "listening on --addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.config != "" {
				tt.opts.Config = writeConfig(t, tt.config)
			}
			var stdout, stderr bytes.Buffer
			err := runMock(context.Background(), tt.opts, &stdout, &stderr)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tt.usage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("runMock(%+v) = %v; want a usage error (%v) containing %q", tt.opts, err, tt.usage, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("runMock(%+v) printed %q on stdout; want nothing", tt.opts, stdout.String())
			}
		})
	}
}

// TestRunMockServes: valid options print the listening line first, serve the
// configured API, and return nil once the context is cancelled.
func TestRunMockServes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		path   string
		status int
	}{
		// Defaults: a tier1 key is answered (quota headers prove the model ran).
		{"defaults", "", "/api/profile/rate-limits", 200},
		// A config file's tiers are in force.
		{"config", "api:\n  tiers: {tier1: {requests_per_minute: 7}}\n", "/api/profile/rate-limits", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := mockOptions{Addr: "127.0.0.1:0", Seed: 1}
			if tt.config != "" {
				opts.Config = writeConfig(t, tt.config)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			errc := make(chan error, 1)
			go func() {
				errc <- runMock(ctx, opts, pw, io.Discard)
				_ = pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
				cancel()
				t.Fatalf("runMock(%+v) first line %q, %v; want listening on http://127.0.0.1:PORT", opts, line, err)
			}
			base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
			client := &http.Client{Transport: &http.Transport{}}
			req, _ := http.NewRequest("GET", base+tt.path, nil)
			req.Header.Set("X-API-Key", "cmp_demo_tier1")
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", tt.path, err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			client.CloseIdleConnections()
			if res.StatusCode != tt.status {
				t.Errorf("GET %s = %d %s; want %d", tt.path, res.StatusCode, body, tt.status)
			}
			if tt.config != "" && !strings.Contains(string(body), `"requests_per_minute":7`) {
				t.Errorf("GET %s = %s; want the configured requests_per_minute 7", tt.path, body)
			}
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("runMock after cancel = %v; want nil", err)
			}
		})
	}
}

// TestAddrFlagErrors: the listen-address check is shared by `mock --addr`
// and `run --metrics-addr`; its message names the flag the user typed and
// only that one, exits 2, and tells what to write instead.
func TestAddrFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    []string // substrings of stderr
		notWant string   // must not appear in stderr
	}{
		// The review's case: a bare port to run; the hint gives the loopback HOST:PORT.
		{"run bare port", []string{"run", "demo", "--metrics-addr", "9100"},
			[]string{`--metrics-addr: "9100" is not HOST:PORT`, "127.0.0.1:9100"}, "--addr"},
		// A port out of range to run.
		{"run bad port", []string{"run", "demo", "--metrics-addr", "127.0.0.1:70000"},
			[]string{`--metrics-addr: "127.0.0.1:70000": port "70000" is not a number in 0..65535`}, "--addr"},
		// A host without a port to mock names --addr, with an example.
		{"mock no port", []string{"mock", "--addr", "127.0.0.1"},
			[]string{`--addr: "127.0.0.1" is not HOST:PORT (e.g. 127.0.0.1:8080`}, "--metrics-addr"},
		// A bare port to mock.
		{"mock bare port", []string{"mock", "--addr", "8080"},
			[]string{`--addr: "8080" is not HOST:PORT`, "127.0.0.1:8080"}, "--metrics-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			got := stderr.String()
			if code != exitUsage {
				t.Errorf("run(%q) = %d; want %d (usage)\nstderr: %s", tt.args, code, exitUsage, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("run(%q) stderr:\n%s\nwant it to contain %q", tt.args, got, w)
				}
			}
			if strings.Contains(got, tt.notWant) {
				t.Errorf("run(%q) stderr:\n%s\nnames %s, a flag the user did not type", tt.args, got, tt.notWant)
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) printed %q on stdout; want nothing", tt.args, stdout.String())
			}
		})
	}
}
