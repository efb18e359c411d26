package scenario

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"1/1", Shard{1, 1}, ""},                              // one shard: the whole run
		{"2/4", Shard{2, 4}, ""},                              // the second of four
		{" 3 / 3 ", Shard{3, 3}, ""},                          // spaces around the numbers
		{"4/4", Shard{4, 4}, ""},                              // the last shard
		{"0/4", Shard{}, "k must be an integer from 1 to 4"},  // shards count from 1
		{"5/4", Shard{}, "k must be an integer from 1 to 4"},  // beyond N
		{"-1/4", Shard{}, "k must be an integer from 1 to 4"}, // negative
		{"1/0", Shard{}, "N must be an integer ≥ 1"},          // no shards
		{"1/x", Shard{}, "N must be an integer ≥ 1"},          // not a number
		{"a/2", Shard{}, "k must be an integer from 1 to 2"},  // not a number
		{"2", Shard{}, "want k/N"},                            // no slash
		{"", Shard{}, "want k/N"},                             // empty
		{"1/2/3", Shard{}, "N must be an integer ≥ 1"},        // two slashes
	}
	for _, tc := range tests {
		got, err := ParseShard(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseShard(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidShard) {
			t.Errorf("ParseShard(%q) = %v, %v; want an ErrInvalidShard containing %q", tc.in, got, err, tc.wantErr)
		}
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/1", "2/4", "0/4", "5/4", "1/0", "x", "", " 7 / 9 ", "1/2/3", "99999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidShard) {
				t.Fatalf("ParseShard(%q) = %v; want an ErrInvalidShard", s, err)
			}
			return
		}
		if sh.N < 1 || sh.K < 1 || sh.K > sh.N {
			t.Fatalf("ParseShard(%q) = %+v; want 1 ≤ K ≤ N", s, sh)
		}
		if !sh.Whole() {
			back, err := ParseShard(sh.String())
			if err != nil || back != sh {
				t.Fatalf("ParseShard(String(ParseShard(%q))) = %+v, %v; want %+v", s, back, err, sh)
			}
		}
	})
}

func TestShardWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sh    Shard
		whole bool
		str   string
	}{
		{Shard{}, true, ""},         // the zero value
		{Shard{1, 1}, true, ""},     // one shard
		{Shard{2, 3}, false, "2/3"}, // a real shard
	}
	for _, tc := range tests {
		if tc.sh.Whole() != tc.whole || tc.sh.String() != tc.str {
			t.Errorf("%+v: Whole() = %v, String() = %q; want %v, %q", tc.sh, tc.sh.Whole(), tc.sh.String(), tc.whole, tc.str)
		}
		p := Constant{PerSecond: 3}
		if tc.whole && tc.sh.Profile(p) != Profile(p) {
			t.Errorf("%+v.Profile(%v) = %v; want the profile itself", tc.sh, p, tc.sh.Profile(p))
		}
		if tc.whole && tc.sh.Seed(42) != 42 {
			t.Errorf("%+v.Seed(42) = %d; want 42", tc.sh, tc.sh.Seed(42))
		}
	}
}

// Shards' seeds differ from each other and from the run's.
func TestShardSeed(t *testing.T) {
	t.Parallel()
	seen := map[uint64]string{7: "run"}
	for n := 2; n <= 4; n++ {
		for k := 1; k <= n; k++ {
			sh := Shard{k, n}
			s := sh.Seed(7)
			if prev, dup := seen[s]; dup {
				t.Errorf("Shard%v.Seed(7) = %d, the same as %s", sh, s, prev)
			}
			seen[s] = sh.String()
		}
	}
}

