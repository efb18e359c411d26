package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/loadsim/loadsim/report"
)

// TestPushURLSet checks --pushgateway's parsing.
func TestPushURLSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" = error
		err  string // substring of the error
	}{
		// Loopback with a port.
		{"http://127.0.0.1:9091", "http://127.0.0.1:9091", ""},
		// https with a path prefix (behind a proxy).
		{"https://push.example.com/pgw", "https://push.example.com/pgw", ""},
		// No scheme.
		{"127.0.0.1:9091", "", "want the Pushgateway's base URL"},
		// Another scheme.
		{"ftp://127.0.0.1", "", "want the Pushgateway's base URL"},
		// Credentials would end up in logs.
		{"http://u:secret@127.0.0.1:9091", "", "credentials in the URL are not supported"},
		// A query.
		{"http://127.0.0.1:9091/?x=1", "", "remove the query"},
		// Not a URL.
		{"http://[::1", "", "not a URL"},
	}
	for _, tt := range tests {
		var p pushURL
		err := p.Set(tt.in)
		switch {
		case tt.want != "" && (err != nil || p.String() != tt.want):
			t.Errorf("Set(%q) = %v, String() = %q; want nil, %q", tt.in, err, p.String(), tt.want)
		case tt.want == "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Set(%q) = %v; want an error containing %q", tt.in, err, tt.err)
		case tt.want == "" && strings.Contains(err.Error(), "secret"):
			t.Errorf("Set(%q) = %v; the error shows the password", tt.in, err)
		}
	}
}

// pushServer is a fake Pushgateway on loopback: it keeps the last push.
type pushServer struct {
	srv    *httptest.Server
	status int // answer to pushes; 0 = 200

	mu       sync.Mutex
	method   string
	path     string
	families []*dto.MetricFamily
	pushes   int
}

func newPushServer(t *testing.T, status int) *pushServer {
	t.Helper()
	p := &pushServer{status: status}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fams []*dto.MetricFamily
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("decoding a push: %v", err)
				}
				break
			}
			fams = append(fams, mf)
		}
		p.mu.Lock()
		p.method, p.path, p.families = r.Method, r.URL.Path, fams
		p.pushes++
		p.mu.Unlock()
		if p.status != 0 {
			http.Error(w, "push refused", p.status)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// sum returns the sum of the samples of the counter name in the last push,
// and whether any sample carried a timestamp.
func (p *pushServer) sum(name string) (total float64, stamped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, mf := range p.families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
			stamped = stamped || m.TimestampMs != nil
		}
	}
	return total, stamped
}

// TestPushMetrics pushes a recorder's metrics and reads them back.
func TestPushMetrics(t *testing.T) {
	ps := newPushServer(t, 0)
	rec := newSyntheticRecorder(reportT0, 10*time.Second)
	feedSynthetic(3, 300, []*report.Recorder{rec})
	want := rec.Summary(report.Meta{})
	if err := pushMetrics(context.Background(), ps.srv.URL, "run 1/a", recorderGatherer(rec)); err != nil {
		t.Fatalf("pushMetrics(%s, run 1/a) = %v", ps.srv.URL, err)
	}
	// A run_id with a slash is sent base64-encoded (client_golang's push).
	if ps.method != http.MethodPut || ps.path != "/metrics/job/loadsim/run_id@base64/cnVuIDEvYQ" {
		t.Errorf("pushMetrics: %s %s; want PUT /metrics/job/loadsim/run_id@base64/cnVuIDEvYQ", ps.method, ps.path)
	}
	for _, c := range []struct {
		name string
		want uint64
	}{{"loadsim_attempts_total", want.Attempts.Total}, {"loadsim_requests_total", want.Requests.Total}} {
		got, stamped := ps.sum(c.name)
		if got != float64(c.want) || stamped {
			t.Errorf("pushMetrics: pushed sum(%s) = %v (timestamps %v); want %d, no timestamps", c.name, got, stamped, c.want)
		}
	}
	if err := pushMetrics(context.Background(), ps.srv.URL, " ", recorderGatherer(rec)); err == nil || !strings.Contains(err.Error(), "--run-id") {
		t.Errorf("pushMetrics(run_id \" \") = %v; want an error naming --run-id", err)
	}
}

