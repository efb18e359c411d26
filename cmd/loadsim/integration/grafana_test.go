package integration

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/mock"
)

// dashboardFiles returns the Grafana dashboards in docs/grafana.
func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "grafana", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboard in docs/grafana (%v)", err)
	}
	return files
}

// dashboardExprs returns every PromQL expression of a Grafana dashboard:
// the panels' (and rows' nested panels') targets[].expr and the templating
// variables' label_values queries.
func dashboardExprs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var exprs []string
	var walk func(ps []json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, raw := range ps {
			var p struct {
				Title   string            `json:"title"`
				Panels  []json.RawMessage `json:"panels"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: panel: %v", path, err)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("%s: panel %q has a target without expr", path, p.Title)
				}
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s: templating query: %v", path, err)
		}
		if inner, ok := strings.CutPrefix(q.Query, "label_values("); ok {
			// label_values(SELECTOR, LABEL): keep the selector.
			if i := strings.LastIndex(inner, ","); i > 0 {
				exprs = append(exprs, inner[:i])
			}
		}
	}
	return exprs
}

var (
	promStrings    = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promMatchers   = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges     = regexp.MustCompile(`\[[^\[\]]*\]`)
	promLabelLists = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent      = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords   = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"}
)

// metricNames returns the metric names an expression references: the
// identifiers left once strings, label matchers, ranges, label lists,
// function calls and keywords are removed.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promLabelLists.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || slices.Contains(promKeywords, strings.ToLower(name)) {
			continue // a function, an aggregation or a keyword
		}
		if loc[0] > 0 && (s[loc[0]-1] == '$' || s[loc[0]-1] == '.' || s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9') {
			continue // a Grafana variable, or the exponent or suffix of a number
		}
		out = append(out, name)
	}
	return out
}

// TestMetricNames checks the extraction of metric names from PromQL.
func TestMetricNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		// A rate summed by a label.
		{`sum by (status) (rate(loadsim_attempts_total{job=~"$job", code!="x{y}"}[$__rate_interval]))`, []string{"loadsim_attempts_total"}},
		// A ratio of two metrics with a keyword and a number.
		{`sum(rate(a_total[5m])) / on(tenant) group_left sum(b_total offset 1m) > bool 0.5e3`, []string{"a_total", "b_total"}},
		// A histogram quantile.
		{`histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[1m])))`, []string{"x_seconds_bucket"}},
		// A bare selector from label_values.
		{`compresr_mock_circuit_state`, []string{"compresr_mock_circuit_state"}},
		// Only a function of a literal.
		{`vector(1)`, nil},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q; want %q", tt.expr, got, tt.want)
		}
	}
}

// documentedMetrics returns the metric names of docs/metrics.md's tables and
// their types.
func documentedMetrics(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_:][a-z0-9_:]*)` \\| (counter|gauge|histogram|summary) \\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	if len(out) < 10 {
		t.Fatalf("docs/metrics.md: found %d metrics in its tables; the table format changed?", len(out))
	}
	return out
}

// registeredProbe returns a function reporting whether a metric name is
// registered by the runner's recorder or the mock server. It registers a
// probe gauge of that name with a help text of its own: a registry refuses
// it exactly when a collector already describes that name.
func registeredProbe(t *testing.T) func(name string) bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec := report.NewRecorder(report.RecorderConfig{Tenants: []string{"web"}, Start: time.Unix(0, 0), Duration: time.Minute})
	if err := rec.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg, err := api.Defaults().Resolve()
	if err != nil {
		t.Fatal(err)
	}
	_ = mock.New(api.New(cfg, time.Unix(0, 0), 1), cfg, mock.WithRegistry(reg))
	return func(name string) bool {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe " + name})
		err := reg.Register(g)
		if err == nil {
			reg.Unregister(g)
			return false
		}
		var are prometheus.AlreadyRegisteredError
		return !errors.As(err, &are) // a different help text: the name is taken
	}
}

// TestGrafanaDashboard checks that every PromQL expression of the dashboards
// in docs/grafana references only metrics that docs/metrics.md documents and
// that the runner or the mock registers, and that the dashboard covers the
// issue's topics.
func TestGrafanaDashboard(t *testing.T) {
	documented := documentedMetrics(t)
	registered := registeredProbe(t)
	// Sanity of the probe itself.
	if !registered("loadsim_attempts_total") || !registered("compresr_mock_requests_total") || registered("loadsim_no_such_metric") {
		t.Fatal("registeredProbe: wrong answers for known and unknown names")
	}
	for _, path := range dashboardFiles(t) {
		used := map[string]bool{}
		exprs := dashboardExprs(t, path)
		if len(exprs) == 0 {
			t.Errorf("%s: no PromQL expression found", path)
		}
		for _, e := range exprs {
			names := metricNames(e)
			if len(names) == 0 {
				t.Errorf("%s: expression %q references no metric", path, e)
			}
			for _, n := range names {
				base := n
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(n, suf); ok && documented[b] == "histogram" {
						base = b
					}
				}
				used[base] = true
				if documented[base] == "" {
					t.Errorf("%s: %q uses %s, which docs/metrics.md does not document", filepath.Base(path), e, n)
				}
				if !registered(base) {
					t.Errorf("%s: %q uses %s, which neither the runner nor the mock registers", filepath.Base(path), e, n)
				}
			}
		}
		// The topics of the dashboard: attempts by status, quota remaining,
		// circuit state, retries and amplification, latency, time to success.
		for _, m := range []string{"loadsim_attempts_total", "compresr_mock_quota_remaining", "compresr_mock_circuit_state",
			"loadsim_retries_total", "loadsim_requests_total", "loadsim_attempt_duration_seconds", "loadsim_time_to_success_seconds"} {
			if !used[m] {
				t.Errorf("%s: no panel uses %s", filepath.Base(path), m)
			}
		}
	}
}
