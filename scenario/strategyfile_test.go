package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/loadsim/loadsim/sim/backoff"
)

// TestParseStrategyFile: a strategy file gives the strategy as written, or
// every problem at once, each as FILE:LINE: PATH: message.
func TestParseStrategyFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data string
		want string   // the strategy's String(), when valid
		errs []string // substrings of the error's lines, one per line in order, when invalid
	}{
		// A bare preset name.
		{"bare preset", "grpc\n", "grpc", nil},
		// A preset adjusted field by field.
		{"block", "preset: aws-standard\nmax_attempts: 5\n", "aws-standard (adjusted)", nil},
		// The flow form.
		{"flow block", "{preset: aws-standard, max_attempts: 5}\n", "aws-standard (adjusted)", nil},
		// A block written whole, without a preset.
		{"whole block", "type: exponential\nbase: 200ms\ncap: 20s\njitter: full\n", "exponential", nil},
		// The block under strategy:, as copied from a scenario's client section, is accepted.
		{"wrapped block", "strategy:\n  preset: aws-standard\n  max_attempts: 5\n", "aws-standard (adjusted)", nil},
		// A preset name under strategy:.
		{"wrapped preset", "strategy: grpc\n", "grpc", nil},
		// The review's case: an unknown field and a bad value are both reported, with did-you-mean.
		{"review", "preset: aws-standard\nmax_atempts: 5\njitter: ful\n", "", []string{
			"s.yaml:2: max_atempts: unknown field; did you mean max_attempts? (fields here: preset, type,",
			`s.yaml:3: jitter: unknown "ful"; did you mean full? (want none, full, equal, decorrelated, proportional)`}},
		// The same under strategy:, paths say so.
		{"wrapped problems", "strategy:\n  max_atempts: 5\n  jitter: ful\n", "", []string{
			"s.yaml:2: strategy.max_atempts: unknown field; did you mean max_attempts?",
			`s.yaml:3: strategy.jitter: unknown "ful"`}},
		// A strategy field beside strategy: is told to move under it.
		{"field beside wrapper", "strategy: grpc\nmax_attempts: 3\n", "", []string{
			"s.yaml:2: max_attempts: a strategy field beside strategy:; indent it under strategy:"}},
		// Every value that does not resolve, not only the first, at its own line.
		{"several values", "type: expo\nbase: -1s\nretry_on: [200, 429, 404]\nbudget: {type: tokn-bucket}\n", "", []string{
			`s.yaml:1: type: unknown "expo" (want none, constant, linear, exponential)`,
			"s.yaml:2: base: -1s is negative",
			"s.yaml:3: retry_on[0]: 200 is not a retryable status",
			"s.yaml:3: retry_on[2]: 404 is a client error",
			`s.yaml:4: budget.type: unknown "tokn-bucket"; did you mean token-bucket? (want none, token-bucket, ratio, grpc)`}},
		// A cross-field problem.
		{"cap below base", "type: exponential\nbase: 30s\ncap: 1s\n", "", []string{
			"s.yaml:3: cap: 1s is below base 30s (raise cap or lower base)"}},
		// Values of the wrong type name the field and what it takes; no second report of the same field.
		{"wrong types", "max_attempts: five\nbase: 1\nmultiplier: [2]\n", "", []string{
			`s.yaml:1: max_attempts: "five" is not a whole number`,
			`s.yaml:2: base: "1" is not a duration`,
			"s.yaml:3: multiplier: is a list; write a single value"}},
		// A fractional count.
		{"fraction", "{preset: grpc, max_attempts: 5.5}\n", "", []string{`s.yaml:1: max_attempts: "5.5" is not a whole number`}},
		// A misspelt preset, bare, with the presets and the closest one.
		{"bare typo", "aws-standad\n", "", []string{`s.yaml:1: unknown "aws-standad"; did you mean aws-standard? (want compresr-recommended,`}},
		// A misspelt preset in a block.
		{"preset typo", "preset: grpcc\nmax_attempts: 2\n", "", []string{`s.yaml:1: preset: unknown "grpcc"; did you mean grpc?`}},
		// An empty file.
		{"empty", "", "", []string{"s.yaml: empty; write a preset name (e.g. aws-standard) or a block"}},
		// A null document.
		{"null", "~\n", "", []string{"s.yaml: empty;"}},
		// A mapping that sets nothing.
		{"empty mapping", "{}\n", "", []string{"s.yaml:1: sets nothing; write a preset name"}},
		// strategy: with nothing under it.
		{"empty wrapper", "strategy:\n", "", []string{"s.yaml:1: strategy: sets nothing;"}},
		// A list is neither form.
		{"list", "[grpc, aws-standard]\n", "", []string{"s.yaml:1: the document must be a preset name or a mapping"}},
		// Two documents: one strategy per file.
		{"two documents", "grpc\n---\naws-standard\n", "", []string{"s.yaml:2: a second YAML document (---); a strategy file holds one strategy"}},
		// YAML syntax.
		{"syntax", "preset: [grpc\n", "", []string{"s.yaml:1: YAML syntax:"}},
		// The block under client: is told how to fix it.
		{"client wrapper", "client:\n  strategy: grpc\n", "", []string{"s.yaml:1: client: a strategy file holds the strategy block alone"}},
		// A scenario file given as a strategy file.
		{"scenario file", "name: x\nduration: 5m\ntenants: []\n", "", []string{"s.yaml:2: duration: this is a scenario file, not a strategy file"}},
	} {
		st, err := parseStrategy([]byte(tc.data), "s.yaml")
		if tc.errs == nil {
			if err != nil || st.String() != tc.want {
				t.Errorf("%s: parseStrategy(%q) = %v, %v; want %s, nil", tc.name, tc.data, st, err, tc.want)
			}
			if _, rerr := st.Resolve(); err == nil && rerr != nil {
				t.Errorf("%s: parseStrategy(%q) accepted a strategy that does not resolve: %v", tc.name, tc.data, rerr)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: parseStrategy(%q) = %v, nil; want errors %q", tc.name, tc.data, st, tc.errs)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: parseStrategy(%q) error does not match ErrInvalid: %v", tc.name, tc.data, err)
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tc.errs) {
			t.Errorf("%s: parseStrategy(%q) gave %d problems; want %d:\n%v", tc.name, tc.data, len(lines), len(tc.errs), err)
			continue
		}
		for i, w := range tc.errs {
			if !strings.Contains(lines[i], w) {
				t.Errorf("%s: parseStrategy(%q) problem %d = %q; want it to contain %q", tc.name, tc.data, i, lines[i], w)
			}
		}
		if strings.Contains(err.Error(), "plainStrategy") || strings.Contains(err.Error(), "backoff.Config") {
			t.Errorf("%s: parseStrategy(%q) names a Go type: %v", tc.name, tc.data, err)
		}
	}
}

