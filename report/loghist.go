package report

import (
	"math/bits"
	"time"
)

// logBins is the number of bins of a logHist: bins 0–3 hold 0–3 µs exactly,
// then four bins per power of two up to 2^38 µs (about 76 h); larger values go
// to the last bin.
const logBins = 152

// logHist is a small fixed log-bucket histogram of durations in microseconds,
// used per time bucket where an HDR histogram would be too large. A value v ≥ 4
// µs falls in bin 4·(e−1) + the two bits after the leading one, where
// e = ⌊log2 v⌋; a bin spans at most 25 % of its lower bound, so a quantile
// read as the bin's midpoint is within about 11 % of the true value.
// The zero value is an empty histogram.
type logHist [logBins]uint32

// logBin returns the bin of a value in microseconds.
func logBin(us uint64) int {
	if us < 4 {
		return int(us)
	}
	e := bits.Len64(us) - 1
	i := 4*(e-1) + int((us>>(e-2))&3)
	if i >= logBins {
		return logBins - 1
	}
	return i
}

// logBinRange returns the half-open range [lo, hi) of bin i in microseconds.
func logBinRange(i int) (lo, hi uint64) {
	if i < 4 {
		return uint64(i), uint64(i) + 1
	}
	e := i/4 + 1
	sub := uint64(i % 4)
	return (4 + sub) << (e - 2), (5 + sub) << (e - 2)
}

// add records one duration (negative durations count as 0).
func (h *logHist) add(d time.Duration) {
	h[logBin(durationMicros(d))]++
}

// quantile returns the q-quantile (0 < q ≤ 1) in seconds as the midpoint of
// the bin holding the ⌈q·n⌉-th value, or 0 when the histogram is empty.
func (h *logHist) quantile(q float64) float64 {
	return binsQuantile(h[:], q)
}

// binsQuantile is logHist.quantile over any slice of bin counts.
func binsQuantile(bins []uint32, q float64) float64 {
	var n uint64
	for _, c := range bins {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range bins {
		cum += uint64(c)
		if cum >= rank {
			lo, hi := logBinRange(i)
			if i < 4 {
				return float64(lo) / 1e6
			}
			return float64(lo+hi) / 2 / 1e6
		}
	}
	return 0
}

// durationMicros converts d to whole microseconds, negative durations to 0.
func durationMicros(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d / time.Microsecond)
}
