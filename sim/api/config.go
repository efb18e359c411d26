package api

import "time"

// Config is the `api:` section of a scenario file (and the file read by
// `loadsim mock --config`). It maps one-to-one to YAML. Every field is
// optional: a partial Config merges with the defaults (see Defaults and
// Config.Resolve): tiers and models merge by name, keys add to the demo keys.
// Pointer fields distinguish "not set" from zero.
type Config struct {
	Envelope          string                 `yaml:"envelope,omitempty" json:"envelope,omitempty"`     // nested (default) | flat
	Quota             string                 `yaml:"quota,omitempty" json:"quota,omitempty"`           // fixed-window (default) | sliding-window | token-bucket
	BodyLimit         ByteSize               `yaml:"body_limit,omitempty" json:"body_limit,omitempty"` // default 10MiB
	Tiers             map[string]TierConfig  `yaml:"tiers,omitempty" json:"tiers,omitempty"`
	Models            map[string]ModelConfig `yaml:"models,omitempty" json:"models,omitempty"`
	Keys              []KeyConfig            `yaml:"keys,omitempty" json:"keys,omitempty"`
	InternalErrorRate *float64               `yaml:"internal_error_rate,omitempty" json:"internal_error_rate,omitempty"` // [0,1], default 0
	Upstream          UpstreamConfig         `yaml:"upstream,omitempty" json:"upstream,omitempty"`
	Circuit           CircuitConfig          `yaml:"circuit,omitempty" json:"circuit,omitempty"`
}

// TierConfig is one tier's limits; -1 means unlimited. Rank orders tiers for
// models' min_tier (built-ins are 1–5); a custom tier needs one.
type TierConfig struct {
	Rank              *int   `yaml:"rank,omitempty" json:"rank,omitempty"`
	RequestsPerMinute *int64 `yaml:"requests_per_minute,omitempty" json:"requests_per_minute,omitempty"`
	TokensPerMinute   *int64 `yaml:"tokens_per_minute,omitempty" json:"tokens_per_minute,omitempty"`
	RequestsPerDay    *int64 `yaml:"requests_per_day,omitempty" json:"requests_per_day,omitempty"`
	TokensPerDay      *int64 `yaml:"tokens_per_day,omitempty" json:"tokens_per_day,omitempty"`
}

// ModelConfig is one compression model.
type ModelConfig struct {
	MinTier string `yaml:"min_tier" json:"min_tier"`
}

// KeyConfig is an API key the model knows besides the demo keys. Name is what
// metrics and reports show (never the key); it defaults to the tier's name
// plus an index.
type KeyConfig struct {
	Key     string     `yaml:"key" json:"-"` // never serialised into results
	Name    string     `yaml:"name,omitempty" json:"name,omitempty"`
	Tier    string     `yaml:"tier" json:"tier"`
	Expires *time.Time `yaml:"expires,omitempty" json:"expires,omitempty"`
	Revoked bool       `yaml:"revoked,omitempty" json:"revoked,omitempty"`
}

// UpstreamConfig models the compression service behind the API.
type UpstreamConfig struct {
	Latency     LatencyConfig    `yaml:"latency,omitempty" json:"latency,omitempty"`
	CapacityRPS *float64         `yaml:"capacity_rps,omitempty" json:"capacity_rps,omitempty"` // 0 = unlimited
	Timeout     *time.Duration   `yaml:"timeout,omitempty" json:"timeout,omitempty"`           // default 2s
	Incidents   []IncidentConfig `yaml:"incidents,omitempty" json:"incidents,omitempty"`
}

// LatencyConfig is a log-normal latency given by its median and 99th
// percentile (default 80ms and 400ms). Median 0 means no latency.
type LatencyConfig struct {
	Median *time.Duration `yaml:"median,omitempty" json:"median,omitempty"`
	P99    *time.Duration `yaml:"p99,omitempty" json:"p99,omitempty"`
}

// IncidentConfig is an upstream incident: from Start (relative to the run or
// mock start) for Duration, calls fail with probability ErrorRate (default 0)
// and take LatencyFactor (default 1) times longer.
type IncidentConfig struct {
	Start         time.Duration `yaml:"start" json:"start"`
	Duration      time.Duration `yaml:"duration" json:"duration"`
	ErrorRate     *float64      `yaml:"error_rate,omitempty" json:"error_rate,omitempty"`
	LatencyFactor *float64      `yaml:"latency_factor,omitempty" json:"latency_factor,omitempty"`
}

// CircuitConfig is the server-side circuit breaker (defaults: window 10s,
// min_requests 20, failure_ratio 0.5, open_for 30s, half_open_probes 5).
type CircuitConfig struct {
	Window         *time.Duration `yaml:"window,omitempty" json:"window,omitempty"`
	MinRequests    *int           `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	FailureRatio   *float64       `yaml:"failure_ratio,omitempty" json:"failure_ratio,omitempty"`
	OpenFor        *time.Duration `yaml:"open_for,omitempty" json:"open_for,omitempty"`
	HalfOpenProbes *int           `yaml:"half_open_probes,omitempty" json:"half_open_probes,omitempty"`
}

// ByteSize is a size in bytes written as an integer or with a unit
// (`10MiB`, `512KiB`, `1MB`, `2048`).
type ByteSize int64
