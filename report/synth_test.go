package report

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// t0 is the start of every synthetic run.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// record is one element of a synthetic record stream.
type record struct {
	attempt *sim.Attempt
	outcome *sim.Outcome
	circuit *struct {
		t time.Time
		s sim.CircuitState
	}
}

// synth returns a deterministic record stream of n logical requests over two
// tenants, with successes, 429s with Retry-After (valid, invalid, clamped),
// 500s, 503s, transport errors, 422s, client-side rejections, give-ups,
// requests left in flight, and circuit transitions.
func synth(seed uint64, n int) []record {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []record
	remaining := [2]int64{600, 600}
	for i := range n {
		tenant := rng.IntN(2)
		arrived := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if i == n/3 {
			out = append(out, record{circuit: &struct {
				t time.Time
				s sim.CircuitState
			}{arrived, sim.CircuitOpen}})
		}
		if i == n/3+50 {
			out = append(out, record{circuit: &struct {
				t time.Time
				s sim.CircuitState
			}{arrived, sim.CircuitHalfOpen}}, record{circuit: &struct {
				t time.Time
				s sim.CircuitState
			}{arrived.Add(time.Millisecond), sim.CircuitClosed}})
		}
		id := uint64(i + 1)
		if rng.IntN(100) == 0 {
			out = append(out, record{outcome: &sim.Outcome{Tenant: tenant, Request: id, Kind: sim.RejectedClientSide,
				Reason: sim.StopRejectedClientSide, Arrived: arrived, Ended: arrived}})
			continue
		}
		sent := arrived
		kind, reason := sim.GaveUp, sim.StopMaxAttempts
		attempts := 0
		leaveOpen := i >= n-5 // the last requests never end
		for num := 1; num <= 4; num++ {
			a := &sim.Attempt{Tenant: tenant, Request: id, Number: num, Sent: sent,
				Latency: time.Duration(20+rng.IntN(200)) * time.Millisecond}
			switch p := rng.IntN(100); {
			case p < 55:
				a.Status = 200
			case p < 75:
				a.Status, a.Code = 429, "rate_limit_exceeded"
				a.RetryAfterRaw, a.RetryAfter, a.RetryAfterStatus = "1", time.Second, sim.RetryAfterValid
				if p == 74 {
					a.RetryAfterRaw, a.RetryAfter, a.RetryAfterStatus = "soon", 0, sim.RetryAfterInvalid
				}
				if p == 73 {
					a.RetryAfterRaw, a.RetryAfter, a.RetryAfterStatus = "99999", 30*time.Second, sim.RetryAfterClamped
				}
			case p < 85:
				a.Status, a.Code = 503, "service_unavailable"
				a.RetryAfterRaw, a.RetryAfter, a.RetryAfterStatus = "2", 2*time.Second, sim.RetryAfterValid
			case p < 92:
				a.Status, a.Code = 500, "internal_error"
			case p < 96:
				a.Status = 0
				a.Latency = 5 * time.Second
			default:
				a.Status, a.Code = 422, "validation_error"
			}
			if a.Status != 0 {
				remaining[tenant]--
				a.Limits = sim.RateLimits{Tier: "tier1", LimitMinute: 600, RemainingMinute: max(remaining[tenant], 0),
					LimitDay: sim.Unlimited, RemainingDay: sim.Unlimited}
			}
			attempts++
			end := sent.Add(a.Latency)
			switch {
			case a.Status == 200:
				a.Stop = sim.StopSucceeded
				kind, reason = sim.Succeeded, sim.StopSucceeded
			case a.Status == 422:
				a.Stop = sim.StopNotRetryable
				kind, reason = sim.FailedPermanent, sim.StopNotRetryable
			case num == 4:
				a.Stop = sim.StopMaxAttempts
			default:
				a.Retry = true
				a.Delay = time.Duration(100+rng.IntN(1500)) * time.Millisecond
				if a.RetryAfterStatus == sim.RetryAfterValid && rng.IntN(4) != 0 {
					a.Delay = max(a.Delay, a.RetryAfter)
				}
			}
			out = append(out, record{attempt: a})
			if !a.Retry {
				if !leaveOpen {
					out = append(out, record{outcome: &sim.Outcome{Tenant: tenant, Request: id, Kind: kind,
						Reason: reason, Attempts: attempts, Arrived: arrived, Ended: end}})
				}
				break
			}
			sent = end.Add(a.Delay)
			if leaveOpen && i == n-1 && num == 2 {
				// The run stops while this one waits to retry.
				out = append(out, record{outcome: &sim.Outcome{Tenant: tenant, Request: id, Kind: sim.InFlight,
					Reason: sim.StopCancelled, Attempts: attempts, Arrived: arrived, Ended: end}})
				break
			}
		}
	}
	return out
}

// feed plays records into a recorder.
func feed(r *Recorder, recs []record) {
	for _, rec := range recs {
		switch {
		case rec.attempt != nil:
			r.RecordAttempt(rec.attempt)
		case rec.outcome != nil:
			r.RecordOutcome(rec.outcome)
		default:
			r.ObserveCircuit(rec.circuit.t, rec.circuit.s)
		}
	}
}

// newTestRecorder returns a recorder for the synthetic stream's two tenants.
func newTestRecorder(d time.Duration) *Recorder {
	return NewRecorder(RecorderConfig{Tenants: []string{"web", "batch-jobs"}, Start: t0, Duration: d})
}

// testMeta is the Meta used with synthetic streams.
func testMeta(ts ...Threshold) Meta {
	return Meta{Scenario: "synthetic", Engine: EngineSimulated, Seed: 42, Duration: 20 * time.Second,
		OfferedRPS: 100, TenantOfferedRPS: map[string]float64{"web": 50, "batch-jobs": 50}, Thresholds: ts}
}

// TestSeriesIndependentOfRecordOrder: the series (quota remaining
// included) and the summary come out the same whatever order the attempts
// and outcomes are recorded in, as a live run's concurrent attempts and the
// simulator's answers handled at their send give them.
func TestSeriesIndependentOfRecordOrder(t *testing.T) {
	t.Parallel()
	var circuits, recs []record
	for _, rec := range synth(5, 600) {
		if rec.attempt == nil && rec.outcome == nil {
			circuits = append(circuits, rec)
		} else {
			recs = append(recs, rec)
		}
	}
	encode := func(recs []record) string {
		r := newTestRecorder(20 * time.Second)
		feed(r, circuits)
		feed(r, recs)
		s, err := r.Series()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(struct {
			S *Series
			M *Summary
		}{s, r.Summary(testMeta())})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := encode(recs)
	if !strings.Contains(want, "quota_minute_remaining") {
		t.Fatal("the synthetic stream carries no quota headers; the test compares nothing of them")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 5 {
		shuffled := slices.Clone(recs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := encode(shuffled); got != want {
			t.Fatalf("records shuffled give another series or summary:\n%s\nin order:\n%s", got, want)
		}
	}
}
