package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/loadsim/loadsim/sim"
)

// SeriesVersion is the version of the series.json schema written by this
// package.
const SeriesVersion = 1

// Series is the content of series.json: a run's time buckets per tenant and
// its run-wide aggregates in mergeable form. Everything in it adds up across
// shards of one run (MergeSeries), and a Summary can be recomputed from it
// exactly (Series.Summary). The schema is documented in docs/results.md.
type Series struct {
	Version       int            `json:"version"`
	Start         time.Time      `json:"start"`          // start of bucket 0, UTC
	BucketSeconds int64          `json:"bucket_seconds"` // width of every bucket, whole seconds
	Circuit       []int          `json:"circuit"`        // per bucket: most severe server circuit state seen (0 closed, 1 half-open, 2 open); -1 before the first observation
	Tenants       []TenantSeries `json:"tenants"`        // in scenario order; every tenant has len(Circuit) buckets
}

// TenantSeries is one tenant's part of a Series.
type TenantSeries struct {
	Name    string   `json:"name"`
	Totals  Totals   `json:"totals"`
	Buckets []Bucket `json:"buckets"`
}

// Totals are one tenant's run-wide aggregates, as kept in series.json.
type Totals struct {
	Requests     map[string]uint64 `json:"requests"`       // recorded outcomes by kind (in_flight, succeeded, gave_up, failed_permanent, rejected_client_side)
	Started      uint64            `json:"started"`        // first attempts seen
	Ended        uint64            `json:"ended"`          // outcomes of requests that sent an attempt
	Attempts     uint64            `json:"attempts"`       // attempts sent
	RetriesSent  uint64            `json:"retries_sent"`   // attempts with number > 1
	ByStatusCode []StatusCodeCount `json:"by_status_code"` // attempts by (status, error code), sorted
	Retries      map[string]uint64 `json:"retries"`        // retry decisions by reason
	StopReasons  map[string]uint64 `json:"stop_reasons"`   // outcomes by the stop reason of their last attempt
	RetryAfter   RetryAfter        `json:"retry_after"`
	Histograms   Histograms        `json:"histograms"`
}

// StatusCodeCount is the number of attempts answered with one status and
// error code (status 0 = transport error; code "" = none).
type StatusCodeCount struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Count  uint64 `json:"count"`
}

// Histograms are run-wide HDR histograms of microseconds (1 µs to 24 h, 3
// significant digits), each in HdrHistogram's base64 V2 compressed encoding
// (hdrhistogram.Decode reads it; so do the Java and other ports).
type Histograms struct {
	Latency       string `json:"latency"`         // per attempt, send to response (2xx: headers; else end of body)
	TimeToSuccess string `json:"time_to_success"` // per succeeded request, arrival to success
	Backoff       string `json:"backoff"`         // per retry decision, the delay chosen
}

// Bucket is one tenant's activity during one time bucket [start + i·width,
// start + (i+1)·width). Attempts, arrivals and retries are bucketed by the time
// an attempt was sent; successes, give-ups and permanent failures by the time
// the request ended.
type Bucket struct {
	Arrivals        uint64        `json:"arrivals"` // logical requests that arrived (offered)
	Attempts        StatusClasses `json:"attempts"`
	Successes       uint64        `json:"successes"`
	Retries         uint64        `json:"retries"` // attempts after which the strategy decided to retry
	GaveUp          uint64        `json:"gave_up"`
	FailedPermanent uint64        `json:"failed_permanent"`
	// Lowest quota remaining seen in X-RateLimit-Remaining-* headers (-1 =
	// unlimited); absent when no response in the bucket carried them.
	QuotaMinuteRemaining *int64 `json:"quota_minute_remaining,omitempty"`
	QuotaDayRemaining    *int64 `json:"quota_day_remaining,omitempty"`
	// Quantiles in seconds read from the bins below (0 when empty).
	LatencyP50       float64 `json:"latency_p50"`
	LatencyP99       float64 `json:"latency_p99"`
	TimeToSuccessP50 float64 `json:"time_to_success_p50"`
	TimeToSuccessP99 float64 `json:"time_to_success_p99"`
	// Log-bucketed histograms, sparse: [bin, count] pairs in increasing bin
	// order. Bins 0–3 hold 0–3 µs; bin i ≥ 4 holds [(4+i%4)·2^(i/4−1),
	// (5+i%4)·2^(i/4−1)) µs.
	LatencyBins       [][2]uint64 `json:"latency_bins,omitempty"`
	TimeToSuccessBins [][2]uint64 `json:"time_to_success_bins,omitempty"`
}

