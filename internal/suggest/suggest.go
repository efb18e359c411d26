// Package suggest finds the name a user most likely meant when they typed
// one that does not exist: the candidate closest by edit distance, for the
// "did you mean X?" of an error message.
package suggest

// MaxDistance is the largest edit distance Closest accepts: two typos (a
// dropped and a doubled letter, say). Beyond it a suggestion is more often
// wrong than helpful.
const MaxDistance = 2

// Closest returns the candidate nearest to name by edit distance (the first
// of equally near ones, in candidates' order) and true, or "" and false when
// none is within MaxDistance. A candidate equal to name is distance 0.
func Closest(name string, candidates []string) (string, bool) {
	best, bestD := "", MaxDistance+1
	for _, c := range candidates {
		if d := Distance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD <= MaxDistance
}

// Hint returns "; did you mean X?" with X the candidate closest to name
// (Closest), to append to an error message, or "" when none is near.
func Hint(name string, candidates []string) string {
	if best, ok := Closest(name, candidates); ok {
		return "; did you mean " + best + "?"
	}
	return ""
}

// Distance is the Levenshtein distance of a and b in bytes: the fewest
// single-byte insertions, deletions and substitutions that turn a into b.
// It is meant for short names (O(len(a)·len(b)) time).
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
