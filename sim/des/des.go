package des

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
)

// DefaultStart returns the virtual instant a run starts at when
// Options.Start is zero: 2026-01-05T00:00:00Z, a fixed Monday midnight UTC,
// so that runs are reproducible.
func DefaultStart() time.Time { return time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC) }

// MaxDrain is the longest a run goes on after its duration for requests
// still retrying when Options.Drain is 0.
const MaxDrain = time.Hour

// ctxEvery is how many events pass between checks of the run's context.
const ctxEvery = 1 << 16

// Options configures Run. The zero value runs the scenario's duration from
// DefaultStart() with seed 0 and records nothing.
type Options struct {
	// Seed seeds the API model, the arrival processes and the tenants'
	// generators (the caller usually passes the scenario's seed or --seed).
	Seed uint64
	// Duration is the simulated traffic duration; 0 means the scenario's.
	// No request arrives at or after it; requests that arrived before it run
	// to their end, as in a live run, bounded by Drain.
	Duration time.Duration
	// Drain bounds the time after Duration during which requests may go on
	// retrying, as attack.Options.Drain does for live runs: at the cutoff
	// Duration+Drain, a request waiting to send an attempt, or whose attempt
	// has not been answered yet, ends as in_flight (cancelled) at the cutoff;
	// the unanswered attempt is not recorded. 0 means until they end, with a
	// backstop of MaxDrain for strategies that would retry forever.
	Drain time.Duration
	// Start is the virtual time of the run's start; zero means DefaultStart().
	Start time.Time
	// Recorder receives every attempt and outcome, from the calling goroutine
	// (nil: none), in the order the engine handles them, which is not
	// quite time order: the answer to an attempt of a client without shared
	// strategy state (backoff.Policy.Shared) is handled when the attempt is
	// sent (its records carry their own times). If it implements
	// sim.CircuitObserver it also gets the server's circuit state at the
	// start and on every change. If it implements report.Sink (a
	// *report.Recorder, or an Async's view of one) it gets the records in
	// that compact form instead, which the engine builds from its virtual
	// times without converting them.
	Recorder sim.Recorder
	// Progress, when set, is called with the simulated time reached and the
	// total, about every 1 % of the duration and once at the end.
	Progress func(simulated, total time.Duration)
	// Parallel moves work off the engine's goroutine onto goroutines of
	// its own, with identical results: each tenant's arrival times are
	// computed ahead in batches, and Simulate applies the records to its
	// report recorder on a second goroutine (report.Async), in the same
	// order. It pays off when a core is free: loadsim simulate sets it when
	// GOMAXPROCS > 1; compare's parallel runs do not.
	Parallel bool

	// queueAll, for tests, sends every answer through the queue, as
	// before answers were handled at their send (see engine.sendAt).
	queueAll bool
}

// Stats counts what a run did.
type Stats struct {
	Events    uint64        // events processed
	Attempts  uint64        // attempts sent to the model (those Drain cut off unanswered included)
	Requests  uint64        // logical requests that arrived (= outcomes recorded)
	Simulated time.Duration // virtual time from the start to the last event
}

// PoolSize is how many requests each tenant draws from its mix before the
// run; every arrival then picks one of them at random. It mirrors the live
// runner's pool of pre-rendered bodies (sim/attack.PoolSize) with the same
// generator and seed, so that both engines send the same request sequence.
const PoolSize = 256

// PoolSize must be a power of two for tenant.draw.
var _ [0]struct{} = [PoolSize & (PoolSize - 1)]struct{}{}

// tenant is one tenant's run state.
type tenant struct {
	arrivals *arrivals
	pool     []scenario.Request // PoolSize draws from the tenant's mix
	reqs     []api.Request      // the pool as the model's requests
	trace    scenario.Trace
	traced   bool
	pick     *rand.Rand // draws the pool and picks from it
	pickSrc  *rand.PCG  // pick's source, read directly by draw
	seed     uint64     // the tenant's seed: request k's strategy draws come from PCG(seed, k)
	policy   *backoff.Policy
	state    *backoff.State
	key      string
	shared   bool  // policy.Shared(): its answers are handled in time order, through the queue
	rtt      int64 // network round trip, ns
	timeout  int64 // attempt timeout, ns; 0 = none
}

