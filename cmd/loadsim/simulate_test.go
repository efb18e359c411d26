package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
)

// TestSimulateDeterministic simulates the same scenario and seed twice:
// byte-identical summary.json and series.json, engine "simulated", wall
// facts only in run.json; a different seed gives different results.
func TestSimulateDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sim := func(name string, seed uint64) string {
		out := filepath.Join(dir, name)
		var stdout, stderr bytes.Buffer
		opts := simulateOptions{Out: out, Seed: seed, SeedSet: true, Duration: 2 * time.Minute}
		if err := simulateScenario(context.Background(), "launch-day", opts, &stdout, &stderr); exitCodeOf(err) != exitOK {
			t.Fatalf("simulate launch-day: %v\nstderr:\n%s", err, stderr.String())
		}
		if !strings.HasSuffix(strings.TrimSpace(stdout.String()), "results: "+out+"\nreport: "+filepath.Join(out, "report.html")) {
			t.Errorf("stdout ends %q; want the output directory, then report.html last", stdout.String())
		}
		if !strings.Contains(stderr.String(), "simulated 0:02:00 of 0:02:00 (100%)") {
			t.Errorf("stderr has no final progress line:\n%s", stderr.String())
		}
		return out
	}
	a, b, c := sim("a", 11), sim("b", 11), sim("c", 12)
	for _, f := range []string{report.SummaryJSONFile, report.SeriesJSONFile, report.SummaryMarkdownFile, report.ScenarioFile} {
		fa, errA := os.ReadFile(filepath.Join(a, f))
		fb, errB := os.ReadFile(filepath.Join(b, f))
		if errA != nil || errB != nil {
			t.Fatalf("reading %s: %v, %v", f, errA, errB)
		}
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between two simulations with seed 11", f)
		}
	}
	sa, err := report.ReadSummary(filepath.Join(a, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := report.ReadSummary(filepath.Join(c, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if sa.Engine != report.EngineSimulated || sa.Seed != 11 || sa.DurationSeconds != 120 || sa.Attempts.Total == 0 {
		t.Errorf("summary: engine %q seed %d duration %v attempts %d; want simulated, 11, 120, some",
			sa.Engine, sa.Seed, sa.DurationSeconds, sa.Attempts.Total)
	}
	if sa.Attempts.Total == sc.Attempts.Total && sa.Requests == sc.Requests && sa.TimeToSuccess == sc.TimeToSuccess {
		t.Errorf("seeds 11 and 12 gave the same summary; want different draws")
	}
	var info runInfo
	b2, err := os.ReadFile(filepath.Join(a, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b2, &info); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	if info.Engine != report.EngineSimulated || info.Attempts != sa.Attempts.Total || info.WallSeconds <= 0 || info.Speedup <= 1 {
		t.Errorf("run.json %+v; want engine simulated, %d attempts, a wall time, faster than real time", info, sa.Attempts.Total)
	}
}

// TestSimulateExitCodes: thresholds fail with 99, bad flags and scenarios
// are usage errors (2), a cancelled simulation writes partial results (130).
func TestSimulateExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		scenario string
		opts     simulateOptions
		cancel   bool
		want     int
	}{
		{"threshold-fails", "demo", simulateOptions{Thresholds: []string{"attempts_total < 1"}}, false, exitThresholds},
		{"threshold-passes", "demo", simulateOptions{Thresholds: []string{"attempts_total > 1"}}, false, exitOK},
		{"bad-threshold", "demo", simulateOptions{Thresholds: []string{"tenant(nobody).success_rate > 1"}}, false, exitUsage},
		{"negative-duration", "demo", simulateOptions{Duration: -time.Second}, false, exitUsage},
		{"unknown-scenario", "no-such-example", simulateOptions{}, false, exitUsage},
		{"cancelled", "launch-day", simulateOptions{Duration: 24 * time.Hour}, true, exitInterrupted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Out = filepath.Join(t.TempDir(), "out")
			tc.opts.Quiet = true
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := simulateScenario(ctx, tc.scenario, tc.opts, &stdout, &stderr)
			if got := exitCodeOf(err); got != tc.want {
				t.Fatalf("simulate %s %+v = %v (exit %d); want exit %d\nstderr:\n%s", tc.scenario, tc.opts, err, got, tc.want, stderr.String())
			}
			if tc.want == exitThresholds || tc.want == exitInterrupted {
				s, err := report.ReadSummary(filepath.Join(tc.opts.Out, report.SummaryJSONFile))
				if err != nil {
					t.Fatalf("no summary after exit %d: %v", tc.want, err)
				}
				if want := map[bool]string{true: report.PartialInterrupted}[tc.cancel]; s.Partial != tc.cancel || s.PartialReason != want {
					t.Errorf("summary partial = %v, partial_reason %q; want %v, %q", s.Partial, s.PartialReason, tc.cancel, want)
				}
			}
		})
	}
}

// TestPauseGC: pauseGC turns the collector off with a finite memory limit
// and restore brings back both settings; with GOGC set it changes nothing.
// Not parallel: the settings are the process's.
func TestPauseGC(t *testing.T) {
	const percent = 77
	const limit = int64(5 << 40)
	oldPercent := debug.SetGCPercent(percent)
	oldLimit := debug.SetMemoryLimit(limit)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	t.Setenv("GOGC", "")
	restore := pauseGC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent while paused = %d; want -1 (off)", got)
	}
	if got := debug.SetMemoryLimit(-1); got <= 0 || got >= limit {
		t.Errorf("memory limit while paused = %d; want the memory obtained + %d, below the %d set before", got, gcPauseHeadroom, limit)
	}
	restore()
	if got := debug.SetGCPercent(percent); got != percent {
		t.Errorf("GC percent after restore = %d; want %d", got, percent)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit after restore = %d; want %d", got, limit)
	}

	t.Setenv("GOGC", "100")
	restore = pauseGC()
	if got := debug.SetGCPercent(percent); got != percent {
		t.Errorf("GC percent with GOGC set = %d; want %d, untouched", got, percent)
	}
	restore()
}
