package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/loadsim/loadsim/report"
)

// Figure describes one figure written by WriteRunFigures: the files are
// Base+".png" and Base+".svg" in the output directory.
type Figure struct {
	Base    string // file name without extension, e.g. "attempts"
	Title   string // short title, e.g. "Attempts per second by status"
	Caption string // one or two sentences on how to read it
}

// Base names of the run figures, in the order WriteRunFigures writes them.
const (
	FigAttempts      = "attempts"        // (a)
	FigQuota         = "quota"           // (b)
	FigCircuit       = "circuit"         // (c)
	FigLatency       = "latency"         // (d)
	FigRetries       = "retries"         // (e)
	FigTimeToSuccess = "time_to_success" // (f)
)

// RunFigures lists the figures WriteRunFigures writes, (a)–(f), with their
// titles and captions.
func RunFigures() []Figure {
	return []Figure{
		{FigAttempts, "(a) Attempts per second by status",
			"Attempts sent per second, stacked by the status class of their answer; the dashed line is the offered load (requests arriving per second, first attempts only). Area above the dashed line is retry traffic."},
		{FigQuota, "(b) Quota remaining per tenant and window",
			"Last X-RateLimit-Remaining value seen per tenant, for the minute window (top) and the day window (bottom); triangles on the zero line mark the seconds in which that tenant got 429s with that window exhausted."},
		{FigCircuit, "(c) Circuit state and 503s",
			"The server's circuit breaker (most severe state seen in each second: closed, half-open, open) above the 503 answers per second of every tenant."},
		{FigLatency, "(d) Latency and time to success",
			"Per second, p50 and p99 of attempt latency (send to end of response) and of time to success (arrival to success, backoff included), all tenants together."},
		{FigRetries, "(e) Retries and amplification",
			"Retry decisions per second per tenant (top) and amplification, attempts ÷ arriving requests, over a rolling window and cumulatively (bottom)."},
		{FigTimeToSuccess, "(f) Time-to-success CDF per tenant",
			"Fraction of succeeded requests whose time to success (arrival to success, backoff included) is at most x, per tenant and overall; dotted lines mark p50 and p99."},
	}
}

// WriteRunFigures draws figures (a)–(f) of a run from its series and summary
// and writes each as PNG and SVG into dir (created if needed), returning the
// figures written (RunFigures). The summary gives the scenario name and
// engine shown in the titles; a nil summary leaves them out. A series with no
// buckets still gives labelled, empty figures.
func WriteRunFigures(dir string, s *report.Series, sum *report.Summary) ([]Figure, error) {
	if s == nil {
		return nil, fmt.Errorf("run figures: no series given")
	}
	suffix := ""
	if sum != nil {
		suffix = fmt.Sprintf(" — %s (%s", sum.Scenario, sum.Engine)
		if sum.Partial {
			suffix += ", partial"
		}
		suffix += ")"
	}
	figs := RunFigures()
	build := map[string]func(title string) (Panels, error){
		FigAttempts:      func(t string) (Panels, error) { return One(attemptsFigure(t, s)) },
		FigQuota:         func(t string) (Panels, error) { return quotaFigure(t, s) },
		FigCircuit:       func(t string) (Panels, error) { return circuitFigure(t, s) },
		FigLatency:       func(t string) (Panels, error) { return One(latencyFigure(t, s)) },
		FigRetries:       func(t string) (Panels, error) { return retriesFigure(t, s) },
		FigTimeToSuccess: func(t string) (Panels, error) { return One(ttsFigure(t, s)) },
	}
	jobs := make([]Job, len(figs))
	for i, f := range figs {
		jobs[i] = Job{Base: f.Base, Build: func() (Panels, error) { return build[f.Base](f.Title + suffix) }}
	}
	if err := SaveAll(dir, jobs); err != nil {
		return nil, fmt.Errorf("run %w", err)
	}
	return figs, nil
}

// span is the length of the series, seconds.
func span(s *report.Series) float64 {
	return float64(len(s.Circuit)) * float64(max(s.BucketSeconds, 1))
}

// statusClass is one status class of report.StatusClasses, with its colour.
type statusClass struct {
	name  string
	color color.Color
	count func(c *report.StatusClasses) uint64
}

