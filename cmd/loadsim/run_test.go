package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

// TestRunScenario runs the demo for 3 s against the in-process mock with a
// threshold that must fail: exit 99, every output written, the summary and
// then the output directory printed, no key anywhere.
func TestRunScenario(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	opts := runOptions{Duration: 3e9, Out: out, Seed: 3, SeedSet: true, Thresholds: []string{"attempts_total < 1"}}
	err := runScenario(context.Background(), "demo", opts, nil, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitThresholds {
		t.Fatalf("runScenario(demo, threshold attempts_total < 1) = %v (exit %d); want exit %d", err, code, exitThresholds)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; last != "report: "+filepath.Join(out, "report.html") {
		t.Errorf("last stdout line = %q; want the path of report.html", last)
	}
	for _, f := range []string{report.SummaryJSONFile, report.SummaryMarkdownFile, report.SeriesJSONFile, report.ScenarioFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Errorf("output %s: %v", f, err)
			continue
		}
		for _, key := range []string{"cmp_demo_web", "cmp_demo_batch"} {
			if bytes.Contains(b, []byte(key)) {
				t.Errorf("%s contains a tenant key", f)
			}
		}
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 3 || s.Partial || len(s.Thresholds) != 2 || s.Thresholds[1].OK {
		t.Errorf("summary: seed %d partial %v thresholds %+v; want seed 3, complete, the scenario's and the flag's (failed)", s.Seed, s.Partial, s.Thresholds)
	}
	for name, b := range map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()} {
		if bytes.Contains(b, []byte("cmp_demo_")) {
			t.Errorf("%s contains a tenant key", name)
		}
	}
}

// TestRunPartialReason: summary.json, the text summary, stderr and
// report.html say why a run is partial, and the exit code follows: a stop
// (Ctrl-C) is 130 whatever the thresholds; a run stopped by --max-requests
// is judged by its thresholds (here one that fails: 99), as a complete run.
func TestRunPartialReason(t *testing.T) {
	for _, c := range []struct {
		name     string
		stop     bool // stopped at once, as by Ctrl-C
		opts     runOptions
		exit     int
		partial  bool
		reason   string // summary.json's partial_reason
		stderr   string // in stderr ("" = no check)
		noStderr string // not in stderr
		cause    string // "partial: cause" in stdout, "partial run: cause" in report.html ("" = neither says partial)
	}{
		// Ctrl-C at once.
		{"interrupted", true, runOptions{Quiet: true}, exitInterrupted, true, report.PartialInterrupted,
			"", "--max-requests", "interrupted"},
		// The cap of 2 attempts is passed in the first second (5 arrivals/s).
		{"attempt cap", false, runOptions{Duration: 3e9, MaxRequests: 2, Quiet: true, Thresholds: []string{"attempts_total < 1"}},
			exitThresholds, true, report.PartialMaxRequests,
			"loadsim: stopped: --max-requests 2 reached after 2 attempts", "", "stopped at the attempt cap (--max-requests 2)"},
		// A cap not reached: a complete run, judged by its thresholds.
		{"cap not reached", false, runOptions{Duration: 1e9, MaxRequests: 1000, Quiet: true, Thresholds: []string{"attempts_total < 1"}},
			exitThresholds, false, "", "", "stopped:", ""},
	} {
		out := t.TempDir()
		c.opts.Out = out
		var stop chan struct{}
		if c.stop {
			stop = make(chan struct{})
			close(stop)
		}
		var stdout, stderr bytes.Buffer
		err := runScenario(context.Background(), "demo", c.opts, stop, &stdout, &stderr)
		if code := exitCodeOf(err); code != c.exit {
			t.Errorf("%s: runScenario(demo, %+v) = %v (exit %d); want exit %d", c.name, c.opts, err, code, c.exit)
		}
		s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if s.Partial != c.partial || s.PartialReason != c.reason || s.MaxRequests != c.opts.MaxRequests {
			t.Errorf("%s: summary.json partial %v partial_reason %q max_requests %d; want %v %q %d",
				c.name, s.Partial, s.PartialReason, s.MaxRequests, c.partial, c.reason, c.opts.MaxRequests)
		}
		if !strings.Contains(stderr.String(), c.stderr) || (c.noStderr != "" && strings.Contains(stderr.String(), c.noStderr)) {
			t.Errorf("%s: stderr = %q; want %q in it and no %q", c.name, stderr.String(), c.stderr, c.noStderr)
		}
		html, err := os.ReadFile(filepath.Join(out, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		txt, page := "partial: "+c.cause, "partial run: "+c.cause
		if c.cause == "" {
			txt, page = "partial", "partial run"
		}
		if strings.Contains(stdout.String(), txt) == (c.cause == "") || strings.Contains(string(html), page) == (c.cause == "") {
			t.Errorf("%s: the text summary and report.html say %q and %q: %v, %v; want %v; stdout:\n%s", c.name, txt, page,
				strings.Contains(stdout.String(), txt), strings.Contains(string(html), page), c.cause != "", stdout.String())
		}
	}
}

// TestRunUsageErrors covers the problems found before any request: exit 2.
func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		arg  string
		opts runOptions
		want string // substring of the error
	}{
		// an unknown scenario
		{"unknown scenario", "no-such-scenario", runOptions{}, "invalid"},
		// a threshold on an unknown metric
		{"bad threshold", "demo", runOptions{Thresholds: []string{"nonsense > 1"}}, "--threshold"},
		// a threshold on an unknown tenant
		{"unknown tenant", "demo", runOptions{Thresholds: []string{"tenant(nobody).success_rate > 0.5"}}, "nobody"},
		// a malformed metrics address
		{"bad metrics addr", "demo", runOptions{MetricsAddr: "nope"}, "--metrics-addr"},
		// a negative duration
		{"negative duration", "demo", runOptions{Duration: -1}, "--duration"},
		// a shard counted from 0
		{"shard from 0", "demo", runOptions{Shard: "0/2"}, "--shard"},
		// a shard that is not k/N
		{"shard syntax", "demo", runOptions{Shard: "half"}, "want k/N"},
		// a target that is not an http(s) base URL, refused before anything is sent
		{"target scheme", "demo", runOptions{Target: "ftp://example.com"}, "--target"},
		// a non-loopback target without a cap on attempts (nothing is sent: refused first)
		{"target without cap", "demo", runOptions{Target: "https://api.example.com"}, "--max-requests"},
		// a --target run of a scenario with literal keys (nothing is sent: the keys are refused first)
		{"literal keys, target", "demo", runOptions{Target: "http://127.0.0.1:9", MaxRequests: 1}, "key_env only"},
	} {
		var stdout, stderr bytes.Buffer
		err := runScenario(context.Background(), tc.arg, tc.opts, nil, &stdout, &stderr)
		if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%s: runScenario(%s, %+v) = %v (exit %d); want a usage error mentioning %q", tc.name, tc.arg, tc.opts, err, exitCodeOf(err), tc.want)
		}
	}
}

