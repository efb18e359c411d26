package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/loadsim/loadsim/internal/suggest"
	"github.com/loadsim/loadsim/sim/api"
)

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envVarRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Parse decodes data strictly (see Decode), applies the defaults, validates
// everything and reads the trace files that profiles name from fsys
// (relative paths; nil fsys: trace profiles are an error). file names the
// scenario in messages. The error joins one *FieldError per problem.
func Parse(data []byte, file string, fsys fs.FS) (*Scenario, error) {
	s, err := Decode(data)
	if err != nil {
		return nil, withFile(err, file)
	}
	s.file = file
	if fes := s.resolve(fsys); len(fes) > 0 {
		return nil, joinErrors(file, fes)
	}
	return s, nil
}

// withFile sets the file of every FieldError in a joined error.
func withFile(err error, file string) error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			var fe *FieldError
			if errors.As(e, &fe) {
				fe.File = file
			}
		}
	}
	return err
}

// checker collects problems with their lines.
type checker struct {
	s   *Scenario
	fes []*FieldError
}

func (c *checker) add(path, format string, args ...any) {
	c.fes = append(c.fes, &FieldError{Line: c.s.lines.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// addJoined adds each error of a joined error; messages that start with a
// path under prefix ("api.circuit.window: …") keep it.
func (c *checker) addJoined(prefix string, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		msg := e.Error()
		if p, rest, ok := strings.Cut(msg, ": "); ok && (p == prefix || strings.HasPrefix(p, prefix+".") || strings.HasPrefix(p, prefix+"[")) {
			c.add(p, "%s", rest)
			continue
		}
		c.add(prefix, "%s", msg)
	}
}

// catalog is what the api section says about tiers and models.
type catalog struct {
	tierRank map[string]int
	modelMin map[string]string
}

// newCatalog reads tiers and models from a resolved api section.
func newCatalog(r api.Resolved) catalog {
	c := catalog{tierRank: map[string]int{}, modelMin: map[string]string{}}
	for name, t := range r.Tiers {
		c.tierRank[name] = t.Rank
	}
	for name, m := range r.Models {
		c.modelMin[name] = m.MinTier
	}
	return c
}

func (c catalog) tiers() string { return strings.Join(c.tierNames(), ", ") }

// tierNames returns the tiers' names, sorted.
func (c catalog) tierNames() []string {
	names := make([]string, 0, len(c.tierRank))
	for n := range c.tierRank {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// aboveTier returns the model with the lowest min_tier rank above tier's
// (ties by name), "" if none.
func (c catalog) aboveTier(tier string) string {
	best, bestRank := "", math.MaxInt
	for m, min := range c.modelMin {
		r := c.tierRank[min]
		if r > c.tierRank[tier] && (r < bestRank || r == bestRank && m < best) {
			best, bestRank = m, r
		}
	}
	return best
}

// resolve applies defaults and validates; it fills s.traces and s.samplers.
func (s *Scenario) resolve(fsys fs.FS) []*FieldError {
	c := &checker{s: s}
	if s.Name == "" {
		c.add("name", "required (e.g. name: launch-day)")
	} else if !nameRE.MatchString(s.Name) {
		c.add("name", "%q: use letters, digits, '.', '_' and '-' only (it names output directories)", s.Name)
	}
	if s.Duration <= 0 {
		c.add("duration", "required and > 0 (e.g. duration: 5m)")
	}
	res, err := s.API.Resolve()
	if err != nil {
		c.addJoined("api", err)
		res, _ = api.Config{}.Resolve()
	}
	cat := newCatalog(res)
	if len(s.Tenants) == 0 {
		c.add("tenants", "needs at least one tenant (- name: web, key: cmp_demo_tier1, tier: tier1, traffic: …, mix: …)")
	}
	s.traces = make([]Trace, len(s.Tenants))
	s.samplers = make([]*Sampler, len(s.Tenants))
	names := map[string]int{}
	keyTier := map[string]string{}
	files := map[string]traceFile{}
	for i := range s.Tenants {
		t := &s.Tenants[i]
		p := fmt.Sprintf("tenants[%d]", i)
		switch {
		case t.Name == "":
			c.add(p+".name", "required (e.g. name: web)")
		case !nameRE.MatchString(t.Name):
			c.add(p+".name", "%q: use letters, digits, '.', '_' and '-' only (it is a metric label)", t.Name)
		default:
			if j, dup := names[t.Name]; dup {
				c.add(p+".name", "%q is also the name of tenants[%d]; tenant names must be unique", t.Name, j)
			}
			names[t.Name] = i
		}
		if t.Key == "" && t.KeyEnv == "" {
			c.add(p, "needs key (for the mock) or key_env (the environment variable holding a real key)")
		}
		if t.KeyEnv != "" && !envVarRE.MatchString(t.KeyEnv) {
			c.add(p+".key_env", "%q is not an environment variable name (e.g. COMPRESR_KEY_WEB)", t.KeyEnv)
		}
		if t.Key == InvalidAPIKey {
			c.add(p+".key", "this key is reserved for invalid_api_key requests; choose another")
		}
		if _, ok := cat.tierRank[t.Tier]; !ok {
			if t.Tier == "" {
				c.add(p+".tier", "required (one of %s)", cat.tiers())
			} else {
				c.add(p+".tier", "unknown tier %q%s; use one of %s or define it under api.tiers", t.Tier, suggest.Hint(t.Tier, cat.tierNames()), cat.tiers())
			}
		} else if t.Key != "" {
			if other, seen := keyTier[t.Key]; seen && other != t.Tier {
				c.add(p+".tier", "the same key is used by another tenant with tier %s; a key has one tier", other)
			}
			keyTier[t.Key] = t.Tier
		}

		// Traffic.
		pp := p + ".traffic.profile"
		spec := &t.Traffic.Profile
		traced := true // the trace, if any, was read: its profile can be checked
		if spec.Type == "trace" {
			if spec.Speed == nil {
				v := DefaultSpeed
				spec.Speed = &v
			}
			rows, ok := s.loadTrace(c, fsys, pp, spec, files)
			traced = ok
			if ok {
				s.traces[i] = NewTrace(spec.File, *spec.Speed, rows).ForTenant(t.Name)
				for _, r := range rows {
					if _, known := names[r.Tenant]; r.Tenant != "" && !known && !s.hasTenant(r.Tenant) {
						c.add(pp+".file", "%s: a row names tenant %q, which is not in this scenario", spec.File, r.Tenant)
						break
					}
				}
			}
		}
		prof, ps := spec.build(0, s.traces[i])
		for _, pr := range ps {
			c.add(pp+dotted(pr.field), "%s", pr.msg)
		}
		if traced && len(ps) == 0 && s.Duration > 0 && prof != nil && !(prof.Hits(s.Duration) > 0) {
			c.add(pp, "%s sends no request within the duration (%s)", prof, s.Duration)
		}

		// Mix.
		for j := range t.Mix {
			it := &t.Mix[j]
			ip := fmt.Sprintf("%s.mix[%d]", p, j)
			if it.Endpoint == "" {
				it.Endpoint = DefaultEndpoint
			}
			if r, ok := ParseEndpoint(it.Endpoint); ok && r.Batch() && it.Inputs == 0 {
				it.Inputs = DefaultInputs
			}
			if it.Tokens == nil {
				mean := float64(DefaultTokens)
				it.Tokens = &TokenSpec{Dist: "exponential", Mean: &mean}
			} else if it.Tokens.Dist == "" {
				it.Tokens.Dist = it.Tokens.resolvedDist()
			}
			kind, _ := ParseInvalid(it.Invalid)
			switch {
			case kind == InvalidForbidden && it.Model == "":
				it.Model = cat.aboveTier(t.Tier)
				if it.Model == "" {
					c.add(ip+".invalid", "forbidden needs a model whose min_tier is above %s, and there is none; add one under api.models", t.Tier)
				}
			case kind == InvalidValidation:
				// sent without compression_model_name
			case it.Model == "":
				it.Model = DefaultModel
			}
			min, known := cat.modelMin[it.Model]
			switch {
			case it.Model == "" || kind == InvalidValidation:
			case !known:
				c.add(ip+".model", "unknown model %q%s; use one of %s or define it under api.models", it.Model, suggest.Hint(it.Model, cat.modelNames()), cat.models())
			case kind == InvalidForbidden && cat.tierRank[min] <= cat.tierRank[t.Tier]:
				c.add(ip+".model", "%s is allowed on %s (min_tier %s), so it cannot produce forbidden; pick a model above the tier or leave model unset", it.Model, t.Tier, min)
			case kind == Valid && cat.tierRank[min] > cat.tierRank[t.Tier]:
				c.add(ip+".model", "%s needs %s but the tenant is %s: every request would get 403 forbidden; write invalid: forbidden if that is meant", it.Model, min, t.Tier)
			}
		}
		smp, ps := t.Mix.compile()
		for _, pr := range ps {
			c.add(p+".mix"+pr.field, "%s", pr.msg)
		}
		s.samplers[i] = smp

		// Client.
		cp := p + ".client"
		if isZeroConfig(t.Client.Strategy.Config) {
			t.Client.Strategy.Preset = DefaultStrategy
		}
		s.checkStrategy(c, cp+".strategy", t.Client.Strategy)
		if t.Client.NetworkRTT == nil {
			v := DefaultNetworkRTT
			t.Client.NetworkRTT = &v
		} else if *t.Client.NetworkRTT < 0 {
			c.add(cp+".network_rtt", "must be ≥ 0 (got %s)", *t.Client.NetworkRTT)
		}
		if t.Client.Timeout == nil {
			v := DefaultTimeout
			t.Client.Timeout = &v
		} else if *t.Client.Timeout <= 0 {
			c.add(cp+".timeout", "must be > 0 (got %s); it bounds each attempt", *t.Client.Timeout)
		}
	}
	for i, th := range s.Thresholds {
		if strings.TrimSpace(th) == "" {
			c.add(fmt.Sprintf("thresholds[%d]", i), "empty; write e.g. success_rate >= 0.95")
		}
	}
	for i, st := range s.Compare {
		s.checkStrategy(c, fmt.Sprintf("compare[%d]", i), st)
	}
	return c.fes
}

func (c catalog) models() string { return strings.Join(c.modelNames(), ", ") }

// modelNames returns the models' names, sorted.
func (c catalog) modelNames() []string {
	names := make([]string, 0, len(c.modelMin))
	for n := range c.modelMin {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// hasTenant reports whether a tenant is named name.
func (s *Scenario) hasTenant(name string) bool {
	for _, t := range s.Tenants {
		if t.Name == name {
			return true
		}
	}
	return false
}

// checkStrategy resolves st and reports every problem under path p, as a
// strategy file's are (resolveProblems).
func (s *Scenario) checkStrategy(c *checker, p string, st Strategy) {
	c.fes = append(c.fes, resolveProblems(st.Config, s.lines, p, nil)...)
}

// traceFile is a trace file as loadTrace read it: its rows, or the path
// of the profile whose problem says why it could not be read.
type traceFile struct {
	rows   []TraceRow
	failed string
}

// loadTrace reads and parses a trace file once per file (and speed): a file
// that cannot be read is reported at its first profile, and the others
// that name it refer to that problem instead of repeating it.
func (s *Scenario) loadTrace(c *checker, fsys fs.FS, p string, spec *ProfileSpec, cache map[string]traceFile) ([]TraceRow, bool) {
	if spec.File == "" {
		c.add(p+".file", "required for a trace profile (a CSV with a column t, e.g. file: traffic.csv)")
		return nil, false
	}
	if !(*spec.Speed > 0) || math.IsInf(*spec.Speed, 0) {
		return nil, false // reported by build
	}
	key := fmt.Sprintf("%s×%g", spec.File, *spec.Speed)
	if f, ok := cache[key]; ok {
		if f.failed != "" {
			c.add(p+".file", "%s: not usable, see the problem at %s", spec.File, f.failed)
			return nil, false
		}
		return f.rows, true
	}
	cache[key] = traceFile{failed: p + ".file"}
	if fsys == nil {
		c.add(p+".file", "cannot read %s: the scenario was not loaded from a file (use Load)", spec.File)
		return nil, false
	}
	name := path.Clean(strings.ReplaceAll(spec.File, "\\", "/"))
	f, err := fsys.Open(name)
	if err != nil {
		c.add(p+".file", "cannot read %s (relative to the scenario file): %v", spec.File, errors.Unwrap(err))
		return nil, false
	}
	defer f.Close()
	rows, err := ParseTrace(f, *spec.Speed)
	if err != nil {
		c.add(p+".file", "%s: %v", spec.File, err)
		return nil, false
	}
	if len(rows) == 0 {
		c.add(p+".file", "%s has no rows", spec.File)
		return nil, false
	}
	cache[key] = traceFile{rows: rows}
	return rows, true
}

// profileFields lists the fields each profile type takes.
var profileFields = map[string][]string{
	"constant": {"rate"},
	"ramp":     {"from", "to", "over"},
	"step":     {"steps"},
	"sine":     {"mean", "amplitude", "period"},
	"spike":    {"base", "peak", "at", "for"},
	"poisson":  {"rate"},
	"trace":    {"file", "speed"},
}

// profileTypes returns the profile types, in the order the docs list them.
func profileTypes() []string {
	return []string{"constant", "ramp", "step", "sine", "spike", "poisson", "trace"}
}

// set returns the names of the fields p sets.
func (p ProfileSpec) set() []string {
	var out []string
	add := func(ok bool, n string) {
		if ok {
			out = append(out, n)
		}
	}
	add(p.Rate != nil, "rate")
	add(p.From != nil, "from")
	add(p.To != nil, "to")
	add(p.Over != nil, "over")
	add(p.Steps != nil, "steps")
	add(p.Mean != nil, "mean")
	add(p.Amplitude != nil, "amplitude")
	add(p.Period != nil, "period")
	add(p.Base != nil, "base")
	add(p.Peak != nil, "peak")
	add(p.At != nil, "at")
	add(p.For != nil, "for")
	add(p.File != "", "file")
	add(p.Speed != nil, "speed")
	return out
}

// build checks the spec and returns its profile (Poisson drawing from
// seed; trace the tenant's rows). Problems are relative to the profile.
func (p ProfileSpec) build(seed uint64, trace Trace) (Profile, []problem) {
	var ps []problem
	add := func(f, m string, a ...any) { ps = append(ps, problem{f, fmt.Sprintf(m, a...)}) }
	fields, ok := profileFields[p.Type]
	if !ok {
		if p.Type == "" {
			add("type", "required: constant, ramp, step, sine, spike, poisson or trace")
		} else {
			add("type", "unknown profile type %q%s; use constant, ramp, step, sine, spike, poisson or trace", p.Type, suggest.Hint(p.Type, profileTypes()))
		}
		return nil, ps
	}
	for _, f := range p.set() {
		found := false
		for _, g := range fields {
			found = found || f == g
		}
		if !found {
			add(f, "does not apply to a %s profile (its fields: %s)", p.Type, strings.Join(fields, ", "))
		}
	}
	rate := func(f string, v *float64, positive bool) float64 {
		switch {
		case v == nil:
			add(f, "required for a %s profile (requests per second)", p.Type)
			return 0
		case math.IsNaN(*v) || math.IsInf(*v, 0) || *v > 1e9:
			add(f, "must be a finite rate ≤ 1e9 requests per second (got %g)", *v)
		case positive && !(*v > 0):
			add(f, "must be > 0 (got %g)", *v)
		case *v < 0:
			add(f, "must be ≥ 0 (got %g)", *v)
		}
		return *v
	}
	dur := func(f string, v *time.Duration, positive bool) time.Duration {
		switch {
		case v == nil:
			add(f, "required for a %s profile (e.g. %s: 30s)", p.Type, f)
			return 0
		case positive && *v <= 0:
			add(f, "must be > 0 (got %s)", *v)
		case *v < 0:
			add(f, "must be ≥ 0 (got %s)", *v)
		}
		return *v
	}
	var prof Profile
	switch p.Type {
	case "constant":
		prof = Constant{PerSecond: rate("rate", p.Rate, true)}
	case "poisson":
		prof = NewPoisson(rate("rate", p.Rate, true), seed)
	case "ramp":
		r := Ramp{From: rate("from", p.From, false), To: rate("to", p.To, false), Over: dur("over", p.Over, true)}
		if p.From != nil && p.To != nil && r.From == 0 && r.To == 0 {
			add("to", "from and to are both 0: the ramp sends nothing")
		}
		prof = r
	case "spike":
		sp := Spike{Base: rate("base", p.Base, false), Peak: rate("peak", p.Peak, true), At: dur("at", p.At, false), For: dur("for", p.For, true)}
		prof = sp
	case "sine":
		sn := Sine{Mean: rate("mean", p.Mean, true), Amplitude: rate("amplitude", p.Amplitude, false), Period: dur("period", p.Period, true)}
		if p.Mean != nil && p.Amplitude != nil && sn.Amplitude > sn.Mean {
			add("amplitude", "must be ≤ mean (%g), or the rate would go negative (got %g)", sn.Mean, sn.Amplitude)
		}
		prof = sn
	case "step":
		if len(p.Steps) == 0 {
			add("steps", "required: a list of {at, rate}, e.g. [{at: 0s, rate: 1}, {at: 3m, rate: 6}]")
		}
		pts := make([]StepPoint, len(p.Steps))
		for i, st := range p.Steps {
			f := fmt.Sprintf("steps[%d]", i)
			if st.At < 0 {
				add(f+".at", "must be ≥ 0 (got %s)", st.At)
			}
			if i > 0 && st.At <= p.Steps[i-1].At {
				add(f+".at", "must be after steps[%d].at (%s); list steps in time order", i-1, p.Steps[i-1].At)
			}
			if !(st.Rate >= 0) || math.IsInf(st.Rate, 0) || st.Rate > 1e9 {
				add(f+".rate", "must be a rate ≥ 0 (got %g)", st.Rate)
			}
			pts[i] = StepPoint(st)
		}
		prof = NewStep(pts)
	case "trace":
		if p.Speed != nil && (!(*p.Speed > 0) || math.IsInf(*p.Speed, 0)) {
			add("speed", "must be > 0 (got %g); 10 replays ten times faster", *p.Speed)
		}
		prof = trace
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return prof, nil
}
