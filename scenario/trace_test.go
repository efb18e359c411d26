package scenario

import (
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/loadsim/loadsim/sim/api"
)

func TestParseTrace(t *testing.T) {
	t.Parallel()
	rows, err := ParseTrace(strings.NewReader("# comment\nt,tenant,endpoint,tokens\n0,web,,\n1.5,mobile,question-agnostic/batch,40\n3, web ,question-specific,\n"), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []TraceRow{{0, "web", 0, 0}, {750 * time.Millisecond, "mobile", api.RouteQuestionAgnosticBatch, 40}, {1500 * time.Millisecond, "web", api.RouteQuestionSpecific, 0}}
	if len(rows) != len(want) {
		t.Fatalf("ParseTrace = %d rows; want %d", len(rows), len(want))
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v; want %+v", i, rows[i], want[i])
		}
	}
}

func TestParseTraceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		csv  string
		want string
	}{
		{"", "line 1: empty trace"},                                                             // nothing
		{"time\n1\n", `line 1: unknown column "time"`},                                          // a column that does not exist
		{"tenant\nweb\n", "line 1: no column t"},                                                // no t column
		{"t,t\n1,2\n", `line 1: column "t" appears twice`},                                      // a duplicate column
		{"t\n1\nsoon\n", `line 3: t: "soon" is not a number of seconds`},                        // not a number
		{"t\n-1\n", `line 2: t: "-1" is not a number of seconds ≥ 0`},                           // negative
		{"t\n2\n1\n", "line 3: t: 1 is before the previous row's 2"},                            // unsorted
		{"t,endpoint\n1,compress\n", `line 2: endpoint: unknown endpoint "compress"`},           // bad endpoint
		{"t,tokens\n1,0\n", `line 2: tokens: "0" is not an integer ≥ 1`},                        // bad tokens
		{"t,tenant\n1\n", `line 2: 1 cell, but the header "t,tenant" has 2; keep every column`}, // short row
		{"t\n1\n2,web\n", `line 3: 2 cells, but the header "t" has 1`},                          // long row
	}
	for _, tc := range tests {
		_, err := ParseTrace(strings.NewReader(tc.csv), 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTrace(%q) = %v; want %q", tc.csv, err, tc.want)
		}
	}
}

// A trace row naming a tenant the scenario does not have is an error.
func TestTraceUnknownTenant(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"t.csv": {Data: []byte("t,tenant\n0,web\n1,ghost\n")}}
	_, err := Parse([]byte(edit("{type: constant, rate: 1}", "{type: trace, file: t.csv}")), "s.yaml", fsys)
	if err == nil || !strings.Contains(err.Error(), `s.yaml:8: tenants[0].traffic.profile.file: t.csv: a row names tenant "ghost"`) {
		t.Errorf("Parse(trace with ghost) = %v", err)
	}
}

// A trace file that cannot be used is reported once, at the first profile
// naming it: the others refer to that problem, and no profile adds that its
// (empty) trace sends nothing.
func TestTraceProblemReportedOnce(t *testing.T) {
	t.Parallel()
	two := edit("{type: constant, rate: 1}", "{type: trace, file: t.csv}") + `  - name: api
    key: cmp_test_api
    tier: tier1
    traffic:
      profile: {type: trace, file: t.csv}
    mix:
      - {weight: 1, endpoint: question-specific, tokens: 100}
`
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string // the first tenant's problem
	}{
		{"short row", fstest.MapFS{"t.csv": {Data: []byte("t,tenant\n0,web\n1\n")}}, "t.csv: line 3: 1 cell, but the header"}, // a row without its tenant cell
		{"no rows", fstest.MapFS{"t.csv": {Data: []byte("t\n")}}, "t.csv has no rows"},                                        // a header alone
		{"missing", fstest.MapFS{}, "cannot read t.csv"},                                                                      // no such file
	}
	for _, tc := range tests {
		_, err := Parse([]byte(two), "s.yaml", tc.fsys)
		if err == nil {
			t.Fatalf("%s: Parse(two tenants, one bad trace) = nil; want an error", tc.name)
		}
		msg := err.Error()
		for _, want := range []string{
			"s.yaml:8: tenants[0].traffic.profile.file: " + tc.want,
			"s.yaml:17: tenants[1].traffic.profile.file: t.csv: not usable, see the problem at tenants[0].traffic.profile.file",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: Parse(two tenants, one bad trace) = %v; want it to contain %q", tc.name, err, want)
			}
		}
		if strings.Contains(msg, "sends no request") || strings.Count(msg, tc.want) != 1 {
			t.Errorf("%s: Parse(two tenants, one bad trace) = %v; want the file's problem once and no follow-on", tc.name, err)
		}
	}
}

func FuzzTraceCSV(f *testing.F) {
	f.Add("t,tenant,endpoint,tokens\n0,web,,\n1.5,mobile,question-agnostic/batch,40\n", 1.0)
	f.Add("t\n0\n0\n1e3\n", 10.0)
	f.Add("# c\nt,tokens\n0.1,\"5\"\n", 0.5)
	f.Add("t\n1\n0\n", 1.0)
	f.Fuzz(func(t *testing.T, csv string, speed float64) {
		rows, err := ParseTrace(strings.NewReader(csv), speed)
		if err != nil {
			return
		}
		tr := NewTrace("fuzz", speed, rows)
		for i := 1; i < len(rows); i++ {
			if rows[i].At < rows[i-1].At {
				t.Fatalf("row %d at %s before row %d at %s", i, rows[i].At, i-1, rows[i-1].At)
			}
			if rows[i].Tokens < 0 || (rows[i].Endpoint != 0 && !rows[i].Endpoint.Compresses()) {
				t.Fatalf("row %d = %+v", i, rows[i])
			}
		}
		if got := tr.Hits(time.Duration(math.MaxInt64)); int(got) != len(rows) {
			t.Fatalf("Hits(∞) = %g; want %d rows", got, len(rows))
		}
	})
}
