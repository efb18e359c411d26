package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

// TestRunScenario runs the demo for 3 s against the in-process mock with a
// threshold that must fail: exit 99, every output written, the summary and
// then the output directory printed, no key anywhere.
func TestRunScenario(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	opts := runOptions{Duration: 3e9, Out: out, Seed: 3, SeedSet: true, Thresholds: []string{"attempts_total < 1"}}
	err := runScenario(context.Background(), "demo", opts, nil, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitThresholds {
		t.Fatalf("runScenario(demo, threshold attempts_total < 1) = %v (exit %d); want exit %d", err, code, exitThresholds)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; last != "results: "+out {
		t.Errorf("last stdout line = %q; want the output directory", last)
	}
	for _, f := range []string{report.SummaryJSONFile, report.SummaryMarkdownFile, report.SeriesJSONFile, report.ScenarioFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Errorf("output %s: %v", f, err)
			continue
		}
		for _, key := range []string{"cmp_demo_web", "cmp_demo_batch"} {
			if bytes.Contains(b, []byte(key)) {
				t.Errorf("%s contains a tenant key", f)
			}
		}
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 3 || s.Partial || len(s.Thresholds) != 2 || s.Thresholds[1].OK {
		t.Errorf("summary: seed %d partial %v thresholds %+v; want seed 3, complete, the scenario's and the flag's (failed)", s.Seed, s.Partial, s.Thresholds)
	}
	for name, b := range map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()} {
		if bytes.Contains(b, []byte("cmp_demo_")) {
			t.Errorf("%s contains a tenant key", name)
		}
	}
}

// TestRunInterrupted stops a run at once: partial outputs and exit 130.
func TestRunInterrupted(t *testing.T) {
	out := t.TempDir()
	stop := make(chan struct{})
	close(stop)
	var stdout, stderr bytes.Buffer
	err := runScenario(context.Background(), "demo", runOptions{Out: out, Quiet: true}, stop, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitInterrupted {
		t.Fatalf("runScenario(demo, stopped) = %v (exit %d); want exit %d", err, code, exitInterrupted)
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Partial {
		t.Errorf("summary.partial = false; want true after a stop")
	}
}

// TestRunUsageErrors covers the problems found before any request: exit 2.
func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		arg  string
		opts runOptions
		want string // substring of the error
	}{
		// an unknown scenario
		{"unknown scenario", "no-such-scenario", runOptions{}, "invalid"},
		// a threshold on an unknown metric
		{"bad threshold", "demo", runOptions{Thresholds: []string{"nonsense > 1"}}, "--threshold"},
		// a threshold on an unknown tenant
		{"unknown tenant", "demo", runOptions{Thresholds: []string{"tenant(nobody).success_rate > 0.5"}}, "nobody"},
		// a malformed metrics address
		{"bad metrics addr", "demo", runOptions{MetricsAddr: "nope"}, "--metrics-addr"},
		// a negative duration
		{"negative duration", "demo", runOptions{Duration: -1}, "--duration"},
		// a shard counted from 0
		{"shard from 0", "demo", runOptions{Shard: "0/2"}, "--shard"},
		// a shard that is not k/N
		{"shard syntax", "demo", runOptions{Shard: "half"}, "want k/N"},
	} {
		var stdout, stderr bytes.Buffer
		err := runScenario(context.Background(), tc.arg, tc.opts, nil, &stdout, &stderr)
		if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%s: runScenario(%s, %+v) = %v (exit %d); want a usage error mentioning %q", tc.name, tc.arg, tc.opts, err, exitCodeOf(err), tc.want)
		}
	}
}

// TestRunCmdFlags checks the command's flags parse into options.
func TestRunCmdFlags(t *testing.T) {
	cmd := newRunCmd(&bytes.Buffer{}, &bytes.Buffer{})
	for _, name := range []string{"duration", "out", "seed", "target", "max-requests", "threshold", "metrics-addr", "quiet", "shard"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("loadsim run has no --%s flag", name)
		}
	}
	if err := cmd.Args(cmd, nil); exitCodeOf(err) != exitUsage {
		t.Errorf("loadsim run without SCENARIO: %v; want a usage error", err)
	}
}

// TestDemoCmd checks `loadsim demo` takes no argument and has --out.
func TestDemoCmd(t *testing.T) {
	cmd := newDemoCmd(&bytes.Buffer{}, &bytes.Buffer{})
	if cmd.Flags().Lookup("out") == nil {
		t.Error("loadsim demo has no --out flag")
	}
	if err := cmd.Args(cmd, []string{"x"}); exitCodeOf(err) != exitUsage {
		t.Errorf("loadsim demo x: %v; want a usage error", err)
	}
}

// TestRunShard runs shard 2 of 2 of the demo for 2 s: summary.json names the
// shard and offers half the demo's rate.
func TestRunShard(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runScenario(context.Background(), "demo", runOptions{Duration: 2e9, Out: out, Quiet: true, Shard: "2/2"}, nil, &stdout, &stderr)
	if code := exitCodeOf(err); code != exitOK && code != exitThresholds {
		t.Fatalf("runScenario(demo, --shard 2/2) = %v (exit %d); want a finished run", err, code)
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := scenario.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	var offered float64
	for i := range whole.Tenants {
		offered += whole.Profile(i, whole.Seed).Hits(2e9) / 2
	}
	if s.Shard != "2/2" || math.Abs(s.OfferedRPS-offered/2) > 1e-6 {
		t.Errorf("summary shard %q, offered %v/s; want shard 2/2 offering %v/s (half the demo's)", s.Shard, s.OfferedRPS, offered/2)
	}
	if !strings.Contains(stderr.String(), "shard 2/2") {
		t.Errorf("stderr = %q; want the plan naming the shard", stderr.String())
	}
}
