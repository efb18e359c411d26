package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},                         // both empty
		{"abc", "", 3},                      // all deletions
		{"", "abc", 3},                      // all insertions
		{"success_rate", "success_rate", 0}, // equal
		{"succes_rate", "success_rate", 1},  // a dropped letter
		{"sucess_rat", "success_rate", 2},   // two dropped letters
		{"jiter", "jitter", 1},              // insertion inside
		{"kitten", "sitting", 3},            // the textbook pair
		{"ab", "ba", 2},                     // a swap is two edits
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	metrics := []string{"success_rate", "gave_up_rate", "amplification", "time_to_success_p99"}
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string
		ok         bool
	}{
		{"succes_rate", metrics, "success_rate", true},         // one typo
		{"gaveup_rate", metrics, "gave_up_rate", true},         // a dropped underscore
		{"amplificaton", metrics, "amplification", true},       // a dropped letter
		{"tts_p99", metrics, "", false},                        // an abbreviation is too far
		{"success_rate", metrics, "success_rate", true},        // exact
		{"x", nil, "", false},                                  // no candidates
		{"ab", []string{"abcd", "abce"}, "abcd", true},         // ties: the first
		{"rate", []string{"gave_up_rate", "rat"}, "rat", true}, // the nearest, not the first
	} {
		got, ok := Closest(tc.name, tc.candidates)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Closest(%q, %q) = %q, %v; want %q, %v", tc.name, tc.candidates, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHint(t *testing.T) {
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"succes_rate", []string{"success_rate", "gave_up_rate"}, "; did you mean success_rate?"}, // near: the hint
		{"tts_p99", []string{"success_rate"}, ""},                                                 // nothing near: nothing
	} {
		if got := Hint(tc.name, tc.candidates); got != tc.want {
			t.Errorf("Hint(%q, %q) = %q; want %q", tc.name, tc.candidates, got, tc.want)
		}
	}
}
