package scenario

import (
	"reflect"
	"testing"

	"github.com/loadsim/loadsim/sim/api"
)

func TestServerKeys(t *testing.T) {
	t.Parallel()
	sc := &Scenario{
		API:     api.Config{Keys: []api.KeyConfig{{Key: "cmp_listed", Tier: "tier2"}}},
		Tenants: []Tenant{{Name: "a", Tier: "tier1"}, {Name: "b", Tier: "tier3"}, {Name: "c", Tier: "tier4"}, {Name: "d", Tier: "tier5"}},
	}
	tests := []struct {
		name string
		keys []string
		want []api.KeyConfig
	}{
		// every tenant its own key: all added with the tenants' tiers
		{"own", []string{"k1", "k2", "k3", "k4"}, []api.KeyConfig{{Key: "k1", Name: "a", Tier: "tier1"}, {Key: "k2", Name: "b", Tier: "tier3"}, {Key: "k3", Name: "c", Tier: "tier4"}, {Key: "k4", Name: "d", Tier: "tier5"}}},
		// a shared key is added once, under the first tenant
		{"shared", []string{"k1", "k1", "k3", "k3"}, []api.KeyConfig{{Key: "k1", Name: "a", Tier: "tier1"}, {Key: "k3", Name: "c", Tier: "tier4"}}},
		// demo keys and keys the api section lists are not added again
		{"demo-and-listed", []string{"cmp_demo_tier1", "cmp_listed", "cmp_demo_revoked", "k4"}, []api.KeyConfig{{Key: "k4", Name: "d", Tier: "tier5"}}},
	}
	for _, tc := range tests {
		if got := sc.ServerKeys(tc.keys); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ServerKeys(%q) = %+v; want %+v", tc.name, tc.keys, got, tc.want)
		}
	}
}

func TestServerKeysResolve(t *testing.T) {
	t.Parallel()
	// A demo key used as a tenant key must not make the api section invalid.
	sc := &Scenario{Tenants: []Tenant{{Name: "web", Tier: "tier1"}}}
	cfg := sc.API
	cfg.Keys = append(cfg.Keys, sc.ServerKeys([]string{"cmp_demo_tier1"})...)
	if _, err := cfg.Resolve(); err != nil {
		t.Errorf("Resolve with a demo tenant key: %v; want none", err)
	}
	for key, want := range map[string]bool{"cmp_demo_tier3": true, "cmp_demo_expired": true, "cmp_demo_tier9": false, "cmp_demo_": false, "tier1": false, "xcmp_demo_tier1": false} {
		if got := api.IsDemoKey(key); got != want {
			t.Errorf("IsDemoKey(%q) = %v; want %v", key, got, want)
		}
	}
}
