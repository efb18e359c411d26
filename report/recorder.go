package report

import (
	"math"
	"math/bits"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/loadsim/loadsim/sim"
)

// MaxBuckets is the number of time buckets a planned duration is divided into
// at most; see BucketWidth.
const MaxBuckets = 1000

// Histogram ranges: every HDR histogram records microseconds from 1 µs to one
// day with 3 significant digits (a relative error ≤ 0.1 %); larger values are
// recorded as one day.
const (
	hdrLowest  = 1
	hdrHighest = int64(24 * time.Hour / time.Microsecond)
	hdrDigits  = 3
)

// maxCodes bounds the distinct error codes kept per tenant; later codes are
// counted as "other" (codes come from responses, which a real API controls).
const maxCodes = 32

// maxCodeLen bounds the length of a kept error code.
const maxCodeLen = 64

// BucketWidth returns the width of the time buckets for a run planned to last
// planned: max(1 s, ⌈planned / 1000⌉ rounded up to whole seconds), so that a
// run has at most about MaxBuckets buckets whatever its length (1 s for runs
// up to 16m40s, 87 s for 24 h). A planned duration ≤ 0 gives 1 s.
func BucketWidth(planned time.Duration) time.Duration {
	if planned <= 0 {
		return time.Second
	}
	per := (planned + MaxBuckets - 1) / MaxBuckets // ceil(planned / 1000)
	secs := (per + time.Second - 1) / time.Second  // rounded up to whole seconds
	if secs < 1 {
		secs = 1
	}
	return secs * time.Second
}

// RecorderConfig configures a Recorder. It is declared configuration: a plain
// struct, read once by NewRecorder.
type RecorderConfig struct {
	// Tenants are the tenants' names in scenario order: sim.Attempt.Tenant and
	// sim.Outcome.Tenant index this slice. Names label metrics and results
	// (never keys). Records naming another index are dropped and counted
	// (Recorder.Dropped).
	Tenants []string

	// Start is the start of the run on the engine's clock (wall clock for live
	// runs, virtual for simulations); bucket 0 begins here. Records before
	// Start fall in bucket 0.
	Start time.Time

	// Duration is the planned duration of the run. It sets the bucket width
	// (BucketWidth) and the number of buckets kept: ⌈Duration / width⌉ plus
	// 10 % and 64 buckets of slack for retries and draining after the end;
	// later records accumulate in the last bucket. Zero means unknown: 1 s
	// buckets, at most MaxBuckets of them.
	Duration time.Duration
}

// statusClass indexes the attempt counters of a time bucket.
type statusClass uint8

const (
	class2xx statusClass = iota
	class429
	class500
	class503
	class5xx   // other 5xx
	class4xx   // other 4xx
	class0     // transport error
	classOther // 1xx, 3xx, invalid
	numClasses
)

func classOf(status int) statusClass {
	switch {
	case status == 0:
		return class0
	case status >= 200 && status < 300:
		return class2xx
	case status == 429:
		return class429
	case status == 500:
		return class500
	case status == 503:
		return class503
	case status >= 500 && status < 600:
		return class5xx
	case status >= 400 && status < 500:
		return class4xx
	}
	return classOther
}

// retryReason indexes retry counters: why the strategy retried, by the status
// of the attempt that failed.
type retryReason uint8

const (
	reasonRateLimited    retryReason = iota // 429
	reasonInternalError                     // 500
	reasonUnavailable                       // 503
	reasonServerError                       // other 5xx
	reasonTransportError                    // status 0
	reasonOther                             // anything else
	numRetryReasons
)

var retryReasonNames = [numRetryReasons]string{"rate_limited", "internal_error", "unavailable",
	"server_error", "transport_error", "other"}

func reasonOf(status int) retryReason {
	switch {
	case status == 429:
		return reasonRateLimited
	case status == 500:
		return reasonInternalError
	case status == 503:
		return reasonUnavailable
	case status > 500 && status < 600:
		return reasonServerError
	case status == 0:
		return reasonTransportError
	}
	return reasonOther
}

