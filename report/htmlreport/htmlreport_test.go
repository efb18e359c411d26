package htmlreport

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/sim"
)

// smallRun records a deterministic two-tenant run of n seconds (successes,
// 429s retried once, 503s while the circuit is open) and returns its series
// and its summary with two thresholds, one met and one failed.
func smallRun(t testing.TB, n int) (*report.Series, *report.Summary) {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dur := time.Duration(n) * time.Second
	rec := report.NewRecorder(report.RecorderConfig{Tenants: []string{"web", "batch<jobs>"}, Start: start, Duration: dur})
	id := uint64(0)
	for sec := range n {
		at := start.Add(time.Duration(sec) * time.Second)
		open := sec >= n/3 && sec < n/2
		state := sim.CircuitClosed
		if open {
			state = sim.CircuitOpen
		}
		rec.ObserveCircuit(at, state)
		for tenant := range 2 {
			for j := range 2 + sec%3 {
				id++
				arr := at.Add(time.Duration(j) * 200 * time.Millisecond)
				lat := time.Duration(30+10*j) * time.Millisecond
				a := &sim.Attempt{Tenant: tenant, Request: id, Number: 1, Sent: arr, Latency: lat, Status: 200, Stop: sim.StopSucceeded,
					Limits: sim.RateLimits{Tier: "tier1", LimitMinute: 60, RemainingMinute: int64(60 - sec%60), LimitDay: 1000, RemainingDay: int64(1000 - sec)}}
				o := &sim.Outcome{Tenant: tenant, Request: id, Kind: sim.Succeeded, Reason: sim.StopSucceeded, Attempts: 1, Arrived: arr, Ended: arr.Add(lat)}
				switch {
				case tenant == 0 && j == 0 && sec%2 == 0:
					a.Status, a.Code, a.Retry, a.Delay, a.Stop = 429, "rate_limit_exceeded", true, 500*time.Millisecond, sim.StopNone
					rec.RecordAttempt(a)
					r := *a
					r.Number, r.Sent, r.Status, r.Code, r.Retry, r.Delay, r.Stop = 2, arr.Add(500*time.Millisecond), 200, "", false, 0, sim.StopSucceeded
					a = &r
					o.Attempts, o.Ended = 2, r.Sent.Add(lat)
				case tenant == 1 && open:
					a.Status, a.Code, a.Stop = 503, "service_unavailable", sim.StopMaxAttempts
					o.Kind, o.Reason = sim.GaveUp, sim.StopMaxAttempts
				}
				rec.RecordAttempt(a)
				rec.RecordOutcome(o)
			}
		}
	}
	s, err := rec.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	var ths []report.Threshold
	for _, e := range []string{"amplification < 2", "success_rate >= 0.99"} {
		th, err := report.ParseThreshold(e)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", e, err)
		}
		ths = append(ths, th)
	}
	sum := rec.Summary(report.Meta{Scenario: "small <run>", Engine: report.EngineSimulated, Seed: 7,
		Duration: dur, OfferedRPS: 6, Thresholds: ths})
	return s, sum
}

// scenarioYAML is a resolved scenario with characters HTML must escape.
const scenarioYAML = "name: small\ntenants:\n  - name: web\n    key: REDACTED\n    note: \"<script>alert(1)</script> & more\"\n"

func TestWriteRun(t *testing.T) {
	t.Parallel()
	s, sum := smallRun(t, 60)
	dir := t.TempDir()
	path, err := WriteRun(dir, sum, s, []byte(scenarioYAML))
	if err != nil {
		t.Fatalf("WriteRun: %v", err)
	}
	if path != filepath.Join(dir, FileName) {
		t.Errorf("WriteRun path = %q; want %q", path, filepath.Join(dir, FileName))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"<title>loadsim report: small &lt;run&gt;</title>", // escaped scenario name
		`id="verdict">FAILED: 1 of 2 thresholds failed`,    // the verdict
		"<code>amplification &lt; 2</code>",                // a threshold, escaped
		"✓ pass", "✗ fail",                                 // both verdicts
		"<dt>engine</dt><dd>simulated</dd>", "<dt>seed</dt><dd>7</dd>", // engine and seed
		`<table class="summary">`, `<table class="attempts">`, `<table class="timings">`, // tables
		`<td class="name">web</td>`, `<td class="name">batch&lt;jobs&gt;</td>`, // one row per tenant
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; more", // the scenario, escaped
		`<a href="attempts.svg">SVG</a>`,                   // links to the SVG files
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("report.html contains a <script> element; it must run no script")
	}
	// Nothing is loaded from the network: no src, href or url() to http(s).
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"?\s*(https?:)?//|url\(\s*['"]?(https?:)?//|@import`).FindString(page); m != "" {
		t.Errorf("report.html references the network: %q", m)
	}
	imgs := regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != 6 {
		t.Fatalf("report.html inlines %d PNG figures; want 6", len(imgs))
	}
	for i, m := range imgs {
		raw, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("figure %d: base64: %v", i, err)
		}
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Errorf("figure %d: inline PNG does not decode: %v", i, err)
		}
	}
	for _, f := range []string{"attempts", "quota", "circuit", "latency", "retries", "time_to_success"} {
		for _, ext := range []string{".png", ".svg"} {
			if _, err := os.Stat(filepath.Join(dir, f+ext)); err != nil {
				t.Errorf("figure file %s%s: %v", f, ext, err)
			}
		}
	}
}

