package api

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Envelope is the JSON shape of error bodies.
type Envelope string

// Envelopes.
const (
	EnvelopeNested Envelope = "nested" // {"success":false,"error":{"code","message"}} (the reference)
	EnvelopeFlat   Envelope = "flat"   // {"success":false,"error":"<message>","code","retry_after"} (the SDKs)
)

// QuotaKind selects the quota algorithm.
type QuotaKind string

// Quota kinds.
const (
	// QuotaFixedWindow counts per UTC-aligned minute and day (the default).
	QuotaFixedWindow QuotaKind = "fixed-window"
	// QuotaSlidingWindow is a sliding counter over the same spans: the
	// estimate is cur + prev×(1 − elapsed/span) over the aligned windows.
	QuotaSlidingWindow QuotaKind = "sliding-window"
	// QuotaTokenBucket is a token bucket per span and kind: capacity = limit,
	// refill = limit/60 per second (minute) or limit/86400 per second (day).
	QuotaTokenBucket QuotaKind = "token-bucket"
)

// builtinTiers are the contract's tiers.
var builtinTiers = [...]Tier{
	{Name: "tier1", Rank: 1, RequestsPerMinute: 60, TokensPerMinute: 250_000, RequestsPerDay: 5_000, TokensPerDay: -1},
	{Name: "tier2", Rank: 2, RequestsPerMinute: 120, TokensPerMinute: 500_000, RequestsPerDay: 10_000, TokensPerDay: -1},
	{Name: "tier3", Rank: 3, RequestsPerMinute: 250, TokensPerMinute: 1_000_000, RequestsPerDay: 50_000, TokensPerDay: -1},
	{Name: "tier4", Rank: 4, RequestsPerMinute: 500, TokensPerMinute: 2_000_000, RequestsPerDay: 100_000, TokensPerDay: -1},
	{Name: "tier5", Rank: 5, RequestsPerMinute: 1_000, TokensPerMinute: 4_000_000, RequestsPerDay: 5_000_000, TokensPerDay: -1},
}

