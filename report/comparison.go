package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Objective is what `loadsim compare` ranks strategies by: one summary
// metric (a threshold metric name, see ThresholdMetrics), of the whole run or
// of one tenant, to minimise or maximise.
type Objective struct {
	Tenant   string // "" = the whole run
	Metric   string // a threshold metric name
	Maximize bool   // larger is better (success_rate, goodput_rps, …)
}

// DefaultObjective is the objective when none is given: the success rate.
const DefaultObjective = "success_rate"

// maximized are the metrics whose larger values are better.
var maximized = map[string]bool{
	"success_rate": true, "goodput_rps": true, "achieved_rps": true, "succeeded": true,
	"retry_after_honoured": true,
}

// pAlias matches p99_time_to_success style names (an alias of
// time_to_success_p99).
var pAlias = regexp.MustCompile(`^p(50|90|99)_([a-z_]+)$`)

// ParseObjective parses [max:|min:][tenant(NAME).]METRIC. METRIC is a
// threshold metric name or its pNN_ alias (p99_time_to_success =
// time_to_success_p99). Without a max: or min: prefix the direction is the
// metric's natural one: larger is better for success_rate, goodput_rps,
// achieved_rps, succeeded and retry_after_honoured, smaller for the rest.
// Errors list the valid metrics.
func ParseObjective(s string) (Objective, error) {
	var o Objective
	rest := strings.TrimSpace(s)
	dir := ""
	switch {
	case strings.HasPrefix(rest, "max:"):
		dir, rest = "max", strings.TrimSpace(rest[4:])
	case strings.HasPrefix(rest, "min:"):
		dir, rest = "min", strings.TrimSpace(rest[4:])
	}
	if after, ok := strings.CutPrefix(rest, "tenant("); ok {
		name, tail, found := strings.Cut(after, ")")
		tail, dot := strings.CutPrefix(tail, ".")
		if !found || !dot || strings.TrimSpace(name) == "" {
			return Objective{}, fmt.Errorf("objective %q: write tenant(NAME).METRIC", s)
		}
		o.Tenant, rest = strings.TrimSpace(name), tail
	}
	if m := pAlias.FindStringSubmatch(rest); m != nil {
		rest = m[2] + "_p" + m[1]
	}
	if _, _, ok := lookupMetric(rest); !ok || rest == "" {
		return Objective{}, fmt.Errorf("objective %q: %s", s, unknownMetric(rest))
	}
	o.Metric = rest
	o.Maximize = maximized[rest]
	if dir != "" {
		o.Maximize = dir == "max"
	}
	return o, nil
}

// String returns the objective as ParseObjective reads it, with its
// direction: "max:success_rate", "min:tenant(web).amplification".
func (o Objective) String() string {
	dir := "min:"
	if o.Maximize {
		dir = "max:"
	}
	return dir + scoped(o.Tenant, o.Metric)
}

