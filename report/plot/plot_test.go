package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// checkFigure fails unless dir/base.png decodes as a PNG whose pixels vary
// (not blank) and dir/base.svg parses as XML with an <svg> root and embedded
// fonts.
func checkFigure(t *testing.T, dir, base string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, base+".png"))
	if err != nil {
		t.Fatalf("read %s.png: %v", base, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png.Decode(%s.png): %v", base, err)
	}
	r := img.Bounds()
	wantW, wantH := int(float64(Width/vg.Inch)*DPI), int(float64(Height/vg.Inch)*DPI)
	if r.Dx() != wantW || r.Dy() < wantH {
		t.Errorf("%s.png is %d×%d pixels; want %d wide, at least %d tall", base, r.Dx(), r.Dy(), wantW, wantH)
	}
	// Pixel variance of the luminance: a blank (one-colour) image has 0.
	var sum, sum2, n float64
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			l := (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 65535
			sum, sum2, n = sum+l, sum2+l*l, n+1
		}
	}
	if v := sum2/n - (sum/n)*(sum/n); v < 1e-3 {
		t.Errorf("%s.png looks blank: luminance variance %g", base, v)
	}
	s, err := os.ReadFile(filepath.Join(dir, base+".svg"))
	if err != nil {
		t.Fatalf("read %s.svg: %v", base, err)
	}
	d := xml.NewDecoder(bytes.NewReader(s))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("xml parse of %s.svg: %v", base, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s.svg root element = %q; want svg", base, root)
	}
	if want := []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"); !bytes.Contains(s, want) {
		t.Errorf("%s.svg does not name its font with its fallbacks (%s)", base, want)
	}
	if bytes.Contains(s, []byte("font-family:Liberation Sans;")) || bytes.Contains(s, []byte("@font-face")) {
		t.Errorf("%s.svg has a font without fallbacks, or an embedded one", base)
	}
	if len(s) > 200_000 {
		t.Errorf("%s.svg is %d bytes; want a drawing without embedded fonts (< 200 kB)", base, len(s))
	}
}

func TestSaveLinesBarsCDFs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x := make([]float64, 2000)
	y1, y2 := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		x[i] = float64(i) * 5
		y1[i] = 50 + 40*math.Sin(float64(i)/100)
		y2[i] = float64(i % 300)
	}
	h := hdr.New(1, 86_400_000_000, 3)
	for v := int64(1000); v < 5_000_000; v += 997 {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	cdf, err := HistogramCDF("tenant a", string(enc))
	if err != nil {
		t.Fatalf("HistogramCDF: %v", err)
	}
	empty, err := HistogramCDF("tenant b", "")
	if err != nil {
		t.Fatalf("HistogramCDF(empty): %v", err)
	}
	for _, c := range []struct {
		base string
		make func() (*gplot.Plot, error)
	}{
		// A long time series (2000 points, 2.8 h: hh:mm axis), downsampled.
		{"lines", func() (*gplot.Plot, error) {
			return TimeLines("attempts/s", "attempts/s", []Line{{Name: "sine", X: x, Y: y1}, {Name: "saw", X: x, Y: y2, Step: true}})
		}},
		// Grouped bars.
		{"bars", func() (*gplot.Plot, error) {
			return Bars("p99 by tier", "seconds", []string{"tier1", "tier2", "tier3"},
				[]BarGroup{{Name: "a", Values: []float64{3, 2, 1}}, {Name: "b", Values: []float64{2.5, 1, 0.5}}})
		}},
		// One CDF with data (log x), one without.
		{"cdfs", func() (*gplot.Plot, error) { return CDFs("time to success", "seconds", []CDF{cdf, empty}) }},
		// Nothing at all still draws a labelled plot.
		{"empty", func() (*gplot.Plot, error) { return TimeLines("nothing", "attempts/s", nil) }},
	} {
		p, err := c.make()
		if err != nil {
			t.Fatalf("%s: %v", c.base, err)
		}
		if err := Save(p, dir, c.base); err != nil {
			t.Fatalf("Save(%s): %v", c.base, err)
		}
		checkFigure(t, dir, c.base)
	}
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		// Lines with mismatched lengths name the line.
		{"Lines", func() error {
			_, err := Lines("t", "x", "y", []Line{{Name: "bad", X: []float64{1, 2}, Y: []float64{1}}})
			return err
		}(), `line 0 ("bad"): 2 x values but 1 y values`},
		// Bars with too few values name the group.
		{"Bars", func() error {
			_, err := Bars("t", "y", []string{"a", "b"}, []BarGroup{{Name: "g", Values: []float64{1}}})
			return err
		}(), `bar group 0 ("g"): 1 values for 2 categories`},
		// CDFs with mismatched lengths.
		{"CDFs", func() error {
			_, err := CDFs("t", "x", []CDF{{Name: "c", Values: []float64{1}}})
			return err
		}(), `cdf 0 ("c"): 1 values but 0 fractions`},
		// A corrupt histogram.
		{"HistogramCDF", func() error { _, err := HistogramCDF("h", "not base64!"); return err }(), `cdf "h": decode histogram`},
		// Save refuses a base with a directory.
		{"Save", Save(nil, t.TempDir(), "a/b"), `must be a plain file name`},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v; want it to contain %q", c.name, c.err, c.want)
		}
	}
}

