package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

// savedComparison is the results directory of one `loadsim compare` (or of
// one of its shards) read back.
type savedComparison struct {
	Dir        string
	Comparison *report.Comparison
	// Series are the strategies' series (first seed), in ranking order; nil
	// when the directory keeps none (written by a loadsim before 2026-11-27).
	Series []strategySeries
}

// isComparisonDir reports whether dir holds a comparison's results.
func isComparisonDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, report.ComparisonJSONFile))
	return err == nil
}

// readSavedComparison reads dir's comparison.json (isComparisonDir) and its
// strategies' series.
func readSavedComparison(dir string) (*savedComparison, error) {
	c, err := report.ReadComparison(filepath.Join(dir, report.ComparisonJSONFile))
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: %w", dir, err)}
	}
	sc := &savedComparison{Dir: dir, Comparison: c}
	for _, name := range c.Ranking {
		se, err := report.ReadSeries(strategySeriesFile(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			sc.Series = nil
			break
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("results directory %s: strategy %s: %w", dir, name, err)}
		}
		sc.Series = append(sc.Series, strategySeries{name, se})
	}
	return sc, nil
}

// reportComparisons re-renders (one directory) or merges (several: the
// shards of one `loadsim compare --shard k/N`) comparisons into opts.Out:
// comparison.json and comparison.md, the strategies' series and the overlay
// plots (when every directory keeps its series), and merged.json when
// merging. It prints the table and the output directory, and returns an
// exitCodeError 99 when a complete comparison has no strategy meeting every
// SLO, as `loadsim compare` does.
func reportComparisons(dirs []string, opts reportOptions, now time.Time, stdout io.Writer) error {
	parts := make([]*savedComparison, len(dirs))
	for i, d := range dirs {
		if !isComparisonDir(d) {
			return usageError{fmt.Errorf("results directory %s has no %s but %s is a comparison: merge comparisons with comparisons", d, report.ComparisonJSONFile, dirs[0])}
		}
		p, err := readSavedComparison(d)
		if err != nil {
			return err
		}
		parts[i] = p
	}
	labels := make([]shardPart, len(parts))
	cmps := make([]*report.Comparison, len(parts))
	for i, p := range parts {
		labels[i], cmps[i] = shardPart{p.Dir, p.Comparison.Shard}, p.Comparison
	}
	cmp := cmps[0]
	if len(parts) > 1 {
		shards, err := mergedShards(labels, "comparison")
		if err != nil {
			return err
		}
		if cmp, err = report.MergeComparisons(cmps...); err != nil {
			return usageError{fmt.Errorf("merging %s: %w", strings.Join(dirs, ", "), err)}
		}
		cmp.Shard = shards
	}
	out, err := outDir(opts.Out, dirs, parts[0].scenario()+"-compare-merged", now)
	if err != nil {
		return err
	}
	if err := cmp.WriteFiles(out); err != nil {
		return fmt.Errorf("writing the comparison to --out %s: %w", out, err)
	}
	var lines []strategySeries
	for _, p := range parts {
		if p.Series == nil {
			lines = nil
			fmt.Fprintf(stdout, "plots: not drawn: %s keeps no strategy series (%s/); run its comparison again to have them\n", p.Dir, comparisonSeriesDir)
			break
		}
		lines = append(lines, p.Series...)
	}
	if lines != nil {
		if err := writeStrategySeries(out, lines); err != nil {
			return fmt.Errorf("writing the comparison to --out %s: %w", out, err)
		}
		if err := compareFigures(out, lines, cmp.Tenant); err != nil {
			return fmt.Errorf("writing plots to --out %s: %w", out, err)
		}
	}
	if len(parts) > 1 {
		info := mergedInfo{Scenario: parts[0].scenario(), Complete: cmp.Shard == "", Shards: shardsOf(labels), Parts: make([]mergedPart, len(parts))}
		for i, p := range parts {
			info.Parts[i] = p.part()
		}
		if err := writeMerged(out, info); err != nil {
			return err
		}
	}
	if err := cmp.WriteText(stdout); err != nil {
		return fmt.Errorf("printing the comparison: %w", err)
	}
	printResults(stdout, dirs, out)
	if cmp.Shard == "" && !cmp.AnyFeasible() {
		return exitCodeError{exitThresholds, fmt.Errorf("no strategy met every SLO (%d strategies)", len(cmp.Ranking))}
	}
	return nil
}

// scenario returns the name of the comparison's scenario.
func (p *savedComparison) scenario() string {
	return p.Comparison.Strategies[p.Comparison.Ranking[0]].Scenario
}

// part returns p's entry of merged.json: its strategies and the requests
// and attempts of all their runs.
func (p *savedComparison) part() mergedPart {
	mp := mergedPart{Dir: p.Dir, Shard: p.Comparison.Shard, Strategies: p.Comparison.Ranking}
	for _, e := range p.Comparison.Entries() {
		for _, s := range e.Runs {
			mp.add(s)
		}
	}
	return mp
}