// TestRunCmdFlags checks the command's flags parse into options.
func TestRunCmdFlags(t *testing.T) {
	cmd := newRunCmd(&bytes.Buffer{}, &bytes.Buffer{})
	for _, name := range []string{"duration", "out", "seed", "target", "max-requests", "threshold", "metrics-addr", "quiet", "shard"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("loadsim run has no --%s flag", name)
		}
	}
	if err := cmd.Args(cmd, nil); exitCodeOf(err) != exitUsage {
		t.Errorf("loadsim run without SCENARIO: %v; want a usage error", err)
	}
}

// TestDemoCmd checks `loadsim demo` takes no argument and has --out.
func TestDemoCmd(t *testing.T) {
	cmd := newDemoCmd(&bytes.Buffer{}, &bytes.Buffer{})
	if cmd.Flags().Lookup("out") == nil {
		t.Error("loadsim demo has no --out flag")
	}
	if err := cmd.Args(cmd, []string{"x"}); exitCodeOf(err) != exitUsage {
		t.Errorf("loadsim demo x: %v; want a usage error", err)
	}
}

// TestRunShard runs shard 2 of 2 of the demo for 2 s: summary.json names the
// shard and offers half the demo's rate.
func TestRunShard(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runScenario(context.Background(), "demo", runOptions{Duration: 2e9, Out: out, Quiet: true, Shard: "2/2"}, nil, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitOK && code != exitThresholds {
		t.Fatalf("runScenario(demo, --shard 2/2) = %v (exit %d); want a finished run", err, code)
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := scenario.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	var offered float64
	for i := range whole.Tenants {
		offered += whole.Profile(i, whole.Seed).Hits(2e9) / 2
	}
	if s.Shard != "2/2" || math.Abs(s.OfferedRPS-offered/2) > 1e-6 {
		t.Errorf("summary shard %q, offered %v/s; want shard 2/2 offering %v/s (half the demo's)", s.Shard, s.OfferedRPS, offered/2)
	}
	if !strings.Contains(stderr.String(), "shard 2/2") {
		t.Errorf("stderr = %q; want the plan naming the shard", stderr.String())
	}
}

// TestRunVegetaResults runs the demo for 2 s with --vegeta-results: the file
// decodes with vegeta's decoder into as many results as summary.json has
// attempts.
func TestRunVegetaResults(t *testing.T) {
	out := t.TempDir()
	file := filepath.Join(out, "results.gob")
	var stdout, stderr bytes.Buffer
	err := runScenario(context.Background(), "demo", runOptions{Duration: 2e9, Out: out, Quiet: true, VegetaOut: file}, nil, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitOK && code != exitThresholds {
		t.Fatalf("runScenario(demo, --vegeta-results) = %v (exit %d); want a finished run", err, code)
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var n uint64
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decode result %d of %s: %v", n, file, err)
			}
			break
		}
		n++
	}
	if n == 0 || n != s.Attempts.Total {
		t.Errorf("%s holds %d results; summary.json has %d attempts", file, n, s.Attempts.Total)
	}
}

// syncBuffer is a bytes.Buffer safe for a run writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runnerSeries are the loadsim_* families of docs/metrics.md with their
// labels and, for bounded labels, the values allowed (nil: any tenant name
// or status code, checked separately).
var runnerSeries = map[string][]string{
	"loadsim_requests_total":           {"tenant", "outcome"},
	"loadsim_attempts_total":           {"tenant", "status", "code"},
	"loadsim_retries_total":            {"tenant", "reason"},
	"loadsim_backoff_seconds":          {"tenant"},
	"loadsim_attempt_duration_seconds": {"tenant"},
	"loadsim_time_to_success_seconds":  {"tenant"},
	"loadsim_in_flight":                {"tenant"},
}

// TestRunMetricsAddr scrapes --metrics-addr while the demo runs: every
// loadsim_* family of docs/metrics.md is there with its labels, label values
// come from bounded sets (tenant names, outcomes, reasons, statuses), the
// attempts counter moves, and no key appears.
func TestRunMetricsAddr(t *testing.T) {
	sc, err := scenario.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	tenants := map[string]bool{}
	for _, tn := range sc.Tenants {
		tenants[tn.Name] = true
	}
	bounded := map[string]map[string]bool{
		"tenant":  tenants,
		"outcome": {"succeeded": true, "gave_up": true, "failed_permanent": true, "rejected_client_side": true, "in_flight": true},
		"reason":  {"rate_limited": true, "internal_error": true, "unavailable": true, "server_error": true, "transport_error": true, "other": true},
	}
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		var stdout bytes.Buffer
		done <- runScenario(context.Background(), "demo", runOptions{Duration: 4e9, Out: t.TempDir(), Quiet: true, MetricsAddr: "127.0.0.1:0"}, nil, &stdout, stderr)
	}()
	addr := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	var fams map[string]*dto.MetricFamily
	var body []byte
	var url string
	// Poll (at most 60 × 50 ms) until the address is printed and attempts show.
	for i := 0; i < 60 && (fams == nil || attemptsSum(fams) == 0); i++ {
		time.Sleep(50 * time.Millisecond)
		if url == "" {
			m := addr.FindStringSubmatch(stderr.String())
			if m == nil {
				continue
			}
			url = m[1]
		}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		if fams, err = p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
			t.Fatalf("parse %s: %v", url, err)
		}
	}
	if err := <-done; exitCodeOf(err) != exitOK && exitCodeOf(err) != exitThresholds {
		t.Fatalf("runScenario(demo, --metrics-addr) = %v", err)
	}
	if fams == nil || attemptsSum(fams) == 0 {
		t.Fatalf("no attempts scraped from %q during the run (stderr %q)", url, stderr.String())
	}
	for _, tn := range sc.Tenants {
		if bytes.Contains(body, []byte(tn.Key)) {
			t.Errorf("/metrics contains tenant %s's key", tn.Name)
		}
	}
	for name, labels := range runnerSeries {
		mf := fams[name]
		if mf == nil {
			if name == "loadsim_retries_total" {
				continue // no retry yet is possible in the first seconds
			}
			t.Errorf("/metrics has no %s", name)
			continue
		}
		if n := len(mf.GetMetric()); n > 200 {
			t.Errorf("%s has %d series; want a bounded number", name, n)
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if len(got) != len(labels) {
				t.Errorf("%s%v: want labels %v", name, got, labels)
			}
			for _, l := range labels {
				v, ok := got[l]
				switch {
				case !ok:
					t.Errorf("%s%v: no label %s", name, got, l)
				case bounded[l] != nil && !bounded[l][v]:
					t.Errorf("%s%v: %s=%q is not one of %v", name, got, l, v, bounded[l])
				case l == "status":
					if c, err := strconv.Atoi(v); err != nil || c < 0 || c > 599 {
						t.Errorf("%s%v: status %q is not an HTTP status or 0", name, got, v)
					}
				}
			}
		}
	}
}

// attemptsSum adds up loadsim_attempts_total.
func attemptsSum(fams map[string]*dto.MetricFamily) float64 {
	var n float64
	for _, m := range fams["loadsim_attempts_total"].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n
}
