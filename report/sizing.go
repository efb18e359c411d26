package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// TierSizing is one tier's result in sizing.json: whether every SLO held,
// each SLO's verdict on the sized tenant, and the run's summary.
type TierSizing struct {
	OK      bool              `json:"ok"`
	SLOs    []ThresholdResult `json:"slos"`
	Summary *Summary          `json:"summary"`
}

// TierRun is one tier's simulation for NewSizing.
type TierRun struct {
	Tier    string
	Summary *Summary
	// More are the summaries of further seeds, if any: the tier meets the
	// SLOs only if they hold on Summary and on each of these too (the
	// reported values are Summary's).
	More []*Summary
}

// Sizing is sizing.json: the tenant sized, the cheapest tier meeting every
// SLO ("" when none does), the headroom on it (the largest multiplier of the
// tenant's traffic that still meets the SLOs; 0 when no tier is chosen or it
// was not searched) and every tier's result.
type Sizing struct {
	Tenant     string                 `json:"tenant"`
	ChosenTier string                 `json:"chosen_tier"`
	Headroom   float64                `json:"headroom"`
	Tiers      map[string]*TierSizing `json:"tiers"`
	// Shard is "k/N" when only shard k of N of the tiers ran here: the
	// choice is then among those tiers only and the headroom is not searched
	// ("1,3/4" after merging shards 1 and 3 of 4).
	Shard string `json:"shard,omitempty"`

	// Order lists the tiers cheapest first, as given to NewSizing.
	Order []string `json:"order"`
	// SLOs are the constraints, as given (unscoped ones read the tenant).
	// sizing.json keeps them as each tier's slos[].expr.
	SLOs []Threshold `json:"-"`
	// HeadroomCapped reports that the SLOs still held at the largest
	// multiplier tried: Headroom is a lower bound.
	HeadroomCapped bool `json:"headroom_capped,omitempty"`
}

// ScopeSLOs returns slos with every threshold that names no tenant scoped
// to tenant (its Expr unchanged): sizing SLOs are about the sized tenant.
func ScopeSLOs(slos []Threshold, tenant string) []Threshold {
	out := make([]Threshold, len(slos))
	for i, t := range slos {
		if t.Tenant == "" {
			t.Tenant = tenant
		}
		out[i] = t
	}
	return out
}

// NewSizing evaluates slos (see ScopeSLOs) on each tier's summary and
// chooses the first tier, in the order given (cheapest first), meeting
// every one. Headroom is left for the caller to set.
func NewSizing(tenant string, slos []Threshold, tiers []TierRun) (*Sizing, error) {
	s := &Sizing{Tenant: tenant, Tiers: make(map[string]*TierSizing, len(tiers)), SLOs: slos}
	scoped := ScopeSLOs(slos, tenant)
	for _, tr := range tiers {
		if _, dup := s.Tiers[tr.Tier]; dup {
			return nil, fmt.Errorf("sizing: tier %q appears twice", tr.Tier)
		}
		if tr.Summary == nil {
			return nil, fmt.Errorf("sizing: tier %q has no summary", tr.Tier)
		}
		if _, ok := tr.Summary.Tenants[tenant]; !ok {
			return nil, fmt.Errorf("sizing: tier %q: the summary has no tenant %q", tr.Tier, tenant)
		}
		res := EvaluateThresholds(tr.Summary, scoped)
		ok := true
		for _, r := range res {
			ok = ok && r.OK
		}
		for _, m := range tr.More {
			for _, r := range EvaluateThresholds(m, scoped) {
				ok = ok && r.OK
			}
		}
		s.Tiers[tr.Tier] = &TierSizing{OK: ok, SLOs: res, Summary: tr.Summary}
		s.Order = append(s.Order, tr.Tier)
		if ok && s.ChosenTier == "" {
			s.ChosenTier = tr.Tier
		}
	}
	return s, nil
}

