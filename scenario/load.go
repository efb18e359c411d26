package scenario

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gopkg.in/yaml.v3"

	"github.com/loadsim/loadsim/sim/api"
)

// Redacted replaces every API key in Resolved's output.
const Redacted = "REDACTED"

// maxFileSize bounds a scenario file.
const maxFileSize = 10 << 20

// Load reads a scenario from a file path or, when no such file exists, the
// embedded example of that name (see Examples), then parses it (see Parse).
// Trace files are read relative to the scenario's directory (or from the
// embedded examples). Errors match ErrInvalid, including an argument that is
// neither a file nor an example.
func Load(nameOrPath string) (*Scenario, error) {
	if st, err := os.Stat(nameOrPath); err == nil && !st.IsDir() {
		data, err := readFile(nameOrPath)
		if err != nil {
			return nil, err
		}
		return Parse(data, nameOrPath, os.DirFS(filepath.Dir(nameOrPath)))
	}
	if data, err := Example(nameOrPath); err == nil {
		sub, err := fs.Sub(examplesFS, "examples")
		if err != nil {
			return nil, err
		}
		return Parse(data, nameOrPath+".yaml", sub)
	}
	return nil, &FieldError{File: nameOrPath, Msg: fmt.Sprintf(
		"no such file, and no example of that name (examples: %s; `loadsim scenarios` lists them)", strings.Join(exampleNames(), ", "))}
}

// readFile reads at most maxFileSize bytes of a file.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &FieldError{File: path, Msg: fmt.Sprintf("larger than %d MiB; is this a scenario file?", maxFileSize>>20)}
	}
	return data, nil
}

// LoadAPIConfig strictly decodes the api section of a file that is either a
// whole scenario or a document holding only `api:` (for `loadsim mock
// --config`). The rest of a scenario is decoded strictly but not validated;
// the api section is returned as written (call Resolve on it), plus the
// literal keys of tenants that name a tier (ServerKeys), so that a mock
// started with a scenario accepts its tenants. Errors name the file, line
// and field, and match ErrInvalid.
func LoadAPIConfig(path string) (api.Config, error) {
	data, err := readFile(path)
	if err != nil {
		return api.Config{}, err
	}
	var s Scenario
	if _, fes := decodeStrict(data, &s); len(fes) > 0 {
		return api.Config{}, joinErrors(path, fes)
	}
	var tenants []Tenant
	var keys []string
	for _, t := range s.Tenants {
		if t.Key != "" && t.Tier != "" {
			tenants = append(tenants, t)
			keys = append(keys, t.Key)
		}
	}
	s.Tenants = tenants
	cfg := s.API
	cfg.Keys = append(append([]api.KeyConfig(nil), s.API.Keys...), s.ServerKeys(keys)...)
	return cfg, nil
}

// TenantNames returns the tenants' names in scenario order (the order of
// report.RecorderConfig.Tenants and of record Tenant indexes).
func (s *Scenario) TenantNames() []string {
	names := make([]string, len(s.Tenants))
	for i, t := range s.Tenants {
		names[i] = t.Name
	}
	return names
}

// File returns the name the scenario was loaded under ("" from bytes).
func (s *Scenario) File() string { return s.file }

// Resolved returns the scenario as YAML with every default applied and every
// API key (tenants' and api.keys') replaced by Redacted; key_env names stay.
// It is what results directories store as scenario.yaml.
func (s *Scenario) Resolved() ([]byte, error) {
	c := *s
	c.Tenants = append([]Tenant(nil), s.Tenants...)
	for i := range c.Tenants {
		if c.Tenants[i].Key != "" {
			c.Tenants[i].Key = Redacted
		}
	}
	c.API.Keys = append([]api.KeyConfig(nil), s.API.Keys...)
	for i := range c.API.Keys {
		c.API.Keys[i].Key = Redacted
	}
	var b bytes.Buffer
	b.WriteString("# Resolved by loadsim: defaults applied, API keys redacted.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode resolved scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode resolved scenario: %w", err)
	}
	return b.Bytes(), nil
}

// TenantSeed derives tenant i's random stream seed from a run's seed
// (SplitMix64 of seed and i), so tenants' streams are independent and a
// tenant's stream does not change when tenants are added after it.
func TenantSeed(seed uint64, tenant int) uint64 {
	z := seed + uint64(tenant+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Profile returns a fresh arrival profile of tenant i for a run seeded with
// seed (a Poisson profile draws from TenantSeed(seed, i)). It panics if i is
// out of range or s was not returned by Parse or Load.
func (s *Scenario) Profile(i int, seed uint64) Profile {
	p, ps := s.Tenants[i].Traffic.Profile.build(TenantSeed(seed, i), s.traces[i])
	if len(ps) > 0 {
		panic(fmt.Sprintf("scenario: Profile(%d) of an unvalidated scenario: %s", i, ps[0].msg))
	}
	return p
}

// Pacer returns tenant i's vegeta pacer for a run seeded with seed, stopping
// at the scenario's duration.
func (s *Scenario) Pacer(i int, seed uint64) vegeta.Pacer {
	return Bounded{Profile: s.Profile(i, seed), Duration: s.Duration}
}

// Arrivals returns tenant i's arrival times for a run seeded with seed: the
// same times as Pacer(i, seed) paces.
func (s *Scenario) Arrivals(i int, seed uint64) *ArrivalSeq {
	return Arrivals(s.Profile(i, seed), s.Duration)
}

// Trace returns tenant i's trace rows (for the endpoint and tokens columns)
// and whether its profile is a trace.
func (s *Scenario) Trace(i int) (Trace, bool) {
	return s.traces[i], s.Tenants[i].Traffic.Profile.Type == "trace"
}

// Sampler returns tenant i's compiled request mix (shared, immutable).
func (s *Scenario) Sampler(i int) *Sampler { return s.samplers[i] }

// ExpectedRequests returns the expected number of logical requests of
// tenant i over the scenario's duration: ∫ Rate (rounded up for the
// deterministic profiles, whose hit count it is exactly).
func (s *Scenario) ExpectedRequests(i int) float64 {
	h := s.Profile(i, s.Seed).Hits(s.Duration)
	if s.Tenants[i].Traffic.Profile.Type == "poisson" {
		return h
	}
	return ceilHits(h)
}

// ceilHits rounds an expected hit count up, forgiving float noise.
func ceilHits(h float64) float64 {
	f := float64(int64(h))
	if h-f < 1e-6 {
		return f
	}
	return f + 1
}
