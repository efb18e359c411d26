package plot

import (
	"fmt"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// BarGroup is one named set of bars, one value per category (e.g. one
// strategy's p99 time-to-success on each tier).
type BarGroup struct {
	Name   string    // legend entry; "" = no legend (fine for a single group)
	Values []float64 // one per category, in the categories' order
}

// Bars returns a grouped bar chart: categories along the x axis (e.g. tier
// names), one bar per group within each category, heights in the unit named
// by yLabel. Every group must have one value per category.
func Bars(title, yLabel string, categories []string, groups []BarGroup) (*gplot.Plot, error) {
	p := newPlot(title, "", yLabel)
	if len(categories) == 0 || len(groups) == 0 {
		noData(p)
		return p, nil
	}
	// Bars fill about 65 % of each category's slot of the ≈ 640 pt wide data area.
	slot := vg.Points(520 / float64(len(categories)))
	width := slot * 0.8 / vg.Length(len(groups))
	for i, g := range groups {
		if len(g.Values) != len(categories) {
			return nil, fmt.Errorf("bar group %d (%q): %d values for %d categories; give one value per category", i, g.Name, len(g.Values), len(categories))
		}
		b, err := plotter.NewBarChart(plotter.Values(g.Values), width)
		if err != nil {
			return nil, fmt.Errorf("bar group %d (%q): %w", i, g.Name, err)
		}
		b.Color = Color(i)
		b.LineStyle.Width = 0
		b.Offset = width * (vg.Length(i) - vg.Length(len(groups)-1)/2)
		p.Add(b)
		if g.Name != "" {
			p.Legend.Add(g.Name, b)
		}
	}
	p.NominalX(categories...)
	finishY(p)
	p.Legend.Left = false
	return p, nil
}