// slot is one logical request in flight. Slots live in a slab and are reused
// through a free list.
//
// A slot is kept small (the run's peak of pending requests, e.g. retries
// piling up in an incident, sets the simulator's memory): the request is an
// index into its tenant's pool (and its arrival index for a trace row), the
// response only what the strategy and the record need.
type slot struct {
	id       uint64
	k        uint64 // the tenant's arrival index (trace row, strategy seed)
	tenant   int32
	pick     int32 // index in the tenant's pool
	admitted bool  // Before admitted the attempt of the pending evSend (pacing wait)
	breq     backoff.Request
	// pcg is the generator of the request's strategy draws (jitter),
	// seeded per request as sim/client does.
	pcg rand.PCG

	// The request's arrival, then its current attempt: sent and answered
	// (or timed out) after latency, all virtual nanoseconds; for an answer
	// that waits in the queue (not handled at its send), the response's
	// status, code (an api.Code), Retry-After seconds and rate-limit
	// headers.
	arrived    int64
	sent       int64
	latency    int64
	timeout    bool
	code       api.Code
	status     int16
	retryAfter int32
	limits     sim.RateLimits
}

// slabShift sets the slab's chunks: 1<<slabShift slots each. Chunks are
// never moved, so growing the slab copies nothing and leaves no garbage.
const slabShift = 12

// engine is one run.
type engine struct {
	model *api.Model
	start time.Time
	// plainStart: start is in UTC and has no monotonic clock reading, so
	// at may build times from startSec and startNsec (its Unix time).
	plainStart          bool
	startSec, startNsec int64
	startNs             int64        // start.UnixNano(): a virtual offset ns is the record time startNs+ns
	end                 int64        // no arrival at or after this offset
	cutoff              int64        // Duration+Drain: no attempt sent at or after it, none answered after it
	rec                 sim.Recorder // nil when sink is set
	sink                report.Sink
	circ                sim.CircuitObserver
	circuit             sim.CircuitState

	tenants []tenant
	slab    []*[1 << slabShift]slot // chunks; an array, so a slot index within one needs no bounds check
	nslots  int32                   // slots handed out so far
	free    []int32
	q       queue
	// arrivals holds each tenant's next arrival, apart from q: one per
	// tenant, so a tiny heap, and a request's arrival costs no trip
	// through the calendar.
	arrivals heap4
	nextID   uint64
	stats    Stats
	ended    int64 // latest answer handled at its send (see sendAt), for Stats.Simulated
	queueAll bool  // Options.queueAll

	// areq, aresp and resp are scratch: the request sent to the model (for
	// a traced tenant; others' are prebuilt in tenant.reqs), its response
	// (HandleAt overwrites it whole) and the response handed to the
	// strategy.
	areq  api.Request
	aresp api.Response
	resp  backoff.Response

	// Records are built in place here, so that passing them to the recorder
	// interface allocates nothing: sim's for rec, the compact ones for sink.
	att  sim.Attempt
	out  sim.Outcome
	catt report.AttemptRecord
	cout report.OutcomeRecord
}

