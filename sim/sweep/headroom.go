package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/scenario"
)

// HeadroomPrecision is the relative precision of Headroom: it stops when
// the multiplier known to pass and the one known to fail are within 2 %.
const HeadroomPrecision = 0.02

// headroomProbes is the number of multipliers simulated in parallel per
// round of Headroom. It is fixed, not derived from the number of cores, so
// that the probes — and the result — are the same on every machine.
const headroomProbes = 3

// Headroom searches the largest multiplier m of base.Tenant's traffic, from
// 1 to maxScale, such that base with Scale m still passes ok on every seed
// of opts; base at m = 1 must pass (Headroom does not check it). It first
// grows m by factors of 2 (three probes per round: ×2, ×4, ×8) until a
// probe fails or maxScale passes, then narrows the interval between the
// last passing and the first failing probe with three geometrically spaced
// probes per round until they are within HeadroomPrecision, and returns the
// largest passing multiplier. capped reports that maxScale itself passed (m
// is then a lower bound). The probes of a round run in parallel like Run;
// opts.Shard is ignored. If ok is not monotone in m, the result is one
// boundary between passing and failing, not necessarily the largest.
func Headroom(ctx context.Context, sc *scenario.Scenario, base Variant, ok func(*report.Summary) bool, opts Options, maxScale float64) (m float64, capped bool, err error) {
	if base.Tenant == "" {
		return 0, false, errors.New("sweep: headroom needs a tenant whose traffic to scale")
	}
	if !(maxScale >= 1) || math.IsInf(maxScale, 0) || maxScale > scenario.MaxScale {
		return 0, false, fmt.Errorf("sweep: headroom: maximum multiplier %g must be in [1, %g]", maxScale, float64(scenario.MaxScale))
	}
	opts.Shard = scenario.Shard{}
	opts.Series = false
	opts.Progress = nil
	// probe runs the multipliers xs (increasing) and returns the index of the
	// first failing one (len(xs) when all pass).
	probe := func(xs []float64) (int, error) {
		vs := make([]Variant, len(xs))
		for i, x := range xs {
			v := base
			v.Name = "×" + strconv.FormatFloat(x, 'g', -1, 64)
			v.Scale = x
			vs[i] = v
		}
		rs, err := Run(ctx, sc, vs, opts)
		if err != nil {
			return 0, err
		}
		for i, r := range rs {
			for _, s := range r.Sims {
				if !ok(s.Summary) {
					return i, nil
				}
			}
		}
		return len(xs), nil
	}
	lo, hi := 1.0, 0.0
	for hi == 0 {
		if lo >= maxScale {
			return lo, true, nil
		}
		var xs []float64
		for k := 1; k <= headroomProbes; k++ {
			x := math.Min(lo*math.Pow(2, float64(k)), maxScale)
			if len(xs) == 0 || x > xs[len(xs)-1] {
				xs = append(xs, x)
			}
		}
		i, err := probe(xs)
		if err != nil {
			return 0, false, err
		}
		if i > 0 {
			lo = xs[i-1]
		}
		if i < len(xs) {
			hi = xs[i]
		}
	}
	for hi/lo > 1+HeadroomPrecision {
		xs := make([]float64, headroomProbes)
		r := hi / lo
		for k := range xs {
			xs[k] = lo * math.Pow(r, float64(k+1)/(headroomProbes+1))
		}
		i, err := probe(xs)
		if err != nil {
			return 0, false, err
		}
		if i > 0 {
			lo = xs[i-1]
		}
		if i < len(xs) {
			hi = xs[i]
		}
	}
	return lo, false, nil
}