// statusCode is one (status, error code) pair and its attempt count.
type statusCode struct {
	status int
	code   string
	n      uint64
}

// retryAfterCounts counts Retry-After headers.
type retryAfterCounts struct {
	seen, honoured, ignored, invalid, clamped uint64
}

// promBoundsNs are the upper bounds (le) of the Prometheus histogram buckets,
// in nanoseconds; see promBounds for the same in seconds.
var promBoundsNs = [...]int64{5e6, 1e7, 2.5e7, 5e7, 1e8, 2.5e8, 5e8, 1e9, 2.5e9, 5e9, 1e10, 3e10, 6e10, 1.2e11, 3e11, 6e11}

const numPromBounds = len(promBoundsNs)

// The layout of an HDR histogram of hdrLowest…hdrHighest with hdrDigits
// (hdrhistogram-go's geometry for them): values below 2^(hdrSubHalfMag+1) µs
// have a count each, then every power of two has 2^hdrSubHalfMag counts;
// hdrCountsLen counts in all. TestHDRLayout checks these against the library.
const (
	hdrSubHalfMag = 10
	hdrSubMask    = 1<<(hdrSubHalfMag+1) - 1
	hdrCountsLen  = 28 << hdrSubHalfMag
)

// hdrIndex returns the index of us (0 ≤ us ≤ hdrHighest) in the counts of an
// HDR histogram of that layout, as the library computes it when recording.
func hdrIndex(us int64) int {
	b := 64 - bits.LeadingZeros64(uint64(us|hdrSubMask)) - (hdrSubHalfMag + 1)
	return (b+1)<<hdrSubHalfMag + int(us>>uint(b)) - 1<<hdrSubHalfMag
}

// durHist is a run-wide duration histogram: the counts of an HDR histogram
// (µs, hdrIndex's layout) for summaries and merges, plus per-bucket counters
// and a sum for Prometheus. Recording counts directly rather than through
// hdr.Histogram.RecordValue saves the simulator a call and its loads of the
// histogram's geometry per record; hist reads them as an hdr.Histogram. The
// counts cover the layout's first indexes only as far as a value has
// reached (at most hdrCountsLen): durations seldom use more than the first
// 60 %, and a sweep of hundreds of short runs would otherwise zero three
// full layouts per tenant per run, and again for each summary.
type durHist struct {
	counts []int64                   // indexes ≥ len(counts) count 0
	prom   [numPromBounds + 1]uint64 // non-cumulative; the last is +Inf
	sumNs  int64
}

func newDurHist() durHist { return durHist{} }

// at returns the count of index i (< hdrCountsLen), extending the counts to
// it if needed.
func (d *durHist) at(i int) *int64 {
	if i >= len(d.counts) {
		d.grow(i)
	}
	return &d.counts[i]
}

// grow extends the counts to cover index i (< hdrCountsLen): at least
// doubled, at least the values below 2^(hdrSubHalfMag+1) µs.
func (d *durHist) grow(i int) {
	n := min(max(i+1, 2*len(d.counts), 2<<hdrSubHalfMag), hdrCountsLen)
	d.counts = append(d.counts, make([]int64, n-len(d.counts))...)
}

// hist returns the recorded durations as an HDR histogram (a copy).
func (d *durHist) hist() *hdr.Histogram {
	return hdr.Import(&hdr.Snapshot{LowestTrackableValue: hdrLowest, HighestTrackableValue: hdrHighest,
		SignificantFigures: hdrDigits, Counts: d.counts})
}

// hdrHighestAt returns the highest value that counts index i stands for
// (hdrIndex's inverse, at the top of the index's range): the value the
// library reports for a quantile or the maximum that falls on index i.
func hdrHighestAt(i int) int64 {
	b := i>>hdrSubHalfMag - 1
	if b < 0 {
		return int64(i) // one index per value below 2^(hdrSubHalfMag+1)
	}
	sub := int64(i&(1<<hdrSubHalfMag-1) + 1<<hdrSubHalfMag)
	return sub<<b + 1<<b - 1
}