// The N shards of a profile together arrive exactly when the profile does:
// every arrival of the whole run belongs to exactly one shard, at its time,
// each shard's count is Count of the whole run's, and the shards' Hits add
// up to the profile's.
func TestShardArrivalsPartition(t *testing.T) {
	t.Parallel()
	rows := []TraceRow{{At: 0}, {At: 100 * time.Millisecond}, {At: 100 * time.Millisecond}, {At: 2 * time.Second}, {At: 2500 * time.Millisecond}}
	tests := []struct {
		name string
		p    func() Profile
		d    time.Duration
	}{
		{"constant", func() Profile { return Constant{PerSecond: 7} }, 10 * time.Second},                                  // a steady rate
		{"ramp", func() Profile { return Ramp{From: 0, To: 20, Over: 5 * time.Second} }, 8 * time.Second},                 // starting at 0
		{"spike", func() Profile { return Spike{Base: 2, Peak: 30, At: time.Second, For: time.Second} }, 5 * time.Second}, // a burst
		{"poisson", func() Profile { return NewPoisson(13, 99) }, 10 * time.Second},                                       // random gaps, same seed
		{"trace", func() Profile { return NewTrace("mem.csv", 1, rows) }, 10 * time.Second},                               // fewer rows than some shards × 2
	}
	for _, tc := range tests {
		for n := 1; n <= 4; n++ {
			var whole []time.Duration
			seq := Arrivals(tc.p(), tc.d)
			for d, ok := seq.Next(); ok; d, ok = seq.Next() {
				whole = append(whole, d)
			}
			got := make([]time.Duration, len(whole))
			have := make([]bool, len(whole))
			var hits float64
			for k := 1; k <= n; k++ {
				sh := Shard{k, n}
				sp := sh.Profile(tc.p())
				seq := Arrivals(sp, tc.d)
				var j uint64
				for d, ok := seq.Next(); ok; d, ok = seq.Next() {
					i, _ := sh.Index(j)
					if i >= uint64(len(whole)) || have[i] {
						t.Fatalf("%s shard %s: arrival %d maps to whole index %d (of %d, taken %v)", tc.name, sh, j, i, len(whole), i < uint64(len(whole)) && have[i])
					}
					got[i], have[i] = d, true
					j++
				}
				if c := sh.Count(uint64(len(whole))); c != j {
					t.Errorf("%s shard %s: Count(%d) = %d; want its %d arrivals", tc.name, sh, len(whole), c, j)
				}
				hits += sp.Hits(tc.d)
			}
			if h := tc.p().Hits(tc.d); math.Abs(hits-h) > 1e-9*h {
				t.Errorf("%s with %d shards: Σ Hits(%s) = %v; want the profile's %v", tc.name, n, tc.d, hits, h)
			}
			for i := range whole {
				if !have[i] || got[i] != whole[i] {
					t.Errorf("%s with %d shards: whole arrival %d at %s: shards have %v at %s", tc.name, n, i, whole[i], have[i], got[i])
				}
			}
		}
	}
}

func TestShardProfilePacer(t *testing.T) {
	t.Parallel()
	sp := Shard{2, 3}.Profile(Constant{PerSecond: 30})
	tests := []struct {
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{0, 0, 100 * time.Millisecond / 3, false},   // hit 0 of shard 2/3 is the whole run's hit 1 at 1/30 s
		{50 * time.Millisecond, 1, 83333333, false}, // hit 1 is whole hit 4 at 4/30 s
		{time.Second, 1, 0, false},                  // late: at once
	}
	for _, tc := range tests {
		wait, stop := sp.Pace(tc.elapsed, tc.hits)
		if wait != tc.wait || stop != tc.stop {
			t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v", tc.elapsed, tc.hits, wait, stop, tc.wait, tc.stop)
		}
	}
	if r := sp.Rate(time.Second); r != 10 {
		t.Errorf("Rate(1s) = %v; want 10", r)
	}
	if s := sp.(ShardProfile).String(); s != "constant 30/s, shard 2/3" {
		t.Errorf("String() = %q; want %q", s, "constant 30/s, shard 2/3")
	}
	if _, ok := (Shard{2, 3}).Index(math.MaxUint64 / 2); ok {
		t.Errorf("Shard{2,3}.Index(MaxUint64/2) = ok; want an overflow")
	}
}
