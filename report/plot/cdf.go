package plot

import (
	"fmt"
	"image/color"
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CDF is one named cumulative distribution: Fractions[i] of the values are ≤
// Values[i]. Values are increasing, Fractions non-decreasing in [0, 1].
type CDF struct {
	Name      string    // legend entry
	Values    []float64 // x, in the unit of the plot's x label (seconds for the helpers here)
	Fractions []float64 // y, cumulative fraction in [0, 1]
	Count     int64     // number of values the distribution was made of (shown in the legend when > 0)
}

// HistogramCDF returns the CDF of an HDR histogram of microseconds in
// HdrHistogram's base64 V2 compressed encoding (as in series.json's
// totals.histograms, e.g. report.Totals.Histograms.TimeToSuccess), with values
// in seconds. An empty string or an empty histogram give a CDF without
// points.
func HistogramCDF(name, encoded string) (CDF, error) {
	out := CDF{Name: name}
	if encoded == "" {
		return out, nil
	}
	h, err := hdr.Decode([]byte(encoded))
	if err != nil {
		return CDF{}, fmt.Errorf("cdf %q: decode histogram: %w", name, err)
	}
	return histCDF(name, h), nil
}

// MergedHistogramCDF is HistogramCDF of several encoded histograms merged
// (e.g. every tenant's time-to-success for one strategy's CDF); empty strings
// are skipped.
func MergedHistogramCDF(name string, encoded ...string) (CDF, error) {
	var all *hdr.Histogram
	for i, e := range encoded {
		if e == "" {
			continue
		}
		h, err := hdr.Decode([]byte(e))
		if err != nil {
			return CDF{}, fmt.Errorf("cdf %q: decode histogram %d: %w", name, i+1, err)
		}
		if all == nil {
			all = h
		} else {
			all.Merge(h)
		}
	}
	if all == nil {
		return CDF{Name: name}, nil
	}
	return histCDF(name, all), nil
}

func histCDF(name string, h *hdr.Histogram) CDF {
	out := CDF{Name: name, Count: h.TotalCount()}
	if out.Count == 0 {
		return out
	}
	total, cum := float64(out.Count), int64(0)
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		if cum == 0 {
			out.Values = append(out.Values, float64(b.From)/1e6)
			out.Fractions = append(out.Fractions, 0)
		}
		cum += b.Count
		out.Values = append(out.Values, float64(b.To)/1e6)
		out.Fractions = append(out.Fractions, float64(cum)/total)
	}
	return out
}

// CDFs returns a plot of cumulative distributions: x is the value (label it
// with its unit, e.g. "time to success (s)"), y the fraction of values ≤ x
// from 0 to 1. The x axis is logarithmic when every value is positive and the
// largest is at least 50 times the smallest, so that fast and slow tails are
// both readable; the label then says "log scale". Horizontal dotted lines
// mark p50 and p99. CDFs without points are listed in the legend as "no
// data".
func CDFs(title, xLabel string, cdfs []CDF) (*gplot.Plot, error) {
	return cdfsWithColors(title, xLabel, cdfs, nil)
}

// cdfsWithColors is CDFs with colours per CDF (nil or a nil entry = the
// palette's).
func cdfsWithColors(title, xLabel string, cdfs []CDF, colors []color.Color) (*gplot.Plot, error) {
	p := newPlot(title, xLabel, "fraction of requests ≤ x")
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, c := range cdfs {
		if len(c.Values) != len(c.Fractions) {
			return nil, fmt.Errorf("cdf %d (%q): %d values but %d fractions; give one fraction per value", i, c.Name, len(c.Values), len(c.Fractions))
		}
		for _, v := range c.Values {
			if isFinite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	logX := lo > 0 && hi/lo >= 50
	if logX {
		p.X.Scale = gplot.LogScale{}
		p.X.Tick.Marker = gplot.LogTicks{Prec: -1}
		p.X.Label.Text += " — log scale"
	}
	lines := make([]Line, len(cdfs))
	for i, c := range cdfs {
		name := c.Name
		switch {
		case len(c.Values) == 0:
			name += " (no data)"
		case c.Count > 0:
			name = fmt.Sprintf("%s (n=%d)", c.Name, c.Count)
		}
		lines[i] = Line{Name: name, X: c.Values, Y: c.Fractions}
		if i < len(colors) {
			lines[i].Color = colors[i]
		}
	}
	if err := addLines(p, lines, 0); err != nil {
		return nil, err
	}
	if !math.IsInf(lo, 0) {
		for _, q := range []float64{0.5, 0.99} {
			ql, err := plotter.NewLine(plotter.XYs{{X: lo, Y: q}, {X: hi, Y: q}})
			if err != nil {
				return nil, fmt.Errorf("cdf quantile line: %w", err)
			}
			ql.LineStyle.Width = vg.Points(0.5)
			ql.LineStyle.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
			ql.LineStyle.Color = Color(7)
			p.Add(ql)
		}
		p.Y.Min, p.Y.Max = 0, 1.02
		p.Y.Tick.Marker = gplot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25, Label: "0.25"},
			{Value: 0.5, Label: "p50 0.5"}, {Value: 0.75, Label: "0.75"}, {Value: 0.99, Label: "p99 0.99"}}
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(20)
	return p, nil
}
