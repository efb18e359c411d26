// Package attack is loadsim's live runner: it fires a scenario at the Compresr
// API (or at the mock, started in-process on loopback) with one vegeta
// Attacker per tenant, each paced by the tenant's arrival profile and sending
// requests drawn from its mix through the sim/client retrying transport, which
// records every attempt and outcome into a report.Recorder.
//
// API keys are sent in X-API-Key headers and nowhere else: they never appear
// in progress lines, errors or results.
package attack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
	"github.com/loadsim/loadsim/sim/client"
	"github.com/loadsim/loadsim/sim/mock"
)

// Defaults of Options.
const (
	DefaultStopGrace     = 5 * time.Second  // wait for in-flight requests after a stop
	DefaultProgressEvery = 10 * time.Second // progress line interval
	DefaultMaxWorkers    = 20000            // vegeta workers per tenant at most
)

// ErrMaxRequestsRequired is returned for a non-loopback target without
// Options.MaxRequests.
var ErrMaxRequestsRequired = errors.New("a non-loopback target requires a cap on attempts: set --max-requests N")

// ErrConfig is matched (errors.Is) by Run's errors about what it was asked
// to run rather than about running it: a tenant's key (unset key_env, a
// literal key for a --target run), a strategy, the api section. Commands
// map it to exit code 2, as an invalid scenario.
var ErrConfig = errors.New("invalid run configuration")

// configError is an error of the configuration: it matches ErrConfig.
type configError struct{ error }

func (e configError) Is(target error) bool { return target == ErrConfig }
func (e configError) Unwrap() error        { return e.error }

// Options configures Run. The zero value runs the scenario as written against
// the in-process mock, with seed 0.
type Options struct {
	// Target is the API's base URL (scheme://host[:port]); "" starts the mock
	// in-process on 127.0.0.1:0 with the scenario's api section plus the
	// tenants' keys.
	Target string
	// Seed is the run's seed (callers pass the scenario's unless overridden).
	Seed uint64
	// Duration overrides the scenario's duration when > 0.
	Duration time.Duration
	// MaxRequests is a hard cap on attempts sent, retries included (0 = none);
	// attempts beyond it fail as transport errors and stop the run (a partial
	// result, Meta.PartialReason report.PartialMaxRequests). Required for a
	// non-loopback Target. Result.Meta.MaxRequests holds it.
	MaxRequests uint64
	// Recorder receives every attempt and outcome; nil: Run creates one
	// (Result.Recorder) starting when the attack starts.
	Recorder *report.Recorder
	// Registry, when not nil, gets the recorder's loadsim_* metrics and,
	// for the in-process mock, the mock's compresr_mock_* metrics.
	Registry *prometheus.Registry
	// Stop, when it becomes readable (or is closed), stops new arrivals,
	// waits up to StopGrace for in-flight requests, cancels the rest and
	// returns a partial result (Meta.PartialReason report.PartialInterrupted).
	Stop <-chan struct{}
	// StopGrace is the wait for in-flight requests after Stop (default 5 s).
	StopGrace time.Duration
	// Drain bounds the wait for requests still in flight (retrying) after
	// the planned duration: at Duration+Drain they are cancelled and count as
	// in_flight (the result is not partial). 0 waits until they end.
	Drain time.Duration
	// Progress receives a plain progress line every ProgressEvery (default
	// 10 s); nil: none. A line shows elapsed/total, requests arrived
	// (offered) and succeeded (achieved) per second since the previous line,
	// attempts by status, attempts under way, requests waiting to retry and
	// the server's circuit state as seen ("?" before any).
	Progress      io.Writer
	ProgressEvery time.Duration
	// ProgressLive, for a Progress that is a terminal, redraws one line in
	// place ("\r" and erase-line) every ProgressEvery (default 1 s) and ends
	// it with a newline when Run returns.
	ProgressLive bool
	// Getenv reads tenants' key_env variables (default os.Getenv).
	Getenv func(string) string
	// Shard, unless whole (the zero value), offers only shard K of N of
	// every tenant's arrivals (scenario.Shard): arrival times come from Seed,
	// the request mix, client jitter and the in-process mock draw from
	// Shard.Seed(Seed). Result.Meta.Shard names it. N shards against one
	// shared API together offer the scenario's load; each in-process mock
	// enforces the whole quota on its shard alone.
	Shard scenario.Shard
	// Results, when not nil, gets every attempt (retries and attempts
	// refused by MaxRequests included) as a vegeta.Result: Attack is the
	// tenant's name, Seq counts from 0 in call order, Code is the status (0
	// for a transport error), Timestamp the send time, Latency runs to the
	// end of the response body, Error holds the transport error or the
	// status line of a non-2xx/3xx answer; no headers (they hold keys) and
	// no bodies. It is called one call at a time; after its first error it
	// is called no more (Result.ResultsErr). vegeta.NewEncoder writes the
	// gob stream `vegeta report` and `vegeta plot` read.
	Results vegeta.Encoder
	// StartAt, when not zero, is the wall-clock instant the attack starts:
	// Run does its setup (keys, strategies, the in-process mock, request
	// pools, transports) and then waits until StartAt before it takes the
	// start instant (Result.Start, the recorder's Start) and sends the
	// first request, so that runs given instants at the same phase of a UTC
	// minute meet the mock's fixed quota windows at the same point. The
	// in-process mock's model starts at StartAt (its incidents are offsets
	// from it). A StartAt in the past, or the zero value, starts at once.
	// Cancelling ctx or Stop firing during the wait ends it at once: Run
	// then returns an empty partial result (Meta.PartialReason
	// report.PartialInterrupted, duration 0, no request sent) and a nil
	// error, as for a stop before any arrival.
	StartAt time.Time
}

