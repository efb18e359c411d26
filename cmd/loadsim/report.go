package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/htmlreport"
	"github.com/loadsim/loadsim/scenario"
)

// MergedFile is the file `loadsim report` writes beside a merged report: the
// results directories it merged, in the order given.
const MergedFile = "merged.json"

// reportOptions are the flags of `loadsim report`.
type reportOptions struct {
	Out string // output directory; "" = the directory itself (one) or defaultOutDir(<scenario>-merged) (several)
}

// newReportCmd builds `loadsim report DIR…`.
func newReportCmd(stdout, stderr io.Writer) *cobra.Command {
	var opts reportOptions
	cmd := &cobra.Command{
		Use:   "report DIR... [--out DIR]",
		Short: "Re-render a run's report, a comparison or a sizing, or merge the shards of one",
		Long: "With one results directory (the --out of a run or simulation), re-render its report\n" +
			"(summary.md, figures, report.html) from series.json and summary.json, into the same directory\n" +
			"unless --out is given. With several (the shards of one run, `run --shard k/N`), merge them into\n" +
			"one exact report: counters add, HDR histograms merge, time series align on time, the thresholds\n" +
			"are judged again on the merged summary; merged.json lists the directories merged.\n" +
			"The --out directories of `compare` (one, or the shards of one `compare --shard k/N`) give the\n" +
			"comparison of all their strategies, ranked again: comparison.json and comparison.md as one\n" +
			"compare would have written them, the overlay plots, and merged.json. Those of `size --shard\n" +
			"k/N` give the sizing of all their tiers, in order, with the cheapest meeting every SLO (the\n" +
			"headroom is left to `size --tiers CHOSEN`).\n" +
			"Exit codes: 0 ok, 1 runtime error, 2 unreadable or incompatible directories, 99 a threshold\n" +
			"failed (a run), no strategy met every SLO (all shards of a comparison) or no tier did (all\n" +
			"shards of a sizing).",
		Example: "  loadsim report loadsim-out/demo-20260102T030405Z\n" +
			"  loadsim report results/shard-1 results/shard-2 results/shard-3 results/shard-4 --out results/merged\n" +
			"  loadsim report compare/shard-1 compare/shard-2 --out compare/merged",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%q needs at least one results directory (the --out of a run, simulation, comparison or sizing)", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return reportDirs(args, opts, time.Now(), stdout)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "output `DIR` (default: the directory itself for one, loadsim-out/<scenario>-merged-<UTC time> for several)")
	return cmd
}

// savedRun is one results directory read back.
type savedRun struct {
	Dir      string
	Summary  *report.Summary
	Series   *report.Series
	Scenario []byte // scenario.yaml; nil when absent
}

// readSavedRun reads dir's summary.json, series.json and scenario.yaml (if
// present) and checks that summary and series belong together.
func readSavedRun(dir string) (*savedRun, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: %w", dir, err)}
	}
	if !st.IsDir() {
		return nil, usageError{fmt.Errorf("results directory %s: not a directory (give the --out directory of a run)", dir)}
	}
	s, err := report.ReadSummary(filepath.Join(dir, report.SummaryJSONFile))
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: %w (is it the --out of a run?)", dir, err)}
	}
	series, err := report.ReadSeries(filepath.Join(dir, report.SeriesJSONFile))
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: %w (is it the --out of a run?)", dir, err)}
	}
	run := &savedRun{Dir: dir, Summary: s, Series: series}
	if b, err := os.ReadFile(filepath.Join(dir, report.ScenarioFile)); err == nil {
		run.Scenario = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("results directory %s: %w", dir, err)
	}
	meta, err := metaOf(s)
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: summary.json: %w", dir, err)}
	}
	again, err := series.Summary(meta)
	if err != nil {
		return nil, usageError{fmt.Errorf("results directory %s: series.json: %w", dir, err)}
	}
	if again.Requests.Total != s.Requests.Total || again.Attempts.Total != s.Attempts.Total {
		return nil, usageError{fmt.Errorf("results directory %s: summary.json (%d requests, %d attempts) and series.json (%d requests, %d attempts) are not of the same run: restore both files from one run",
			dir, s.Requests.Total, s.Attempts.Total, again.Requests.Total, again.Attempts.Total)}
	}
	return run, nil
}

