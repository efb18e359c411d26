package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
)

// readJSON decodes dir/name into v.
func readJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
}

// sizingYAML is one tenant offering rate requests per second (60 per
// minute fit tier1, 120 tier2) plus a second tenant on tier5.
func sizingYAML(rate string) string {
	return `
name: sizing
seed: 3
duration: 3m
tenants:
  - name: web
    key: cmp_size_web
    tier: tier1
    traffic:
      profile: {type: constant, rate: ` + rate + `}
    mix:
      - {weight: 1, tokens: 100}
    client:
      strategy: compresr-recommended
  - name: other
    key: cmp_size_other
    tier: tier5
    traffic:
      profile: {type: constant, rate: 1}
    mix:
      - {weight: 1, tokens: 100}
`
}

func writeScenario(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompareQuotaBound(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"compare", "quota-exhaustion", "--strategy", "naive-immediate", "--strategy", "compresr-recommended",
		"--objective", "amplification", "--slo", "success_rate >= 10%", "--out", out, "--quiet"}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("loadsim compare quota-exhaustion: exit %d\nstderr:\n%s", code, stderr.String())
	}
	var c struct {
		Strategies map[string]*report.Summary `json:"strategies"`
		Ranking    []string                   `json:"ranking"`
	}
	readJSON(t, out, report.ComparisonJSONFile, &c)
	naive, rec := c.Strategies["naive-immediate"], c.Strategies["compresr-recommended"]
	if naive == nil || rec == nil {
		t.Fatalf("comparison.json strategies: %v; want naive-immediate and compresr-recommended", c.Strategies)
	}
	if !(naive.Amplification > rec.Amplification) {
		t.Errorf("amplification naive-immediate %g ≤ compresr-recommended %g; want naive higher on a quota-bound scenario",
			naive.Amplification, rec.Amplification)
	}
	if !slices.Equal(c.Ranking, []string{"compresr-recommended", "naive-immediate"}) {
		t.Errorf("ranking by amplification %v; want compresr-recommended first", c.Ranking)
	}
	for _, f := range []string{report.ComparisonMarkdownFile, "compare-attempts.png", "compare-successes.svg", "compare-time-to-success.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("output %s: %v; want a non-empty file", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "RANK") || !strings.HasSuffix(strings.TrimSpace(stdout.String()), "results: "+out) {
		t.Errorf("stdout: want the table then the output directory; got:\n%s", stdout.String())
	}
}

func TestCompareScenarioListSeedsAndShard(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	// quota-exhaustion's compare list has 5 strategies; shard 2/2 runs 1 and 3.
	code := run([]string{"compare", "quota-exhaustion", "--seeds", "2", "--duration", "1m", "--shard", "2/2", "--tenant", "over-quota",
		"--out", out, "--quiet"}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("loadsim compare --shard 2/2: exit %d\nstderr:\n%s", code, stderr.String())
	}
	var c report.Comparison
	readJSON(t, out, report.ComparisonJSONFile, &c)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range c.Strategies {
			if !yield(n) {
				return
			}
		}
	})
	if !slices.Equal(names, []string{"compresr-sdk", "naive-immediate"}) || c.Shard != "2/2" {
		t.Errorf("compare --shard 2/2: strategies %v, shard %q; want compresr-sdk and naive-immediate, 2/2", names, c.Shard)
	}
	if len(c.Seeds) != 2 || c.Spread["naive-immediate"]["amplification"].Mean == 0 {
		t.Errorf("compare --seeds 2: seeds %v, spread %v; want two seeds and a spread", c.Seeds, c.Spread)
	}
	if !strings.Contains(stdout.String(), "±") || !strings.Contains(stdout.String(), "tenant over-quota") {
		t.Errorf("stdout: want mean ±sd for tenant over-quota; got:\n%s", stdout.String())
	}
}