// Result is what a run measured.
type Result struct {
	Recorder *report.Recorder // the run's records
	Meta     report.Meta      // identity and plan, without thresholds
	Target   string           // the base URL attacked
	Start    time.Time        // when the attack started
	Elapsed  time.Duration    // wall time from Start to the end of the last request
	// Behind reports that the runner dispatched its last arrival more than
	// 1 % of the duration late; Meta.Duration is then the real arrival span.
	Behind bool
	Hits   uint64 // vegeta results (logical requests issued)
	Capped bool   // MaxRequests was reached
	// Sent counts the attempts that went out (retries included; not those
	// the cap refused): at most MaxRequests when it is set.
	Sent uint64
	// ResultsErr is Options.Results' first error (later attempts were not
	// encoded); nil when it had none.
	ResultsErr error
}

// Plan writes what a run against target will do: the target, each tenant's
// tier, profile, strategy and expected requests, and the cap. Keys are never
// written.
func Plan(w io.Writer, sc *scenario.Scenario, opts Options) {
	d := sc.Duration
	if opts.Duration > 0 {
		d = opts.Duration
	}
	shard := ""
	if !opts.Shard.Whole() {
		shard = ", shard " + opts.Shard.String()
	}
	target := opts.Target
	if target == "" {
		target = "the in-process mock"
	}
	limit := "no cap on attempts"
	if opts.MaxRequests > 0 {
		limit = fmt.Sprintf("at most %d attempts", opts.MaxRequests)
	}
	fmt.Fprintf(w, "plan: %s against %s for %s, seed %d%s, %s\n", sc.Name, target, d, opts.Seed, shard, limit)
	for i, t := range sc.Tenants {
		p := opts.Shard.Profile(sc.Profile(i, opts.Seed))
		fmt.Fprintf(w, "  %-12s %-6s %-40s %-28s ~%.0f requests\n", t.Name, t.Tier, p, t.Client.Strategy, p.Hits(d))
	}
	if !opts.Shard.Whole() && opts.Target == "" {
		fmt.Fprintf(w, "  note: this shard's in-process mock enforces the whole quota on 1/%d of the traffic; point every shard at one API with --target to share it\n", opts.Shard.N)
	}
}

// behindTolerance: a last arrival dispatched more than duration/100 late
// means the runner fell behind its profile.
const behindTolerance = 100

