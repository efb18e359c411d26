package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/loadsim/loadsim/sim"
)

// Engine names for Meta.Engine and summary.json's "engine".
const (
	EngineLive      = "live"
	EngineSimulated = "simulated"
)

// Meta is what a summary needs to know beyond the records: the run's
// identity and plan. It holds no wall-clock facts, so that the same records
// and Meta give a byte-identical summary.json.
type Meta struct {
	Scenario string        // scenario name
	Engine   string        // EngineLive or EngineSimulated
	Seed     uint64        // the run's seed
	Duration time.Duration // time covered by the run: the planned duration, or less when Partial
	// Partial reports that the run stopped before its plan ended and its
	// results are incomplete; PartialReason says why (PartialInterrupted or
	// PartialMaxRequests; "" when not Partial, or unknown).
	Partial       bool
	PartialReason string
	// MaxRequests is the run's cap on attempts (run --max-requests; 0 = none).
	MaxRequests uint64
	// Shard is "k/N" when the run offered shard k of N of the scenario's
	// traffic (run --shard; Seed is then the run's, not the shard's derived
	// seed), "" for a whole run.
	Shard string

	// OfferedRPS is the planned arrival rate over the run, all tenants
	// (requests/s); TenantOfferedRPS the same per tenant name (absent = 0).
	// For a Partial run they are the arrivals the profiles planned before
	// the run stopped, per second of Duration: the same span as the
	// achieved rates, so that a shortfall means the runner fell behind.
	OfferedRPS       float64
	TenantOfferedRPS map[string]float64

	// Thresholds are evaluated into Summary.Thresholds, in this order.
	Thresholds []Threshold

	// Incidents are the upstream incidents the run's API model played (the
	// simulator's, or the in-process mock's), since the run's start; none
	// against a real API. The summary compares goodput before, during and
	// after them (Stats.IncidentGoodput).
	Incidents []Window
}

// Window is a span of a run: Duration from Start, since the run's start.
type Window struct {
	Start, Duration time.Duration
}

// Partial reasons: Meta.PartialReason and summary.json's "partial_reason".
const (
	// PartialInterrupted: the run was stopped by the user (Ctrl-C, SIGTERM)
	// or its context was cancelled.
	PartialInterrupted = "interrupted"
	// PartialMaxRequests: the run reached its cap on attempts (run
	// --max-requests; Meta.MaxRequests holds it).
	PartialMaxRequests = "max_requests"
)

// Summary is the content of summary.json: the run's identity, its overall
// statistics (Stats, inlined), the same per tenant and the threshold
// verdicts. Field names are part of the file format (docs/results.md).
type Summary struct {
	Scenario        string  `json:"scenario"`
	Engine          string  `json:"engine"`
	Seed            uint64  `json:"seed"`
	DurationSeconds float64 `json:"duration_seconds"`
	Partial         bool    `json:"partial"`
	// PartialReason is Meta.PartialReason: why a partial run stopped
	// ("interrupted", "max_requests"); absent for a complete run.
	PartialReason string `json:"partial_reason,omitempty"`
	// MaxRequests is Meta.MaxRequests, the cap on attempts; absent without one.
	MaxRequests uint64 `json:"max_requests,omitempty"`
	Shard       string `json:"shard,omitempty"` // "k/N" for one shard of a run (Meta.Shard), absent for a whole run
	Stats
	// Circuit is how long the server's circuit was open and half-open,
	// to the time bucket; absent when no state was observed (a real API).
	Circuit *CircuitStats `json:"circuit,omitempty"`
	// Incidents are Meta.Incidents in seconds; absent when none.
	Incidents  []IncidentWindow  `json:"incidents,omitempty"`
	Tenants    map[string]*Stats `json:"tenants"`
	Thresholds []ThresholdResult `json:"thresholds"`
}