// metaOf rebuilds the Meta a summary was computed with: identity, plan,
// incidents and thresholds (parsed again from their expressions).
func metaOf(s *report.Summary) (report.Meta, error) {
	m := report.Meta{Scenario: s.Scenario, Engine: s.Engine, Seed: s.Seed,
		Duration: time.Duration(math.Round(s.DurationSeconds * 1e9)), Partial: s.Partial, Shard: s.Shard,
		PartialReason: s.PartialReason, MaxRequests: s.MaxRequests,
		OfferedRPS: s.OfferedRPS, TenantOfferedRPS: map[string]float64{}}
	for name, t := range s.Tenants {
		m.TenantOfferedRPS[name] = t.OfferedRPS
	}
	for _, w := range s.Incidents {
		m.Incidents = append(m.Incidents, report.Window{Start: time.Duration(math.Round(w.StartSeconds * 1e9)),
			Duration: time.Duration(math.Round(w.DurationSeconds * 1e9))})
	}
	for _, r := range s.Thresholds {
		th, err := report.ParseThreshold(r.Expr)
		if err != nil {
			return report.Meta{}, fmt.Errorf("threshold %q: %w", r.Expr, err)
		}
		m.Thresholds = append(m.Thresholds, th)
	}
	return m, nil
}

// mergedInfo is merged.json.
type mergedInfo struct {
	Scenario string       `json:"scenario"`
	Shards   string       `json:"shards,omitempty"` // the shards merged ("1,2,3,4/4"); absent when whole runs were merged
	Complete bool         `json:"complete"`         // every shard 1..N is present (or whole runs were merged)
	Parts    []mergedPart `json:"parts"`
}

// mergedPart is one merged directory in merged.json.
type mergedPart struct {
	Dir   string `json:"dir"`
	Shard string `json:"shard,omitempty"` // "k/N"; absent for a whole run
	// Strategies are a comparison's strategies, in its ranking; Tiers a
	// sizing's tiers, cheapest first.
	Strategies []string `json:"strategies,omitempty"`
	Tiers      []string `json:"tiers,omitempty"`
	// Requests and Attempts count the run's, or all runs of a comparison
	// (every strategy and seed), or the first seed's runs of a sizing.
	Requests uint64 `json:"requests"`
	Attempts uint64 `json:"attempts"`
	Partial  bool   `json:"partial"`
}

// add counts s's requests and attempts into p, which is partial when any
// summary added is.
func (p *mergedPart) add(s *report.Summary) {
	p.Requests += s.Requests.Total
	p.Attempts += s.Attempts.Total
	p.Partial = p.Partial || s.Partial
}

// mergedPartialReason is the partial reason of shards whose reasons are a
// and b: an interruption outranks the attempt cap, which outranks none.
func mergedPartialReason(a, b string) string {
	for _, r := range []string{report.PartialInterrupted, report.PartialMaxRequests} {
		if a == r || b == r {
			return r
		}
	}
	return cmp.Or(a, b)
}

// mergeRuns merges the results of shards of one run into one summary and
// series. Shards must share scenario, engine, seed, tenants and bucket width;
// errors name the directories and the fix. The merged duration is the
// longest shard's, offered rates add (each shard offers its part), the run is
// partial when any shard is (interrupted when any shard was, else stopped at
// the attempt cap), its cap is the shards' when they share one, and the
// thresholds (union by expression, in order of first appearance) are judged
// on the merged summary.
func mergeRuns(runs []*savedRun) (*report.Summary, *report.Series, error) {
	first := runs[0]
	meta, err := metaOf(first.Summary)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("results directory %s: summary.json: %w", first.Dir, err)}
	}
	meta.OfferedRPS, meta.TenantOfferedRPS, meta.Duration = 0, map[string]float64{}, 0
	seen := map[string]bool{}
	for _, th := range meta.Thresholds {
		seen[th.Expr] = true
	}
	tenants := tenantNames(first.Series)
	dirs := map[string]string{}
	parts := make([]*report.Series, len(runs))
	for i, r := range runs {
		s := r.Summary
		abs, err := filepath.Abs(r.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("results directory %s: %w", r.Dir, err)
		}
		if prev, ok := dirs[abs]; ok {
			return nil, nil, usageError{fmt.Errorf("results directories %s and %s are the same directory: give each shard's directory once", prev, r.Dir)}
		}
		dirs[abs] = r.Dir
		mismatch := func(what, a, b string) error {
			return usageError{fmt.Errorf("results directories %s and %s have different %s (%s, %s): merge only the shards of one run (same scenario, seed and --duration, `run --shard k/N`)",
				first.Dir, r.Dir, what, a, b)}
		}
		switch {
		case s.Scenario != first.Summary.Scenario:
			return nil, nil, mismatch("scenarios", first.Summary.Scenario, s.Scenario)
		case s.Engine != first.Summary.Engine:
			return nil, nil, mismatch("engines", first.Summary.Engine, s.Engine)
		case s.Seed != first.Summary.Seed:
			return nil, nil, mismatch("seeds", fmt.Sprint(first.Summary.Seed), fmt.Sprint(s.Seed))
		case r.Series.BucketSeconds != first.Series.BucketSeconds:
			return nil, nil, mismatch("bucket widths (bucket_seconds, set by the planned duration)",
				fmt.Sprint(first.Series.BucketSeconds), fmt.Sprint(r.Series.BucketSeconds))
		case !slices.Equal(tenantNames(r.Series), tenants):
			return nil, nil, mismatch("tenants", strings.Join(tenants, ","), strings.Join(tenantNames(r.Series), ","))
		}
		m, err := metaOf(s)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("results directory %s: summary.json: %w", r.Dir, err)}
		}
		meta.Duration = max(meta.Duration, m.Duration)
		meta.Partial = meta.Partial || m.Partial
		meta.PartialReason = mergedPartialReason(meta.PartialReason, m.PartialReason)
		if m.MaxRequests != first.Summary.MaxRequests {
			meta.MaxRequests = 0 // shards capped differently: no one cap to name
		}
		meta.OfferedRPS += m.OfferedRPS
		for name, v := range m.TenantOfferedRPS {
			meta.TenantOfferedRPS[name] += v
		}
		for _, th := range m.Thresholds {
			if !seen[th.Expr] {
				seen[th.Expr] = true
				meta.Thresholds = append(meta.Thresholds, th)
			}
		}
		parts[i] = r.Series
	}
	shards, err := mergedShards(runShards(runs), "run")
	if err != nil {
		return nil, nil, err
	}
	meta.Shard = shards
	series, err := report.MergeSeries(parts...)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("merging %s: %w", strings.Join(dirList(runs), ", "), err)}
	}
	sum, err := series.Summary(meta)
	if err != nil {
		return nil, nil, fmt.Errorf("summary of the merged series: %w", err)
	}
	return sum, series, nil
}

