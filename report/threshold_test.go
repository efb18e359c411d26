package report

import (
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want Threshold // Expr is filled from expr, trimmed
	}{
		{"success_rate >= 0.95", Threshold{Metric: "success_rate", Op: ">=", Value: 0.95}},                                // plain number
		{"success_rate>=95%", Threshold{Metric: "success_rate", Op: ">=", Value: 0.95}},                                   // percentage, no spaces
		{"time_to_success_p99 <= 30s", Threshold{Metric: "time_to_success_p99", Op: "<=", Value: 30}},                     // duration
		{"latency_p50 < 500ms", Threshold{Metric: "latency_p50", Op: "<", Value: 0.5}},                                    // sub-second duration
		{"latency_max < 2.5", Threshold{Metric: "latency_max", Op: "<", Value: 2.5}},                                      // seconds as a number
		{" tenant(web).amplification <= 1.5 ", Threshold{Tenant: "web", Metric: "amplification", Op: "<=", Value: 1.5}},   // tenant, trimmed
		{"tenant(batch-jobs).status_429 == 0", Threshold{Tenant: "batch-jobs", Metric: "status_429", Op: "==", Value: 0}}, // status count
		{"code_rate_limit_exceeded != 3", Threshold{Metric: "code_rate_limit_exceeded", Op: "!=", Value: 3}},              // code count
		{"status_0 > 1e3", Threshold{Metric: "status_0", Op: ">", Value: 1000}},                                           // transport errors, exponent
		{"gave_up_rate < 1%", Threshold{Metric: "gave_up_rate", Op: "<", Value: 0.01}},                                    // small percentage
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.expr)
		tt.want.Expr = strings.TrimSpace(tt.expr)
		if err != nil || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want %+v", tt.expr, got, err, tt.want)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, wantErr string
	}{
		{"", "threshold is empty"},                      // nothing
		{"success_rate 0.95", "no comparison operator"}, // missing operator
		{">= 0.95", "metric is missing"},                // missing metric
		{"success_rate >=", "value is missing"},         // missing value
		{"sucess_rate >= 0.95", `unknown metric "sucess_rate"; did you mean success_rate? (valid: success_rate,`}, // typo: the closest and the valid names
		{"tts_p99 <= 5s", `unknown metric "tts_p99" (valid: `},                                                    // nothing near: the valid names only
		{"success_rate => 0.99", `"=>" is not a comparison operator: write >=`},                                   // operator backwards
		{"latency_p99 =< 1s", `"=<" is not a comparison operator: write <=`},                                      // the other way
		{"success_rate = 1", "'=' is not a comparison operator: use =="},                                          // single =
		{"success_rate >= 95", "fraction in [0, 1], got 95: write e.g. 0.95 or 95%"},                              // a percentage without %
		{"gave_up_rate <= 150%", "fraction in [0, 1], got 150%"},                                                  // above 100 %
		{"success_rate >= -0.1", "fraction in [0, 1]"},                                                            // negative
		{"amplification <= 150%", "a percentage fits only ratio metrics"},                                         // % on a count
		{"attempts_total < 10s", `is not a number`},                                                               // duration on a count
		{"latency_p99 < fast", "neither a number of seconds nor a duration"},                                      // garbage duration
		{"success_rate >= NaN", "not a number"},                                                                   // NaN
		{"success_rate >= Inf", "not a number"},                                                                   // infinity
		{"tenant(web.success_rate > 1", "tenant( is not closed"},                                                  // unclosed tenant
		{"tenant().success_rate > 1", "tenant name is empty"},                                                     // empty tenant
		{"tenant(web)success_rate > 1", "expected '.'"},                                                           // missing dot
		{"status_abc > 1", "unknown metric"},                                                                      // bad status
		{"status_0429 > 1", "unknown metric"},                                                                     // non-canonical status
		{"code_ > 1", "unknown metric"},                                                                           // empty code
		{"success_rate >= 0x1p-2", "not a number"},                                                                // hex float
	}
	for _, tt := range tests {
		_, err := ParseThreshold(tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseThreshold(%q) error = %v; want one containing %q", tt.expr, err, tt.wantErr)
		}
	}
}

