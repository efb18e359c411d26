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

// The SLOs of the tier-sizing study, as in the example's thresholds.
const (
	sloSuccessRate = 0.99
	sloP99         = 30 * time.Second
)

// meetsSLO reports whether a tenant's stats meet the study's SLOs.
func meetsSLO(s *report.Stats) bool {
	return s.SuccessRate >= sloSuccessRate && s.TimeToSuccess.P99 <= sloP99.Seconds()
}

// tierResult is one tenant on one tier.
type tierResult struct {
	Tier  string
	OK    bool
	Stats *report.Stats
}

// tenantSizing is the sizing of one tenant.
type tenantSizing struct {
	Tenant string
	Tiers  []tierResult // by rank
	Chosen int          // index in Tiers of the cheapest tier meeting the SLOs; -1 = none
	// Headroom is the largest traffic multiplier (to sweep.HeadroomPrecision)
	// at which the chosen tier still meets the SLOs, within [1, the search's
	// maximum]; 0 when not searched.
	Headroom float64
}

// maxHeadroom bounds the headroom search of the study.
const maxHeadroom = 8.0

// builtinTiers are the tiers sized, cheapest first.
var builtinTiers = [...]string{"tier1", "tier2", "tier3", "tier4", "tier5"}

// runSizing sizes each named tenant of the example on each of tiers
// (cheapest first), then finds the headroom on the cheapest tier that meets
// the SLOs (sweep.Headroom, up to maxScale; 0 skips it). duration, when > 0,
// overrides the scenario's.
func runSizing(ctx context.Context, name string, tenants, tiers []string, duration time.Duration, maxScale float64) ([]tenantSizing, error) {
	sc, err := loadExample(name)
	if err != nil {
		return nil, err
	}
	opts := sweep.Options{Seed: sc.Seed, Duration: duration, Drain: 10 * time.Minute}
	var variants []sweep.Variant
	for _, t := range tenants {
		for _, tier := range tiers {
			variants = append(variants, sweep.Variant{Name: t + "@" + tier, Tenant: t, Tier: tier})
		}
	}
	res, err := sweep.Run(ctx, sc, variants, opts)
	if err != nil {
		return nil, err
	}
	var out []tenantSizing
	for ti, t := range tenants {
		ts := tenantSizing{Tenant: t, Chosen: -1}
		for k, tier := range tiers {
			st := res[ti*len(tiers)+k].Sims[0].Summary.Tenants[t]
			ok := meetsSLO(st)
			ts.Tiers = append(ts.Tiers, tierResult{Tier: tier, OK: ok, Stats: st})
			if ok && ts.Chosen < 0 {
				ts.Chosen = k
			}
		}
		if ts.Chosen >= 0 && maxScale >= 1 {
			base := sweep.Variant{Name: "headroom", Tenant: t, Tier: tiers[ts.Chosen]}
			ok := func(s *report.Summary) bool { return meetsSLO(s.Tenants[t]) }
			h, _, err := sweep.Headroom(ctx, sc, base, ok, opts, maxScale)
			if err != nil {
				return nil, err
			}
			ts.Headroom = h
		}
		out = append(out, ts)
	}
	return out, nil
}