// shardPart is one directory being merged and its shard label ("k/N", or
// "" for a whole run, comparison or sizing).
type shardPart struct{ Dir, Shard string }

// runShards returns the shard labels of runs.
func runShards(runs []*savedRun) []shardPart {
	out := make([]shardPart, len(runs))
	for i, r := range runs {
		out[i] = shardPart{r.Dir, r.Summary.Shard}
	}
	return out
}

// mergedShards checks the shard labels of parts: all absent (whole runs,
// e.g. repeated runs of one scenario), or all "k/N" with one N and distinct
// k. It returns the merged result's shard label: "" for whole runs or all N
// shards, else the shards present, e.g. "1,3/4", so that an incomplete merge
// shows. what names the results in errors: "run", "comparison" or
// "sizing".
func mergedShards(parts []shardPart, what string) (string, error) {
	n := 0
	var ks []int
	owner := map[int]string{}
	for i, r := range parts {
		label := r.Shard
		if label == "" {
			if n != 0 {
				return "", usageError{fmt.Errorf("results directory %s is a whole %s but %s is shard %s: merge only the shards of one %[2]s", r.Dir, what, parts[0].Dir, parts[0].Shard)}
			}
			continue
		}
		sh, err := scenario.ParseShard(label)
		if err != nil {
			return "", usageError{fmt.Errorf("results directory %s: shard: %w", r.Dir, err)}
		}
		switch {
		case len(ks) == 0 && i > 0:
			return "", usageError{fmt.Errorf("results directory %s is shard %s but %s is a whole %s: merge only the shards of one %[4]s", r.Dir, label, parts[0].Dir, what)}
		case n != 0 && sh.N != n:
			return "", usageError{fmt.Errorf("results directories %s and %s are shards split %d and %d ways: merge the shards of one %s", parts[0].Dir, r.Dir, n, sh.N, what)}
		case owner[sh.K] != "":
			return "", usageError{fmt.Errorf("results directories %s and %s are both shard %s: give each shard's results once", owner[sh.K], r.Dir, label)}
		}
		n = sh.N
		owner[sh.K] = r.Dir
		ks = append(ks, sh.K)
	}
	if len(ks) == 0 || len(ks) == n {
		return "", nil
	}
	return shardList(ks, n), nil
}

// shardList returns shards ks of n as "1,3/4".
func shardList(ks []int, n int) string {
	ks = slices.Sorted(slices.Values(ks))
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprint(k)
	}
	return fmt.Sprintf("%s/%d", strings.Join(parts, ","), n)
}

// printResults prints which directories were merged, when several, then
// the output directory.
func printResults(w io.Writer, dirs []string, out string) {
	if len(dirs) > 1 {
		fmt.Fprintf(w, "merged %d results directories: %s\n", len(dirs), strings.Join(dirs, " "))
	}
	fmt.Fprintf(w, "results: %s\n", out)
}

