package report

import (
	"bytes"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/loadsim/loadsim/sim"
)

func TestBucketWidth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		planned time.Duration
		want    time.Duration
	}{
		{0, time.Second},                      // unknown duration: 1 s
		{10 * time.Second, time.Second},       // short run: 1 s
		{1000 * time.Second, time.Second},     // exactly 1000 buckets of 1 s
		{1001 * time.Second, 2 * time.Second}, // just over: rounds up to 2 s
		{time.Hour, 4 * time.Second},          // 3.6 s rounds up to 4 s
		{24 * time.Hour, 87 * time.Second},    // 86.4 s rounds up to 87 s
		{-time.Second, time.Second},           // negative: 1 s
	}
	for _, tt := range tests {
		if got := BucketWidth(tt.planned); got != tt.want {
			t.Errorf("BucketWidth(%v) = %v; want %v", tt.planned, got, tt.want)
		}
	}
}

// TestBucketsBounded checks that memory is fixed by the plan: a 24 h run
// keeps at most about MaxBuckets buckets whatever the records' times.
func TestBucketsBounded(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{10 * time.Second, 24 * time.Hour} {
		r := newTestRecorder(d)
		for i := range 5000 {
			r.RecordAttempt(&sim.Attempt{Tenant: 0, Number: 1, Status: 200, Sent: t0.Add(time.Duration(i) * 3 * d / 5000)})
		}
		s, err := r.Series()
		if err != nil {
			t.Fatalf("Series(): %v", err)
		}
		n := int((d + BucketWidth(d) - 1) / BucketWidth(d))
		if got, limit := len(s.Circuit), n+n/10+64; got > limit || got < n {
			t.Errorf("duration %v: %d buckets; want between %d and %d", d, got, n, limit)
		}
		if s.BucketSeconds != int64(BucketWidth(d)/time.Second) {
			t.Errorf("duration %v: bucket_seconds %d; want %v", d, s.BucketSeconds, BucketWidth(d))
		}
		var sum uint64
		for _, b := range s.Tenants[0].Buckets {
			sum += b.Attempts.Total()
		}
		if sum != 5000 {
			t.Errorf("duration %v: buckets hold %d attempts; want 5000 (late records go to the last bucket)", d, sum)
		}
	}
}

// checkInvariants checks the summary invariants on the whole run and every
// tenant.
func checkInvariants(t *testing.T, s *Summary) {
	t.Helper()
	check := func(name string, st *Stats) {
		r := st.Requests
		if sum := r.Succeeded + r.GaveUp + r.FailedPermanent + r.RejectedClientSide + r.InFlight; sum != r.Total {
			t.Errorf("%s: requests.total %d != succeeded+gave_up+failed_permanent+rejected_client_side+in_flight %d", name, r.Total, sum)
		}
		var sum uint64
		for _, n := range st.Attempts.ByStatus {
			sum += n
		}
		if sum != st.Attempts.Total {
			t.Errorf("%s: Σ by_status %d != attempts.total %d", name, sum, st.Attempts.Total)
		}
	}
	check("overall", &s.Stats)
	var total uint64
	for name, st := range s.Tenants {
		check("tenant "+name, st)
		total += st.Requests.Total
	}
	if total != s.Requests.Total {
		t.Errorf("Σ tenants' requests.total %d != requests.total %d", total, s.Requests.Total)
	}
}