// demoExpiry is when the demo key cmp_demo_expired expired: the first
// second of year 1, so it is expired on any clock.
var demoExpiry = time.Date(1, time.January, 1, 0, 0, 1, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// Defaults returns the built-in configuration: tiers tier1…tier5 (rank 1…5,
// the contract's limits, tokens_per_day unlimited), models latte_v1 (tier1),
// latte_v2 (tier2) and espresso_v1 (tier1), nested envelope, fixed-window
// quota, 10MiB body limit, no injected faults, latency median 80ms / p99
// 400ms, unlimited capacity, 2s upstream timeout, no incidents, and circuit
// {window 10s, min_requests 20, failure_ratio 0.5, open_for 30s,
// half_open_probes 5}. Keys is empty: Resolve adds the demo keys. Each call
// returns fresh maps and pointers.
func Defaults() Config {
	c := Config{
		Envelope:          string(EnvelopeNested),
		Quota:             string(QuotaFixedWindow),
		BodyLimit:         10 << 20,
		Tiers:             make(map[string]TierConfig, len(builtinTiers)),
		Models:            map[string]ModelConfig{"latte_v1": {MinTier: "tier1"}, "latte_v2": {MinTier: "tier2"}, "espresso_v1": {MinTier: "tier1"}},
		InternalErrorRate: ptr(0.0),
		Upstream: UpstreamConfig{
			Latency:     LatencyConfig{Median: ptr(80 * time.Millisecond), P99: ptr(400 * time.Millisecond)},
			CapacityRPS: ptr(0.0),
			Timeout:     ptr(2 * time.Second),
		},
		Circuit: CircuitConfig{Window: ptr(10 * time.Second), MinRequests: ptr(20), FailureRatio: ptr(0.5),
			OpenFor: ptr(30 * time.Second), HalfOpenProbes: ptr(5)},
	}
	for _, t := range builtinTiers {
		c.Tiers[t.Name] = TierConfig{Rank: ptr(t.Rank), RequestsPerMinute: ptr(t.RequestsPerMinute),
			TokensPerMinute: ptr(t.TokensPerMinute), RequestsPerDay: ptr(t.RequestsPerDay), TokensPerDay: ptr(t.TokensPerDay)}
	}
	return c
}

// Resolved is a validated, complete API configuration: every default filled
// in, plain values. Build it with Config.Resolve; a Resolved is read-only
// after that (its maps and slices are shared by copies) and safe for
// concurrent reads.
type Resolved struct {
	Envelope  Envelope  // error body shape
	Quota     QuotaKind // quota algorithm
	BodyLimit ByteSize  // largest accepted request body, bytes (> 0)

	// Tiers by name. Limits are -1 (sim.Unlimited) or ≥ 1.
	Tiers map[string]Tier
	// Models by compression_model_name.
	Models map[string]CompressionModel
	// Keys: the demo keys (cmp_demo_tier1…5, cmp_demo_expired,
	// cmp_demo_revoked) then the configured ones, in order. Key values are
	// secrets: never log them; use Name.
	Keys []Key

	InternalErrorRate float64 // probability in [0, 1] that an admitted request fails with an injected 500
	Upstream          Upstream
	Circuit           Circuit
}

// Tier is one tier's limits; -1 means unlimited. Rank orders tiers for
// models' MinTier (a key may use a model when its tier's rank ≥ the model's
// min tier's rank).
type Tier struct {
	Name              string
	Rank              int
	RequestsPerMinute int64
	TokensPerMinute   int64
	RequestsPerDay    int64
	TokensPerDay      int64
}

// CompressionModel is a compression model and the lowest tier allowed to use it.
type CompressionModel struct {
	Name    string
	MinTier string
}

// Key is an API key. Expires is the instant from which the key is expired
// (zero = never).
type Key struct {
	Key     string `json:"-"` // the secret X-API-Key value; never serialise
	Name    string // metric and report label: configured name, demo_tier1…, or "<tier>-<index>"
	Tier    string
	Expires time.Time
	Revoked bool
}

// Upstream is the modelled compression service.
type Upstream struct {
	Median      time.Duration // log-normal latency median (0 = no latency)
	P99         time.Duration // log-normal latency 99th percentile (≥ Median)
	CapacityRPS float64       // calls per clock-aligned second before overflow (0 = unlimited; a bucket admits ceil(CapacityRPS))
	Timeout     time.Duration // an overflowing or slower call fails after this (> 0)
	Incidents   []Incident
}

// Incident is a window [Start, Start+Duration) relative to the model's start
// in which upstream calls fail with probability ErrorRate and take
// LatencyFactor times longer.
type Incident struct {
	Start, Duration time.Duration
	ErrorRate       float64
	LatencyFactor   float64
}

// Circuit is the server-side circuit breaker's configuration.
type Circuit struct {
	Window         time.Duration // span of completed calls considered (> 0)
	MinRequests    int           // completed calls in the window needed to open (≥ 1)
	FailureRatio   float64       // failure ratio that opens, in (0, 1]
	OpenFor        time.Duration // time open before half-open (> 0)
	HalfOpenProbes int           // calls let through while half-open (≥ 1)
}

// KeyTier is a key's name and tier, as listed by Resolved.KeyTiers.
type KeyTier struct {
	Name, Tier string
}

// KeyTiers lists the keys as (name, tier) in configuration order, never the
// key values.
func (r Resolved) KeyTiers() []KeyTier {
	out := make([]KeyTier, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = KeyTier{Name: k.Name, Tier: k.Tier}
	}
	return out
}

// ModelList lists the compression models with their min_tier, sorted by
// name (the body of GET /api/compress/models).
func (r Resolved) ModelList() []CompressionModel {
	out := make([]CompressionModel, 0, len(r.Models))
	for _, m := range r.Models {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b CompressionModel) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// TierNames lists the tiers by rank, then name.
func (r Resolved) TierNames() []string {
	ts := make([]Tier, 0, len(r.Tiers))
	for _, t := range r.Tiers {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b Tier) int {
		if a.Rank != b.Rank {
			return a.Rank - b.Rank
		}
		return strings.Compare(a.Name, b.Name)
	})
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func pick[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

// Resolve merges c over Defaults() and validates the result. Tiers and
// models merge with the built-ins by name, field by field; a new tier needs
// rank, and its unset limits are unlimited. Keys add to the demo keys. Every
// problem is reported (joined), each naming its field path and the fix, e.g.
// `api.circuit.failure_ratio: must be in (0, 1], got 1.5`. Key values never
// appear in errors.
func (c Config) Resolve() (Resolved, error) {
	d := Defaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	r := Resolved{
		Envelope:          Envelope(pick(nonEmpty(c.Envelope), d.Envelope)),
		Quota:             QuotaKind(pick(nonEmpty(c.Quota), d.Quota)),
		BodyLimit:         d.BodyLimit,
		Tiers:             make(map[string]Tier),
		Models:            make(map[string]CompressionModel),
		InternalErrorRate: pick(c.InternalErrorRate, *d.InternalErrorRate),
	}
	if r.Envelope != EnvelopeNested && r.Envelope != EnvelopeFlat {
		bad("api.envelope: must be nested or flat, got %q", c.Envelope)
	}
	if r.Quota != QuotaFixedWindow && r.Quota != QuotaSlidingWindow && r.Quota != QuotaTokenBucket {
		bad("api.quota: must be fixed-window, sliding-window or token-bucket, got %q", c.Quota)
	}
	switch {
	case c.BodyLimit < 0:
		bad("api.body_limit: must be positive (e.g. 10MiB), got %d", int64(c.BodyLimit))
	case c.BodyLimit > 0:
		r.BodyLimit = c.BodyLimit
	}

	// Tiers: built-ins, then each configured tier over its built-in (if any).
	for name, t := range d.Tiers {
		r.Tiers[name] = Tier{Name: name, Rank: *t.Rank, RequestsPerMinute: *t.RequestsPerMinute,
			TokensPerMinute: *t.TokensPerMinute, RequestsPerDay: *t.RequestsPerDay, TokensPerDay: *t.TokensPerDay}
	}
	for _, name := range sortedKeys(c.Tiers) {
		tc := c.Tiers[name]
		path := "api.tiers." + name
		base, builtin := r.Tiers[name]
		if !builtin {
			base = Tier{Name: name, RequestsPerMinute: -1, TokensPerMinute: -1, RequestsPerDay: -1, TokensPerDay: -1}
			if tc.Rank == nil {
				bad("%s.rank: a custom tier needs a rank (built-in tiers are 1-5; higher ranks may use more models)", path)
			}
		}
		if name == "" {
			bad("api.tiers: a tier needs a non-empty name")
		}
		base.Rank = pick(tc.Rank, base.Rank)
		base.RequestsPerMinute = pick(tc.RequestsPerMinute, base.RequestsPerMinute)
		base.TokensPerMinute = pick(tc.TokensPerMinute, base.TokensPerMinute)
		base.RequestsPerDay = pick(tc.RequestsPerDay, base.RequestsPerDay)
		base.TokensPerDay = pick(tc.TokensPerDay, base.TokensPerDay)
		if tc.Rank != nil && *tc.Rank < 1 {
			bad("%s.rank: must be ≥ 1, got %d", path, *tc.Rank)
		}
		for _, f := range [...]struct {
			field string
			v     int64
		}{{"requests_per_minute", base.RequestsPerMinute}, {"tokens_per_minute", base.TokensPerMinute},
			{"requests_per_day", base.RequestsPerDay}, {"tokens_per_day", base.TokensPerDay}} {
			if f.v < 1 && f.v != -1 {
				bad("%s.%s: must be -1 (unlimited) or ≥ 1, got %d", path, f.field, f.v)
			}
		}
		r.Tiers[name] = base
	}
	known := strings.Join(r.TierNames(), ", ")

	// Models.
	for name, m := range d.Models {
		r.Models[name] = CompressionModel{Name: name, MinTier: m.MinTier}
	}
	for _, name := range sortedKeys(c.Models) {
		m := c.Models[name]
		if name == "" {
			bad("api.models: a model needs a non-empty name")
		}
		base := r.Models[name]
		base.Name = name
		if m.MinTier != "" {
			base.MinTier = m.MinTier
		}
		switch {
		case base.MinTier == "":
			bad("api.models.%s.min_tier: required (known tiers: %s)", name, known)
		case !hasTier(r.Tiers, base.MinTier):
			bad("api.models.%s.min_tier: unknown tier %q (known: %s)", name, base.MinTier, known)
		}
		r.Models[name] = base
	}

	// Keys: demo keys, then the configured ones.
	owner := map[string]string{} // key → where it was defined
	names := map[string]string{} // name → where it was defined
	for i := 1; i <= 5; i++ {
		tier := "tier" + strconv.Itoa(i)
		r.Keys = append(r.Keys, Key{Key: "cmp_demo_" + tier, Name: "demo_" + tier, Tier: tier})
	}
	r.Keys = append(r.Keys,
		Key{Key: "cmp_demo_expired", Name: "demo_expired", Tier: "tier1", Expires: demoExpiry},
		Key{Key: "cmp_demo_revoked", Name: "demo_revoked", Tier: "tier1", Revoked: true})
	for _, k := range r.Keys {
		owner[k.Key] = "the demo key " + k.Name
		names[k.Name] = "the demo key " + k.Name
	}
	for i, kc := range c.Keys {
		path := fmt.Sprintf("api.keys[%d]", i)
		k := Key{Key: kc.Key, Name: kc.Name, Tier: kc.Tier, Revoked: kc.Revoked}
		if kc.Expires != nil {
			k.Expires = *kc.Expires
			if k.Expires.IsZero() {
				k.Expires = demoExpiry
			}
		}
		if k.Name == "" {
			k.Name = fmt.Sprintf("%s-%d", k.Tier, i+1)
		}
		switch {
		case kc.Key == "":
			bad("%s.key: required (the X-API-Key value)", path)
		case owner[kc.Key] != "":
			bad("%s.key: duplicate key (same as %s); every key must be unique", path, owner[kc.Key])
		default:
			owner[kc.Key] = path
		}
		switch {
		case kc.Tier == "":
			bad("%s.tier: required (known: %s)", path, known)
		case !hasTier(r.Tiers, kc.Tier):
			bad("%s.tier: unknown tier %q (known: %s)", path, kc.Tier, known)
		}
		if prev := names[k.Name]; prev != "" {
			bad("%s.name: duplicate name %q (also %s); names label metrics, make them unique", path, k.Name, prev)
		} else {
			names[k.Name] = path
		}
		r.Keys = append(r.Keys, k)
	}

	if x := r.InternalErrorRate; !(x >= 0 && x <= 1) {
		bad("api.internal_error_rate: must be in [0, 1], got %v", x)
	}

	// Upstream.
	u, du := c.Upstream, d.Upstream
	r.Upstream = Upstream{
		Median:      pick(u.Latency.Median, *du.Latency.Median),
		P99:         pick(u.Latency.P99, *du.Latency.P99),
		CapacityRPS: pick(u.CapacityRPS, *du.CapacityRPS),
		Timeout:     pick(u.Timeout, *du.Timeout),
	}
	if r.Upstream.Median < 0 {
		bad("api.upstream.latency.median: must be ≥ 0, got %s", r.Upstream.Median)
	}
	if r.Upstream.Median > 0 && r.Upstream.P99 < r.Upstream.Median {
		bad("api.upstream.latency.p99: must be ≥ median (%s), got %s", r.Upstream.Median, r.Upstream.P99)
	}
	if x := r.Upstream.CapacityRPS; !(x >= 0) || math.IsInf(x, 0) {
		bad("api.upstream.capacity_rps: must be ≥ 0 (0 = unlimited), got %v", x)
	}
	if r.Upstream.Timeout <= 0 {
		bad("api.upstream.timeout: must be positive (e.g. 2s), got %s", r.Upstream.Timeout)
	}
	for i, ic := range u.Incidents {
		path := fmt.Sprintf("api.upstream.incidents[%d]", i)
		in := Incident{Start: ic.Start, Duration: ic.Duration, ErrorRate: pick(ic.ErrorRate, 0), LatencyFactor: pick(ic.LatencyFactor, 1)}
		if in.Start < 0 {
			bad("%s.start: must be ≥ 0 (time since the run start), got %s", path, in.Start)
		}
		if in.Duration <= 0 {
			bad("%s.duration: must be positive (e.g. 2m), got %s", path, in.Duration)
		}
		if !(in.ErrorRate >= 0 && in.ErrorRate <= 1) {
			bad("%s.error_rate: must be in [0, 1], got %v", path, in.ErrorRate)
		}
		if !(in.LatencyFactor > 0) || math.IsInf(in.LatencyFactor, 0) {
			bad("%s.latency_factor: must be positive (1 = unchanged), got %v", path, in.LatencyFactor)
		}
		r.Upstream.Incidents = append(r.Upstream.Incidents, in)
	}

	// Circuit.
	cc, dc := c.Circuit, d.Circuit
	r.Circuit = Circuit{
		Window:         pick(cc.Window, *dc.Window),
		MinRequests:    pick(cc.MinRequests, *dc.MinRequests),
		FailureRatio:   pick(cc.FailureRatio, *dc.FailureRatio),
		OpenFor:        pick(cc.OpenFor, *dc.OpenFor),
		HalfOpenProbes: pick(cc.HalfOpenProbes, *dc.HalfOpenProbes),
	}
	if r.Circuit.Window <= 0 {
		bad("api.circuit.window: must be positive (e.g. 10s), got %s", r.Circuit.Window)
	}
	if r.Circuit.MinRequests < 1 {
		bad("api.circuit.min_requests: must be ≥ 1, got %d", r.Circuit.MinRequests)
	}
	if x := r.Circuit.FailureRatio; !(x > 0 && x <= 1) {
		bad("api.circuit.failure_ratio: must be in (0, 1], got %v", x)
	}
	if r.Circuit.OpenFor <= 0 {
		bad("api.circuit.open_for: must be positive (e.g. 30s), got %s", r.Circuit.OpenFor)
	}
	if r.Circuit.HalfOpenProbes < 1 {
		bad("api.circuit.half_open_probes: must be ≥ 1, got %d", r.Circuit.HalfOpenProbes)
	}

	if len(errs) > 0 {
		return Resolved{}, errors.Join(errs...)
	}
	return r, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func hasTier(tiers map[string]Tier, name string) bool {
	_, ok := tiers[name]
	return ok
}
