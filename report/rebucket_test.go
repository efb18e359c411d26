package report

import (
	"testing"
)

func TestRebucket(t *testing.T) {
	t.Parallel()
	q := func(v int64) *int64 { return &v }
	s := &Series{Version: SeriesVersion, BucketSeconds: 2, Circuit: []int{-1, 0, 2, 0, 1},
		Tenants: []TenantSeries{{Name: "a", Buckets: []Bucket{
			{Arrivals: 1, Attempts: StatusClasses{S2xx: 1}, Successes: 1, LatencyBins: [][2]uint64{{40, 1}}},
			{Arrivals: 2, Attempts: StatusClasses{S429: 2}, QuotaMinuteRemaining: q(5), QuotaDayRemaining: q(50)},
			{Arrivals: 3, Attempts: StatusClasses{S2xx: 3}, QuotaMinuteRemaining: q(3), QuotaDayRemaining: q(40), LatencyBins: [][2]uint64{{60, 3}}},
			{Retries: 4},
			{Arrivals: 5},
		}}}}
	for _, c := range []struct {
		k           int
		wantCircuit []int
		wantArr     []uint64
	}{
		{1, []int{-1, 0, 2, 0, 1}, []uint64{1, 2, 3, 0, 5}}, // k = 1 copies
		{2, []int{0, 2, 1}, []uint64{3, 3, 5}},              // pairs, the last one alone
		{5, []int{2}, []uint64{11}},                         // everything in one
		{9, []int{2}, []uint64{11}},                         // k beyond the length
	} {
		got, err := s.Rebucket(c.k)
		if err != nil {
			t.Fatalf("Rebucket(%d): %v", c.k, err)
		}
		if got.BucketSeconds != 2*int64(c.k) {
			t.Errorf("Rebucket(%d).BucketSeconds = %d; want %d", c.k, got.BucketSeconds, 2*c.k)
		}
		if len(got.Circuit) != len(c.wantCircuit) {
			t.Fatalf("Rebucket(%d).Circuit = %v; want %v", c.k, got.Circuit, c.wantCircuit)
		}
		for i := range c.wantCircuit {
			if got.Circuit[i] != c.wantCircuit[i] || got.Tenants[0].Buckets[i].Arrivals != c.wantArr[i] {
				t.Errorf("Rebucket(%d) bucket %d: circuit %d arrivals %d; want %d, %d", c.k, i,
					got.Circuit[i], got.Tenants[0].Buckets[i].Arrivals, c.wantCircuit[i], c.wantArr[i])
			}
		}
	}
	got, err := s.Rebucket(2)
	if err != nil {
		t.Fatal(err)
	}
	b := got.Tenants[0].Buckets[1] // buckets 2 and 3
	if b.QuotaMinuteRemaining == nil || *b.QuotaMinuteRemaining != 3 || b.Retries != 4 || b.Attempts.S2xx != 3 {
		t.Errorf("Rebucket(2) bucket 1 = %+v; want quota minute 3, retries 4, 2xx 3", b)
	}
	b0 := got.Tenants[0].Buckets[0] // latency bins 40 (×1) and none: p50 from bin 40
	if want := binsQuantile(append(make([]uint32, 40), 1), 0.5); b0.LatencyP50 != want {
		t.Errorf("Rebucket(2) bucket 0 latency p50 = %g; want %g", b0.LatencyP50, want)
	}
	if _, err := s.Rebucket(0); err == nil {
		t.Errorf("Rebucket(0) = nil error; want an error")
	}
}
