package attack

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// stoppablePacer paces as Pacer does, but waits for each hit itself and
// stops as soon as Stop is closed. vegeta's Attacker sleeps out a pacer's
// wait before it looks at Attacker.Stop, and may then still send the hit:
// a stopped run of a slow profile (0.2/s) waited up to one inter-arrival gap
// (5 s) for nothing, counted in duration_seconds, and sent one more request
// per tenant. Pace returns a zero wait once the hit is due, or stop when
// Stop closes first. Not safe for concurrent use: one Attacker's pacing
// loop calls it.
type stoppablePacer struct {
	Pacer vegeta.Pacer
	Stop  <-chan struct{}
	timer *time.Timer // reused across waits; nil until the first
}

var _ vegeta.Pacer = (*stoppablePacer)(nil)

// Pace implements vegeta.Pacer.
func (p *stoppablePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	wait, stop := p.Pacer.Pace(elapsed, hits)
	if stop {
		return 0, true
	}
	if wait > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(wait)
		} else {
			p.timer.Reset(wait)
		}
		select {
		case <-p.timer.C:
		case <-p.Stop:
			p.timer.Stop()
			return 0, true
		}
	}
	select {
	case <-p.Stop:
		return 0, true
	default:
		return 0, false
	}
}

// Rate implements vegeta.Pacer.
func (p *stoppablePacer) Rate(elapsed time.Duration) float64 { return p.Pacer.Rate(elapsed) }
