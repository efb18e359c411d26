package api

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Quota spans, in seconds.
const (
	minuteSpan = 60
	daySpan    = 86_400
)

// span is one quota span (the minute or the day) of one key: its request
// and token limits and the state of the selected algorithm. Not safe for
// concurrent use (the Model's mutex guards it).
type span struct {
	kind    QuotaKind
	seconds int64    // span length
	limit   [2]int64 // [requests, tokens]; -1 unlimited

	// fixed-window and sliding-window: counts of the UTC-aligned window idx
	// and of the one before it.
	idx        int64
	cur, prev  [2]int64
	buckets    [2]*rate.Limiter // token-bucket (nil when unlimited)
	refillRate [2]float64       // token-bucket refill per second
}

func newSpan(kind QuotaKind, seconds, reqLimit, tokLimit int64) span {
	s := span{kind: kind, seconds: seconds, limit: [2]int64{reqLimit, tokLimit}, idx: math.MinInt64}
	if kind == QuotaTokenBucket {
		for i, l := range s.limit {
			if l > 0 {
				s.refillRate[i] = float64(l) / float64(seconds)
				s.buckets[i] = rate.NewLimiter(rate.Limit(s.refillRate[i]), int(l))
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

// roll moves fixed and sliding windows to the window holding now.
func (s *span) roll(now time.Time) {
	if s.kind == QuotaTokenBucket {
		return
	}
	idx := floorDiv(now.Unix(), s.seconds)
	if idx == s.idx {
		return
	}
	if idx == s.idx+1 {
		s.prev = s.cur
	} else {
		s.prev = [2]int64{}
	}
	s.cur = [2]int64{}
	s.idx = idx
}

// windowStart returns the start of the current aligned window.
func (s *span) windowStart() time.Time { return time.Unix(s.idx*s.seconds, 0) }

// slidingUsed returns the sliding counter's estimate of dimension i at now:
// cur + prev×(1 − elapsed/span).
func (s *span) slidingUsed(now time.Time, i int) float64 {
	spanD := float64(s.seconds) * 1e9
	elapsed := float64(now.Sub(s.windowStart()))
	return float64(s.prev[i])*(spanD-elapsed)/spanD + float64(s.cur[i])
}

// tolerance absorbs float rounding in sliding-window and token-bucket checks.
func tolerance(limit int64) float64 { return 1e-9 * max(1, float64(limit)) }

// wait returns 0 when need = [1 request, tokens] fits in the span at now
// (after roll), or else how long until it would fit if nothing else were
// consumed.
func (s *span) wait(now time.Time, need [2]int64) time.Duration {
	var w time.Duration
	for i, l := range s.limit {
		if l < 0 {
			continue
		}
		switch s.kind {
		case QuotaFixedWindow:
			if s.cur[i]+need[i] > l {
				w = max(w, s.windowStart().Add(time.Duration(s.seconds)*time.Second).Sub(now))
			}
		case QuotaSlidingWindow:
			w = max(w, s.slidingWait(now, i, need[i]))
		case QuotaTokenBucket:
			have := s.buckets[i].TokensAt(now)
			if have < float64(need[i]) { // strict, as rate.Limiter.AllowN
				secs := (float64(need[i]) - have) / s.refillRate[i]
				w = max(w, time.Duration(math.Ceil(secs*1e9)))
			}
		}
	}
	return w
}

// slidingWait solves prev×(1 − x/S) + cur ≤ limit − need for the elapsed
// time x, in this window or (when cur alone is too much) the next one.
func (s *span) slidingWait(now time.Time, i int, need int64) time.Duration {
	l := s.limit[i]
	room := float64(l - need) // what the estimate may be before this request
	if s.slidingUsed(now, i) <= room+tolerance(l) {
		return 0
	}
	spanD := float64(s.seconds) * 1e9
	elapsed := float64(now.Sub(s.windowStart()))
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
func (s *span) consume(now time.Time, need [2]int64) {
	for i := range need {
		if s.kind == QuotaTokenBucket {
			if s.buckets[i] != nil {
				s.buckets[i].AllowN(now, int(need[i]))
			}
			continue
		}
		s.cur[i] += need[i]
	}
}

// remaining returns what is left of dimension i at now (after roll), rounded
// down, at least 0; -1 when unlimited.
func (s *span) remaining(now time.Time, i int) int64 {
	l := s.limit[i]
	if l < 0 {
		return -1
	}
	var left float64
	switch s.kind {
	case QuotaFixedWindow:
		return max(0, l-s.cur[i])
	case QuotaSlidingWindow:
		left = float64(l) - s.slidingUsed(now, i)
	case QuotaTokenBucket:
		left = s.buckets[i].TokensAt(now)
	}
	return max(0, int64(math.Floor(left+tolerance(l))))
}
