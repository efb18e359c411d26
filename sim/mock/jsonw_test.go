package mock

import (
	"encoding/json"
	"math"
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
