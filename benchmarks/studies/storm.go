package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/sim/sweep"
)

// stormRow is one strategy's run through the retry-storm scenario.
type stormRow struct {
	Strategy string
	// Recover is the time from the incident's end until goodput is back
	// (every later one-second bucket up to the end of the traffic has
	// successes ≥ recoveredShare of its arrivals); -1 = never within the run.
	Recover time.Duration
	// Calm is the time from the incident's end until the attempts sent
	// fall back under calmFactor × arrivals for good; -1 = never.
	Calm time.Duration
	// Lost is the number of requests that arrived and did not succeed; Share
	// is Lost over the requests that arrived.
	Lost  uint64
	Share float64
	// Amplification is attempts per request; Upstream503 and Overflow500
	// count server answers: circuit-open 503s and capacity 500s.
	Amplification float64
	Attempts      uint64
	Status500     uint64
	Status503     uint64
	Series        *report.Series
}

// recoveredShare is the goodput/offered ratio from which a second counts as
// healthy.
const recoveredShare = 0.9

// runStorm simulates every compare strategy of the example once (seed 7
// unless the scenario says otherwise), with series for the time plots.
func runStorm(ctx context.Context, name string, duration time.Duration, breaker bool) ([]stormRow, time.Duration, error) {
	sc, err := loadExample(name)
	if err != nil {
		return nil, 0, err
	}
	if !breaker {
		c := *sc // a shallow copy: the API section is replaced, not modified
		never := math.MaxInt32
		c.API.Circuit.MinRequests = &never
		sc = &c
	}
	if len(sc.API.Upstream.Incidents) == 0 {
		return nil, 0, errors.New("the storm scenario needs an upstream incident")
	}
	in := sc.API.Upstream.Incidents[0]
	end := in.Start + in.Duration
	var variants []sweep.Variant
	for i, label := range compareLabels(sc.Compare) {
		st := sc.Compare[i]
		variants = append(variants, sweep.Variant{Name: label, Strategy: &st})
	}
	res, err := sweep.Run(ctx, sc, variants, sweep.Options{Seed: sc.Seed, Series: true, Duration: duration, Drain: 30 * time.Second})
	if err != nil {
		return nil, 0, err
	}
	if duration == 0 {
		duration = sc.Duration
	}
	rows := make([]stormRow, 0, len(res))
	for _, r := range res {
		s := r.Sims[0]
		st := s.Summary.Tenants[sc.Tenants[0].Name]
		row := stormRow{Strategy: r.Variant.Name, Series: s.Series, Amplification: st.Amplification,
			Attempts: st.Attempts.Total, Status500: st.Attempts.ByStatus["500"], Status503: st.Attempts.ByStatus["503"]}
		row.Lost = st.Requests.Total - st.Requests.Succeeded
		row.Share = float64(row.Lost) / float64(max(st.Requests.Total, 1))
		row.Recover = recoveryTime(s.Series, end, duration)
		row.Calm = calmTime(s.Series, end, duration)
		rows = append(rows, row)
	}
	return rows, end, nil
}

// recoveryWindow is the span over which goodput is compared with arrivals
// (one-second buckets are too noisy: a success is counted when it ends).
const recoveryWindow = 5 * time.Second

// recoveryTime returns how long after end the goodput came back for good:
// the start of the first window from which every recoveryWindow up to the
// end of the traffic (until) has successes ≥ recoveredShare × arrivals; -1
// if the last window is not healthy.
func recoveryTime(s *report.Series, end, until time.Duration) time.Duration {
	return healthyAfter(s, end, until, func(arr, ok, att uint64) bool {
		return float64(ok) >= recoveredShare*float64(arr)
	})
}

// calmTime returns how long after end the load came back to normal for
// good: attempts ≤ calmFactor × arrivals in every later window; -1 if never.
func calmTime(s *report.Series, end, until time.Duration) time.Duration {
	return healthyAfter(s, end, until, func(arr, ok, att uint64) bool {
		return float64(att) <= calmFactor*float64(arr)
	})
}

// calmFactor is the amplification under which the load counts as normal.
const calmFactor = 1.1