var statusClasses = [...]statusClass{
	{"2xx", color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, func(c *report.StatusClasses) uint64 { return c.S2xx }},
	{"429", color.RGBA{0xff, 0x9f, 0x1c, 0xff}, func(c *report.StatusClasses) uint64 { return c.S429 }},
	{"503", color.RGBA{0xd6, 0x27, 0x28, 0xff}, func(c *report.StatusClasses) uint64 { return c.S503 }},
	{"500", color.RGBA{0x8c, 0x1c, 0x13, 0xff}, func(c *report.StatusClasses) uint64 { return c.S500 }},
	{"other 5xx", color.RGBA{0x94, 0x67, 0xbd, 0xff}, func(c *report.StatusClasses) uint64 { return c.S5xx }},
	{"other 4xx", color.RGBA{0x8c, 0x56, 0x4b, 0xff}, func(c *report.StatusClasses) uint64 { return c.S4xx }},
	{"transport error", color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, func(c *report.StatusClasses) uint64 { return c.S0 }},
	{"other", color.RGBA{0xe3, 0x77, 0xc2, 0xff}, func(c *report.StatusClasses) uint64 { return c.Other }},
}

// attemptsFigure is (a): attempts/s stacked by status class, offered
// (arrivals/s) as a dashed line.
func attemptsFigure(title string, s *report.Series) (*gplot.Plot, error) {
	all := s.Overall()
	x := BucketTimes(s)
	w := float64(max(s.BucketSeconds, 1))
	// Stack the classes present, bottom to top; keep the indices LTTB picks
	// on the total so that every layer is drawn at the same x.
	var present []statusClass
	for _, c := range statusClasses {
		for i := range all {
			if c.count(&all[i].Attempts) > 0 {
				present = append(present, c)
				break
			}
		}
	}
	idx := stackIndices(x, all)
	p := newPlot(title, TimeLabel(span(s)), "attempts/s")
	xs := make([]float64, len(idx))
	for k, i := range idx {
		xs[k] = x[i]
	}
	lo := make([]float64, len(idx))
	for _, c := range present {
		hi := make([]float64, len(idx))
		for k, i := range idx {
			hi[k] = lo[k] + float64(c.count(&all[i].Attempts))/w
		}
		p.Add(&band{x: xs, lo: lo, hi: hi, color: c.color})
		lo = hi
	}
	for _, c := range present { // legend bottom layer first, like the stack read upwards
		l := &plotter.Line{FillColor: c.color}
		p.Legend.Add(c.name, l)
	}
	offered := RateLine("offered (arrivals/s)", s, func(b *report.Bucket) uint64 { return b.Arrivals })
	offered.Dashed, offered.Color = true, color.Black
	if err := addLines(p, []Line{offered}, 0); err != nil {
		return nil, err
	}
	finishY(p)
	timeAxis(p, span(s))
	p.Legend.Left = false
	return p, nil
}

// stackIndices returns the bucket indices to draw a stacked plot with: all
// of them, or those LTTB keeps on the total attempts when there are more than
// MaxPoints.
func stackIndices(x []float64, all []report.Bucket) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	if len(x) <= MaxPoints {
		return idx
	}
	tot := make(plotter.XYs, len(x))
	for i := range x {
		tot[i] = plotter.XY{X: x[i], Y: float64(all[i].Attempts.Total())}
	}
	keep := Downsample(tot, MaxPoints)
	out := make([]int, 0, len(keep))
	for _, k := range keep {
		if i, ok := slices.BinarySearch(x, k.X); ok {
			out = append(out, i)
		}
	}
	return out
}

// quotaFigure is (b): remaining quota per tenant, minute window above, day
// window below; 429s marked on the zero line.
func quotaFigure(title string, s *report.Series) ([]*gplot.Plot, error) {
	x := BucketTimes(s)
	sp := span(s)
	windows := []struct {
		name string
		get  func(b *report.Bucket) *int64
	}{
		{"minute window", func(b *report.Bucket) *int64 { return b.QuotaMinuteRemaining }},
		{"day window", func(b *report.Bucket) *int64 { return b.QuotaDayRemaining }},
	}
	var panels []*gplot.Plot
	for wi, win := range windows {
		t := title
		if wi > 0 {
			t = ""
		}
		var lines []Line
		unlimited := []string{}
		for ti := range s.Tenants {
			ts := &s.Tenants[ti]
			var lx, ly []float64
			seenUnlimited := false
			for i := range ts.Buckets {
				v := win.get(&ts.Buckets[i])
				switch {
				case v == nil:
				case *v < 0:
					seenUnlimited = true
				default:
					lx, ly = append(lx, x[i]), append(ly, float64(*v))
				}
			}
			if seenUnlimited && len(lx) == 0 {
				unlimited = append(unlimited, ts.Name)
			}
			lines = append(lines, Line{Name: ts.Name, X: lx, Y: ly, Step: true, Color: Color(ti)})
		}
		p := newPlot(t, "", win.name+" (requests left)")
		if wi == len(windows)-1 {
			p.X.Label.Text = TimeLabel(sp)
		}
		if err := addLines(p, lines, 0); err != nil {
			return nil, err
		}
		if len(unlimited) > 0 {
			p.Title.Text += fmt.Sprintf(" (unlimited: %v)", unlimited)
		}
		// 429 markers on the zero line, one per bucket with 429s, per
		// tenant, in the panel of the window that was exhausted then (the
		// minute panel when no header said which).
		for ti := range s.Tenants {
			ts := &s.Tenants[ti]
			var pts plotter.XYs
			for i := range ts.Buckets {
				b := &ts.Buckets[i]
				v := win.get(b)
				if b.Attempts.S429 > 0 && ((v != nil && *v == 0) || (v == nil && wi == 0)) {
					pts = append(pts, plotter.XY{X: x[i], Y: 0})
				}
			}
			if len(pts) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("429 markers of %q: %w", ts.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Shape: draw.TriangleGlyph{}, Radius: vg.Points(3), Color: Color(ti)}
			p.Add(sc)
			if wi == 0 {
				p.Legend.Add(ts.Name+": 429s", sc)
			}
		}
		finishY(p)
		p.Y.Min = -0.04 * p.Y.Max // room for the markers on the zero line
		timeAxis(p, sp)
		if wi != len(windows)-1 {
			p.X.Label.Text = ""
		}
		p.Legend.Left = false
		panels = append(panels, p)
	}
	return panels, nil
}

