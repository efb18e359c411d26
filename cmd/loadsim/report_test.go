package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim"
)

// reportT0 is the start of every synthetic run of these tests.
var reportT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// feedSynthetic records n logical requests over two tenants into recs: request
// i goes to recs[i % len(recs)] and to every recorder of all. Requests get
// 1–3 attempts (429 with Retry-After then 200, 503 then give-up, 422), with
// seeded random latencies.
func feedSynthetic(seed uint64, n int, recs []*report.Recorder, all ...*report.Recorder) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := range n {
		targets := append([]*report.Recorder{recs[i%len(recs)]}, all...)
		tenant := i % 2
		arrived := reportT0.Add(time.Duration(i) * 20 * time.Millisecond)
		id := uint64(i + 1)
		sent := arrived
		kind, reason, attempts := sim.Succeeded, sim.StopSucceeded, 0
		plan := [][2]int{{200}}
		switch rng.IntN(4) {
		case 0:
			plan = [][2]int{{429, 1}, {200}}
		case 1:
			plan = [][2]int{{503, 1}, {503, 1}, {503}}
			kind, reason = sim.GaveUp, sim.StopMaxAttempts
		case 2:
			plan = [][2]int{{422}}
			kind, reason = sim.FailedPermanent, sim.StopNotRetryable
		}
		for num, p := range plan {
			lat := time.Duration(1+rng.IntN(200)) * time.Millisecond
			a := &sim.Attempt{Tenant: tenant, Request: id, Number: num + 1, Sent: sent, Latency: lat, Status: p[0]}
			switch p[0] {
			case 429:
				a.Code, a.RetryAfterRaw, a.RetryAfter, a.RetryAfterStatus = "rate_limit_exceeded", "1", time.Second, sim.RetryAfterValid
			case 503:
				a.Code = "service_unavailable"
			case 422:
				a.Code = "validation_error"
			}
			if p[1] == 1 {
				a.Retry, a.Delay = true, time.Second
			} else {
				a.Stop = reason
			}
			for _, r := range targets {
				r.RecordAttempt(a)
			}
			attempts++
			sent = sent.Add(lat + a.Delay)
		}
		o := &sim.Outcome{Tenant: tenant, Request: id, Kind: kind, Reason: reason, Attempts: attempts,
			Arrived: arrived, Ended: sent}
		for _, r := range targets {
			r.RecordOutcome(o)
		}
	}
}

// writeShard writes rec's outputs with meta into dir.
func writeShard(t *testing.T, dir string, rec *report.Recorder, meta report.Meta) {
	t.Helper()
	series, err := rec.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	if err := report.WriteOutputs(dir, rec.Summary(meta), series, []byte("name: synthetic\n")); err != nil {
		t.Fatalf("WriteOutputs(%s): %v", dir, err)
	}
}

// shardMeta is the Meta of shard results of the synthetic run: n shards of
// 8 req/s over 10 s, one threshold.
func shardMeta(t *testing.T, n int, expr string) report.Meta {
	t.Helper()
	th, err := report.ParseThreshold(expr)
	if err != nil {
		t.Fatalf("ParseThreshold(%q): %v", expr, err)
	}
	per := 8 / float64(n)
	return report.Meta{Scenario: "synthetic", Engine: report.EngineLive, Seed: 5, Duration: 10 * time.Second,
		OfferedRPS: per, TenantOfferedRPS: map[string]float64{"web": per / 2, "batch": per / 2},
		Thresholds: []report.Threshold{th}}
}