// isSizingDir reports whether dir holds a sizing's results.
func isSizingDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, report.SizingJSONFile))
	return err == nil
}

// reportSizings re-renders (one directory) or merges (several: the shards
// of one `loadsim size --shard k/N`) sizings into opts.Out: sizing.json,
// sizing.md, the plots per SLO metric and, when merging, merged.json. The
// shards' tiers take their places in the whole sizing's order (shard k of N
// ran the tiers k−1, k−1+N, … of it, cheapest first), and the cheapest
// that met every SLO is chosen. A merge does not search the headroom: it
// prints the `size --tiers` command that does. It returns an exitCodeError
// 99 when all shards are merged and no tier met the SLOs, as `loadsim size`
// does.
func reportSizings(dirs []string, opts reportOptions, now time.Time, stdout io.Writer) error {
	parts := make([]*report.Sizing, len(dirs))
	labels := make([]shardPart, len(dirs))
	for i, d := range dirs {
		if !isSizingDir(d) {
			return usageError{fmt.Errorf("results directory %s has no %s but %s is a sizing: merge sizings with sizings", d, report.SizingJSONFile, dirs[0])}
		}
		sz, err := report.ReadSizing(filepath.Join(d, report.SizingJSONFile))
		if err != nil {
			return usageError{fmt.Errorf("results directory %s: %w", d, err)}
		}
		parts[i], labels[i] = sz, shardPart{d, sz.Shard}
	}
	sz := parts[0]
	if len(parts) > 1 {
		shards, err := mergedShards(labels, "sizing")
		if err != nil {
			return err
		}
		order, err := shardedOrder(labels, parts)
		if err != nil {
			return err
		}
		if sz, err = report.MergeSizings(order, parts...); err != nil {
			return usageError{fmt.Errorf("merging %s: %w", strings.Join(dirs, ", "), err)}
		}
		sz.Shard = shards
	}
	name := sz.Tiers[sz.Order[0]].Summary.Scenario
	out, err := outDir(opts.Out, dirs, name+"-size-merged", now)
	if err != nil {
		return err
	}
	if err := sz.WriteFiles(out); err != nil {
		return fmt.Errorf("writing the sizing to --out %s: %w", out, err)
	}
	if err := sizeFigures(out, sz); err != nil {
		return fmt.Errorf("writing plots to --out %s: %w", out, err)
	}
	if len(parts) > 1 {
		info := mergedInfo{Scenario: name, Complete: sz.Shard == "", Shards: shardsOf(labels)}
		for i, p := range parts {
			mp := mergedPart{Dir: dirs[i], Shard: p.Shard, Tiers: p.Order}
			for _, t := range p.Order {
				mp.add(p.Tiers[t].Summary)
			}
			info.Parts = append(info.Parts, mp)
		}
		if err := writeMerged(out, info); err != nil {
			return err
		}
	}
	if err := sz.WriteText(stdout); err != nil {
		return fmt.Errorf("printing the sizing: %w", err)
	}
	if len(parts) > 1 && sz.ChosenTier != "" {
		fmt.Fprintf(stdout, "headroom: not searched when merging shards; `loadsim size SCENARIO --tenant %s --slo … --tiers %s` searches it on that tier alone\n", sz.Tenant, sz.ChosenTier)
	}
	printResults(stdout, dirs, out)
	if sz.Shard == "" && sz.ChosenTier == "" {
		return exitCodeError{exitThresholds, fmt.Errorf("no tier met every SLO for tenant %s (%d tiers)", sz.Tenant, len(sz.Order))}
	}
	return nil
}

// shardedOrder returns the tiers of the shards' sizings in the whole
// sizing's order: shard k of N ran its tiers k−1, k−1+N, … (cheapest first),
// so its j-th tier is the whole order's (k−1)+j·N-th. Shards missing from
// the merge leave gaps, which are closed.
func shardedOrder(labels []shardPart, parts []*report.Sizing) ([]string, error) {
	type placed struct {
		pos  int
		tier string
	}
	var all []placed
	for i, l := range labels {
		if l.Shard == "" {
			return nil, usageError{fmt.Errorf("results directory %s is a whole sizing: merge only the shards of one sizing (size --shard k/N)", l.Dir)}
		}
		sh, err := scenario.ParseShard(l.Shard)
		if err != nil {
			return nil, usageError{fmt.Errorf("results directory %s: shard: %w", l.Dir, err)}
		}
		for j, t := range parts[i].Order {
			all = append(all, placed{sh.K - 1 + j*sh.N, t})
		}
	}
	slices.SortFunc(all, func(a, b placed) int { return a.pos - b.pos })
	order := make([]string, len(all))
	for i, p := range all {
		order[i] = p.tier
	}
	return order, nil
}
