package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestPartialCause: a partial run's summary names why it stopped, in
// summary.json (partial_reason, max_requests), summary.md and the text
// summary; a complete run's summary.json has neither field.
func TestPartialCause(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		meta   func(*Meta)
		cause  string // PartialCause()
		json   string // a fragment of summary.json ("" = partial_reason absent)
		md     string // a fragment of summary.md
		text   string // a fragment of the text summary's first line
		absent bool   // summary.json has no partial_reason
	}{
		// A complete run: no reason, no cap, "partial | no".
		{"complete", func(m *Meta) {}, "", "", "| partial | no |", "· 20s · offered", true},
		// A complete run with a cap it did not reach: the cap, no reason.
		{"cap not reached", func(m *Meta) { m.MaxRequests = 30 }, "", `"max_requests": 30`, "| attempt cap (--max-requests) | 30 |", "· 20s · offered", true},
		// Ctrl-C.
		{"interrupted", func(m *Meta) { m.Partial, m.PartialReason = true, PartialInterrupted },
			"interrupted", `"partial_reason": "interrupted"`, "| partial | yes: interrupted |", "· 20s · partial: interrupted · offered", false},
		// The cap on attempts reached.
		{"max requests", func(m *Meta) { m.Partial, m.PartialReason, m.MaxRequests = true, PartialMaxRequests, 5 },
			"stopped at the attempt cap (--max-requests 5)", `"partial_reason": "max_requests"`,
			"| partial | yes: stopped at the attempt cap (--max-requests 5) |", "· 20s · partial: stopped at the attempt cap (--max-requests 5) · offered", false},
		// A partial summary.json written before partial_reason existed: no cause invented.
		{"unknown reason", func(m *Meta) { m.Partial = true }, "", `"partial": true`, "| partial | yes |", "· 20s (partial) · offered", true},
	} {
		m := testMeta()
		c.meta(&m)
		r := newTestRecorder(m.Duration)
		feed(r, synth(2, 50))
		s := r.Summary(m)
		if got := s.PartialCause(); got != c.cause {
			t.Errorf("%s: PartialCause() = %q; want %q", c.name, got, c.cause)
		}
		var js, md, txt bytes.Buffer
		if err := s.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteText(&txt); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(js.String(), c.json) {
			t.Errorf("%s: summary.json lacks %q:\n%s", c.name, c.json, js.String()[:300])
		}
		if c.absent == strings.Contains(js.String(), `"partial_reason"`) {
			t.Errorf("%s: summary.json has partial_reason = %v; want %v", c.name, !c.absent, !c.absent)
		}
		if !strings.Contains(md.String(), c.md) {
			t.Errorf("%s: WriteMarkdown lacks %q:\n%s", c.name, c.md, md.String()[:300])
		}
		if first, _, _ := strings.Cut(txt.String(), "\n"); !strings.Contains(first, c.text) {
			t.Errorf("%s: WriteText's first line = %q; want it to contain %q", c.name, first, c.text)
		}
		var back Summary
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if back.PartialReason != m.PartialReason || back.MaxRequests != m.MaxRequests {
			t.Errorf("%s: summary.json read back: partial_reason %q max_requests %d; want %q %d",
				c.name, back.PartialReason, back.MaxRequests, m.PartialReason, m.MaxRequests)
		}
	}
}
