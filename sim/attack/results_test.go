package attack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/scenario"
)

// TestRunVegetaResults runs the demo for 3 s writing vegeta results: decoded
// with vegeta's decoder they are the run's attempts (same count, same
// statuses), numbered in order, named by tenant, without keys or headers.
func TestRunVegetaResults(t *testing.T) {
	sc := demo(t)
	var buf bytes.Buffer
	res, err := Run(context.Background(), sc, Options{Seed: 2, Duration: 3 * time.Second, Results: vegeta.NewEncoder(&buf)})
	if err != nil || res.ResultsErr != nil {
		t.Fatalf("Run(demo, 3s, Results) = %v, results error %v", err, res.ResultsErr)
	}
	s := res.Recorder.Summary(res.Meta)
	for _, tn := range sc.Tenants {
		if bytes.Contains(buf.Bytes(), []byte(tn.Key)) {
			t.Errorf("the vegeta results contain tenant %s's key", tn.Name)
		}
	}
	dec := vegeta.NewDecoder(&buf)
	byStatus := map[string]uint64{}
	tenants := map[string]bool{}
	for _, tn := range sc.Tenants {
		tenants[tn.Name] = true
	}
	var n uint64
	var m vegeta.Metrics
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decode result %d: %v", n, err)
			}
			break
		}
		if r.Seq != n {
			t.Errorf("result %d: Seq = %d; want %d", n, r.Seq, n)
		}
		if !tenants[r.Attack] || r.Method != "POST" || r.URL == "" || r.Timestamp.IsZero() || r.Headers != nil || r.Body != nil {
			t.Errorf("result %d = attack %q %s %q at %v, headers %v, body %d bytes; want a tenant's POST with no headers or body", n, r.Attack, r.Method, r.URL, r.Timestamp, r.Headers, len(r.Body))
		}
		if r.Code != 0 && (r.BytesIn == 0 || r.BytesOut == 0 || r.Latency <= 0) {
			t.Errorf("result %d: code %d, bytes in %d, out %d, latency %v; want counted bytes and a latency", n, r.Code, r.BytesIn, r.BytesOut, r.Latency)
		}
		byStatus[strconv.Itoa(int(r.Code))]++
		m.Add(&r)
		n++
	}
	m.Close()
	if n == 0 || n != s.Attempts.Total || m.Requests != n {
		t.Errorf("decoded %d results (vegeta.Metrics: %d requests); summary attempts.total = %d", n, m.Requests, s.Attempts.Total)
	}
	for st, c := range s.Attempts.ByStatus {
		if byStatus[st] != c {
			t.Errorf("status %s: %d attempts in the summary, %d vegeta results (summary %v, results %v)", st, c, byStatus[st], s.Attempts.ByStatus, byStatus)
		}
	}
}

// failingEncoder fails from its nth call on.
type failingEncoder struct{ calls, n int }

func (f *failingEncoder) encode(*vegeta.Result) error {
	f.calls++
	if f.calls >= f.n {
		return errors.New("disk full")
	}
	return nil
}

// An encoder that fails is called no more; Run reports its first error and
// still measures the whole run.
func TestRunVegetaResultsError(t *testing.T) {
	sc, err := scenario.Parse([]byte(`name: enc
duration: 1s
api: {upstream: {latency: {median: 1ms}}}
tenants:
  - {name: a, key: cmp_enc_a, tier: tier3, traffic: {profile: {type: constant, rate: 20}}, mix: [{weight: 1}], client: {strategy: compresr-recommended}}
`), "enc.yaml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	fe := &failingEncoder{n: 3}
	res, err := Run(context.Background(), sc, Options{Seed: 1, Results: fe.encode})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ResultsErr == nil || res.ResultsErr.Error() != "disk full" || fe.calls != 3 {
		t.Errorf("ResultsErr = %v after %d calls; want the first error, after 3 calls", res.ResultsErr, fe.calls)
	}
	if got := res.Recorder.Summary(res.Meta).Attempts.Total; got != 20 {
		t.Errorf("attempts.total = %d; want 20 (the run goes on)", got)
	}
}
