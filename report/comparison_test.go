package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustThresholds(t *testing.T, exprs ...string) []Threshold {
	t.Helper()
	var out []Threshold
	for _, e := range exprs {
		th, err := ParseThreshold(e)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", e, err)
		}
		out = append(out, th)
	}
	return out
}

// synthSummary is the summary of synthetic stream seed with thresholds.
func synthSummary(t *testing.T, seed uint64, ths []Threshold) *Summary {
	t.Helper()
	r := newTestRecorder(testMeta().Duration)
	feed(r, synth(seed, 1500))
	m := testMeta(ths...)
	m.Seed = seed
	return r.Summary(m)
}

// stats returns a summary whose whole run has the given success rate,
// amplification and p99 time to success, with thresholds evaluated.
func stats(success, amp, p99 float64, ths []Threshold) *Summary {
	s := &Summary{Scenario: "x", Engine: EngineSimulated, Tenants: map[string]*Stats{}}
	s.SuccessRate, s.Amplification, s.TimeToSuccess.P99 = success, amp, p99
	s.Requests.Total = 100
	s.Tenants["web"] = &Stats{SuccessRate: success / 2, Amplification: amp * 2}
	s.Thresholds = EvaluateThresholds(s, ths)
	return s
}

func TestComparisonGolden(t *testing.T) {
	ths := mustThresholds(t, "success_rate >= 0.89", "tenant(web).amplification <= 1.7")
	var entries []CompareRuns
	for i, name := range []string{"naive-immediate", "compresr-recommended", "aws-standard"} {
		entries = append(entries, CompareRuns{Name: name, Runs: []*Summary{synthSummary(t, uint64(10+i), ths)}})
	}
	obj, err := ParseObjective("p99_time_to_success")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComparison(entries, obj, "")
	if err != nil {
		t.Fatalf("NewComparison: %v", err)
	}
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"comparison.txt", func(b *bytes.Buffer) error { return c.WriteText(b) }},
		{"comparison.md", func(b *bytes.Buffer) error { return c.WriteMarkdown(b) }},
		{"comparison.json", func(b *bytes.Buffer) error { return c.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatalf("write %s: %v", f.name, err)
		}
		golden(t, f.name, b.Bytes())
	}
	// comparison.json has exactly the documented keys for one seed, and
	// each strategy's object is its summary.json.
	var top map[string]json.RawMessage
	var b bytes.Buffer
	if err := c.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	keys := sortedKeys(top)
	if !slices.Equal(keys, []string{"objective", "ranking", "strategies"}) {
		t.Errorf("comparison.json keys %v; want [objective ranking strategies]", keys)
	}
	var sb bytes.Buffer
	if err := entries[0].Runs[0].WriteJSON(&sb); err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(sb.Bytes(), &want)
	var strategies map[string]json.RawMessage
	_ = json.Unmarshal(top["strategies"], &strategies)
	_ = json.Unmarshal(strategies["naive-immediate"], &got)
	if !jsonEqual(got, want) {
		t.Errorf("comparison.json strategies[naive-immediate] is not its summary.json")
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestComparisonRanking(t *testing.T) {
	t.Parallel()
	slo := mustThresholds(t, "success_rate >= 0.9")
	a := stats(0.95, 1.5, 2.0, slo) // feasible, slower
	b := stats(0.99, 3.0, 1.0, slo) // feasible, fastest, most attempts
	c := stats(0.50, 1.1, 0.5, slo) // infeasible, fastest of all
	d := stats(0.95, 1.2, 2.0, slo) // feasible, ties with a on p99, fewer attempts
	for _, tc := range []struct {
		objective string
		tenant    string
		want      []string
	}{
		{"time_to_success_p99", "", []string{"b", "d", "a", "c"}},          // minimise; tie a/d broken by amplification
		{"success_rate", "", []string{"b", "d", "a", "c"}},                 // maximise; tie a/d by amplification
		{"amplification", "", []string{"d", "a", "b", "c"}},                // infeasible c last though lowest
		{"max:amplification", "", []string{"b", "a", "d", "c"}},            // explicit direction
		{"tenant(web).amplification", "web", []string{"d", "a", "b", "c"}}, // tenant scope
	} {
		obj, err := ParseObjective(tc.objective)
		if err != nil {
			t.Fatalf("ParseObjective(%q): %v", tc.objective, err)
		}
		cmp, err := NewComparison([]CompareRuns{{"a", []*Summary{a}}, {"b", []*Summary{b}}, {"c", []*Summary{c}}, {"d", []*Summary{d}}}, obj, tc.tenant)
		if err != nil {
			t.Fatalf("NewComparison(%s): %v", tc.objective, err)
		}
		if !slices.Equal(cmp.Ranking, tc.want) {
			t.Errorf("NewComparison(objective %s).Ranking = %v; want %v", tc.objective, cmp.Ranking, tc.want)
		}
		if !cmp.AnyFeasible() || cmp.Feasible["c"] {
			t.Errorf("NewComparison(%s): feasible %v; want a, b, d", tc.objective, cmp.Feasible)
		}
	}
	none, err := NewComparison([]CompareRuns{{"c", []*Summary{c}}}, Objective{Metric: "success_rate", Maximize: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := none.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if none.AnyFeasible() || !strings.Contains(buf.String(), "no strategy met every SLO") {
		t.Errorf("comparison of an infeasible strategy: AnyFeasible %v, text:\n%s", none.AnyFeasible(), buf.String())
	}
}

func TestComparisonSeeds(t *testing.T) {
	t.Parallel()
	slo := mustThresholds(t, "success_rate >= 0.9")
	runs := []*Summary{stats(0.92, 1.0, 1, slo), stats(0.96, 2.0, 1, slo), stats(0.89, 3.0, 1, slo)}
	for i, s := range runs {
		s.Seed = uint64(7 + i)
	}
	c, err := NewComparison([]CompareRuns{{"x", runs}}, Objective{Metric: "amplification"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Seeds, []uint64{7, 8, 9}) {
		t.Errorf("Seeds = %v; want [7 8 9]", c.Seeds)
	}
	sp := c.Spread["x"]["amplification"]
	if sp.Mean != 2 || sp.Std != 1 || sp.Min != 1 || sp.Max != 3 {
		t.Errorf("Spread[x][amplification] = %+v; want mean 2, std 1, min 1, max 3", sp)
	}
	if c.Feasible["x"] {
		t.Errorf("Feasible[x] = true; want false (the SLO failed on seed 9)")
	}
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2 ±1") || !strings.Contains(b.String(), "seeds 7–9") {
		t.Errorf("WriteText over 3 seeds: want mean ±sd and the seeds; got:\n%s", b.String())
	}
}

func TestParseObjective(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Objective
		err  string
	}{
		{"success_rate", Objective{Metric: "success_rate", Maximize: true}, ""},                 // natural max
		{"amplification", Objective{Metric: "amplification"}, ""},                               // natural min
		{"p99_time_to_success", Objective{Metric: "time_to_success_p99"}, ""},                   // pNN alias
		{"max:status_429", Objective{Metric: "status_429", Maximize: true}, ""},                 // explicit max
		{"min: tenant(web).success_rate", Objective{Tenant: "web", Metric: "success_rate"}, ""}, // explicit min, tenant
		{"tenant(web)amplification", Objective{}, "tenant(NAME).METRIC"},                        // missing dot
		{"speed", Objective{}, `unknown metric "speed"`},                                        // unknown
		{"", Objective{}, "unknown metric"},                                                     // empty
	} {
		got, err := ParseObjective(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseObjective(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseObjective(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseObjective(f *testing.F) {
	for _, s := range []string{"success_rate", "p99_time_to_success", "max:tenant(web).amplification", "tenant(", "min:", "status_429", "code_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseObjective(s)
		if err != nil {
			return
		}
		back, err := ParseObjective(o.String())
		if err != nil || back != o {
			t.Errorf("ParseObjective(%q) = %+v; ParseObjective(%q) = %+v, %v; want the same", s, o, o.String(), back, err)
		}
		if _, err := MetricValue(&Summary{Tenants: map[string]*Stats{o.Tenant: {}}}, o.Tenant, o.Metric); err != nil {
			t.Errorf("ParseObjective(%q) accepted metric %q that MetricValue refuses: %v", s, o.Metric, err)
		}
	})
}

func TestSizing(t *testing.T) {
	t.Parallel()
	slos := mustThresholds(t, "success_rate >= 0.9", "amplification <= 1.5")
	mk := func(success, amp float64) *Summary {
		s := stats(1, 1, 1, nil)
		s.Tenants["web"] = &Stats{SuccessRate: success, Amplification: amp}
		return s
	}
	sz, err := NewSizing("web", slos, []TierRun{
		{Tier: "tier1", Summary: mk(0.5, 3)},    // fails both
		{Tier: "tier2", Summary: mk(0.95, 1.6)}, // fails amplification
		{Tier: "tier3", Summary: mk(0.99, 1.2)}, // meets both: chosen
		{Tier: "tier4", Summary: mk(1, 1)},      // meets both, dearer
	})
	if err != nil {
		t.Fatalf("NewSizing: %v", err)
	}
	if sz.ChosenTier != "tier3" {
		t.Errorf("ChosenTier = %q; want tier3", sz.ChosenTier)
	}
	// tier3: success slack (0.99−0.9)/0.9 = 10 %, amplification (1.5−1.2)/1.5 = 20 %.
	if m := sz.Margin("tier3"); math.Abs(m-0.1) > 1e-9 {
		t.Errorf("Margin(tier3) = %g; want 0.1", m)
	}
	if m := sz.Margin("tier1"); m >= 0 {
		t.Errorf("Margin(tier1) = %g; want < 0", m)
	}
	if r := sz.Tiers["tier2"].SLOs; len(r) != 2 || !r[0].OK || r[1].OK || r[1].Value != 1.6 || r[1].Expr != "amplification <= 1.5" {
		t.Errorf("Tiers[tier2].SLOs = %+v; want success ok, amplification 1.6 failed, expressions as written", r)
	}
	sz.Headroom = 1.84
	var b bytes.Buffer
	if err := sz.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "sizing.txt", b.Bytes())
	b.Reset()
	if err := sz.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	if keys := sortedKeys(top); !slices.Equal(keys, []string{"chosen_tier", "headroom", "order", "tenant", "tiers"}) {
		t.Errorf("sizing.json keys %v; want [chosen_tier headroom order tenant tiers]", keys)
	}
	var tier map[string]json.RawMessage
	var tiers map[string]json.RawMessage
	_ = json.Unmarshal(top["tiers"], &tiers)
	_ = json.Unmarshal(tiers["tier3"], &tier)
	if keys := sortedKeys(tier); !slices.Equal(keys, []string{"ok", "slos", "summary"}) {
		t.Errorf("sizing.json tiers.tier3 keys %v; want [ok slos summary]", keys)
	}

	none, err := NewSizing("web", slos, []TierRun{{Tier: "tier1", Summary: mk(0.5, 3)}})
	if err != nil {
		t.Fatal(err)
	}
	if none.ChosenTier != "" {
		t.Errorf("NewSizing with no tier meeting the SLOs: ChosenTier %q; want \"\"", none.ChosenTier)
	}
	// A tier must meet the SLOs on every seed.
	seeds, err := NewSizing("web", slos, []TierRun{
		{Tier: "tier1", Summary: mk(1, 1), More: []*Summary{mk(0.5, 1)}}, // fails on the second seed
		{Tier: "tier2", Summary: mk(1, 1), More: []*Summary{mk(0.95, 1.4)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if seeds.ChosenTier != "tier2" || seeds.Tiers["tier1"].OK {
		t.Errorf("NewSizing over seeds: chosen %q, tier1 ok %v; want tier2, false", seeds.ChosenTier, seeds.Tiers["tier1"].OK)
	}
	if _, err := NewSizing("nobody", slos, []TierRun{{Tier: "tier1", Summary: mk(1, 1)}}); err == nil || !strings.Contains(err.Error(), `no tenant "nobody"`) {
		t.Errorf("NewSizing(unknown tenant) = %v; want an error naming it", err)
	}
}

// TestComparisonReadAndMerge: comparison.json keeps what rebuilds it
// (ReadComparison writes the same bytes again), and the comparisons of the
// shards of a comparison, read back and merged, are the whole comparison,
// byte for byte, whatever the seeds and the objective's scope.
func TestComparisonReadAndMerge(t *testing.T) {
	t.Parallel()
	ths := mustThresholds(t, "success_rate >= 0.89")
	for _, c := range []struct {
		name      string
		seeds     int
		objective string
		tenant    string
	}{
		{"one seed", 1, "p99_time_to_success", ""},
		{"three seeds", 3, "success_rate", ""},
		{"tenant objective", 3, "min:tenant(web).amplification", "batch-jobs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			obj, err := ParseObjective(c.objective)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"naive-immediate", "compresr-recommended", "aws-standard", "exponential"}
			entries := make([]CompareRuns, len(names))
			for i, name := range names {
				entries[i].Name = name
				for k := range c.seeds {
					s := synthSummary(t, uint64(10*i+k), ths)
					s.Seed = uint64(1 + k) // every strategy runs the same seeds
					entries[i].Runs = append(entries[i].Runs, s)
				}
			}
			whole, err := NewComparison(entries, obj, c.tenant)
			if err != nil {
				t.Fatalf("NewComparison: %v", err)
			}
			dir := t.TempDir()
			save := func(c *Comparison, name string) (string, []byte) {
				var b bytes.Buffer
				if err := c.WriteJSON(&b); err != nil {
					t.Fatal(err)
				}
				return writeFile(t, dir, name, b.Bytes()), b.Bytes()
			}
			path, want := save(whole, "whole.json")
			again, err := ReadComparison(path)
			if err != nil {
				t.Fatalf("ReadComparison: %v", err)
			}
			if _, got := save(again, "again.json"); !bytes.Equal(got, want) {
				t.Errorf("comparison.json read back and written again differs:\n%s\nwant:\n%s", got, want)
			}

			// Shards 1/2 and 2/2: strategies 0, 2 and 1, 3.
			var parts []*Comparison
			for k := range 2 {
				sub := []CompareRuns{entries[k], entries[k+2]}
				part, err := NewComparison(sub, obj, c.tenant)
				if err != nil {
					t.Fatal(err)
				}
				part.Shard = fmt.Sprintf("%d/2", k+1)
				p, _ := save(part, fmt.Sprintf("shard-%d.json", k+1))
				read, err := ReadComparison(p)
				if err != nil {
					t.Fatalf("ReadComparison(shard %d): %v", k+1, err)
				}
				parts = append(parts, read)
			}
			merged, err := MergeComparisons(parts[1], parts[0])
			if err != nil {
				t.Fatalf("MergeComparisons: %v", err)
			}
			if _, got := save(merged, "merged.json"); !bytes.Equal(got, want) {
				t.Errorf("merged shards differ from the whole comparison:\n%s\nwant:\n%s", got, want)
			}
			if _, err := MergeComparisons(parts[0], parts[0]); err == nil || !strings.Contains(err.Error(), "give each shard's results once") {
				t.Errorf("MergeComparisons(shard 1, shard 1) error = %v; want one naming the repeated strategy", err)
			}
		})
	}
}

// TestMergeComparisonsMismatch: parts of different comparisons do not merge,
// and the error says which part differs in what.
func TestMergeComparisonsMismatch(t *testing.T) {
	t.Parallel()
	mk := func(name, objective string, seed uint64, scenario string, slos ...string) *Comparison {
		s := stats(0.9, 1.5, 2, mustThresholds(t, slos...))
		s.Seed, s.Scenario = seed, scenario
		obj, err := ParseObjective(objective)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewComparison([]CompareRuns{{name, []*Summary{s}}}, obj, "")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := mk("a", "success_rate", 1, "x")
	for _, c := range []struct {
		name  string
		other *Comparison
		want  string
	}{
		{"objective", mk("b", "amplification", 1, "x"), "ranks by min:amplification"},
		{"seed", mk("b", "success_rate", 2, "x"), "other seeds"},
		{"scenario", mk("b", "success_rate", 1, "y"), "part 2 is y"},
		{"SLOs", mk("b", "success_rate", 1, "x", "success_rate >= 0.5"), `SLOs ["success_rate >= 0.5"]`},
		{"no strategies", &Comparison{}, "part 2 has no strategies"},
	} {
		if _, err := MergeComparisons(base, c.other); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: MergeComparisons error = %v; want one containing %q", c.name, err, c.want)
		}
	}
}

// TestReadComparisonErrors: a comparison.json that cannot rebuild its
// comparison is refused with the reason.
func TestReadComparisonErrors(t *testing.T) {
	t.Parallel()
	checkReadErrors(t, "ReadComparison", func(p string) error { _, err := ReadComparison(p); return err }, []readErrorCase{
		{"no objective", `{"strategies": {"a": {"scenario": "x"}}, "ranking": ["a"]}`, "older loadsim"},
		{"ranking without summary", `{"strategies": {"a": {}}, "ranking": ["b"], "objective": "max:success_rate"}`, `"b" is ranked but has no summary`},
		{"runs missing", `{"strategies": {"a": {}}, "ranking": ["a"], "seeds": [1, 2], "objective": "max:success_rate"}`, "0 runs for 2 seeds"},
		{"bad objective", `{"strategies": {"a": {}}, "ranking": ["a"], "objective": "max:nope"}`, "unknown metric"},
		{"not JSON", `{"strategies": `, "read comparison"},
	})
}

// readErrorCase is a file's body and what the error reading it must say.
type readErrorCase struct{ name, body, want string }

// writeFile writes data to the file name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkReadErrors writes each case's body to a file and checks that read
// (named fn in messages) refuses it with an error containing the case's
// want.
func checkReadErrors(t *testing.T, fn string, read func(path string) error, cases []readErrorCase) {
	t.Helper()
	dir := t.TempDir()
	for _, c := range cases {
		path := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "-")+".json", []byte(c.body))
		if err := read(path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %s error = %v; want one containing %q", c.name, fn, err, c.want)
		}
	}
}

// FuzzReadComparison: an edited or truncated comparison.json never panics
// ReadComparison, nor the table, the files or a merge of what it accepts.
func FuzzReadComparison(f *testing.F) {
	ths, err := ParseThreshold("success_rate >= 0.5")
	if err != nil {
		f.Fatal(err)
	}
	var runs []*Summary
	for k := range 2 {
		s := stats(0.6+0.1*float64(k), 1.5, 2, []Threshold{ths})
		s.Seed = uint64(k + 1)
		runs = append(runs, s)
	}
	c, err := NewComparison([]CompareRuns{{"a", runs}, {"b", runs[:2]}}, Objective{Metric: "success_rate", Maximize: true}, "web")
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.WriteJSON(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"strategies": {"a": {"tenants": {"web": null}}}, "ranking": ["a"], "objective": "max:tenant(web).success_rate"}`))
	f.Add([]byte(`{"strategies": {"a": {}}, "ranking": ["a"], "seeds": [1, 2], "runs": {"a": [null, {}]}, "objective": "min:amplification"}`))
	f.Add([]byte(`{"strategies": {"a": {"thresholds": [{"expr": "x", "ok": false}]}}, "ranking": ["a", "a"], "objective": "max:success_rate"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadComparison(writeFile(t, dir, "comparison.json", data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		_ = c.WriteText(&out)
		_ = c.WriteMarkdown(&out)
		_ = c.WriteJSON(&out)
		_, _ = MergeComparisons(c, c)
	})
}

// TestSizingReadAndMerge: sizing.json reads back into the same sizing
// (SLOs parsed again from the verdicts), and the sizings of the shards of
// a sizing, merged in the tiers' order, choose the whole sizing's tier with
// the same table; mismatched parts are refused with the difference.
func TestSizingReadAndMerge(t *testing.T) {
	t.Parallel()
	slos := mustThresholds(t, "success_rate >= 0.9", "tenant(web).amplification <= 1.5")
	mk := func(success, amp float64) *Summary {
		s := stats(1, 1, 1, nil)
		s.Seed = 3
		s.Tenants["web"] = &Stats{SuccessRate: success, Amplification: amp}
		return s
	}
	runs := []TierRun{
		{Tier: "tier1", Summary: mk(0.5, 3)},
		{Tier: "tier2", Summary: mk(0.95, 1.6)},
		{Tier: "tier3", Summary: mk(0.99, 1.2)},
		{Tier: "tier4", Summary: mk(1, 1)},
		{Tier: "tier5", Summary: mk(1, 1)},
	}
	whole, err := NewSizing("web", slos, runs)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	save := func(s *Sizing, name string) (string, []byte) {
		var b bytes.Buffer
		if err := s.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, name, b.Bytes()), b.Bytes()
	}
	text := func(s *Sizing) string {
		var b bytes.Buffer
		if err := s.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	whole.Headroom, whole.HeadroomCapped = 100, true
	path, want := save(whole, "whole.json")
	again, err := ReadSizing(path)
	if err != nil {
		t.Fatalf("ReadSizing: %v", err)
	}
	if _, got := save(again, "again.json"); !bytes.Equal(got, want) || text(again) != text(whole) {
		t.Errorf("sizing.json read back differs:\n%s\nwant:\n%s", got, want)
	}

	// Shards 1/2 and 2/2: tiers 1, 3, 5 and 2, 4.
	var parts []*Sizing
	for k := range 2 {
		var sub []TierRun
		for i := k; i < len(runs); i += 2 {
			sub = append(sub, runs[i])
		}
		part, err := NewSizing("web", slos, sub)
		if err != nil {
			t.Fatal(err)
		}
		part.Shard = fmt.Sprintf("%d/2", k+1)
		p, _ := save(part, fmt.Sprintf("shard-%d.json", k+1))
		read, err := ReadSizing(p)
		if err != nil {
			t.Fatalf("ReadSizing(shard %d): %v", k+1, err)
		}
		parts = append(parts, read)
	}
	merged, err := MergeSizings(whole.Order, parts[1], parts[0])
	if err != nil {
		t.Fatalf("MergeSizings: %v", err)
	}
	whole.Headroom, whole.HeadroomCapped = 0, false
	_, want = save(whole, "whole-no-headroom.json")
	if _, got := save(merged, "merged.json"); !bytes.Equal(got, want) || text(merged) != text(whole) {
		t.Errorf("merged shards differ from the whole sizing (headroom aside):\n%s\nwant:\n%s", got, want)
	}

	other, err := NewSizing("web", mustThresholds(t, "success_rate >= 0.5"), runs[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		order []string
		parts []*Sizing
		want  string
	}{
		{"twice", []string{"tier1", "tier3", "tier5"}, []*Sizing{parts[0], parts[0]}, "give each shard's results once"},
		{"SLOs", []string{"tier1", "tier3", "tier5"}, []*Sizing{parts[0], other}, "judged by the SLOs"},
		{"order short", []string{"tier1"}, parts, "order lists 1 tiers, the parts have 5"},
		{"order unknown", []string{"tier1", "tier2", "tier3", "tier4", "tier9"}, parts, `"tier9" of the order is in no part`},
	} {
		if _, err := MergeSizings(c.order, c.parts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: MergeSizings error = %v; want one containing %q", c.name, err, c.want)
		}
	}
}

// TestReadSizingErrors: a sizing.json that cannot be rebuilt is refused
// with the reason.
func TestReadSizingErrors(t *testing.T) {
	t.Parallel()
	tier := `{"ok": true, "slos": [{"expr": "success_rate >= 0.9", "ok": true, "value": 1}], "summary": {}}`
	checkReadErrors(t, "ReadSizing", func(p string) error { _, err := ReadSizing(p); return err }, []readErrorCase{
		{"no order", `{"tenant": "web", "chosen_tier": "", "tiers": {}}`, "older loadsim"},
		{"no tenant", `{"order": ["t1"], "tiers": {"t1": ` + tier + `}}`, "no tenant"},
		{"order and tiers", `{"tenant": "web", "order": ["t1", "t2"], "tiers": {"t1": ` + tier + `}}`, "order lists 2 tiers and tiers has 1"},
		{"missing tier", `{"tenant": "web", "order": ["t2"], "chosen_tier": "t1", "tiers": {"t1": ` + tier + `}}`, `"t2" is in the order but has no result`},
		{"not chosen", `{"tenant": "web", "order": ["t1"], "chosen_tier": "", "tiers": {"t1": ` + tier + `}}`, "no tier is chosen"},
		{"bad SLO", `{"tenant": "web", "order": ["t1"], "chosen_tier": "", "tiers": {"t1": {"ok": false, "slos": [{"expr": "nope"}], "summary": {}}}}`, `SLO "nope"`},
		{"not JSON", `{"tenant": `, "read sizing"},
	})
}

// FuzzReadSizing: an edited or truncated sizing.json never panics
// ReadSizing, nor the table, the files or a merge of what it accepts.
func FuzzReadSizing(f *testing.F) {
	th, err := ParseThreshold("success_rate >= 0.5")
	if err != nil {
		f.Fatal(err)
	}
	sz, err := NewSizing("web", []Threshold{th}, []TierRun{{Tier: "tier1", Summary: stats(0.4, 1, 1, nil)}, {Tier: "tier2", Summary: stats(0.9, 1, 1, nil)}})
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := sz.WriteJSON(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"tenant": "web", "order": ["t1"], "chosen_tier": "t1", "tiers": {"t1": {"ok": true, "slos": [], "summary": {"tenants": {"web": null}}}}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSizing(writeFile(t, dir, "sizing.json", data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		_ = s.WriteText(&out)
		_ = s.WriteMarkdown(&out)
		_ = s.WriteJSON(&out)
		_, _ = MergeSizings(s.Order, s)
	})
}

// TestComparisonIncidentColumns: runs with upstream incidents add the
// goodput during and after them to the table and, over seeds, to the
// spread; runs without keep the table as it was.
func TestComparisonIncidentColumns(t *testing.T) {
	t.Parallel()
	run := func(seed uint64, during, after float64, incidents bool) *Summary {
		s := stats(0.9, 1.2, 2, nil)
		s.Seed = seed
		if incidents {
			s.Incidents = []IncidentWindow{{StartSeconds: 60, DurationSeconds: 30}}
			s.IncidentGoodput = &IncidentGoodput{BeforeRPS: 10, DuringRPS: during, AfterRPS: after}
		}
		return s
	}
	obj, err := ParseObjective(DefaultObjective)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		incidents bool
		want      []string // in the text table
		spread    bool     // the incident metrics have a spread
	}{
		// incidents: both columns, and the values of each strategy's seeds
		{"incidents", true, []string{"GOODPUT IN INC./s", "AFTER INC./s", "0.5 ±0.7071", "27 ±1.4142", "30 ±0"}, true},
		// no incidents: no such columns
		{"none", false, nil, false},
	} {
		entries := []CompareRuns{
			{Name: "naive", Runs: []*Summary{run(1, 0, 26, tc.incidents), run(2, 1, 28, tc.incidents)}},
			{Name: "polite", Runs: []*Summary{run(1, 2, 30, tc.incidents), run(2, 2, 30, tc.incidents)}},
		}
		c, err := NewComparison(entries, obj, "")
		if err != nil {
			t.Fatalf("%s: NewComparison: %v", tc.name, err)
		}
		var b strings.Builder
		if err := c.WriteText(&b); err != nil {
			t.Fatalf("%s: WriteText: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: table lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		if !tc.incidents && strings.Contains(b.String(), "INC.") {
			t.Errorf("%s: table has incident columns:\n%s", tc.name, b.String())
		}
		if _, ok := c.Spread["naive"]["goodput_after_incident_rps"]; ok != tc.spread {
			t.Errorf("%s: spread of goodput_after_incident_rps present = %v; want %v", tc.name, ok, tc.spread)
		}
	}
}

// TestSizingNotes: the sizing says when success_rate is bounded on every
// tier by requests refused client-side, and when the dearest tier got no
// 429 (the quota is not what fails the SLOs); not otherwise.
func TestSizingNotes(t *testing.T) {
	t.Parallel()
	mk := func(success float64, rejected, n429 uint64) *Summary {
		s := stats(1, 1, 1, nil)
		st := &Stats{SuccessRate: success, Attempts: Attempts{ByStatus: map[string]uint64{"429": n429}}}
		st.Requests.Total, st.Requests.RejectedClientSide = 100, rejected
		st.Requests.Succeeded = uint64(success * 100)
		s.Tenants["web"] = st
		return s
	}
	for _, tc := range []struct {
		name    string
		slos    []string
		tiers   []TierRun
		want    []string // substrings of the notes, in order
		noNotes bool
	}{
		// 2 of 100 refused client-side: success_rate cannot pass 98 %, sent_success_rate is the way out
		{"rejected", []string{"success_rate >= 0.99"}, []TierRun{{Tier: "tier1", Summary: mk(0.9, 2, 30)}, {Tier: "tier2", Summary: mk(0.98, 2, 5)}},
			[]string{"the 2 of 100 requests the client refused", "no tier gets above 98.0%; sent_success_rate"}, false},
		// no tier meets the SLO and the dearest got no 429: the quota is not the cause
		{"not the quota", []string{"sent_success_rate >= 0.99"}, []TierRun{{Tier: "tier1", Summary: mk(0.5, 0, 30)}, {Tier: "tier2", Summary: mk(0.9, 0, 0)}},
			[]string{"on tier2 the tenant got no 429"}, false},
		// a tier meets the SLO, nothing refused: no notes
		{"none", []string{"success_rate >= 0.9"}, []TierRun{{Tier: "tier1", Summary: mk(0.5, 0, 30)}, {Tier: "tier2", Summary: mk(0.95, 0, 0)}},
			nil, true},
	} {
		sz, err := NewSizing("web", mustThresholds(t, tc.slos...), tc.tiers)
		if err != nil {
			t.Fatalf("%s: NewSizing: %v", tc.name, err)
		}
		var b strings.Builder
		if err := sz.WriteText(&b); err != nil {
			t.Fatalf("%s: WriteText: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: sizing text lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		if tc.noNotes && strings.Contains(b.String(), "note:") {
			t.Errorf("%s: sizing text has a note:\n%s", tc.name, b.String())
		}
	}
}
