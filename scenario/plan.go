package scenario

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WritePlan writes a short human-readable plan of the scenario: duration,
// seed, one line per tenant (tier, how its key is given, profile, strategy,
// expected requests = ∫ rate over the duration) and the total. Keys are never
// written, only whether they are literal or from an environment variable.
func (s *Scenario) WritePlan(w io.Writer) error {
	name := s.Name
	if s.file != "" && s.file != s.Name+".yaml" {
		name += " (" + s.file + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s: %s\n", name, s.Description)
	fmt.Fprintf(&b, "duration %s, seed %d\n\n", s.Duration, s.Seed)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tTIER\tKEY\tPROFILE\tMIX\tSTRATEGY\tEXPECTED REQUESTS")
	total := 0.0
	for i, t := range s.Tenants {
		key := []string{}
		if t.Key != "" {
			key = append(key, "literal")
		}
		if t.KeyEnv != "" {
			key = append(key, "$"+t.KeyEnv)
		}
		n := s.ExpectedRequests(i)
		total += n
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d items, %.0f tokens/req\t%s\t%.0f (%.2f/s)\n", t.Name, t.Tier,
			strings.Join(key, ", "), s.Profile(i, s.Seed), len(t.Mix), s.Sampler(i).MeanTokens(),
			t.Client.Strategy, n, n/s.Duration.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\ntotal expected requests: %.0f (%.2f/s on average; retries come on top)\n", math.Ceil(total), total/s.Duration.Seconds())
	if len(s.Thresholds) > 0 {
		fmt.Fprintf(&b, "thresholds: %s\n", strings.Join(s.Thresholds, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
