package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/sweep"
)

// compareOptions are the flags of `loadsim compare`.
type compareOptions struct {
	Strategies []string      // --strategy: presets or strategy files; none = the scenario's compare list
	Tenant     string        // only this tenant's strategy changes; "" = every tenant's
	Objective  string        // ranking metric; "" = report.DefaultObjective
	SLOs       []string      // constraints
	Seed       uint64        // first seed, used when SeedSet
	SeedSet    bool          // --seed was given
	Seeds      int           // runs per strategy
	Duration   time.Duration // > 0 overrides the scenario's
	Drain      time.Duration // bound on retries after the duration
	Out        string        // output directory; "" = defaultOutDir
	Live       bool          // run live against the in-process mock instead of simulating
	NoAlign    bool          // --no-align: start each live run at once, not at the same second of the UTC minute
	Shard      string        // "k/N"
	Quiet      bool          // no progress on stderr
}

// newCompareCmd builds `loadsim compare SCENARIO`.
func newCompareCmd(stdout, stderr io.Writer) *cobra.Command {
	var opts compareOptions
	cmd := &cobra.Command{
		Use:   "compare SCENARIO --strategy A --strategy B … [flags]",
		Short: "Simulate a scenario once per retry strategy and rank the strategies",
		Long: "Simulate the scenario once per strategy (presets or strategy YAML files; without --strategy,\n" +
			"the scenario's compare: list), in parallel over the cores, with the same seed and arrivals.\n" +
			"--strategy replaces every tenant's strategy, or only --tenant's (the table and unscoped SLOs\n" +
			"then read that tenant). Strategies meeting every --slo on every seed rank first, then by\n" +
			"--objective. Writes comparison.json, comparison.md, each strategy's series (series/) and\n" +
			"overlay plots into --out and prints the table. --seeds N runs seeds s…s+N−1 and shows mean\n" +
			"±sd. --shard k/N runs every N-th strategy; `loadsim report` merges the shards' directories.\n" +
			"--live runs the strategies live against the in-process mock, one after another, each starting\n" +
			"at the same second of the UTC minute so that all meet the quota windows alike (--no-align: at once).\n" +
			"Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or flags, 99 no strategy met the SLOs.",
		Example: "  loadsim compare quota-exhaustion\n" +
			"  loadsim compare quota-exhaustion --strategy naive-immediate --strategy compresr-recommended \\\n" +
			"      --tenant over-quota --objective amplification --slo 'success_rate >= 90%'\n" +
			"  loadsim compare demo --strategy brooker-full --strategy brooker-equal --seeds 10",
		Args: scenarioArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			if err := explicitDuration(cmd, opts.Duration); err != nil {
				return err
			}
			ctx, release := interruptContext(cmd.Context(), stderr, interruptSweep)
			defer release()
			return compareScenario(ctx, args[0], opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Strategies, "strategy", nil, "a strategy `PRESET|FILE` to compare (repeatable; default the scenario's compare: list)")
	f.StringVar(&opts.Tenant, "tenant", "", "change only tenant `NAME`'s strategy and report on it (default: every tenant)")
	f.StringVar(&opts.Objective, "objective", "", "rank by `METRIC` ([max:|min:][tenant(NAME).]metric, e.g. amplification, p99_time_to_success; default success_rate)")
	f.StringArrayVar(&opts.SLOs, "slo", nil, "constraint `EXPR` every ranked-first strategy must meet, e.g. 'success_rate >= 99%' (repeatable)")
	f.Uint64Var(&opts.Seed, "seed", 0, "first seed `N` (default: the scenario's)")
	f.IntVar(&opts.Seeds, "seeds", 1, "run each strategy with `N` seeds (seed, seed+1, …) and report mean and standard deviation")
	f.DurationVar(&opts.Duration, "duration", 0, "simulate `D` of traffic instead of the scenario's duration")
	f.DurationVar(&opts.Drain, "drain", 0, "after the duration, let requests still retrying go on at most `D` (0 = until they end)")
	f.StringVar(&opts.Out, "out", "", "output `DIR` (default loadsim-out/<scenario>-compare-<UTC time>)")
	f.BoolVar(&opts.Live, "live", false, "run each strategy live against the in-process mock, one after another (each at the same second of the UTC minute), instead of simulating")
	f.BoolVar(&opts.NoAlign, "no-align", false, "with --live, start each strategy at once instead of at the same second of the UTC minute")
	f.StringVar(&opts.Shard, "shard", "", "run only shard `k/N` of the strategies (strategy i runs on shard i mod N + 1)")
	f.BoolVar(&opts.Quiet, "quiet", false, "no progress on stderr")
	return cmd
}

// interruptContext returns ctx cancelled by the first SIGINT or SIGTERM,
// after printing msg (see interruptStop).
func interruptContext(parent context.Context, stderr io.Writer, msg string) (context.Context, func()) {
	stop, release := interruptStop(stderr, msg)
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(); <-done; release() }
}