func TestSummaryInvariantsAndCounts(t *testing.T) {
	t.Parallel()
	recs := synth(1, 2000)
	r := newTestRecorder(20 * time.Second)
	feed(r, recs)
	s := r.Summary(testMeta())
	checkInvariants(t, s)

	// Count the stream independently.
	var attempts, retries, ok, first, ended, inflight uint64
	byStatus := map[int]uint64{}
	for _, rec := range recs {
		if a := rec.attempt; a != nil {
			attempts++
			byStatus[a.Status]++
			if a.Number > 1 {
				retries++
			} else {
				first++
			}
		}
		if o := rec.outcome; o != nil {
			if o.Kind == sim.Succeeded {
				ok++
			}
			if o.Attempts > 0 {
				ended++
			}
			if o.Kind == sim.InFlight {
				inflight++
			}
		}
	}
	if s.Attempts.Total != attempts || s.Attempts.Retries != retries {
		t.Errorf("attempts = %d (retries %d); want %d (%d)", s.Attempts.Total, s.Attempts.Retries, attempts, retries)
	}
	for st, n := range byStatus {
		if got := s.Attempts.ByStatus[strconv.Itoa(st)]; got != n {
			t.Errorf("by_status[%d] = %d; want %d", st, got, n)
		}
	}
	if s.Requests.Succeeded != ok {
		t.Errorf("succeeded = %d; want %d", s.Requests.Succeeded, ok)
	}
	if want := inflight + first - ended; s.Requests.InFlight != want || want < 2 {
		t.Errorf("in_flight = %d; want %d (≥ 2: the stream leaves requests open)", s.Requests.InFlight, want)
	}
	if s.Requests.RejectedClientSide == 0 || s.Requests.GaveUp == 0 || s.Requests.FailedPermanent == 0 {
		t.Errorf("requests = %+v; want every outcome kind present", s.Requests)
	}
	ra := s.RetryAfter
	if ra.Seen == 0 || ra.Honoured == 0 || ra.Ignored == 0 || ra.Invalid == 0 || ra.Clamped == 0 {
		t.Errorf("retry_after = %+v; want every count > 0", ra)
	}
	if s.Amplification <= 1 || s.SuccessRate <= 0 || s.SuccessRate >= 1 {
		t.Errorf("amplification %v, success_rate %v; want > 1 and in (0, 1)", s.Amplification, s.SuccessRate)
	}
	if s.Latency.P50 <= 0.02 || s.Latency.Max < 5 || s.TimeToSuccess.P99 < s.TimeToSuccess.P50 {
		t.Errorf("latency %+v, time to success %+v; want p50 > 20ms, max ≥ 5s, p99 ≥ p50", s.Latency, s.TimeToSuccess)
	}
}

func TestSeriesMatchesTotals(t *testing.T) {
	t.Parallel()
	r := newTestRecorder(20 * time.Second)
	feed(r, synth(2, 2000))
	se, err := r.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	s := r.Summary(testMeta())
	for _, ts := range se.Tenants {
		st := s.Tenants[ts.Name]
		var att, arr, succ, gave, fail, lat uint64
		for _, b := range ts.Buckets {
			att += b.Attempts.Total()
			arr += b.Arrivals
			succ += b.Successes
			gave += b.GaveUp
			fail += b.FailedPermanent
			for _, bc := range b.LatencyBins {
				lat += bc[1]
			}
		}
		if att != st.Attempts.Total || lat != att {
			t.Errorf("tenant %s: buckets hold %d attempts (%d latencies); want %d", ts.Name, att, lat, st.Attempts.Total)
		}
		if want := st.Requests.Total; arr != want {
			t.Errorf("tenant %s: buckets hold %d arrivals; want requests.total %d", ts.Name, arr, want)
		}
		if succ != st.Requests.Succeeded || gave != st.Requests.GaveUp || fail != st.Requests.FailedPermanent {
			t.Errorf("tenant %s: buckets hold succeeded/gave_up/failed %d/%d/%d; want %+v", ts.Name, succ, gave, fail, st.Requests)
		}
		if len(ts.Buckets) != len(se.Circuit) {
			t.Errorf("tenant %s: %d buckets; want %d (aligned with circuit)", ts.Name, len(ts.Buckets), len(se.Circuit))
		}
	}
}

