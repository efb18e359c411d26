// Package htmlreport writes report.html: one self-contained page per run
// with the run's identity (scenario, engine, seed), its threshold verdicts,
// summary tables overall and per tenant, the figures of report/plot inlined
// as PNG data: URIs (with links to the SVG files beside it), and the resolved
// scenario (keys already redacted by the caller). The page loads nothing from
// the network and runs no script, so it opens the same from a CI artifact, a
// mail attachment or file://.
//
// The template is html/template (embedded with embed), so every value is
// escaped. Functions are safe for concurrent use on distinct directories.
package htmlreport

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
)

// FileName is the name of the report inside a run's output directory.
const FileName = "report.html"

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":     func(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + " %" },
	"num":     func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) },
	"secs":    fmtSeconds,
	"status":  statusCount,
	"reasons": sortedCounts,
	"first":   firstAt,
}).Parse(pageSource))

// firstAt prints the time of a first occurrence, "never" when absent.
func firstAt(at *float64) string {
	if at == nil {
		return "never"
	}
	return fmtSeconds(*at)
}

// Input is what a report is made of.
type Input struct {
	// Summary is the run's summary (required).
	Summary *report.Summary
	// Scenario is the resolved scenario YAML, keys already redacted; nil or
	// empty leaves the section out.
	Scenario []byte
	// Figures are the figures to inline, in order; their PNG files are read
	// from FigureDir (Base+".png"), and the page links to Base+".svg" next to
	// report.html.
	Figures   []plot.Figure
	FigureDir string
}

// WriteRun draws the run's figures (plot.WriteRunFigures) into dir and writes
// dir/report.html from them, the summary and the resolved scenario; it
// returns the path of report.html. dir is created if needed; existing files
// of the same names are replaced.
func WriteRun(dir string, s *report.Summary, series *report.Series, resolvedScenario []byte) (string, error) {
	figs, err := plot.WriteRunFigures(dir, series, s)
	if err != nil {
		return "", fmt.Errorf("html report: %w", err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, Input{Summary: s, Scenario: resolvedScenario, Figures: figs, FigureDir: dir}); err != nil {
		return "", err
	}
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("html report: write %s: %w", FileName, err)
	}
	return path, nil
}

// figureView is a figure as the template shows it.
type figureView struct {
	plot.Figure
	Src           template.HTMLAttr // src="data:image/png;base64,…" (base64 needs no escaping in a quoted attribute)
	SVG           string            // relative link to the SVG file
	Width, Height int               // of the PNG, pixels
}

// tenantView is one row group of the tables.
type tenantView struct {
	Name string
	*report.Stats
}

type pageView struct {
	S        *report.Summary
	Passed   bool
	Failed   int
	Rows     []tenantView // overall first, then tenants by name
	Statuses []string     // status columns of the attempts table
	Figures  []figureView
	Scenario string
}

// Render writes the report page for in to w. PNG files of in.Figures must
// exist in in.FigureDir.
func Render(w io.Writer, in Input) error {
	if in.Summary == nil {
		return fmt.Errorf("html report: no summary given")
	}
	s := in.Summary
	v := pageView{S: s, Passed: s.Passed(), Scenario: string(in.Scenario)}
	for _, t := range s.Thresholds {
		if !t.OK {
			v.Failed++
		}
	}
	v.Rows = append(v.Rows, tenantView{"all tenants", &s.Stats})
	names := make([]string, 0, len(s.Tenants))
	for n := range s.Tenants {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v.Rows = append(v.Rows, tenantView{n, s.Tenants[n]})
	}
	for code := range s.Attempts.ByStatus {
		v.Statuses = append(v.Statuses, code)
	}
	slices.SortFunc(v.Statuses, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	for _, f := range in.Figures {
		b, err := os.ReadFile(filepath.Join(in.FigureDir, f.Base+".png"))
		if err != nil {
			return fmt.Errorf("html report: inline figure %s: %w", f.Base, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("html report: inline figure %s: %s.png is not a PNG: %w", f.Base, f.Base, err)
		}
		v.Figures = append(v.Figures, figureView{Figure: f,
			Src: template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `"`),
			SVG: f.Base + ".svg", Width: cfg.Width, Height: cfg.Height})
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("html report: render: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// statusCount returns the attempts of a status in st ("0" when none).
func statusCount(st *report.Stats, code string) uint64 { return st.Attempts.ByStatus[code] }

// count is one name and count, for sorted maps in the template.
type count struct {
	Name string
	N    uint64
}

// sortedCounts returns m's non-zero entries sorted by name.
func sortedCounts(m map[string]uint64) []count {
	var out []count
	for k, n := range m {
		if n > 0 {
			out = append(out, count{k, n})
		}
	}
	slices.SortFunc(out, func(a, b count) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// fmtSeconds formats a duration in seconds for people: "850 µs", "81 ms",
// "2.35 s", "1 m 41 s", "2 h 5 m".
func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 1e-3:
		return strconv.FormatFloat(s*1e6, 'f', 0, 64) + " µs"
	case s < 1:
		return strconv.FormatFloat(s*1e3, 'g', 3, 64) + " ms"
	case s < 60:
		return strconv.FormatFloat(s, 'g', 3, 64) + " s"
	case s < 3600:
		return fmt.Sprintf("%d m %d s", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%d h %d m", int(s)/3600, int(s)%3600/60)
	}
}