// ReadSizing reads a sizing.json file back, its SLOs parsed again from the
// tiers' verdicts. Errors name the file and what is missing or
// inconsistent.
func ReadSizing(path string) (*Sizing, error) {
	s, err := readJSON[Sizing](path, "sizing")
	if err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("read sizing %s: %s", path, fmt.Sprintf(format, a...))
	}
	switch {
	case len(s.Order) == 0:
		return nil, bad("no order of tiers: it was written by an older loadsim; run the sizing again")
	case s.Tenant == "":
		return nil, bad("no tenant: restore the file from its sizing")
	case len(s.Tiers) != len(s.Order):
		return nil, bad("order lists %d tiers and tiers has %d: restore the file from its sizing", len(s.Order), len(s.Tiers))
	}
	var refSLOs []string // the first tier's
	for i, tier := range s.Order {
		ts := s.Tiers[tier]
		if ts == nil || ts.Summary == nil {
			return nil, bad("tier %q is in the order but has no result and summary", tier)
		}
		if i == 0 {
			refSLOs = sloExprsOf(ts.SLOs)
		} else if !slices.Equal(sloExprsOf(ts.SLOs), refSLOs) {
			return nil, bad("tiers %s and %s were judged by different SLOs: restore the file from its sizing", s.Order[0], tier)
		}
		if s.ChosenTier == "" && ts.OK {
			return nil, bad("tier %s met the SLOs but no tier is chosen: restore the file from its sizing", tier)
		}
	}
	for _, r := range s.Tiers[s.Order[0]].SLOs {
		t, err := ParseThreshold(r.Expr)
		if err != nil {
			return nil, bad("SLO %q: %v", r.Expr, err)
		}
		s.SLOs = append(s.SLOs, t)
	}
	if s.ChosenTier != "" && (s.Tiers[s.ChosenTier] == nil || !s.Tiers[s.ChosenTier].OK) {
		return nil, bad("chosen tier %q did not meet the SLOs: restore the file from its sizing", s.ChosenTier)
	}
	return s, nil
}

// MergeSizings returns the sizing of the tiers of parts together in order
// (cheapest first; exactly the parts' tiers), e.g. the sizings of the shards
// of one `loadsim size --shard k/N`: the chosen tier is the first in order
// that met every SLO. The parts must agree on the tenant, the SLOs and the
// scenario, engine, duration and seed of their runs, and no tier may appear
// in two. The headroom is not searched (0), and the result's Shard is
// empty: the caller labels it.
func MergeSizings(order []string, parts ...*Sizing) (*Sizing, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge sizings: none given")
	}
	first := parts[0]
	for i, p := range parts {
		if len(p.Order) == 0 || p.Tiers[p.Order[0]] == nil || p.Tiers[p.Order[0]].Summary == nil {
			return nil, fmt.Errorf("merge sizings: part %d has no tiers", i+1)
		}
	}
	ref := first.Tiers[first.Order[0]].Summary
	refSLOs := sloExprsOf(first.Tiers[first.Order[0]].SLOs)
	m := &Sizing{Tenant: first.Tenant, Tiers: map[string]*TierSizing{}, SLOs: first.SLOs}
	owner := map[string]int{}
	for i, p := range parts {
		s := p.Tiers[p.Order[0]].Summary
		switch {
		case p.Tenant != first.Tenant:
			return nil, fmt.Errorf("merge sizings: part %d sizes tenant %s, part 1 %s: merge the shards of one sizing", i+1, p.Tenant, first.Tenant)
		case !slices.Equal(sloExprsOf(p.Tiers[p.Order[0]].SLOs), refSLOs):
			return nil, fmt.Errorf("merge sizings: part %d was judged by the SLOs %q, part 1 by %q: merge the shards of one sizing",
				i+1, sloExprsOf(p.Tiers[p.Order[0]].SLOs), refSLOs)
		case s.Scenario != ref.Scenario || s.Engine != ref.Engine || s.DurationSeconds != ref.DurationSeconds || s.Seed != ref.Seed:
			return nil, fmt.Errorf("merge sizings: part %d is %s (%s, %s, seed %d), part 1 %s (%s, %s, seed %d): merge the shards of one sizing",
				i+1, s.Scenario, s.Engine, fmtSeconds(s.DurationSeconds), s.Seed, ref.Scenario, ref.Engine, fmtSeconds(ref.DurationSeconds), ref.Seed)
		}
		for _, tier := range p.Order {
			if j, dup := owner[tier]; dup {
				return nil, fmt.Errorf("merge sizings: tier %q is in parts %d and %d: give each shard's results once", tier, j+1, i+1)
			}
			owner[tier] = i
			m.Tiers[tier] = p.Tiers[tier]
		}
	}
	if len(order) != len(m.Tiers) {
		return nil, fmt.Errorf("merge sizings: order lists %d tiers, the parts have %d", len(order), len(m.Tiers))
	}
	for _, tier := range order {
		ts := m.Tiers[tier]
		if ts == nil {
			return nil, fmt.Errorf("merge sizings: tier %q of the order is in no part", tier)
		}
		if ts.OK && m.ChosenTier == "" {
			m.ChosenTier = tier
		}
	}
	m.Order = slices.Clone(order)
	return m, nil
}

