package plot

import (
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim"
)

// recordRun records a deterministic synthetic run of two tenants over n
// seconds: "web" gets 429s (each retried once after 1 s) in its second half,
// with its minute quota falling and resetting every minute; "batch" sees 503s
// while the circuit is open between n/4 and n/3.
func recordRun(t testing.TB, n int) (*report.Series, *report.Summary) {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dur := time.Duration(n) * time.Second
	rec := report.NewRecorder(report.RecorderConfig{Tenants: []string{"web", "batch"}, Start: start, Duration: dur})
	id := uint64(0)
	for sec := range n {
		at := start.Add(time.Duration(sec) * time.Second)
		open := sec > n/4 && sec < n/3
		if open {
			rec.ObserveCircuit(at, sim.CircuitOpen)
		} else {
			rec.ObserveCircuit(at, sim.CircuitClosed)
		}
		for tenant := range 2 {
			for j := range 3 + sec%4 {
				id++
				arr := at.Add(time.Duration(j) * 100 * time.Millisecond)
				lat := time.Duration(20+j*15) * time.Millisecond
				a := &sim.Attempt{Tenant: tenant, Request: id, Number: 1, Sent: arr, Latency: lat, Status: 200,
					Limits: sim.RateLimits{Tier: "tier1", LimitMinute: 300, RemainingMinute: int64(300 - 5*(sec%60)),
						LimitDay: 100000, RemainingDay: int64(100000 - 7*sec)}, Stop: sim.StopSucceeded}
				o := &sim.Outcome{Tenant: tenant, Request: id, Kind: sim.Succeeded, Reason: sim.StopSucceeded,
					Attempts: 1, Arrived: arr, Ended: arr.Add(lat)}
				switch {
				case tenant == 0 && sec > n/2 && j%2 == 0:
					a.Status, a.Code, a.Retry, a.Delay, a.Stop = 429, "rate_limit_exceeded", true, time.Second, sim.StopNone
					a.Limits.RemainingMinute = 0
					rec.RecordAttempt(a)
					r := *a
					r.Number, r.Sent, r.Status, r.Code, r.Retry, r.Delay, r.Stop = 2, arr.Add(time.Second), 200, "", false, 0, sim.StopSucceeded
					a = &r
					o.Attempts, o.Ended = 2, r.Sent.Add(lat)
				case tenant == 1 && open:
					a.Status, a.Code, a.Stop = 503, "service_unavailable", sim.StopMaxAttempts
					o.Kind, o.Reason = sim.GaveUp, sim.StopMaxAttempts
				}
				rec.RecordAttempt(a)
				rec.RecordOutcome(o)
			}
		}
	}
	s, err := rec.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	sum := rec.Summary(report.Meta{Scenario: "synthetic", Engine: report.EngineSimulated, Seed: 1,
		Duration: dur, OfferedRPS: 9, Thresholds: nil})
	return s, sum
}

func TestWriteRunFigures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		secs int
	}{
		{"short run, mm:ss axis", 90},
		{"long run, hh:mm axis, downsampled", 2 * 3600},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, sum := recordRun(t, c.secs)
			dir := t.TempDir()
			figs, err := WriteRunFigures(dir, s, sum)
			if err != nil {
				t.Fatalf("WriteRunFigures(%d s run): %v", c.secs, err)
			}
			if len(figs) != 6 {
				t.Fatalf("WriteRunFigures wrote %d figures; want 6 (a)–(f)", len(figs))
			}
			for _, f := range figs {
				if f.Title == "" || f.Caption == "" {
					t.Errorf("figure %s has no title or caption", f.Base)
				}
				checkFigure(t, dir, f.Base)
			}
		})
	}
}

func TestWriteRunFiguresEmpty(t *testing.T) {
	t.Parallel()
	// A run that recorded nothing still gives six labelled figures.
	rec := report.NewRecorder(report.RecorderConfig{Tenants: []string{"web"}, Start: time.Unix(0, 0), Duration: time.Minute})
	s, err := rec.Series()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	figs, err := WriteRunFigures(dir, s, nil)
	if err != nil {
		t.Fatalf("WriteRunFigures(empty series): %v", err)
	}
	for _, f := range figs {
		checkFigure(t, dir, f.Base)
	}
	if _, err := WriteRunFigures(dir, nil, nil); err == nil {
		t.Errorf("WriteRunFigures(nil series) = nil error; want one")
	}
}

func BenchmarkWriteRunFigures(b *testing.B) {
	s, sum := recordRun(b, 24*3600/87) // about 1000 buckets, as a 24 h simulation has
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WriteRunFigures(dir, s, sum); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender compares drawing one figure (a) of a 10-minute run as PNG
// and as SVG.
func BenchmarkRender(b *testing.B) {
	s, _ := recordRun(b, 600)
	p, err := attemptsFigure("t", s)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("png", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := RenderPNG(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("svg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := RenderSVG(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