// StatusClasses counts attempts by status class.
type StatusClasses struct {
	S2xx  uint64 `json:"2xx"`
	S429  uint64 `json:"429"`
	S500  uint64 `json:"500"`
	S503  uint64 `json:"503"`
	S5xx  uint64 `json:"5xx"`   // 5xx other than 500 and 503
	S4xx  uint64 `json:"4xx"`   // 4xx other than 429
	S0    uint64 `json:"0"`     // transport errors
	Other uint64 `json:"other"` // 1xx, 3xx and invalid statuses
}

// Total returns the number of attempts of every class.
func (c StatusClasses) Total() uint64 {
	return c.S2xx + c.S429 + c.S500 + c.S503 + c.S5xx + c.S4xx + c.S0 + c.Other
}

// Width returns the bucket width.
func (s *Series) Width() time.Duration { return time.Duration(s.BucketSeconds) * time.Second }

// Overall returns the buckets of all tenants added together (quota fields are
// left out: quotas are per key).
func (s *Series) Overall() []Bucket {
	out := make([]Bucket, len(s.Circuit))
	acc := make([]bucket, len(s.Circuit))
	for _, t := range s.Tenants {
		for i := range t.Buckets {
			if i < len(acc) {
				b, _ := importBucket(&t.Buckets[i])
				addBucket(&acc[i], &b)
			}
		}
	}
	for i := range acc {
		acc[i].quotaSeen = false
		out[i] = exportBucket(&acc[i])
	}
	return out
}

// Series returns the recorder's current aggregates as a Series. It may be
// called during a run (a consistent snapshot) or after it.
func (r *Recorder) Series() (*Series, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.circuit)
	for i := range r.tenants {
		n = max(n, len(r.tenants[i].buckets))
	}
	s := &Series{Version: SeriesVersion, Start: r.start.UTC(), BucketSeconds: int64(r.width / time.Second),
		Circuit: exportCircuit(r.circuit, n), Tenants: make([]TenantSeries, len(r.tenants))}
	for i := range r.tenants {
		t := &r.tenants[i]
		tot, err := exportTotals(&t.totals)
		if err != nil {
			return nil, fmt.Errorf("series of tenant %q: %w", r.names[i], err)
		}
		bs := make([]Bucket, n)
		for j := range t.buckets {
			bs[j] = exportBucket(&t.buckets[j])
		}
		s.Tenants[i] = TenantSeries{Name: r.names[i], Totals: tot, Buckets: bs}
	}
	return s, nil
}

func exportCircuit(cs []circuitBucket, n int) []int {
	out := make([]int, n)
	carry := -1
	for i := range out {
		v := carry
		if i < len(cs) && cs[i].seen {
			v = max(carry, int(cs[i].max))
			carry = int(cs[i].last)
		}
		out[i] = v
	}
	return out
}