// healthyAfter returns the start, relative to end, of the first
// recoveryWindow after end from which every window up to until satisfies
// good(arrivals, successes, attempts); -1 if the last one does not.
func healthyAfter(s *report.Series, end, until time.Duration, good func(arr, ok, att uint64) bool) time.Duration {
	b := s.Overall()
	per := max(int(recoveryWindow/s.Width()), 1)
	first := int(end / s.Width())
	last := min(int(until/s.Width()), len(b)) // buckets [first, last) hold traffic
	healthy := -1
	for i := first + (last-first)/per*per - per; i >= first; i -= per {
		var arr, ok, att uint64
		for j := i; j < i+per; j++ {
			arr, ok, att = arr+b[j].Arrivals, ok+b[j].Successes, att+b[j].Attempts.Total()
		}
		if !good(arr, ok, att) {
			break
		}
		healthy = i
	}
	if healthy < 0 {
		return -1
	}
	return time.Duration(healthy)*s.Width() - end
}

// stormTable renders the rows as Markdown.
func stormTable(rows []stormRow, until time.Duration) string {
	var b strings.Builder
	b.WriteString("| strategy | goodput back (≥ 90 % of arrivals) after the incident | load back (attempts ≤ 1.1 × arrivals) | requests lost (not succeeded) | share lost | attempts | amplification | 500s | 503s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	never := "never (within " + until.String() + ")"
	show := func(d time.Duration) string {
		if d < 0 {
			return never
		}
		return d.String()
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.1f %% | %d | %.2f | %d | %d |\n", r.Strategy, show(r.Recover), show(r.Calm), r.Lost,
			100*r.Share, r.Attempts, r.Amplification, r.Status500, r.Status503)
	}
	return b.String()
}

// stormPlots draws goodput, attempts and circuit state over time, one line
// per strategy.
func stormPlots(rows []stormRow, dir, base string) error {
	var good, att, circ []plot.Line
	for i, r := range rows {
		if i == 0 {
			offered := plot.RateLine("offered (arrivals/s)", r.Series, func(b *report.Bucket) uint64 { return b.Arrivals })
			offered.Dashed, offered.Color = true, plot.Color(len(rows))
			good = append(good, offered)
			att = append(att, offered)
		}
		g := plot.RateLine(r.Strategy, r.Series, func(b *report.Bucket) uint64 { return b.Successes })
		g.Color = plot.Color(i)
		good = append(good, g)
		a := plot.RateLine(r.Strategy, r.Series, func(b *report.Bucket) uint64 { return b.Attempts.Total() })
		a.Color = plot.Color(i)
		att = append(att, a)
		c := plot.Line{Name: r.Strategy, Step: true, Color: plot.Color(i), X: plot.BucketTimes(r.Series)}
		for _, v := range r.Series.Circuit {
			// Offset each strategy slightly so that the steps do not hide each other.
			c.Y = append(c.Y, math.Max(float64(v), 0)+0.04*float64(i))
		}
		circ = append(circ, c)
	}
	for _, f := range []struct {
		base, title, y string
		lines          []plot.Line
	}{
		{"goodput", base + ": goodput (successes/s); incident 1:00–1:20", "successes/s", good},
		{"attempts", base + ": attempts/s sent vs offered arrivals/s; upstream capacity 50 calls/s", "per second", att},
		{"circuit", base + ": server circuit state (0 closed, 1 half-open, 2 open)", "state", circ},
	} {
		if base != "retry-storm" && f.base == "circuit" {
			continue // no breaker, nothing to draw
		}
		p, err := plot.TimeLines(f.title, f.y, f.lines)
		if err != nil {
			return err
		}
		if err := savePNG(p, dir, base+"-"+f.base); err != nil {
			return err
		}
	}
	return nil
}

// runStormStudy is `go run ./benchmarks/studies retry-storm`.
func runStormStudy(ctx context.Context, e env) error {
	rows, _, err := runStorm(ctx, "retry-storm", 0, true)
	if err != nil {
		return err
	}
	md := "### With the server circuit breaker (the scenario as written)\n\n" + stormTable(rows, 5*time.Minute)
	if err := stormPlots(rows, e.img, "retry-storm"); err != nil {
		return err
	}
	rows, _, err = runStorm(ctx, "retry-storm", 0, false)
	if err != nil {
		return err
	}
	md += "\n### Without the server circuit breaker (api.circuit.min_requests: 2147483647)\n\n" + stormTable(rows, 5*time.Minute)
	if err := stormPlots(rows, e.img, "retry-storm-nobreaker"); err != nil {
		return err
	}
	fmt.Fprint(e.out, md)
	return writeTable(e.img, "retry-storm", md)
}