func TestCompareNoStrategyMeetsSLOs(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"compare", "demo", "--strategy", "naive-immediate", "--slo", "success_rate >= 100%",
		"--out", t.TempDir(), "--quiet"}, nil, &stdout, &stderr)
	if code != exitThresholds || !strings.Contains(stderr.String(), "no strategy met every SLO") {
		t.Errorf("compare with an impossible SLO: exit %d, stderr %q; want 99 and the reason", code, stderr.String())
	}
}

func TestSizePicksHigherTierWhenTrafficDoubles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	size := func(rate string) (string, float64) {
		sc := writeScenario(t, dir, "sizing-"+rate+".yaml", sizingYAML(rate))
		out := filepath.Join(dir, "out-"+rate)
		var stdout, stderr bytes.Buffer
		code := run([]string{"size", sc, "--tenant", "web", "--slo", "success_rate >= 99%", "--slo", "status_429 == 0",
			"--out", out, "--quiet"}, nil, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("loadsim size (rate %s): exit %d\nstderr:\n%s", rate, code, stderr.String())
		}
		var s struct {
			Tenant     string  `json:"tenant"`
			ChosenTier string  `json:"chosen_tier"`
			Headroom   float64 `json:"headroom"`
			Tiers      map[string]struct {
				OK   bool `json:"ok"`
				SLOs []struct {
					Expr  string  `json:"expr"`
					OK    bool    `json:"ok"`
					Value float64 `json:"value"`
				} `json:"slos"`
				Summary *report.Summary `json:"summary"`
			} `json:"tiers"`
		}
		readJSON(t, out, report.SizingJSONFile, &s)
		if s.Tenant != "web" || len(s.Tiers) != 5 || s.Tiers[s.ChosenTier].Summary == nil {
			t.Errorf("sizing.json (rate %s): tenant %q, %d tiers; want web and 5 tiers with summaries", rate, s.Tenant, len(s.Tiers))
		}
		if _, err := os.Stat(filepath.Join(out, "size-success_rate.png")); err != nil {
			t.Errorf("size plot: %v", err)
		}
		return s.ChosenTier, s.Headroom
	}
	// 0.75/s = 45 per minute: tier1 (60/min) with headroom about 60/45.
	tier, headroom := size("0.75")
	if tier != "tier1" || headroom < 1.25 || headroom > 1.4 {
		t.Errorf("size at 45/min: %s with headroom %g; want tier1, about 1.33", tier, headroom)
	}
	// Doubled, 90 per minute: tier2 (120/min).
	if tier, _ := size("1.5"); tier != "tier2" {
		t.Errorf("size at 90/min: %s; want tier2", tier)
	}
}

func TestSizeNoTierMeetsSLOs(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"size", "demo", "--tenant", "web", "--slo", "success_rate >= 100%", "--slo", "status_503 == 0",
		"--tiers", "tier1,tier2", "--out", t.TempDir(), "--quiet"}, nil, &stdout, &stderr)
	if code != exitThresholds || !strings.Contains(stderr.String(), "no tier met every SLO") {
		t.Errorf("size with impossible SLOs: exit %d, stderr %q; want 99", code, stderr.String())
	}
}