func exportBucket(b *bucket) Bucket {
	out := Bucket{
		Arrivals: b.arrivals,
		Attempts: StatusClasses{S2xx: b.classes[class2xx], S429: b.classes[class429], S500: b.classes[class500],
			S503: b.classes[class503], S5xx: b.classes[class5xx], S4xx: b.classes[class4xx], S0: b.classes[class0],
			Other: b.classes[classOther]},
		Successes: b.successes, Retries: b.retries, GaveUp: b.gaveUp, FailedPermanent: b.failedPermanent,
		LatencyP50: b.latency.quantile(0.5), LatencyP99: b.latency.quantile(0.99),
		TimeToSuccessP50: b.timeToSuccess.quantile(0.5), TimeToSuccessP99: b.timeToSuccess.quantile(0.99),
		LatencyBins: sparseBins(&b.latency), TimeToSuccessBins: sparseBins(&b.timeToSuccess),
	}
	if b.quotaSeen {
		m, d := b.quotaMinute, b.quotaDay
		out.QuotaMinuteRemaining, out.QuotaDayRemaining = &m, &d
	}
	return out
}

func sparseBins(h *logHist) [][2]uint64 {
	var out [][2]uint64
	for i, c := range h {
		if c != 0 {
			out = append(out, [2]uint64{uint64(i), uint64(c)})
		}
	}
	return out
}

func importBucket(b *Bucket) (bucket, error) {
	c := b.Attempts
	out := bucket{arrivals: b.Arrivals, successes: b.Successes, retries: b.Retries, gaveUp: b.GaveUp,
		failedPermanent: b.FailedPermanent}
	out.classes = [numClasses]uint64{class2xx: c.S2xx, class429: c.S429, class500: c.S500, class503: c.S503,
		class5xx: c.S5xx, class4xx: c.S4xx, class0: c.S0, classOther: c.Other}
	if b.QuotaMinuteRemaining != nil && b.QuotaDayRemaining != nil {
		out.quotaSeen, out.quotaMinute, out.quotaDay = true, *b.QuotaMinuteRemaining, *b.QuotaDayRemaining
	}
	for _, p := range [...]struct {
		bins [][2]uint64
		h    *logHist
		name string
	}{{b.LatencyBins, &out.latency, "latency_bins"}, {b.TimeToSuccessBins, &out.timeToSuccess, "time_to_success_bins"}} {
		for _, bc := range p.bins {
			if bc[0] >= logBins {
				return bucket{}, fmt.Errorf("%s: bin %d out of range [0, %d)", p.name, bc[0], logBins)
			}
			p.h[bc[0]] += uint32(bc[1])
		}
	}
	return out, nil
}

// addBucket adds b into acc; quotas keep the minimum seen.
func addBucket(acc, b *bucket) {
	acc.arrivals += b.arrivals
	for i := range acc.classes {
		acc.classes[i] += b.classes[i]
	}
	acc.successes += b.successes
	acc.retries += b.retries
	acc.gaveUp += b.gaveUp
	acc.failedPermanent += b.failedPermanent
	if b.quotaSeen {
		if !acc.quotaSeen {
			acc.quotaSeen, acc.quotaMinute, acc.quotaDay = true, b.quotaMinute, b.quotaDay
		} else {
			acc.quotaMinute = min(acc.quotaMinute, b.quotaMinute)
			acc.quotaDay = min(acc.quotaDay, b.quotaDay)
		}
	}
	for i := range acc.latency {
		acc.latency[i] += b.latency[i]
		acc.timeToSuccess[i] += b.timeToSuccess[i]
	}
}

