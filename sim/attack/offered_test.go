package attack

import (
	"math"
	"testing"
	"time"

	"github.com/loadsim/loadsim/scenario"
)

// TestOfferedOver: a partial run's offered rate is what the profiles
// planned before arrivals stopped, per second of the span covered. demo's
// web ramps 2 → 8/s over 8 s then stays at 8/s; batch is a constant 3/s.
func TestOfferedOver(t *testing.T) {
	t.Parallel()
	sc := demo(t)
	half, err := scenario.ParseShard("1/2")
	if err != nil {
		t.Fatal(err)
	}
	const s = time.Second
	for _, c := range []struct {
		name            string
		shard           scenario.Shard
		arrivals, span  time.Duration
		total, web, bat float64
	}{
		// The whole 20 s plan: sc.OfferedRPS, the full run's (unchanged) value.
		{"whole run", scenario.Shard{}, 20 * s, 20 * s, 9.8, 6.8, 3},
		// Stopped at 7 s: web planned (2+7.25)/2 per second so far, not 20 s's 6.8.
		{"stopped at 7s", scenario.Shard{}, 7 * s, 7 * s, 7.625, 4.625, 3},
		// Arrivals stopped at 4 s, requests in flight ended at 5 s: 14 + 12 planned over 5 s.
		{"grace after the stop", scenario.Shard{}, 4 * s, 5 * s, 5.2, 2.8, 2.4},
		// Shard 1 of 2 stopped at 4 s: half of each tenant's plan.
		{"shard", half, 4 * s, 4 * s, 3.25, 1.75, 1.5},
		// Stopped before anything was covered: no rate, no division by zero.
		{"nothing covered", scenario.Shard{}, 0, 0, 0, 0, 0},
	} {
		total, per := offeredOver(sc, c.shard, c.arrivals, c.span)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if !near(total, c.total) || !near(per["web"], c.web) || !near(per["batch"], c.bat) || len(per) != 2 {
			t.Errorf("%s: offeredOver(demo, shard %q, %v, %v) = %v, %v; want %v, web %v, batch %v",
				c.name, c.shard, c.arrivals, c.span, total, per, c.total, c.web, c.bat)
		}
	}
}
