package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{"2048", 2048, ""},               // plain bytes
		{"10MiB", 10 << 20, ""},          // IEC
		{"512KiB", 512 << 10, ""},        // IEC
		{"1MB", 1_000_000, ""},           // SI
		{"1GiB", 1 << 30, ""},            // IEC
		{"3 kb", 3000, ""},               // space, any case
		{"", 0, `size ""`},               // empty
		{"-5", 0, `size "-5"`},           // negative
		{"10XB", 0, `unknown unit "XB"`}, // unknown unit
		{"99999999999TiB", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseByteSize(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	var b ByteSize
	if err := json.Unmarshal([]byte(`"512KiB"`), &b); err != nil || b != 512<<10 {
		t.Errorf(`json.Unmarshal("512KiB") = %v, %v`, b, err)
	}
	if err := json.Unmarshal([]byte(`2048`), &b); err != nil || b != 2048 {
		t.Errorf(`json.Unmarshal(2048) = %v, %v`, b, err)
	}
	if out, _ := json.Marshal(ByteSize(10 << 20)); string(out) != `"10MiB"` {
		t.Errorf("json.Marshal(10MiB) = %s", out)
	}
}

func TestDecodeConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr string // "" = success
		check   func(Config) bool
	}{
		// Empty document: zero Config.
		{"empty", "", "", func(c Config) bool { return c.Envelope == "" && c.Tiers == nil }},
		// Sizes, durations, nested fields.
		{"full", "api:\n  body_limit: 512KiB\n  circuit: {window: 5s, min_requests: 3}\n  upstream:\n    incidents:\n      - {start: 4m, duration: 2m, error_rate: 0.6}\n  keys:\n    - {key: cmp_x, tier: tier2, expires: 2026-01-01T00:00:00Z}\n", "",
			func(c Config) bool {
				return c.BodyLimit == 512<<10 && *c.Circuit.Window == 5*time.Second && *c.Circuit.MinRequests == 3 &&
					c.Upstream.Incidents[0].Start == 4*time.Minute && c.Keys[0].Expires.Year() == 2026
			}},
		// Unknown field → error with its line.
		{"unknown field", "api:\n  envelope: flat\n  quotas: x\n", "line 3", nil},
		// Top level other than api → error.
		{"not api", "tenants: []\n", "line 1", nil},
		// Bad duration → error with line.
		{"bad duration", "api:\n  circuit:\n    window: 10x\n", "line 3", nil},
		// Integer duration is a wrong type.
		{"int duration", "api:\n  upstream:\n    timeout: 5\n", "line 3", nil},
		// Wrong type.
		{"wrong type", "api:\n  circuit: {min_requests: many}\n", "line 2", nil},
		// Bad size names the value and line.
		{"bad size", "api:\n  body_limit: 10 parsecs\n", `line 2: size "10 parsecs"`, nil},
	}
	for _, tt := range tests {
		c, err := DecodeConfig(strings.NewReader(tt.yaml))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: DecodeConfig(%q) error = %v; want one containing %q", tt.name, tt.yaml, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !tt.check(c) {
			t.Errorf("%s: DecodeConfig(%q) = %+v, %v", tt.name, tt.yaml, c, err)
		}
	}
}

func resolveYAML(t testing.TB, y string) (Resolved, error) {
	t.Helper()
	c, err := DecodeConfig(strings.NewReader(y))
	if err != nil {
		t.Fatalf("DecodeConfig(%q): %v", y, err)
	}
	return c.Resolve()
}

func TestResolveDefaults(t *testing.T) {
	t.Parallel()
	r, err := Defaults().Resolve()
	if err != nil {
		t.Fatalf("Defaults().Resolve(): %v", err)
	}
	if r.Envelope != EnvelopeNested || r.Quota != QuotaFixedWindow || r.BodyLimit != 10<<20 || r.InternalErrorRate != 0 {
		t.Errorf("Defaults().Resolve() = %+v", r)
	}
	if got := r.Tiers["tier3"]; got != (Tier{"tier3", 3, 250, 1_000_000, 50_000, -1}) {
		t.Errorf("tier3 = %+v", got)
	}
	if got := strings.Join(r.TierNames(), ","); got != "tier1,tier2,tier3,tier4,tier5" {
		t.Errorf("TierNames() = %s", got)
	}
	if got := r.ModelList(); len(got) != 3 || got[0] != (CompressionModel{"espresso_v1", "tier1"}) || got[2] != (CompressionModel{"latte_v2", "tier2"}) {
		t.Errorf("ModelList() = %v", got)
	}
	kt := r.KeyTiers()
	if len(kt) != 7 || kt[0] != (KeyTier{"demo_tier1", "tier1"}) || kt[6] != (KeyTier{"demo_revoked", "tier1"}) {
		t.Errorf("KeyTiers() = %v", kt)
	}
	if u := r.Upstream; u.Median != 80*time.Millisecond || u.P99 != 400*time.Millisecond || u.Timeout != 2*time.Second || u.CapacityRPS != 0 || len(u.Incidents) != 0 {
		t.Errorf("Upstream = %+v", r.Upstream)
	}
	if r.Circuit != (Circuit{10 * time.Second, 20, 0.5, 30 * time.Second, 5}) {
		t.Errorf("Circuit = %+v", r.Circuit)
	}
}