// sizingTable renders every tenant's tiers as Markdown.
func sizingTable(rows []tenantSizing) string {
	var b strings.Builder
	b.WriteString("| tenant | tier | meets SLOs | success rate | p99 time to success (s) | 429s | gave up | amplification |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, ts := range rows {
		for k, tr := range ts.Tiers {
			mark := ""
			if k == ts.Chosen {
				mark = " **← chosen**"
			}
			ok := "no"
			if tr.OK {
				ok = "yes"
			}
			s := tr.Stats
			fmt.Fprintf(&b, "| %s | %s%s | %s | %.4f | %.1f | %d | %d | %.2f |\n", ts.Tenant, tr.Tier, mark, ok,
				s.SuccessRate, s.TimeToSuccess.P99, s.Attempts.ByStatus["429"], s.Requests.GaveUp, s.Amplification)
		}
	}
	b.WriteString("\n| tenant | chosen tier | headroom (traffic multiplier still meeting the SLOs) | one tier lower: success rate, 429s, p99 time to success |\n|---|---|---:|---|\n")
	for _, ts := range rows {
		if ts.Chosen < 0 {
			fmt.Fprintf(&b, "| %s | none meets the SLOs | – | – |\n", ts.Tenant)
			continue
		}
		lower := "– (already the cheapest)"
		if ts.Chosen > 0 {
			s := ts.Tiers[ts.Chosen-1].Stats
			lower = fmt.Sprintf("%s: %.2f %%, %d × 429, %.1f s", ts.Tiers[ts.Chosen-1].Tier, 100*s.SuccessRate,
				s.Attempts.ByStatus["429"], s.TimeToSuccess.P99)
		}
		h := fmt.Sprintf("%.2f×", ts.Headroom)
		if ts.Headroom >= maxHeadroom {
			h = fmt.Sprintf("≥ %.0f×", maxHeadroom)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", ts.Tenant, ts.Tiers[ts.Chosen].Tier, h, lower)
	}
	return b.String()
}

// sizingPlots draws the day's offered traffic per tenant and the success
// rate of every tenant on every tier.
func sizingPlots(ctx context.Context, rows []tenantSizing, dir string) error {
	sc, err := loadExample("tier-sizing-day")
	if err != nil {
		return err
	}
	var lines []plot.Line
	for i := range sc.Tenants {
		prof := sc.Profile(i, sc.Seed)
		l := plot.Line{Name: sc.Tenants[i].Name + " (requests/min)"}
		for m := 0; m < int(sc.Duration/time.Minute); m++ {
			from, to := time.Duration(m)*time.Minute, time.Duration(m+1)*time.Minute
			l.X = append(l.X, from.Seconds())
			l.Y = append(l.Y, prof.Hits(to)-prof.Hits(from))
		}
		lines = append(lines, l)
	}
	for _, tier := range []struct {
		name string
		rpm  float64
	}{{"tier1 limit", 60}, {"tier2 limit", 120}, {"tier3 limit", 250}} {
		lines = append(lines, plot.Line{Name: tier.name, Dashed: true, X: []float64{0, sc.Duration.Seconds()}, Y: []float64{tier.rpm, tier.rpm}})
	}
	p, err := plot.TimeLines("tier-sizing-day: offered requests per minute, with per-minute tier limits", "requests/min", lines)
	if err != nil {
		return err
	}
	if err := savePNG(p, dir, "tier-sizing-day-traffic"); err != nil {
		return err
	}
	var groups []plot.BarGroup
	for _, ts := range rows {
		g := plot.BarGroup{Name: ts.Tenant}
		for _, tr := range ts.Tiers {
			g.Values = append(g.Values, 100*(1-tr.Stats.SuccessRate))
		}
		groups = append(groups, g)
	}
	p, err = plot.Bars("tier-sizing-day: requests not succeeded, by tier (SLO: ≤ 1 %)", "% of requests", builtinTiers[:], groups)
	if err != nil {
		return err
	}
	return savePNG(p, dir, "tier-sizing-day-failures")
}

// runSizingStudy is `go run ./benchmarks/studies tier-sizing`.
func runSizingStudy(ctx context.Context, e env) error {
	rows, err := runSizing(ctx, "tier-sizing-day", []string{"web", "mobile", "batch"}, builtinTiers[:], 0, maxHeadroom)
	if err != nil {
		return err
	}
	md := sizingTable(rows)
	if err := sizingPlots(ctx, rows, e.img); err != nil {
		return err
	}
	fmt.Fprint(e.out, md)
	return writeTable(e.img, "tier-sizing", md)
}
