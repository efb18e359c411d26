package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/backoff"
)

// Variant is one change to a base scenario: the strategy of every tenant (or
// of one), the tier of one tenant, a multiplier of one tenant's traffic, or
// several of these at once. The zero value (apart from Name) is the base
// scenario unchanged.
type Variant struct {
	// Name identifies the variant in results (a strategy's or tier's name);
	// names within one sweep must be unique.
	Name string
	// Tenant names the tenant the change applies to. Tier and Scale need
	// it; for Strategy, "" means every tenant.
	Tenant string
	// Strategy, when not nil, replaces the retry strategy (client.strategy)
	// of Tenant, or of every tenant when Tenant is "".
	Strategy *scenario.Strategy
	// Tier, when not "", moves Tenant's key to this tier of the scenario's
	// api section (every tenant sharing that key, and the key's api.keys
	// entry if any, move with it, since a key has one tier).
	Tier string
	// Scale, when not 0 or 1, multiplies Tenant's traffic (see
	// scenario.Scenario.ScaleTenant).
	Scale float64
}

// Apply returns a copy of sc with v's changes; sc is not modified and the
// copy shares sc's immutable parts. Errors name the unknown tenant or tier,
// or the strategy field that does not resolve.
func (v Variant) Apply(sc *scenario.Scenario) (*scenario.Scenario, error) {
	ti := -1
	if v.Tenant != "" {
		for i, t := range sc.Tenants {
			if t.Name == v.Tenant {
				ti = i
			}
		}
		if ti < 0 {
			return nil, fmt.Errorf("variant %q: unknown tenant %q (tenants: %s)", v.Name, v.Tenant, strings.Join(sc.TenantNames(), ", "))
		}
	} else if v.Tier != "" || (v.Scale != 0 && v.Scale != 1) {
		return nil, fmt.Errorf("variant %q: a tier or traffic change needs a tenant: set Tenant (--tenant)", v.Name)
	}
	out := sc
	if v.Scale != 0 && v.Scale != 1 {
		scaled, err := sc.ScaleTenant(ti, v.Scale)
		if err != nil {
			return nil, fmt.Errorf("variant %q: %w", v.Name, err)
		}
		out = scaled
	}
	if v.Strategy == nil && v.Tier == "" {
		return out, nil
	}
	c := *out
	c.Tenants = append([]scenario.Tenant(nil), out.Tenants...)
	if v.Strategy != nil {
		if _, err := v.Strategy.Resolve(); err != nil {
			return nil, fmt.Errorf("variant %q: strategy: %w", v.Name, err)
		}
		for i := range c.Tenants {
			if ti < 0 || i == ti {
				c.Tenants[i].Client.Strategy = *v.Strategy
			}
		}
	}
	if v.Tier != "" {
		res, err := sc.API.Resolve()
		if err != nil {
			return nil, fmt.Errorf("variant %q: scenario api section: %w", v.Name, err)
		}
		if _, ok := res.Tiers[v.Tier]; !ok {
			return nil, fmt.Errorf("variant %q: unknown tier %q (tiers: %s)", v.Name, v.Tier, strings.Join(res.TierNames(), ", "))
		}
		key := c.Tenants[ti].Key
		for i := range c.Tenants {
			if i == ti || (key != "" && c.Tenants[i].Key == key) {
				c.Tenants[i].Tier = v.Tier
			}
		}
		if key != "" { // the key may also be listed under api.keys
			c.API.Keys = slices.Clone(c.API.Keys)
			for i := range c.API.Keys {
				if c.API.Keys[i].Key == key {
					c.API.Keys[i].Tier = v.Tier
				}
			}
		}
	}
	return &c, nil
}

// ParseStrategy returns the strategy named by arg and its display name: a
// preset of sim/backoff (its name), or else a strategy file holding one
// client.strategy block (the file's base name without extension); see
// scenario.LoadStrategy for the forms a file takes. Errors match
// scenario.ErrInvalid and join one problem per line, each naming the file,
// line and field and the fix (the presets, the closest field or value).
func ParseStrategy(arg string) (scenario.Strategy, string, error) {
	s, err := scenario.LoadStrategy(arg)
	if err != nil {
		return scenario.Strategy{}, "", err
	}
	if _, ok := backoff.Preset(arg); ok {
		return s, arg, nil
	}
	return s, strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg)), nil
}