// quantiles returns p50, p90, p99 and the maximum in seconds, as
// hdr.Histogram's ValueAtQuantile and Max give them for hist (zero when
// empty), in one pass over the counts: a summary reads them for every
// tenant, and the library's Max walks the histogram value by value and
// hist would copy it first. TestHDRQuantiles checks them against the library.
func (d *durHist) quantiles() Quantiles {
	var total int64 // wraps as the library's total does (Import)
	last := -1
	for i, c := range d.counts {
		if c > 0 {
			total += c
			last = i
		}
	}
	if total == 0 {
		return Quantiles{}
	}
	qs := [...]float64{50, 90, 99}
	var at [len(qs)]int64
	var rank [len(qs)]int64
	for k, q := range qs {
		rank[k] = percentileRank(q, total)
	}
	var cum int64
	k := 0
	for i, c := range d.counts {
		if c <= 0 {
			continue
		}
		cum += c
		for k < len(qs) && cum >= rank[k] {
			at[k] = hdrHighestAt(i)
			k++
		}
		if k == len(qs) {
			break
		}
	}
	top := int64(0) // the library's Max iterates while the running count is below the total
	if total > 0 {
		top = hdrHighestAt(last)
	}
	sec := func(us int64) float64 { return float64(us) / 1e6 }
	return Quantiles{P50: sec(at[0]), P90: sec(at[1]), P99: sec(at[2]), Max: sec(top)}
}

// percentileRank is the rank hdr.Histogram.ValueAtPercentile looks for: the
// ⌊percentile/100 · total + 0.5⌋-th value, at least the first, at most the
// last.
func percentileRank(percentile float64, total int64) int64 {
	rank := percentile/100*float64(total) + 0.5
	if !(rank >= 1) {
		return 1
	}
	if rank >= float64(total) {
		return total
	}
	return int64(rank)
}

// merge adds the values of h, as hdr.Histogram.Merge would into hist:
// count by count when h has the same layout, through the library otherwise.
func (d *durHist) merge(h *hdr.Histogram) {
	s := h.Export()
	if s.LowestTrackableValue == hdrLowest && s.HighestTrackableValue == hdrHighest &&
		s.SignificantFigures == hdrDigits && len(s.Counts) == hdrCountsLen {
		d.addCounts(s.Counts)
		return
	}
	m := d.hist()
	m.Merge(h)
	d.counts = nil
	d.addCounts(m.Export().Counts)
}

// add adds the values and Prometheus counters of o.
func (d *durHist) add(o *durHist) {
	d.addCounts(o.counts)
	for i := range d.prom {
		d.prom[i] += o.prom[i]
	}
	d.sumNs += o.sumNs
}

// addCounts adds counts of the same layout (at most hdrCountsLen); a
// negative count, or one that would overflow, is dropped (as the library
// drops what it cannot count).
func (d *durHist) addCounts(counts []int64) {
	last := len(counts) - 1
	for last >= 0 && counts[last] <= 0 {
		last--
	}
	if last < 0 {
		return
	}
	d.at(last)
	for i, c := range counts[:last+1] {
		if c > 0 && d.counts[i] <= math.MaxInt64-c {
			d.counts[i] += c
		}
	}
}

// promIndexOfBin maps a logHist bin to the Prometheus bucket holding the
// bin's lower bound; a bin spans less than the ratio between two consecutive
// bounds, so the true bucket is that one or the next.
var promIndexOfBin = func() (t [logBins]uint8) {
	for i := range t {
		lo, _ := logBinRange(i)
		j := 0
		for j < numPromBounds && int64(lo)*1000 > promBoundsNs[j] {
			j++
		}
		t[i] = uint8(j)
	}
	return t
}()

// record adds one duration; its bin (logBin of its microseconds) is passed
// in because the caller computes it anyway.
func (d *durHist) record(v time.Duration, bin int) {
	if v < 0 {
		v = 0
	}
	us := int64(v / time.Microsecond)
	if us > hdrHighest {
		us = hdrHighest
	}
	if i := hdrIndex(us); uint(i) < uint(len(d.counts)) {
		d.counts[i]++ // the usual case, with no second range check
	} else {
		d.grow(i)
		d.counts[i]++
	}
	p := int(promIndexOfBin[bin])
	for p < numPromBounds && int64(v) > promBoundsNs[p] {
		p++
	}
	d.prom[p]++
	d.sumNs += int64(v)
}

