package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/loadsim/loadsim/sim/api"
)

// InvalidAPIKey is the key sent by `invalid: invalid_api_key` items: a
// well-formed key that no tenant and no demo key uses.
const InvalidAPIKey = "cmp_loadsim_not_a_key"

// Invalid is the kind of deliberately bad request a mix item sends, or Valid.
// Each kind is produced the same way by both engines, so that the API answers
// it with Code():
//
//	invalid_request   the body's target_compression_ratio is a JSON string  → 400 invalid_request
//	                  (the simulator sets api.Request.Problem = api.InvalidRequest)
//	validation_error  the body omits compression_model_name (Request.Model is "") → 422
//	missing_api_key   no X-API-Key header                                   → 401
//	invalid_api_key   X-API-Key is InvalidAPIKey                            → 401
//	forbidden         Request.Model is a model whose min_tier ranks above
//	                  the tenant's tier (chosen by Parse unless given)       → 403
type Invalid uint8

// Invalid kinds.
const (
	Valid             Invalid = iota // a well-formed request
	InvalidRequest                   // invalid_request
	InvalidValidation                // validation_error
	InvalidMissingKey                // missing_api_key
	InvalidKey                       // invalid_api_key
	InvalidForbidden                 // forbidden
	numInvalid
)

var invalidNames = [...]string{"", "invalid_request", "validation_error", "missing_api_key", "invalid_api_key", "forbidden"}

var invalidCodes = [...]api.Code{api.OK, api.InvalidRequest, api.ValidationError, api.MissingAPIKey, api.InvalidAPIKey, api.Forbidden}

// String returns the kind as written in a scenario ("" for Valid).
func (k Invalid) String() string {
	if k < numInvalid {
		return invalidNames[k]
	}
	return "unknown"
}

// Code returns the error code the API answers a request of this kind with
// (api.OK for Valid).
func (k Invalid) Code() api.Code {
	if k < numInvalid {
		return invalidCodes[k]
	}
	return api.InternalError
}

// ParseInvalid returns the kind named s ("" is Valid).
func ParseInvalid(s string) (Invalid, bool) {
	for k, n := range invalidNames {
		if n == s {
			return Invalid(k), true
		}
	}
	return Valid, false
}

var endpointNames = map[string]api.Route{
	"question-specific":       api.RouteQuestionSpecific,
	"question-specific/batch": api.RouteQuestionSpecificBatch,
	"question-agnostic":       api.RouteQuestionAgnostic,
	"question-agnostic/batch": api.RouteQuestionAgnosticBatch,
}

// ParseEndpoint returns the compression route of an endpoint name as written
// in scenarios and trace files ("question-specific", "question-agnostic/batch", …).
func ParseEndpoint(s string) (api.Route, bool) {
	r, ok := endpointNames[s]
	return r, ok
}

// EndpointName is the inverse of ParseEndpoint ("" for other routes).
func EndpointName(r api.Route) string {
	for n, x := range endpointNames {
		if x == r {
			return n
		}
	}
	return ""
}

// Request is one drawn request, before any body or key is attached: the live
// targeter renders a JSON body from it, the simulator builds an api.Request
// from it. It holds no pointers beyond the model name, which is shared.
type Request struct {
	Endpoint api.Route // one of the four compression routes
	Model    string    // compression_model_name; "" means omit it
	Tokens   int64     // tokens of each input (context + query), ≥ 1
	Items    int       // batch inputs; 0 for single-request endpoints
	Invalid  Invalid   // Valid or the kind of bad request to send
	Item     int       // index of the mix item it was drawn from
}

// TotalTokens returns the request's input tokens: Tokens × Items for a batch.
func (r Request) TotalTokens() int64 {
	if r.Items > 0 {
		return r.Tokens * int64(r.Items)
	}
	return r.Tokens
}