func exportTotals(t *totals) (Totals, error) {
	out := Totals{Requests: map[string]uint64{}, Started: t.started, Ended: t.ended, Attempts: t.attempts,
		RetriesSent: t.retriesSent, Retries: map[string]uint64{}, StopReasons: map[string]uint64{},
		RetryAfter: RetryAfter{Seen: t.retryAfter.seen, Honoured: t.retryAfter.honoured,
			Ignored: t.retryAfter.ignored, Invalid: t.retryAfter.invalid, Clamped: t.retryAfter.clamped}}
	for k, n := range t.outcomes {
		out.Requests[sim.OutcomeKind(k).String()] = n
	}
	for k, n := range t.stops {
		out.StopReasons[sim.StopReason(k).String()] = n
	}
	for k, n := range t.retries {
		out.Retries[retryReasonNames[k]] = n
	}
	out.ByStatusCode = sortedPairs(t.pairs)
	var err error
	for _, h := range [...]struct {
		dst *string
		src *hdr.Histogram
	}{{&out.Histograms.Latency, t.latency.hist()}, {&out.Histograms.TimeToSuccess, t.timeToSuccess.hist()},
		{&out.Histograms.Backoff, t.backoff.hist()}} {
		var b []byte
		if b, err = h.src.Encode(hdr.V2CompressedEncodingCookieBase); err != nil {
			return Totals{}, fmt.Errorf("encode histogram: %w", err)
		}
		*h.dst = string(b)
	}
	return out, nil
}