// circuitFigure is (c): circuit state as a step plot above 503/s.
func circuitFigure(title string, s *report.Series) ([]*gplot.Plot, error) {
	sp := span(s)
	w := float64(max(s.BucketSeconds, 1))
	var cx, cy []float64
	for i, c := range s.Circuit {
		if c >= 0 {
			cx, cy = append(cx, float64(i)*w), append(cy, float64(c))
		}
	}
	if n := len(cx); n > 0 { // hold the last state to the end of its bucket
		cx, cy = append(cx, cx[n-1]+w), append(cy, cy[n-1])
	}
	top := newPlot(title, "", "circuit state")
	if err := addLines(top, []Line{{Name: "server circuit", X: cx, Y: cy, Step: true, Color: Color(3)}}, 0); err != nil {
		return nil, err
	}
	top.Y.Min, top.Y.Max = -0.2, 2.3
	top.Y.Tick.Marker = gplot.ConstantTicks{{Value: 0, Label: "closed"}, {Value: 1, Label: "half-open"}, {Value: 2, Label: "open"}}
	timeAxis(top, sp)
	top.X.Label.Text = ""
	top.Legend.Left = false
	var lines []Line
	for ti := range s.Tenants {
		lines = append(lines, TenantRateLine(s.Tenants[ti].Name, s, &s.Tenants[ti], func(b *report.Bucket) uint64 { return b.Attempts.S503 }))
		lines[ti].Color = Color(ti)
	}
	bottom := newPlot("", TimeLabel(sp), "503 answers/s")
	if err := addLines(bottom, lines, 0); err != nil {
		return nil, err
	}
	finishY(bottom)
	timeAxis(bottom, sp)
	bottom.Legend.Left = false
	return []*gplot.Plot{top, bottom}, nil
}

// latencyWindows is the most time windows figure (d) computes quantiles
// over.
const latencyWindows = 150

