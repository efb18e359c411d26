package sweep

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loadsim/loadsim/scenario"
)

// tinyYAML is one tenant offering 2 requests per second for a second.
const tinyYAML = `
name: tiny
seed: 5
duration: 1s
tenants:
  - name: web
    key: sweep_align_web
    tier: tier1
    traffic:
      profile: {type: constant, rate: 2}
    mix:
      - {weight: 1, tokens: 100}
    client:
      strategy: compresr-recommended
`

// phaseDiff returns how far apart phases a and b are on a circle of
// period p (in [0, p/2]).
func phaseDiff(a, b, p time.Duration) time.Duration {
	d := (a - b) % p
	if d < 0 {
		d += p
	}
	return min(d, p-d)
}

func TestPhaseAndNextAt(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		t             time.Time
		period, phase time.Duration
		wantPhase     time.Duration // phaseOf(t, period)
		want          time.Time     // nextAt(t, period, phase)
	}{
		// On the minute, phase 0: that instant.
		{base, time.Minute, 0, 0, base},
		// :05 into the minute, phase :12: later in the same minute.
		{base.Add(5 * time.Second), time.Minute, 12 * time.Second, 5 * time.Second, base.Add(12 * time.Second)},
		// :48 into the minute, phase :12: the next minute's :12.
		{base.Add(48 * time.Second), time.Minute, 12 * time.Second, 48 * time.Second, base.Add(72 * time.Second)},
		// Exactly at the phase: that instant, not a period later.
		{base.Add(12*time.Second + 345*time.Millisecond), time.Minute, 12*time.Second + 345*time.Millisecond,
			12*time.Second + 345*time.Millisecond, base.Add(12*time.Second + 345*time.Millisecond)},
		// A 1 ns miss waits almost a whole period.
		{base.Add(12*time.Second + 1), time.Minute, 12 * time.Second, 12*time.Second + 1, base.Add(72 * time.Second)},
		// A 400 ms period.
		{base.Add(1030 * time.Millisecond), 400 * time.Millisecond, 100 * time.Millisecond, 230 * time.Millisecond, base.Add(1300 * time.Millisecond)},
		// Another time zone: phases stay those of the UTC minute.
		{base.Add(7 * time.Second).In(time.FixedZone("x", 5*3600+30*60)), time.Minute, 3 * time.Second, 7 * time.Second, base.Add(63 * time.Second)},
	} {
		if got := phaseOf(c.t, c.period); got != c.wantPhase {
			t.Errorf("phaseOf(%s, %s) = %s; want %s", c.t, c.period, got, c.wantPhase)
		}
		if got := nextAt(c.t, c.period, c.phase); !got.Equal(c.want) {
			t.Errorf("nextAt(%s, %s, %s) = %s; want %s", c.t, c.period, c.phase, got, c.want)
		}
	}
}

// TestAligner: the first run starts AlignMargin after it is handed out,
// whose phase the aligner keeps and reports once; later runs start at the
// first instant at least AlignMargin ahead with that phase.
func TestAligner(t *testing.T) {
	var reported []time.Duration
	a := &aligner{period: time.Minute, aligned: func(p time.Duration) { reported = append(reported, p) }}
	t0 := time.Date(2026, 3, 1, 12, 0, 4, 800e6, time.UTC) // :04.8, first run at :05.3
	for _, c := range []struct {
		now  time.Time
		want time.Time
	}{
		// The first run: now + margin, phase :05.3.
		{t0, t0.Add(AlignMargin)},
		// Handed out at :30: the same minute's :05.3 is past, the next one.
		{t0.Add(25 * time.Second), t0.Add(60*time.Second + AlignMargin)},
		// Handed out at :04.9 of a later minute: :05.3 is only 400 ms ahead, so the minute after.
		{t0.Add(120*time.Second + 100*time.Millisecond), t0.Add(180*time.Second + AlignMargin)},
	} {
		if got := a.next(c.now); !got.Equal(c.want) {
			t.Errorf("aligner.next(%s) = %s; want %s", c.now.Format(time.StampMilli), got.Format(time.StampMilli), c.want.Format(time.StampMilli))
		}
	}
	if len(reported) != 1 || reported[0] != 5300*time.Millisecond {
		t.Errorf("Aligned called with %v; want once with 5.3s", reported)
	}
}