// Run simulates sc in virtual time and returns what it counted. It returns
// an error if the scenario's API or a strategy does not resolve, or ctx's
// error (wrapped) if ctx is cancelled; the records emitted until then stand.
// sc must come from scenario.Parse or scenario.Load. Run allocates nothing
// per event once its queue and slab have grown to the run's peak.
func Run(ctx context.Context, sc *scenario.Scenario, opts Options) (Stats, error) {
	e, err := newEngine(sc, opts)
	if err != nil {
		return Stats{}, err
	}
	defer e.closeFeeds()
	total := time.Duration(e.end)
	step := max(total/100, 1)
	nextProgress := step
	for n := uint64(0); ; n++ {
		if n%ctxEvery == 0 && n > 0 {
			if err := ctx.Err(); err != nil {
				return e.stats, fmt.Errorf("des: simulation stopped at %s of %s: %w",
					time.Duration(e.stats.Simulated), total, err)
			}
		}
		// The earliest event, of the queue's and the arrivals' (one
		// (at, seq) order: arrivals are stamped by the queue).
		var ev event
		if len(e.arrivals) > 0 {
			var ok bool
			if ev, ok = e.q.popBefore(&e.arrivals[0]); !ok {
				ev = e.arrivals.pop()
			}
		} else if e.q.Len() > 0 {
			ev = e.q.pop()
		} else {
			break
		}
		e.stats.Events++
		e.stats.Simulated = time.Duration(ev.at)
		if opts.Progress != nil && e.stats.Simulated >= nextProgress {
			opts.Progress(min(e.stats.Simulated, total), total)
			nextProgress = (e.stats.Simulated/step + 1) * step
		}
		switch ev.kind() {
		case evArrival:
			e.arrive(ev.at, int(ev.index()))
		case evSend:
			e.send(ev.at, ev.index())
		case evComplete:
			e.complete(ev.at, ev.index())
		}
	}
	e.stats.Simulated = max(e.stats.Simulated, time.Duration(e.ended))
	if err := ctx.Err(); err != nil {
		return e.stats, fmt.Errorf("des: simulation stopped at the end: %w", err)
	}
	if opts.Progress != nil {
		opts.Progress(total, total)
	}
	return e.stats, nil
}

// newEngine resolves the API and the strategies and schedules each tenant's
// first arrival.
func newEngine(sc *scenario.Scenario, opts Options) (*engine, error) {
	if sc == nil || len(sc.Tenants) == 0 {
		return nil, errors.New("des: scenario has no tenants: add at least one under tenants")
	}
	duration := opts.Duration
	if duration == 0 {
		duration = sc.Duration
	}
	if duration <= 0 {
		return nil, fmt.Errorf("des: duration %s is not positive: set the scenario's duration or Options.Duration", duration)
	}
	drain := opts.Drain
	if drain < 0 {
		return nil, fmt.Errorf("des: drain %s is negative: use 0 (until requests end) or a positive bound", drain)
	}
	if drain == 0 {
		drain = MaxDrain
	}
	start := opts.Start
	if start.IsZero() {
		start = DefaultStart()
	}
	keys := make([]string, len(sc.Tenants))
	for i, t := range sc.Tenants {
		keys[i] = t.Key
		if keys[i] == "" { // key_env tenants: any key unique to the tenant will do
			keys[i] = "cmp_loadsim_sim_" + strconv.Itoa(i)
		}
	}
	cfg := sc.API
	cfg.Keys = append(append([]api.KeyConfig(nil), sc.API.Keys...), sc.ServerKeys(keys)...)
	resolved, err := cfg.Resolve()
	if err != nil {
		return nil, fmt.Errorf("des: scenario api section: %w", err)
	}
	e := &engine{
		model:      api.New(resolved, start, opts.Seed),
		start:      start,
		plainStart: start.Location() == time.UTC && start == start.Round(0),
		startSec:   start.Unix(),
		startNsec:  int64(start.Nanosecond()),
		startNs:    start.UnixNano(),
		end:        int64(duration),
		cutoff:     int64(duration + drain),
		rec:        opts.Recorder,
		queueAll:   opts.queueAll,
		tenants:    make([]tenant, len(sc.Tenants)),
	}
	if sink, ok := opts.Recorder.(report.Sink); ok {
		e.rec, e.sink = nil, sink
	}
	if c, ok := opts.Recorder.(sim.CircuitObserver); ok {
		e.circ = c
		e.circuit = e.model.Circuit(start)
		c.ObserveCircuit(start, e.circuit)
	}
	for i := range sc.Tenants {
		t := &sc.Tenants[i]
		policy, err := t.Client.Strategy.Config.Resolve()
		if err != nil {
			e.closeFeeds()
			return nil, fmt.Errorf("des: tenant %q client.strategy: %w", t.Name, err)
		}
		// As sim/attack: the pool and its picks from PCG(ts, ts^φ), the
		// strategy's draws for the request with vegeta sequence k from
		// PCG(ts, k) (sim/client).
		ts := scenario.TenantSeed(opts.Seed, i)
		tn := &e.tenants[i]
		*tn = tenant{
			arrivals: newArrivals(scenario.Arrivals(sc.Profile(i, opts.Seed), duration), opts.Parallel),
			pool:     make([]scenario.Request, PoolSize),
			pickSrc:  rand.NewPCG(ts, ts^0x9e3779b97f4a7c15),
			seed:     ts,
			policy:   policy,
			state:    policy.NewState(),
			shared:   policy.Shared(),
			key:      keys[i],
			rtt:      int64(t.Client.RTT()),
			timeout:  int64(t.Client.AttemptTimeout()),
		}
		tn.pick = rand.New(tn.pickSrc)
		sampler := sc.Sampler(i)
		tn.reqs = make([]api.Request, PoolSize)
		for j := range tn.pool {
			tn.pool[j] = sampler.Draw(tn.pick)
			tn.reqs[j] = apiRequest(tn.pool[j], tn.key)
			e.model.Bind(&tn.reqs[j])
		}
		tn.trace, tn.traced = sc.Trace(i)
		if at, ok := tn.arrivals.next(); ok {
			e.arrivals.push(e.q.stamp(newEvent(int64(at), evArrival, int32(i))))
		}
	}
	return e, nil
}

