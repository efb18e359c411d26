package scenario

import (
	"errors"
	"strings"
	"testing"
)

// base is a minimal valid scenario; rows of the golden table edit it.
// Lines: 1 name, 2 duration, 3 tenants, 4 - name, 5 key, 6 tier, 7 traffic,
// 8 profile, 9 mix, 10 item, 11 client, 12 strategy.
const base = `name: t
duration: 1m
tenants:
  - name: web
    key: cmp_test_web
    tier: tier1
    traffic:
      profile: {type: constant, rate: 1}
    mix:
      - {weight: 1, endpoint: question-specific, tokens: 100}
    client:
      strategy: compresr-recommended
`

// edit applies old→new replacements to base; it panics on a miss so that a
// row cannot silently test the unedited file.
func edit(pairs ...string) string {
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("edit: no " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

const secondTenant = `  - name: web
    key: cmp_test_other
    tier: tier1
    traffic:
      profile: {type: constant, rate: 1}
    mix:
      - {weight: 1}
`

func TestGoldenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, each expected
	}{
		// a typo in a mix item's field, with a suggestion
		{"unknown-field", edit("tokens: 100", "tokns: 100"), []string{"line 10: tenants[0].mix[0].tokns: unknown field; did you mean tokens?"}},
		// a typo at the top level
		{"unknown-top-field", base + "sead: 3\n", []string{"line 13: sead: unknown field; did you mean seed?"}},
		// a typo in a strategy block
		{"unknown-strategy-field", edit("strategy: compresr-recommended", "strategy: {preset: aws-standard, max_attempt: 5}"), []string{"line 12: tenants[0].client.strategy.max_attempt: unknown field; did you mean max_attempts?"}},
		// a typo in the api section
		{"unknown-api-field", base + "api:\n  circut: {window: 5s}\n", []string{"line 14: api.circut: unknown field; did you mean circuit?"}},
		// a duration written in words
		{"bad-duration", edit("duration: 1m", "duration: 5 min"), []string{`line 2: duration: "5 min" is not a duration (write e.g. 500ms, 90s, 5m, 1h30m)`}},
		// a duration inside a profile
		{"bad-profile-duration", edit("{type: constant, rate: 1}", "{type: ramp, from: 1, to: 2, over: soon}"), []string{`line 8: tenants[0].traffic.profile.over: "soon" is not a duration`}},
		// a word where a number goes
		{"wrong-type-rate", edit("rate: 1}", "rate: fast}"), []string{`line 8: tenants[0].traffic.profile.rate: "fast" is not a number`}},
		// a word where a whole number goes, inside a strategy block
		{"wrong-type-strategy", edit("strategy: compresr-recommended", "strategy: {preset: aws-standard, max_attempts: many}"), []string{`line 12: tenants[0].client.strategy.max_attempts: "many" is not a whole number`}},
		// a list where a mapping goes
		{"list-for-mapping", edit("    traffic:\n      profile: {type: constant, rate: 1}", "    traffic: [1, 2]"), []string{"line 7: tenants[0].traffic: is a list; write a mapping"}},
		// a negative rate
		{"rate-not-positive", edit("rate: 1}", "rate: -1}"), []string{"line 8: tenants[0].traffic.profile.rate: must be > 0 (got -1)"}},
		// a zero weight
		{"weight-zero", edit("weight: 1,", "weight: 0,"), []string{"line 10: tenants[0].mix[0].weight: must be > 0 (got 0)"}},
		// two tenants with one name
		{"duplicate-tenant", base + secondTenant, []string{`line 13: tenants[1].name: "web" is also the name of tenants[0]; tenant names must be unique`}},
		// a tenant without a key
		{"no-key", edit("    key: cmp_test_web\n", ""), []string{"line 4: tenants[0]: needs key (for the mock) or key_env"}},
		// a bad environment variable name
		{"bad-key-env", edit("key: cmp_test_web", "key_env: 1-KEY"), []string{`line 5: tenants[0].key_env: "1-KEY" is not an environment variable name`}},
		// an endpoint that does not exist
		{"unknown-endpoint", edit("endpoint: question-specific", "endpoint: question"), []string{`line 10: tenants[0].mix[0].endpoint: unknown endpoint "question"; use question-specific`}},
		// a profile type that does not exist
		{"unknown-profile", edit("type: constant", "type: linear"), []string{`line 8: tenants[0].traffic.profile.type: unknown profile type "linear"; use constant, ramp`}},
		// a field of another profile type
		{"field-of-other-profile", edit("rate: 1}", "rate: 1, over: 5m}"), []string{"line 8: tenants[0].traffic.profile.over: does not apply to a constant profile (its fields: rate)"}},
		// a required profile field missing
		{"missing-profile-field", edit("{type: constant, rate: 1}", "{type: spike, base: 1, peak: 5, at: 10s}"), []string{"line 8: tenants[0].traffic.profile.for: required for a spike profile"}},
		// an invalid kind that does not exist
		{"unknown-invalid-kind", edit("endpoint: question-specific,", "invalid: bad_key,"), []string{`line 10: tenants[0].mix[0].invalid: unknown kind "bad_key"; use invalid_request`}},
		// a tier that does not exist
		{"unknown-tier", edit("tier: tier1", "tier: gold"), []string{`line 6: tenants[0].tier: unknown tier "gold"; use one of tier1, tier2`}},
		{"misspelt-tier", edit("tier: tier1", "tier: teir1"), []string{`line 6: tenants[0].tier: unknown tier "teir1"; did you mean tier1?; use one of tier1, tier2`}},
		{"misspelt-profile", edit("type: constant", "type: constnat"), []string{`tenants[0].traffic.profile.type: unknown profile type "constnat"; did you mean constant?; use constant, ramp`}},
		{"misspelt-model", edit("tokens: 100}", "tokens: 100, model: late_v1}"), []string{`tenants[0].mix[0].model: unknown model "late_v1"; did you mean latte_v1?; use one of`}},
		// a preset that does not exist
		{"unknown-preset", edit("compresr-recommended", "fastest"), []string{`line 12: tenants[0].client.strategy.preset: unknown "fastest"`}},
		{"two-bad-strategy-values", edit("strategy: compresr-recommended", "strategy: {preset: aws-standard, jitter: ful, type: expo}"), []string{ // every one, as a strategy file's
			`tenants[0].client.strategy.jitter: unknown "ful"; did you mean full?`, `tenants[0].client.strategy.type: unknown "expo"`}},
		// AWS 2.1's second base with a jitter that has only one
		{"throttle-base-decorrelated", edit("strategy: compresr-recommended", "strategy: {preset: aws-standard-2.1, jitter: decorrelated, budget: {throttle_cost: 3}}"), []string{"line 12: tenants[0].client.strategy.throttle_base: applies to type exponential, linear or constant without decorrelated jitter (got type exponential, jitter decorrelated); remove it"}},
		// a model the tier may not use
		{"model-above-tier", edit("tokens: 100}", "tokens: 100, model: latte_v2}"), []string{"line 10: tenants[0].mix[0].model: latte_v2 needs tier2 but the tenant is tier1"}},
		// a model that does not exist
		{"unknown-model", edit("tokens: 100}", "tokens: 100, model: mocha}"), []string{`line 10: tenants[0].mix[0].model: unknown model "mocha"`}},
		// batch inputs on a single endpoint
		{"inputs-not-batch", edit("tokens: 100}", "tokens: 100, inputs: 5}"), []string{"line 10: tenants[0].mix[0].inputs: applies to batch endpoints only"}},
		// too many batch inputs
		{"inputs-too-many", edit("endpoint: question-specific,", "endpoint: question-agnostic/batch, inputs: 500,"), []string{"line 10: tenants[0].mix[0].inputs: must be in 1..100 (got 500)"}},
		// steps out of order
		{"steps-out-of-order", edit("{type: constant, rate: 1}", "{type: step, steps: [{at: 1m, rate: 1}, {at: 30s, rate: 2}]}"), []string{"line 8: tenants[0].traffic.profile.steps[1].at: must be after steps[0].at (1m0s)"}},
		// a sine going negative
		{"sine-amplitude", edit("{type: constant, rate: 1}", "{type: sine, mean: 2, amplitude: 3, period: 1m}"), []string{"line 8: tenants[0].traffic.profile.amplitude: must be ≤ mean (2)"}},
		// uniform tokens without bounds
		{"uniform-no-max", edit("tokens: 100}", "tokens: {dist: uniform, min: 5}}"), []string{"line 10: tenants[0].mix[0].tokens.dist: uniform needs min and max"}},
		// a token distribution that does not exist
		{"unknown-dist", edit("tokens: 100}", "tokens: {dist: pareto, mean: 5}}"), []string{`tenants[0].mix[0].tokens.dist: unknown distribution "pareto"`}},
		// a fractional constant token count
		{"tokens-float", edit("tokens: 100}", "tokens: 1.5}"), []string{`line 10: tenants[0].mix[0].tokens: "1.5" is not a whole number`}},
		// no duration
		{"no-duration", edit("duration: 1m\n", ""), []string{"duration: required and > 0 (e.g. duration: 5m)"}},
		// a profile with nothing to send in the duration
		{"nothing-to-send", edit("{type: constant, rate: 1}", "{type: step, steps: [{at: 2m, rate: 1}]}"), []string{"line 8: tenants[0].traffic.profile: step 1/s@2m0s sends no request within the duration (1m0s)"}},
		// an invalid api section, reported by the api model
		{"api-invalid", base + "api:\n  circuit: {failure_ratio: 1.5}\n", []string{"line 14: api.circuit.failure_ratio:"}},
		// a trace file that is not there
		{"trace-missing", edit("{type: constant, rate: 1}", "{type: trace, file: nowhere.csv}"), []string{"line 8: tenants[0].traffic.profile.file: cannot read nowhere.csv"}},
		// a negative timeout
		{"timeout", edit("      strategy: compresr-recommended\n", "      timeout: -1s\n"), []string{"line 12: tenants[0].client.timeout: must be > 0 (got -1s)"}},
		// a fractional batch size (yaml.v3 alone would truncate it)
		{"inputs-float", edit("endpoint: question-specific,", "endpoint: question-agnostic/batch, inputs: 2.5,"), []string{`line 10: tenants[0].mix[0].inputs: "2.5" is not a whole number`}},
		// several problems are all reported, in line order
		{"several", edit("tier: tier1", "tier: gold", "weight: 1,", "weight: -2,"), []string{`line 6: tenants[0].tier: unknown tier "gold"`, "\nline 10: tenants[0].mix[0].weight: must be > 0 (got -2)"}},
		// broken YAML
		{"syntax", "name: t\n tenants: [\n", []string{"line 2: YAML syntax:"}},
		// two documents
		{"two-documents", base + "---\nname: u\n", []string{"line 13: a second YAML document"}},
		// nothing at all
		{"empty", "", []string{"empty document"}},
		// a scalar document
		{"scalar-document", "hello\n", []string{"line 1: the document must be a mapping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml), "", nil)
			if err == nil {
				t.Fatalf("Parse(%s) = nil error; want %q", tc.name, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s): errors.Is(err, ErrInvalid) = false for %v", tc.name, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%s) error:\n%v\nwant it to contain:\n%s", tc.name, err, w)
				}
			}
			if strings.Contains(err.Error(), "cmp_test_web") {
				t.Errorf("Parse(%s) error shows the key: %v", tc.name, err)
			}
		})
	}
}

func TestParseBaseIsValid(t *testing.T) {
	t.Parallel()
	if _, err := Parse([]byte(base), "", nil); err != nil {
		t.Fatalf("Parse(base) = %v", err)
	}
}

// The file name prefixes each message.
func TestErrorNamesFile(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(edit("rate: 1}", "rate: 0}")), "web.yaml", nil)
	if want := "web.yaml:8: tenants[0].traffic.profile.rate: must be > 0 (got 0)"; err == nil || err.Error() != want {
		t.Errorf("Parse(web.yaml) = %v; want %s", err, want)
	}
}