func TestFormatElapsed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sec, span float64
		want      string
	}{
		{0, 20, "00:00"},                // start of a short run
		{75, 600, "01:15"},              // mm:ss under an hour
		{3599, 3599, "59:59"},           // just under an hour: still mm:ss
		{5400, 7200, "01:30"},           // hh:mm from an hour on
		{86400, 86400, "24:00"},         // hours are not wrapped
		{30 * 3600, 30 * 3600, "30:00"}, // nor past a day
		{-30, 600, "-00:30"},            // negative offsets keep their sign
	} {
		if got := FormatElapsed(c.sec, c.span); got != c.want {
			t.Errorf("FormatElapsed(%g, %g) = %q; want %q", c.sec, c.span, got, c.want)
		}
	}
}

func TestTimeTicker(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		min, max  float64
		wantFirst string
		wantStep  float64
	}{
		{0, 20, "00:00", 5},        // 20 s demo: every 5 s
		{0, 600, "00:00", 120},     // 10 min: every 2 min
		{0, 86400, "00:00", 21600}, // a day: every 6 h
		{10, 10, "00:10", 0},       // degenerate range: one tick
	} {
		ticks := TimeTicker{}.Ticks(c.min, c.max)
		var major []gplot.Tick
		for _, tk := range ticks {
			if !tk.IsMinor() {
				major = append(major, tk)
			}
		}
		if len(major) == 0 || major[0].Label != c.wantFirst {
			t.Fatalf("Ticks(%g, %g) majors = %v; want first label %q", c.min, c.max, major, c.wantFirst)
		}
		if c.wantStep > 0 && (len(major) < 2 || major[1].Value-major[0].Value != c.wantStep) {
			t.Errorf("Ticks(%g, %g) majors = %v; want step %g", c.min, c.max, major, c.wantStep)
		}
		if len(major) > 8 {
			t.Errorf("Ticks(%g, %g) gave %d major ticks; want ≤ 8", c.min, c.max, len(major))
		}
	}
}

func TestDownsample(t *testing.T) {
	t.Parallel()
	xys := make(plotter.XYs, 1000)
	for i := range xys {
		xys[i] = plotter.XY{X: float64(i), Y: 0}
	}
	xys[437].Y = 100 // a lone spike must survive
	got := Downsample(xys, 100)
	if len(got) != 100 {
		t.Fatalf("Downsample(1000 points, 100) gave %d points", len(got))
	}
	if got[0] != xys[0] || got[len(got)-1] != xys[len(xys)-1] {
		t.Errorf("Downsample dropped an end point: first %v last %v", got[0], got[len(got)-1])
	}
	spike := false
	for _, p := range got {
		spike = spike || p.Y == 100
	}
	if !spike {
		t.Errorf("Downsample(1000 points, 100) lost the spike at x=437")
	}
	if short := Downsample(xys[:50], 100); len(short) != 50 {
		t.Errorf("Downsample(50 points, 100) gave %d points; want them all", len(short))
	}
}

func TestHistogramCDFMonotone(t *testing.T) {
	t.Parallel()
	a, b := hdr.New(1, 86_400_000_000, 3), hdr.New(1, 86_400_000_000, 3)
	for v := int64(1); v <= 1000; v++ {
		_ = a.RecordValue(v * 1000)
		_ = b.RecordValue(v * 7000)
	}
	ea, _ := a.Encode(hdr.V2CompressedEncodingCookieBase)
	eb, _ := b.Encode(hdr.V2CompressedEncodingCookieBase)
	c, err := MergedHistogramCDF("all", string(ea), "", string(eb))
	if err != nil {
		t.Fatalf("MergedHistogramCDF: %v", err)
	}
	if c.Count != 2000 {
		t.Errorf("MergedHistogramCDF count = %d; want 2000", c.Count)
	}
	if n := len(c.Fractions); n == 0 || c.Fractions[n-1] != 1 || c.Fractions[0] != 0 {
		t.Fatalf("MergedHistogramCDF fractions run %v … ; want 0 … 1", c.Fractions)
	}
	for i := 1; i < len(c.Values); i++ {
		if c.Values[i] < c.Values[i-1] || c.Fractions[i] < c.Fractions[i-1] {
			t.Fatalf("CDF not monotone at %d: (%g, %g) after (%g, %g)", i, c.Values[i], c.Fractions[i], c.Values[i-1], c.Fractions[i-1])
		}
	}
	if last := c.Values[len(c.Values)-1]; math.Abs(last-7) > 0.01 {
		t.Errorf("CDF ends at %g s; want ≈ 7 s", last)
	}
}
