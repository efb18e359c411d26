package plot

import (
	"github.com/loadsim/loadsim/report"
)

// BucketTimes returns the x coordinate of each of s's buckets for TimeLines:
// the middle of the bucket, in seconds since the start of the run (a rate
// measured over a bucket is drawn at its middle).
func BucketTimes(s *report.Series) []float64 {
	w := float64(s.BucketSeconds)
	out := make([]float64, len(s.Circuit))
	for i := range out {
		out[i] = (float64(i) + 0.5) * w
	}
	return out
}

// RateLine returns a Line of per-second rates over the run, for TimeLines:
// count(b) / bucket width for each bucket b of s.Overall() (every tenant
// added together), at BucketTimes. For example the attempts/s of one strategy
// in a comparison:
//
//	plot.RateLine("naive-immediate", series, func(b *report.Bucket) uint64 { return b.Attempts.Total() })
func RateLine(name string, s *report.Series, count func(b *report.Bucket) uint64) Line {
	return rateLine(name, s, s.Overall(), count)
}

// TenantRateLine is RateLine over one tenant's buckets.
func TenantRateLine(name string, s *report.Series, t *report.TenantSeries, count func(b *report.Bucket) uint64) Line {
	return rateLine(name, s, t.Buckets, count)
}

func rateLine(name string, s *report.Series, buckets []report.Bucket, count func(b *report.Bucket) uint64) Line {
	x := BucketTimes(s)
	w := float64(s.BucketSeconds)
	if w <= 0 {
		w = 1
	}
	n := min(len(x), len(buckets))
	y := make([]float64, n)
	for i := range n {
		y[i] = float64(count(&buckets[i])) / w
	}
	return Line{Name: name, X: x[:n], Y: y}
}