// latencyFigure is (d): per-bucket p50 and p99 of latency and time to
// success, all tenants; log y axis when they span two decades.
func latencyFigure(title string, s *report.Series) (*gplot.Plot, error) {
	// Quantiles of a bucket with a handful of requests are noise: merge
	// buckets into at most latencyWindows windows.
	k := max(1, (len(s.Circuit)+latencyWindows-1)/latencyWindows)
	ws, err := s.Rebucket(k)
	if err != nil {
		return nil, err
	}
	if k > 1 {
		title += fmt.Sprintf(", per %s window", FormatDuration(float64(ws.BucketSeconds)))
	}
	all := ws.Overall()
	x := BucketTimes(ws)
	q := func(get func(b *report.Bucket) float64) []float64 {
		y := make([]float64, len(all))
		for i := range all {
			if v := get(&all[i]); v > 0 {
				y[i] = v
			} else {
				y[i] = math.NaN() // no sample in this bucket
			}
		}
		return y
	}
	lines := []Line{
		{Name: "latency p50", X: x, Y: q(func(b *report.Bucket) float64 { return b.LatencyP50 }), Color: Color(5)},
		{Name: "latency p99", X: x, Y: q(func(b *report.Bucket) float64 { return b.LatencyP99 }), Color: Color(0)},
		{Name: "time to success p50", X: x, Y: q(func(b *report.Bucket) float64 { return b.TimeToSuccessP50 }), Color: Color(1)},
		{Name: "time to success p99", X: x, Y: q(func(b *report.Bucket) float64 { return b.TimeToSuccessP99 }), Color: Color(3)},
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for _, v := range l.Y {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	p := newPlot(title, TimeLabel(span(s)), "seconds")
	if err := addLines(p, lines, 0); err != nil {
		return nil, err
	}
	if lo > 0 && hi/lo >= 100 {
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = gplot.LogTicks{Prec: -1}
		p.Y.Label.Text = "seconds — log scale"
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	} else {
		finishY(p)
	}
	timeAxis(p, span(s))
	p.Legend.Left = false
	return p, nil
}

// retriesFigure is (e): retries/s per tenant above amplification (rolling
// and cumulative).
func retriesFigure(title string, s *report.Series) ([]*gplot.Plot, error) {
	sp := span(s)
	var lines []Line
	for ti := range s.Tenants {
		l := TenantRateLine(s.Tenants[ti].Name, s, &s.Tenants[ti], func(b *report.Bucket) uint64 { return b.Retries })
		l.Color = Color(ti)
		lines = append(lines, l)
	}
	top := newPlot(title, "", "retries/s")
	if err := addLines(top, lines, 0); err != nil {
		return nil, err
	}
	finishY(top)
	timeAxis(top, sp)
	top.X.Label.Text = ""
	top.Legend.Left = false

	all := s.Overall()
	x := BucketTimes(s)
	// A round window of about a sixtieth of the run.
	bw := float64(max(s.BucketSeconds, 1))
	win := 1
	for _, step := range tickSteps {
		if step >= span(s)/60 {
			win = max(1, int(math.Round(step/bw)))
			break
		}
	}
	roll := make([]float64, len(all))
	cum := make([]float64, len(all))
	var ra, rr, ca, cr float64
	for i := range all {
		a, r := float64(all[i].Attempts.Total()), float64(all[i].Arrivals)
		ra, rr, ca, cr = ra+a, rr+r, ca+a, cr+r
		if i >= win {
			ra -= float64(all[i-win].Attempts.Total())
			rr -= float64(all[i-win].Arrivals)
		}
		roll[i], cum[i] = ratioOrNaN(ra, rr), ratioOrNaN(ca, cr)
	}
	winLabel := fmt.Sprintf("over the last %s", FormatDuration(float64(win)*bw))
	bottom := newPlot("", TimeLabel(sp), "amplification (attempts/request)")
	if err := addLines(bottom, []Line{
		{Name: winLabel, X: x, Y: roll, Color: Color(0)},
		{Name: "cumulative", X: x, Y: cum, Dashed: true, Color: color.Black},
	}, 0); err != nil {
		return nil, err
	}
	finishY(bottom)
	timeAxis(bottom, sp)
	bottom.Legend.Left = false
	return []*gplot.Plot{top, bottom}, nil
}

func ratioOrNaN(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// FormatDuration formats sec seconds briefly: "45 s", "2 min", "1.5 h".
func FormatDuration(sec float64) string {
	switch {
	case sec < 120:
		return fmt.Sprintf("%g s", math.Round(sec*10)/10)
	case sec < 7200:
		return fmt.Sprintf("%g min", math.Round(sec/6)/10)
	default:
		return fmt.Sprintf("%g h", math.Round(sec/360)/10)
	}
}

// ttsFigure is (f): the time-to-success CDF of each tenant and of all.
func ttsFigure(title string, s *report.Series) (*gplot.Plot, error) {
	var cdfs []CDF
	encs := make([]string, 0, len(s.Tenants))
	for _, t := range s.Tenants {
		c, err := HistogramCDF(t.Name, t.Totals.Histograms.TimeToSuccess)
		if err != nil {
			return nil, err
		}
		cdfs = append(cdfs, c)
		encs = append(encs, t.Totals.Histograms.TimeToSuccess)
	}
	if len(s.Tenants) > 1 {
		all, err := MergedHistogramCDF("all tenants", encs...)
		if err != nil {
			return nil, err
		}
		cdfs = append(cdfs, all)
	}
	colors := make([]color.Color, len(cdfs))
	for i := range s.Tenants {
		colors[i] = Color(i)
	}
	if len(cdfs) > len(s.Tenants) {
		colors[len(cdfs)-1] = color.Black // all tenants
	}
	p, err := cdfsWithColors(title, "time to success (s)", cdfs, colors)
	if err != nil {
		return nil, err
	}
	p.Y.Label.Text = "fraction of succeeded requests ≤ x"
	return p, nil
}