func TestCompareAndSizeUsageErrors(t *testing.T) {
	t.Parallel()
	file := writeScenario(t, t.TempDir(), "strategy.yaml", "{preset: grpc, max_atempts: 3}\n")
	for _, tc := range []struct {
		args []string
		want string // the flag the message names
	}{
		{[]string{"compare", "demo"}, "--strategy"},                                           // demo has no compare list
		{[]string{"compare", "demo", "--strategy", "no-such"}, "--strategy"},                  // unknown preset
		{[]string{"compare", "demo", "--strategy", file}, "max_atempts"},                      // strict strategy file
		{[]string{"compare", "demo", "--strategy", "grpc", "--tenant", "nobody"}, "--tenant"}, // unknown tenant
		{[]string{"compare", "demo", "--strategy", "grpc", "--objective", "speed"}, "--objective"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--slo", "success_rate >>= 1"}, "--slo"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--slo", "tenant(x).success_rate >= 1"}, "--slo"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--seeds", "0"}, "--seeds"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--shard", "3/2"}, "--shard"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--duration", "-1s"}, "--duration"},
		{[]string{"compare", "demo", "--strategy", "grpc", "--seeds", "x"}, "--seeds"},   // cobra's own parse error
		{[]string{"compare", "demo", "--strategy", "grpc", "--no-align"}, "--no-align"},  // --no-align without --live
		{[]string{"compare", "demo", "--strategy", "grpc", "--shard", "2/2"}, "--shard"}, // nothing on this shard
		{[]string{"size", "demo", "--slo", "success_rate >= 1"}, "--tenant"},             // tenant required
		{[]string{"size", "demo", "--tenant", "web"}, "--slo"},                           // an SLO required
		{[]string{"size", "demo", "--tenant", "web", "--slo", "x >= 1"}, "--slo"},        // unknown metric
		{[]string{"size", "demo", "--tenant", "web", "--slo", "success_rate >= 1", "--tiers", "tier1,gold"}, "--tiers"},
		{[]string{"size", "demo", "--tenant", "web", "--slo", "success_rate >= 1", "--max-headroom", "0.5"}, "--max-headroom"},
		{[]string{"size", "demo", "--tenant", "web", "--slo", "success_rate >= 1", "--drain", "-1s"}, "--drain"},
		{[]string{"size"}, "SCENARIO"}, // no scenario
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, nil, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("loadsim %s: exit %d, stderr %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
}

func TestCompareLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 2 s live attacks against the in-process mock; skipped with -short")
	}
	t.Parallel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	// --no-align: the second strategy starts at once instead of up to a
	// minute later; not quiet, to see that no alignment is announced.
	code := run([]string{"compare", "demo", "--live", "--no-align", "--strategy", "naive-immediate", "--strategy", "grpc",
		"--duration", "2s", "--drain", "1s", "--out", out}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("loadsim compare --live --no-align: exit %d\nstderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "UTC minute") || !strings.Contains(stderr.String(), "strategy runs done: 2 of 2") {
		t.Errorf("compare --live --no-align: stderr %q; want progress and no alignment line", stderr.String())
	}
	var c report.Comparison
	readJSON(t, out, report.ComparisonJSONFile, &c)
	for _, name := range []string{"naive-immediate", "grpc"} {
		s := c.Strategies[name]
		if s == nil || s.Engine != report.EngineLive || s.Requests.Total == 0 {
			t.Errorf("compare --live: strategy %s summary %+v; want a live run with requests", name, s)
		}
	}
}

// TestCompareLiveAlignNote: compare --live says on stderr at which second
// of the UTC minute the strategies start, and the strategy's series starts
// then; --quiet prints nothing but errors. One strategy: the first run
// starts at once (after the setup margin), so no test waits a minute.
func TestCompareLiveAlignNote(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 1 s live attacks against the in-process mock; skipped with -short")
	}
	t.Parallel()
	// The run reads the clock when its timer fires: on a loaded machine a
	// few ms, rarely tens, after the instant asked for; the phase printed is
	// truncated to the millisecond. 30 ms checks the alignment, not speed.
	const tolerance = 30 * time.Millisecond
	phaseRE := regexp.MustCompile(`same second of the UTC minute \(:(\d\d\.\d\d\d)\)`)
	for _, c := range []struct {
		name  string
		quiet bool // --quiet: no line
	}{
		// The line, and the run at its phase.
		{"default", false},
		// --quiet: stderr stays empty.
		{"quiet", true},
	} {
		out := t.TempDir()
		args := []string{"compare", "demo", "--live", "--strategy", "grpc", "--duration", "1s", "--drain", "500ms", "--out", out}
		if c.quiet {
			args = append(args, "--quiet")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: loadsim %s: exit %d\nstderr:\n%s", c.name, strings.Join(args, " "), code, stderr.String())
		}
		m := phaseRE.FindStringSubmatch(stderr.String())
		if c.quiet {
			if m != nil || strings.Contains(stderr.String(), "strategy runs done") {
				t.Errorf("%s: loadsim %s: stderr %q; want no alignment or progress line", c.name, strings.Join(args, " "), stderr.String())
			}
			continue
		}
		if m == nil || !strings.Contains(stderr.String(), "waits up to a minute between strategies") {
			t.Fatalf("%s: loadsim %s: stderr %q; want the line giving the second of the UTC minute", c.name, strings.Join(args, " "), stderr.String())
		}
		secs, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%s: phase %q: %v", c.name, m[1], err)
		}
		phase := time.Duration(secs * float64(time.Second)).Round(time.Millisecond)
		var se report.Series
		readJSON(t, out, filepath.Join("series", "grpc.json"), &se)
		got := se.Start.Sub(se.Start.Truncate(time.Minute))
		if d := (got - phase + time.Minute) % time.Minute; d > tolerance && time.Minute-d > tolerance {
			t.Errorf("%s: series start %s (:%06.3f); want the phase printed, :%s ± %s", c.name, se.Start.Format(time.StampMicro),
				got.Seconds(), m[1], tolerance)
		}
	}
}