func newSyntheticRecorder(start time.Time, d time.Duration) *report.Recorder {
	return report.NewRecorder(report.RecorderConfig{Tenants: []string{"web", "batch"}, Start: start, Duration: d})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReportMergeExact merges four shards and compares the merged
// summary.json with the summary of one recorder that saw every record.
func TestReportMergeExact(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	recs := make([]*report.Recorder, n)
	for i := range recs {
		// Shards start a few hundred ms apart, as processes do.
		recs[i] = newSyntheticRecorder(reportT0.Add(time.Duration(i)*100*time.Millisecond), 10*time.Second)
	}
	whole := newSyntheticRecorder(reportT0, 10*time.Second)
	feedSynthetic(1, 500, recs, whole)
	var dirs []string
	for i, r := range recs {
		d := filepath.Join(dir, "shard-"+string(rune('1'+i)))
		m := shardMeta(t, n, "success_rate >= 0.1")
		m.Shard = fmt.Sprintf("%d/%d", i+1, n)
		writeShard(t, d, r, m)
		dirs = append(dirs, d)
	}
	out := filepath.Join(dir, "merged")
	var stdout, stderr bytes.Buffer
	args := append([]string{"report"}, append(dirs, "--out", out)...)
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim %s = exit %d; want 0\nstderr: %s", strings.Join(args, " "), code, stderr.String())
	}
	want := newBuffer(t, whole.Summary(shardMeta(t, 1, "success_rate >= 0.1")).WriteJSON)
	if got := readFile(t, filepath.Join(out, report.SummaryJSONFile)); !bytes.Equal(got, want) {
		t.Errorf("loadsim %s: merged summary.json differs from the whole run's\ngot:  %s\nwant: %s", strings.Join(args, " "), got, want)
	}
	var info mergedInfo
	if err := json.Unmarshal(readFile(t, filepath.Join(out, MergedFile)), &info); err != nil {
		t.Fatalf("%s: %v", MergedFile, err)
	}
	var sumAttempts uint64
	for _, p := range info.Parts {
		sumAttempts += p.Attempts
	}
	if len(info.Parts) != n || info.Parts[0].Dir != dirs[0] || info.Parts[3].Shard != "4/4" || !info.Complete ||
		info.Shards != "1,2,3,4/4" || sumAttempts != whole.Summary(report.Meta{}).Attempts.Total {
		t.Errorf("%s = %+v; want %d parts in order, attempts adding up to the whole run's", MergedFile, info, n)
	}
	if !strings.Contains(stdout.String(), "merged 4 results directories") || !strings.Contains(stdout.String(), "results: "+out) {
		t.Errorf("loadsim %s printed %q; want the merge line and the results line", strings.Join(args, " "), stdout.String())
	}

	// Shards 3 and 1 only: the merge says which shards it holds.
	part := filepath.Join(dir, "part")
	args = []string{"report", dirs[2], dirs[0], "--out", part}
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim %s = exit %d; want 0\nstderr: %s", strings.Join(args, " "), code, stderr.String())
	}
	s, err := report.ReadSummary(filepath.Join(part, report.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(part, MergedFile)), &info); err != nil {
		t.Fatalf("%s: %v", MergedFile, err)
	}
	if s.Shard != "1,3/4" || info.Complete || info.Shards != "1,3/4" {
		t.Errorf("loadsim %s: summary shard %q, merged.json complete %v shards %q; want \"1,3/4\", false, \"1,3/4\"", strings.Join(args, " "), s.Shard, info.Complete, info.Shards)
	}
}

func newBuffer(t *testing.T, write func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReportRerender re-renders one results directory, into another and in
// place, and checks the files are the run's own, byte for byte.
func TestReportRerender(t *testing.T) {
	dir := t.TempDir()
	rec := newSyntheticRecorder(reportT0, 10*time.Second)
	feedSynthetic(2, 200, []*report.Recorder{rec})
	src := filepath.Join(dir, "run")
	writeShard(t, src, rec, shardMeta(t, 1, "tenant(web).amplification <= 5"))
	orig := map[string][]byte{}
	for _, f := range []string{report.SummaryJSONFile, report.SummaryMarkdownFile, report.SeriesJSONFile, report.ScenarioFile} {
		orig[f] = readFile(t, filepath.Join(src, f))
	}
	for _, tt := range []struct {
		name string
		args []string
		out  string
	}{
		// Into another directory.
		{"out", []string{"report", src, "--out", filepath.Join(dir, "again")}, filepath.Join(dir, "again")},
		// In place.
		{"in place", []string{"report", src}, src},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: loadsim %s = exit %d; want 0\nstderr: %s", tt.name, strings.Join(tt.args, " "), code, stderr.String())
		}
		for f, want := range orig {
			if got := readFile(t, filepath.Join(tt.out, f)); !bytes.Equal(got, want) {
				t.Errorf("%s: loadsim %s: %s differs from the run's\ngot:  %s\nwant: %s", tt.name, strings.Join(tt.args, " "), f, got, want)
			}
		}
		if _, err := os.Stat(filepath.Join(tt.out, "report.html")); err != nil || !strings.HasSuffix(stdout.String(), "report: "+filepath.Join(tt.out, "report.html")+"\n") {
			t.Errorf("%s: loadsim %s: report.html: %v; last line of %q should name it", tt.name, strings.Join(tt.args, " "), err, stdout.String())
		}
		if _, err := os.Stat(filepath.Join(tt.out, MergedFile)); !os.IsNotExist(err) {
			t.Errorf("%s: loadsim %s wrote %s for one directory (stat: %v)", tt.name, strings.Join(tt.args, " "), MergedFile, err)
		}
	}
}