// TestPushAfterRun checks which error wins between a run and its push.
func TestPushAfterRun(t *testing.T) {
	ok := newPushServer(t, 0)
	bad := newPushServer(t, http.StatusBadRequest)
	rec := newSyntheticRecorder(reportT0, 10*time.Second)
	threshold := exitCodeError{exitThresholds, errors.New("1 of 1 thresholds failed")}
	tests := []struct {
		name     string
		url      string
		runID    string
		runErr   error
		wantCode int
		stderr   string // substring
	}{
		// No --pushgateway: nothing happens.
		{"none", "", "", nil, exitOK, ""},
		// A push after a passing run, run_id from --out.
		{"ok", ok.srv.URL, "", nil, exitOK, `run_id "out-dir"`},
		// --run-id overrides it.
		{"run id", ok.srv.URL, "nightly-7", threshold, exitThresholds, `run_id "nightly-7"`},
		// A failed push fails a passing run.
		{"push fails", bad.srv.URL, "", nil, exitRuntime, ""},
		// A failed threshold outranks a failed push, which is still reported.
		{"both fail", bad.srv.URL, "", threshold, exitThresholds, "pushing metrics to --pushgateway"},
	}
	for _, tt := range tests {
		var o pushOptions
		if tt.url != "" {
			if err := o.URL.Set(tt.url); err != nil {
				t.Fatal(err)
			}
		}
		o.RunID = tt.runID
		var stderr bytes.Buffer
		err := pushAfterRun(context.Background(), o, recorderGatherer(rec), filepath.Join("x", "out-dir"), tt.runErr, &stderr)
		if code := exitCodeOf(err); code != tt.wantCode || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%s: pushAfterRun(%q, runErr %v) = %v (exit %d), stderr %q; want exit %d, stderr containing %q",
				tt.name, tt.url, tt.runErr, err, code, stderr.String(), tt.wantCode, tt.stderr)
		}
	}
}

// TestSimulatePushes runs `loadsim simulate --pushgateway` and compares the
// pushed counters with summary.json.
func TestSimulatePushes(t *testing.T) {
	ps := newPushServer(t, 0)
	out := filepath.Join(t.TempDir(), "sim-1")
	args := []string{"simulate", "demo", "--duration", "20s", "--quiet", "--out", out, "--pushgateway", ps.srv.URL}
	var stdout, stderr bytes.Buffer
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim %s = exit %d; want 0\nstderr: %s", strings.Join(args, " "), code, stderr.String())
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	got, stamped := ps.sum("loadsim_attempts_total")
	if ps.pushes != 1 || ps.path != "/metrics/job/loadsim/run_id/sim-1" || got != float64(s.Attempts.Total) || got == 0 || stamped {
		t.Errorf("loadsim %s: %d pushes to %s, attempts %v (timestamps %v); want 1 push to /metrics/job/loadsim/run_id/sim-1 with summary.json's %d attempts, no timestamps",
			strings.Join(args, " "), ps.pushes, ps.path, got, stamped, s.Attempts.Total)
	}
}

// TestPushFlagErrors checks that a bad --pushgateway fails before running.
func TestPushFlagErrors(t *testing.T) {
	for _, cmd := range []string{"run", "simulate"} {
		args := []string{cmd, "demo", "--pushgateway", "localhost:9091"}
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "--pushgateway") {
			t.Errorf("loadsim %s = exit %d, stderr %q; want exit 2 naming --pushgateway", strings.Join(args, " "), code, stderr.String())
		}
	}
}

// TestLingerMetricsStop checks that a closed stop channel ends the linger.
func TestLingerMetricsStop(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	var stderr bytes.Buffer
	lingerMetrics(time.Hour, stop, &stderr) // returns at once, or the test times out
	if !strings.Contains(stderr.String(), "--metrics-linger") {
		t.Errorf("lingerMetrics(1h, closed stop) printed %q; want a line naming --metrics-linger", stderr.String())
	}
	stderr.Reset()
	lingerMetrics(0, nil, &stderr)
	if stderr.Len() != 0 {
		t.Errorf("lingerMetrics(0, nil) printed %q; want nothing", stderr.String())
	}
}

// FuzzPushURLSet checks that --pushgateway's parser never panics and that
// whatever it accepts is an http(s) base URL without credentials, query or
// fragment that parses back to itself.
func FuzzPushURLSet(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:9091", "https://h/p", "ftp://x", "http://u:p@h", "http://h/?q#f", "", "::", "http://[::1]:9091"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p pushURL
		if err := p.Set(s); err != nil {
			return
		}
		u := p.u
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("Set(%q) accepted %#v", s, u)
		}
		var again pushURL
		if err := again.Set(p.String()); err != nil || again.String() != p.String() {
			t.Fatalf("Set(%q).String() = %q does not parse back to itself: %v, %q", s, p.String(), err, again.String())
		}
	})
}
