package scenario

import (
	"fmt"
	"math"
	"time"
)

// MaxScale bounds the traffic multiplier ScaleTenant accepts.
const MaxScale = 1e6

// ScaleTenant returns a copy of s in which tenant i offers factor times its
// traffic: every rate of its profile (rate, from, to, steps' rates, mean,
// amplitude, base, peak) is multiplied by factor, and a trace is replayed
// factor times faster (speed × factor, each row's time ÷ factor), so that
// more or fewer of its rows fall within the duration. Profile shapes (ramp
// length, spike window, sine period, step times) do not change, and neither
// do the tenant's mix, strategy or the other tenants. The result must fit
// the validation bounds (a rate ≤ 1e9/s). s is not modified; the copy
// shares s's immutable parts (mixes, trace rows) and may be used
// concurrently with s. factor must be in (0, MaxScale].
func (s *Scenario) ScaleTenant(i int, factor float64) (*Scenario, error) {
	if i < 0 || i >= len(s.Tenants) {
		return nil, fmt.Errorf("scenario: scale tenant %d: the scenario has %d tenants", i, len(s.Tenants))
	}
	if !(factor > 0) || factor > MaxScale || math.IsInf(factor, 0) {
		return nil, fmt.Errorf("scenario: scale tenant %q by %g: the factor must be in (0, %g]", s.Tenants[i].Name, factor, float64(MaxScale))
	}
	c := *s
	c.Tenants = append([]Tenant(nil), s.Tenants...)
	c.traces = append([]Trace(nil), s.traces...)
	spec := scaleSpec(c.Tenants[i].Traffic.Profile, factor)
	c.Tenants[i].Traffic.Profile = spec
	if spec.Type == "trace" && i < len(c.traces) {
		tr := c.traces[i]
		rows := make([]TraceRow, len(tr.rows))
		for k, r := range tr.rows {
			r.At = time.Duration(float64(r.At) / factor)
			rows[k] = r
		}
		c.traces[i] = NewTrace(tr.file, tr.speed*factor, rows)
	}
	if _, ps := spec.build(0, c.traces[i]); len(ps) > 0 {
		return nil, fmt.Errorf("scenario: scale tenant %q by %g: traffic.profile%s: %s", s.Tenants[i].Name, factor, dotted(ps[0].field), ps[0].msg)
	}
	return &c, nil
}

// scaleSpec returns p with its rates multiplied by f (a trace's speed too),
// sharing nothing mutable with p.
func scaleSpec(p ProfileSpec, f float64) ProfileSpec {
	mul := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		x := *v * f
		return &x
	}
	p.Rate, p.From, p.To = mul(p.Rate), mul(p.From), mul(p.To)
	p.Mean, p.Amplitude = mul(p.Mean), mul(p.Amplitude)
	p.Base, p.Peak = mul(p.Base), mul(p.Peak)
	if p.Type == "trace" {
		p.Speed = mul(p.Speed)
	}
	if p.Steps != nil {
		steps := make([]StepSpec, len(p.Steps))
		for k, st := range p.Steps {
			steps[k] = StepSpec{At: st.At, Rate: st.Rate * f}
		}
		p.Steps = steps
	}
	return p
}