// sloExprsOf returns the expressions of verdicts, in order.
func sloExprsOf(rs []ThresholdResult) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Expr
	}
	return out
}

// Margin returns how far tier's values are inside their SLOs: the smallest,
// over the SLOs, relative slack (limit − value)/|limit| for < and <=,
// (value − limit)/|limit| for > and >= (absolute slack when the limit is
// 0; 0 for == and !=). It is negative when an SLO failed, and +Inf when
// there are no SLOs or the tier is unknown.
func (s *Sizing) Margin(tier string) float64 {
	ts, ok := s.Tiers[tier]
	m := math.Inf(1)
	if !ok {
		return m
	}
	for i, r := range ts.SLOs {
		if i >= len(s.SLOs) {
			break
		}
		m = min(m, sloMargin(s.SLOs[i], r.Value))
	}
	return m
}

// sloMargin is one SLO's relative slack at value v.
func sloMargin(t Threshold, v float64) float64 {
	d := 0.0
	switch t.Op {
	case "<", "<=":
		d = t.Value - v
	case ">", ">=":
		d = v - t.Value
	default:
		return 0
	}
	if t.Value != 0 {
		d /= math.Abs(t.Value)
	}
	return d
}

// fmtMargin prints a margin as a signed percentage ("+12.5%"), or "–".
func fmtMargin(m float64) string {
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return "–"
	}
	return strconv.FormatFloat(m*100, 'f', 1, 64) + "%"
}

// headroomText describes the headroom: "×2.31", "≥ ×64" when capped.
func (s *Sizing) headroomText() string {
	switch {
	case s.ChosenTier == "" || s.Headroom == 0:
		return "–"
	case s.HeadroomCapped:
		return "≥ ×" + fmtFloat(math.Round(s.Headroom*100)/100)
	}
	return "×" + fmtFloat(math.Round(s.Headroom*100)/100)
}

// verdict is the sizing's one-line conclusion.
func (s *Sizing) verdict() string {
	if s.ChosenTier == "" {
		return fmt.Sprintf("no tier meets every SLO for tenant %s", s.Tenant)
	}
	v := fmt.Sprintf("cheapest tier meeting every SLO for tenant %s: %s (margin %s", s.Tenant, s.ChosenTier, fmtMargin(s.Margin(s.ChosenTier)))
	if h := s.headroomText(); h != "–" {
		v += ", headroom " + h + " its traffic"
	}
	return v + ")"
}

// sizingColumns are the tenant's statistics shown per tier.
var sizingColumns = []struct {
	head, metric string
	f            func(float64) string
}{
	{"SUCCESS", "success_rate", fmtPct},
	{"GAVE UP", "gave_up", fmtCount},
	{"AMPLIF.", "amplification", fmtFloat},
	{"TTS P99", "time_to_success_p99", fmtSeconds},
	{"429s", "status_429", fmtCount},
}

// cells returns a tier's table cells after TIER and OK.
func (s *Sizing) cells(tier string) []string {
	ts := s.Tiers[tier]
	var row []string
	for _, col := range sizingColumns {
		v, err := MetricValue(ts.Summary, s.Tenant, col.metric)
		if err != nil {
			row = append(row, "–")
			continue
		}
		row = append(row, col.f(v))
	}
	for _, r := range ts.SLOs {
		row = append(row, mark(r.OK)+" "+r.ValueString())
	}
	return append(row, fmtMargin(s.Margin(tier)))
}

