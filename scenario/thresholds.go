package scenario

import (
	"fmt"
	"strings"
)

// CheckThresholds checks each of the scenario's thresholds with check (the
// report package parses them: this package does not depend on it) and
// returns every problem as a FieldError at its line, path thresholds[i],
// joined and matching ErrInvalid like Parse's; nil when all pass. check's
// error is the message: it need not repeat the expression, which the
// message quotes.
func (s *Scenario) CheckThresholds(check func(expr string) error) error {
	c := checker{s: s}
	for i, th := range s.Thresholds {
		if strings.TrimSpace(th) == "" {
			continue // Parse reported it
		}
		if err := check(th); err != nil {
			c.add(fmt.Sprintf("thresholds[%d]", i), "%q: %v", th, err)
		}
	}
	return joinErrors(s.file, c.fes)
}
