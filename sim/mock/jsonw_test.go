package mock

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestAppendString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", `""`},                         // empty
		{"plain", `"plain"`},               // nothing to escape
		{`a"b\c`, `"a\"b\\c"`},             // quote and backslash
		{"l1\nl2\r\t", `"l1\nl2\r\t"`},     // short escapes
		{"\x00\x1f", `"\u0000\u001f"`},     // other control characters
		{"café ☕", `"café ☕"`},             // valid UTF-8 kept
		{"a\xffb", `"a\ufffdb"`},           // invalid byte replaced
		{"\u2028\u2029", `"\u2028\u2029"`}, // JS line separators escaped
		{"<tag>&", `"<tag>&"`},             // no HTML escaping
		// Longer than 8 bytes: the 8-at-a-time scan must stop at each of these.
		{"0123456789abcdef~\x7f", "\"0123456789abcdef~\x7f\""},             // all plain, DEL included
		{"01234567\"9abcdef", `"01234567\"9abcdef"`},                       // quote at 8
		{"0123456\\89abcdef", `"0123456\\89abcdef"`},                       // backslash at 7
		{"012345678\x1fabcdef", `"012345678\u001fabcdef"`},                 // control at 9
		{"0123456789abcde\n", `"0123456789abcde\n"`},                       // control last
		{"01234567é9abcdef", `"01234567é9abcdef"`},                         // UTF-8 at 8
		{"0123456789ab\xffdef", `"0123456789ab\ufffddef"`},                 // invalid byte at 12
		{"! #$%&'()*+,-./[]^_`{|}", `"! #$%&'()*+,-./[]^_` + "`" + `{|}"`}, // neighbours of '"', '\\', 0x20
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("appendString(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},                         // zero
		{0.5, "0.5"},                     // fraction
		{200, "200"},                     // integral
		{1e21, "1000000000000000000000"}, // no exponent
		{math.NaN(), "0"},                // not JSON: zero
		{math.Inf(1), "0"},               // not JSON: zero
		// The k/10⁶ fast path and its edges.
		{0.25, "0.25"},                         // short fraction
		{0.000001, "0.000001"},                 // one micro: zero-padded
		{-12.0405, "-12.0405"},                 // negative, inner zero
		{999999999.999999, "999999999.999999"}, // largest on the fast path
		{1e9, "1000000000"},                    // just above: strconv
		{0.0000015, "0.0000015"},               // 7 decimals: strconv
		{1.0 / 3, "0.3333333333333333"},        // not a decimal: strconv
		{math.Copysign(0, -1), "-0"},           // negative zero as strconv writes it
	}
	for _, tt := range tests {
		if got := string(appendFloat(nil, tt.in)); got != tt.want {
			t.Errorf("appendFloat(%v) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int64
		want string
	}{
		{"abcdef", 4, "abcd"}, // cut
		{"abc", 10, "abc"},    // shorter than n
		{"abc", 0, ""},        // nothing kept
		{"abc", -3, ""},       // negative
		{"aé", 2, "a"},        // cut inside a rune: back to its start
		{"aéb", 3, "aé"},      // on a boundary
	}
	for _, tt := range tests {
		if got := prefix(tt.s, tt.n); got != tt.want {
			t.Errorf("prefix(%q, %d) = %q; want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// FuzzAppendString: the output is valid JSON that decodes to what
// encoding/json's own encoding decodes to.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff\u2028", "日本語", "\\u0000",
		"Machine learning is a field of study in artificial intelligence.", "abcdefgh\"ijklmnop\\qrstuvw\x01xyz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: invalid JSON: %v", s, out, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q; encoding/json gives %q", s, got, want)
		}
	})
}

// FuzzAppendFloat: appendFloat writes what strconv.AppendFloat(f, 'f', -1)
// writes, on the k/10⁶ fast path as elsewhere (x/10⁶ puts f on it).
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 0.5, 0.25, 1.0 / 3, -7.125, 123456.789012, 1e9, 1e-7} {
		f.Add(v, int64(0))
	}
	f.Add(0.0, int64(500000))
	f.Add(0.0, int64(-999999999999999))
	f.Fuzz(func(t *testing.T, v float64, micros int64) {
		for _, x := range []float64{v, float64(micros) / 1e6} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			got, want := string(appendFloat(nil, x)), strconv.FormatFloat(x, 'f', -1, 64)
			if got != want {
				t.Fatalf("appendFloat(%v) = %s; want %s (strconv)", x, got, want)
			}
		}
	})
}
