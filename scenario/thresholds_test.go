package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckThresholds(t *testing.T) {
	t.Parallel()
	const doc = `name: th
duration: 10s
tenants:
  - name: web
    key: cmp_test_web
    tier: tier1
    traffic: {profile: {type: constant, rate: 1}}
    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 10}]
    client: {strategy: {preset: compresr-recommended}}
thresholds:
  - success_rate >= 0.9
  - bad one
  - also bad
`
	s, err := Parse([]byte(doc), "th.yaml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	// A checker that refuses expressions containing "bad".
	check := func(expr string) error {
		if strings.Contains(expr, "bad") {
			return fmt.Errorf("refused")
		}
		return nil
	}
	err = s.CheckThresholds(check)
	for _, want := range []string{
		`th.yaml:12: thresholds[1]: "bad one": refused`,  // at its own line
		`th.yaml:13: thresholds[2]: "also bad": refused`, // every problem, not the first
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckThresholds(refuse \"bad\") = %v; want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckThresholds(refuse \"bad\") = %v; want an error matching ErrInvalid (exit 2)", err)
	}
	if err := s.CheckThresholds(func(string) error { return nil }); err != nil {
		t.Errorf("CheckThresholds(accept all) = %v; want nil", err)
	}
}
