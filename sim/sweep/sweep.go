package sweep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/attack"
	"github.com/loadsim/loadsim/sim/des"
)

// Options configures Run. The zero value simulates every variant once with
// seed 0 over the scenario's duration, as many at a time as GOMAXPROCS.
type Options struct {
	// Seed is the first seed; Seeds (0 means 1) runs each variant with the
	// seeds Seed, Seed+1, …, Seed+Seeds−1.
	Seed  uint64
	Seeds int
	// Duration overrides the scenario's duration when > 0.
	Duration time.Duration
	// Drain bounds retries after the duration, as des.Options.Drain and
	// attack.Options.Drain (0: until requests end).
	Drain time.Duration
	// Parallel bounds the simulations running at once; 0 or more than
	// runtime.GOMAXPROCS(0) means GOMAXPROCS. Live runs are always one at a
	// time.
	Parallel int
	// Shard, when not whole, keeps variant i only on shard i mod N (shard
	// K runs the variants with i mod N = K−1); the others are not run and
	// not returned. The seeds of a variant stay on one shard.
	Shard scenario.Shard
	// Series keeps the report.Series of each variant's first seed (for
	// plots; exporting one costs more than simulating a short scenario, so
	// the other seeds' are not taken).
	Series bool
	// Thresholds are evaluated into every run's summary.
	Thresholds []report.Threshold
	// Live runs each variant live with sim/attack against the in-process
	// mock, one after another, instead of simulating it.
	Live bool
	// Align is the period live runs are aligned to: every live run (every
	// variant, every seed) starts at the same phase of it (the same offset
	// into the period, counted from the zero time.Time as Time.Truncate
	// counts, so for whole minutes from the UTC minute), so that each meets
	// the quota's fixed windows, which follow the UTC minute, at the same
	// point of its run. The phase
	// is picked once, as the first live run is about to start (that of now
	// plus a setup margin of AlignMargin); each run then waits for the
	// first instant at least AlignMargin ahead with that phase, up to one
	// period. 0 means time.Minute; a negative value starts each run at
	// once (no alignment). Simulations ignore it: each starts at
	// des.DefaultStart.
	Align time.Duration
	// Aligned, when set, is called once with the phase picked (in
	// [0, Align)) before the first aligned live run starts waiting, from
	// Run's worker goroutine. Not called without aligned live runs.
	Aligned func(phase time.Duration)
	// Progress, when set, is called after each run ends with the number of
	// runs done and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// AlignMargin is the setup margin of an aligned live run (Options.Align):
// a run starts no sooner than this after it is handed out, time for
// sim/attack to start the mock and build its request pools.
const AlignMargin = 500 * time.Millisecond

// Sim is one run of one variant with one seed.
type Sim struct {
	Seed    uint64
	Summary *report.Summary
	Series  *report.Series // the first seed's with Options.Series, else nil
	Stats   des.Stats      // what the simulator counted (zero for live runs)
}

// Result is one variant's runs, one per seed in seed order.
type Result struct {
	Index   int // the variant's index in Run's variants
	Variant Variant
	Sims    []Sim
}

// StoppedError is Run's error when ctx was cancelled: Run then also
// returns the results of the variants every seed of which had finished
// (Done of Total variants), so that a caller can keep what was measured.
// It wraps ctx's error.
type StoppedError struct {
	Done, Total int
	Err         error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("sweep: stopped after %d of %d variants: %v", e.Done, e.Total, e.Err)
}

// Unwrap returns ctx's error.
func (e *StoppedError) Unwrap() error { return e.Err }

// Run runs every variant of sc on this shard with every seed and returns
// one Result per variant run, in variant order. Simulations run in
// parallel, each with its own scenario copy, engine and recorder, so the
// results are the same whatever the parallelism and scheduling. Cancelling
// ctx stops the runs; Run then returns the variants that had finished and a
// *StoppedError. Errors in a variant (unknown tenant, tier or strategy) are
// returned before anything runs.
func Run(ctx context.Context, sc *scenario.Scenario, variants []Variant, opts Options) ([]Result, error) {
	if len(variants) == 0 {
		return nil, errors.New("sweep: no variants to run: give at least one strategy or tier")
	}
	seen := map[string]bool{}
	for _, v := range variants {
		if seen[v.Name] {
			return nil, fmt.Errorf("sweep: two variants are named %q: names must be unique", v.Name)
		}
		seen[v.Name] = true
	}
	seeds := max(opts.Seeds, 1)
	duration := sc.Duration
	if opts.Duration > 0 {
		duration = opts.Duration
	}
	if opts.Drain < 0 {
		return nil, fmt.Errorf("sweep: drain %s is negative: use 0 (until requests end) or a positive bound", opts.Drain)
	}
	align := newAligner(opts) // live runs' start instants; nil: at once

	type job struct {
		result, sim int
		sc          *scenario.Scenario
		seed        uint64
	}
	var results []Result
	var jobs []job
	for i, v := range variants {
		if !opts.Shard.Whole() && i%opts.Shard.N != opts.Shard.K-1 {
			continue
		}
		vsc, err := v.Apply(sc)
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		if opts.Duration > 0 {
			c := *vsc
			c.Duration = duration
			vsc = &c
		}
		results = append(results, Result{Index: i, Variant: v, Sims: make([]Sim, seeds)})
		for s := range seeds {
			jobs = append(jobs, job{result: len(results) - 1, sim: s, sc: vsc, seed: opts.Seed + uint64(s)})
		}
	}
	if len(jobs) == 0 {
		return results, nil
	}

	workers := runtime.GOMAXPROCS(0)
	if opts.Parallel > 0 && opts.Parallel < workers {
		workers = opts.Parallel
	}
	if opts.Live {
		workers = 1
	}
	workers = min(workers, len(jobs))
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				jb := jobs[j]
				var at time.Time
				if align != nil { // live: one worker, so one caller at a time
					at = align.next(time.Now())
				}
				sim, err := runOne(ctx, jb.sc, jb.seed, opts.Series && jb.sim == 0, at, opts)
				if err != nil {
					errs[j] = fmt.Errorf("sweep: variant %q, seed %d: %w", results[jb.result].Variant.Name, jb.seed, err)
					cancel()
					continue
				}
				results[jb.result].Sims[jb.sim] = sim
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(jobs))
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// The first failure in job order that is not a consequence of a
	// cancellation (the caller's, or ours after a failure), so that the
	// error does not depend on scheduling.
	stopped := parent.Err()
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && (stopped == nil || !errors.Is(err, stopped)) {
			return nil, err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if stopped != nil {
		done := finished(results)
		return done, &StoppedError{Done: len(done), Total: len(results), Err: stopped}
	}
	if first != nil {
		return nil, first
	}
	return results, nil
}

// finished returns the results every simulation of which ran.
func finished(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if !slices.ContainsFunc(r.Sims, func(s Sim) bool { return s.Summary == nil }) {
			out = append(out, r)
		}
	}
	return out
}