// MarshalText writes the objective as String does, so that comparison.json
// keeps what ranked its strategies.
func (o Objective) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an objective as ParseObjective does.
func (o *Objective) UnmarshalText(b []byte) error {
	v, err := ParseObjective(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// scoped returns metric, or tenant(NAME).metric.
func scoped(tenant, metric string) string {
	if tenant == "" {
		return metric
	}
	return "tenant(" + tenant + ")." + metric
}

// MetricValue returns metric (a threshold metric name) of s's whole run, or
// of tenant when not "". Errors name an unknown metric or tenant.
func MetricValue(s *Summary, tenant, metric string) (float64, error) {
	get, _, ok := lookupMetric(metric)
	if !ok {
		return 0, errors.New(unknownMetric(metric))
	}
	st := &s.Stats
	if tenant != "" {
		if st = s.Tenants[tenant]; st == nil {
			return 0, fmt.Errorf("unknown tenant %q", tenant)
		}
	}
	return get(st), nil
}

// Spread is a metric's distribution over the seeds of one strategy.
type Spread struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"` // sample standard deviation (n − 1); 0 for one seed
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// spreadOf returns the spread of xs (not empty), rounded to 6 decimals.
func spreadOf(xs []float64) Spread {
	s := Spread{Min: xs[0], Max: xs[0]}
	sum := 0.0
	for _, x := range xs {
		sum += x
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	}
	s.Mean = sum / float64(len(xs))
	if len(xs) > 1 {
		ss := 0.0
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(len(xs)-1))
	}
	s.Mean, s.Std, s.Min, s.Max = round6(s.Mean), round6(s.Std), round6(s.Min), round6(s.Max)
	return s
}

// CompareRuns is one strategy's runs for NewComparison: one summary per
// seed, in seed order (at least one). Each summary's Thresholds are the SLO
// verdicts.
type CompareRuns struct {
	Name string
	Runs []*Summary
}

// Comparison is comparison.json: each strategy's summary (of its first
// seed) and the ranking, best first. Over several seeds it also has the
// seeds and each strategy's spread of the compared metrics (and of the
// objective). It keeps what ranked and scoped it, and over several seeds
// every seed's summary, so that ReadComparison and MergeComparisons rebuild
// it, or the comparison of the shards' strategies together, exactly. A
// Comparison is not safe for concurrent modification.
type Comparison struct {
	Strategies map[string]*Summary `json:"strategies"`
	Ranking    []string            `json:"ranking"`
	// Seeds are the seeds each strategy ran with, when more than one.
	Seeds []uint64 `json:"seeds,omitempty"`
	// Spread is, per strategy and metric, the distribution over Seeds
	// (absent for one seed).
	Spread map[string]map[string]Spread `json:"spread,omitempty"`
	// Shard is "k/N" when only shard k of N of the strategies ran here
	// ("1,3/4" after merging shards 1 and 3 of 4).
	Shard string `json:"shard,omitempty"`
	// Interrupted says how much of an interrupted comparison ran ("2 of 4
	// strategies ran"): the strategies here are those that had finished.
	// Empty for a complete one.
	Interrupted string `json:"interrupted,omitempty"`

	// Objective ranked the strategies; Tenant, when set, scopes the table.
	Objective Objective `json:"objective"`
	Tenant    string    `json:"tenant,omitempty"`
	// Runs are every seed's summaries of each strategy, in seed order,
	// when there is more than one seed (with one, Strategies has them).
	Runs map[string][]*Summary `json:"runs,omitempty"`
	// Feasible reports, per strategy, whether every SLO held on every seed.
	Feasible map[string]bool `json:"-"`
	// runs keeps every seed's summary for the table.
	runs map[string][]*Summary
}

// NewComparison ranks entries by obj: strategies meeting every SLO on every
// seed first, then by the objective's mean over seeds (best first), then by
// mean amplification (lower first), then by name. tenant, when not "",
// scopes the table's columns to that tenant. entries must have distinct
// names and at least one run each.
func NewComparison(entries []CompareRuns, obj Objective, tenant string) (*Comparison, error) {
	c := &Comparison{Strategies: map[string]*Summary{}, Objective: obj, Tenant: tenant,
		Feasible: map[string]bool{}, runs: map[string][]*Summary{}}
	type rank struct {
		name      string
		ok        bool
		objective float64
		amp       float64
	}
	ranks := make([]rank, 0, len(entries))
	nseeds := 0
	for _, e := range entries {
		if len(e.Runs) == 0 {
			return nil, fmt.Errorf("comparison: strategy %q has no runs", e.Name)
		}
		if _, dup := c.Strategies[e.Name]; dup {
			return nil, fmt.Errorf("comparison: strategy %q appears twice", e.Name)
		}
		nseeds = max(nseeds, len(e.Runs))
		c.Strategies[e.Name] = e.Runs[0]
		c.runs[e.Name] = e.Runs
		ok := true
		objs := make([]float64, len(e.Runs))
		amps := make([]float64, len(e.Runs))
		for i, s := range e.Runs {
			ok = ok && s.Passed()
			v, err := MetricValue(s, obj.Tenant, obj.Metric)
			if err != nil {
				return nil, fmt.Errorf("comparison: objective %s: %w", obj, err)
			}
			objs[i] = v
			amps[i], _ = MetricValue(s, tenant, "amplification")
		}
		c.Feasible[e.Name] = ok
		ranks = append(ranks, rank{e.Name, ok, spreadOf(objs).Mean, spreadOf(amps).Mean})
	}
	slices.SortFunc(ranks, func(a, b rank) int {
		if a.ok != b.ok {
			if a.ok {
				return -1
			}
			return 1
		}
		if a.objective != b.objective {
			if (a.objective < b.objective) == obj.Maximize {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.amp, b.amp), strings.Compare(a.name, b.name))
	})
	for _, r := range ranks {
		c.Ranking = append(c.Ranking, r.name)
	}
	if nseeds > 1 {
		for _, s := range entries[0].Runs {
			c.Seeds = append(c.Seeds, s.Seed)
		}
		c.Runs = c.runs
		c.Spread = map[string]map[string]Spread{}
		metrics := c.metrics()
		for _, e := range entries {
			m := map[string]Spread{}
			for _, metric := range metrics {
				tn := tenant
				if metric == obj.Metric && obj.Tenant != "" {
					tn = obj.Tenant
				}
				xs := make([]float64, len(e.Runs))
				for i, s := range e.Runs {
					xs[i], _ = MetricValue(s, tn, metric)
				}
				m[metric] = spreadOf(xs)
			}
			c.Spread[e.Name] = m
		}
	}
	return c, nil
}

// Entries returns each strategy's runs, in ranking order, as NewComparison
// takes them.
func (c *Comparison) Entries() []CompareRuns {
	out := make([]CompareRuns, len(c.Ranking))
	for i, name := range c.Ranking {
		out[i] = CompareRuns{Name: name, Runs: c.runs[name]}
	}
	return out
}

// ReadComparison reads a comparison.json file and rebuilds the comparison
// from the runs it keeps (ranking, feasibility and spreads computed again,
// as NewComparison does). Errors name the file and what is missing.
func ReadComparison(path string) (*Comparison, error) {
	saved, err := readJSON[Comparison](path, "comparison")
	if err != nil {
		return nil, err
	}
	if saved.Objective.Metric == "" {
		return nil, fmt.Errorf("read comparison %s: no objective: it was written by an older loadsim; run the comparison again", path)
	}
	if len(saved.Ranking) == 0 || len(saved.Ranking) != len(saved.Strategies) {
		return nil, fmt.Errorf("read comparison %s: ranking lists %d strategies and strategies has %d: restore the file from its comparison", path, len(saved.Ranking), len(saved.Strategies))
	}
	entries := make([]CompareRuns, len(saved.Ranking))
	for i, name := range saved.Ranking {
		first := saved.Strategies[name]
		if first == nil {
			return nil, fmt.Errorf("read comparison %s: strategy %q is ranked but has no summary", path, name)
		}
		runs := []*Summary{first}
		if len(saved.Seeds) > 1 {
			runs = saved.Runs[name]
			if len(runs) != len(saved.Seeds) || slices.Contains(runs, nil) {
				return nil, fmt.Errorf("read comparison %s: strategy %q has %d runs for %d seeds: restore the file from its comparison", path, name, len(runs), len(saved.Seeds))
			}
		}
		entries[i] = CompareRuns{Name: name, Runs: runs}
	}
	c, err := NewComparison(entries, saved.Objective, saved.Tenant)
	if err != nil {
		return nil, fmt.Errorf("read comparison %s: %w", path, err)
	}
	c.Shard, c.Interrupted = saved.Shard, saved.Interrupted
	return c, nil
}

// MergeComparisons returns the comparison of the strategies of parts
// together, ranked as NewComparison ranks them, e.g. the comparisons of the
// shards of one `loadsim compare --shard k/N`. The parts must agree on the
// objective, the table's tenant, the seeds and the scenario, engine and
// duration of their runs, and no strategy may appear in two. The result's
// Shard is empty: the caller labels it. Parts that were interrupted are
// named in its Interrupted.
func MergeComparisons(parts ...*Comparison) (*Comparison, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge comparisons: none given")
	}
	for i, p := range parts {
		if len(p.Ranking) == 0 || p.Strategies[p.Ranking[0]] == nil {
			return nil, fmt.Errorf("merge comparisons: part %d has no strategies", i+1)
		}
	}
	first := parts[0]
	ref := first.Strategies[first.Ranking[0]]
	refSLOs := sloExprsOf(ref.Thresholds)
	var entries []CompareRuns
	owner := map[string]int{}
	for i, p := range parts {
		for _, name := range p.Ranking {
			if j, dup := owner[name]; dup {
				return nil, fmt.Errorf("merge comparisons: strategy %q is in parts %d and %d: give each shard's results once", name, j+1, i+1)
			}
			owner[name] = i
		}
		s := p.Strategies[p.Ranking[0]]
		switch {
		case p.Objective != first.Objective:
			return nil, fmt.Errorf("merge comparisons: part %d ranks by %s, part 1 by %s: merge the shards of one comparison", i+1, p.Objective, first.Objective)
		case p.Tenant != first.Tenant:
			return nil, fmt.Errorf("merge comparisons: part %d's table is of tenant %q, part 1's of %q: merge the shards of one comparison", i+1, p.Tenant, first.Tenant)
		case !slices.Equal(p.Seeds, first.Seeds) || s.Seed != ref.Seed:
			return nil, fmt.Errorf("merge comparisons: part %d ran other seeds than part 1: merge the shards of one comparison", i+1)
		case s.Scenario != ref.Scenario || s.Engine != ref.Engine || s.DurationSeconds != ref.DurationSeconds:
			return nil, fmt.Errorf("merge comparisons: part %d is %s (%s, %s), part 1 %s (%s, %s): merge the shards of one comparison",
				i+1, s.Scenario, s.Engine, fmtSeconds(s.DurationSeconds), ref.Scenario, ref.Engine, fmtSeconds(ref.DurationSeconds))
		case !slices.Equal(sloExprsOf(s.Thresholds), refSLOs):
			return nil, fmt.Errorf("merge comparisons: part %d was judged by the SLOs %q, part 1 by %q: merge the shards of one comparison", i+1, sloExprsOf(s.Thresholds), refSLOs)
		}
		entries = append(entries, p.Entries()...)
	}
	c, err := NewComparison(entries, first.Objective, first.Tenant)
	if err != nil {
		return nil, fmt.Errorf("merge comparisons: %w", err)
	}
	var stopped []string
	for i, p := range parts {
		if p.Interrupted != "" {
			stopped = append(stopped, fmt.Sprintf("part %d: %s", i+1, p.Interrupted))
		}
	}
	c.Interrupted = strings.Join(stopped, "; ")
	return c, nil
}

