package report

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/loadsim/loadsim/sim"
)

// smallStream records a few known events for tenant "web" (index 0): a
// request that succeeds after one 429, one that fails permanently, and one
// still in flight.
func smallStream(r *Recorder) {
	r.RecordAttempt(&sim.Attempt{Tenant: 0, Request: 1, Number: 1, Sent: t0, Latency: 20 * time.Millisecond,
		Status: 429, Code: "rate_limit_exceeded", RetryAfter: time.Second, RetryAfterStatus: sim.RetryAfterValid,
		Retry: true, Delay: 1200 * time.Millisecond})
	r.RecordAttempt(&sim.Attempt{Tenant: 0, Request: 1, Number: 2, Sent: t0.Add(1220 * time.Millisecond),
		Latency: 80 * time.Millisecond, Status: 200, Stop: sim.StopSucceeded})
	r.RecordOutcome(&sim.Outcome{Tenant: 0, Request: 1, Kind: sim.Succeeded, Reason: sim.StopSucceeded, Attempts: 2,
		Arrived: t0, Ended: t0.Add(1300 * time.Millisecond)})
	r.RecordAttempt(&sim.Attempt{Tenant: 0, Request: 2, Number: 1, Sent: t0, Latency: 3 * time.Millisecond,
		Status: 422, Code: "validation_error", Stop: sim.StopNotRetryable})
	r.RecordOutcome(&sim.Outcome{Tenant: 0, Request: 2, Kind: sim.FailedPermanent, Reason: sim.StopNotRetryable,
		Attempts: 1, Arrived: t0, Ended: t0.Add(3 * time.Millisecond)})
	r.RecordAttempt(&sim.Attempt{Tenant: 0, Request: 3, Number: 1, Sent: t0.Add(2 * time.Second),
		Latency: 0, Status: 0, Retry: true, Delay: 300 * time.Millisecond})
}