func TestThresholdEval(t *testing.T) {
	t.Parallel()
	s := &Summary{
		Stats: Stats{SuccessRate: 0.97, Amplification: 1.25, TimeToSuccess: Quantiles{P99: 12.5},
			Requests: Requests{Total: 100, GaveUp: 2},
			Attempts: Attempts{Total: 125, ByStatus: map[string]uint64{"200": 97, "429": 28}, ByCode: map[string]uint64{"rate_limit_exceeded": 28}}},
		Tenants: map[string]*Stats{"web": {Amplification: 1.6}},
	}
	tests := []struct {
		expr   string
		ok     bool
		value  float64
		errMsg string
	}{
		{"success_rate >= 95%", true, 0.97, ""},                         // passes
		{"success_rate > 0.97", false, 0.97, ""},                        // strict inequality fails at equality
		{"time_to_success_p99 <= 10s", false, 12.5, ""},                 // duration threshold fails
		{"tenant(web).amplification <= 1.5", false, 1.6, ""},            // per tenant
		{"amplification <= 1.5", true, 1.25, ""},                        // overall passes
		{"status_429 == 28", true, 28, ""},                              // status count
		{"status_503 == 0", true, 0, ""},                                // absent status is 0
		{"code_rate_limit_exceeded != 28", false, 28, ""},               // code count
		{"gave_up_rate < 1%", false, 0.02, ""},                          // derived ratio
		{"tenant(nobody).success_rate > 0", false, 0, "unknown tenant"}, // unknown tenant is an error
	}
	for _, tt := range tests {
		th, err := ParseThreshold(tt.expr)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", tt.expr, err)
		}
		got := th.Eval(s)
		if got.OK != tt.ok || got.Value != tt.value || !strings.Contains(got.Error, tt.errMsg) || (tt.errMsg == "") != (got.Error == "") {
			t.Errorf("ParseThreshold(%q).Eval() = %+v; want ok=%v value=%v error~%q", tt.expr, got, tt.ok, tt.value, tt.errMsg)
		}
	}
	for _, tc := range []struct {
		expr, want string
	}{
		{"tenant(nobody).success_rate > 0", `unknown tenant "nobody" (tenants: web, batch-jobs)`}, // nothing near: the list
		{"tenant(wbe).success_rate > 0", `unknown tenant "wbe"; did you mean web? (tenants: `},    // a typo: the closest
	} {
		th, err := ParseThreshold(tc.expr)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", tc.expr, err)
		}
		if err := th.Validate([]string{"web", "batch-jobs"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseThreshold(%q).Validate([web batch-jobs]) = %v; want an error containing %q", tc.expr, err, tc.want)
		}
	}
}

func TestSummaryThresholdsAndPassed(t *testing.T) {
	t.Parallel()
	pass, _ := ParseThreshold("requests_total > 0")
	fail, _ := ParseThreshold("tenant(web).success_rate == 100%")
	r := newTestRecorder(20 * time.Second)
	feed(r, synth(6, 500))
	if s := r.Summary(testMeta(pass)); !s.Passed() || len(s.Thresholds) != 1 {
		t.Errorf("Summary(requests_total > 0).Passed() = false, thresholds %+v; want true", s.Thresholds)
	}
	if s := r.Summary(testMeta(pass, fail)); s.Passed() || s.Thresholds[1].OK {
		t.Errorf("Summary(…, success_rate == 100%%).Passed() = true, thresholds %+v; want false", s.Thresholds)
	}
}

func TestThresholdMetricsDocumented(t *testing.T) {
	t.Parallel()
	for _, m := range ThresholdMetrics() {
		if m.Unit == "" || m.Doc == "" {
			t.Errorf("metric %s has unit %q doc %q; want both", m.Name, m.Unit, m.Doc)
		}
		if _, err := ParseThreshold(m.Name + " >= 0"); err != nil {
			t.Errorf("ParseThreshold(%q): %v", m.Name+" >= 0", err)
		}
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"success_rate >= 0.95", "time_to_success_p99 <= 30s", "tenant(web).amplification <= 1.5",
		"status_429 == 0", "code_x != 1", "gave_up_rate < 5%", "tenant(a)b", "<=>=", "latency_p50 < 1h2m3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := ParseThreshold(expr)
		if err != nil {
			return
		}
		// A parsed threshold re-parses to itself and evaluates without panicking.
		again, err := ParseThreshold(th.Expr)
		if err != nil || again != th {
			t.Fatalf("ParseThreshold(%q) = %+v, then ParseThreshold(%q) = %+v, %v", expr, th, th.Expr, again, err)
		}
		_ = th.Eval(&Summary{Tenants: map[string]*Stats{}})
	})
}

// TestSentSuccessRate: the success rate of the requests that were sent.
func TestSentSuccessRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total, succeeded, rejected uint64
		want                       float64
	}{
		{100, 90, 10, 1},   // every sent request succeeded
		{100, 45, 10, 0.5}, // half of the 90 sent
		{100, 90, 0, 0.9},  // nothing refused: success_rate
		{10, 0, 10, 0},     // nothing sent: 0
		{0, 0, 0, 0},       // no requests: 0
	} {
		st := &Stats{Requests: Requests{Total: tc.total, Succeeded: tc.succeeded, RejectedClientSide: tc.rejected}}
		s := &Summary{Stats: *st, Tenants: map[string]*Stats{}}
		if got, err := MetricValue(s, "", "sent_success_rate"); err != nil || got != tc.want {
			t.Errorf("sent_success_rate of %+v = %v, %v; want %v", st.Requests, got, err, tc.want)
		}
	}
}

// TestThresholdResultValueString: values print in their metric's unit.
func TestThresholdResultValueString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    ThresholdResult
		want string
	}{
		{ThresholdResult{Expr: "time_to_success_p99 <= 30s", Value: 101.122}, "1m41s"},   // seconds: a duration
		{ThresholdResult{Expr: "tenant(web).latency_p50 < 1s", Value: 0.0421}, "42.1ms"}, // per tenant
		{ThresholdResult{Expr: "success_rate >= 95%", Value: 0.61546}, "0.6155"},         // a ratio: a number
		{ThresholdResult{Expr: "status_429 == 0", Value: 12}, "12"},                      // a count
		{ThresholdResult{Expr: "not a threshold", Value: 1.23456}, "1.2346"},             // unparsable: a number
	} {
		if got := tc.r.ValueString(); got != tc.want {
			t.Errorf("ThresholdResult{%q, %v}.ValueString() = %q; want %q", tc.r.Expr, tc.r.Value, got, tc.want)
		}
	}
}
