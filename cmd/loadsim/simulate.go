package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim/des"
)

// simulateOptions are the flags of `loadsim simulate`.
type simulateOptions struct {
	Seed       uint64        // used when SeedSet
	SeedSet    bool          // --seed was given
	Duration   time.Duration // > 0 overrides the scenario's
	Out        string        // output directory; "" = defaultOutDir
	Thresholds []string      // --threshold expressions
	Quiet      bool          // no progress on stderr
	Drain      time.Duration // bound on the time requests may keep retrying after the duration; 0 = until they end
	Push       pushOptions   // --pushgateway, --run-id
}

// newSimulateCmd builds `loadsim simulate SCENARIO`.
func newSimulateCmd(stdout, stderr io.Writer) *cobra.Command {
	var opts simulateOptions
	cmd := &cobra.Command{
		Use:   "simulate SCENARIO [flags]",
		Short: "Play a scenario in virtual time (a day of traffic in seconds)",
		Long: "Play a scenario (a file or an example name) through the same API model and retry strategies\n" +
			"as `loadsim run`, in virtual time with seeded randomness: the same scenario and seed give\n" +
			"byte-identical summary.json and series.json. Writes the same outputs as `run` (engine\n" +
			"\"simulated\") plus run.json with wall-clock facts. Ctrl-C stops the simulation and writes\n" +
			"partial results (exit 130).\n" +
			"Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or flags, 99 a threshold failed.",
		Example: "  loadsim simulate launch-day\n  loadsim simulate launch-day --duration 24h --seed 7\n" +
			"  loadsim simulate ./my.yaml --threshold 'time_to_success_p99 <= 2s'",
		Args: scenarioArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			if err := explicitDuration(cmd, opts.Duration); err != nil {
				return err
			}
			ctx, release := interruptContext(cmd.Context(), stderr, interruptSimulated)
			defer release()
			return simulateScenario(ctx, args[0], opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Duration, "duration", 0, "simulate `D` of traffic instead of the scenario's duration (24h is normal use)")
	f.StringVar(&opts.Out, "out", "", "output `DIR` (default loadsim-out/<scenario>-<UTC time>)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `N` of every random draw (default: the scenario's)")
	f.StringArrayVar(&opts.Thresholds, "threshold", nil, "pass/fail `EXPR` on the summary, e.g. 'success_rate >= 99%' (repeatable)")
	f.DurationVar(&opts.Drain, "drain", 0, "after the duration, let requests still retrying go on at most `D` (simulated), then count them in_flight (0 = until they end)")
	f.BoolVar(&opts.Quiet, "quiet", false, "no progress on stderr")
	addPushFlags(f, &opts.Push)
	return cmd
}

// pauseGC turns the garbage collector off while the engine runs, unless
// the user set GOGC, and returns the function that restores it. The engine
// and its recorder allocate their state when they start and as it grows,
// and nothing per event, so a collection during a run has next to nothing to
// free; yet the two that the start's allocations set off cost about a
// quarter of the wall time of a one-hour run of
// benchmarks/simpy/scenario.yaml (15 alternated runs; see
// benchmarks/RESULTS.md). The heap grows meanwhile only by what the engine
// outgrows (the slab and queue arrays it replaces), which depends on the
// requests in flight at once, not on the simulated duration. A soft memory
// limit of the memory already obtained plus gcPauseHeadroom brings the
// collector back should the engine ever allocate more than that.
func pauseGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	oldPercent := debug.SetGCPercent(-1)
	oldLimit := debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), int64(ms.Sys)+gcPauseHeadroom))
	return func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	}
}

// gcPauseHeadroom is how much the heap may grow while pauseGC holds the
// collector off before the memory limit calls it back.
const gcPauseHeadroom = 1 << 30

// runInfo is run.json: wall-clock facts of a simulation, kept out of
// summary.json so that it stays a pure function of scenario and seed.
type runInfo struct {
	Engine            string  `json:"engine"`
	Started           string  `json:"started"` // RFC 3339, UTC
	WallSeconds       float64 `json:"wall_seconds"`
	SimulatedSeconds  float64 `json:"simulated_seconds"`
	Speedup           float64 `json:"speedup"` // simulated / wall time
	Events            uint64  `json:"events"`
	Attempts          uint64  `json:"attempts"`
	Requests          uint64  `json:"requests"`
	EventsPerSecond   float64 `json:"events_per_second"`
	AttemptsPerSecond float64 `json:"attempts_per_second"`
	GoVersion         string  `json:"go_version,omitempty"`
}

