package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"runtime"

	xfont "golang.org/x/image/font"
	"golang.org/x/sync/errgroup"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Size and resolution of saved figures: 10 × 5 inches, PNG at 110 dots per
// inch (1100 × 550 pixels).
const (
	Width  = 10 * vg.Inch
	Height = 5 * vg.Inch
	DPI    = 110
)

// MaxPoints is the most points a curve is drawn with: longer curves are
// downsampled with LTTB (Largest-Triangle-Three-Buckets), which keeps peaks
// and the visual shape.
const MaxPoints = 600

// palette is a colour-blind-safe categorical palette (Okabe–Ito, then a few
// extra), indexed by curve or bar group.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // green
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0xCC, 0x79, 0xA7, 0xff}, // purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x8C, 0x56, 0x4B, 0xff}, // brown
	{0x33, 0x33, 0x33, 0xff}, // dark grey
	{0xBC, 0xBD, 0x22, 0xff}, // olive
	{0x7F, 0x7F, 0xFF, 0xff}, // lavender
}

// Color returns the i-th colour of the palette the builders use for the i-th
// curve or group (cycling after 10), so that figures drawn separately can
// give one strategy or tenant the same colour.
func Color(i int) color.Color {
	if i < 0 {
		i = -i
	}
	return palette[i%len(palette)]
}

// newPlot returns a plot with loadsim's common style: title, axis labels,
// grid-friendly ticks and a legend at the top left.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	sans := func(size float64) font.Font {
		return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
	}
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(15)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(12)
		a.Tick.Label.Font = sans(11)
		a.Padding = vg.Points(2)
	}
	p.Y.Tick.Marker = NumberTicker{}
	p.Legend.TextStyle.Font = sans(11)
	p.Add(grid())
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.ThumbnailWidth = vg.Points(20)
	return p
}

// grid returns light-grey grid lines at the major ticks of both axes.
func grid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe4}
	g.Horizontal.Color = color.Gray{Y: 0xe4}
	g.Vertical.Width = vg.Points(0.5)
	g.Horizontal.Width = vg.Points(0.5)
	return g
}

// Panels are the plots of one figure, stacked in one column (SaveStack).
type Panels = []*gplot.Plot

// One makes a one-panel figure of what a plot constructor returns, for a
// Job: plot.One(plot.TimeLines(…)).
func One(p *gplot.Plot, err error) (Panels, error) {
	if err != nil {
		return nil, err
	}
	return Panels{p}, nil
}

// Job is one figure for SaveAll: Build draws its panels, saved as Base.png
// and Base.svg.
type Job struct {
	Base  string
	Build func() (Panels, error)
}

// SaveAll builds and saves the jobs' figures into dir at once, one per core:
// figures are independent, and drawing and encoding them is most of the
// process time of a short simulation or comparison. gonum/plot's font cache
// is safe for concurrent use; Build functions must only read what they
// share. The error is the first in job order, not in the order they
// happen, naming its figure.
func SaveAll(dir string, jobs []Job) error {
	errs := make([]error, len(jobs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		g.Go(func() error {
			panels, err := j.Build()
			if err == nil {
				err = SaveStack(panels, dir, j.Base)
			}
			if err != nil {
				errs[i] = fmt.Errorf("figure %s: %w", j.Base, err)
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil: their errors are in errs
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Save writes p into dir as base.png (Width × Height at DPI) and base.svg
// (fonts embedded), creating dir if needed and replacing existing files. base
// is a file name without extension, e.g. "attempts"; it must not contain a
// path separator.
func Save(p *gplot.Plot, dir, base string) error {
	return SaveStack([]*gplot.Plot{p}, dir, base)
}

// SaveStack is Save for panels stacked in one column that share their x
// range (e.g. a state over time above a rate over time): the panels' data
// areas are aligned, each panel is PanelHeight tall (one panel is Height
// tall), the first panel's title is the figure's.
func SaveStack(panels []*gplot.Plot, dir, base string) error {
	if base == "" || filepath.Base(base) != base {
		return fmt.Errorf("save plot: base %q must be a plain file name without directories", base)
	}
	if len(panels) == 0 {
		return fmt.Errorf("save plot %s: no panels to draw", base)
	}
	for i, p := range panels {
		if p == nil {
			return fmt.Errorf("save plot %s: panel %d is nil", base, i+1)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save plot %s: create directory: %w", base, err)
	}
	pngBytes, err := RenderPNG(panels...)
	if err != nil {
		return fmt.Errorf("save plot %s: %w", base, err)
	}
	svgBytes, err := RenderSVG(panels...)
	if err != nil {
		return fmt.Errorf("save plot %s: %w", base, err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{base + ".png", pngBytes}, {base + ".svg", svgBytes}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.b, 0o644); err != nil {
			return fmt.Errorf("save plot: write %s: %w", f.name, err)
		}
	}
	return nil
}

// PanelHeight is the height of each panel of a figure with several stacked
// panels (SaveStack).
const PanelHeight = 3.4 * vg.Inch

// StackHeight is the height of a figure of n stacked panels: Height for one,
// n × PanelHeight for more.
func StackHeight(n int) vg.Length {
	if n <= 1 {
		return Height
	}
	return vg.Length(n) * PanelHeight
}

// drawStack draws the panels into c, one column, data areas aligned.
func drawStack(c vg.CanvasSizer, panels []*gplot.Plot) {
	dc := draw.New(c)
	if len(panels) == 1 {
		panels[0].Draw(dc)
		return
	}
	col := make([][]*gplot.Plot, len(panels))
	for i, p := range panels {
		col[i] = []*gplot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(2), PadBottom: vg.Points(2)}
	cs := gplot.Align(col, tiles, dc)
	for i, p := range panels {
		p.Draw(cs[i][0])
	}
}

// RenderPNG draws the panels (one, or several stacked as by SaveStack) as a
// PNG image Width wide and StackHeight(len(panels)) tall, at DPI.
func RenderPNG(panels ...*gplot.Plot) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(Width, StackHeight(len(panels))), vgimg.UseDPI(DPI))
	drawStack(c, panels)
	// Plots are mostly flat colour: the fastest compression level is about
	// three times faster than the default for files about a third larger.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	return buf.Bytes(), nil
}

// svgFontFamily matches the font family vgsvg writes at the start of a
// text's style attribute, a bare name: style="font-family:Liberation
// Sans;font-variant:…. Text content cannot match: its quotes are escaped.
var svgFontFamily = regexp.MustCompile(`style="font-family:([^;"'<>]+);font-variant:`)

// RenderSVG is RenderPNG for an SVG document. Its fonts are named, not
// embedded: embedding Liberation Sans made every SVG about 1.1 MB, where
// the drawing itself takes 10–15 kB. Each family is followed by the fonts
// metric-compatible with Liberation Sans (Arial, then Helvetica) and the
// generic sans-serif, so that text keeps the widths the plot was laid out
// with wherever one of them is installed, which is nearly everywhere.
func RenderSVG(panels ...*gplot.Plot) ([]byte, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(Width, StackHeight(len(panels))))
	drawStack(c, panels)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render svg: %w", err)
	}
	return svgFontFamily.ReplaceAll(buf.Bytes(), []byte(`style="font-family:'$1',Arial,Helvetica,sans-serif;font-variant:`)), nil
}