// TestCircuitSeries checks the circuit state per bucket: the most severe
// state seen in a bucket, carried forward until the next observation.
func TestCircuitSeries(t *testing.T) {
	t.Parallel()
	r := newTestRecorder(10 * time.Second)
	r.RecordAttempt(&sim.Attempt{Number: 1, Status: 200, Sent: t0.Add(7500 * time.Millisecond)})
	r.ObserveCircuit(t0.Add(2100*time.Millisecond), sim.CircuitClosed)
	r.ObserveCircuit(t0.Add(2500*time.Millisecond), sim.CircuitOpen)
	r.ObserveCircuit(t0.Add(4200*time.Millisecond), sim.CircuitHalfOpen)
	r.ObserveCircuit(t0.Add(4300*time.Millisecond), sim.CircuitClosed)
	s, err := r.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	want := []int{-1, -1, 2, 2, 2, 0, 0, 0}
	if len(s.Circuit) != len(want) {
		t.Fatalf("Series().Circuit = %v; want %v", s.Circuit, want)
	}
	for i := range want {
		if s.Circuit[i] != want[i] {
			t.Fatalf("Series().Circuit = %v; want %v", s.Circuit, want)
		}
	}
}

// TestDeterminism feeds the same stream twice and requires byte-identical
// summary.json and series.json, and the same summary from the series.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	th, err := ParseThreshold("success_rate >= 50%")
	if err != nil {
		t.Fatal(err)
	}
	render := func() (sum, ser, fromSeries []byte) {
		r := newTestRecorder(20 * time.Second)
		feed(r, synth(3, 3000))
		var a, b, c bytes.Buffer
		if err := r.Summary(testMeta(th)).WriteJSON(&a); err != nil {
			t.Fatal(err)
		}
		se, err := r.Series()
		if err != nil {
			t.Fatal(err)
		}
		if err := se.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		s2, err := se.Summary(testMeta(th))
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.WriteJSON(&c); err != nil {
			t.Fatal(err)
		}
		return a.Bytes(), b.Bytes(), c.Bytes()
	}
	s1, se1, f1 := render()
	s2, se2, _ := render()
	if !bytes.Equal(s1, s2) {
		t.Error("summary.json differs between two identical streams")
	}
	if !bytes.Equal(se1, se2) {
		t.Error("series.json differs between two identical streams")
	}
	if !bytes.Equal(s1, f1) {
		t.Errorf("Series.Summary differs from Recorder.Summary:\n%s\nvs\n%s", f1, s1)
	}
}

// TestMergeShards splits one stream into two shards by request and checks
// that merging their series gives exactly the unsharded summary and buckets.
func TestMergeShards(t *testing.T) {
	t.Parallel()
	recs := synth(4, 3000)
	whole := newTestRecorder(20 * time.Second)
	feed(whole, recs)
	shards := []*Recorder{newTestRecorder(20 * time.Second), newTestRecorder(20 * time.Second)}
	for _, rec := range recs {
		switch {
		case rec.attempt != nil:
			shards[rec.attempt.Request%2].RecordAttempt(rec.attempt)
		case rec.outcome != nil:
			shards[rec.outcome.Request%2].RecordOutcome(rec.outcome)
		default:
			for _, s := range shards {
				s.ObserveCircuit(rec.circuit.t, rec.circuit.s)
			}
		}
	}
	var parts []*Series
	for _, s := range shards {
		se, err := s.Series()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, se)
	}
	merged, err := MergeSeries(parts...)
	if err != nil {
		t.Fatalf("MergeSeries: %v", err)
	}
	ms, err := merged.Summary(testMeta())
	if err != nil {
		t.Fatal(err)
	}
	var got, want bytes.Buffer
	_ = ms.WriteJSON(&got)
	_ = whole.Summary(testMeta()).WriteJSON(&want)
	if got.String() != want.String() {
		t.Errorf("merged summary differs from the unsharded one:\n%s\nwant\n%s", got.String(), want.String())
	}
	ws, _ := whole.Series()
	for i := range ws.Tenants {
		for j := range ws.Tenants[i].Buckets {
			w, g := ws.Tenants[i].Buckets[j], merged.Tenants[i].Buckets[j]
			if w.Attempts != g.Attempts || w.Arrivals != g.Arrivals || w.LatencyP99 != g.LatencyP99 || w.Successes != g.Successes {
				t.Fatalf("tenant %s bucket %d: merged %+v; want %+v", ws.Tenants[i].Name, j, g, w)
			}
		}
	}
	if _, err := MergeSeries(parts[0], &Series{Version: SeriesVersion, BucketSeconds: 5}); err == nil {
		t.Error("MergeSeries(1 s and 5 s buckets) = nil error; want an error")
	}
}