func sortedPairs(ps []statusCode) []StatusCodeCount {
	out := make([]StatusCodeCount, 0, len(ps))
	for _, p := range ps {
		out = append(out, StatusCodeCount{Status: p.status, Code: p.code, Count: p.n})
	}
	slices.SortFunc(out, func(a, b StatusCodeCount) int {
		if a.Status != b.Status {
			return a.Status - b.Status
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}

// importTotals converts series.json totals back into aggregates (without the
// Prometheus bucket counters, which series.json does not keep).
func importTotals(in *Totals) (totals, error) {
	t := newTotals()
	t.started, t.ended, t.attempts, t.retriesSent = in.Started, in.Ended, in.Attempts, in.RetriesSent
	ra := in.RetryAfter
	t.retryAfter = retryAfterCounts{seen: ra.Seen, honoured: ra.Honoured, ignored: ra.Ignored,
		invalid: ra.Invalid, clamped: ra.Clamped}
	if err := fillCounts(t.outcomes[:], in.Requests, "requests", func(i int) string { return sim.OutcomeKind(i).String() }); err != nil {
		return totals{}, err
	}
	if err := fillCounts(t.stops[:], in.StopReasons, "stop_reasons", func(i int) string { return sim.StopReason(i).String() }); err != nil {
		return totals{}, err
	}
	if err := fillCounts(t.retries[:], in.Retries, "retries", func(i int) string { return retryReasonNames[i] }); err != nil {
		return totals{}, err
	}
	for _, p := range in.ByStatusCode {
		t.countPair(p.Status, p.Code, p.Count)
	}
	for _, h := range [...]struct {
		src, name string
		dst       *durHist
	}{{in.Histograms.Latency, "latency", &t.latency}, {in.Histograms.TimeToSuccess, "time_to_success", &t.timeToSuccess},
		{in.Histograms.Backoff, "backoff", &t.backoff}} {
		if h.src == "" {
			continue
		}
		d, err := hdr.Decode([]byte(h.src))
		if err != nil {
			return totals{}, fmt.Errorf("histograms.%s: %w", h.name, err)
		}
		h.dst.merge(d)
	}
	return t, nil
}

func fillCounts(dst []uint64, src map[string]uint64, field string, name func(int) string) error {
	for k, n := range src {
		found := false
		for i := range dst {
			if name(i) == k {
				dst[i] += n
				found = true
				break
			}
		}
		if !found {
			valid := make([]string, len(dst))
			for i := range dst {
				valid[i] = name(i)
			}
			return fmt.Errorf("%s: unknown key %q (valid: %s)", field, k, strings.Join(valid, ", "))
		}
	}
	return nil
}

// addTotals adds b into acc.
func addTotals(acc, b *totals) {
	for i := range acc.outcomes {
		acc.outcomes[i] += b.outcomes[i]
	}
	for i := range acc.stops {
		acc.stops[i] += b.stops[i]
	}
	for i := range acc.retries {
		acc.retries[i] += b.retries[i]
	}
	acc.started += b.started
	acc.ended += b.ended
	acc.attempts += b.attempts
	acc.retriesSent += b.retriesSent
	for _, p := range b.pairs {
		acc.countPair(p.status, p.code, p.n)
	}
	acc.retryAfter.seen += b.retryAfter.seen
	acc.retryAfter.honoured += b.retryAfter.honoured
	acc.retryAfter.ignored += b.retryAfter.ignored
	acc.retryAfter.invalid += b.retryAfter.invalid
	acc.retryAfter.clamped += b.retryAfter.clamped
	for _, h := range [...][2]*durHist{{&acc.latency, &b.latency}, {&acc.timeToSuccess, &b.timeToSuccess},
		{&acc.backoff, &b.backoff}} {
		h[0].add(h[1])
	}
}

// MergeSeries merges the series of shards of one run into one: totals and
// bucket counts add, histograms merge exactly, quotas keep the minimum
// remaining seen, circuit states the most severe. Series must share the bucket
// width; they are aligned on the earliest start, each shifted by its start
// offset rounded to whole buckets. Tenants match by name, in order of first
// appearance.
func MergeSeries(parts ...*Series) (*Series, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge series: no series given")
	}
	start := parts[0].Start
	for i, p := range parts {
		if p.Version != SeriesVersion {
			return nil, fmt.Errorf("merge series: part %d has version %d; this loadsim reads version %d", i+1, p.Version, SeriesVersion)
		}
		if p.BucketSeconds != parts[0].BucketSeconds || p.BucketSeconds <= 0 {
			return nil, fmt.Errorf("merge series: part %d has bucket_seconds %d, part 1 has %d; merge only shards of one run", i+1, p.BucketSeconds, parts[0].BucketSeconds)
		}
		if p.Start.Before(start) {
			start = p.Start
		}
	}
	width := parts[0].Width()
	type acc struct {
		name    string
		tot     totals
		buckets []bucket
	}
	var tenants []*acc
	var circuit []int
	for pi, p := range parts {
		off := int((p.Start.Sub(start) + width/2) / width)
		for i, c := range p.Circuit {
			for len(circuit) <= off+i {
				circuit = append(circuit, -1)
			}
			circuit[off+i] = max(circuit[off+i], c)
		}
		for _, ts := range p.Tenants {
			var a *acc
			for _, t := range tenants {
				if t.name == ts.Name {
					a = t
				}
			}
			if a == nil {
				a = &acc{name: ts.Name, tot: newTotals()}
				tenants = append(tenants, a)
			}
			tot, err := importTotals(&ts.Totals)
			if err != nil {
				return nil, fmt.Errorf("merge series: part %d, tenant %q: %w", pi+1, ts.Name, err)
			}
			addTotals(&a.tot, &tot)
			for i := range ts.Buckets {
				b, err := importBucket(&ts.Buckets[i])
				if err != nil {
					return nil, fmt.Errorf("merge series: part %d, tenant %q, bucket %d: %w", pi+1, ts.Name, i, err)
				}
				for len(a.buckets) <= off+i {
					a.buckets = append(a.buckets, bucket{})
				}
				addBucket(&a.buckets[off+i], &b)
			}
		}
	}
	n := len(circuit)
	for _, a := range tenants {
		n = max(n, len(a.buckets))
	}
	for len(circuit) < n {
		circuit = append(circuit, -1)
	}
	out := &Series{Version: SeriesVersion, Start: start.UTC(), BucketSeconds: parts[0].BucketSeconds, Circuit: circuit}
	for _, a := range tenants {
		tot, err := exportTotals(&a.tot)
		if err != nil {
			return nil, fmt.Errorf("merge series: tenant %q: %w", a.name, err)
		}
		bs := make([]Bucket, n)
		for i := range a.buckets {
			bs[i] = exportBucket(&a.buckets[i])
		}
		out.Tenants = append(out.Tenants, TenantSeries{Name: a.name, Totals: tot, Buckets: bs})
	}
	return out, nil
}