// closeFeeds stops the tenants' arrival feeds (Options.Parallel).
func (e *engine) closeFeeds() {
	for i := range e.tenants {
		if a := e.tenants[i].arrivals; a != nil {
			a.close()
		}
	}
}

// at returns the wall time of virtual offset ns (≥ 0): start.Add(ns). For
// a start in UTC without a monotonic reading (DefaultStart, a parsed time)
// it builds the same value from start's Unix time, which costs half of
// Time.Add's checks; the engine calls it several times per attempt.
func (e *engine) at(ns int64) time.Time {
	if !e.plainStart {
		return e.start.Add(time.Duration(ns))
	}
	return time.Unix(e.startSec+ns/1e9, e.startNsec+ns%1e9).UTC()
}

// arrive handles tenant ti's arrival at now: it schedules the tenant's next
// arrival, draws the request and either rejects it client-side or asks the
// strategy for its first attempt.
func (e *engine) arrive(now int64, ti int) {
	t := &e.tenants[ti]
	k := t.arrivals.count - 1
	if at, ok := t.arrivals.next(); ok {
		e.arrivals.push(e.q.stamp(newEvent(int64(at), evArrival, int32(ti))))
	}
	e.stats.Requests++
	e.nextID++
	pick := t.draw()
	if t.policy.ValidateFirst && t.refused(pick, k) {
		e.outcome(ti, e.nextID, sim.RejectedClientSide, sim.StopRejectedClientSide, 0, now, now)
		return
	}
	si := e.alloc()
	s := e.slot(si)
	s.id, s.k, s.tenant, s.pick, s.admitted, s.arrived = e.nextID, k, int32(ti), pick, false, now
	s.pcg.Seed(t.seed, k)
	nowT := e.sharedTime(t, now)
	s.breq = backoff.Request{Arrived: nowT}
	e.sendAt(now, nowT, si, s)
}

// refused reports whether the client refuses request pick, the tenant's
// arrival k, before sending it: as sim/client's APIValidator, only bodies
// the API would refuse with 400 or 422. For a tenant without a trace the
// model's prebuilt request says so (apiRequest sets its Problem for exactly
// those two), and the model reads that request next anyway: the pool's
// entry, a random pick among PoolSize and so a likely cache miss, stays
// untouched.
func (t *tenant) refused(pick int32, k uint64) bool {
	if !t.traced {
		return t.reqs[pick].Problem != api.OK
	}
	return t.refusedTraced(pick, k)
}

