package api

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps returns how many representable float64s lie between a and b (both
// positive and finite).
func ulps(a, b float64) uint64 {
	x, y := math.Float64bits(a), math.Float64bits(b)
	if x > y {
		return x - y
	}
	return y - x
}

func TestExpFast(t *testing.T) {
	t.Parallel()
	// Special and edge arguments: exact agreement (they go to math.Exp or
	// hit the table's exact entries).
	for _, x := range []float64{0, 1, -1, math.Ln2, 699.9, -699.9, 700, -700, 709, -745, 710, -746,
		math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64} {
		got, want := expFast(x), math.Exp(x)
		if !(got == want || (math.IsNaN(got) && math.IsNaN(want)) || ulps(got, want) <= 2) {
			t.Errorf("expFast(%v) = %v; want %v (math.Exp)", x, got, want)
		}
	}
	// A million arguments over the latency model's range (ln ns of 1 µs to
	// hours, and their tails) and the whole reduced range: at most 2 ulp.
	rng := rand.New(rand.NewPCG(1, 2))
	worst := uint64(0)
	for i := range 1_000_000 {
		var x float64
		switch i % 3 {
		case 0:
			x = 18 + 0.7*rng.NormFloat64() // the default latency model, ln ns
		case 1:
			x = rng.Float64()*80 - 40
		default:
			x = rng.Float64()*1399.98 - 699.99
		}
		got, want := expFast(x), math.Exp(x)
		if d := ulps(got, want); d > worst {
			worst = d
			if d > 2 {
				t.Fatalf("expFast(%v) = %v; math.Exp = %v: %d ulp apart, want ≤ 2", x, got, want, d)
			}
		}
	}
	t.Logf("worst difference from math.Exp: %d ulp", worst)
}

func BenchmarkExp(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    func(float64) float64
	}{{"math.Exp", math.Exp}, {"expFast", expFast}} {
		b.Run(bc.name, func(b *testing.B) {
			x, s := 17.5, 0.0
			for b.Loop() {
				s += bc.f(x)
				x += 1e-9
			}
			if s == 0 {
				b.Fatal("no sum")
			}
		})
	}
}
