package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/sim/sweep"
)

// defaultMaxHeadroom is the largest traffic multiplier `loadsim size`
// tries when searching the headroom.
const defaultMaxHeadroom = 100

// sizeOptions are the flags of `loadsim size`.
type sizeOptions struct {
	Tenant      string        // the tenant to size (required)
	SLOs        []string      // constraints (at least one)
	Tiers       []string      // tiers to try; none = every tier of the api section
	Seed        uint64        // used when SeedSet
	SeedSet     bool          // --seed was given
	Seeds       int           // seeds per tier; a tier must meet the SLOs on each
	Duration    time.Duration // > 0 overrides the scenario's
	Drain       time.Duration // bound on retries after the duration
	MaxHeadroom float64       // largest multiplier tried for the headroom
	Out         string        // output directory; "" = defaultOutDir
	Shard       string        // "k/N"
	Quiet       bool          // no progress on stderr
}

// newSizeCmd builds `loadsim size SCENARIO`.
func newSizeCmd(stdout, stderr io.Writer) *cobra.Command {
	var opts sizeOptions
	cmd := &cobra.Command{
		Use:   "size SCENARIO --tenant NAME --slo EXPR … [flags]",
		Short: "Find the cheapest tier on which a tenant's traffic meets its SLOs, and the headroom",
		Long: "Simulate the scenario with the tenant's key on each tier (tier1…tier5 and the api section's\n" +
			"own tiers, or --tiers), in parallel; report the cheapest tier meeting every --slo with its\n" +
			"margin, a table of all tiers, and the headroom on the chosen tier: the largest multiplier of\n" +
			"the tenant's traffic that still meets the SLOs (bisection to about 2 %). SLOs without\n" +
			"tenant(NAME). read the sized tenant. Writes sizing.json, sizing.md and a plot per SLO metric.\n" +
			"Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or flags, 99 no tier met the SLOs.",
		Example: "  loadsim size quota-exhaustion --tenant over-quota --slo 'success_rate >= 99%' --slo 'time_to_success_p99 <= 5s'\n" +
			"  loadsim size launch-day --tenant web --slo 'gave_up_rate <= 0.1%' --tiers tier2,tier3,tier4",
		Args: scenarioArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			if err := explicitDuration(cmd, opts.Duration); err != nil {
				return err
			}
			ctx, release := interruptContext(cmd.Context(), stderr, interruptSweep)
			defer release()
			return sizeScenario(ctx, args[0], opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Tenant, "tenant", "", "size tenant `NAME` (required)")
	f.StringArrayVar(&opts.SLOs, "slo", nil, "SLO `EXPR` the tier must meet, e.g. 'success_rate >= 99%' (repeatable, at least one)")
	f.StringSliceVar(&opts.Tiers, "tiers", nil, "try only these `TIERS`, comma-separated (default: every tier, cheapest first)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `N` of every simulation (default: the scenario's)")
	f.IntVar(&opts.Seeds, "seeds", 1, "simulate each tier with `N` seeds (seed, seed+1, …); a tier must meet the SLOs on every one")
	f.DurationVar(&opts.Duration, "duration", 0, "simulate `D` of traffic instead of the scenario's duration")
	f.DurationVar(&opts.Drain, "drain", 0, "after the duration, let requests still retrying go on at most `D` (0 = until they end)")
	f.Float64Var(&opts.MaxHeadroom, "max-headroom", defaultMaxHeadroom, "largest traffic multiplier `X` tried for the headroom")
	f.StringVar(&opts.Out, "out", "", "output `DIR` (default loadsim-out/<scenario>-size-<UTC time>)")
	f.StringVar(&opts.Shard, "shard", "", "run only shard `k/N` of the tiers (tier i runs on shard i mod N + 1; no headroom)")
	f.BoolVar(&opts.Quiet, "quiet", false, "no progress on stderr")
	return cmd
}

// sizeScenario runs `loadsim size` with opts.
func sizeScenario(ctx context.Context, arg string, opts sizeOptions, stdout, stderr io.Writer) error {
	s, err := setupSweep(arg, "size", opts.Seed, opts.SeedSet, opts.Seeds, opts.Duration, opts.Drain, opts.Shard, opts.Out, stderr)
	if err != nil {
		return err
	}
	switch {
	case opts.Tenant == "":
		return usageError{fmt.Errorf("--tenant: required: the tenant to size (tenants: %v)", s.names)}
	case !slices.Contains(s.names, opts.Tenant):
		return usageError{fmt.Errorf("--tenant %q: no such tenant in %s (tenants: %v)", opts.Tenant, s.sc.Name, s.names)}
	case len(opts.SLOs) == 0:
		return usageError{fmt.Errorf("--slo: at least one is required, e.g. --slo 'success_rate >= 99%%'")}
	case !(opts.MaxHeadroom >= 1) || opts.MaxHeadroom > 1e6:
		return usageError{fmt.Errorf("--max-headroom %g: must be in [1, 1e6]", opts.MaxHeadroom)}
	}
	slos, err := parseSLOs(opts.SLOs, s.names)
	if err != nil {
		return err
	}
	res, err := s.sc.API.Resolve()
	if err != nil {
		return usageError{fmt.Errorf("scenario %s: api section: %w", s.sc.Name, err)}
	}
	all := res.TierNames() // cheapest (lowest rank) first
	tiers := all
	if len(opts.Tiers) > 0 {
		for i := range opts.Tiers {
			opts.Tiers[i] = strings.TrimSpace(opts.Tiers[i])
		}
		tiers = nil
		for _, t := range all {
			if slices.Contains(opts.Tiers, t) {
				tiers = append(tiers, t)
			}
		}
		for _, t := range opts.Tiers {
			if !slices.Contains(all, t) {
				return usageError{fmt.Errorf("--tiers: unknown tier %q (tiers: %s)", t, strings.Join(all, ", "))}
			}
		}
	}
	variants := make([]sweep.Variant, len(tiers))
	for i, t := range tiers {
		variants[i] = sweep.Variant{Name: t, Tenant: opts.Tenant, Tier: t}
	}
	scoped := report.ScopeSLOs(slos, opts.Tenant)
	sopts := sweep.Options{Seed: s.seed, Seeds: opts.Seeds, Duration: opts.Duration, Drain: opts.Drain, Shard: s.shard,
		Thresholds: scoped, Progress: progressLines(stderr, opts.Quiet, "tiers simulated:")}
	began := time.Now()
	results, err := sweep.Run(ctx, s.sc, variants, sopts)
	if err != nil {
		return sweepError(ctx, err)
	}
	if len(results) == 0 {
		return usageError{fmt.Errorf("--shard %s: no tier falls on this shard (%d tiers)", opts.Shard, len(tiers))}
	}
	runs := make([]report.TierRun, len(results))
	for i, r := range results {
		runs[i] = report.TierRun{Tier: r.Variant.Name, Summary: r.Sims[0].Summary}
		for _, sim := range r.Sims[1:] {
			runs[i].More = append(runs[i].More, sim.Summary)
		}
	}
	sz, err := report.NewSizing(opts.Tenant, slos, runs)
	if err != nil {
		return err
	}
	sz.Shard = s.shard.String()
	if sz.ChosenTier != "" && s.shard.Whole() {
		if !opts.Quiet {
			fmt.Fprintf(stderr, "loadsim: searching the headroom of %s on %s\n", opts.Tenant, sz.ChosenTier)
		}
		ok := func(sum *report.Summary) bool { return sum.Passed() }
		sopts.Progress = nil
		m, capped, err := sweep.Headroom(ctx, s.sc, sweep.Variant{Tenant: opts.Tenant, Tier: sz.ChosenTier}, ok, sopts, opts.MaxHeadroom)
		if err != nil {
			return sweepError(ctx, err)
		}
		sz.Headroom, sz.HeadroomCapped = roundHeadroom(m), capped
	}
	if err := sz.WriteFiles(s.out); err != nil {
		return fmt.Errorf("writing results to --out %s: %w", s.out, err)
	}
	if err := sizeFigures(s.out, sz); err != nil {
		return fmt.Errorf("writing plots to --out %s: %w", s.out, err)
	}
	if err := sz.WriteText(stdout); err != nil {
		return fmt.Errorf("printing the sizing: %w", err)
	}
	fmt.Fprintf(stderr, "loadsim: sized in %s\n", time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "results: %s\n", s.out)
	if sz.ChosenTier == "" && s.shard.Whole() {
		return exitCodeError{exitThresholds, fmt.Errorf("no tier met every SLO for tenant %s (%d tiers tried)", opts.Tenant, len(tiers))}
	}
	return nil
}

// roundHeadroom rounds a multiplier to 3 decimals (the search is only good
// to 2 %).
func roundHeadroom(m float64) float64 {
	return float64(int64(m*1000+0.5)) / 1000
}

// sizeFigures writes one bar chart per SLO metric: the tenant's value on
// each tier (size-<metric>.png/.svg).
func sizeFigures(dir string, sz *report.Sizing) error {
	done := map[string]bool{}
	var jobs []plot.Job
	for i, slo := range sz.SLOs {
		key := slo.Tenant + "." + slo.Metric
		if done[key] {
			continue
		}
		done[key] = true
		values := make([]float64, len(sz.Order))
		for j, t := range sz.Order {
			values[j] = sz.Tiers[t].SLOs[i].Value
		}
		name := slo.Metric
		if slo.Tenant != "" && slo.Tenant != sz.Tenant {
			name = slo.Tenant + "-" + slo.Metric
		}
		scopeTenant := slo.Tenant
		if scopeTenant == "" {
			scopeTenant = sz.Tenant
		}
		jobs = append(jobs, plot.Job{Base: "size-" + name, Build: func() (plot.Panels, error) {
			return plot.One(plot.Bars(fmt.Sprintf("%s of tenant %s by tier (SLO %s)", slo.Metric, scopeTenant, slo.Expr),
				metricAxisLabel(slo.Metric), sz.Order, []plot.BarGroup{{Values: values}}))
		}})
	}
	return plot.SaveAll(dir, jobs)
}

// metricAxisLabel is a metric's name with its unit, e.g.
// "time_to_success_p99 (seconds)".
func metricAxisLabel(metric string) string {
	unit := "count"
	for _, m := range report.ThresholdMetrics() {
		if m.Name == metric {
			unit, _, _ = strings.Cut(m.Unit, " (")
		}
	}
	return metric + " (" + unit + ")"
}