// TestReportMergesComparisonShards: the shards of a comparison, merged by
// `loadsim report`, give the whole comparison's comparison.json and
// comparison.md byte for byte (same seeds, SLO verdicts and ranking), with
// the strategies' series and the overlay plots; an incomplete merge says
// which shards it has and exits 0; mismatched inputs are usage errors.
func TestReportMergesComparisonShards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	common := []string{"quota-exhaustion", "--seeds", "2", "--duration", "1m", "--tenant", "over-quota",
		"--objective", "amplification", "--slo", "success_rate >= 40%", "--quiet"}
	compare := func(name string, extra ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		var stdout, stderr bytes.Buffer
		args := append(append(append([]string{"compare"}, common...), extra...), "--out", out)
		if code := run(args, nil, &stdout, &stderr); code != exitOK && code != exitThresholds {
			t.Fatalf("loadsim %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, stderr.String())
		}
		return out
	}
	whole := compare("whole")
	s1 := compare("s1", "--shard", "1/3")
	s2 := compare("s2", "--shard", "2/3")
	s3 := compare("s3", "--shard", "3/3")

	merged := filepath.Join(dir, "merged")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", s3, s1, s2, "--out", merged}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim report (3 comparison shards): exit %d\nstderr:\n%s", code, stderr.String())
	}
	for _, f := range []string{report.ComparisonJSONFile, report.ComparisonMarkdownFile} {
		if got, want := readFile(t, filepath.Join(merged, f)), readFile(t, filepath.Join(whole, f)); !bytes.Equal(got, want) {
			t.Errorf("merged %s differs from the whole comparison's:\n%s\nwant:\n%s", f, got, want)
		}
	}
	for _, f := range []string{"compare-attempts.png", "compare-successes.svg", "compare-time-to-success.png",
		filepath.Join("series", "naive-immediate.json"), MergedFile} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Errorf("merged comparison: %v", err)
		}
	}
	var info mergedInfo
	readJSON(t, merged, MergedFile, &info)
	if info.Shards != "1,2,3/3" || !info.Complete || len(info.Parts) != 3 || len(info.Parts[0].Strategies) == 0 || info.Parts[0].Attempts == 0 {
		t.Errorf("merged.json = %+v; want shards 1,2,3/3, complete, 3 parts with their strategies and attempts", info)
	}
	if !strings.Contains(stdout.String(), "ranked by min:tenant(over-quota).amplification") {
		t.Errorf("report stdout: want the merged table; got:\n%s", stdout.String())
	}

	// One comparison re-rendered: the same files.
	again := filepath.Join(dir, "again")
	if code := run([]string{"report", whole, "--out", again}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("loadsim report (one comparison): exit %d", code)
	}
	for _, f := range []string{report.ComparisonJSONFile, report.ComparisonMarkdownFile, filepath.Join("series", "aws-standard.json")} {
		if got, want := readFile(t, filepath.Join(again, f)), readFile(t, filepath.Join(whole, f)); !bytes.Equal(got, want) {
			t.Errorf("re-rendered %s differs from the comparison's", f)
		}
	}

	// Two of three shards: a comparison of their strategies, labelled.
	part := filepath.Join(dir, "part")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"report", s1, s3, "--out", part}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim report (2 of 3 shards): exit %d\nstderr:\n%s", code, stderr.String())
	}
	var c report.Comparison
	readJSON(t, part, report.ComparisonJSONFile, &c)
	if c.Shard != "1,3/3" || !strings.Contains(stdout.String(), "shard 1,3/3") {
		t.Errorf("2 of 3 shards merged: shard %q, stdout:\n%s\nwant shard 1,3/3", c.Shard, stdout.String())
	}

	run1 := filepath.Join(dir, "run")
	if code := run([]string{"simulate", "quota-exhaustion", "--duration", "30s", "--quiet", "--out", run1}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("loadsim simulate: exit %d", code)
	}
	other := compare("other", "--shard", "2/3", "--seed", "99")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"shard twice", []string{"report", s1, s1 + "/", "--out", filepath.Join(dir, "m1")}, []string{"both shard 1/3"}},
		{"shard and whole", []string{"report", s1, whole, "--out", filepath.Join(dir, "m2")}, []string{whole, "is a whole comparison"}},
		{"other seeds", []string{"report", s1, other, "--out", filepath.Join(dir, "m3")}, []string{"other seeds"}},
		{"comparison and run", []string{"report", s1, run1, "--out", filepath.Join(dir, "m4")}, []string{run1, "has no comparison.json", "comparisons with comparisons"}},
		{"run and comparison", []string{"report", run1, s1, "--out", filepath.Join(dir, "m5")}, []string{s1, "is a comparison or sizing but"}},
		{"out is input", []string{"report", s1, s2, "--out", s2}, []string{"--out " + s2, "choose another directory"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, nil, &stdout, &stderr); code != exitUsage {
			t.Errorf("%s: exit %d; want %d\nstderr: %s", tt.name, code, exitUsage, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr %q; want it to contain %q", tt.name, stderr.String(), w)
			}
		}
	}
}

