package api

import (
	"math"
	"time"
)

// Quota spans, in seconds.
const (
	minuteSpan = 60
	daySpan    = 86_400
)

// spanKind is a span's algorithm: its QuotaKind as a small integer, which
// the hot path compares more cheaply than a string.
type spanKind uint8

const (
	fixedWindow spanKind = iota
	slidingWindow
	tokenBucket
)

// span is one quota span (the minute or the day) of one key: its request
// and token limits and the state of the selected algorithm. Time is rel, the
// nanoseconds since the model's start (never negative: the Model clamps it).
// Windows stay aligned to UTC minutes and days: off places the model's start
// inside its own aligned window. Not safe for concurrent use (the Model's
// mutex guards it).
type span struct {
	kind   spanKind
	spanNs int64    // span length, ns
	off    uint64   // ns from the start of the aligned window holding the model's start to that start
	limit  [2]int64 // [requests, tokens]; -1 unlimited

	// fixed-window and sliding-window: counts of the current aligned window
	// and of the one before it. idx counts windows from the one holding the
	// model's start (math.MinInt64 before the first roll); winStart is where
	// the current window starts and elapsed how far into it the last roll
	// was, both in ns on the off-shifted axis. Before the first roll,
	// winStart is off+2^63, so that roll finds any rel (< 2^63) outside the
	// window and rolls over.
	idx       int64
	winStart  uint64
	elapsed   int64
	cur, prev [2]int64
	cap       [2]int64 // limit, math.MaxInt64 when unlimited (fixed-window check)

	buckets [2]bucket // token-bucket
}

// bucket is a token bucket with the arithmetic of golang.org/x/time/rate's
// Limiter (advance, then AllowN's tokens -= n; see TestBucketMatchesRate),
// on the model's int64 clock and without the Limiter's own mutex: the
// Model's mutex already guards it.
type bucket struct {
	rate   float64 // refill, tokens per second (limit / span seconds)
	burst  float64 // capacity (the limit)
	tokens float64 // tokens at last
	last   int64   // rel of the last consume
}

// at returns the tokens at rel (rate.Limiter.TokensAt).
func (b *bucket) at(rel int64) float64 {
	if rel == b.last {
		// Nothing elapsed: tokens + 0×rate, as the general case computes.
		return min(b.tokens, b.burst)
	}
	last := b.last
	if rel < last {
		last = rel
	}
	tokens := b.tokens + time.Duration(rel-last).Seconds()*b.rate
	if tokens > b.burst {
		tokens = b.burst
	}
	return tokens
}

// take removes n tokens at rel (rate.Limiter.AllowN after a successful
// check).
func (b *bucket) take(rel int64, n int64) {
	b.tokens = b.at(rel) - float64(n)
	b.last = rel
}

// newSpan returns a span of seconds for a model started at start.
func newSpan(kind QuotaKind, seconds, reqLimit, tokLimit int64, start time.Time) span {
	sec := start.Unix()
	k := fixedWindow
	switch kind {
	case QuotaSlidingWindow:
		k = slidingWindow
	case QuotaTokenBucket:
		k = tokenBucket
	}
	s := span{kind: k, spanNs: seconds * 1e9, limit: [2]int64{reqLimit, tokLimit}, idx: math.MinInt64,
		off: uint64(sec-floorDiv(sec, seconds)*seconds)*1e9 + uint64(start.Nanosecond()),
		cap: [2]int64{budget(reqLimit), budget(tokLimit)}}
	s.winStart = s.off + 1<<63
	if k == tokenBucket {
		for i, l := range s.limit {
			if l > 0 {
				// A full bucket: what rate.NewLimiter(limit/span, limit)
				// holds on its first use.
				s.buckets[i] = bucket{rate: float64(l) / float64(seconds), burst: float64(l), tokens: float64(l)}
			}
		}
	}
	return s
}

// floorDiv is a/b rounded toward −∞ (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// roll moves the window to the one holding rel and records how far into it
// rel is (token buckets have no windows and ignore it). Every other method
// needs roll at the same rel first.
func (s *span) roll(rel int64) {
	if d := uint64(rel) + s.off - s.winStart; d < uint64(s.spanNs) {
		s.elapsed = int64(d) // same window: no division
		return
	}
	s.rollOver(rel)
}

// rollOver is roll into another window.
func (s *span) rollOver(rel int64) {
	pos := uint64(rel) + s.off
	idx := int64(pos / uint64(s.spanNs))
	switch {
	case idx == s.idx:
	case idx == s.idx+1:
		s.prev, s.cur = s.cur, [2]int64{}
	default:
		s.prev, s.cur = [2]int64{}, [2]int64{}
	}
	s.idx = idx
	s.winStart = uint64(idx) * uint64(s.spanNs)
	s.elapsed = int64(pos - s.winStart)
}