func TestDroppedRecords(t *testing.T) {
	t.Parallel()
	r := newTestRecorder(10 * time.Second)
	r.RecordAttempt(&sim.Attempt{Tenant: 2, Number: 1, Status: 200, Sent: t0})
	r.RecordAttempt(&sim.Attempt{Tenant: -1, Number: 1, Status: 200, Sent: t0})
	r.RecordOutcome(&sim.Outcome{Tenant: 0, Kind: sim.OutcomeKind(99)})
	if got := r.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d; want 3", got)
	}
	if s := r.Summary(testMeta()); s.Requests.Total != 0 || s.Attempts.Total != 0 {
		t.Errorf("Summary() counts dropped records: %+v %+v", s.Requests, s.Attempts)
	}
}

// TestCodeCardinality checks that error codes from a hostile server cannot
// grow the label set without bound.
func TestCodeCardinality(t *testing.T) {
	t.Parallel()
	r := newTestRecorder(10 * time.Second)
	for i := range 500 {
		r.RecordAttempt(&sim.Attempt{Number: 1, Status: 400, Code: "code_" + strconv.Itoa(i), Sent: t0})
	}
	s := r.Summary(testMeta())
	if len(s.Attempts.ByCode) != maxCodes+1 || s.Attempts.ByCode["other"] != 500-maxCodes {
		t.Errorf("by_code has %d codes, other = %d; want %d codes and other = %d", len(s.Attempts.ByCode),
			s.Attempts.ByCode["other"], maxCodes+1, 500-maxCodes)
	}
	checkInvariants(t, s)
}

func TestRecordAllocs(t *testing.T) {
	r := newTestRecorder(time.Minute)
	a := &sim.Attempt{Number: 2, Status: 429, Code: "rate_limit_exceeded", Sent: t0.Add(time.Second),
		Latency: 80 * time.Millisecond, RetryAfterStatus: sim.RetryAfterValid, RetryAfter: time.Second,
		Retry: true, Delay: 1500 * time.Millisecond, Limits: sim.RateLimits{Tier: "tier1", RemainingMinute: 3}}
	o := &sim.Outcome{Kind: sim.Succeeded, Attempts: 2, Arrived: t0, Ended: t0.Add(3 * time.Second)}
	r.RecordAttempt(a)
	if n := testing.AllocsPerRun(1000, func() { a.Sent = a.Sent.Add(time.Millisecond); r.RecordAttempt(a) }); n != 0 {
		t.Errorf("RecordAttempt allocates %v times per call; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { r.RecordOutcome(o) }); n != 0 {
		t.Errorf("RecordOutcome allocates %v times per call; want 0", n)
	}
}

func BenchmarkRecordAttempt(b *testing.B) {
	r := newTestRecorder(24 * time.Hour)
	recs := synth(5, 4096)
	var as []*sim.Attempt
	for _, rec := range recs {
		if rec.attempt != nil {
			as = append(as, rec.attempt)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.RecordAttempt(as[i%len(as)])
	}
}

func BenchmarkRecordOutcome(b *testing.B) {
	r := newTestRecorder(24 * time.Hour)
	o := &sim.Outcome{Kind: sim.Succeeded, Attempts: 2, Arrived: t0, Ended: t0.Add(3 * time.Second)}
	b.ReportAllocs()
	for b.Loop() {
		r.RecordOutcome(o)
	}
}

// TestConcurrentRecording feeds one stream from several goroutines while
// scraping, and requires the same summary as a sequential feed. The circuit
// observations all go to the first goroutine, in order, as a live run's
// single poller makes them (a bucket keeps the last state observed).
func TestConcurrentRecording(t *testing.T) {
	t.Parallel()
	recs := synth(10, 2000)
	seq := newTestRecorder(20 * time.Second)
	feed(seq, recs)

	par := newTestRecorder(20 * time.Second)
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var part []record
			for i := range recs {
				if recs[i].circuit != nil && w == 0 || recs[i].circuit == nil && i%workers == w {
					part = append(part, recs[i])
				}
			}
			feed(par, part)
		})
	}
	wg.Go(func() {
		for range 20 {
			_ = testutil.CollectAndCount(par.Collector())
			_ = par.Summary(testMeta())
		}
	})
	wg.Wait()
	var a, b bytes.Buffer
	_ = seq.Summary(testMeta()).WriteJSON(&a)
	_ = par.Summary(testMeta()).WriteJSON(&b)
	if a.String() != b.String() {
		t.Errorf("concurrent summary differs from sequential:\n%s\nwant\n%s", b.String(), a.String())
	}
}