// refusedTraced is refused for a tenant with a trace, whose row for the
// arrival may change the request.
func (t *tenant) refusedTraced(pick int32, k uint64) bool {
	invalid := t.pool[pick].Invalid
	if row, ok := t.trace.Row(k); ok {
		invalid = row.Apply(t.pool[pick]).Invalid
	}
	return invalid == scenario.InvalidRequest || invalid == scenario.InvalidValidation
}

// draw picks the next request from the pool: t.pick.IntN(PoolSize), which
// for a power of two is the source's next value masked (as math/rand/v2
// computes it), without the call through the rand.Source interface.
func (t *tenant) draw() int32 {
	return int32(t.pickSrc.Uint64() & (PoolSize - 1))
}

// apiRequest builds the model's request for a draw, as the API would decode
// the body the live targeter renders for it.
func apiRequest(r scenario.Request, key string) api.Request {
	req := api.Request{Route: r.Endpoint, Key: key, Model: r.Model, Ratio: 0.5, Items: r.Items, Tokens: r.TotalTokens()}
	switch r.Invalid {
	case scenario.InvalidMissingKey:
		req.Key = ""
	case scenario.InvalidKey:
		req.Key = scenario.InvalidAPIKey
	case scenario.InvalidRequest:
		req.Problem, req.ProblemMessage = api.InvalidRequest, "target_compression_ratio must be a number"
	case scenario.InvalidValidation:
		req.Problem, req.ProblemMessage = api.ValidationError, "compression_model_name is required"
	}
	return req
}

// slot returns slot si.
func (e *engine) slot(si int32) *slot { return &e.slab[si>>slabShift][si&(1<<slabShift-1)] }

// alloc returns a free slot's index, adding a chunk to the slab when none is
// free.
func (e *engine) alloc() int32 {
	if n := len(e.free); n > 0 {
		si := e.free[n-1]
		e.free = e.free[:n-1]
		return si
	}
	si := e.nslots
	if int(si>>slabShift) == len(e.slab) {
		e.slab = append(e.slab, new([1 << slabShift]slot))
	}
	e.nslots++
	return si
}

// request returns the model's request for slot s of tenant t.
func (e *engine) request(t *tenant, s *slot) *api.Request {
	if !t.traced {
		return &t.reqs[s.pick]
	}
	return e.requestTraced(t, s)
}

// requestTraced is request for a tenant with a trace, whose row for the
// arrival may change the request: built in the engine's scratch request.
func (e *engine) requestTraced(t *tenant, s *slot) *api.Request {
	r := t.pool[s.pick]
	if row, ok := t.trace.Row(s.k); ok {
		r = row.Apply(r)
	}
	e.areq = apiRequest(r, t.key)
	return &e.areq
}

// release ends slot si's request.
func (e *engine) release(si int32) { e.free = append(e.free, si) }

// send handles a request's attempt falling due at now: past the cutoff it is
// cancelled; otherwise the strategy admits it (perhaps after a pacing wait)
// or stops the request, and an admitted attempt goes to the model.
func (e *engine) send(now int64, si int32) {
	if now >= e.cutoff {
		e.cancel(si)
		return
	}
	s := e.slot(si)
	e.sendAt(now, e.sharedTime(&e.tenants[s.tenant], now), si, s)
}

// cancel ends slot si's request at the cutoff: its attempt fell due too late.
func (e *engine) cancel(si int32) {
	s := e.slot(si)
	attempts := s.breq.Attempts
	if s.admitted { // admitted by Before, never sent: as sim/client's cancelled sleep
		attempts--
	}
	e.finish(si, s, sim.InFlight, sim.StopCancelled, attempts, e.cutoff)
}

