package attack

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim/api"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type vegetaTarget = vegeta.Target

// TestRender checks that each rendered request decodes as the API model sees
// it: the sampler's token count, its batch size, and each invalid kind's
// problem or header.
func TestRender(t *testing.T) {
	qs, _ := scenario.ParseEndpoint("question-specific")
	qa, _ := scenario.ParseEndpoint("question-agnostic")
	qab, _ := scenario.ParseEndpoint("question-agnostic/batch")
	qsb, _ := scenario.ParseEndpoint("question-specific/batch")
	for _, tc := range []struct {
		name    string
		req     scenario.Request
		key     string // X-API-Key expected
		problem api.Code
	}{
		// A single question-specific request of 400 tokens.
		{"qs", scenario.Request{Endpoint: qs, Model: "latte_v1", Tokens: 400}, "k", api.OK},
		// One token: the query alone.
		{"qs one token", scenario.Request{Endpoint: qs, Model: "latte_v1", Tokens: 1}, "k", api.OK},
		// Question-agnostic: context only.
		{"qa", scenario.Request{Endpoint: qa, Model: "espresso_v1", Tokens: 1200}, "k", api.OK},
		// Batches: tokens per item times items.
		{"qa batch", scenario.Request{Endpoint: qab, Model: "latte_v1", Tokens: 30, Items: 7}, "k", api.OK},
		{"qs batch", scenario.Request{Endpoint: qsb, Model: "latte_v1", Tokens: 30, Items: 3}, "k", api.OK},
		// invalid_request: ratio as a JSON string.
		{"invalid_request", scenario.Request{Endpoint: qs, Model: "latte_v1", Tokens: 10, Invalid: scenario.InvalidRequest}, "k", api.InvalidRequest},
		// validation_error: no model.
		{"validation_error", scenario.Request{Endpoint: qs, Tokens: 10, Invalid: scenario.InvalidValidation}, "k", api.ValidationError},
		// missing_api_key: no header.
		{"missing key", scenario.Request{Endpoint: qs, Model: "latte_v1", Tokens: 10, Invalid: scenario.InvalidMissingKey}, "", api.OK},
		// invalid_api_key: the well-formed unknown key.
		{"invalid key", scenario.Request{Endpoint: qs, Model: "latte_v1", Tokens: 10, Invalid: scenario.InvalidKey}, scenario.InvalidAPIKey, api.OK},
	} {
		var text []byte
		tg := render("http://h", "k", tc.req, &text)
		if tg.url != "http://h"+tc.req.Endpoint.Path() {
			t.Errorf("%s: render(%+v).url = %q", tc.name, tc.req, tg.url)
		}
		if got := tg.header.Get("X-API-Key"); got != tc.key {
			t.Errorf("%s: render(%+v) X-API-Key = %q, want %q", tc.name, tc.req, got, tc.key)
		}
		r, _ := api.Decode(tc.req.Endpoint, "k", tg.body)
		if r.Problem != tc.problem {
			t.Errorf("%s: Decode(render(%+v)) problem = %v (%s), want %v; body %.200s", tc.name, tc.req, r.Problem, r.ProblemMessage, tc.problem, tg.body)
		}
		if tc.problem == api.OK && (r.Tokens != tc.req.TotalTokens() || r.Items != tc.req.Items || r.Model != tc.req.Model) {
			t.Errorf("%s: Decode(render(%+v)) = tokens %d items %d model %q; want %d, %d, %q", tc.name, tc.req, r.Tokens, r.Items, r.Model, tc.req.TotalTokens(), tc.req.Items, tc.req.Model)
		}
	}
}

// TestPoolDeterministic checks that equal seeds give equal pools and picks.
func TestPoolDeterministic(t *testing.T) {
	sc, err := scenario.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	a := newPool("http://h", "k", sc.Sampler(0), rand.New(rand.NewPCG(1, 2)))
	b := newPool("http://h", "k", sc.Sampler(0), rand.New(rand.NewPCG(1, 2)))
	ta, tb := a.targeter(), b.targeter()
	for i := 0; i < 100; i++ {
		var x, y vegetaTarget
		ta(&x)
		tb(&y)
		if string(x.Body) != string(y.Body) || x.URL != y.URL {
			t.Fatalf("pick %d differs between equal seeds", i)
		}
	}
}

// BenchmarkTargeter measures one pick.
func BenchmarkTargeter(b *testing.B) {
	sc, err := scenario.Load("demo")
	if err != nil {
		b.Fatal(err)
	}
	tr := newPool("http://h", "k", sc.Sampler(0), rand.New(rand.NewPCG(1, 2))).targeter()
	b.ReportAllocs()
	var x vegetaTarget
	for b.Loop() {
		tr(&x)
	}
}

// TestPlanCap: the plan's first line states the cap on attempts, or that
// there is none (never "at most 0"), and names no key.
func TestPlanCap(t *testing.T) {
	sc, err := scenario.Parse([]byte(`name: plan
duration: 10s
tenants:
  - name: web
    key: cmp_plan_secret
    tier: tier1
    traffic: {profile: {type: constant, rate: 2}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 100}]
`), "plan.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{}, "plan: plan against the in-process mock for 10s, seed 0, no cap on attempts\n"},                                                       // no cap
		{Options{Target: "http://127.0.0.1:9", MaxRequests: 50, Seed: 3}, "plan: plan against http://127.0.0.1:9 for 10s, seed 3, at most 50 attempts\n"}, // a cap
	} {
		var b strings.Builder
		Plan(&b, sc, tt.opts)
		first, _, _ := strings.Cut(b.String(), "\n")
		if first+"\n" != tt.want {
			t.Errorf("Plan(%+v) first line = %q; want %q", tt.opts, first, tt.want)
		}
		if strings.Contains(b.String(), "secret") {
			t.Errorf("Plan(%+v) wrote the key: %q", tt.opts, b.String())
		}
	}
}