// TestIndexCache checks the cached bucket index against the division it
// replaces, for times visited out of order, before the start and past the
// last bucket.
func TestIndexCache(t *testing.T) {
	t.Parallel()
	r := newTestRecorder(10 * time.Second) // 1 s buckets, 10 + 1 + 64 = 75 of them
	want := func(d time.Duration) int {
		switch {
		case d < 0:
			return 0
		case int(d/time.Second) >= r.maxBuckets:
			return r.maxBuckets - 1
		}
		return int(d / time.Second)
	}
	tests := []time.Duration{
		0,                      // bucket 0, as cached at creation
		999 * time.Millisecond, // still bucket 0
		time.Second,            // first ns of bucket 1
		-time.Nanosecond,       // before the start: bucket 0
		time.Second,            // back to bucket 1 after a miss
		2*time.Second - 1,      // last ns of bucket 1, from the cache
		74 * time.Second,       // the last bucket
		1000 * time.Hour,       // far past the end: the last bucket, cached
		74*time.Second - 1,     // just before the last bucket
		75 * time.Second,       // just past the last bucket
		-1000 * time.Hour,      // far before the start
		5*time.Second + 1,      // a bucket in the middle
		5*time.Second + 2,      // same bucket, from the cache
		6*time.Second - 1,      // same bucket's last ns
		6 * time.Second,        // next bucket
	}
	for _, d := range tests {
		if got := r.index(t0.Add(d).UnixNano()); got != want(d) {
			t.Errorf("index(start%+v) = %d; want %d", d, got, want(d))
		}
	}
}

// TestCountsMatchSummary: Counts gives what Summary's run-wide Stats give
// (requests, successes, in flight, attempts by status), while records are
// still coming (a prefix of the stream, with requests not ended yet) and at
// the end.
func TestCountsMatchSummary(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		recs := synth(seed, 3000)
		r := newTestRecorder(20 * time.Second)
		fed := 0
		for _, cut := range []int{0, len(recs) / 3, len(recs)} {
			feed(r, recs[fed:cut])
			fed = cut
			got := r.Counts()
			s := r.Summary(testMeta()).Stats
			byStatus := map[string]uint64{}
			last := -1
			for _, sc := range got.ByStatus {
				if sc.Status <= last {
					t.Fatalf("seed %d: Counts.ByStatus not ascending: %v", seed, got.ByStatus)
				}
				last = sc.Status
				byStatus[strconv.Itoa(sc.Status)] = sc.Count
			}
			if got.Requests != s.Requests.Total || got.Succeeded != s.Requests.Succeeded || got.InFlight != s.Requests.InFlight ||
				got.Attempts != s.Attempts.Total || !maps.Equal(byStatus, s.Attempts.ByStatus) {
				t.Errorf("seed %d, %d records fed: Counts = %+v; Summary has requests %d, succeeded %d, in flight %d, attempts %d by status %v",
					seed, cut, got, s.Requests.Total, s.Requests.Succeeded, s.Requests.InFlight, s.Attempts.Total, s.Attempts.ByStatus)
			}
		}
	}
}