// sendAt is send with the virtual offset now also as a time (nowT, the
// zero time for a tenant without shared strategy state: see sharedTime) and
// slot si as s.
func (e *engine) sendAt(now int64, nowT time.Time, si int32, s *slot) {
	t := &e.tenants[s.tenant]
	if !s.admitted {
		wait, stop := t.state.Before(nowT, &s.breq, &s.pcg)
		if stop != sim.StopNone {
			e.finish(si, s, sim.GaveUp, stop, s.breq.Attempts, now)
			return
		}
		if wait > 0 {
			s.admitted = true
			e.q.push(newEvent(now+int64(wait), evSend, si))
			return
		}
	}
	s.admitted = false
	resp := &e.aresp
	e.model.HandleAt(time.Duration(now), e.request(t, s), resp)
	e.stats.Attempts++
	if e.circ != nil {
		if c := resp.Circuit; c != e.circuit {
			e.circuit = c
			e.circ.ObserveCircuit(e.at(now), c)
		}
	}
	lat := int64(resp.Latency) + t.rtt
	s.sent = now
	s.latency, s.timeout = lat, false
	if t.timeout > 0 && lat > t.timeout {
		s.latency, s.timeout = t.timeout, true
	}
	if !t.shared && now+s.latency <= e.cutoff && !e.queueAll {
		// The answer of a client whose decisions depend on its request
		// alone: what it brings (its records, the strategy's decision,
		// the end of the request or its next attempt's time) is known now
		// and touches nothing another event reads before it is due, so it
		// is handled at once, stamped with the answer's time, rather than
		// through the queue; a retry is queued for its send. (Only an event
		// of exactly the same nanosecond, scheduled while this answer was
		// in flight, now comes after that retry instead of before.)
		e.stats.Events++
		e.ended = max(e.ended, now+s.latency)
		r, limits := e.response(t, s.timeout, resp.Code, resp.Status(), resp.RetryAfter, &resp.Limits)
		e.answer(now+s.latency, si, s, t, r, limits)
		return
	}
	if !s.timeout {
		s.code, s.status, s.retryAfter, s.limits = resp.Code, int16(resp.Status()), int32(resp.RetryAfter), resp.Limits
	}
	e.q.push(newEvent(now+s.latency, evComplete, si))
}

// complete handles the end of slot si's attempt at now: it records the
// attempt with the strategy's decision and ends the request or schedules its
// retry. A response due after the cutoff never arrives: as in a live run,
// whose drain cancels attempts in flight, the attempt is not recorded and
// the request ends in flight at the cutoff.
func (e *engine) complete(now int64, si int32) {
	s := e.slot(si)
	if now > e.cutoff {
		e.finish(si, s, sim.InFlight, sim.StopCancelled, s.breq.Attempts, e.cutoff)
		return
	}
	t := &e.tenants[s.tenant]
	r, limits := e.response(t, s.timeout, s.code, int(s.status), int(s.retryAfter), &s.limits)
	e.answer(now, si, s, t, r, limits)
}

// response returns tenant t's strategy's view of an answer, in the
// engine's scratch response, and the rate-limit headers to record with it:
// a timeout (no headers), or the model's code, status, Retry-After seconds
// and rate-limit headers limits. Only a strategy with shared state reads
// the headers (to pace; State.After says so): for others they are not
// copied into the response, whose Limits may then hold an earlier
// answer's. The scratch value is set field by field (a composite literal
// would build it on the stack and copy it): every field either changes
// here (Limits for shared state) or never leaves its zero value (the raw
// Retry-After header, which the model does not send as text);
// TestCompleteSetsEveryField keeps this list complete.
func (e *engine) response(t *tenant, timeout bool, code api.Code, status, retryAfter int, limits *sim.RateLimits) (*backoff.Response, *sim.RateLimits) {
	r := &e.resp
	if timeout {
		*r = backoff.Response{Timeout: true, Code: sim.TimeoutCode}
		return r, &r.Limits
	}
	r.Status, r.Timeout, r.RetryAfterSeconds = status, false, retryAfter
	if t.shared {
		r.Limits = *limits
	}
	r.Code = ""
	if code != api.OK {
		r.Code = code.String()
	}
	return r, limits
}

