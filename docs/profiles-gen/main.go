// Command profiles-gen draws the traffic-profile pictures of docs/profiles.md:
// for each profile type, the rate the profile asks for over time (its
// Rate(t), dashed) and the arrivals loadsim actually schedules, counted per
// bucket (the same arrival times live runs pace and the simulator replays).
// Each profile is read from the same YAML the guide shows, through
// scenario.Parse, so a picture cannot show something the parser does not do.
//
// Usage, from the repository root:
//
//	go run ./docs/profiles-gen              # writes docs/img/profile-*.png
//	go run ./docs/profiles-gen -out DIR
//
// Output is deterministic for a given loadsim version (seeded profiles use
// the seed written in the YAML).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/scenario"
)

// figure is one picture: a profile as written in a scenario, how long to
// draw it and the width of the arrival-count buckets.
type figure struct {
	Name     string        // file name without extension: profile-NAME.png
	Title    string        // figure title
	Profile  string        // the YAML flow mapping of traffic.profile, as in the guide
	Example  string        // an embedded example to take the profile from instead (its first tenants)
	Duration time.Duration // span drawn
	Bucket   time.Duration // arrivals are counted per Bucket and shown per second
}

// figures are the pictures of docs/profiles.md, in the guide's order.
func figures() []figure {
	return []figure{
		{Name: "constant", Title: "constant: 5 requests/s", Profile: "{type: constant, rate: 5}", Duration: 2 * time.Minute, Bucket: 5 * time.Second},
		{Name: "ramp", Title: "ramp: 0.2 → 2 requests/s over 5 min, then held", Profile: "{type: ramp, from: 0.2, to: 2, over: 5m}", Duration: 10 * time.Minute, Bucket: 20 * time.Second},
		{Name: "step", Title: "step: 1/s, 6/s from 3 min, 2/s from 7 min", Profile: "{type: step, steps: [{at: 0s, rate: 1}, {at: 3m, rate: 6}, {at: 7m, rate: 2}]}", Duration: 10 * time.Minute, Bucket: 10 * time.Second},
		{Name: "sine", Title: "sine: mean 5/s, amplitude 3/s, period 2 min", Profile: "{type: sine, mean: 5, amplitude: 3, period: 2m}", Duration: 6 * time.Minute, Bucket: 5 * time.Second},
		{Name: "spike", Title: "spike: 2/s, 40/s at 4 min for 20 s", Profile: "{type: spike, base: 2, peak: 40, at: 4m, for: 20s}", Duration: 6 * time.Minute, Bucket: 5 * time.Second},
		{Name: "poisson", Title: "poisson: 5 requests/s on average, exponential gaps (seed 1)", Profile: "{type: poisson, rate: 5}", Duration: 2 * time.Minute, Bucket: time.Second},
		{Name: "trace", Title: "trace: trace-replay.csv at speed 2, per tenant", Example: "trace-replay", Duration: time.Minute, Bucket: 2 * time.Second},
	}
}

// curveSamples is how many points the requested rate is sampled at.
const curveSamples = 1200

func main() {
	out := flag.String("out", filepath.Join("docs", "img"), "directory for the PNG files")
	flag.Parse()
	if err := run(*out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "profiles-gen:", err)
		os.Exit(1)
	}
}

// run draws every figure into dir as profile-NAME.png and lists the files on w.
func run(dir string, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range figures() {
		png, err := render(f)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.Name, err)
		}
		name := filepath.Join(dir, "profile-"+f.Name+".png")
		if err := os.WriteFile(name, png, 0o644); err != nil {
			return fmt.Errorf("figure %s: %w", f.Name, err)
		}
		fmt.Fprintln(w, name)
	}
	return nil
}

// load returns the scenario a figure's profile is read from: a one-tenant
// scenario around f.Profile (seed 1), or the embedded example f.Example.
func load(f figure) (*scenario.Scenario, error) {
	if f.Example != "" {
		return scenario.Load(f.Example)
	}
	if f.Profile == "" {
		return nil, errors.New("figure has neither a profile nor an example; set one")
	}
	yml := fmt.Sprintf(`name: profile-%s
seed: 1
duration: %s
tenants:
  - name: web
    key: cmp_profile_web
    tier: tier5
    traffic:
      profile: %s
    mix:
      - {weight: 1}
`, f.Name, f.Duration, f.Profile)
	return scenario.Parse([]byte(yml), "profile-"+f.Name+".yaml", nil)
}

// render draws one figure as a PNG (see lines).
func render(f figure) ([]byte, error) {
	lines, err := lines(f)
	if err != nil {
		return nil, err
	}
	p, err := plot.TimeLines(f.Title, "requests/s", lines)
	if err != nil {
		return nil, err
	}
	p.Y.Max *= 1.25 // room for the legend above the curves
	return plot.RenderPNG(p)
}

// lines returns a figure's curves: per tenant, the scheduled arrivals per
// second, counted per f.Bucket, then the requested rate (dashed; not for
// traces, whose Rate is a trailing one-second count of their own arrivals).
func lines(f figure) ([]plot.Line, error) {
	s, err := load(f)
	if err != nil {
		return nil, err
	}
	if f.Bucket <= 0 || f.Duration <= 0 {
		return nil, fmt.Errorf("bucket %s and duration %s must be > 0", f.Bucket, f.Duration)
	}
	var out []plot.Line
	for i, t := range s.Tenants {
		p := s.Profile(i, s.Seed)
		suffix := ""
		if len(s.Tenants) > 1 {
			suffix = " (" + t.Name + ")"
		}
		ax, ay := arrivalCounts(s.Arrivals(i, s.Seed), f.Duration, f.Bucket)
		out = append(out, plot.Line{Name: "arrivals per second" + suffix, X: ax, Y: ay, Step: true, Color: plot.Color(2 * i)})
		if _, isTrace := p.(scenario.Trace); !isTrace {
			rx, ry := rateCurve(p, f.Duration)
			out = append(out, plot.Line{Name: "requested rate" + suffix, X: rx, Y: ry, Dashed: true, Color: plot.Color(2*i + 1)})
		}
	}
	return out, nil
}

// rateCurve samples p.Rate over [0, d].
func rateCurve(p scenario.Profile, d time.Duration) (x, y []float64) {
	for k := 0; k <= curveSamples; k++ {
		t := time.Duration(float64(d) * float64(k) / curveSamples)
		x = append(x, t.Seconds())
		y = append(y, p.Rate(t))
	}
	return x, y
}

// arrivalCounts counts the arrivals of seq in buckets of width w over [0, d)
// and returns them per second, as a step curve (one point per bucket start
// plus the end).
func arrivalCounts(seq *scenario.ArrivalSeq, d, w time.Duration) (x, y []float64) {
	n := int(math.Ceil(float64(d) / float64(w)))
	counts := make([]float64, n)
	for {
		at, ok := seq.Next()
		if !ok || at >= d {
			break
		}
		counts[int(at/w)]++
	}
	for i, c := range counts {
		x = append(x, (time.Duration(i) * w).Seconds())
		y = append(y, c/w.Seconds())
	}
	// Hold the last bucket's value to the end of the span.
	return append(x, d.Seconds()), append(y, y[len(y)-1])
}
