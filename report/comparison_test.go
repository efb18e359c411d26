package report

import (
	"bytes"
	"encoding/json"
	"math"
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
	if !slices.Equal(keys, []string{"ranking", "strategies"}) {
		t.Errorf("comparison.json keys %v; want [ranking strategies]", keys)
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
	if keys := sortedKeys(top); !slices.Equal(keys, []string{"chosen_tier", "headroom", "tenant", "tiers"}) {
		t.Errorf("sizing.json keys %v; want [chosen_tier headroom tenant tiers]", keys)
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