// metrics returns the metrics of the table's columns plus the objective's:
// those whose spread over seeds a comparison keeps.
func (c *Comparison) metrics() []string {
	var out []string
	for _, col := range c.columns() {
		out = append(out, col.metric)
	}
	if !slices.Contains(out, c.Objective.Metric) {
		out = append(out, c.Objective.Metric)
	}
	return out
}

// AnyFeasible reports whether at least one strategy met every SLO (true
// when there are no SLOs). `loadsim compare` exits 99 otherwise.
func (c *Comparison) AnyFeasible() bool {
	for _, ok := range c.Feasible {
		if ok {
			return true
		}
	}
	return len(c.Feasible) == 0
}

// value returns a strategy's metric (the objective's scope for the
// objective, the table's scope otherwise) as "x" or, over several seeds,
// "x ±s", formatted by f.
func (c *Comparison) value(name, metric string, f func(float64) string) string {
	runs := c.runs[name]
	tn := c.Tenant
	if metric == c.Objective.Metric && c.Objective.Tenant != "" {
		tn = c.Objective.Tenant
	}
	xs := make([]float64, 0, len(runs))
	for _, s := range runs {
		v, err := MetricValue(s, tn, metric)
		if err != nil {
			return "–"
		}
		xs = append(xs, v)
	}
	if len(xs) == 0 {
		return "–"
	}
	sp := spreadOf(xs)
	if len(xs) == 1 {
		return f(sp.Mean)
	}
	return f(sp.Mean) + " ±" + f(sp.Std)
}