// Stats are the statistics of a set of records (a whole run or one tenant).
type Stats struct {
	OfferedRPS float64 `json:"offered_rps"` // planned arrivals per second
	// AchievedRPS is logical requests issued per second: requests.total /
	// duration_seconds (compare with offered_rps to see a runner falling
	// behind its plan).
	AchievedRPS float64 `json:"achieved_rps"`
	// GoodputRPS is succeeded requests per second.
	GoodputRPS float64  `json:"goodput_rps"`
	Requests   Requests `json:"requests"`
	Attempts   Attempts `json:"attempts"`
	// Amplification is attempts.total / requests.total (0 without requests).
	Amplification float64 `json:"amplification"`
	// SuccessRate is requests.succeeded / requests.total (0 without requests).
	SuccessRate   float64    `json:"success_rate"`
	RetryAfter    RetryAfter `json:"retry_after"`
	Latency       Quantiles  `json:"latency_seconds"`         // per attempt
	TimeToSuccess Quantiles  `json:"time_to_success_seconds"` // arrival to success, backoff included
	Backoff       Quantiles  `json:"backoff_seconds"`         // delays chosen before retries
	// Retries counts the strategy's decisions to retry, by the failure that
	// caused them: rate_limited (429), internal_error (500), unavailable
	// (503), server_error (other 5xx), transport_error, other.
	Retries map[string]uint64 `json:"retries_by_reason"`
	// StopReasons counts requests by the stop reason of their last attempt.
	StopReasons map[string]uint64 `json:"stop_reasons"`
	// First429Seconds is when the quota first refused an attempt: the start
	// of the first time bucket (series.json's bucket_seconds) with a 429,
	// in seconds since the run's start; absent when no attempt got one.
	First429Seconds *float64 `json:"first_429_seconds,omitempty"`
	// IncidentGoodput is the goodput before, during and after the run's
	// upstream incidents (Summary.Incidents), to the bucket; absent when
	// the run had none.
	IncidentGoodput *IncidentGoodput `json:"incident_goodput,omitempty"`
}

