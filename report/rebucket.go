package report

import "fmt"

// Rebucket returns a copy of s with every k consecutive buckets merged into
// one of k × BucketSeconds: counts add, the per-bucket histograms merge and
// their quantiles are recomputed, quotas keep the lowest remaining seen and
// the circuit the most severe state. The last bucket may cover fewer than k
// of the original ones. Totals are copied unchanged; k = 1 returns an equal
// copy. Useful to draw per-bucket quantiles of long or sparse runs, which are
// noisy when each bucket holds a few requests. It is an error for k to be < 1.
func (s *Series) Rebucket(k int) (*Series, error) {
	if k < 1 {
		return nil, fmt.Errorf("rebucket series: k must be ≥ 1, got %d", k)
	}
	n := (len(s.Circuit) + k - 1) / k
	out := &Series{Version: s.Version, Start: s.Start, BucketSeconds: s.BucketSeconds * int64(k),
		Circuit: make([]int, n), Tenants: make([]TenantSeries, len(s.Tenants))}
	for i := range out.Circuit {
		out.Circuit[i] = -1
	}
	for i, c := range s.Circuit {
		out.Circuit[i/k] = max(out.Circuit[i/k], c)
	}
	for ti, t := range s.Tenants {
		acc := make([]bucket, n)
		for i := range t.Buckets {
			if i/k >= n {
				break
			}
			b, err := importBucket(&t.Buckets[i])
			if err != nil {
				return nil, fmt.Errorf("rebucket series: tenant %q, bucket %d: %w", t.Name, i, err)
			}
			addBucket(&acc[i/k], &b)
		}
		bs := make([]Bucket, n)
		for i := range acc {
			bs[i] = exportBucket(&acc[i])
		}
		out.Tenants[ti] = TenantSeries{Name: t.Name, Totals: t.Totals, Buckets: bs}
	}
	return out, nil
}