// WriteText writes the sizing table printed by `loadsim size`: one row per
// tier, cheapest first, with the tenant's statistics, each SLO's value and
// the margin, then the verdict and the headroom.
func (s *Sizing) WriteText(w io.Writer) error {
	var b strings.Builder
	head := s.header()
	if head != "" {
		b.WriteString(head + "\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	cols := []string{"TIER", "OK"}
	for _, c := range sizingColumns {
		cols = append(cols, c.head)
	}
	for _, t := range s.SLOs {
		cols = append(cols, t.Expr)
	}
	cols = append(cols, "MARGIN")
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for _, tier := range s.Order {
		row := append([]string{tier, mark(s.Tiers[tier].OK)}, s.cells(tier)...)
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString(s.verdict() + "\n")
	for _, n := range s.notes() {
		b.WriteString("note: " + n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// notes returns what the table alone does not say about why tiers fail:
// a success_rate bounded on every tier by the requests the client refused
// before sending them (rejectedNote), and, when no tier meets the SLOs, a
// most expensive tier whose tenant got no 429 at all (the quota is not
// what fails them).
func (s *Sizing) notes() []string {
	var out []string
	if n := s.rejectedNote(); n != "" {
		out = append(out, n)
	}
	if s.ChosenTier == "" && len(s.Order) > 0 {
		top := s.Order[len(s.Order)-1]
		if st := s.Tiers[top].Summary.Tenants[s.Tenant]; st != nil && st.Requests.Total > 0 && st.Attempts.ByStatus["429"] == 0 {
			out = append(out, fmt.Sprintf("on %s the tenant got no 429: its quota is not what fails the SLOs "+
				"(look at its 500s and 503s: an upstream incident or the circuit), so a larger tier will not help", top))
		}
	}
	return out
}

// rejectedNote explains, when an SLO reads success_rate and the tenant's
// client refused requests before sending them (on the cheapest tier's
// run), that those count as failures on every tier, so bound the success
// rate whatever the tier; "" otherwise.
func (s *Sizing) rejectedNote() string {
	if len(s.Order) == 0 || !slices.ContainsFunc(s.SLOs, func(t Threshold) bool { return t.Metric == "success_rate" }) {
		return ""
	}
	st := s.Tiers[s.Order[0]].Summary.Tenants[s.Tenant]
	if st == nil || st.Requests.RejectedClientSide == 0 || st.Requests.Total == 0 {
		return ""
	}
	r := st.Requests
	return fmt.Sprintf("success_rate counts the %d of %d requests the client refused before sending them (the mix's invalid share, "+
		"rejected_client_side) as failures on every tier: no tier gets above %s; sent_success_rate leaves them out",
		r.RejectedClientSide, r.Total, fmtPct(1-float64(r.RejectedClientSide)/float64(r.Total)))
}

// header describes the runs: scenario, engine, duration, seed.
func (s *Sizing) header() string {
	if len(s.Order) == 0 {
		return ""
	}
	sum := s.Tiers[s.Order[0]].Summary
	h := fmt.Sprintf("%s · %s · %s · seed %d · tenant %s", sum.Scenario, sum.Engine, fmtSeconds(sum.DurationSeconds), sum.Seed, s.Tenant)
	if s.Shard != "" {
		h += " · shard " + s.Shard
	}
	return h
}

// WriteMarkdown writes sizing.md: the verdict, the tier table and the SLOs.
func (s *Sizing) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# loadsim sizing: tenant %s\n\n", mdEscape(s.Tenant))
	if h := s.header(); h != "" {
		b.WriteString(mdEscape(h) + "\n\n")
	}
	b.WriteString("**" + mdEscape(s.verdict()) + "**\n\n")
	cols := []string{"tier", "ok"}
	for _, c := range sizingColumns {
		cols = append(cols, strings.ToLower(c.head))
	}
	for _, t := range s.SLOs {
		cols = append(cols, "`"+mdEscape(t.Expr)+"`")
	}
	cols = append(cols, "margin")
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(cols)) + "|\n")
	for _, tier := range s.Order {
		row := append([]string{tier, mark(s.Tiers[tier].OK)}, s.cells(tier)...)
		for i := range row {
			row[i] = mdEscape(row[i])
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	for _, n := range s.notes() {
		b.WriteString("\nNote: " + mdEscape(n) + ".\n")
	}
	b.WriteString("\nThe headroom is the largest multiplier of the tenant's traffic on the chosen tier that still meets every SLO (bisection to about 2 %).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes sizing.json, indented; equal sizings give identical
// bytes.
func (s *Sizing) WriteJSON(w io.Writer) error { return writeIndented(w, s, "sizing") }

// WriteFiles writes sizing.json and sizing.md into dir (created if needed).
func (s *Sizing) WriteFiles(dir string) error {
	return writeFiles(dir, []namedWriter{{SizingJSONFile, s.WriteJSON}, {SizingMarkdownFile, s.WriteMarkdown}})
}