func TestResolveMerge(t *testing.T) {
	t.Parallel()
	r, err := resolveYAML(t, `api:
  tiers:
    tier1: {requests_per_minute: 6}
    gold: {rank: 7, requests_per_minute: 9}
  models:
    latte_v2: {min_tier: gold}
    mocha: {min_tier: tier3}
  keys:
    - {key: cmp_a, tier: gold}
    - {key: cmp_b, name: team-b, tier: tier1}
  circuit: {min_requests: 5}
`)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got := r.Tiers["tier1"]; got.RequestsPerMinute != 6 || got.TokensPerMinute != 250_000 || got.RequestsPerDay != 5_000 || got.Rank != 1 {
		t.Errorf("tier1 merged field by field = %+v", got)
	}
	if got := r.Tiers["gold"]; got != (Tier{"gold", 7, 9, -1, -1, -1}) {
		t.Errorf("custom tier = %+v; want unset limits unlimited", got)
	}
	if r.Models["latte_v2"].MinTier != "gold" || r.Models["mocha"].MinTier != "tier3" || r.Models["latte_v1"].MinTier != "tier1" {
		t.Errorf("models = %v", r.Models)
	}
	if len(r.Keys) != 9 || r.Keys[7].Name != "gold-1" || r.Keys[8].Name != "team-b" {
		t.Errorf("keys = %v", r.KeyTiers())
	}
	if r.Circuit.MinRequests != 5 || r.Circuit.Window != 10*time.Second {
		t.Errorf("circuit = %+v", r.Circuit)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want string
	}{
		// Failure ratio out of range.
		{"api:\n  circuit: {failure_ratio: 1.5}\n", "api.circuit.failure_ratio: must be in (0, 1], got 1.5"},
		// Unknown tier on a key, with the known list.
		{"api:\n  keys:\n    - {key: a, tier: tier1}\n    - {key: b, tier: tier1}\n    - {key: c, tier: tier9}\n", `api.keys[2].tier: unknown tier "tier9" (known: tier1, tier2, tier3, tier4, tier5)`},
		// Custom tier without rank.
		{"api:\n  tiers:\n    gold: {requests_per_minute: 1}\n", "api.tiers.gold.rank: a custom tier needs a rank"},
		// Limit 0 is neither unlimited nor a budget.
		{"api:\n  tiers:\n    tier2: {tokens_per_day: 0}\n", "api.tiers.tier2.tokens_per_day: must be -1 (unlimited) or ≥ 1, got 0"},
		// Model min_tier unknown.
		{"api:\n  models:\n    m: {min_tier: nope}\n", `api.models.m.min_tier: unknown tier "nope"`},
		// Bad enums.
		{"api:\n  envelope: round\n", `api.envelope: must be nested or flat, got "round"`},
		{"api:\n  quota: leaky\n", `api.quota: must be fixed-window, sliding-window or token-bucket, got "leaky"`},
		// Rates and upstream.
		{"api:\n  internal_error_rate: 2\n", "api.internal_error_rate: must be in [0, 1], got 2"},
		{"api:\n  upstream: {latency: {median: 1s, p99: 10ms}}\n", "api.upstream.latency.p99: must be ≥ median (1s), got 10ms"},
		{"api:\n  upstream: {timeout: 0s}\n", "api.upstream.timeout: must be positive"},
		{"api:\n  upstream:\n    incidents: [{start: 1s, duration: 0s}]\n", "api.upstream.incidents[0].duration: must be positive"},
		{"api:\n  upstream:\n    incidents: [{start: 1s, duration: 1s, error_rate: 1.2}]\n", "api.upstream.incidents[0].error_rate: must be in [0, 1], got 1.2"},
		{"api:\n  circuit: {half_open_probes: 0}\n", "api.circuit.half_open_probes: must be ≥ 1, got 0"},
		{"api:\n  circuit: {min_requests: 0}\n", "api.circuit.min_requests: must be ≥ 1, got 0"},
		// A key equal to a demo key is a duplicate.
		{"api:\n  keys: [{key: cmp_demo_tier1, tier: tier1}]\n", "api.keys[0].key: duplicate key (same as the demo key demo_tier1)"},
		// Duplicate configured names.
		{"api:\n  keys: [{key: a, name: x, tier: tier1}, {key: b, name: x, tier: tier1}]\n", `api.keys[1].name: duplicate name "x" (also api.keys[0])`},
	}
	for _, tt := range tests {
		_, err := resolveYAML(t, tt.yaml)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%q) error = %v; want one containing %q", tt.yaml, err, tt.want)
		}
	}
	// A duplicate key is reported without printing the key.
	_, err := resolveYAML(t, "api:\n  keys: [{key: cmp_secret_1, tier: tier1}, {key: cmp_secret_1, tier: tier2}]\n")
	if err == nil || !strings.Contains(err.Error(), "api.keys[1].key: duplicate key (same as api.keys[0])") || strings.Contains(err.Error(), "cmp_secret_1") {
		t.Errorf("Resolve(duplicate keys) error = %v; want a duplicate-key error without the key", err)
	}
}

func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{"", "api:\n", "api:\n  body_limit: 10MiB\n", "api: {circuit: {window: 1s}}",
		"api:\n  keys: [{key: a, tier: tier1, expires: 2026-01-01T00:00:00Z}]\n", "api:\n  tiers: {x: {rank: 1}}\n",
		"api: [1]", "api:\n  upstream: {incidents: [{start: 1m}]}\n", "&a [*a]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConfig(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if r, err := c.Resolve(); err == nil {
			_ = New(r, time.Unix(0, 0), 1)
		}
	})
}