// TokenSpec is a token-size distribution. In YAML a bare number is a
// constant (`tokens: 300`); a block gives a distribution:
//
//	{dist: constant, mean: N}
//	{dist: uniform, min: A, max: B}             integers in [A, B]
//	{dist: exponential, mean: M[, min][, max]}  the default when dist is absent and mean is set
//	{dist: lognormal, mean: M[, sigma: S (default 1)][, min][, max]}
//
// dist absent with only min and max is uniform. Draws are rounded up to whole
// tokens and clamped to [min (default 1), max (default unbounded)], which
// lowers the mean of a clamped exponential or lognormal slightly.
type TokenSpec struct {
	Dist  string   `yaml:"dist,omitempty"`
	Mean  *float64 `yaml:"mean,omitempty"`
	Min   *int64   `yaml:"min,omitempty"`
	Max   *int64   `yaml:"max,omitempty"`
	Sigma *float64 `yaml:"sigma,omitempty"`
}

// plainTokenSpec has TokenSpec's fields without its (un)marshalers.
type plainTokenSpec TokenSpec

// UnmarshalYAML decodes a bare integer as a constant and a mapping as a
// block (yaml.v3 obsolete Unmarshaler form, which keeps strict decoding).
func (t *TokenSpec) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err == nil {
		if _, isMap := raw.(map[string]any); isMap {
			return unmarshal((*plainTokenSpec)(t))
		}
	}
	var n int64
	if err := unmarshal(&n); err != nil {
		return err
	}
	mean := float64(n)
	*t = TokenSpec{Dist: "constant", Mean: &mean}
	return nil
}

// MarshalYAML writes a plain constant back as a bare number.
func (t TokenSpec) MarshalYAML() (any, error) {
	if t.Dist == "constant" && t.Mean != nil && t.Min == nil && t.Max == nil && t.Sigma == nil &&
		*t.Mean == math.Trunc(*t.Mean) {
		return int64(*t.Mean), nil
	}
	return plainTokenSpec(t), nil
}

// resolvedDist returns the distribution's name with the default applied.
func (t TokenSpec) resolvedDist() string {
	switch {
	case t.Dist != "":
		return t.Dist
	case t.Mean == nil && t.Min != nil && t.Max != nil:
		return "uniform"
	}
	return "exponential"
}

// String describes the distribution ("exp(mean 800, max 4000)").
func (t TokenSpec) String() string {
	d := t.resolvedDist()
	s := d
	switch d {
	case "constant":
		if t.Mean != nil {
			return fmt.Sprintf("%g", *t.Mean)
		}
	case "uniform":
		if t.Min != nil && t.Max != nil {
			return fmt.Sprintf("uniform[%d,%d]", *t.Min, *t.Max)
		}
	}
	if t.Mean != nil {
		s += fmt.Sprintf("(mean %g", *t.Mean)
		if t.Sigma != nil {
			s += fmt.Sprintf(", sigma %g", *t.Sigma)
		}
		if t.Min != nil {
			s += fmt.Sprintf(", min %d", *t.Min)
		}
		if t.Max != nil {
			s += fmt.Sprintf(", max %d", *t.Max)
		}
		s += ")"
	}
	return s
}

type distKind uint8

const (
	distConstant distKind = iota
	distUniform
	distExponential
	distLognormal
)

// tokenDist is a compiled TokenSpec.
type tokenDist struct {
	kind     distKind
	mean     float64 // constant value, exponential mean
	mu, sig  float64 // lognormal parameters of the underlying normal
	min, max int64   // clamp; max 0 = unbounded
}