// IncidentWindow is an upstream incident of the run, in seconds since its
// start.
type IncidentWindow struct {
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// IncidentGoodput is succeeded requests per second around the run's
// upstream incidents, counted by the time buckets whose start lies in each
// window (so to the bucket): during each incident, in a window as long
// just before it, and in one as long just after it (what a retry strategy
// does to recovery: a storm of retries keeps goodput down after the
// upstream is back). Windows are clipped to the run's buckets; over several
// incidents their successes and seconds add up.
type IncidentGoodput struct {
	BeforeRPS float64 `json:"before_rps"`
	DuringRPS float64 `json:"during_rps"`
	AfterRPS  float64 `json:"after_rps"`
}

// sentSuccessRate is the success rate of the requests the client sent:
// those it refused before sending (a mix's invalid share, its own
// throttling) left out, as they never reach the API whatever its tier.
func (s *Stats) sentSuccessRate() float64 {
	return ratio(float64(s.Requests.Succeeded), float64(s.Requests.Total-s.Requests.RejectedClientSide))
}

// CircuitStats summarises the server's circuit over a run from the
// series' per-bucket states (the most severe seen in each bucket, the last
// one carried into buckets without an observation), so to the bucket: a
// period open from 12.7 s to 16.7 s in 1 s buckets counts 5 s, from 12 s.
type CircuitStats struct {
	// OpenSeconds is the total width of the buckets in which the circuit was
	// open at some point.
	OpenSeconds float64 `json:"open_seconds"`
	// OpenPeriods counts the runs of consecutive such buckets: how many
	// times the circuit opened, as far as buckets tell them apart.
	OpenPeriods int `json:"open_periods"`
	// FirstOpenSeconds is the start of the first such bucket, in seconds
	// since the run's start; absent when the circuit never opened.
	FirstOpenSeconds *float64 `json:"first_open_seconds,omitempty"`
	// HalfOpenSeconds is the total width of the buckets whose most severe
	// state was half-open.
	HalfOpenSeconds float64 `json:"half_open_seconds"`
}

// timeline is what a summary reads of the time buckets: per tenant, the
// index of its first bucket with a 429 (-1: none); per bucket, the
// circuit's state as series.json's circuit gives it (-1: none observed);
// the buckets' width.
type timeline struct {
	width     time.Duration
	first429  []int
	circuit   []int
	successes [][]uint64 // per tenant, per bucket: requests that succeeded in it
}

// orZero returns the goodputs, all 0 for a nil g (a run without
// incidents).
func (g *IncidentGoodput) orZero() IncidentGoodput {
	if g == nil {
		return IncidentGoodput{}
	}
	return *g
}

// incidentGoodput returns the goodput around incidents of the buckets'
// successes, nil without incidents.
func (tl *timeline) incidentGoodput(incidents []Window, successes []uint64) *IncidentGoodput {
	if len(incidents) == 0 || tl.width <= 0 {
		return nil
	}
	// add adds to n[k] the successes of the buckets whose start lies in
	// [from, to), and to secs[k] the seconds they span.
	var n [3]uint64
	var secs [3]float64
	add := func(k int, from, to time.Duration) {
		first := max(0, int((from+tl.width-1)/tl.width))
		end := min(len(tl.circuit), int((to+tl.width-1)/tl.width))
		for j := first; j < end; j++ {
			if j < len(successes) {
				n[k] += successes[j]
			}
			secs[k] += tl.width.Seconds()
		}
	}
	for _, w := range incidents {
		add(0, w.Start-w.Duration, w.Start)
		add(1, w.Start, w.Start+w.Duration)
		add(2, w.Start+w.Duration, w.Start+2*w.Duration)
	}
	return &IncidentGoodput{BeforeRPS: ratio(float64(n[0]), secs[0]), DuringRPS: ratio(float64(n[1]), secs[1]),
		AfterRPS: ratio(float64(n[2]), secs[2])}
}

// circuitStats returns the circuit's summary, nil when no bucket has an
// observed state.
func (tl *timeline) circuitStats() *CircuitStats {
	w := tl.width.Seconds()
	var c CircuitStats
	seen := false
	for i, st := range tl.circuit {
		seen = seen || st >= 0
		switch sim.CircuitState(st) {
		case sim.CircuitOpen:
			c.OpenSeconds += w
			if i == 0 || tl.circuit[i-1] != st {
				c.OpenPeriods++
			}
			if c.FirstOpenSeconds == nil {
				at := float64(i) * w
				c.FirstOpenSeconds = &at
			}
		case sim.CircuitHalfOpen:
			c.HalfOpenSeconds += w
		}
	}
	if !seen {
		return nil
	}
	return &c
}

// first429At returns the start of bucket i in seconds, nil for i < 0.
func (tl *timeline) first429At(i int) *float64 {
	if i < 0 {
		return nil
	}
	at := float64(i) * tl.width.Seconds()
	return &at
}

// Requests counts logical requests by outcome. Invariant: Total = Succeeded +
// GaveUp + FailedPermanent + RejectedClientSide + InFlight.
type Requests struct {
	Total              uint64 `json:"total"`
	Succeeded          uint64 `json:"succeeded"`
	GaveUp             uint64 `json:"gave_up"`
	FailedPermanent    uint64 `json:"failed_permanent"`
	RejectedClientSide uint64 `json:"rejected_client_side"`
	InFlight           uint64 `json:"in_flight"` // unfinished when the run stopped (or when the summary was taken)
}

// Attempts counts attempts sent. Invariant: the sum of ByStatus = Total.
type Attempts struct {
	Total    uint64            `json:"total"`
	Retries  uint64            `json:"retries"`   // attempts after the first of their request
	ByStatus map[string]uint64 `json:"by_status"` // by HTTP status in decimal; "0" = transport error
	ByCode   map[string]uint64 `json:"by_code"`   // by non-empty error.code
}

// RetryAfter counts Retry-After headers: Seen (any, valid or not), Honoured
// (followed by a retry whose delay ≥ the parsed value), Ignored (followed by a
// retry sooner than that), Invalid (garbage or negative, ignored), Clamped
// (absurdly large, clamped by the strategy).
type RetryAfter struct {
	Seen     uint64 `json:"seen"`
	Honoured uint64 `json:"honoured"`
	Ignored  uint64 `json:"ignored"`
	Invalid  uint64 `json:"invalid"`
	Clamped  uint64 `json:"clamped"`
}

// Quantiles of a duration distribution, in seconds (0 when empty), from an HDR
// histogram with 3 significant digits.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Summary returns the summary of everything recorded so far, with meta's
// identity and thresholds. The same records and meta give the same Summary
// (and byte-identical JSON), whatever the order of tenants' interleaving.
func (r *Recorder) Summary(meta Meta) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := make([]*totals, len(r.tenants))
	n := len(r.circuit) // as Series: every tenant's buckets and the circuit's
	tl := timeline{width: r.width, first429: make([]int, len(r.tenants)), successes: make([][]uint64, len(r.tenants))}
	for i := range r.tenants {
		t := &r.tenants[i]
		ts[i] = &t.totals
		n = max(n, len(t.buckets))
		tl.first429[i] = slices.IndexFunc(t.buckets, func(b bucket) bool { return b.classes[class429] > 0 })
		if len(meta.Incidents) > 0 {
			tl.successes[i] = make([]uint64, len(t.buckets))
			for j := range t.buckets {
				tl.successes[i][j] = t.buckets[j].successes
			}
		}
	}
	tl.circuit = exportCircuit(r.circuit, n)
	return summarize(meta, r.names, ts, &tl)
}