// slidingUsed returns the sliding counter's estimate of dimension i (after
// roll): cur + prev×(1 − elapsed/span).
func (s *span) slidingUsed(i int) float64 {
	if s.prev[i] == 0 {
		// 0×(spanD−elapsed)/spanD is exactly 0: skip the division.
		return float64(s.cur[i])
	}
	spanD := float64(s.spanNs)
	return float64(s.prev[i])*(spanD-float64(s.elapsed))/spanD + float64(s.cur[i])
}

// tolerance absorbs float rounding in sliding-window and token-bucket checks.
func tolerance(limit int64) float64 { return 1e-9 * max(1, float64(limit)) }

// fixedWait returns 0 when need = [1 request, tokens] fits in a fixed
// window (after roll), or else how long until the window ends; it needs no
// time but the window's elapsed part (roll's).
func (s *span) fixedWait(need [2]int64) time.Duration {
	if s.cur[0]+need[0] > s.cap[0] || s.cur[1]+need[1] > s.cap[1] {
		return time.Duration(s.spanNs - s.elapsed) // until the window ends
	}
	return 0
}

// waitOther is fixedWait for sliding windows and token buckets: 0 when need
// fits at rel (after roll), or else how long until it would fit if nothing
// else were consumed.
func (s *span) waitOther(rel int64, need [2]int64) time.Duration {
	var w time.Duration
	switch s.kind {
	case slidingWindow:
		for i, l := range s.limit {
			if l >= 0 {
				w = max(w, s.slidingWait(i, need[i]))
			}
		}
	case tokenBucket:
		for i, l := range s.limit {
			if l < 0 {
				continue
			}
			b := &s.buckets[i]
			if have := b.at(rel); have < float64(need[i]) { // strict, as rate.Limiter.AllowN
				secs := (float64(need[i]) - have) / b.rate
				w = max(w, time.Duration(math.Ceil(secs*1e9)))
			}
		}
	}
	return w
}

// slidingWait solves prev×(1 − x/S) + cur ≤ limit − need for the elapsed
// time x, in this window or (when cur alone is too much) the next one.
func (s *span) slidingWait(i int, need int64) time.Duration {
	l := s.limit[i]
	room := float64(l - need) // what the estimate may be before this request
	if s.slidingUsed(i) <= room+tolerance(l) {
		return 0
	}
	spanD := float64(s.spanNs)
	elapsed := float64(s.elapsed)
	var at float64 // nanoseconds from now
	if cur := float64(s.cur[i]); cur <= room {
		x := spanD * (1 - (room-cur)/float64(s.prev[i]))
		at = x - elapsed
	} else {
		// Into the next window, where cur becomes prev.
		y := spanD
		if room >= 0 {
			y = spanD * (1 - room/cur)
		}
		at = spanD - elapsed + y
	}
	return time.Duration(math.Ceil(max(at, 1)))
}

// consume takes need from every limited dimension (the caller checked wait).
func (s *span) consume(rel int64, need [2]int64) {
	if s.kind != tokenBucket {
		s.cur[0] += need[0]
		s.cur[1] += need[1]
		return
	}
	s.take(rel, need)
}

// take is consume for token buckets.
func (s *span) take(rel int64, need [2]int64) {
	for i, l := range s.limit {
		if l > 0 {
			s.buckets[i].take(rel, need[i])
		}
	}
}

// remaining returns what is left of dimension i at rel (after roll), rounded
// down, at least 0; -1 when unlimited.
func (s *span) remaining(rel int64, i int) int64 {
	if s.kind == fixedWindow || s.limit[i] < 0 {
		return s.fixedRemaining(i)
	}
	return s.remainingOther(rel, i)
}

// fixedRemaining is remaining for a fixed window or an unlimited
// dimension, which needs no time: the limit less the window's count.
func (s *span) fixedRemaining(i int) int64 {
	if l := s.limit[i]; l >= 0 {
		return max(0, l-s.cur[i])
	}
	return -1
}

// remainingOther is remaining of a limited sliding window or token bucket.
func (s *span) remainingOther(rel int64, i int) int64 {
	l := s.limit[i]
	var left float64
	if s.kind == slidingWindow {
		left = float64(l) - s.slidingUsed(i)
	} else {
		left = s.buckets[i].at(rel)
	}
	return max(0, int64(math.Floor(left+tolerance(l))))
}
