package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/htmlreport"
	"github.com/loadsim/loadsim/scenario"
)

// Exit codes of runs beyond exitOK, exitRuntime and exitUsage.
const (
	exitThresholds  = 99  // a threshold failed
	exitInterrupted = 130 // the run was interrupted (Ctrl-C); outputs are partial
)

// exitCodeError asks for a specific exit code (99, 130); its message is
// printed like any error's.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// exitCodeOf returns the exit code an error from a run asks for:
// exitCodeError's own, exitUsage for usage errors, exitRuntime otherwise
// (exitOK for nil).
func exitCodeOf(err error) int {
	var ec exitCodeError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitRuntime
	}
}

// defaultOutDir is a run's default output directory:
// loadsim-out/<scenario>-<UTC yyyymmddThhmmssZ>.
func defaultOutDir(scenario string, now time.Time) string {
	return filepath.Join("loadsim-out", scenario+"-"+now.UTC().Format("20060102T150405Z"))
}

// parseThresholds parses the scenario's thresholds then the --threshold
// flags, checking tenant names. The scenario's problems are reported at
// their lines (as validate does), the flags' as usage errors naming the
// expression; both exit 2.
func parseThresholds(arg string, sc *scenario.Scenario, fromFlags []string, stderr io.Writer) ([]report.Threshold, error) {
	tenants := sc.TenantNames()
	var out []report.Threshold
	err := sc.CheckThresholds(func(expr string) error {
		th, err := parseExpr(expr, tenants)
		if err == nil {
			out = append(out, th)
		}
		return err
	})
	if err != nil {
		return nil, scenarioError(arg, err, stderr)
	}
	flags, errs := parseExprs("--threshold", fromFlags, tenants)
	if len(errs) > 0 {
		return nil, usageError{errors.Join(errs...)}
	}
	return append(out, flags...), nil
}

// parseExpr parses one threshold expression and checks its tenant name.
func parseExpr(expr string, tenants []string) (report.Threshold, error) {
	th, err := report.ParseThreshold(expr)
	if err == nil {
		err = th.Validate(tenants)
	}
	return th, err
}

// parseExprs parses threshold expressions (thresholds or SLOs) and checks
// their tenant names, returning those that parse and an error naming where
// (e.g. "--slo") and the expression for each that does not.
func parseExprs(where string, exprs, tenants []string) ([]report.Threshold, []error) {
	var out []report.Threshold
	var errs []error
	for _, e := range exprs {
		th, err := parseExpr(e, tenants)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", where, e, err))
			continue
		}
		out = append(out, th)
	}
	return out, errs
}

// loadedRun is a scenario ready for run or simulate: loaded, its flags
// checked, its thresholds parsed.
type loadedRun struct {
	sc         *scenario.Scenario
	names      []string           // tenant names, in scenario order
	thresholds []report.Threshold // the scenario's, then the flags'
}

// loadRun loads arg and checks the flags shared by run and simulate:
// --duration and --drain must not be negative, thresholds must parse and
// name known tenants. Problems are usage errors.
func loadRun(arg string, duration, drain time.Duration, thresholds []string, stderr io.Writer) (*loadedRun, error) {
	sc, err := scenario.Load(arg)
	if err != nil {
		return nil, scenarioError(arg, err, stderr)
	}
	if duration < 0 {
		return nil, usageError{fmt.Errorf("--duration %s: must be > 0", duration)}
	}
	if drain < 0 {
		return nil, usageError{fmt.Errorf("--drain %s: must be ≥ 0", drain)}
	}
	l := &loadedRun{sc: sc, names: sc.TenantNames()}
	if l.thresholds, err = parseThresholds(arg, sc, thresholds, stderr); err != nil {
		return nil, err
	}
	return l, nil
}

// explicitDuration refuses a --duration 0 typed on the command line: 0 is
// the flag's default, "the scenario's duration", which leaving the flag
// out gives; typed, it is more likely a mistake than that.
func explicitDuration(cmd *cobra.Command, d time.Duration) error {
	if d == 0 && cmd.Flags().Changed("duration") {
		return usageError{errors.New("--duration 0: must be > 0; leave --duration out for the scenario's duration")}
	}
	return nil
}

// shardFlag parses a --shard value ("" = the whole run); a bad one is a
// usage error.
func shardFlag(v string) (scenario.Shard, error) {
	if v == "" {
		return scenario.Shard{}, nil
	}
	sh, err := scenario.ParseShard(v)
	if err != nil {
		return scenario.Shard{}, usageError{fmt.Errorf("--shard: %w", err)}
	}
	return sh, nil
}

// verdict returns nil when every threshold of s passed, else an
// exitCodeError 99 saying how many failed.
func verdict(s *report.Summary) error {
	if s.Passed() {
		return nil
	}
	failed := 0
	for _, t := range s.Thresholds {
		if !t.OK {
			failed++
		}
	}
	return exitCodeError{exitThresholds, fmt.Errorf("%d of %d thresholds failed (see the summary above)", failed, len(s.Thresholds))}
}

// finishRun ends a run of either engine: it takes the summary of rec with
// meta (whose Thresholds are evaluated), writes summary.json, summary.md,
// series.json and scenario.yaml (resolved, keys redacted) into outDir, then
// the figures (a)–(f) as PNG and SVG and report.html (htmlreport.WriteRun),
// prints the one-screen summary, the output directory and, last, the path of
// report.html to stdout, and returns the run's verdict: nil, or an
// exitCodeError 99 when a threshold failed. Write errors are runtime errors.
func finishRun(rec *report.Recorder, meta report.Meta, resolved []byte, outDir string, stdout io.Writer) (*report.Summary, error) {
	s := rec.Summary(meta)
	series, err := rec.Series()
	if err != nil {
		return s, fmt.Errorf("taking the run's series: %w", err)
	}
	if err := report.WriteOutputs(outDir, s, series, resolved); err != nil {
		return s, fmt.Errorf("writing results to --out %s: %w", outDir, err)
	}
	page, err := htmlreport.WriteRun(outDir, s, series, resolved)
	if err != nil {
		return s, fmt.Errorf("writing the plotted report to --out %s: %w", outDir, err)
	}
	if err := s.WriteText(stdout); err != nil {
		return s, fmt.Errorf("printing the summary: %w", err)
	}
	fmt.Fprintf(stdout, "results: %s\n", outDir)
	fmt.Fprintf(stdout, "report: %s\n", page)
	return s, verdict(s)
}
