package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/tsenart/vegeta/v12/lib/lttb"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Line is one named curve of a line plot.
type Line struct {
	// Name is the legend entry; "" leaves the curve out of the legend.
	Name string
	// X and Y are the points, of equal length, X increasing (required for
	// downsampling). A NaN or infinite Y is a gap: the curve is broken there.
	X, Y []float64
	// Step draws a step function: each Y holds until the next X.
	Step bool
	// Dashed draws a dashed line (e.g. a plan or a limit, next to measured
	// curves).
	Dashed bool
	// Color overrides the palette colour (nil = Color(index in the slice)).
	Color color.Color
}

// Lines returns a line plot of lines with a title and axis labels (units in
// the labels, e.g. "attempts/s"). Curves longer than MaxPoints are
// downsampled with LTTB (step curves are kept whole, since LTTB would move
// their edges). An empty lines slice, or lines with no points, give a valid
// plot that says "no data". Errors name the bad curve (mismatched lengths).
func Lines(title, xLabel, yLabel string, lines []Line) (*gplot.Plot, error) {
	p := newPlot(title, xLabel, yLabel)
	if err := addLines(p, lines, 0); err != nil {
		return nil, err
	}
	finishY(p)
	return p, nil
}

// TimeLines is Lines with X in seconds since the start of a run: the x axis is
// labelled with TimeTicker (mm:ss under an hour, hh:mm above) and starts at 0.
func TimeLines(title, yLabel string, lines []Line) (*gplot.Plot, error) {
	span := 0.0
	for _, l := range lines {
		if n := len(l.X); n > 0 {
			span = math.Max(span, l.X[n-1])
		}
	}
	p, err := Lines(title, TimeLabel(span), yLabel, lines)
	if err != nil {
		return nil, err
	}
	timeAxis(p, span)
	return p, nil
}

// timeAxis makes p's x axis a time axis from 0 to span seconds (to the
// data's end when span is 0), so that stacked panels share their range.
func timeAxis(p *gplot.Plot, span float64) {
	p.X.Tick.Marker = TimeTicker{}
	p.X.Min = 0
	if span > 0 {
		p.X.Max = span
	}
	p.X.Label.Text = TimeLabel(p.X.Max)
}

// addLines adds the curves to p, colouring curve i with Color(i+colorOffset)
// unless it has its own colour.
func addLines(p *gplot.Plot, lines []Line, colorOffset int) error {
	drawn := 0
	for i, l := range lines {
		if len(l.X) != len(l.Y) {
			return fmt.Errorf("line %d (%q): %d x values but %d y values; give one y per x", i, l.Name, len(l.X), len(l.Y))
		}
		named := false
		for _, xys := range segments(l.X, l.Y) {
			if !l.Step {
				xys = Downsample(xys, MaxPoints)
			}
			color := Color(i + colorOffset)
			if l.Color != nil {
				color = l.Color
			}
			pl, err := addCurve(p, xys, func(pl *plotter.Line) {
				pl.LineStyle.Width = vg.Points(1.5)
				pl.LineStyle.Color = color
				if l.Step {
					pl.StepStyle = plotter.PostStep
				}
				if l.Dashed {
					pl.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
				}
			})
			if err != nil {
				return fmt.Errorf("line %d (%q): %w", i, l.Name, err)
			}
			if len(xys) == 1 { // a lone point between gaps: a dot, since a line of one point is invisible
				sc, err := plotter.NewScatter(xys)
				if err != nil {
					return fmt.Errorf("line %d (%q): %w", i, l.Name, err)
				}
				sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(1.5), Color: pl.LineStyle.Color}
				p.Add(sc)
			}
			drawn++
			if l.Name != "" && !named {
				p.Legend.Add(l.Name, pl)
				named = true
			}
		}
	}
	if drawn == 0 {
		noData(p)
	}
	return nil
}

// noData marks an empty plot: a title suffix, and axes from 0 to 1.
func noData(p *gplot.Plot) {
	p.Title.Text += " (no data)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

// NumberTicker is gonum's default tick placement with labels in their
// shortest form ("250", "0.5", "1e+06") instead of a fixed number of
// decimals. Its zero value is ready to use.
type NumberTicker struct{}

var _ gplot.Ticker = NumberTicker{}

// Ticks implements gplot.Ticker.
func (NumberTicker) Ticks(min, max float64) []gplot.Tick {
	ticks := gplot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			v := ticks[i].Value
			if math.Abs(v) < 1e-9*math.Max(math.Abs(max), math.Abs(min)) {
				v = 0
			}
			ticks[i].Label = strconv.FormatFloat(v, 'g', 6, 64)
		}
	}
	return ticks
}

// finishY starts the y axis at 0 when every value is non-negative and leaves
// 5 % headroom above the highest value, so that curves do not touch the
// title.
func finishY(p *gplot.Plot) {
	if p.Y.Min >= 0 {
		p.Y.Min = 0
	}
	if p.Y.Max > p.Y.Min {
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.05
	} else {
		p.Y.Max = p.Y.Min + 1
	}
}

// segments splits a curve at its non-finite points (NaN = no data there), so
// that a gap is drawn as a gap rather than as a straight line across it. A
// lone point between two gaps becomes a segment of one point (drawn as a
// dot).
func segments(x, y []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range x {
		if isFinite(x[i]) && isFinite(y[i]) {
			cur = append(cur, plotter.XY{X: x[i], Y: y[i]})
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Downsample returns at most max points of xys chosen by LTTB
// (Largest-Triangle-Three-Buckets, vegeta's lib/lttb): the first and last
// points and, in between, the point of each bucket that best keeps the
// curve's shape. xys is returned as is when it has at most max points or max
// < 3. X must be increasing.
func Downsample(xys plotter.XYs, max int) plotter.XYs {
	if len(xys) <= max || max < 3 {
		return xys
	}
	next := 0
	pts, err := lttb.Downsample(len(xys), max, func(count int) ([]lttb.Point, error) {
		out := make([]lttb.Point, 0, count)
		for ; count > 0 && next < len(xys); count-- {
			out = append(out, lttb.Point{X: xys[next].X, Y: xys[next].Y})
			next++
		}
		return out, nil
	})
	if err != nil { // only for max < 3, excluded above
		return xys
	}
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	return out
}