// TestReportMergesSizingShards: the shards of a sizing, merged by `loadsim
// report`, choose the whole sizing's tier with the same table and tiers'
// results (the whole one also searched the headroom; a merge does not, and
// says how); an incomplete merge chooses among its tiers and exits 0; a
// whole sizing does not merge.
func TestReportMergesSizingShards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sc := writeScenario(t, dir, "sizing.yaml", sizingYAML("1.5"))
	size := func(name string, extra ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		var stdout, stderr bytes.Buffer
		args := append([]string{"size", sc, "--tenant", "web", "--slo", "success_rate >= 99%", "--slo", "status_429 == 0", "--quiet", "--out", out}, extra...)
		if code := run(args, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("loadsim %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, stderr.String())
		}
		return out
	}
	whole := size("whole")
	s1, s2, s3 := size("s1", "--shard", "1/3"), size("s2", "--shard", "2/3"), size("s3", "--shard", "3/3")
	merged := filepath.Join(dir, "merged")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", s2, s3, s1, "--out", merged}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("loadsim report (3 sizing shards): exit %d\nstderr:\n%s", code, stderr.String())
	}
	read := func(d string) *report.Sizing {
		t.Helper()
		sz, err := report.ReadSizing(filepath.Join(d, report.SizingJSONFile))
		if err != nil {
			t.Fatal(err)
		}
		return sz
	}
	w, m := read(whole), read(merged)
	if w.Headroom == 0 || m.Headroom != 0 || m.Shard != "" {
		t.Errorf("headroom: whole %g, merged %g (shard %q); want the whole one searched, the merge not", w.Headroom, m.Headroom, m.Shard)
	}
	w.Headroom, w.HeadroomCapped = 0, false
	var wb, mb bytes.Buffer
	if err := w.WriteJSON(&wb); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteJSON(&mb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wb.Bytes(), mb.Bytes()) || m.ChosenTier != "tier2" {
		t.Errorf("merged sizing.json (chosen %s) differs from the whole one's (headroom aside):\n%s\nwant:\n%s", m.ChosenTier, mb.Bytes(), wb.Bytes())
	}
	if !strings.Contains(stdout.String(), "--tiers tier2") || !strings.Contains(stdout.String(), "merged 3 results directories") {
		t.Errorf("report stdout: want the size command for the headroom and the merge; got:\n%s", stdout.String())
	}
	var info mergedInfo
	readJSON(t, merged, MergedFile, &info)
	if info.Shards != "1,2,3/3" || !info.Complete || len(info.Parts) != 3 || len(info.Parts[0].Tiers) == 0 {
		t.Errorf("merged.json = %+v; want shards 1,2,3/3, complete, 3 parts with their tiers", info)
	}
	if _, err := os.Stat(filepath.Join(merged, "size-success_rate.png")); err != nil {
		t.Errorf("merged sizing plot: %v", err)
	}

	// Shards 1 and 3 of 3: tier1, tier4 and tier3 in the whole order (tier2,
	// the whole choice, ran on shard 2).
	part := filepath.Join(dir, "part")
	stdout.Reset()
	if code := run([]string{"report", s1, s3, "--out", part}, nil, &stdout, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("loadsim report (2 of 3 sizing shards): exit %d", code)
	}
	if p := read(part); !slices.Equal(p.Order, []string{"tier1", "tier3", "tier4"}) || p.ChosenTier != "tier3" || p.Shard != "1,3/3" {
		t.Errorf("2 of 3 shards: order %v, chosen %s, shard %q; want tier1 tier3 tier4, tier3, 1,3/3", p.Order, p.ChosenTier, p.Shard)
	}

	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"whole and shard", []string{"report", whole, s1, "--out", filepath.Join(dir, "m1")}, []string{s1, "is a whole sizing"}},
		{"shard twice", []string{"report", s1, s1 + "/", "--out", filepath.Join(dir, "m2")}, []string{"both shard 1/3"}},
	} {
		var stderr bytes.Buffer
		if code := run(tt.args, nil, &bytes.Buffer{}, &stderr); code != exitUsage {
			t.Errorf("%s: exit %d; want %d\nstderr: %s", tt.name, code, exitUsage, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr %q; want it to contain %q", tt.name, stderr.String(), w)
			}
		}
	}
}