// outDir returns the directory `loadsim report` writes into: out (--out)
// when given, else the directory itself when there is one, else
// defaultOutDir(name, now). When merging several, out must not be one of
// them.
func outDir(out string, dirs []string, name string, now time.Time) (string, error) {
	if len(dirs) == 1 {
		if out == "" {
			return dirs[0], nil
		}
		return out, nil
	}
	if out == "" {
		out = defaultOutDir(name, now)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("--out %s: %w", out, err)
	}
	for _, d := range dirs {
		if abs, _ := filepath.Abs(d); abs == absOut {
			return "", usageError{fmt.Errorf("--out %s is one of the directories being merged: choose another directory, e.g. --out %s", out, filepath.Join(filepath.Dir(out), "merged"))}
		}
	}
	return out, nil
}

func tenantNames(s *report.Series) []string {
	out := make([]string, len(s.Tenants))
	for i, t := range s.Tenants {
		out[i] = t.Name
	}
	return out
}

func dirList(runs []*savedRun) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Dir
	}
	return out
}

// reportDirs re-renders (one dir) or merges (several) results directories
// into opts.Out: summary.json, summary.md, series.json, scenario.yaml (the
// first directory's), the figures and report.html (htmlreport.WriteRun), and
// merged.json when merging. It prints the one-screen summary, the output
// directory and, last, the path of report.html, as a run does, and returns
// nil or an exitCodeError 99 when a threshold failed.
func reportDirs(dirs []string, opts reportOptions, now time.Time, stdout io.Writer) error {
	switch {
	case isComparisonDir(dirs[0]):
		return reportComparisons(dirs, opts, now, stdout)
	case isSizingDir(dirs[0]):
		return reportSizings(dirs, opts, now, stdout)
	}
	runs := make([]*savedRun, len(dirs))
	for i, d := range dirs {
		if isComparisonDir(d) || isSizingDir(d) {
			return usageError{fmt.Errorf("results directory %s is a comparison or sizing but %s is a run: merge runs with runs, comparisons with comparisons, sizings with sizings", d, dirs[0])}
		}
		r, err := readSavedRun(d)
		if err != nil {
			return err
		}
		runs[i] = r
	}
	var (
		sum    *report.Summary
		series *report.Series
		err    error
	)
	if len(runs) == 1 {
		r := runs[0]
		meta, err := metaOf(r.Summary)
		if err != nil {
			return usageError{fmt.Errorf("results directory %s: summary.json: %w", r.Dir, err)}
		}
		series = r.Series
		if sum, err = series.Summary(meta); err != nil {
			return usageError{fmt.Errorf("results directory %s: series.json: %w", r.Dir, err)}
		}
	} else if sum, series, err = mergeRuns(runs); err != nil {
		return err
	}
	out, err := outDir(opts.Out, dirs, sum.Scenario+"-merged", now)
	if err != nil {
		return err
	}
	if err := report.WriteOutputs(out, sum, series, runs[0].Scenario); err != nil {
		return fmt.Errorf("writing the report to --out %s: %w", out, err)
	}
	page, err := htmlreport.WriteRun(out, sum, series, runs[0].Scenario)
	if err != nil {
		return fmt.Errorf("writing the plotted report to --out %s: %w", out, err)
	}
	if len(runs) > 1 {
		if err := writeMergedInfo(out, sum, runs); err != nil {
			return err
		}
	}
	if err := sum.WriteText(stdout); err != nil {
		return fmt.Errorf("printing the summary: %w", err)
	}
	printResults(stdout, dirs, out)
	fmt.Fprintf(stdout, "report: %s\n", page)
	if err := verdict(sum); err != nil {
		return err
	}
	return nil
}

// writeMergedInfo writes merged.json into dir for the runs merged into s.
func writeMergedInfo(dir string, s *report.Summary, runs []*savedRun) error {
	info := mergedInfo{Scenario: s.Scenario, Complete: s.Shard == "", Shards: shardsOf(runShards(runs))}
	for _, r := range runs {
		p := mergedPart{Dir: r.Dir, Shard: r.Summary.Shard}
		p.add(r.Summary)
		info.Parts = append(info.Parts, p)
	}
	return writeMerged(dir, info)
}

// shardsOf returns the shards of parts as "1,2,3,4/4", or "" for whole runs.
func shardsOf(parts []shardPart) string {
	var ks []int
	n := 0
	for _, p := range parts {
		if sh, err := scenario.ParseShard(p.Shard); err == nil && p.Shard != "" {
			ks, n = append(ks, sh.K), sh.N
		}
	}
	if len(ks) == 0 {
		return ""
	}
	return shardList(ks, n)
}

// writeMerged writes info as merged.json into dir.
func writeMerged(dir string, info mergedInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", MergedFile, err)
	}
	path := filepath.Join(dir, MergedFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