// simulateScenario loads arg, simulates it with opts and writes its outputs.
// Cancelling ctx stops the simulation; the results so far are written and
// the run ends with exit code 130.
func simulateScenario(ctx context.Context, arg string, opts simulateOptions, stdout, stderr io.Writer) error {
	l, err := loadRun(arg, opts.Duration, opts.Drain, opts.Thresholds, stderr)
	if err != nil {
		return err
	}
	sc, thresholds := l.sc, l.thresholds
	if opts.Duration > 0 {
		sc.Duration = opts.Duration
	}
	resolved, err := sc.Resolved()
	if err != nil {
		return fmt.Errorf("resolving scenario %s: %w", sc.Name, err)
	}
	seed := sc.Seed
	if opts.SeedSet {
		seed = opts.Seed
	}
	began := time.Now()
	out := opts.Out
	if out == "" {
		out = defaultOutDir(sc.Name, began)
	}

	// Recording and arrival draws on other goroutines when there is a core for them.
	dopts := des.Options{Seed: seed, Duration: sc.Duration, Drain: opts.Drain, Parallel: runtime.GOMAXPROCS(0) > 1}
	var bar *progressBar
	if !opts.Quiet {
		bar = newProgressBar(stderr)
		dopts.Progress = bar.update
	}
	restoreGC := pauseGC()
	res, err := des.Simulate(ctx, sc, dopts)
	restoreGC()
	wall := time.Since(began)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return fmt.Errorf("simulating %s: %w", sc.Name, err)
	}
	rec, meta, stats := res.Recorder, res.Meta, res.Stats
	meta.Thresholds = thresholds

	info := runInfo{Engine: report.EngineSimulated, Started: began.UTC().Format(time.RFC3339),
		WallSeconds: wall.Seconds(), SimulatedSeconds: stats.Simulated.Seconds(),
		Events: stats.Events, Attempts: stats.Attempts, Requests: stats.Requests}
	if w := wall.Seconds(); w > 0 {
		info.Speedup = info.SimulatedSeconds / w
		info.EventsPerSecond = float64(stats.Events) / w
		info.AttemptsPerSecond = float64(stats.Attempts) / w
	}
	fmt.Fprintf(stderr, "loadsim: simulated %s in %s (%.0f× real time, %d events, %.2f M attempts/s)\n",
		stats.Simulated.Round(time.Millisecond), wall.Round(time.Millisecond), info.Speedup,
		stats.Events, info.AttemptsPerSecond/1e6)

	_, err = finishRun(rec, meta, resolved, out, stdout)
	var ec exitCodeError
	if err != nil && !errors.As(err, &ec) {
		return err // the outputs could not be written
	}
	if werr := writeRunInfo(out, info); werr != nil {
		return werr
	}
	if meta.Partial {
		err = exitCodeError{exitInterrupted, errors.New("interrupted: results above are partial")}
	}
	return pushAfterRun(ctx, opts.Push, recorderGatherer(rec), out, err, stderr)
}

// writeRunInfo writes info as dir/run.json.
func writeRunInfo(dir string, info runInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding run.json: %w", err)
	}
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// progressBar draws simulated-time progress on stderr: a bar redrawn in
// place on a terminal, a line every 10 % otherwise.
type progressBar struct {
	w         io.Writer
	tty       bool
	lastTenth int
	drawn     bool
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressBar{w: w, tty: tty, lastTenth: -1}
}

// update is des.Options.Progress.
func (p *progressBar) update(simulated, total time.Duration) {
	frac := 1.0
	if total > 0 {
		frac = min(float64(simulated)/float64(total), 1)
	}
	if !p.tty {
		tenth := int(frac * 10)
		if tenth == p.lastTenth {
			return
		}
		p.lastTenth = tenth
		fmt.Fprintf(p.w, "simulated %s of %s (%d%%)\n", fmtSimTime(simulated), fmtSimTime(total), tenth*10)
		return
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %s of %s simulated", strings.Repeat("#", n), strings.Repeat(".", width-n),
		100*frac, fmtSimTime(simulated), fmtSimTime(total))
	p.drawn = true
}

// done ends the bar's line.
func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// fmtSimTime formats a simulated time as h:mm:ss.
func fmtSimTime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