// Counts is a snapshot of the run-wide counters a progress line shows, as
// Summary's Stats would give them, without the histograms' quantiles.
type Counts struct {
	Requests  uint64        // Requests.Total
	Succeeded uint64        // Requests.Succeeded
	InFlight  uint64        // Requests.InFlight: ended in flight, or no outcome yet
	Attempts  uint64        // Attempts.Total
	ByStatus  []StatusCount // Attempts.ByStatus, by ascending status
}

// StatusCount is the number of attempts answered with one HTTP status.
type StatusCount struct {
	Status int
	Count  uint64
}

// Counts returns the counters of every tenant together. It holds the
// recorder's lock for a few microseconds, where Summary, which reads every
// histogram, holds it for milliseconds: a live run's once-a-second progress
// line reads this.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	var c Counts
	for i := range r.tenants {
		t := &r.tenants[i].totals
		for k, n := range t.outcomes {
			c.Requests += n
			switch sim.OutcomeKind(k) {
			case sim.Succeeded:
				c.Succeeded += n
			case sim.InFlight:
				c.InFlight += n
			}
		}
		pending := t.pending()
		c.Requests += pending
		c.InFlight += pending
		c.Attempts += t.attempts
		for _, p := range t.pairs {
			j, found := slices.BinarySearchFunc(c.ByStatus, p.status, func(s StatusCount, status int) int { return s.Status - status })
			if !found {
				c.ByStatus = slices.Insert(c.ByStatus, j, StatusCount{Status: p.status})
			}
			c.ByStatus[j].Count += p.n
		}
	}
	return c
}

// Summary recomputes the summary of a (possibly merged) series; it equals
// the Recorder's Summary for the same records.
func (s *Series) Summary(meta Meta) (*Summary, error) {
	names := make([]string, len(s.Tenants))
	ts := make([]*totals, len(s.Tenants))
	tl := timeline{width: s.Width(), first429: make([]int, len(s.Tenants)), circuit: s.Circuit,
		successes: make([][]uint64, len(s.Tenants))}
	for i := range s.Tenants {
		t, err := importTotals(&s.Tenants[i].Totals)
		if err != nil {
			return nil, fmt.Errorf("summary of tenant %q: %w", s.Tenants[i].Name, err)
		}
		names[i], ts[i] = s.Tenants[i].Name, &t
		bs := s.Tenants[i].Buckets
		tl.first429[i] = slices.IndexFunc(bs, func(b Bucket) bool { return b.Attempts.S429 > 0 })
		if len(meta.Incidents) > 0 {
			tl.successes[i] = make([]uint64, len(bs))
			for j := range bs {
				tl.successes[i][j] = bs[j].Successes
			}
		}
	}
	return summarize(meta, names, ts, &tl), nil
}

