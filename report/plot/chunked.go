package plot

import (
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chunkPoints is the most points one path drawn into a PNG holds. The
// rasterizer gonum/plot uses for PNG (freetype's) slows down quadratically
// with the number of cells a path covers on one pixel row, so a long jagged
// curve is drawn as consecutive short paths that share their end points:
// the picture is the same, and drawing stays linear in the curve's length.
const chunkPoints = 48

// chunks splits xys into consecutive slices of at most chunkPoints points,
// each starting at the previous one's last point.
func chunks(xys plotter.XYs) []plotter.XYs {
	if len(xys) <= chunkPoints {
		return []plotter.XYs{xys}
	}
	var out []plotter.XYs
	for i := 0; i < len(xys)-1; i += chunkPoints - 1 {
		out = append(out, xys[i:min(i+chunkPoints, len(xys))])
	}
	return out
}

// addCurve adds a curve to p as chunked plotter.Lines and returns the first
// one (for the legend).
func addCurve(p *gplot.Plot, xys plotter.XYs, style func(*plotter.Line)) (*plotter.Line, error) {
	var first *plotter.Line
	for _, c := range chunks(xys) {
		l, err := plotter.NewLine(c)
		if err != nil {
			return nil, err
		}
		style(l)
		p.Add(l)
		if first == nil {
			first = l
		}
	}
	return first, nil
}

// band is a plotter.Plotter filling the area between two curves sampled at
// the same x (a layer of a stacked area chart), in chunks (see chunkPoints).
type band struct {
	x, lo, hi []float64
	color     color.Color
}

var _ gplot.Plotter = (*band)(nil)
var _ gplot.DataRanger = (*band)(nil)

// Plot implements gplot.Plotter.
func (b *band) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	c.SetColor(b.color)
	n := len(b.x)
	// Chunks overlap by one segment: adjacent antialiased edges would leave
	// a faint seam; drawing the shared segment twice in an opaque colour does
	// not.
	for i := 0; i < n-1; i += chunkPoints - 2 {
		j := min(i+chunkPoints, n)
		poly := make([]vg.Point, 0, 2*(j-i))
		for k := i; k < j; k++ {
			poly = append(poly, vg.Point{X: trX(b.x[k]), Y: trY(b.hi[k])})
		}
		for k := j - 1; k >= i; k-- {
			poly = append(poly, vg.Point{X: trX(b.x[k]), Y: trY(b.lo[k])})
		}
		poly = c.ClipPolygonXY(poly)
		if len(poly) == 0 {
			continue
		}
		var pa vg.Path
		pa.Move(poly[0])
		for _, pt := range poly[1:] {
			pa.Line(pt)
		}
		pa.Close()
		c.Fill(pa)
	}
}

// DataRange implements gplot.DataRanger.
func (b *band) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(b.x) == 0 {
		return 0, 0, 0, 0
	}
	xmin, xmax = b.x[0], b.x[len(b.x)-1]
	ymin, ymax = b.lo[0], b.hi[0]
	for i := range b.x {
		ymin, ymax = min(ymin, b.lo[i]), max(ymax, b.hi[i])
	}
	return xmin, xmax, ymin, ymax
}
