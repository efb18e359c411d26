package scenario

import (
	"reflect"
	"time"

	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
)

// Default values applied by Parse and Load (visible in Scenario.Resolved).
const (
	DefaultNetworkRTT = 2 * time.Millisecond   // client.network_rtt
	DefaultTimeout    = 10 * time.Second       // client.timeout, per attempt
	DefaultStrategy   = "compresr-recommended" // client.strategy
	DefaultEndpoint   = "question-specific"    // mix[].endpoint
	DefaultModel      = "latte_v1"             // mix[].model
	DefaultTokens     = 500                    // mix[].tokens: exponential with this mean
	DefaultInputs     = 10                     // mix[].inputs on batch endpoints
	DefaultSpeed      = 1.0                    // trace speed factor
)

// Scenario is a whole scenario file. The zero value is not valid: Parse and
// Load return scenarios with defaults applied and validated; Decode returns
// one exactly as written. A Scenario is not modified by its methods and may
// be read concurrently.
type Scenario struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description,omitempty"`
	Seed        uint64        `yaml:"seed,omitempty"`     // default 0; `--seed` overrides it
	Duration    time.Duration `yaml:"duration,omitempty"` // required, > 0

	// API configures the mock and the model (sim/api); all optional.
	API api.Config `yaml:"api,omitempty"`

	Tenants []Tenant `yaml:"tenants"`

	// Thresholds are k6-style expressions checked on the summary (parsed by
	// the report package, not here).
	Thresholds []string `yaml:"thresholds,omitempty"`

	// Compare lists further strategies for `loadsim compare`.
	Compare []Strategy `yaml:"compare,omitempty"`

	file     string     // file name for messages ("" when parsed from bytes)
	lines    *index     // YAML positions of the decoded document (nil after a copy-by-hand)
	traces   []Trace    // per tenant: its filtered trace when its profile is a trace
	samplers []*Sampler // per tenant: its compiled mix
}

// Tenant is one client of the API: a key of one tier, its traffic, its
// request mix and its retry strategy.
type Tenant struct {
	Name string `yaml:"name"` // unique; shown in reports and metric labels

	// Key is a literal API key, for the in-process mock only; KeyEnv names an
	// environment variable holding the key, for real targets. At least one is
	// required. Keys never appear in results (see Scenario.Resolved).
	Key    string `yaml:"key,omitempty"`
	KeyEnv string `yaml:"key_env,omitempty"`

	Tier    string  `yaml:"tier"` // a tier of the api section (tier1 … tier5 or a custom one)
	Traffic Traffic `yaml:"traffic"`
	Mix     Mix     `yaml:"mix"`
	Client  Client  `yaml:"client,omitempty"`
}

// Traffic is a tenant's arrival process.
type Traffic struct {
	Profile ProfileSpec `yaml:"profile"`
}

// Client is how a tenant's client behaves.
type Client struct {
	// Strategy is the retry strategy: a preset name or a block (default
	// compresr-recommended).
	Strategy Strategy `yaml:"strategy,omitempty"`
	// NetworkRTT is the simulated network round trip added to every attempt
	// by the simulator (default 2ms; live runs measure the real one).
	NetworkRTT *time.Duration `yaml:"network_rtt,omitempty"`
	// Timeout bounds each attempt (default 10s); an attempt that times out is
	// a transport error (status 0).
	Timeout *time.Duration `yaml:"timeout,omitempty"`
}

// RTT returns NetworkRTT or its default.
func (c Client) RTT() time.Duration {
	if c.NetworkRTT == nil {
		return DefaultNetworkRTT
	}
	return *c.NetworkRTT
}

// AttemptTimeout returns Timeout or its default.
func (c Client) AttemptTimeout() time.Duration {
	if c.Timeout == nil {
		return DefaultTimeout
	}
	return *c.Timeout
}

// Strategy is a backoff.Config that also decodes from a bare preset name:
// `strategy: aws-standard` is `strategy: {preset: aws-standard}`. It encodes
// back to the bare name when only Preset is set.
type Strategy struct {
	backoff.Config `yaml:",inline"`
}

// plainStrategy has Strategy's fields without its (un)marshalers.
type plainStrategy backoff.Config

