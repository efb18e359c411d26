package api

import "math"

// Input is one item to compress: a single request's context and query, or
// one batch input. Query is "" on question-agnostic routes.
type Input struct{ Context, Query string }

// Tokens returns the item's input tokens: ceil(UTF-8 bytes of context+query / 4).
func Tokens(in Input) int64 { return ceilDiv4(int64(len(in.Context)) + int64(len(in.Query))) }

func ceilDiv4(n int64) int64 { return (n + 3) / 4 }

// Compress returns the tokens left after compressing tokens at target ratio
// r: ceil(tokens×(1−r)) for 0 ≤ r ≤ 1 and ceil(tokens/r) for r > 1. A
// negative ratio or NaN counts as 0 (no compression).
func Compress(tokens int64, ratio float64) int64 {
	if tokens <= 0 {
		return 0
	}
	var c float64
	switch {
	case ratio > 1:
		c = math.Ceil(float64(tokens) / ratio)
	case ratio >= 0:
		// Round away float noise before the ceiling (0.3×10 = 3.0000000000000004).
		c = math.Ceil(roundTiny(float64(tokens) * (1 - ratio)))
	default:
		c = float64(tokens)
	}
	return int64(c)
}

// roundTiny snaps x to the nearest integer when it is within 1e-9 of it.
func roundTiny(x float64) float64 {
	if r := math.Round(x); math.Abs(x-r) < 1e-9 {
		return r
	}
	return x
}

// ActualRatio returns actual_compression_ratio: compressed/original, 0 when
// original is 0.
func ActualRatio(original, compressed int64) float64 {
	if original <= 0 {
		return 0
	}
	return float64(compressed) / float64(original)
}