// TestLoadStrategy: a preset by name, a file by path, and neither.
func TestLoadStrategy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.yaml", "# "+strings.Repeat("x", maxStrategyFileSize)+"\ngrpc\n")
	for _, tc := range []struct {
		name string
		arg  string
		want string // the strategy's String(), or a substring of the error
		ok   bool
	}{
		// A preset by name, no file read.
		{"preset", "naive-immediate", "naive-immediate", true},
		// A file holding a block.
		{"file", write("slow.yaml", "{preset: aws-standard, max_attempts: 5}\n"), "aws-standard (adjusted)", true},
		// A file's problems name the file and the line.
		{"bad file", write("bad.yaml", "preset: aws-standard\nmax_atempts: 5\n"), "bad.yaml:2: max_atempts: unknown field; did you mean max_attempts?", false},
		// Neither a preset nor a file: the presets and the closest one.
		{"typo", "aws-standad", "aws-standad: neither a preset (compresr-recommended,", false},
		// The closest preset is suggested.
		{"suggestion", "aws-standad", "did you mean aws-standard?", false},
		// A directory is not a strategy file.
		{"directory", dir, "nor a strategy file", false},
		// A file too large to be a strategy.
		{"too large", big, "larger than 1 MiB", false},
	} {
		st, err := LoadStrategy(tc.arg)
		switch {
		case tc.ok && (err != nil || st.String() != tc.want):
			t.Errorf("%s: LoadStrategy(%q) = %v, %v; want %s", tc.name, tc.arg, st, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: LoadStrategy(%q) = %v, %v; want an error containing %q", tc.name, tc.arg, st, err, tc.want)
		case !tc.ok && !errors.Is(err, ErrInvalid):
			t.Errorf("%s: LoadStrategy(%q) error does not match ErrInvalid: %v", tc.name, tc.arg, err)
		}
	}
}

// TestUnsetLeavesCallerAlone: finding every problem clears fields on a
// copy; the strategy the caller holds keeps its values.
func TestUnsetLeavesCallerAlone(t *testing.T) {
	t.Parallel()
	cost, bad := -1.0, 404
	c := backoff.Config{RetryOn: []int{bad, 429}, Budget: &backoff.BudgetConfig{Type: "token-bucket", Cost: &cost}}
	fes := resolveProblems(c, nil, "", nil)
	if len(fes) != 2 || fes[0].Path != "retry_on[0]" || fes[1].Path != "budget.cost" {
		t.Errorf("resolveProblems(%+v) = %v; want retry_on[0] and budget.cost", c, fes)
	}
	if c.RetryOn[0] != bad || c.Budget.Cost == nil || *c.Budget.Cost != cost {
		t.Errorf("resolveProblems changed its argument: retry_on %v, budget %+v", c.RetryOn, *c.Budget)
	}
}

func FuzzParseStrategyFile(f *testing.F) {
	for _, s := range []string{
		"grpc\n",
		"{preset: aws-standard, max_attempts: 5}",
		"preset: aws-standard\nmax_atempts: 5\njitter: ful\n",
		"strategy:\n  type: exponential\n  base: 1s\n  cap: 60s\n  jitter: full\n",
		"type: expo\nbase: -1s\nretry_on: [200, 429, 404]\nbudget: {type: tokn-bucket, cost: -1}\n",
		"{throttle: {k: -1}, circuit_breaker: {failures: -2}, jitter: proportional}",
		"strategy: grpc\nmax_attempts: 3\n",
		"client:\n  strategy: grpc\n",
		"a: &a [*a]",
		"[1, 2]", ":", "", "~", "---\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseStrategy(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseStrategy(%q) error does not match ErrInvalid: %v", data, err)
			}
			if strings.Contains(err.Error(), "plainStrategy") {
				t.Fatalf("parseStrategy(%q) error names a Go type: %v", data, err)
			}
			return
		}
		if _, err := st.Resolve(); err != nil {
			t.Fatalf("parseStrategy(%q) accepted a strategy that does not resolve: %v", data, err)
		}
		// What was accepted survives a round trip through YAML.
		out, err := yaml.Marshal(st)
		if err != nil {
			t.Fatalf("yaml.Marshal(%+v) = %v", st, err)
		}
		if _, err := parseStrategy(out, "again.yaml"); err != nil {
			t.Fatalf("parseStrategy(%q) accepted, but not its encoding %q: %v", data, out, err)
		}
	})
}