// compile checks t and returns its sampler; problems are (field, message)
// pairs relative to the tokens field.
func (t TokenSpec) compile() (tokenDist, []problem) {
	var ps []problem
	add := func(f, m string, a ...any) { ps = append(ps, problem{f, fmt.Sprintf(m, a...)}) }
	d := tokenDist{min: 1}
	if t.Min != nil {
		if *t.Min < 1 {
			add("min", "must be ≥ 1 (got %d)", *t.Min)
		}
		d.min = *t.Min
	}
	if t.Max != nil {
		if *t.Max < d.min {
			add("max", "must be ≥ min (%d) (got %d)", d.min, *t.Max)
		}
		d.max = *t.Max
	}
	needMean := func() bool {
		if t.Mean == nil {
			add("mean", "required for dist %s (e.g. mean: 500)", t.resolvedDist())
			return false
		}
		if !(*t.Mean > 0) || math.IsInf(*t.Mean, 0) {
			add("mean", "must be > 0 (got %g)", *t.Mean)
			return false
		}
		return true
	}
	if t.Sigma != nil && t.resolvedDist() != "lognormal" {
		add("sigma", "applies to dist lognormal only")
	}
	switch t.resolvedDist() {
	case "constant":
		d.kind = distConstant
		if t.Min != nil || t.Max != nil {
			add("dist", "constant takes only mean; remove min/max or use another dist")
		}
		if needMean() {
			d.mean = math.Ceil(*t.Mean)
		}
	case "uniform":
		d.kind = distUniform
		if t.Mean != nil {
			add("mean", "does not apply to dist uniform; give min and max")
		}
		if t.Min == nil || t.Max == nil {
			add("dist", "uniform needs min and max (e.g. {dist: uniform, min: 100, max: 900})")
		}
	case "exponential":
		d.kind = distExponential
		if needMean() {
			d.mean = *t.Mean
		}
	case "lognormal":
		d.kind = distLognormal
		d.sig = 1
		if t.Sigma != nil {
			if !(*t.Sigma > 0) || *t.Sigma > 10 {
				add("sigma", "must be in (0, 10] (got %g)", *t.Sigma)
			}
			d.sig = *t.Sigma
		}
		if needMean() {
			d.mu = math.Log(*t.Mean) - d.sig*d.sig/2
		}
	default:
		add("dist", "unknown distribution %q; use constant, uniform, exponential or lognormal", t.Dist)
	}
	return d, ps
}

// draw returns one token count. It does not allocate.
func (d *tokenDist) draw(rng *rand.Rand) int64 {
	var x float64
	switch d.kind {
	case distConstant:
		return int64(d.mean)
	case distUniform:
		return d.min + rng.Int64N(d.max-d.min+1)
	case distExponential:
		x = d.mean * rng.ExpFloat64()
	case distLognormal:
		x = math.Exp(d.mu + d.sig*rng.NormFloat64())
	}
	n := int64(math.MaxInt64 / 2)
	if x < float64(n) {
		n = int64(math.Ceil(x))
	}
	if n < d.min {
		n = d.min
	}
	if d.max > 0 && n > d.max {
		n = d.max
	}
	return n
}

// mean returns the distribution's mean before clamping (for plans).
func (d *tokenDist) meanTokens() float64 {
	switch d.kind {
	case distUniform:
		return float64(d.min+d.max) / 2
	case distLognormal:
		return math.Exp(d.mu + d.sig*d.sig/2)
	}
	return d.mean
}

// problem is one validation problem relative to some field.
type problem struct {
	field string // path relative to the value being checked; "" for the value itself
	msg   string
}

// Sampler draws requests from a mix. It is immutable once built and safe for
// concurrent use; each caller passes its own *rand.Rand.
type Sampler struct {
	cum   []float64 // cumulative weights, cum[len-1] = total
	items []sampleItem
}

type sampleItem struct {
	req Request // everything but Tokens
	tok tokenDist
}

// Sampler compiles the mix (with defaults applied to unset fields; a
// forbidden item must name its model, as Parse does). The error names the
// first problem.
func (m Mix) Sampler() (*Sampler, error) {
	s, ps := m.compile()
	if len(ps) > 0 {
		return nil, fmt.Errorf("mix%s: %s", ps[0].field, ps[0].msg)
	}
	return s, nil
}

