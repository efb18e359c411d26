package attack

import (
	"testing"
	"time"
)

// fixedPacer returns the same wait and stop on every call.
type fixedPacer struct {
	wait time.Duration
	stop bool
}

func (p fixedPacer) Pace(time.Duration, uint64) (time.Duration, bool) { return p.wait, p.stop }
func (p fixedPacer) Rate(time.Duration) float64                       { return 2 }

// TestStoppablePacer: the hit is due after the inner pacer's wait, and a
// closed Stop ends the pacing at once, even in the middle of a long wait
// (an hour: without the stop the test would time out).
func TestStoppablePacer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		inner    fixedPacer
		stopped  bool // Stop closed before Pace
		wantStop bool
	}{
		// A hit due now.
		{"due", fixedPacer{0, false}, false, false},
		// A hit due in a millisecond: waited for, then due.
		{"short wait", fixedPacer{time.Millisecond, false}, false, false},
		// The inner pacer is done.
		{"inner stops", fixedPacer{0, true}, false, true},
		// Stopped during an hour's wait.
		{"stopped in a long wait", fixedPacer{time.Hour, false}, true, true},
		// Stopped with a hit due: not sent.
		{"stopped when due", fixedPacer{0, false}, true, true},
	} {
		stop := make(chan struct{})
		if c.stopped {
			close(stop)
		}
		p := &stoppablePacer{Pacer: c.inner, Stop: stop}
		for call := range 2 { // the second call reuses the timer
			wait, gotStop := p.Pace(0, uint64(call))
			if wait != 0 || gotStop != c.wantStop {
				t.Errorf("%s: Pace (call %d) over %+v, stop closed %v = %v, %v; want 0, %v", c.name, call, c.inner, c.stopped, wait, gotStop, c.wantStop)
			}
		}
		if r := p.Rate(0); r != 2 {
			t.Errorf("%s: Rate(0) = %v; want the inner pacer's 2", c.name, r)
		}
	}
}