// sweepSetup is what compare and size share: the scenario, its seed, the
// shard and the output directory.
type sweepSetup struct {
	*loadedRun // the scenario and its tenants' names (its thresholds are not used: SLOs come from --slo)
	seed       uint64
	shard      scenario.Shard
	out        string
}

// setupSweep loads arg and checks the flags both commands share.
func setupSweep(arg, kind string, seed uint64, seedSet bool, seeds int, duration, drain time.Duration, shard, out string, stderr io.Writer) (*sweepSetup, error) {
	l, err := loadRun(arg, duration, drain, nil, stderr)
	if err != nil {
		return nil, err
	}
	if seeds < 1 {
		return nil, usageError{fmt.Errorf("--seeds %d: must be ≥ 1", seeds)}
	}
	sc := l.sc
	s := &sweepSetup{loadedRun: l, seed: sc.Seed, out: out}
	if seedSet {
		s.seed = seed
	}
	if s.shard, err = shardFlag(shard); err != nil {
		return nil, err
	}
	if s.out == "" {
		s.out = defaultOutDir(sc.Name+"-"+kind, time.Now())
	}
	return s, nil
}

// parseSLOs parses --slo expressions, checking tenant names; problems are
// usage errors naming the flag.
func parseSLOs(exprs, tenants []string) ([]report.Threshold, error) {
	out, errs := parseExprs("--slo", exprs, tenants)
	if len(errs) > 0 {
		return nil, usageError{errors.Join(errs...)}
	}
	return out, nil
}

// progressLines returns a sweep progress callback printing "ran 3 of 6
// simulations" on w, or nil when quiet.
func progressLines(w io.Writer, quiet bool, what string) func(done, total int) {
	if quiet {
		return nil
	}
	return func(done, total int) { fmt.Fprintf(w, "loadsim: %s %d of %d\n", what, done, total) }
}

// sweepError turns a sweep's error into the command's: an interruption
// exits 130.
func sweepError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return exitCodeError{exitInterrupted, fmt.Errorf("interrupted, no results written: %w", err)}
	}
	return err
}