// Run fires sc as opts say and returns what it measured. With
// opts.StartAt it sets up, then waits until StartAt before starting (see
// Options.StartAt). It returns when
// every tenant's profile has ended and its requests have finished, when
// opts.Stop fires (a partial result, after the grace), when ctx is cancelled
// (in-flight requests are cancelled; a partial result) or when
// opts.MaxRequests is passed (a partial result). Meta.PartialReason of a
// partial result is its first cause (report.PartialInterrupted for Stop or
// ctx, report.PartialMaxRequests for the cap), and its offered rates are
// those planned before arrivals stopped, over Meta.Duration (offeredOver).
// Errors are configuration problems (keys, strategies, target) found before
// the attack.
func Run(ctx context.Context, sc *scenario.Scenario, opts Options) (*Result, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	duration := sc.Duration
	if opts.Duration > 0 {
		duration = opts.Duration
	}
	grace := opts.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}

	// Keys: literal (in-process mock only) or from key_env.
	keys := make([]string, len(sc.Tenants))
	for i, t := range sc.Tenants {
		switch {
		case opts.Target == "" && t.Key != "":
			keys[i] = t.Key
		case t.KeyEnv != "":
			keys[i] = getenv(t.KeyEnv)
			if keys[i] == "" {
				return nil, configError{fmt.Errorf("tenants[%d] (%s): environment variable %s is empty: export the tenant's API key in it", i, t.Name, t.KeyEnv)}
			}
		case opts.Target != "":
			return nil, configError{fmt.Errorf("tenants[%d] (%s): a --target run reads keys from key_env only: set tenants[%d].key_env", i, t.Name, i)}
		default:
			return nil, configError{fmt.Errorf("tenants[%d] (%s): no key: set key or key_env", i, t.Name)}
		}
	}
	policies := make([]*clientPolicy, len(sc.Tenants))
	for i, t := range sc.Tenants {
		p, err := t.Client.Strategy.Config.Resolve()
		if err != nil {
			return nil, configError{fmt.Errorf("tenants[%d].client.strategy: %w", i, err)}
		}
		policies[i] = &clientPolicy{p}
	}

	drawSeed := opts.Shard.Seed(opts.Seed) // the shard's own random draws

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The target: given, or the mock in-process on loopback.
	base := strings.TrimRight(opts.Target, "/")
	var serveDone chan error
	var model *api.Model // the in-process mock's
	if base == "" {
		cfg := sc.API
		cfg.Keys = append(append([]api.KeyConfig(nil), cfg.Keys...), sc.ServerKeys(keys)...)
		resolved, err := cfg.Resolve()
		if err != nil {
			return nil, configError{fmt.Errorf("api section with the tenants' keys: %w", err)}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start the in-process mock: %w", err)
		}
		mopts := []mock.Option{mock.WithShutdownGrace(grace)}
		if opts.Registry != nil {
			mopts = append(mopts, mock.WithRegistry(opts.Registry))
		}
		modelStart := time.Now()
		if opts.StartAt.After(modelStart) {
			modelStart = opts.StartAt
		}
		model = api.New(resolved, modelStart, drawSeed)
		srv := mock.New(model, resolved, mopts...)
		base = "http://" + ln.Addr().String()
		serveCtx, stopServe := context.WithCancel(context.Background())
		serveDone = make(chan error, 1)
		go func() { serveDone <- srv.Serve(serveCtx, ln) }()
		defer func() { stopServe(); <-serveDone }()
	} else {
		if err := CheckTarget(base, opts.MaxRequests); err != nil {
			return nil, err
		}
	}

	hc := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConns:        10000,
		MaxIdleConnsPerHost: 10000,
		IdleConnTimeout:     30 * time.Second,
	}
	defer hc.CloseIdleConnections()
	capped := &capTransport{next: hc, max: opts.MaxRequests, onCap: cancel}
	if opts.MaxRequests == 0 {
		capped.max = ^uint64(0)
	}
	var sink *resultSink
	if opts.Results != nil {
		sink = &resultSink{enc: opts.Results}
	}

	meta := report.Meta{Scenario: sc.Name, Engine: report.EngineLive, Seed: opts.Seed, Duration: duration,
		Shard: opts.Shard.String(), MaxRequests: opts.MaxRequests}
	meta.OfferedRPS, meta.TenantOfferedRPS = sc.OfferedRPS(duration, opts.Shard)
	if model != nil { // the in-process mock plays the scenario's incidents; a real API its own
		for _, in := range sc.API.Upstream.Incidents {
			meta.Incidents = append(meta.Incidents, report.Window{Start: in.Start, Duration: in.Duration})
		}
	}
	pools := make([]*pool, len(sc.Tenants))
	for i := range sc.Tenants {
		ts := scenario.TenantSeed(drawSeed, i)
		pools[i] = newPool(base, keys[i], sc.Sampler(i), rand.New(rand.NewPCG(ts, ts^0x9e3779b97f4a7c15)))
	}

	// Everything above is setup; the attack starts at StartAt.
	waited := waitUntil(ctx, opts.StartAt, opts.Stop)
	names := sc.TenantNames()
	start := time.Now()
	rec := opts.Recorder
	if rec == nil {
		rec = report.NewRecorder(report.RecorderConfig{Tenants: names, Start: start, Duration: duration})
	}
	if opts.Registry != nil {
		if err := rec.Register(opts.Registry); err != nil {
			return nil, fmt.Errorf("register the runner's metrics: %w", err)
		}
	}
	res := &Result{Recorder: rec, Target: base, Start: start}
	if !waited {
		// Stopped before the start: nothing was sent.
		meta.Partial, meta.PartialReason, meta.Duration = true, report.PartialInterrupted, 0
		meta.OfferedRPS, meta.TenantOfferedRPS = offeredOver(sc, opts.Shard, 0, 0)
		res.Meta = meta
		return res, nil
	}
	// The server's circuit state for series.json: read from the in-process
	// model, inferred from the answers of a remote target.
	circuit := newCircuitWatch(model, rec)
	var records sim.Recorder = rec
	if model == nil {
		records = inferCircuit{Recorder: rec, w: circuit}
	}
	circuit.poll(start)

	attackers := make([]*vegeta.Attacker, len(sc.Tenants))
	stopping := make(chan struct{})               // closed by stopAll: the pacers stop at once
	lastHit := make([]time.Time, len(sc.Tenants)) // per tenant, written by its results goroutine
	var hits atomic.Uint64
	var wg sync.WaitGroup
	for i, t := range sc.Tenants {
		copts := []client.Option{
			client.WithRecorder(records), client.WithTenant(i),
			client.WithSeed(scenario.TenantSeed(drawSeed, i)),
			client.WithAttemptTimeout(t.Client.AttemptTimeout()),
		}
		if policies[i].p.ValidateFirst {
			copts = append(copts, client.WithValidator(client.APIValidator))
		}
		var attempts http.RoundTripper = capped
		if sink != nil {
			attempts = &resultsTransport{next: capped, attack: t.Name, sink: sink}
		}
		rt := &ctxTransport{ctx: runCtx, next: client.New(attempts, policies[i].p, copts...)}
		attackers[i] = vegeta.NewAttacker(
			vegeta.Client(&http.Client{Transport: rt, Timeout: 0, CheckRedirect: noRedirect}),
			vegeta.MaxWorkers(DefaultMaxWorkers),
			vegeta.MaxBody(0),
		)
		p := pools[i]
		pacer := &stoppablePacer{Pacer: scenario.Bounded{Profile: opts.Shard.Profile(sc.Profile(i, opts.Seed)), Duration: duration},
			Stop: stopping}
		// No vegeta duration: Bounded stops the pacer at the duration, and
		// vegeta's own check would drop a last hit sent a little late.
		results := attackers[i].Attack(p.targeter(), pacer, 0, t.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range results {
				hits.Add(1)
				if r.Timestamp.After(lastHit[i]) { // when vegeta dispatched the hit
					lastHit[i] = r.Timestamp
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var stopOnce sync.Once
	stopAll := func() {
		stopOnce.Do(func() { close(stopping) })
		for _, a := range attackers {
			a.Stop()
		}
	}
	var tick <-chan time.Time
	var prog *progress
	if opts.Progress != nil {
		every := opts.ProgressEvery
		if every <= 0 {
			every = DefaultProgressEvery
			if opts.ProgressLive {
				every = DefaultLiveEvery
			}
		}
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
		prog = &progress{w: opts.Progress, live: opts.ProgressLive, rec: rec, meta: meta, total: duration,
			active: &capped.active, circuit: circuit}
		defer prog.end()
	}
	var circuitTick <-chan time.Time
	if model != nil {
		t := time.NewTicker(circuitPoll)
		defer t.Stop()
		circuitTick = t.C
	}
	stop := opts.Stop
	partial := false
	reason := ""                  // why the run is partial: the first cause seen
	var arrivalsEnd time.Duration // when arrivals stopped, for a partial run
	var graceC, drainC <-chan time.Time
	if opts.Drain > 0 {
		d := time.NewTimer(duration + opts.Drain)
		defer d.Stop()
		drainC = d.C
	}
wait:
	for {
		select {
		case <-done:
			break wait
		case now := <-tick:
			prog.line(now.Sub(start))
		case now := <-circuitTick:
			circuit.poll(now)
		case <-stop:
			stop = nil
			partial, reason, arrivalsEnd = true, report.PartialInterrupted, time.Since(start)
			stopAll()
			g := time.NewTimer(grace)
			defer g.Stop()
			graceC = g.C
		case <-graceC:
			graceC = nil
			cancel()
		case <-drainC:
			// The plan is complete; what still retries stays in flight.
			stopAll()
			cancel()
			<-done
			break wait
		case <-runCtx.Done():
			// Cancelled by the caller or by the attempt cap.
			if !partial {
				partial, arrivalsEnd = true, time.Since(start)
				reason = report.PartialInterrupted
				if capped.count.Load() > capped.max {
					reason = report.PartialMaxRequests
				}
			}
			stopAll()
			cancel()
			<-done
			break wait
		}
	}
	circuit.poll(time.Now())
	res.Elapsed = time.Since(start)
	res.Hits = hits.Load()
	res.Capped = capped.count.Load() > capped.max
	res.Sent = min(capped.count.Load(), capped.max)
	if sink != nil {
		res.ResultsErr = sink.Err()
	}
	if res.Capped && !partial {
		// The cap refused the last attempts as every request ended.
		partial, reason, arrivalsEnd = true, report.PartialMaxRequests, res.Elapsed
	}
	if partial {
		meta.Partial, meta.PartialReason = true, reason
		if res.Elapsed < duration {
			meta.Duration = res.Elapsed.Round(time.Millisecond)
		}
		// Offered over the span covered, as achieved is: the arrivals
		// planned before arrivals stopped, not the whole plan's average.
		meta.OfferedRPS, meta.TenantOfferedRPS = offeredOver(sc, opts.Shard, min(arrivalsEnd, meta.Duration), meta.Duration)
	}
	if !meta.Partial {
		// A runner that could not keep up dispatched its last arrivals late:
		// rates are then over the time the arrivals really took, so that
		// achieved_rps shows the shortfall instead of hiding it.
		var last time.Time // lastHit is complete: every results goroutine has ended
		for _, t := range lastHit {
			if t.After(last) {
				last = t
			}
		}
		if span := last.Sub(start); span > duration+duration/behindTolerance {
			meta.Duration = span.Round(time.Millisecond)
			res.Behind = true
		}
	}
	res.Meta = meta
	return res, nil
}

// offeredOver returns the offered rates (requests/s, all tenants and by
// tenant name) of a run of sc's shard sh that covered span but whose
// arrivals stopped at arrivals (≤ span): the arrivals the profiles planned
// in [0, arrivals), per second of span. Over the same span as a summary's
// achieved rates (requests issued per second of duration_seconds), so that
// achieved < offered means the runner issued fewer requests than planned.
// For arrivals = span = the planned duration it is sc.OfferedRPS. Rates
// are 0 when arrivals or span is ≤ 0.
func offeredOver(sc *scenario.Scenario, sh scenario.Shard, arrivals, span time.Duration) (total float64, perTenant map[string]float64) {
	if arrivals <= 0 || span <= 0 {
		perTenant = make(map[string]float64, len(sc.Tenants))
		for _, t := range sc.Tenants {
			perTenant[t.Name] = 0
		}
		return 0, perTenant
	}
	total, perTenant = sc.OfferedRPS(arrivals, sh)
	if arrivals == span {
		return total, perTenant
	}
	scale := arrivals.Seconds() / span.Seconds()
	for name, rps := range perTenant {
		perTenant[name] = rps * scale
	}
	return total * scale, perTenant
}

// clientPolicy holds a resolved strategy.
type clientPolicy struct{ p *backoff.Policy }

// CheckTarget checks a --target base URL: http or https with a host, and a
// cap on attempts (maxRequests > 0) unless the host is loopback. The error
// is ErrMaxRequestsRequired when only the cap is missing.
func CheckTarget(target string, maxRequests uint64) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q: want a base URL like https://api.example.com", target)
	}
	if !loopback(u.Hostname()) && maxRequests == 0 {
		return ErrMaxRequestsRequired
	}
	return nil
}

// loopback reports whether host is localhost or a loopback IP.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noRedirect makes the client return redirects as they are.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ctxTransport puts the run's context on every request, so that cancelling
// the run aborts in-flight attempts and backoff waits.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r.WithContext(t.ctx))
}

// errCapReached is the transport error of attempts beyond Options.MaxRequests.
var errCapReached = errors.New("attempt cap (--max-requests) reached")

// capTransport counts attempts and refuses those beyond max, calling onCap
// once when the cap is passed; active counts attempts under way.
type capTransport struct {
	next   http.RoundTripper
	max    uint64
	count  atomic.Uint64
	active atomic.Int64
	once   sync.Once
	onCap  func()
}

// RoundTrip implements http.RoundTripper.
func (t *capTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.count.Add(1) > t.max {
		t.once.Do(t.onCap)
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errCapReached
	}
	t.active.Add(1)
	defer t.active.Add(-1)
	return t.next.RoundTrip(r)
}

// waitUntil waits until the wall-clock instant t and reports whether it got
// there; it returns true at once for a zero or past t, false as soon as ctx
// is cancelled or stop becomes readable first.
func waitUntil(ctx context.Context, t time.Time, stop <-chan struct{}) bool {
	if t.IsZero() {
		return true
	}
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}
