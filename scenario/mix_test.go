package scenario

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/loadsim/loadsim/sim/api"
)

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

func TestSamplerShares(t *testing.T) {
	t.Parallel()
	m := Mix{
		{Weight: 90, Endpoint: "question-specific", Tokens: &TokenSpec{Mean: f64(800), Max: i64(4000)}},
		{Weight: 8, Endpoint: "question-specific/batch", Inputs: 10, Tokens: &TokenSpec{Dist: "constant", Mean: f64(300)}},
		{Weight: 2, Invalid: "validation_error"},
	}
	s, err := m.Sampler()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 200000
	var count [3]int
	var tokens0 float64
	for range n {
		r := s.Draw(rng)
		count[r.Item]++
		switch r.Item {
		case 0:
			if r.Endpoint != api.RouteQuestionSpecific || r.Items != 0 || r.Tokens < 1 || r.Tokens > 4000 || r.Model != DefaultModel {
				t.Fatalf("Draw() item 0 = %+v", r)
			}
			tokens0 += float64(r.Tokens)
		case 1:
			if r.Endpoint != api.RouteQuestionSpecificBatch || r.Items != 10 || r.Tokens != 300 || r.TotalTokens() != 3000 {
				t.Fatalf("Draw() item 1 = %+v", r)
			}
		case 2:
			if r.Invalid != InvalidValidation || r.Model != "" || r.Invalid.Code() != api.ValidationError {
				t.Fatalf("Draw() item 2 = %+v", r)
			}
		}
	}
	for i, w := range []float64{0.90, 0.08, 0.02} {
		if got := float64(count[i]) / n; math.Abs(got-w) > 0.005 {
			t.Errorf("item %d drawn %.4f of the time; want %.2f", i, got, w)
		}
	}
	// Exponential mean 800 clamped at 4000 (5 means) and rounded up: ≈ 800·(1−e⁻⁵) + 0.5.
	if mean := tokens0 / float64(count[0]); math.Abs(mean-795) > 10 {
		t.Errorf("item 0 mean tokens = %.1f; want ≈ 795", mean)
	}
}

func TestTokenDists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec     TokenSpec
		mean     float64 // expected sample mean (±3 %)
		min, max int64
	}{
		{TokenSpec{Dist: "constant", Mean: f64(300)}, 300, 300, 300},                             // a constant
		{TokenSpec{Dist: "uniform", Min: i64(100), Max: i64(900)}, 500, 100, 900},                // uniform integers
		{TokenSpec{Min: i64(10), Max: i64(20)}, 15, 10, 20},                                      // no dist, only bounds: uniform
		{TokenSpec{Mean: f64(500)}, 500.5, 1, math.MaxInt64},                                     // no dist, a mean: exponential
		{TokenSpec{Dist: "lognormal", Mean: f64(600), Sigma: f64(0.5)}, 600.5, 1, math.MaxInt64}, // lognormal keeps its mean
	}
	for _, tc := range tests {
		d, ps := tc.spec.compile()
		if len(ps) > 0 {
			t.Fatalf("%s: %v", tc.spec, ps)
		}
		rng := rand.New(rand.NewPCG(2, 2))
		sum := 0.0
		const n = 100000
		for range n {
			x := d.draw(rng)
			if x < tc.min || x > tc.max {
				t.Fatalf("%s: draw %d outside [%d, %d]", tc.spec, x, tc.min, tc.max)
			}
			sum += float64(x)
		}
		if got := sum / n; math.Abs(got-tc.mean)/tc.mean > 0.03 {
			t.Errorf("%s: mean %.1f; want %.1f", tc.spec, got, tc.mean)
		}
	}
}

func TestDrawDoesNotAllocate(t *testing.T) {
	s, err := Mix{{Weight: 1, Tokens: &TokenSpec{Mean: f64(100)}}, {Weight: 2, Endpoint: "question-agnostic/batch", Tokens: &TokenSpec{Dist: "lognormal", Mean: f64(100)}}}.Sampler()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	if a := testing.AllocsPerRun(1000, func() { s.Draw(rng) }); a != 0 {
		t.Errorf("Draw allocates %g times per call", a)
	}
}

func TestInvalidKinds(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"invalid_request", "validation_error", "missing_api_key", "invalid_api_key", "forbidden"} {
		k, ok := ParseInvalid(name)
		if !ok || k.String() != name || k.Code().String() != name {
			t.Errorf("ParseInvalid(%q) = %v, %t; String %q, Code %q", name, k, ok, k.String(), k.Code())
		}
	}
	// forbidden gets a model above the tenant's tier.
	s, err := Parse([]byte(edit("endpoint: question-specific,", "invalid: forbidden,")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Sampler(0).Draw(rand.New(rand.NewPCG(1, 1))); r.Model != "latte_v2" || r.Invalid != InvalidForbidden {
		t.Errorf("forbidden on tier1 draws %+v; want model latte_v2", r)
	}
	if _, err := Parse([]byte(edit("endpoint: question-specific,", "invalid: forbidden,", "tier: tier1", "tier: tier5")), "", nil); err == nil {
		t.Errorf("forbidden on tier5 (every model allowed) parsed without error")
	}
}

func TestTraceRowApply(t *testing.T) {
	t.Parallel()
	single := Request{Endpoint: api.RouteQuestionSpecific, Tokens: 10}
	if r := (TraceRow{Endpoint: api.RouteQuestionAgnosticBatch, Tokens: 7}).Apply(single); r.Endpoint != api.RouteQuestionAgnosticBatch || r.Items != 1 || r.Tokens != 7 {
		t.Errorf("Apply(batch, 7) = %+v", r)
	}
	batch := Request{Endpoint: api.RouteQuestionSpecificBatch, Items: 5, Tokens: 10}
	if r := (TraceRow{Endpoint: api.RouteQuestionAgnostic}).Apply(batch); r.Items != 0 || r.Tokens != 10 {
		t.Errorf("Apply(single) on a batch = %+v", r)
	}
	if r := (TraceRow{}).Apply(batch); r != batch {
		t.Errorf("Apply(empty row) = %+v; want unchanged", r)
	}
}

func BenchmarkDraw(b *testing.B) {
	s, _ := Load("launch-day")
	smp := s.Sampler(0)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		smp.Draw(rng)
	}
}