// compareScenario runs `loadsim compare` with opts.
func compareScenario(ctx context.Context, arg string, opts compareOptions, stdout, stderr io.Writer) error {
	if opts.NoAlign && !opts.Live {
		return usageError{errors.New("--no-align: only live runs are aligned (simulated strategies all start at midnight UTC): add --live or drop --no-align")}
	}
	s, err := setupSweep(arg, "compare", opts.Seed, opts.SeedSet, opts.Seeds, opts.Duration, opts.Drain, opts.Shard, opts.Out, stderr)
	if err != nil {
		return err
	}
	if opts.Tenant != "" && !slices.Contains(s.names, opts.Tenant) {
		return usageError{fmt.Errorf("--tenant %q: no such tenant in %s (tenants: %v)", opts.Tenant, s.sc.Name, s.names)}
	}
	objText := opts.Objective
	if objText == "" {
		objText = report.DefaultObjective
	}
	obj, err := report.ParseObjective(objText)
	if err != nil {
		return usageError{fmt.Errorf("--objective: %w", err)}
	}
	if obj.Tenant == "" {
		obj.Tenant = opts.Tenant
	} else if !slices.Contains(s.names, obj.Tenant) {
		return usageError{fmt.Errorf("--objective %q: no such tenant %q (tenants: %v)", objText, obj.Tenant, s.names)}
	}
	slos, err := parseSLOs(opts.SLOs, s.names)
	if err != nil {
		return err
	}
	if opts.Tenant != "" {
		slos = report.ScopeSLOs(slos, opts.Tenant)
	}
	variants, err := strategyVariants(s.sc, opts.Strategies, opts.Tenant)
	if err != nil {
		return err
	}

	align := time.Duration(0) // live runs: the quota's UTC minute
	if opts.NoAlign {
		align = -1
	}
	var aligned func(time.Duration)
	if !opts.Quiet {
		aligned = func(phase time.Duration) { fmt.Fprintln(stderr, alignNote(phase)) }
	}
	began := time.Now()
	results, err := sweep.Run(ctx, s.sc, variants, sweep.Options{Seed: s.seed, Seeds: opts.Seeds, Duration: opts.Duration,
		Drain: opts.Drain, Shard: s.shard, Series: true, Thresholds: slos, Live: opts.Live, Align: align, Aligned: aligned,
		Progress: progressLines(stderr, opts.Quiet, "strategy runs done:")})
	var stopped *sweep.StoppedError
	if err != nil && (!errors.As(err, &stopped) || len(results) == 0) {
		return sweepError(ctx, err)
	}
	if len(results) == 0 {
		return usageError{fmt.Errorf("--shard %s: no strategy falls on this shard (%d strategies)", opts.Shard, len(variants))}
	}
	entries := make([]report.CompareRuns, len(results))
	for i, r := range results {
		entries[i].Name = r.Variant.Name
		for _, sim := range r.Sims {
			entries[i].Runs = append(entries[i].Runs, sim.Summary)
		}
	}
	cmp, err := report.NewComparison(entries, obj, opts.Tenant)
	if err != nil {
		return err
	}
	cmp.Shard = s.shard.String()
	if stopped != nil {
		// Interrupted: keep what was measured, the strategies that finished.
		cmp.Interrupted = fmt.Sprintf("%d of %d strategies ran", stopped.Done, stopped.Total)
	}
	if err := cmp.WriteFiles(s.out); err != nil {
		return fmt.Errorf("writing results to --out %s: %w", s.out, err)
	}
	lines := make([]strategySeries, 0, len(results))
	for _, r := range results {
		if se := r.Sims[0].Series; se != nil {
			lines = append(lines, strategySeries{r.Variant.Name, se})
		}
	}
	if err := writeStrategySeries(s.out, lines); err != nil {
		return fmt.Errorf("writing results to --out %s: %w", s.out, err)
	}
	if err := compareFigures(s.out, lines, opts.Tenant); err != nil {
		return fmt.Errorf("writing plots to --out %s: %w", s.out, err)
	}
	if err := cmp.WriteText(stdout); err != nil {
		return fmt.Errorf("printing the comparison: %w", err)
	}
	fmt.Fprintf(stderr, "loadsim: %d runs in %s\n", len(results)*max(opts.Seeds, 1), time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "results: %s\n", s.out)
	if stopped != nil {
		return exitCodeError{exitInterrupted, fmt.Errorf("interrupted: the comparison above covers the %s", cmp.Interrupted)}
	}
	if !cmp.AnyFeasible() && s.shard.Whole() {
		return exitCodeError{exitThresholds, fmt.Errorf("no strategy met every SLO (%d strategies)", len(results))}
	}
	return nil
}

// alignNote is the line compare --live prints when it picks phase, the
// second of the UTC minute every live run starts at.
func alignNote(phase time.Duration) string {
	return fmt.Sprintf("loadsim: live strategies start at the same second of the UTC minute (:%06.3f), so that each meets "+
		"the quota windows at the same point; this waits up to a minute between strategies (--no-align: start each at once)", phase.Truncate(time.Millisecond).Seconds())
}