// TestRunLiveAligned runs two strategies live for a second each and checks
// that, with Align, every run's series starts at the same phase of Align
// (the one reported to Aligned) and that a negative Align aligns nothing.
func TestRunLiveAligned(t *testing.T) {
	if testing.Short() {
		t.Skip("live runs of a few seconds against the in-process mock; skipped with -short")
	}
	sc, err := scenario.Parse([]byte(tinyYAML), "tiny.yaml", nil)
	if err != nil {
		t.Fatalf("scenario.Parse(tiny): %v", err)
	}
	// A run starts when its timer fires, then reads the clock: on a loaded
	// machine (2 cores shared by several test processes) that is a few ms,
	// rarely tens, after the instant asked for. 30 ms is well below the
	// spread of unaligned starts (uniform over the 400 ms period), so this
	// checks alignment, not speed.
	const tolerance = 30 * time.Millisecond
	for _, c := range []struct {
		name    string
		align   time.Duration
		aligned bool // runs are aligned and Aligned is called
	}{
		// A 400 ms period: both runs start at the same phase of it.
		{"aligned 400ms", 400 * time.Millisecond, true},
		// Negative: each run at once, Aligned never called.
		{"no alignment", -1, false},
	} {
		var phases []time.Duration
		rs, err := Run(context.Background(), sc, strategies("compresr-recommended", "naive-immediate"), Options{
			Seed: 1, Live: true, Series: true, Drain: 500 * time.Millisecond, Align: c.align,
			Aligned: func(p time.Duration) { phases = append(phases, p) },
		})
		if err != nil {
			t.Fatalf("%s: Run(live, Align %s): %v", c.name, c.align, err)
		}
		if len(rs) != 2 {
			t.Fatalf("%s: Run(live, Align %s): %d results; want 2", c.name, c.align, len(rs))
		}
		if !c.aligned {
			if len(phases) != 0 {
				t.Errorf("%s: Run(live, Align %s) called Aligned with %v; want no call", c.name, c.align, phases)
			}
			continue
		}
		if len(phases) != 1 {
			t.Fatalf("%s: Run(live, Align %s) called Aligned with %v; want one phase", c.name, c.align, phases)
		}
		for _, r := range rs {
			se := r.Sims[0].Series
			if se == nil {
				t.Fatalf("%s: variant %s has no series; want the first seed's (Options.Series)", c.name, r.Variant.Name)
			}
			got := phaseOf(se.Start, c.align)
			t.Logf("%s: variant %s started %s off the phase picked", c.name, r.Variant.Name, phaseDiff(got, phases[0], c.align))
			if phaseDiff(got, phases[0], c.align) > tolerance {
				t.Errorf("%s: variant %s started at %s, phase %s of %s; want %s ± %s",
					c.name, r.Variant.Name, se.Start.Format(time.StampMicro), got, c.align, phases[0], tolerance)
			}
		}
	}
}

// TestNewAligner: only live runs with Align ≥ 0 are aligned, 0 meaning a
// minute.
func TestNewAligner(t *testing.T) {
	for _, c := range []struct {
		live  bool
		align time.Duration
		want  time.Duration // the aligner's period; 0: no aligner
	}{
		{true, 0, time.Minute},                                 // live, default: the UTC minute
		{true, 400 * time.Millisecond, 400 * time.Millisecond}, // live, a given period
		{true, -1, 0},           // live, alignment off
		{false, 0, 0},           // simulated: never aligned
		{false, time.Second, 0}, // simulated, even with a period
	} {
		a := newAligner(Options{Live: c.live, Align: c.align})
		var got time.Duration
		if a != nil {
			got = a.period
		}
		if got != c.want {
			t.Errorf("newAligner(Live %v, Align %s): period %s; want %s (0: none)", c.live, c.align, got, c.want)
		}
	}
}

// TestRunLiveAlignedStopped: cancelled while its second run waits for the
// next minute's phase, Run returns before that instant with the first
// variant's results and a *StoppedError.
func TestRunLiveAlignedStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("a live run of a second against the in-process mock; skipped with -short")
	}
	sc, err := scenario.Parse([]byte(tinyYAML), "tiny.yaml", nil)
	if err != nil {
		t.Fatalf("scenario.Parse(tiny): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var phase time.Duration
	var second time.Time // the earliest the second run could start
	rs, err := Run(ctx, sc, strategies("compresr-recommended", "naive-immediate"), Options{
		Seed: 1, Live: true, Drain: 500 * time.Millisecond,
		Aligned: func(p time.Duration) { phase = p },
		Progress: func(done, total int) {
			if done == 1 {
				second = nextAt(time.Now().Add(AlignMargin), time.Minute, phase)
				time.AfterFunc(200*time.Millisecond, cancel) // during the second run's wait
			}
		},
	})
	returned := time.Now()
	var se *StoppedError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || se.Done != 1 || len(rs) != 1 {
		t.Fatalf("Run(live, cancelled in the second run's wait) = %d results, %v; want the first variant's and a *StoppedError, 1 of 2", len(rs), err)
	}
	if !returned.Before(second) {
		t.Errorf("Run returned at %s; want before the second run's start %s (the wait is cancelled)",
			returned.Format(time.StampMilli), second.Format(time.StampMilli))
	}
}
