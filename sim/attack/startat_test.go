package attack

import (
	"context"
	"testing"
	"time"

	"github.com/loadsim/loadsim/report"
)

// TestRunStartAt: a run given a StartAt 300 ms ahead sets up, waits, and
// starts not before it: its Result.Start and its series' start (bucket 0)
// are at or after StartAt, and the run is complete.
func TestRunStartAt(t *testing.T) {
	sc := demo(t)
	at := time.Now().Add(300 * time.Millisecond)
	res, err := Run(context.Background(), sc, Options{Seed: 1, Duration: time.Second, StartAt: at})
	if err != nil {
		t.Fatalf("Run(demo, 1s, StartAt now+300ms): %v", err)
	}
	se, err := res.Recorder.Series()
	if err != nil {
		t.Fatalf("Series(): %v", err)
	}
	if res.Start.Before(at) || se.Start.Before(at.Round(0)) {
		t.Errorf("Run(demo, StartAt %s): Result.Start %s, series start %s; want both at or after StartAt",
			at.Format(time.StampMicro), res.Start.Format(time.StampMicro), se.Start.Format(time.StampMicro))
	}
	if res.Meta.Partial || res.Hits == 0 {
		t.Errorf("Run(demo, StartAt now+300ms): partial %v, %d requests; want a complete run with requests", res.Meta.Partial, res.Hits)
	}
}

// TestRunStartAtCancelled: a wait for StartAt ended by ctx or Stop returns
// before StartAt with an empty partial result (interrupted, duration 0,
// nothing sent) and no error, as Run treats a stop before any arrival; a
// StartAt in the past starts at once.
func TestRunStartAtCancelled(t *testing.T) {
	sc := demo(t)
	for _, c := range []struct {
		name    string
		ahead   time.Duration // StartAt = now + ahead
		cancel  bool          // cancel ctx 100 ms into the wait
		stop    bool          // close Stop 100 ms into the wait
		partial bool          // want an empty partial result
	}{
		// Ctrl-C (ctx) during a 20 s wait.
		{"ctx cancelled", 20 * time.Second, true, false, true},
		// Stop during a 20 s wait.
		{"stop", 20 * time.Second, false, true, true},
		// StartAt a second ago: no wait, a whole run.
		{"past", -time.Second, false, false, false},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		stop := make(chan struct{})
		timer := time.AfterFunc(100*time.Millisecond, func() {
			if c.cancel {
				cancel()
			}
			if c.stop {
				close(stop)
			}
		})
		at := time.Now().Add(c.ahead)
		res, err := Run(ctx, sc, Options{Seed: 1, Duration: 500 * time.Millisecond, StartAt: at, Stop: stop,
			StopGrace: 200 * time.Millisecond})
		timer.Stop()
		cancel()
		if err != nil {
			t.Errorf("%s: Run(demo, StartAt now%+v): %v; want a result and no error", c.name, c.ahead, err)
			continue
		}
		m := res.Meta
		if c.partial {
			if !m.Partial || m.PartialReason != report.PartialInterrupted || m.Duration != 0 || res.Hits != 0 || res.Sent != 0 || m.OfferedRPS != 0 {
				t.Errorf("%s: Run(demo, StartAt now%+v): partial %v reason %q duration %v hits %d sent %d offered %v; want an empty interrupted result",
					c.name, c.ahead, m.Partial, m.PartialReason, m.Duration, res.Hits, res.Sent, m.OfferedRPS)
			}
			if !res.Start.Before(at) {
				t.Errorf("%s: Run(demo, StartAt now%+v) returned at %s; want before StartAt %s (the wait is cancelled)",
					c.name, c.ahead, res.Start.Format(time.StampMilli), at.Format(time.StampMilli))
			}
			if s := res.Recorder.Summary(m); s.Requests.Total != 0 {
				t.Errorf("%s: summary requests %+v; want none", c.name, s.Requests)
			}
			continue
		}
		if m.Partial || res.Hits == 0 {
			t.Errorf("%s: Run(demo, StartAt now%+v): partial %v, %d requests; want a whole run", c.name, c.ahead, m.Partial, res.Hits)
		}
	}
}

// TestWaitUntil covers waitUntil's immediate answers.
func TestWaitUntil(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan struct{})
	close(closed)
	for _, c := range []struct {
		name string
		ctx  context.Context
		at   time.Time
		stop <-chan struct{}
		want bool
	}{
		// The zero StartAt: no wait, even with ctx cancelled.
		{"zero", cancelled, time.Time{}, nil, true},
		// A past instant: no wait.
		{"past", context.Background(), time.Now().Add(-time.Minute), nil, true},
		// A future instant with ctx already cancelled.
		{"cancelled", cancelled, time.Now().Add(time.Hour), nil, false},
		// A future instant with Stop already closed.
		{"stopped", context.Background(), time.Now().Add(time.Hour), closed, false},
		// 20 ms ahead: waits, and gets there.
		{"soon", context.Background(), time.Now().Add(20 * time.Millisecond), nil, true},
	} {
		if got := waitUntil(c.ctx, c.at, c.stop); got != c.want {
			t.Errorf("%s: waitUntil(ctx err %v, %s, stop) = %v; want %v", c.name, c.ctx.Err(), c.at.Format(time.StampMilli), got, c.want)
		}
	}
}