// fmtCount prints a count (or a mean of counts) without decimals beyond one.
func fmtCount(x float64) string {
	if x == math.Trunc(x) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// column is one column of the table after RANK, STRATEGY and SLO: its
// head, its metric and how a value prints.
type column struct {
	head, metric string
	f            func(float64) string
}

// comparisonColumns are the table's columns after RANK, STRATEGY and SLO.
var comparisonColumns = []column{
	{"SUCCESS", "success_rate", fmtPct},
	{"GAVE UP", "gave_up", fmtCount},
	{"FAILED", "failed_permanent", fmtCount},
	{"AMPLIF.", "amplification", fmtFloat},
	{"ATTEMPTS", "attempts_total", fmtCount},
	{"TTS P50", "time_to_success_p50", fmtSeconds},
	{"TTS P99", "time_to_success_p99", fmtSeconds},
	{"429s", "status_429", fmtCount},
	{"503s", "status_503", fmtCount},
}

// incidentColumns follow comparisonColumns when the runs had upstream
// incidents: goodput during them and just after (how fast a strategy lets
// the API recover).
var incidentColumns = []column{
	{"GOODPUT IN INC./s", "goodput_during_incident_rps", fmtFloat},
	{"AFTER INC./s", "goodput_after_incident_rps", fmtFloat},
}

// columns returns the table's columns: comparisonColumns, then
// incidentColumns when a strategy's runs had incidents.
func (c *Comparison) columns() []column {
	for _, s := range c.Strategies {
		if len(s.Incidents) > 0 {
			return append(slices.Clip(comparisonColumns), incidentColumns...)
		}
	}
	return comparisonColumns
}

// objectiveFormat returns how the objective column is printed.
func (c *Comparison) objectiveFormat() func(float64) string {
	switch {
	case strings.Contains(c.Objective.Metric, "rate") && c.Objective.Metric != "goodput_rps" &&
		c.Objective.Metric != "achieved_rps" && c.Objective.Metric != "offered_rps":
		return fmtPct
	case strings.HasPrefix(c.Objective.Metric, "latency_") || strings.HasPrefix(c.Objective.Metric, "time_to_success_") ||
		strings.HasPrefix(c.Objective.Metric, "backoff_"):
		return fmtSeconds
	}
	return fmtFloat
}

// header describes the comparison: scenario, engine, seeds, scope,
// objective.
func (c *Comparison) header() string {
	var s *Summary
	if len(c.Ranking) > 0 {
		s = c.Strategies[c.Ranking[0]]
	}
	var b strings.Builder
	if s != nil {
		fmt.Fprintf(&b, "%s · %s · %s", s.Scenario, s.Engine, fmtSeconds(s.DurationSeconds))
		if len(c.Seeds) > 1 {
			fmt.Fprintf(&b, " · seeds %d–%d (mean ±sd)", c.Seeds[0], c.Seeds[len(c.Seeds)-1])
		} else {
			fmt.Fprintf(&b, " · seed %d", s.Seed)
		}
	}
	scope := "all tenants"
	if c.Tenant != "" {
		scope = "tenant " + c.Tenant
	}
	fmt.Fprintf(&b, " · columns: %s · ranked by %s", scope, c.Objective)
	if c.Shard != "" {
		fmt.Fprintf(&b, " · shard %s", c.Shard)
	}
	if c.Interrupted != "" {
		fmt.Fprintf(&b, " · interrupted: %s", c.Interrupted)
	}
	return b.String()
}

// WriteText writes the comparison table printed by `loadsim compare`: one
// row per strategy in ranking order with its SLO verdict (✓ all met, ✗ one
// failed on some seed, – no SLOs).
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(c.header() + "\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := []string{"RANK", "STRATEGY", "SLO"}
	for _, col := range c.columns() {
		row = append(row, col.head)
	}
	row = append(row, "OBJECTIVE")
	fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	for i, name := range c.Ranking {
		fmt.Fprintln(tw, strings.Join(c.row(i, name), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !c.AnyFeasible() {
		b.WriteString("no strategy met every SLO\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// row returns the table cells of the strategy ranked i.
func (c *Comparison) row(i int, name string) []string {
	row := []string{strconv.Itoa(i + 1), name, c.sloMark(name)}
	for _, col := range c.columns() {
		row = append(row, c.value(name, col.metric, col.f))
	}
	return append(row, c.value(name, c.Objective.Metric, c.objectiveFormat()))
}

// sloMark returns ✓, ✗ or – (no SLOs) for a strategy.
func (c *Comparison) sloMark(name string) string {
	if s := c.Strategies[name]; s == nil || len(s.Thresholds) == 0 {
		return "–"
	}
	return mark(c.Feasible[name])
}

// WriteMarkdown writes comparison.md: the header, the table and each SLO's
// value per strategy.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# loadsim comparison\n\n")
	b.WriteString(mdEscape(c.header()) + "\n\n")
	head := []string{"rank", "strategy", "SLO"}
	for _, col := range c.columns() {
		head = append(head, strings.ToLower(col.head))
	}
	head = append(head, "objective")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(head)) + "|\n")
	for i, name := range c.Ranking {
		cells := c.row(i, name)
		for j := range cells {
			cells[j] = mdEscape(cells[j])
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if len(c.Ranking) > 0 && len(c.Strategies[c.Ranking[0]].Thresholds) > 0 {
		b.WriteString("\n## SLOs\n\n| strategy | SLO | value |\n|---|---|---|\n")
		for _, name := range c.Ranking {
			for _, t := range c.Strategies[name].Thresholds {
				fmt.Fprintf(&b, "| %s | %s `%s` | %s |\n", mdEscape(name), mark(t.OK), mdEscape(t.Expr), t.ValueString())
			}
		}
		if len(c.Seeds) > 1 {
			b.WriteString("\nValues are the first seed's; a strategy meets the SLOs only if they hold on every seed.\n")
		}
	}
	if !c.AnyFeasible() {
		b.WriteString("\nNo strategy met every SLO.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Output file names of `loadsim compare` and `loadsim size`.
const (
	ComparisonJSONFile     = "comparison.json"
	ComparisonMarkdownFile = "comparison.md"
	SizingJSONFile         = "sizing.json"
	SizingMarkdownFile     = "sizing.md"
)

// WriteJSON writes comparison.json, indented; equal comparisons give
// identical bytes.
func (c *Comparison) WriteJSON(w io.Writer) error { return writeIndented(w, c, "comparison") }

// WriteFiles writes comparison.json and comparison.md into dir (created if
// needed).
func (c *Comparison) WriteFiles(dir string) error {
	return writeFiles(dir, []namedWriter{{ComparisonJSONFile, c.WriteJSON}, {ComparisonMarkdownFile, c.WriteMarkdown}})
}

// writeIndented writes v as indented JSON and a newline.
func writeIndented(w io.Writer, v any, what string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
