package des

import (
	"context"
	"errors"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

// Result is a simulation recorded for a report, as attack.Result is a live
// run's: the records, the report.Meta to summarise them with, and what the
// engine counted.
type Result struct {
	Recorder *report.Recorder
	Meta     report.Meta // engine simulated; Thresholds left to the caller
	Stats    Stats
}

// Simulate runs sc as Run does, into a new report.Recorder covering the
// run's duration, and returns it with the run's report.Meta (identity,
// duration, offered rates). opts.Recorder is ignored; a zero opts.Start is
// DefaultStart(). When ctx is cancelled the result is partial, as a live
// run's: Meta.Partial is set, Meta.Duration is the simulated time reached,
// and the error is nil. Other errors are Run's.
func Simulate(ctx context.Context, sc *scenario.Scenario, opts Options) (*Result, error) {
	duration := opts.Duration
	if duration == 0 {
		duration = sc.Duration
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart()
	}
	rec := report.NewRecorder(report.RecorderConfig{Tenants: sc.TenantNames(), Start: opts.Start, Duration: duration})
	opts.Recorder = rec
	var async *report.Async
	if opts.Parallel {
		async = report.NewAsync(rec, report.AsyncConfig{})
		opts.Recorder = async.Recorder()
	}
	stats, err := Run(ctx, sc, opts)
	if async != nil {
		async.Close() // every record applied before rec is read
	}
	partial := err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
	if err != nil && !partial {
		return nil, err
	}
	meta := report.Meta{Scenario: sc.Name, Engine: report.EngineSimulated, Seed: opts.Seed, Duration: duration, Partial: partial}
	if partial {
		// A simulation stops early only when cancelled.
		meta.Duration, meta.PartialReason = min(stats.Simulated, duration), report.PartialInterrupted
	}
	// A partial simulation's offered rates are those planned over the part
	// simulated, the span of its achieved rates, as for a live run.
	if meta.Duration > 0 {
		meta.OfferedRPS, meta.TenantOfferedRPS = sc.OfferedRPS(meta.Duration, scenario.Shard{})
	}
	for _, in := range sc.API.Upstream.Incidents {
		meta.Incidents = append(meta.Incidents, report.Window{Start: in.Start, Duration: in.Duration})
	}
	return &Result{Recorder: rec, Meta: meta, Stats: stats}, nil
}
