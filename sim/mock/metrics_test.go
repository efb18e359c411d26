package mock_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestRequestMetrics(t *testing.T) {
	t.Parallel()
	srv, reg, _ := newServer(t, "")
	for _, r := range []struct{ method, path, key, body string }{
		{"POST", qs, k3, validBody},            // 200
		{"POST", qs, k3, validBody},            // 200
		{"POST", qs, "", validBody},            // 401 missing_api_key
		{"GET", qs, k3, ""},                    // 405
		{"GET", "/nothing", "", ""},            // 404 on "other"
		{"POST", qsBatch, k3, `{"inputs":[]}`}, // 422
		{"GET", "/health", "", ""},             // 200
		{"POST", qa, k3, `{"context":"x","compression_model_name":"espresso_v1"}`}, // 200
	} {
		serve(t, srv, r.method, r.path, r.key, r.body)
	}
	want := `
# HELP compresr_mock_requests_total Requests answered by the mock, by route, HTTP status and error.code ("ok" for successes).
# TYPE compresr_mock_requests_total counter
compresr_mock_requests_total{code="method_not_allowed",route="/api/compress/question-specific/",status="405"} 1
compresr_mock_requests_total{code="missing_api_key",route="/api/compress/question-specific/",status="401"} 1
compresr_mock_requests_total{code="not_found",route="other",status="404"} 1
compresr_mock_requests_total{code="ok",route="/api/compress/question-agnostic/",status="200"} 1
compresr_mock_requests_total{code="ok",route="/api/compress/question-specific/",status="200"} 2
compresr_mock_requests_total{code="ok",route="/health",status="200"} 1
compresr_mock_requests_total{code="validation_error",route="/api/compress/question-specific/batch",status="422"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "compresr_mock_requests_total"); err != nil {
		t.Errorf("requests_total after 8 requests: %v", err)
	}
	// The fixed clock makes every duration 0: all land in the lowest bucket.
	if n := testutil.CollectAndCount(srv.Registry(), "compresr_mock_request_duration_seconds"); n != 5 {
		t.Errorf("request_duration_seconds has %d series; want 5 (one per route seen)", n)
	}
	if got := quotaRemaining(t, reg, "demo_tier3", "minute", "requests"); got != 247 {
		t.Errorf("quota_remaining{demo_tier3,minute,requests} = %v; want 247 (250 − 3 admitted)", got)
	}
	if got := quotaRemaining(t, reg, "demo_tier1", "day", "requests"); got != 5000 {
		t.Errorf("quota_remaining{demo_tier1,day,requests} = %v; want 5000 (unused)", got)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint = %v, %v; want no problems", problems, err)
	}
}

func TestCircuitMetrics(t *testing.T) {
	t.Parallel()
	srv, reg, clock := newServer(t, "api:\n  upstream:\n    latency: {median: 0s}\n    incidents: [{start: 0s, duration: 1h, error_rate: 1.0}]\n"+
		"  circuit: {window: 10s, min_requests: 2, failure_ratio: 0.5, open_for: 30s, half_open_probes: 1}\n")
	_ = clock
	state := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "compresr_mock_circuit_state" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no compresr_mock_circuit_state")
		return -1
	}
	if s := state(); s != 0 {
		t.Fatalf("circuit_state before any request = %v; want 0 (closed)", s)
	}
	for i := 0; i < 3; i++ { // two failures open the circuit, the third is refused
		serve(t, srv, "POST", qs, k5, validBody)
	}
	if s := state(); s != 2 {
		t.Errorf("circuit_state after 2 failures = %v; want 2 (open)", s)
	}
	want := `
# HELP compresr_mock_circuit_transitions_total Transitions of the modelled circuit breaker, by the state entered (closed, half_open, open).
# TYPE compresr_mock_circuit_transitions_total counter
compresr_mock_circuit_transitions_total{to="closed"} 0
compresr_mock_circuit_transitions_total{to="half_open"} 0
compresr_mock_circuit_transitions_total{to="open"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "compresr_mock_circuit_transitions_total"); err != nil {
		t.Errorf("circuit_transitions_total: %v", err)
	}
	upstream := upstreamCalls(t, reg)
	if upstream["error"] != 2 || upstream["ok"] != 0 || len(upstream) != 4 {
		t.Errorf("upstream_calls_total = %v; want 2 errors, 0 ok, 4 results", upstream)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint = %v, %v; want no problems", problems, err)
	}
}

// upstreamCalls returns compresr_mock_upstream_calls_total by result.
func upstreamCalls(t *testing.T, reg interface {
	Gather() ([]*dto.MetricFamily, error)
}) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "compresr_mock_upstream_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}
