package mock

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The mock writes its few fixed response shapes with append-based JSON
// instead of encoding/json: no reflection, no intermediate values, one pooled
// buffer per response. Every writer below produces RFC 8259 JSON; the fuzz
// tests check it against encoding/json.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal. Quotes, backslashes and
// control characters are escaped; invalid UTF-8 becomes U+FFFD (as
// encoding/json does); U+2028 and U+2029 are escaped so the output is also
// valid JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(load8(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Bytes of a uint64 holding 8 string bytes: 0x01 and 0x80 in each.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// load8 returns s[i:i+8] as a little-endian uint64 (the compiler makes it one
// load).
func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// plain8 reports whether each of the 8 bytes in x is printable ASCII other
// than '"' and '\\' (0x20…0x7f), i.e. goes into a JSON string as is. With no
// byte of 0x80 or more (x&msbs == 0), subtracting 0x20, or 1 from x xor a
// repeated '"' or '\\', sets a byte's top bit exactly when some byte is below
// 0x20 or equal to the character (a borrow can only follow a hit).
func plain8(x uint64) bool {
	q := x ^ (lsbs * '"')
	bs := x ^ (lsbs * '\\')
	return (x|(x-lsbs*0x20)|(q-lsbs)|(bs-lsbs))&msbs == 0
}

// appendFloat appends f as a JSON number (shortest representation that
// round-trips). NaN and ±Inf, which JSON cannot express, are written as 0.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	if b, ok := appendMicros(dst, f); ok {
		return b
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// appendMicros is appendFloat's fast path for the mock's usual numbers
// (ratios such as 0.5, durations in whole microseconds, integers): when f is
// below 1e9 in magnitude and is the float nearest to a decimal k/10⁶, it
// appends that decimal and reports true; otherwise it appends nothing.
//
// That decimal is then exactly what strconv.AppendFloat(f, 'f', -1) writes:
// it round-trips to f, and no other decimal with at most 6 fractional digits
// does (two of them differ by at least 10⁻⁶, far more than f's rounding
// interval, under 1.2×10⁻⁷ below 2³⁰), while any decimal with more
// fractional digits has more significant digits, so it is the shortest.
func appendMicros(dst []byte, f float64) ([]byte, bool) {
	if !(f > -1e9 && f < 1e9) {
		return dst, false
	}
	k := math.Round(f * 1e6)
	if k/1e6 != f {
		return dst, false
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, '-', '0'), true
		}
		return append(dst, '0'), true
	}
	n := int64(k)
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	dst = strconv.AppendInt(dst, n/1e6, 10)
	frac := n % 1e6
	if frac == 0 {
		return dst, true
	}
	digits := 6
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	var buf [7]byte // '.' and the digits, zero-padded on the left
	buf[0] = '.'
	for i := digits; i > 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:digits+1]...), true
}

// appendKey appends `"name":` (name must need no escaping) after a comma
// unless it is the first member of an object.
func appendKey(dst []byte, name string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// appendIntMember appends `,"name":v` (or without the comma when first).
func appendIntMember(dst []byte, name string, v int64, first bool) []byte {
	return strconv.AppendInt(appendKey(dst, name, first), v, 10)
}

// appendFloatMember appends `,"name":f` (or without the comma when first).
func appendFloatMember(dst []byte, name string, f float64, first bool) []byte {
	return appendFloat(appendKey(dst, name, first), f)
}

// appendStringMember appends `,"name":"s"` (or without the comma when first).
func appendStringMember(dst []byte, name, s string, first bool) []byte {
	return appendString(appendKey(dst, name, first), s)
}
