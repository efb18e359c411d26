package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loadsim/loadsim/report"
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

// readSavedComparison reads dir's comparison.json and its strategies'
// series.
func readSavedComparison(dir string) (*savedComparison, error) {
	if !isComparisonDir(dir) {
		return nil, usageError{fmt.Errorf("results directory %s: no %s (give the --out directory of a loadsim compare)", dir, report.ComparisonJSONFile)}
	}
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
			return usageError{fmt.Errorf("results directory %s is a run but %s is a comparison: merge runs with runs, comparisons with comparisons", d, dirs[0])}
		}
		p, err := readSavedComparison(d)
		if err != nil {
			return err
		}
		parts[i] = p
	}
	cmp := parts[0].Comparison
	out := opts.Out
	if len(parts) == 1 {
		if out == "" {
			out = parts[0].Dir
		}
	} else {
		labels := make([]shardPart, len(parts))
		cmps := make([]*report.Comparison, len(parts))
		for i, p := range parts {
			labels[i], cmps[i] = shardPart{p.Dir, p.Comparison.Shard}, p.Comparison
		}
		shards, err := mergedShards(labels, "comparison")
		if err != nil {
			return err
		}
		if cmp, err = report.MergeComparisons(cmps...); err != nil {
			return usageError{fmt.Errorf("merging %s: %w", strings.Join(dirs, ", "), err)}
		}
		cmp.Shard = shards
		if out == "" {
			out = defaultOutDir(parts[0].scenario()+"-compare-merged", now)
		}
		if err := checkOut(out, dirs); err != nil {
			return err
		}
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
		info := mergedInfo{Scenario: parts[0].scenario(), Complete: cmp.Shard == "", Parts: make([]mergedPart, len(parts))}
		labels := make([]shardPart, len(parts))
		for i, p := range parts {
			labels[i] = shardPart{p.Dir, p.Comparison.Shard}
			info.Parts[i] = p.part()
		}
		info.Shards = shardsOf(labels)
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
			mp.Requests += s.Requests.Total
			mp.Attempts += s.Attempts.Total
			mp.Partial = mp.Partial || s.Partial
		}
	}
	return mp
}
