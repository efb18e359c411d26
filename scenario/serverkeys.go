package scenario

import "github.com/loadsim/loadsim/sim/api"

// ServerKeys returns the API key entries a server run by loadsim (the
// in-process mock or the simulator's model) must add so that the tenants'
// keys work: keys[i] (tenant i's key; a key_env tenant's is whatever the
// caller chose) with tenant i's tier. A key listed twice is added once; a
// key the api section already lists, or a demo key (which keeps its own
// tier), is not added.
func (s *Scenario) ServerKeys(keys []string) []api.KeyConfig {
	seen := map[string]bool{}
	for _, k := range s.API.Keys {
		seen[k.Key] = true
	}
	var out []api.KeyConfig
	for i, t := range s.Tenants {
		k := keys[i]
		if seen[k] || api.IsDemoKey(k) {
			continue
		}
		seen[k] = true
		out = append(out, api.KeyConfig{Key: k, Name: t.Name, Tier: t.Tier})
	}
	return out
}