// summarize builds the summary of tenants names with totals ts and
// timeline tl.
func summarize(meta Meta, names []string, ts []*totals, tl *timeline) *Summary {
	secs := meta.Duration.Seconds()
	s := &Summary{Scenario: meta.Scenario, Engine: meta.Engine, Seed: meta.Seed, DurationSeconds: round6(secs),
		Partial: meta.Partial, PartialReason: meta.PartialReason, MaxRequests: meta.MaxRequests, Shard: meta.Shard, Tenants: make(map[string]*Stats, len(names)), Thresholds: []ThresholdResult{}}
	for _, w := range meta.Incidents {
		s.Incidents = append(s.Incidents, IncidentWindow{StartSeconds: round6(w.Start.Seconds()), DurationSeconds: round6(w.Duration.Seconds())})
	}
	all := newTotals()
	var allSuccesses []uint64
	first := -1 // the first bucket with a 429, of any tenant
	for i, t := range ts {
		st := statsOf(t, secs, meta.TenantOfferedRPS[names[i]])
		st.First429Seconds = tl.first429At(tl.first429[i])
		st.IncidentGoodput = tl.incidentGoodput(meta.Incidents, tl.successes[i])
		for j, n := range tl.successes[i] {
			if j == len(allSuccesses) {
				allSuccesses = append(allSuccesses, 0)
			}
			allSuccesses[j] += n
		}
		if f := tl.first429[i]; f >= 0 && (first < 0 || f < first) {
			first = f
		}
		s.Tenants[names[i]] = &st
		addTotals(&all, t)
	}
	s.Stats = statsOf(&all, secs, meta.OfferedRPS)
	s.First429Seconds = tl.first429At(first)
	s.IncidentGoodput = tl.incidentGoodput(meta.Incidents, allSuccesses)
	s.Circuit = tl.circuitStats()
	s.Thresholds = EvaluateThresholds(s, meta.Thresholds)
	return s
}

func statsOf(t *totals, secs, offered float64) Stats {
	pending := t.pending()
	req := Requests{
		Succeeded:          t.outcomes[sim.Succeeded],
		GaveUp:             t.outcomes[sim.GaveUp],
		FailedPermanent:    t.outcomes[sim.FailedPermanent],
		RejectedClientSide: t.outcomes[sim.RejectedClientSide],
		InFlight:           t.outcomes[sim.InFlight] + pending,
	}
	req.Total = req.Succeeded + req.GaveUp + req.FailedPermanent + req.RejectedClientSide + req.InFlight
	att := Attempts{Total: t.attempts, Retries: t.retriesSent, ByStatus: map[string]uint64{}, ByCode: map[string]uint64{}}
	for _, p := range t.pairs {
		att.ByStatus[strconv.Itoa(p.status)] += p.n
		if p.code != "" {
			att.ByCode[p.code] += p.n
		}
	}
	st := Stats{
		OfferedRPS: round6(offered), AchievedRPS: ratio(float64(req.Total), secs),
		GoodputRPS: ratio(float64(req.Succeeded), secs), Requests: req, Attempts: att,
		Amplification: ratio(float64(att.Total), float64(req.Total)),
		SuccessRate:   ratio(float64(req.Succeeded), float64(req.Total)),
		RetryAfter: RetryAfter{Seen: t.retryAfter.seen, Honoured: t.retryAfter.honoured,
			Ignored: t.retryAfter.ignored, Invalid: t.retryAfter.invalid, Clamped: t.retryAfter.clamped},
		Latency: t.latency.quantiles(), TimeToSuccess: t.timeToSuccess.quantiles(), Backoff: t.backoff.quantiles(),
		Retries: map[string]uint64{}, StopReasons: map[string]uint64{},
	}
	for i, n := range t.retries {
		st.Retries[retryReasonNames[i]] = n
	}
	for i, n := range t.stops {
		if r := sim.StopReason(i); r != sim.StopNone {
			st.StopReasons[r.String()] = n
		}
	}
	return st
}

// PartialCause says in words why a partial run stopped, for the outputs:
// "interrupted", or "stopped at the attempt cap (--max-requests N)"; "" for a
// complete run or a partial one whose reason is unknown (a summary.json
// written before partial_reason existed).
func (s *Summary) PartialCause() string {
	if !s.Partial {
		return ""
	}
	switch s.PartialReason {
	case PartialInterrupted:
		return "interrupted"
	case PartialMaxRequests:
		if s.MaxRequests == 0 {
			return "stopped at the attempt cap (--max-requests)"
		}
		return fmt.Sprintf("stopped at the attempt cap (--max-requests %d)", s.MaxRequests)
	}
	return ""
}

// ratio returns a/b rounded to 6 decimals, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round6(a / b)
}

// round6 rounds to 6 decimals, so that summaries print stable, short floats.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