// cancelOn is a writer that cancels when a line containing its marker is
// written (a sweep's progress line), as Ctrl-C part way through would.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), w.marker) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestCompareInterruptedKeepsFinished: a comparison interrupted after its
// first strategy finished writes the comparison of the strategies that
// finished, says so, and exits 130.
func TestCompareInterruptedKeepsFinished(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	stderr := &cancelOn{marker: "strategy runs done: 1 of", cancel: cancel}
	var stdout bytes.Buffer
	opts := compareOptions{Strategies: []string{"naive-immediate", "compresr-recommended", "aws-standard", "compresr-sdk"}, Seeds: 1, Out: out}
	err := compareScenario(ctx, "jitter-study", opts, &stdout, stderr)
	if code := exitCodeOf(err); code != exitInterrupted {
		t.Fatalf("compare interrupted after one strategy = %v (exit %d); want exit %d", err, code, exitInterrupted)
	}
	var c struct {
		Strategies  map[string]json.RawMessage `json:"strategies"`
		Interrupted string                     `json:"interrupted"`
	}
	readJSON(t, out, report.ComparisonJSONFile, &c)
	n := len(c.Strategies)
	if n < 1 || n >= 4 || c.Interrupted != fmt.Sprintf("%d of 4 strategies ran", n) {
		t.Errorf("comparison.json: %d strategies, interrupted %q; want the 1 to 3 that finished, and saying so", n, c.Interrupted)
	}
	if !strings.Contains(stdout.String(), "interrupted: "+c.Interrupted) {
		t.Errorf("stdout lacks the interruption in the header:\n%s", stdout.String())
	}
}