// TestReportErrors checks exit codes and that errors name the directory and
// the fix.
func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, seed uint64, d time.Duration, mutate func(*report.Meta)) string {
		rec := newSyntheticRecorder(reportT0, d)
		feedSynthetic(seed, 50, []*report.Recorder{rec})
		m := shardMeta(t, 2, "success_rate >= 0.99")
		m.Duration = d
		if mutate != nil {
			mutate(&m)
		}
		p := filepath.Join(dir, name)
		writeShard(t, p, rec, m)
		return p
	}
	shard := func(label string) func(*report.Meta) { return func(m *report.Meta) { m.Shard = label } }
	a := mk("a", 1, 10*time.Second, shard("1/2"))
	b := mk("b", 2, 10*time.Second, shard("2/2"))
	other := mk("other", 1, 10*time.Second, func(m *report.Meta) { m.Scenario, m.Shard = "another", "2/2" })
	wide := mk("wide", 1, 2*time.Hour, shard("2/2"))
	seed := mk("seed", 1, 10*time.Second, func(m *report.Meta) { m.Seed, m.Shard = 6, "2/2" })
	dup := mk("dup", 4, 10*time.Second, shard("1/2"))
	whole := mk("whole", 4, 10*time.Second, nil)
	three := mk("three", 4, 10*time.Second, shard("2/3"))
	mixed := mk("mixed", 3, 10*time.Second, nil)
	if err := os.WriteFile(filepath.Join(mixed, report.SummaryJSONFile), readFile(t, filepath.Join(a, report.SummaryJSONFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string // substrings of stderr
	}{
		// No directory.
		{"no dir", []string{"report"}, exitUsage, []string{"at least one results directory"}},
		// A directory that does not exist.
		{"missing", []string{"report", filepath.Join(dir, "nope")}, exitUsage, []string{filepath.Join(dir, "nope"), "no such file"}},
		// A directory without results.
		{"empty", []string{"report", empty}, exitUsage, []string{empty, "summary.json", "--out of a run"}},
		// summary.json of another run.
		{"mixed", []string{"report", mixed}, exitUsage, []string{mixed, "not of the same run"}},
		// Different scenarios.
		{"scenarios", []string{"report", a, other, "--out", filepath.Join(dir, "m1")}, exitUsage, []string{a, other, "different scenarios (synthetic, another)", "merge only the shards of one run"}},
		// Different bucket widths (durations).
		{"widths", []string{"report", a, wide, "--out", filepath.Join(dir, "m2")}, exitUsage, []string{wide, "bucket widths", "(1, 8)"}},
		// Different seeds.
		{"seeds", []string{"report", a, seed, "--out", filepath.Join(dir, "m3")}, exitUsage, []string{seed, "different seeds (5, 6)"}},
		// The same directory twice.
		{"twice", []string{"report", a, a + "/", "--out", filepath.Join(dir, "m4")}, exitUsage, []string{"same directory", "give each shard's directory once"}},
		// Shard 1/2 twice.
		{"dup shard", []string{"report", a, dup, "--out", filepath.Join(dir, "m6")}, exitUsage, []string{a, dup, "both shard 1/2"}},
		// A shard and a whole run.
		{"whole", []string{"report", a, whole, "--out", filepath.Join(dir, "m7")}, exitUsage, []string{whole, "is a whole run"}},
		// A whole run then a shard.
		{"whole first", []string{"report", whole, a, "--out", filepath.Join(dir, "m8")}, exitUsage, []string{a, "is shard 1/2 but"}},
		// Shards of runs split differently.
		{"n", []string{"report", a, three, "--out", filepath.Join(dir, "m9")}, exitUsage, []string{three, "split 2 and 3 ways"}},
		// --out is a shard.
		{"out is input", []string{"report", a, b, "--out", b}, exitUsage, []string{"--out " + b, "choose another directory"}},
		// A threshold that fails on the merged summary.
		{"threshold", []string{"report", a, b, "--out", filepath.Join(dir, "m5")}, exitThresholds, []string{"1 of 1 thresholds failed"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, nil, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%s: loadsim %s = exit %d; want %d\nstderr: %s", tt.name, strings.Join(tt.args, " "), code, tt.code, stderr.String())
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: loadsim %s: stderr %q does not contain %q", tt.name, strings.Join(tt.args, " "), stderr.String(), w)
			}
		}
	}
}

// TestMergedPartialReason: merged shards are interrupted when any shard
// was, else stopped at the attempt cap when any shard was, else complete.
func TestMergedPartialReason(t *testing.T) {
	const in, atCap = report.PartialInterrupted, report.PartialMaxRequests
	for _, c := range []struct{ a, b, want string }{
		{"", "", ""},          // both complete
		{"", atCap, atCap},    // one shard stopped at its cap
		{atCap, "", atCap},    // the same, the other order
		{atCap, in, in},       // an interruption outranks the cap
		{in, atCap, in},       // the same, the other order
		{in, "", in},          // one shard interrupted
		{atCap, atCap, atCap}, // both at their caps
	} {
		if got := mergedPartialReason(c.a, c.b); got != c.want {
			t.Errorf("mergedPartialReason(%q, %q) = %q; want %q", c.a, c.b, got, c.want)
		}
	}
}
