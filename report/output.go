package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Output file names inside a run's output directory.
const (
	SummaryJSONFile     = "summary.json"
	SummaryMarkdownFile = "summary.md"
	SeriesJSONFile      = "series.json"
	ScenarioFile        = "scenario.yaml"
)

// WriteOutputs writes a run's results into dir (created if needed):
// summary.json, summary.md, series.json and, when resolvedScenario is not
// nil, scenario.yaml (the resolved scenario, written as given). Files are
// written whole; an existing file of the same name is replaced.
func WriteOutputs(dir string, s *Summary, series *Series, resolvedScenario []byte) error {
	files := []namedWriter{
		{SummaryJSONFile, s.WriteJSON},
		{SummaryMarkdownFile, s.WriteMarkdown},
		{SeriesJSONFile, series.WriteJSON},
	}
	if resolvedScenario != nil {
		files = append(files, namedWriter{ScenarioFile, func(w io.Writer) error { _, err := w.Write(resolvedScenario); return err }})
	}
	return writeFiles(dir, files)
}

// namedWriter renders one output file.
type namedWriter struct {
	name  string
	write func(io.Writer) error
}

// writeFiles renders each file whole, then writes it into dir.
func writeFiles(dir string, files []namedWriter) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return fmt.Errorf("render %s: %w", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// WriteJSON writes the summary as indented JSON (summary.json). Map keys are
// sorted and floats are printed in their shortest form, so equal summaries
// give identical bytes.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteJSON writes the series as compact JSON (series.json), one line.
func (s *Series) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode series: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// readJSON decodes the JSON file at path into a new T; what names the
// file's kind in errors ("summary", "series", "comparison").
func readJSON[T any](path, what string) (*T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	return v, nil
}

// ReadSummary reads a summary.json file.
func ReadSummary(path string) (*Summary, error) { return readJSON[Summary](path, "summary") }

// ReadSeries reads a series.json file, checking its version.
func ReadSeries(path string) (*Series, error) {
	s, err := readJSON[Series](path, "series")
	if err != nil {
		return nil, err
	}
	if s.Version != SeriesVersion {
		return nil, fmt.Errorf("read series %s: version %d; this loadsim reads version %d", path, s.Version, SeriesVersion)
	}
	if s.BucketSeconds <= 0 {
		return nil, fmt.Errorf("read series %s: bucket_seconds must be > 0, got %d", path, s.BucketSeconds)
	}
	return s, nil
}

// WriteMarkdown writes summary.md: the run's identity, a table for the whole
// run and one per tenant, and the thresholds with ✓/✗.
func (s *Summary) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# loadsim summary: %s\n\n", mdEscape(s.Scenario))
	b.WriteString("| run | |\n|---|---|\n")
	partial := yesNo(s.Partial)
	if c := s.PartialCause(); c != "" {
		partial += ": " + c
	}
	fmt.Fprintf(&b, "| engine | %s |\n| seed | %d |\n| duration | %s |\n| partial | %s |\n",
		mdEscape(s.Engine), s.Seed, fmtSeconds(s.DurationSeconds), mdEscape(partial))
	if s.Shard != "" {
		// One shard of a run: merge the shards' outputs with `loadsim report`.
		fmt.Fprintf(&b, "| shard | %s |\n", mdEscape(s.Shard))
	}
	if s.MaxRequests > 0 {
		fmt.Fprintf(&b, "| attempt cap (--max-requests) | %d |\n", s.MaxRequests)
	}
	if s.Circuit != nil {
		fmt.Fprintf(&b, "| server circuit (to the bucket) | %s |\n", mdEscape(s.Circuit.String()))
	}
	if len(s.Incidents) > 0 {
		fmt.Fprintf(&b, "| upstream incidents | %s |\n", mdEscape(s.incidentsString()))
	}
	b.WriteString("\n")
	b.WriteString("## Overall\n\n")
	writeStatsTable(&b, &s.Stats)
	for _, name := range sortedKeys(s.Tenants) {
		fmt.Fprintf(&b, "\n## Tenant %s\n\n", mdEscape(name))
		writeStatsTable(&b, s.Tenants[name])
	}
	b.WriteString("\n## Thresholds\n\n")
	if len(s.Thresholds) == 0 {
		b.WriteString("No thresholds.\n")
	} else {
		b.WriteString("| | threshold | value |\n|---|---|---|\n")
		for _, t := range s.Thresholds {
			v := t.ValueString()
			if t.Error != "" {
				v = "error: " + t.Error
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", mark(t.OK), mdEscape(t.Expr), mdEscape(v))
		}
		fmt.Fprintf(&b, "\n%s\n", verdict(s.Thresholds))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeStatsTable(b *strings.Builder, st *Stats) {
	r := st.Requests
	row := func(k, v string) { fmt.Fprintf(b, "| %s | %s |\n", k, mdEscape(v)) }
	b.WriteString("| metric | value |\n|---|---|\n")
	row("offered / achieved / goodput rate", fmt.Sprintf("%s / %s / %s req/s", fmtFloat(st.OfferedRPS), fmtFloat(st.AchievedRPS), fmtFloat(st.GoodputRPS)))
	row("requests", strconv.FormatUint(r.Total, 10))
	row("succeeded", countPct(r.Succeeded, r.Total))
	row("gave up", countPct(r.GaveUp, r.Total))
	row("failed permanently", countPct(r.FailedPermanent, r.Total))
	row("rejected client-side", countPct(r.RejectedClientSide, r.Total))
	row("in flight at stop", countPct(r.InFlight, r.Total))
	row("attempts", fmt.Sprintf("%d (retries %d, amplification %s)", st.Attempts.Total, st.Attempts.Retries, fmtFloat(st.Amplification)))
	row("attempts by status", joinCounts(st.Attempts.ByStatus, statusOrder))
	row("attempts by error code", joinCounts(st.Attempts.ByCode, strings.Compare))
	row("retries by reason", joinCounts(nonZero(st.Retries), strings.Compare))
	ra := st.RetryAfter
	row("Retry-After seen / honoured / ignored / invalid / clamped", fmt.Sprintf("%d / %d / %d / %d / %d", ra.Seen, ra.Honoured, ra.Ignored, ra.Invalid, ra.Clamped))
	row("latency p50 / p90 / p99 / max", fmtQuantiles(st.Latency))
	row("time to success p50 / p90 / p99 / max", fmtQuantiles(st.TimeToSuccess))
	row("backoff p50 / p90 / p99 / max", fmtQuantiles(st.Backoff))
	row("stop reasons", joinCounts(nonZero(st.StopReasons), strings.Compare))
	row("first 429 (to the bucket)", fmtFirst(st.First429Seconds))
	if st.IncidentGoodput != nil {
		row("goodput around the incidents (to the bucket)", st.IncidentGoodput.String())
	}
}

// String says the goodputs: "before 4.21/s · during 0.2/s · after 2.64/s".
func (g *IncidentGoodput) String() string {
	return fmt.Sprintf("before %s/s · during %s/s · after %s/s", fmtFloat(g.BeforeRPS), fmtFloat(g.DuringRPS), fmtFloat(g.AfterRPS))
}

// incidentsString lists the run's incidents: "6m0s for 1m30s, …".
func (s *Summary) incidentsString() string {
	parts := make([]string, len(s.Incidents))
	for i, w := range s.Incidents {
		parts[i] = fmt.Sprintf("%s for %s", fmtSeconds(w.StartSeconds), fmtSeconds(w.DurationSeconds))
	}
	return strings.Join(parts, ", ")
}

// fmtFirst prints the time of a first occurrence ("never" when absent).
func fmtFirst(at *float64) string {
	if at == nil {
		return "never"
	}
	return "at " + fmtSeconds(*at)
}

// String says in words how long the circuit was open and half-open, as the
// text summary, summary.md and report.html print it: "open 5s in 1 period,
// first at 12s · half-open 0s".
func (c *CircuitStats) String() string {
	open := "never open"
	if c.FirstOpenSeconds != nil {
		periods := "period"
		if c.OpenPeriods != 1 {
			periods += "s"
		}
		open = fmt.Sprintf("open %s in %d %s, first %s", fmtSeconds(c.OpenSeconds), c.OpenPeriods, periods, fmtFirst(c.FirstOpenSeconds))
	}
	return open + " · half-open " + fmtSeconds(c.HalfOpenSeconds)
}

// WriteText writes the one-screen summary printed at the end of a run.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	partial := ""
	if c := s.PartialCause(); c != "" {
		partial = " · partial: " + c
	} else if s.Partial {
		partial = " (partial)"
	}
	if s.Shard != "" {
		partial += " · shard " + s.Shard
	}
	fmt.Fprintf(&b, "%s · %s · seed %d · %s%s · offered %s/s · achieved %s/s\n", s.Scenario, s.Engine, s.Seed,
		fmtSeconds(s.DurationSeconds), partial, fmtFloat(s.OfferedRPS), fmtFloat(s.AchievedRPS))
	r := s.Requests
	fmt.Fprintf(&b, "requests  %d: succeeded %s · gave_up %d · failed_permanent %d · rejected_client_side %d · in_flight %d\n",
		r.Total, countPct(r.Succeeded, r.Total), r.GaveUp, r.FailedPermanent, r.RejectedClientSide, r.InFlight)
	fmt.Fprintf(&b, "attempts  %d: %s · retries %d · amplification %s\n", s.Attempts.Total,
		joinCounts(s.Attempts.ByStatus, statusOrder), s.Attempts.Retries, fmtFloat(s.Amplification))
	fmt.Fprintf(&b, "time to success p50 %s · p99 %s   latency p50 %s · p99 %s\n", fmtSeconds(s.TimeToSuccess.P50),
		fmtSeconds(s.TimeToSuccess.P99), fmtSeconds(s.Latency.P50), fmtSeconds(s.Latency.P99))
	ra := s.RetryAfter
	fmt.Fprintf(&b, "retry-after seen %d · honoured %d · ignored %d · invalid %d · clamped %d\n", ra.Seen, ra.Honoured, ra.Ignored, ra.Invalid, ra.Clamped)
	if s.Circuit != nil {
		fmt.Fprintf(&b, "circuit   %s\n", s.Circuit.String())
	}
	if g := s.IncidentGoodput; g != nil {
		fmt.Fprintf(&b, "incident  %s · goodput %s\n", s.incidentsString(), g.String())
	}
	width := 0
	names := sortedKeys(s.Tenants)
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		t := s.Tenants[n]
		first := ""
		if t.First429Seconds != nil {
			first = " (first " + fmtFirst(t.First429Seconds) + ")"
		}
		fmt.Fprintf(&b, "  %-*s %d req · %s ok · amplification %s · tts p99 %s · 429 %d%s · 503 %d\n", width, n,
			t.Requests.Total, fmtPct(t.SuccessRate), fmtFloat(t.Amplification), fmtSeconds(t.TimeToSuccess.P99),
			t.Attempts.ByStatus["429"], first, t.Attempts.ByStatus["503"])
	}
	if len(s.Thresholds) > 0 {
		fmt.Fprintf(&b, "%s\n", verdict(s.Thresholds))
		for _, t := range s.Thresholds {
			if t.Error != "" {
				fmt.Fprintf(&b, "  %s %s  (error: %s)\n", mark(t.OK), t.Expr, t.Error)
			} else {
				fmt.Fprintf(&b, "  %s %s  (%s)\n", mark(t.OK), t.Expr, t.ValueString())
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func verdict(ts []ThresholdResult) string {
	ok := 0
	for _, t := range ts {
		if t.OK {
			ok++
		}
	}
	if ok == len(ts) {
		return fmt.Sprintf("thresholds: all %d passed", ok)
	}
	return fmt.Sprintf("thresholds: %d of %d failed", len(ts)-ok, len(ts))
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// mdEscape keeps text from breaking a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func nonZero(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// statusOrder sorts decimal statuses numerically.
func statusOrder(a, b string) int {
	x, errX := strconv.Atoi(a)
	y, errY := strconv.Atoi(b)
	if errX != nil || errY != nil || x == y {
		return strings.Compare(a, b)
	}
	if x < y {
		return -1
	}
	return 1
}

func joinCounts(m map[string]uint64, cmp func(a, b string) int) string {
	if len(m) == 0 {
		return "–"
	}
	keys := sortedKeys(m)
	slices.SortFunc(keys, cmp)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, " · ")
}

func countPct(n, total uint64) string {
	if total == 0 {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("%d (%s)", n, fmtPct(float64(n)/float64(total)))
}

func fmtPct(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

// fmtFloat prints up to 4 decimals, without trailing zeros.
func fmtFloat(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
}

// fmtSeconds prints seconds as a Go duration rounded to 3 significant digits
// or so (1.23s, 85.1ms, 312µs).
func fmtSeconds(x float64) string {
	d := time.Duration(math.Round(x * 1e9))
	switch {
	case d >= 100*time.Second:
		d = d.Round(time.Second)
	case d >= 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		d = d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		d = d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	}
	return d.String()
}

func fmtQuantiles(q Quantiles) string {
	return fmt.Sprintf("%s / %s / %s / %s", fmtSeconds(q.P50), fmtSeconds(q.P90), fmtSeconds(q.P99), fmtSeconds(q.Max))
}