// totals are the run-wide aggregates of one tenant: what a summary is made
// of, and what series.json keeps for merging.
type totals struct {
	outcomes    [sim.NumOutcomeKinds]uint64
	stops       [sim.NumStopReasons]uint64
	started     uint64 // first attempts seen
	ended       uint64 // outcomes of requests that sent at least one attempt
	attempts    uint64
	retriesSent uint64 // attempts with Number > 1
	pairs       []statusCode
	codes       int // distinct non-empty codes in pairs
	// lastPair caches, per HTTP status 0–599, 1 + the index in pairs of the
	// last pair counted with that status (0 = none): most statuses come
	// with one code, so the hot path is one comparison.
	lastPair   *[600]int32
	retries    [numRetryReasons]uint64
	retryAfter retryAfterCounts

	latency, timeToSuccess, backoff durHist
}

func newTotals() totals {
	return totals{latency: newDurHist(), timeToSuccess: newDurHist(), backoff: newDurHist(),
		pairs: make([]statusCode, 0, 16), lastPair: new([600]int32)}
}

// countStatus adds one attempt answered (status, code).
func (t *totals) countStatus(status int, code string) {
	if uint(status) < uint(len(t.lastPair)) {
		if j := t.lastPair[status]; j > 0 {
			if p := &t.pairs[j-1]; p.code == code {
				p.n++
				return
			}
		}
	}
	t.countPair(status, code, 1)
}

// countPair adds n attempts answered (status, code).
func (t *totals) countPair(status int, code string, n uint64) {
	for i := range t.pairs {
		p := &t.pairs[i]
		if p.status == status && p.code == code {
			p.n += n
			t.remember(status, i)
			return
		}
	}
	t.addPair(status, code, n)
}

// remember caches pair i as the last one of status.
func (t *totals) remember(status, i int) {
	if uint(status) < uint(len(t.lastPair)) {
		t.lastPair[status] = int32(i) + 1
	}
}

// addPair is the rare path of countPair: a pair not seen yet.
func (t *totals) addPair(status int, code string, n uint64) {
	code = t.keepCode(code)
	for i := range t.pairs {
		if p := &t.pairs[i]; p.status == status && p.code == code {
			p.n += n
			t.remember(status, i)
			return
		}
	}
	t.pairs = append(t.pairs, statusCode{status: status, code: code, n: n})
	t.remember(status, len(t.pairs)-1)
}

// keepCode returns the code to count: truncated to maxCodeLen, and "other"
// once maxCodes distinct codes are kept.
func (t *totals) keepCode(code string) string {
	if code == "" {
		return ""
	}
	if len(code) > maxCodeLen {
		code = code[:maxCodeLen]
	}
	for _, p := range t.pairs {
		if p.code == code {
			return code
		}
	}
	if t.codes >= maxCodes {
		return "other"
	}
	t.codes++
	return code
}

// pending returns requests whose first attempt was seen and that have no
// outcome yet.
func (t *totals) pending() uint64 {
	if t.started > t.ended {
		return t.started - t.ended
	}
	return 0
}

// arrived counts the logical requests seen: those whose first attempt was
// sent, and those that ended without one (refused client-side, or in
// flight before their first attempt), as Requests.Total does once every
// request has an outcome.
func (t *totals) arrived() uint64 {
	var outcomes uint64
	for _, n := range t.outcomes {
		outcomes += n
	}
	if outcomes > t.ended {
		return t.started + outcomes - t.ended
	}
	return t.started
}

// bucket is one time bucket of one tenant.
type bucket struct {
	arrivals        uint64
	classes         [numClasses]uint64
	successes       uint64
	retries         uint64
	gaveUp          uint64
	failedPermanent uint64
	quotaSeen       bool
	quotaMinute     int64
	quotaDay        int64
	latency         logHist
	timeToSuccess   logHist
}