// answer handles slot si's (s, tenant t's) attempt answered with r at now
// (complete's, or sendAt's for an answer handled at its send), with the
// rate-limit headers limits (the zero value for a timeout).
func (e *engine) answer(now int64, si int32, s *slot, t *tenant, r *backoff.Response, limits *sim.RateLimits) {
	var nowT time.Time // see sharedTime
	if t.shared || (t.policy.Deadline > 0 && (r.Timeout || !backoff.Succeeded(r.Status))) {
		nowT = e.at(now)
		if s.breq.Arrived.IsZero() {
			s.breq.Arrived = e.at(s.arrived)
		}
	}
	d := t.state.After(nowT, &s.breq, r, &s.pcg)
	e.recordAttempt(s, r, limits, &d)
	if !d.Retry {
		switch d.Stop {
		case sim.StopSucceeded:
			e.finish(si, s, sim.Succeeded, d.Stop, s.breq.Attempts, now)
		case sim.StopNotRetryable:
			e.finish(si, s, sim.FailedPermanent, d.Stop, s.breq.Attempts, now)
		default:
			e.finish(si, s, sim.GaveUp, d.Stop, s.breq.Attempts, now)
		}
		return
	}
	e.q.push(newEvent(now+int64(d.Delay), evSend, si))
}

// recordAttempt records slot s's attempt, answered with r and limits, and
// the strategy's decision d.
func (e *engine) recordAttempt(s *slot, r *backoff.Response, limits *sim.RateLimits, d *backoff.Decision) {
	if e.sink != nil {
		// Field by field, as complete sets r: TestCompleteSetsEveryField
		// keeps the list complete.
		c := &e.catt
		c.Tenant, c.Status, c.SentNs, c.Latency = int(s.tenant), r.Status, e.startNs+s.sent, time.Duration(s.latency)
		c.RetryAfter, c.Delay, c.Code = d.RetryAfter, d.Delay, r.Code
		c.RemainingMinute, c.RemainingDay, c.LimitsKnown = limits.RemainingMinute, limits.RemainingDay, limits.Known()
		c.First, c.Retry, c.RetryAfterStatus = s.breq.Attempts <= 1, d.Retry, d.RetryAfterStatus
		e.sink.AddAttempt(c)
		return
	}
	if e.rec == nil {
		return
	}
	a := &e.att
	a.Tenant, a.Request, a.Number = int(s.tenant), s.id, s.breq.Attempts
	a.Sent, a.Latency = e.at(s.sent), time.Duration(s.latency)
	a.Status, a.Code, a.Limits = r.Status, r.Code, *limits
	d.Fill(a)
	e.rec.RecordAttempt(a)
}

// finish records the outcome of slot si (s), ended at virtual time ended,
// and frees the slot.
func (e *engine) finish(si int32, s *slot, kind sim.OutcomeKind, reason sim.StopReason, attempts int, ended int64) {
	e.outcome(int(s.tenant), s.id, kind, reason, attempts, s.arrived, ended)
	e.release(si)
}

// outcome records how request id of tenant ti, arrived and ended at those
// virtual times, ended.
func (e *engine) outcome(ti int, id uint64, kind sim.OutcomeKind, reason sim.StopReason, attempts int, arrived, ended int64) {
	if e.sink != nil {
		// Field by field, as recordAttempt: every field is set.
		c := &e.cout
		c.Tenant, c.ArrivedNs, c.EndedNs = ti, e.startNs+arrived, e.startNs+ended
		c.Duration, c.Kind, c.Reason, c.Sent = time.Duration(ended-arrived), kind, reason, attempts > 0
		e.sink.AddOutcome(c)
		return
	}
	if e.rec != nil {
		e.out = sim.Outcome{Tenant: ti, Request: id, Kind: kind, Reason: reason,
			Attempts: attempts, Arrived: e.at(arrived), Ended: e.at(ended)}
		e.rec.RecordOutcome(&e.out)
	}
}

// sharedTime returns the virtual offset now as a time for tenant t's
// strategy, or the zero time when t has no shared strategy state: the
// strategy then reads times only in After, to hold a deadline after an
// answer other than 2xx (answer builds them then; the model's Retry-After
// is never an HTTP date).
func (e *engine) sharedTime(t *tenant, now int64) time.Time {
	if !t.shared {
		return time.Time{}
	}
	return e.at(now)
}