func TestCollector(t *testing.T) {
	t.Parallel()
	r := NewRecorder(RecorderConfig{Tenants: []string{"web"}, Start: t0, Duration: 10 * time.Second})
	reg := prometheus.NewPedanticRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	smallStream(r)
	// One more request, refused client-side: it arrived, sent nothing.
	r.RecordOutcome(&sim.Outcome{Tenant: 0, Request: 4, Kind: sim.RejectedClientSide, Reason: sim.StopRejectedClientSide,
		Arrived: t0, Ended: t0})

	const want = `
# HELP loadsim_attempts_total HTTP attempts sent, by response status (0 = transport error) and error.code.
# TYPE loadsim_attempts_total counter
loadsim_attempts_total{code="",status="0",tenant="web"} 1
loadsim_attempts_total{code="",status="200",tenant="web"} 1
loadsim_attempts_total{code="rate_limit_exceeded",status="429",tenant="web"} 1
loadsim_attempts_total{code="validation_error",status="422",tenant="web"} 1
# HELP loadsim_in_flight Logical requests whose first attempt was sent and that have not ended.
# TYPE loadsim_in_flight gauge
loadsim_in_flight{tenant="web"} 1
# HELP loadsim_requests_arrived_total Logical requests that arrived: first attempts sent, and requests that ended without one (refused client-side). Its rate is the achieved rate.
# TYPE loadsim_requests_arrived_total counter
loadsim_requests_arrived_total{tenant="web"} 4
# HELP loadsim_requests_total Logical requests that ended, by outcome (in_flight: unfinished when the run stopped).
# TYPE loadsim_requests_total counter
loadsim_requests_total{outcome="failed_permanent",tenant="web"} 1
loadsim_requests_total{outcome="gave_up",tenant="web"} 0
loadsim_requests_total{outcome="in_flight",tenant="web"} 0
loadsim_requests_total{outcome="rejected_client_side",tenant="web"} 1
loadsim_requests_total{outcome="succeeded",tenant="web"} 1
# HELP loadsim_retries_total Decisions of the retry strategy to retry, by the failure that caused them.
# TYPE loadsim_retries_total counter
loadsim_retries_total{reason="internal_error",tenant="web"} 0
loadsim_retries_total{reason="other",tenant="web"} 0
loadsim_retries_total{reason="rate_limited",tenant="web"} 1
loadsim_retries_total{reason="server_error",tenant="web"} 0
loadsim_retries_total{reason="transport_error",tenant="web"} 1
loadsim_retries_total{reason="unavailable",tenant="web"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "loadsim_attempts_total",
		"loadsim_in_flight", "loadsim_requests_arrived_total", "loadsim_requests_total", "loadsim_retries_total"); err != nil {
		t.Errorf("GatherAndCompare: %v", err)
	}

	const wantHist = `
# HELP loadsim_time_to_success_seconds Time from a logical request's arrival to its success, backoff delays included.
# TYPE loadsim_time_to_success_seconds histogram
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.005"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.01"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.025"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.05"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.1"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.25"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="0.5"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="1"} 0
loadsim_time_to_success_seconds_bucket{tenant="web",le="2.5"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="5"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="10"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="30"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="60"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="120"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="300"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="600"} 1
loadsim_time_to_success_seconds_bucket{tenant="web",le="+Inf"} 1
loadsim_time_to_success_seconds_sum{tenant="web"} 1.3
loadsim_time_to_success_seconds_count{tenant="web"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantHist), "loadsim_time_to_success_seconds"); err != nil {
		t.Errorf("GatherAndCompare(time to success): %v", err)
	}

	// Histogram counts and sums of the other two.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		h := mf.GetMetric()[0].GetHistogram()
		switch mf.GetName() {
		case "loadsim_attempt_duration_seconds":
			if h.GetSampleCount() != 4 || h.GetSampleSum() < 0.1029 || h.GetSampleSum() > 0.1031 {
				t.Errorf("attempt duration: count %d sum %v; want 4 and 0.103", h.GetSampleCount(), h.GetSampleSum())
			}
		case "loadsim_backoff_seconds":
			if h.GetSampleCount() != 2 || h.GetSampleSum() < 1.499 || h.GetSampleSum() > 1.501 {
				t.Errorf("backoff: count %d sum %v; want 2 and 1.5", h.GetSampleCount(), h.GetSampleSum())
			}
		}
	}

	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint = %v, %v; want no problems", problems, err)
	}
	if n := testutil.CollectAndCount(r.Collector()); n != 4+5+6+3+1+1 {
		t.Errorf("CollectAndCount = %d; want %d", n, 4+5+6+3+1+1)
	}
}

// TestCollectorToFloat64 reads single series through a one-metric view.
func TestCollectorToFloat64(t *testing.T) {
	t.Parallel()
	r := NewRecorder(RecorderConfig{Tenants: []string{"web"}, Start: t0, Duration: 10 * time.Second})
	smallStream(r)
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "probe"}, func() float64 {
		return float64(r.Summary(Meta{}).Requests.InFlight)
	})
	if got := testutil.ToFloat64(g); got != 1 {
		t.Errorf("in flight via ToFloat64 = %v; want 1", got)
	}
	r.RecordOutcome(&sim.Outcome{Tenant: 0, Request: 3, Kind: sim.GaveUp, Attempts: 1, Arrived: t0, Ended: t0.Add(3 * time.Second)})
	if got := testutil.ToFloat64(g); got != 0 {
		t.Errorf("in flight after the last outcome = %v; want 0", got)
	}
}

// TestCollectorLabelsAreNames checks that the tenant label carries the
// configured name and nothing else.
func TestCollectorLabelsAreNames(t *testing.T) {
	t.Parallel()
	r := NewRecorder(RecorderConfig{Tenants: []string{"web", "batch-jobs"}, Start: t0})
	feed(r, synth(9, 200))
	reg := prometheus.NewRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "tenant" && l.GetValue() != "web" && l.GetValue() != "batch-jobs" {
					t.Errorf("%s has tenant=%q; want a configured name", mf.GetName(), l.GetValue())
				}
			}
		}
	}
}