// circuitBucket is what ObserveCircuit saw during one time bucket.
type circuitBucket struct {
	seen      bool
	max, last sim.CircuitState
}

type tenantAgg struct {
	totals
	buckets []bucket // len grows up to cap (maxBuckets); never shrinks
}

// Recorder aggregates a run's record stream. It implements sim.Recorder and
// sim.CircuitObserver and is safe for concurrent use (one mutex; recording
// takes well under 100 ns uncontended, and allocates only when a duration
// extends a histogram's counts, at most five times per histogram). Its
// memory is bounded by the configuration (tenants and buckets), not by the
// number of records. Create it with NewRecorder; the zero value is not
// usable.
type Recorder struct {
	mu         sync.Mutex
	names      []string
	start      time.Time
	startNs    int64 // start.UnixNano()
	width      time.Duration
	widthNs    int64
	maxBuckets int
	// cacheLo, cacheHi and cacheIdx remember the last bucket index computed
	// by index: records arrive in about time order, so a time in
	// [cacheLo, cacheHi) (ns since start) needs no division. Guarded by mu.
	cacheLo, cacheHi int64
	cacheIdx         int
	tenants          []tenantAgg
	circuit          []circuitBucket
	dropped          uint64
}

var (
	_ sim.Recorder        = (*Recorder)(nil)
	_ sim.CircuitObserver = (*Recorder)(nil)
)

// NewRecorder returns an empty Recorder for cfg.
func NewRecorder(cfg RecorderConfig) *Recorder {
	width := BucketWidth(cfg.Duration)
	maxB := MaxBuckets
	if cfg.Duration > 0 {
		n := int((cfg.Duration + width - 1) / width)
		maxB = n + n/10 + 64
	}
	r := &Recorder{
		names:      append([]string(nil), cfg.Tenants...),
		start:      cfg.Start,
		startNs:    cfg.Start.UnixNano(),
		width:      width,
		widthNs:    int64(width),
		maxBuckets: maxB,
		cacheHi:    int64(width), // bucket 0: [0, width)
		tenants:    make([]tenantAgg, len(cfg.Tenants)),
		circuit:    make([]circuitBucket, 0, maxB),
	}
	for i := range r.tenants {
		r.tenants[i] = tenantAgg{totals: newTotals(), buckets: make([]bucket, 0, maxB)}
	}
	return r
}

// BucketWidth returns the width of the recorder's time buckets.
func (r *Recorder) BucketWidth() time.Duration { return r.width }

// Dropped returns how many records named a tenant index outside the
// configured tenants (or an unknown outcome kind) and were ignored.
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// index returns the bucket index of the time ns nanoseconds after the Unix
// epoch (time.Time.UnixNano). The caller holds mu (index updates the cache
// of the last bucket).
func (r *Recorder) index(ns int64) int {
	d := ns - r.startNs
	if d >= r.cacheLo && d < r.cacheHi {
		return r.cacheIdx
	}
	return r.indexSlow(d)
}

// indexSlow is index for a time d ns after start outside the cached bucket:
// it divides, and caches the bucket found.
func (r *Recorder) indexSlow(d int64) int {
	if d < 0 {
		return 0
	}
	i := d / r.widthNs
	if i >= int64(r.maxBuckets) {
		i = int64(r.maxBuckets) - 1
		r.cacheLo, r.cacheHi = i*r.widthNs, math.MaxInt64 // the last bucket takes every later record
	} else {
		r.cacheLo, r.cacheHi = i*r.widthNs, (i+1)*r.widthNs
	}
	r.cacheIdx = int(i)
	return r.cacheIdx
}

// bucketAt returns tenant t's bucket i, extending the series to it. The
// buckets slice has capacity maxBuckets and never shrinks, so reslicing
// exposes zeroed buckets and never allocates.
func (t *tenantAgg) bucketAt(i int) *bucket {
	if i >= len(t.buckets) {
		t.buckets = t.buckets[:i+1]
	}
	return &t.buckets[i]
}

