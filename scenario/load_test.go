package scenario

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const referencePath = "../../shared/scenario-example.yaml"

func TestReferenceFile(t *testing.T) {
	t.Parallel()
	ref, err := os.ReadFile(referencePath)
	if err != nil {
		t.Skipf("reference file not available: %v", err)
	}
	emb, err := Example("launch-day")
	if err != nil || !bytes.Equal(ref, emb) {
		t.Errorf("Example(launch-day) differs from %s (err %v); copy it byte for byte", referencePath, err)
	}
	s, err := Load(referencePath)
	if err != nil {
		t.Fatalf("Load(%s) = %v", referencePath, err)
	}
	if s.Name != "launch-day" || len(s.Tenants) != 2 || s.Tenants[1].Client.Strategy.Preset != "aws-standard" ||
		*s.Tenants[1].Client.Strategy.MaxAttempts != 5 || s.Tenants[0].Client.Strategy.Preset != "compresr-recommended" {
		t.Errorf("Load(%s) = %+v; the strategies did not decode as written", referencePath, s.Tenants)
	}
	if got := s.Sampler(0).Len(); got != 3 {
		t.Errorf("Sampler(0).Len() = %d; want 3 items", got)
	}
}

// Decoding, encoding and decoding again gives the same scenario.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range Examples() {
		data, _ := Example(e.Name)
		s1, err := Decode(data)
		if err != nil {
			t.Fatalf("Decode(%s) = %v", e.Name, err)
		}
		out1, err := yaml.Marshal(s1)
		if err != nil {
			t.Fatalf("Marshal(%s) = %v", e.Name, err)
		}
		s2, err := Decode(out1)
		if err != nil {
			t.Fatalf("Decode(Marshal(%s)) = %v\n%s", e.Name, err, out1)
		}
		out2, _ := yaml.Marshal(s2)
		if !bytes.Equal(out1, out2) {
			t.Errorf("%s does not round-trip:\n%s\n---\n%s", e.Name, out1, out2)
		}
		if _, err := Parse(out1, e.Name, nil); err != nil && !strings.Contains(err.Error(), "trace") {
			t.Errorf("Parse(Marshal(Decode(%s))) = %v", e.Name, err)
		}
	}
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	want := []string{"demo", "incident-circuit", "jitter-rate-limit", "jitter-study", "launch-day", "quota-exhaustion", "retry-storm", "sdk-exhaustion", "tier-sizing-day", "trace-replay"}
	var got []string
	for _, e := range Examples() {
		got = append(got, e.Name)
		if e.Description == "" {
			t.Errorf("example %s has no description", e.Name)
		}
		s, err := Load(e.Name)
		if err != nil {
			t.Errorf("Load(%q) = %v", e.Name, err)
			continue
		}
		for i := range s.Tenants {
			if n := s.ExpectedRequests(i); !(n > 0) {
				t.Errorf("%s: tenant %s expects %g requests", e.Name, s.Tenants[i].Name, n)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Examples() = %v; want %v", got, want)
	}
	demo, _ := Load("demo")
	if demo.Duration > 30e9 || len(demo.Tenants) != 2 {
		t.Errorf("demo: %s, %d tenants; want ≤ 30s and 2", demo.Duration, len(demo.Tenants))
	}
	total := 0.0
	for i := range demo.Tenants {
		total += demo.ExpectedRequests(i)
	}
	if rps := total / demo.Duration.Seconds(); rps > 50 {
		t.Errorf("demo offers %.1f req/s; keep it to a few tens", rps)
	}
}

// The trace example splits rows by tenant and keeps the endpoint column.
func TestTraceExample(t *testing.T) {
	t.Parallel()
	s, err := Load("trace-replay")
	if err != nil {
		t.Fatal(err)
	}
	web, ok := s.Trace(0)
	mobile, _ := s.Trace(1)
	if !ok || web.Len() == 0 || mobile.Len() == 0 {
		t.Fatalf("Trace(0), Trace(1) = %d, %d rows", web.Len(), mobile.Len())
	}
	batch := 0
	for k := 0; k < web.Len(); k++ {
		r, _ := web.Row(uint64(k))
		if r.Tenant != "web" {
			t.Fatalf("web row %d is for %q", k, r.Tenant)
		}
		if r.Endpoint.Batch() {
			batch++
		}
	}
	if batch == 0 {
		t.Errorf("no batch rows in the web trace")
	}
}

func TestResolvedHasNoKey(t *testing.T) {
	t.Parallel()
	src := base + "api:\n  keys:\n    - {key: cmp_secret_api_key, tier: tier2}\n"
	src = strings.Replace(src, "    key: cmp_test_web\n", "    key: cmp_test_web\n    key_env: WEB_KEY\n", 1)
	s, err := Parse([]byte(src), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"cmp_test_web", "cmp_secret_api_key"} {
		if bytes.Contains(out, []byte(key)) {
			t.Errorf("Resolved() contains the key %s:\n%s", key, out)
		}
	}
	for _, want := range []string{"key: REDACTED", "key_env: WEB_KEY", "network_rtt: 2ms", "timeout: 10s", "model: latte_v1"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("Resolved() lacks %q:\n%s", want, out)
		}
	}
	if s.Tenants[0].Key != "cmp_test_web" {
		t.Errorf("Resolved() modified the scenario's key")
	}
	// The resolved form is itself a valid scenario.
	if _, err := Parse(out, "", nil); err != nil {
		t.Errorf("Parse(Resolved()) = %v", err)
	}
	for _, e := range Examples() {
		s, _ := Load(e.Name)
		out, _ := s.Resolved()
		for _, tn := range s.Tenants {
			if tn.Key != "" && bytes.Contains(out, []byte(tn.Key)) {
				t.Errorf("%s: Resolved() contains %s's key", e.Name, tn.Name)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	_, err := Load("no-such-scenario")
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no such file, and no example") {
		t.Errorf("Load(no-such-scenario) = %v; want a no-such-file error matching ErrInvalid", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte(edit("weight: 1,", "weight: 0,")), 0o600)
	_, err = Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":10: tenants[0].mix[0].weight") {
		t.Errorf("Load(%s) = %v; want the file and line first", p, err)
	}
}

// A trace file is read relative to the scenario file.
func TestLoadTraceRelative(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.csv"), []byte("t\n0\n0.5\n1.5\n"), 0o600)
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte(edit("{type: constant, rate: 1}", "{type: trace, file: t.csv, speed: 0.5}")), 0o600)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	seq := s.Arrivals(0, 1)
	var got []string
	for d, ok := seq.Next(); ok; d, ok = seq.Next() {
		got = append(got, d.String())
	}
	if strings.Join(got, " ") != "0s 1s 3s" {
		t.Errorf("arrivals of t.csv at speed 0.5 = %v; want 0s 1s 3s", got)
	}
}

func TestLoadAPIConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	only := filepath.Join(dir, "api.yaml")
	os.WriteFile(only, []byte("api:\n  quota: sliding-window\n  circuit: {open_for: 5s}\n"), 0o600)
	cfg, err := LoadAPIConfig(only)
	if err != nil || cfg.Quota != "sliding-window" || cfg.Circuit.OpenFor == nil {
		t.Errorf("LoadAPIConfig(api only) = %+v, %v", cfg, err)
	}
	cfg, err = LoadAPIConfig(referencePath)
	if err != nil || cfg.Quota != "fixed-window" || len(cfg.Upstream.Incidents) != 1 {
		t.Errorf("LoadAPIConfig(reference) = %+v, %v", cfg, err)
	}
	// The reference's tenants' literal keys are added with their tiers.
	if len(cfg.Keys) != 2 || cfg.Keys[0].Key != "cmp_launch_web" || cfg.Keys[0].Tier != "tier1" || cfg.Keys[1].Tier != "tier3" {
		t.Errorf("LoadAPIConfig(reference) keys = %+v; want the two tenants' keys with tiers tier1, tier3", cfg.Keys)
	}
	if _, err := cfg.Resolve(); err != nil {
		t.Errorf("LoadAPIConfig(reference).Resolve() = %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("api:\n  qouta: sliding-window\n"), 0o600)
	if _, err := LoadAPIConfig(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml:2: api.qouta: unknown field; did you mean quota?") {
		t.Errorf("LoadAPIConfig(bad) = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(base))
	for _, e := range Examples() {
		data, _ := Example(e.Name)
		f.Add(data)
	}
	f.Add([]byte("tenants: [{traffic: {profile: {type: step, steps: [{at: 1s}]}}}]"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("tenants:\n  - mix: [{tokens: {dist: uniform, min: 1, max: 1}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", nil)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error does not match ErrInvalid: %v", err)
			}
			return
		}
		if _, err := s.Resolved(); err != nil {
			t.Fatalf("Resolved() of a valid scenario = %v", err)
		}
		for i := range s.Tenants {
			seq := s.Arrivals(i, 1)
			prev := int64(-1)
			for n := 0; n < 100; n++ {
				d, ok := seq.Next()
				if !ok {
					break
				}
				if int64(d) < prev || d >= s.Duration {
					t.Fatalf("tenant %d arrival %d = %s after %d (duration %s)", i, n, d, prev, s.Duration)
				}
				prev = int64(d)
			}
		}
	})
}
