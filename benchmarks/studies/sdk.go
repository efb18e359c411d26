package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/sim/sweep"
)

// sdkPhase is what one strategy did during one phase of the run.
type sdkPhase struct {
	Arrivals, Attempts, S429, Successes, GaveUp uint64
}

// Amplification is attempts per arrival in the phase.
func (p sdkPhase) Amplification() float64 { return float64(p.Attempts) / float64(max(p.Arrivals, 1)) }

// sdkRow is one strategy's run through the sdk-exhaustion scenario.
type sdkRow struct {
	Strategy string
	// Minute is the phase where the minute quota binds, Day the phase after
	// the day's quota is gone (from the first bucket whose last
	// X-RateLimit-Remaining-Day was 0).
	Minute, Day sdkPhase
	DayFrom     time.Duration
	Summary     *report.Stats
	Series      *report.Series
}

// runSDK simulates both strategies of the example once.
func runSDK(ctx context.Context, duration time.Duration) ([]sdkRow, error) {
	sc, err := loadExample("sdk-exhaustion")
	if err != nil {
		return nil, err
	}
	var variants []sweep.Variant
	for i, label := range compareLabels(sc.Compare) {
		st := sc.Compare[i]
		variants = append(variants, sweep.Variant{Name: label, Strategy: &st})
	}
	res, err := sweep.Run(ctx, sc, variants, sweep.Options{Seed: sc.Seed, Series: true, Duration: duration, Drain: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	var rows []sdkRow
	for _, r := range res {
		s := r.Sims[0]
		row := sdkRow{Strategy: r.Variant.Name, Summary: s.Summary.Tenants[sc.Tenants[0].Name], Series: s.Series, DayFrom: -1}
		buckets := s.Series.Tenants[0].Buckets
		for i := range buckets {
			b := &buckets[i]
			if row.DayFrom < 0 && b.QuotaDayRemaining != nil && *b.QuotaDayRemaining == 0 {
				row.DayFrom = time.Duration(i+1) * s.Series.Width() // the first whole bucket after it
			}
			ph := &row.Minute
			if row.DayFrom >= 0 && time.Duration(i)*s.Series.Width() >= row.DayFrom {
				ph = &row.Day
			}
			ph.Arrivals += b.Arrivals
			ph.Attempts += b.Attempts.Total()
			ph.S429 += b.Attempts.S429
			ph.Successes += b.Successes
			ph.GaveUp += b.GaveUp
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// sdkTable renders the rows as Markdown.
func sdkTable(rows []sdkRow) string {
	var b strings.Builder
	b.WriteString("| strategy | requests | succeeded | gave up | attempts | amplification | 429s | p50 / p99 time to success (s) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		s := r.Summary
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.2f | %d | %.1f / %.1f |\n", r.Strategy, s.Requests.Total,
			s.Requests.Succeeded, s.Requests.GaveUp, s.Attempts.Total, s.Amplification, s.Attempts.ByStatus["429"],
			s.TimeToSuccess.P50, s.TimeToSuccess.P99)
	}
	b.WriteString("\n| strategy | phase | arrivals | attempts | attempts per request | 429s | 429s per success | succeeded | gave up |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		for _, ph := range []struct {
			name string
			p    sdkPhase
		}{{"minute quota binds (0:00–" + clock(r.DayFrom) + ")", r.Minute}, {"day quota exhausted (" + clock(r.DayFrom) + "–end)", r.Day}} {
			per := "–"
			if ph.p.Successes > 0 {
				per = fmt.Sprintf("%.2f", float64(ph.p.S429)/float64(ph.p.Successes))
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.2f | %d | %s | %d | %d |\n", r.Strategy, ph.name, ph.p.Arrivals,
				ph.p.Attempts, ph.p.Amplification(), ph.p.S429, per, ph.p.Successes, ph.p.GaveUp)
		}
	}
	return b.String()
}

// clock formats d as h:mm.
func clock(d time.Duration) string {
	if d < 0 {
		return "end"
	}
	return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// sdkPlots draws both strategies' 429s per second over time and their
// attempts per request in each phase.
func sdkPlots(rows []sdkRow, dir string) error {
	var rej []plot.Line
	for i, r := range rows {
		l := plot.RateLine(r.Strategy, r.Series, func(b *report.Bucket) uint64 { return b.Attempts.S429 })
		l.Color = plot.Color(i)
		rej = append(rej, l)
	}
	p, err := plot.TimeLines("sdk-exhaustion: 429 responses per second (tier1 key, 1.5 req/s offered)", "429s/s", rej)
	if err != nil {
		return err
	}
	if err := savePNG(p, dir, "sdk-exhaustion-429s"); err != nil {
		return err
	}
	var groups []plot.BarGroup
	for _, r := range rows {
		groups = append(groups, plot.BarGroup{Name: r.Strategy, Values: []float64{r.Minute.Amplification(), r.Day.Amplification()}})
	}
	p, err = plot.Bars("sdk-exhaustion: attempts per request by phase", "attempts per request", []string{"minute quota binds", "day quota exhausted"}, groups)
	if err != nil {
		return err
	}
	return savePNG(p, dir, "sdk-exhaustion-amplification")
}

// runSDKStudy is `go run ./benchmarks/studies sdk-exhaustion`.
func runSDKStudy(ctx context.Context, e env) error {
	rows, err := runSDK(ctx, 0)
	if err != nil {
		return err
	}
	md := sdkTable(rows)
	if err := sdkPlots(rows, e.img); err != nil {
		return err
	}
	fmt.Fprint(e.out, md)
	return writeTable(e.img, "sdk-exhaustion", md)
}