// UnmarshalYAML implements the yaml.v3 obsolete Unmarshaler interface, the
// form whose callback keeps the decoder's strict KnownFields setting.
func (s *Strategy) UnmarshalYAML(unmarshal func(any) error) error {
	var name string
	if err := unmarshal(&name); err == nil {
		s.Config = backoff.Config{Preset: name}
		return nil
	}
	return unmarshal((*plainStrategy)(&s.Config))
}

// MarshalYAML writes a preset-only strategy as its bare name.
func (s Strategy) MarshalYAML() (any, error) {
	if s.onlyPreset() {
		return s.Preset, nil
	}
	return (*plainStrategy)(&s.Config), nil
}

// onlyPreset reports whether no field but Preset is set.
func (s Strategy) onlyPreset() bool {
	c := s.Config
	c.Preset = ""
	return isZeroConfig(c)
}

// isZeroConfig reports whether c has no field set.
func isZeroConfig(c backoff.Config) bool { return reflect.ValueOf(c).IsZero() }

// String returns the preset name, "PRESET+adjusted" for an adjusted preset,
// or the delay type for a block without a preset.
func (s Strategy) String() string {
	switch {
	case s.onlyPreset():
		return s.Preset
	case s.Preset != "":
		return s.Preset + " (adjusted)"
	case s.Type != "":
		return s.Type
	}
	return DefaultStrategy
}

// ProfileSpec is a traffic profile as written: Type selects which of the
// other fields apply. Rates are requests per second; times count from the
// start of the run.
//
//	constant: rate
//	ramp:     from, to, over        (linear from → to over `over`, then holds `to`)
//	step:     steps [{at, rate}]    (rate 0 before the first step)
//	sine:     mean, amplitude, period (0 ≤ amplitude ≤ mean)
//	spike:    base, peak, at, for   (peak during [at, at+for), base otherwise)
//	poisson:  rate                  (exponential gaps, seeded)
//	trace:    file, speed           (CSV of arrival times; speed divides them, default 1)
type ProfileSpec struct {
	Type      string         `yaml:"type"`
	Rate      *float64       `yaml:"rate,omitempty"`
	From      *float64       `yaml:"from,omitempty"`
	To        *float64       `yaml:"to,omitempty"`
	Over      *time.Duration `yaml:"over,omitempty"`
	Steps     []StepSpec     `yaml:"steps,omitempty"`
	Mean      *float64       `yaml:"mean,omitempty"`
	Amplitude *float64       `yaml:"amplitude,omitempty"`
	Period    *time.Duration `yaml:"period,omitempty"`
	Base      *float64       `yaml:"base,omitempty"`
	Peak      *float64       `yaml:"peak,omitempty"`
	At        *time.Duration `yaml:"at,omitempty"`
	For       *time.Duration `yaml:"for,omitempty"`
	File      string         `yaml:"file,omitempty"`
	Speed     *float64       `yaml:"speed,omitempty"`
}

// StepSpec is one step of a step profile: from At on, Rate requests per second.
type StepSpec struct {
	At   time.Duration `yaml:"at"`
	Rate float64       `yaml:"rate"`
}

// Mix is a tenant's request mix: each arrival draws one item with probability
// weight / Σ weights.
type Mix []MixItem

// MixItem is one kind of request in a mix.
type MixItem struct {
	Weight float64 `yaml:"weight"` // > 0, relative

	// Endpoint: question-specific (default), question-specific/batch,
	// question-agnostic, question-agnostic/batch.
	Endpoint string `yaml:"endpoint,omitempty"`
	// Model is compression_model_name (default latte_v1).
	Model string `yaml:"model,omitempty"`
	// Tokens is the size of each input (context+query) in tokens (default
	// exponential with mean 500).
	Tokens *TokenSpec `yaml:"tokens,omitempty"`
	// Inputs is the batch size on batch endpoints (1–100, default 10); not
	// allowed on single endpoints.
	Inputs int `yaml:"inputs,omitempty"`
	// Invalid makes the item a deliberately bad request of that kind (see
	// Invalid for how each is produced).
	Invalid string `yaml:"invalid,omitempty"`
}