// compile builds the sampler and lists every problem (fields relative to the
// mix: "[2].weight").
func (m Mix) compile() (*Sampler, []problem) {
	var ps []problem
	if len(m) == 0 {
		return nil, []problem{{"", "needs at least one item (e.g. - {weight: 1, endpoint: question-specific, tokens: 500})"}}
	}
	s := &Sampler{cum: make([]float64, len(m)), items: make([]sampleItem, len(m))}
	total := 0.0
	for i, it := range m {
		si, ips := it.compile(i)
		for _, p := range ips {
			ps = append(ps, problem{fmt.Sprintf("[%d]%s", i, dotted(p.field)), p.msg})
		}
		if it.Weight > 0 && !math.IsInf(it.Weight, 0) {
			total += it.Weight
		}
		s.cum[i] = total
		s.items[i] = si
	}
	return s, ps
}

// dotted prefixes a non-empty field with a dot.
func dotted(f string) string {
	if f == "" || f[0] == '[' {
		return f
	}
	return "." + f
}

// compile checks one item.
func (it MixItem) compile(index int) (sampleItem, []problem) {
	var ps []problem
	add := func(f, m string, a ...any) { ps = append(ps, problem{f, fmt.Sprintf(m, a...)}) }
	if !(it.Weight > 0) || math.IsInf(it.Weight, 0) {
		add("weight", "must be > 0 (got %g)", it.Weight)
	}
	si := sampleItem{req: Request{Item: index}}
	ep := it.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	route, ok := ParseEndpoint(ep)
	if !ok {
		add("endpoint", "unknown endpoint %q; use question-specific, question-specific/batch, question-agnostic or question-agnostic/batch", ep)
	}
	si.req.Endpoint = route
	switch {
	case route.Batch():
		si.req.Items = DefaultInputs
		if it.Inputs != 0 {
			if it.Inputs < 1 || it.Inputs > 100 {
				add("inputs", "must be in 1..100 (got %d)", it.Inputs)
			}
			si.req.Items = it.Inputs
		}
	case it.Inputs != 0 && ok:
		add("inputs", "applies to batch endpoints only; use endpoint: %s/batch or remove inputs", ep)
	}
	si.req.Model = it.Model
	if si.req.Model == "" {
		si.req.Model = DefaultModel
	}
	kind, ok := ParseInvalid(it.Invalid)
	if !ok {
		add("invalid", "unknown kind %q; use invalid_request, validation_error, missing_api_key, invalid_api_key or forbidden", it.Invalid)
	}
	si.req.Invalid = kind
	if kind == InvalidValidation {
		si.req.Model = ""
	}
	tok := TokenSpec{}
	if it.Tokens != nil {
		tok = *it.Tokens
	} else {
		mean := float64(DefaultTokens)
		tok.Mean = &mean
	}
	d, tps := tok.compile()
	for _, p := range tps {
		ps = append(ps, problem{"tokens" + dotted(p.field), p.msg})
	}
	si.tok = d
	return si, ps
}

// Len returns the number of items.
func (s *Sampler) Len() int { return len(s.items) }

// Share returns item i's probability.
func (s *Sampler) Share(i int) float64 {
	prev := 0.0
	if i > 0 {
		prev = s.cum[i-1]
	}
	return (s.cum[i] - prev) / s.cum[len(s.cum)-1]
}

// MeanTokens returns the expected input tokens of one request (all items
// of a batch), before clamping.
func (s *Sampler) MeanTokens() float64 {
	m := 0.0
	for i := range s.items {
		it := &s.items[i]
		n := 1.0
		if it.req.Items > 0 {
			n = float64(it.req.Items)
		}
		m += s.Share(i) * n * it.tok.meanTokens()
	}
	return m
}

// Draw returns one request: an item chosen by weight, its token count drawn
// from the item's distribution. It does not allocate.
func (s *Sampler) Draw(rng *rand.Rand) Request {
	i := 0
	if n := len(s.cum); n > 1 {
		u := rng.Float64() * s.cum[n-1]
		lo, hi := 0, n-1
		for lo < hi { // first i with cum[i] > u
			mid := int(uint(lo+hi) >> 1)
			if s.cum[mid] > u {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		i = lo
	}
	it := &s.items[i]
	r := it.req
	r.Tokens = it.tok.draw(rng)
	return r
}
