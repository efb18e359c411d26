package report

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

func TestLogBin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		us  uint64
		bin int
	}{
		{0, 0},         // exact below 4 µs
		{3, 3},         // exact below 4 µs
		{4, 4},         // first log bin [4, 5)
		{7, 7},         // [7, 8)
		{8, 8},         // [8, 10)
		{9, 8},         // [8, 10)
		{10, 9},        // [10, 12)
		{1 << 40, 151}, // beyond the range: last bin
	}
	for _, tt := range tests {
		if got := logBin(tt.us); got != tt.bin {
			t.Errorf("logBin(%d) = %d; want %d", tt.us, got, tt.bin)
		}
	}
	// Every value lies in its bin's range, and bins are ≤ 25 % wide.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		us := rng.Uint64N(1 << 37)
		i := logBin(us)
		lo, hi := logBinRange(i)
		if us < lo || us >= hi {
			t.Fatalf("logBin(%d) = %d with range [%d, %d)", us, i, lo, hi)
		}
		if i >= 4 && float64(hi-lo) > 0.25*float64(lo) {
			t.Fatalf("bin %d = [%d, %d) is wider than 25 %%", i, lo, hi)
		}
	}
}

func TestLogHistQuantile(t *testing.T) {
	t.Parallel()
	var h logHist
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("empty quantile(0.5) = %v; want 0", got)
	}
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tt := range []struct{ q, want float64 }{{0.5, 0.5}, {0.99, 0.99}, {1, 1}} {
		got := h.quantile(tt.q)
		if got < tt.want*0.89 || got > tt.want*1.11 {
			t.Errorf("quantile(%v) = %v; want %v ± 11 %%", tt.q, got, tt.want)
		}
	}
}

// TestPromBucketIndex checks the fast Prometheus bucket lookup against a
// plain search.
func TestPromBucketIndex(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		v := time.Duration(rng.Int64N(int64(20 * time.Minute)))
		if rng.IntN(4) == 0 {
			v = time.Duration(promBoundsNs[rng.IntN(numPromBounds)]) + time.Duration(rng.IntN(3)-1)
		}
		d := newDurHist()
		d.record(v, logBin(durationMicros(v)))
		want := 0
		for want < numPromBounds && int64(v) > promBoundsNs[want] {
			want++
		}
		if d.prom[want] != 1 {
			t.Fatalf("record(%v) counted in %v; want bucket %d", v, d.prom, want)
		}
	}
}

// TestHDRLayout checks durHist's HDR layout against hdrhistogram-go: the
// counts' length, the index of every value of interest (each recorded with
// its own weight, so that two swapped indexes show), and that hist and merge
// give what the library's RecordValues and Merge give.
func TestHDRLayout(t *testing.T) {
	t.Parallel()
	lib := hdr.New(hdrLowest, hdrHighest, hdrDigits)
	if n := len(lib.Export().Counts); n != hdrCountsLen {
		t.Fatalf("hdrCountsLen = %d; the library's layout has %d counts", hdrCountsLen, n)
	}
	var values []int64
	for v := range int64(5000) {
		values = append(values, v)
	}
	for p := int64(1); p <= hdrHighest; p *= 2 {
		values = append(values, p-1, p, p+1, p+p/3)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		values = append(values, rng.Int64N(hdrHighest+1))
	}
	values = append(values, hdrHighest)
	d := newDurHist()
	for i, v := range values {
		if err := lib.RecordValues(v, int64(i+1)); err != nil {
			t.Fatalf("library RecordValues(%d): %v", v, err)
		}
		*d.at(hdrIndex(v)) += int64(i + 1)
	}
	if got, want := d.hist().Export().Counts, lib.Export().Counts; !slices.Equal(got, want) {
		t.Fatal("hdrIndex differs from the library's index for some value")
	}
	if got, want := d.hist().ValueAtQuantile(99), lib.ValueAtQuantile(99); got != want {
		t.Errorf("hist().ValueAtQuantile(99) = %d; the library's %d", got, want)
	}

	// merge: the same layout count by count, another through the library.
	for _, other := range []*hdr.Histogram{hdr.New(hdrLowest, hdrHighest, hdrDigits), hdr.New(1, 1e6, 2)} {
		for _, v := range []int64{0, 3, 2047, 2048, 99_999, 500_000} {
			_ = other.RecordValues(v, 7)
		}
		m := newDurHist()
		m.merge(lib)
		m.merge(other)
		want := hdr.New(hdrLowest, hdrHighest, hdrDigits)
		want.Merge(lib)
		want.Merge(other)
		if !slices.Equal(m.hist().Export().Counts, want.Export().Counts) {
			t.Errorf("merge of a %d-digit histogram differs from the library's Merge", other.SignificantFigures())
		}
	}
}

// TestHDRQuantiles checks durHist.quantiles against hdr.Histogram's
// ValueAtQuantile and Max on the same counts: empty, one value (at 0, at
// the index boundaries, at hdrHighest), and random histograms of a few to
// many values, narrow and wide, with counts of 1 (so that a rank one off
// shows) and with large counts.
func TestHDRQuantiles(t *testing.T) {
	t.Parallel()
	lib := func(d *durHist) Quantiles {
		h := d.hist()
		if h.TotalCount() == 0 {
			return Quantiles{}
		}
		sec := func(us int64) float64 { return float64(us) / 1e6 }
		return Quantiles{P50: sec(h.ValueAtQuantile(50)), P90: sec(h.ValueAtQuantile(90)),
			P99: sec(h.ValueAtQuantile(99)), Max: sec(h.Max())}
	}
	check := func(name string, d *durHist) {
		t.Helper()
		if got, want := d.quantiles(), lib(d); got != want {
			t.Fatalf("%s: quantiles() = %+v; the library gives %+v", name, got, want)
		}
	}
	check("empty", ptr(newDurHist()))
	for _, v := range []int64{0, 1, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 80_000, 1 << 30, hdrHighest} {
		d := newDurHist()
		*d.at(hdrIndex(v)) = 3
		check(fmt.Sprintf("one value %d", v), &d)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 300 {
		d := newDurHist()
		spread := rng.Int64N(40) + 1 // values up to 2^spread µs
		for range 1 + rng.IntN(1+n*10) {
			v := rng.Int64N(min(int64(1)<<spread, hdrHighest+1))
			c := int64(1) // even cases: one per value, so that a rank one off lands elsewhere
			if n%2 == 1 {
				c += rng.Int64N(1 + int64(n)*int64(n)*1000)
			}
			*d.at(hdrIndex(v)) += c
		}
		check(fmt.Sprintf("random histogram %d", n), &d)
	}
}

func ptr[T any](v T) *T { return &v }