// AttemptRecord is what a Recorder uses of a sim.Attempt (88 bytes instead
// of 184): the form Async copies, and the one an engine that builds its
// records itself (the simulator) gives a Sink without building a
// sim.Attempt first.
type AttemptRecord struct {
	Tenant, Status                int
	SentNs                        int64 // Sent.UnixNano()
	Latency, RetryAfter, Delay    time.Duration
	RemainingMinute, RemainingDay int64  // Limits.RemainingMinute, Limits.RemainingDay
	Code                          string // as sim.Attempt.Code
	First                         bool   // Number <= 1
	Retry                         bool
	LimitsKnown                   bool // Limits.Known()
	RetryAfterStatus              sim.RetryAfterStatus
}

// set stores a's fields into c, field by field (no temporary).
func (c *AttemptRecord) set(a *sim.Attempt) {
	c.Tenant = a.Tenant
	c.Status = a.Status
	c.SentNs = a.Sent.UnixNano()
	c.Latency = a.Latency
	c.RetryAfter = a.RetryAfter
	c.Delay = a.Delay
	c.RemainingMinute = a.Limits.RemainingMinute
	c.RemainingDay = a.Limits.RemainingDay
	c.Code = a.Code
	c.First = a.Number <= 1
	c.Retry = a.Retry
	c.LimitsKnown = a.Limits.Known()
	c.RetryAfterStatus = a.RetryAfterStatus
}

// OutcomeRecord is what a Recorder uses of a sim.Outcome (40 bytes instead
// of 80), as AttemptRecord is for attempts.
type OutcomeRecord struct {
	Tenant             int
	ArrivedNs, EndedNs int64         // Arrived.UnixNano(), Ended.UnixNano()
	Duration           time.Duration // Duration(), monotonic readings included
	Kind               sim.OutcomeKind
	Reason             sim.StopReason
	Sent               bool // Attempts > 0
}

// set stores o's fields into c, field by field (no temporary).
func (c *OutcomeRecord) set(o *sim.Outcome) {
	c.Tenant = o.Tenant
	c.ArrivedNs = o.Arrived.UnixNano()
	c.EndedNs = o.Ended.UnixNano()
	c.Duration = o.Duration()
	c.Kind = o.Kind
	c.Reason = o.Reason
	c.Sent = o.Attempts > 0
}

// Sink takes records in the compact form a Recorder keeps, for an engine
// that can build them from its own state more cheaply than a sim.Attempt
// or sim.Outcome (the simulator: virtual times are plain nanoseconds).
// *Recorder implements it, and so does the view of an Async feeding a
// *Recorder (Async.Recorder). A record passed to a Sink may be reused as
// soon as the call returns.
type Sink interface {
	AddAttempt(a *AttemptRecord)
	AddOutcome(o *OutcomeRecord)
	sim.CircuitObserver
}

var _ Sink = (*Recorder)(nil)

// AddAttempt is RecordAttempt for an attempt in compact form.
func (r *Recorder) AddAttempt(a *AttemptRecord) {
	r.mu.Lock()
	r.recordAttempt(a)
	r.mu.Unlock()
}

// AddOutcome is RecordOutcome for an outcome in compact form.
func (r *Recorder) AddOutcome(o *OutcomeRecord) {
	r.mu.Lock()
	r.recordOutcome(o)
	r.mu.Unlock()
}

// RecordAttempt adds one attempt: counters by status and code, latency,
// Retry-After handling, the strategy's retry decision and its delay, and the
// quota seen in the response's rate-limit headers. An attempt with Number ≤ 1
// marks the arrival of its logical request. The attempt is bucketed by Sent.
func (r *Recorder) RecordAttempt(a *sim.Attempt) {
	var c AttemptRecord
	c.set(a)
	r.AddAttempt(&c)
}