func TestRenderVerdicts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		th   []report.ThresholdResult
		want string
	}{
		// No thresholds: a neutral verdict.
		{"none", nil, `id="verdict">no thresholds`},
		// All met.
		{"pass", []report.ThresholdResult{{Expr: "success_rate > 0.5", OK: true, Value: 0.9}}, `id="verdict">PASSED: all 1 thresholds met`},
		// One not evaluable (unknown tenant): failed, with its error shown.
		{"error", []report.ThresholdResult{{Expr: "tenant(x).amplification < 2", Error: "unknown tenant x"}}, "error: unknown tenant x"},
	} {
		sum := &report.Summary{Scenario: "s", Engine: report.EngineLive, Tenants: map[string]*report.Stats{}, Thresholds: c.th}
		var buf bytes.Buffer
		if err := Render(&buf, Input{Summary: sum}); err != nil {
			t.Fatalf("%s: Render: %v", c.name, err)
		}
		if !strings.Contains(buf.String(), c.want) {
			t.Errorf("%s: Render(thresholds %v) lacks %q", c.name, c.th, c.want)
		}
	}
}

// TestRenderPartial: the partial badge names why the run stopped.
func TestRenderPartial(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		reason        string
		max           uint64
		want, without string
	}{
		// Ctrl-C.
		{"interrupted", report.PartialInterrupted, 0, "partial run: interrupted; counts are what was measured", "attempt cap"},
		// The cap on attempts reached: the badge and the run's cap.
		{"max requests", report.PartialMaxRequests, 5, "partial run: stopped at the attempt cap (--max-requests 5); counts", "interrupted"},
		// A summary.json without partial_reason: no cause invented.
		{"unknown", "", 0, "partial run; counts are what was measured", "interrupted"},
	} {
		sum := &report.Summary{Scenario: "s", Engine: report.EngineLive, Partial: true, PartialReason: c.reason,
			MaxRequests: c.max, Tenants: map[string]*report.Stats{}}
		var buf bytes.Buffer
		if err := Render(&buf, Input{Summary: sum}); err != nil {
			t.Fatalf("%s: Render: %v", c.name, err)
		}
		if got := buf.String(); !strings.Contains(got, c.want) || strings.Contains(got, c.without) {
			t.Errorf("%s: Render(partial_reason %q, max_requests %d): want %q and no %q", c.name, c.reason, c.max, c.want, c.without)
		}
	}
}

// TestRenderCircuitAndFirst429: the Run section says how long the circuit
// was open, the attempts table when each tenant first got a 429.
func TestRenderCircuitAndFirst429(t *testing.T) {
	t.Parallel()
	at := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		name          string
		circuit       *report.CircuitStats
		first         *float64
		want, without []string
	}{
		// A run against the mock: the circuit's line, the tenant's first 429.
		{"observed", &report.CircuitStats{OpenSeconds: 5, OpenPeriods: 1, FirstOpenSeconds: at(12), HalfOpenSeconds: 1}, at(63),
			[]string{"<dt>server circuit</dt><dd>open 5s in 1 period, first at 12s · half-open 1s (to the time bucket)</dd>", "<th>first 429</th>", "<td>1 m 3 s</td>"}, nil},
		// A real API: no circuit line; no 429: never.
		{"unobserved", nil, nil, []string{"<td>never</td>"}, []string{"server circuit"}},
	} {
		sum := &report.Summary{Scenario: "s", Engine: report.EngineLive, Circuit: c.circuit,
			Tenants: map[string]*report.Stats{"web": {First429Seconds: c.first}}}
		var buf bytes.Buffer
		if err := Render(&buf, Input{Summary: sum}); err != nil {
			t.Fatalf("%s: Render: %v", c.name, err)
		}
		got := buf.String()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: Render(circuit %+v, first 429 %v) lacks %q", c.name, c.circuit, c.first, w)
			}
		}
		for _, w := range c.without {
			if strings.Contains(got, w) {
				t.Errorf("%s: Render(circuit %+v) has %q", c.name, c.circuit, w)
			}
		}
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	sum := &report.Summary{Scenario: "s", Tenants: map[string]*report.Stats{}}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   Input
		want string
	}{
		{"no summary", Input{}, "no summary given"}, // a summary is required
		{"missing figure", Input{Summary: sum, FigureDir: dir, Figures: []plot.Figure{{Base: "nope"}}}, "inline figure nope"}, // PNG not written
		{"not a png", Input{Summary: sum, FigureDir: dir, Figures: []plot.Figure{{Base: "bad"}}}, "bad.png is not a PNG"},     // corrupt PNG
	} {
		err := Render(&bytes.Buffer{}, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Render error %v; want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestFmtSeconds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    float64
		want string
	}{
		{0, "0"},            // empty quantiles
		{0.00085, "850 µs"}, // microseconds
		{0.081, "81 ms"},    // milliseconds
		{2.345, "2.35 s"},   // seconds, 3 significant digits
		{101, "1 m 41 s"},   // minutes
		{7500, "2 h 5 m"},   // hours
	} {
		if got := fmtSeconds(c.s); got != c.want {
			t.Errorf("fmtSeconds(%g) = %q; want %q", c.s, got, c.want)
		}
	}
}