// runOne runs sc once with seed and returns its summary, and its series
// when series is set. A live run starts at startAt (attack.Options.StartAt;
// zero: at once).
func runOne(ctx context.Context, sc *scenario.Scenario, seed uint64, series bool, startAt time.Time, opts Options) (Sim, error) {
	var rec *report.Recorder
	var meta report.Meta
	var stats des.Stats
	if opts.Live {
		res, err := attack.Run(ctx, sc, attack.Options{Seed: seed, Drain: opts.Drain, StartAt: startAt})
		if err != nil {
			return Sim{}, err
		}
		rec, meta = res.Recorder, res.Meta
	} else {
		res, err := des.Simulate(ctx, sc, des.Options{Seed: seed, Duration: sc.Duration, Drain: opts.Drain})
		if err != nil {
			return Sim{}, err
		}
		rec, meta, stats = res.Recorder, res.Meta, res.Stats
	}
	if meta.Partial {
		if err := ctx.Err(); err != nil {
			return Sim{}, fmt.Errorf("%s run stopped: %w", meta.Engine, err)
		}
	}
	meta.Thresholds = opts.Thresholds
	sim := Sim{Summary: rec.Summary(meta), Seed: seed, Stats: stats}
	if series {
		s, err := rec.Series()
		if err != nil {
			return Sim{}, fmt.Errorf("taking the series: %w", err)
		}
		sim.Series = s
	}
	return sim, nil
}

// aligner hands out the start instants of aligned live runs: the first at
// now+AlignMargin, whose phase in period it keeps, the next ones at the
// first instant at least AlignMargin ahead with that phase. Not safe for
// concurrent use (live runs are handed out by one worker).
type aligner struct {
	period  time.Duration
	aligned func(phase time.Duration) // Options.Aligned
	picked  bool
	phase   time.Duration
}

// newAligner returns the aligner of opts' live runs, nil when runs are
// simulated or Align is negative.
func newAligner(opts Options) *aligner {
	if !opts.Live || opts.Align < 0 {
		return nil
	}
	a := &aligner{period: opts.Align, aligned: opts.Aligned}
	if a.period == 0 {
		a.period = time.Minute
	}
	return a
}

// next returns the start instant of a run handed out at now.
func (a *aligner) next(now time.Time) time.Time {
	base := now.Add(AlignMargin)
	if !a.picked {
		a.picked = true
		a.phase = phaseOf(base, a.period)
		if a.aligned != nil {
			a.aligned(a.phase)
		}
	}
	return nextAt(base, a.period, a.phase)
}

// phaseOf returns t's offset into its period (in [0, period)), periods
// counted from the zero time.Time (so whole minutes from the UTC minute).
func phaseOf(t time.Time, period time.Duration) time.Duration {
	return t.Sub(t.Truncate(period))
}

// nextAt returns the first instant at or after t whose phase in period is
// phase (0 ≤ phase < period), as a wall-clock time (no monotonic reading).
func nextAt(t time.Time, period, phase time.Duration) time.Time {
	at := t.Truncate(period).Add(phase)
	if at.Before(t) {
		at = at.Add(period)
	}
	return at
}