// recordAttempt is RecordAttempt with mu held.
func (r *Recorder) recordAttempt(a *AttemptRecord) {
	if uint(a.Tenant) >= uint(len(r.tenants)) {
		r.dropped++
		return
	}
	t := &r.tenants[a.Tenant]
	b := t.bucketAt(r.index(a.SentNs))

	t.attempts++
	if a.First {
		t.started++
		b.arrivals++
	} else {
		t.retriesSent++
	}
	b.classes[classOf(a.Status)]++
	t.countStatus(a.Status, a.Code)
	bin := logBin(durationMicros(a.Latency))
	t.latency.record(a.Latency, bin)
	b.latency[bin]++

	switch a.RetryAfterStatus {
	case sim.RetryAfterValid:
		t.retryAfter.seen++
	case sim.RetryAfterInvalid:
		t.retryAfter.seen++
		t.retryAfter.invalid++
	case sim.RetryAfterClamped:
		t.retryAfter.seen++
		t.retryAfter.clamped++
	}
	if a.Retry {
		t.retries[reasonOf(a.Status)]++
		b.retries++
		t.backoff.record(a.Delay, logBin(durationMicros(a.Delay)))
		if a.RetryAfterStatus == sim.RetryAfterValid || a.RetryAfterStatus == sim.RetryAfterClamped {
			if a.Delay >= a.RetryAfter {
				t.retryAfter.honoured++
			} else {
				t.retryAfter.ignored++
			}
		}
	}
	if a.LimitsKnown {
		// The lowest remaining seen in the bucket (as merged buckets keep
		// it): whatever order the records come in, from a live run's
		// concurrent attempts or the simulator's answers handled at once.
		if !b.quotaSeen {
			b.quotaSeen, b.quotaMinute, b.quotaDay = true, a.RemainingMinute, a.RemainingDay
		} else {
			b.quotaMinute = min(b.quotaMinute, a.RemainingMinute)
			b.quotaDay = min(b.quotaDay, a.RemainingDay)
		}
	}
}

// RecordOutcome adds how one logical request ended. Successes add their time
// to success (Outcome.Duration) to the histograms and to the bucket of Ended,
// as do give-ups and permanent failures to their counters; a request that
// sent no attempt (rejected client-side, or in flight before its first
// attempt) counts as an arrival in the bucket of Arrived.
func (r *Recorder) RecordOutcome(o *sim.Outcome) {
	var c OutcomeRecord
	c.set(o)
	r.AddOutcome(&c)
}

// recordOutcome is RecordOutcome with mu held.
func (r *Recorder) recordOutcome(o *OutcomeRecord) {
	if uint(o.Tenant) >= uint(len(r.tenants)) || int(o.Kind) >= sim.NumOutcomeKinds {
		r.dropped++
		return
	}
	t := &r.tenants[o.Tenant]
	t.outcomes[o.Kind]++
	if int(o.Reason) < sim.NumStopReasons {
		t.stops[o.Reason]++
	}
	if o.Sent {
		t.ended++
	} else {
		t.bucketAt(r.index(o.ArrivedNs)).arrivals++
	}
	switch o.Kind {
	case sim.Succeeded:
		bin := logBin(durationMicros(o.Duration))
		t.timeToSuccess.record(o.Duration, bin)
		b := t.bucketAt(r.index(o.EndedNs))
		b.successes++
		b.timeToSuccess[bin]++
	case sim.GaveUp:
		t.bucketAt(r.index(o.EndedNs)).gaveUp++
	case sim.FailedPermanent:
		t.bucketAt(r.index(o.EndedNs)).failedPermanent++
	}
}

// ObserveCircuit records the server's circuit state at t. Each time bucket
// keeps the most severe state observed in it (open > half-open > closed) and
// the last one, which carries over into the following buckets until the next
// observation.
func (r *Recorder) ObserveCircuit(t time.Time, s sim.CircuitState) {
	r.mu.Lock()
	r.observeCircuit(t, s)
	r.mu.Unlock()
}

// observeCircuit is ObserveCircuit with mu held.
func (r *Recorder) observeCircuit(t time.Time, s sim.CircuitState) {
	i := r.index(t.UnixNano())
	if i >= len(r.circuit) {
		r.circuit = r.circuit[:i+1]
	}
	c := &r.circuit[i]
	if !c.seen || s > c.max {
		c.max = s
	}
	c.last = s
	c.seen = true
}
