package scenario

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Shard is one of N parts of a run's traffic, so that a load beyond one
// machine runs on N machines (`loadsim run --shard k/N`) whose results merge
// into one (`loadsim report`). Shard K of N (K counts from 1: shards 1/N …
// N/N) takes the arrivals K−1, K−1+N, K−1+2N, … of each tenant's arrival
// sequence: interleaved, so that the N shards together offer exactly the
// scenario's arrivals, each at its own time, and every shard's rate follows
// the profile's shape at 1/N of its height.
//
// The zero value, and any N ≤ 1, is the whole run (Whole reports it). Shard
// is an immutable value, safe for concurrent use.
type Shard struct {
	K int // this shard's number, 1 ≤ K ≤ N
	N int // number of shards; ≤ 1: the whole run
}

// ErrInvalidShard is wrapped by ParseShard's errors.
var ErrInvalidShard = errors.New("invalid shard")

// ParseShard parses "k/N" (e.g. "2/4"): N ≥ 1 shards and this one's number k
// in 1..N. Spaces around k and N are allowed; "1/1" is the whole run.
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w %q: want k/N, e.g. 1/4 for the first of four shards", ErrInvalidShard, s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return Shard{}, fmt.Errorf("%w %q: N must be an integer ≥ 1 (the number of shards), e.g. 1/4", ErrInvalidShard, s)
	}
	k, err := strconv.Atoi(strings.TrimSpace(ks))
	if err != nil || k < 1 || k > n {
		return Shard{}, fmt.Errorf("%w %q: k must be an integer from 1 to %d (shards count from 1), e.g. 1/%d", ErrInvalidShard, s, n, n)
	}
	return Shard{K: k, N: n}, nil
}

// Whole reports whether s is the whole run (N ≤ 1).
func (s Shard) Whole() bool { return s.N <= 1 }

// String returns "k/N", or "" for the whole run.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Index returns the index, in the whole run's arrival sequence, of the
// shard's arrival j (both counting from 0): j·N + K−1; false when it
// overflows. For the whole run it is j.
func (s Shard) Index(j uint64) (uint64, bool) {
	if s.Whole() {
		return j, true
	}
	n, off := uint64(s.N), uint64(s.K-1)
	if j > (math.MaxUint64-off)/n {
		return 0, false
	}
	return j*n + off, true
}

// Count returns how many of the whole run's first total arrivals belong to
// the shard: the j with Index(j) < total.
func (s Shard) Count(total uint64) uint64 {
	if s.Whole() {
		return total
	}
	off := uint64(s.K - 1)
	if total <= off {
		return 0
	}
	return (total-off-1)/uint64(s.N) + 1
}

// Seed derives the seed of the shard's own random draws (request mix,
// client jitter) from a run's seed, so that shards do not all draw the same
// requests and delays. The whole run's is seed itself. Arrival times do not
// use it: every shard builds the profile with the run's seed and takes its
// share of the same sequence.
func (s Shard) Seed(seed uint64) uint64 {
	if s.Whole() {
		return seed
	}
	z := seed ^ (uint64(s.N)<<32|uint64(uint32(s.K)))*0xd1b54a32d192ed03
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Profile returns the shard's part of p: p itself for the whole run, else a
// profile whose hit j is p's hit Index(j). A *Poisson is copied (same rate
// and seed, its own cursor), so the result neither disturbs nor depends on
// p's pacer.
func (s Shard) Profile(p Profile) Profile {
	if s.Whole() {
		return p
	}
	if pp, ok := p.(*Poisson); ok {
		p = NewPoisson(pp.PerSecond(), pp.Seed())
	}
	return ShardProfile{Profile: p, Shard: s}
}

// ShardProfile is Shard's part of Profile (built by Shard.Profile): hit j is
// due when Profile's hit Shard.Index(j) is. Its Rate and Hits are Profile's
// divided by N (∫ Rate, so that the shards' offered rates add up to the
// whole run's); its exact hit count in [0, t) is ⌈(⌈H⌉ − (K−1))/N⌉ with
// ⌈H⌉ the whole run's (Shard.Count). Safe for concurrent use when Profile
// is.
type ShardProfile struct {
	Profile Profile
	Shard   Shard
}

var _ Profile = ShardProfile{}

// Due implements Profile.
func (p ShardProfile) Due(j uint64) (time.Duration, bool) {
	k, ok := p.Shard.Index(j)
	if !ok {
		return 0, false
	}
	return p.Profile.Due(k)
}

// Hits implements Profile.
func (p ShardProfile) Hits(t time.Duration) float64 {
	return p.Profile.Hits(t) / float64(max(p.Shard.N, 1))
}

// Rate implements vegeta.Pacer.
func (p ShardProfile) Rate(t time.Duration) float64 {
	return p.Profile.Rate(t) / float64(max(p.Shard.N, 1))
}

// Pace implements vegeta.Pacer.
func (p ShardProfile) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := p.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns the profile's description with the shard, e.g.
// "constant 10/s, shard 1/2".
func (p ShardProfile) String() string {
	return fmt.Sprintf("%s, shard %s", p.Profile, p.Shard)
}

// OfferedRPS returns the planned arrival rate over d (requests/s) of every
// tenant in shard sh (the whole run for the zero Shard), by tenant name, and
// their sum: what report.Meta's OfferedRPS and TenantOfferedRPS hold. The
// rate of a poisson profile is its mean, whatever the seed.
func (s *Scenario) OfferedRPS(d time.Duration, sh Shard) (total float64, perTenant map[string]float64) {
	perTenant = make(map[string]float64, len(s.Tenants))
	for i, t := range s.Tenants {
		rps := sh.Profile(s.Profile(i, 0)).Hits(d) / d.Seconds()
		perTenant[t.Name] = rps
		total += rps
	}
	return total, perTenant
}
