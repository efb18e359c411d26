package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/sim/sweep"
)

// jitterConfig sizes one run of the jitter study.
type jitterConfig struct {
	Scenario string        // example: jitter-study (time-scaled) or jitter-rate-limit
	Clients  []int         // numbers of clients released together
	Seeds    int           // seeds per (strategy, clients)
	Drain    time.Duration // how long clients may keep retrying (0: until done, at most des.MaxDrain)
}

// jitterRow is one strategy at one number of clients, over the seeds.
type jitterRow struct {
	Strategy   string
	Clients    int
	Work       float64 // mean attempts sent by all clients together
	WorkSD     float64
	Time       float64 // mean seconds from the release until the last client ended
	TimeSD     float64
	Unfinished int // seeds in which some client had not succeeded when the drain ended
}

// baseClients is the number of clients the jitter examples release.
const baseClients = 100

// runJitter simulates every compare strategy of the example for every number
// of clients and seed. Work is attempts sent; time is the virtual time of the
// run's last event (the end of the last attempt).
func runJitter(ctx context.Context, cfg jitterConfig) ([]jitterRow, error) {
	sc, err := loadExample(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	tenant := sc.Tenants[0].Name
	var variants []sweep.Variant
	var labels []string
	names := compareLabels(sc.Compare)
	for _, n := range cfg.Clients {
		for i := range sc.Compare {
			st := sc.Compare[i]
			label := names[i]
			variants = append(variants, sweep.Variant{Name: fmt.Sprintf("%s@%d", label, n),
				Tenant: tenant, Strategy: &st, Scale: float64(n) / baseClients})
			labels = append(labels, label)
		}
	}
	res, err := sweep.Run(ctx, sc, variants, sweep.Options{Seed: 1, Seeds: cfg.Seeds, Drain: cfg.Drain})
	if err != nil {
		return nil, err
	}
	rows := make([]jitterRow, 0, len(res))
	for _, r := range res {
		var work, secs []float64
		row := jitterRow{Strategy: labels[r.Index], Clients: cfg.Clients[r.Index/len(sc.Compare)]}
		for _, s := range r.Sims {
			st := s.Summary.Tenants[tenant]
			work = append(work, float64(st.Attempts.Total))
			secs = append(secs, s.Stats.Simulated.Seconds())
			if st.Requests.Succeeded != st.Requests.Total {
				row.Unfinished++
			}
		}
		row.Work, row.WorkSD = meanSD(work)
		row.Time, row.TimeSD = meanSD(secs)
		rows = append(rows, row)
	}
	return rows, nil
}

// jitterTable renders the rows of one number of clients as Markdown.
func jitterTable(rows []jitterRow, clients, seeds int, timeUnit string, timeScale float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| strategy (%d clients, %d seeds) | work: attempts, mean ± sd | work / client | time to all done (%s), mean ± sd | seeds unfinished |\n", clients, seeds, timeUnit)
	b.WriteString("|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Clients != clients {
			continue
		}
		fmt.Fprintf(&b, "| %s | %.0f ± %.0f | %.1f | %.2f ± %.2f | %d |\n", r.Strategy, r.Work, r.WorkSD,
			r.Work/float64(clients), r.Time*timeScale, r.TimeSD*timeScale, r.Unfinished)
	}
	return b.String()
}

// jitterPlots draws work and completion time against the number of clients,
// one line per strategy, as Brooker's figures.
func jitterPlots(rows []jitterRow, dir, base, title string, timeLabel string, timeScale float64) error {
	var strategies []string
	for _, r := range rows {
		if !containsString(strategies, r.Strategy) {
			strategies = append(strategies, r.Strategy)
		}
	}
	var work, secs []plot.Line
	for _, s := range strategies {
		lw, lt := plot.Line{Name: s}, plot.Line{Name: s}
		for _, r := range rows {
			if r.Strategy == s {
				lw.X, lw.Y = append(lw.X, float64(r.Clients)), append(lw.Y, r.Work)
				lt.X, lt.Y = append(lt.X, float64(r.Clients)), append(lt.Y, r.Time*timeScale)
			}
		}
		work, secs = append(work, lw), append(secs, lt)
	}
	p, err := plot.Lines(title+": work", "clients released together", "attempts (mean over seeds)", work)
	if err != nil {
		return err
	}
	if err := savePNG(p, dir, base+"-work"); err != nil {
		return err
	}
	p, err = plot.Lines(title+": completion time", "clients released together", timeLabel, secs)
	if err != nil {
		return err
	}
	return savePNG(p, dir, base+"-time")
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// runJitterStudy is `go run ./benchmarks/studies jitter`: both jitter
// examples, 10–200 clients, 20 seeds.
func runJitterStudy(ctx context.Context, e env) error {
	seeds := e.seeds
	if seeds == 0 {
		seeds = 20
	}
	clients := []int{10, 25, 50, 100, 150, 200}
	// Time-scaled replica: 1 s of simulated time = one 20 ms round of
	// Brooker's simulator, so times are shown divided by 50.
	scaled, err := runJitter(ctx, jitterConfig{Scenario: "jitter-study", Clients: clients, Seeds: seeds, Drain: 6 * time.Hour})
	if err != nil {
		return err
	}
	const toOriginal = 1.0 / 50
	t1 := jitterTable(scaled, baseClients, seeds, "s, in Brooker's units = simulated s ÷ 50", toOriginal)
	if err := jitterPlots(scaled, e.img, "jitter-study", "jitter-study (time-scaled ×50)", "time until all succeed (s, Brooker's units)", toOriginal); err != nil {
		return err
	}
	direct, err := runJitter(ctx, jitterConfig{Scenario: "jitter-rate-limit", Clients: clients, Seeds: seeds})
	if err != nil {
		return err
	}
	t2 := jitterTable(direct, baseClients, seeds, "s", 1)
	if err := jitterPlots(direct, e.img, "jitter-rate-limit", "jitter-rate-limit (presets unscaled, 10 calls/s)", "time until all succeed (s)", 1); err != nil {
		return err
	}
	md := "### jitter-study (time-scaled ×50)\n\n" + t1 + "\n### jitter-rate-limit (presets as published, 10 calls/s)\n\n" + t2
	md += "\n### Work and time by number of clients\n\n" + jitterCurveTable(scaled, toOriginal, "jitter-study") + "\n" + jitterCurveTable(direct, 1, "jitter-rate-limit")
	fmt.Fprint(e.out, md)
	return writeTable(e.img, "jitter", md)
}

// jitterCurveTable lists mean work and time for every number of clients.
func jitterCurveTable(rows []jitterRow, timeScale float64, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | clients | work | time (s) |\n|---|---:|---:|---:|\n", name)
	for _, r := range rows {
		t := fmt.Sprintf("%.2f", r.Time*timeScale)
		if r.Unfinished > 0 {
			t = "≥ " + t
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s |\n", r.Strategy, r.Clients, math.Round(r.Work), t)
	}
	return b.String()
}