// strategyVariants returns one variant per --strategy, or per entry of the
// scenario's compare list. Names are the presets', the files' base names or
// the scenario entries' descriptions, made unique with a -2, -3… suffix.
func strategyVariants(sc *scenario.Scenario, flags []string, tenant string) ([]sweep.Variant, error) {
	var vs []sweep.Variant
	used := map[string]int{}
	add := func(name string, st scenario.Strategy) {
		used[name]++
		if n := used[name]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		vs = append(vs, sweep.Variant{Name: name, Tenant: tenant, Strategy: &st})
	}
	if len(flags) == 0 {
		if len(sc.Compare) == 0 {
			return nil, usageError{fmt.Errorf("no strategies to compare: give --strategy PRESET|FILE (at least one) or a compare: list in the scenario")}
		}
		for _, st := range sc.Compare {
			add(st.String(), st)
		}
		return vs, nil
	}
	for _, f := range flags {
		st, name, err := sweep.ParseStrategy(f)
		if err != nil {
			return nil, usageError{fmt.Errorf("--strategy: %w", err)}
		}
		add(name, st)
	}
	return vs, nil
}

// strategySeries is one strategy's series (of its first seed) in a
// comparison.
type strategySeries struct {
	Name   string
	Series *report.Series
}

// comparisonSeriesDir is the directory of a comparison's output that keeps
// each strategy's series.json (first seed), so that `loadsim report` can
// draw the overlay plots again, of one comparison or of its shards merged.
const comparisonSeriesDir = "series"

// strategySeriesFile returns the path of strategy name's series in a
// comparison's directory dir: the name with every byte but ASCII letters,
// digits, '-', '_' and '.' written %XX (a strategy file's base name may
// hold anything), then ".json".
func strategySeriesFile(dir, name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(dir, comparisonSeriesDir, b.String()+".json")
}

// writeStrategySeries writes each strategy's series into dir's series
// directory.
func writeStrategySeries(dir string, lines []strategySeries) error {
	if err := os.MkdirAll(filepath.Join(dir, comparisonSeriesDir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", comparisonSeriesDir, err)
	}
	for _, l := range lines {
		var b bytes.Buffer
		if err := l.Series.WriteJSON(&b); err != nil {
			return fmt.Errorf("strategy %s: %w", l.Name, err)
		}
		if err := os.WriteFile(strategySeriesFile(dir, l.Name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("strategy %s: %w", l.Name, err)
		}
	}
	return nil
}

// compareFigures writes the overlay plots of a comparison (first seed of
// each strategy): attempts/s and successes/s over time, and the
// time-to-success CDFs; of one tenant when tenant is set.
func compareFigures(dir string, lines []strategySeries, tenant string) error {
	attempts := func(b *report.Bucket) uint64 { return b.Attempts.Total() }
	successes := func(b *report.Bucket) uint64 { return b.Successes }
	var att, succ []plot.Line
	var cdfs []plot.CDF
	for _, l := range lines {
		se := l.Series
		var hists []string
		for i := range se.Tenants {
			t := &se.Tenants[i]
			if tenant == "" || t.Name == tenant {
				hists = append(hists, t.Totals.Histograms.TimeToSuccess)
			}
			if t.Name == tenant {
				att = append(att, plot.TenantRateLine(l.Name, se, t, attempts))
				succ = append(succ, plot.TenantRateLine(l.Name, se, t, successes))
			}
		}
		if tenant == "" {
			att = append(att, plot.RateLine(l.Name, se, attempts))
			succ = append(succ, plot.RateLine(l.Name, se, successes))
		}
		c, err := plot.MergedHistogramCDF(l.Name, hists...)
		if err != nil {
			return err
		}
		cdfs = append(cdfs, c)
	}
	scope := ""
	if tenant != "" {
		scope = " — tenant " + tenant
	}
	return plot.SaveAll(dir, []plot.Job{
		{Base: "compare-attempts", Build: func() (plot.Panels, error) {
			return plot.One(plot.TimeLines("Attempts per second by strategy"+scope, "attempts/s", att))
		}},
		{Base: "compare-successes", Build: func() (plot.Panels, error) {
			return plot.One(plot.TimeLines("Successes per second by strategy"+scope, "successes/s", succ))
		}},
		{Base: "compare-time-to-success", Build: func() (plot.Panels, error) {
			return plot.One(plot.CDFs("Time to success by strategy"+scope, "time to success (s)", cdfs))
		}},
	})
}
