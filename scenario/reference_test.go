package scenario

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scenarioDoc is the scenario reference, relative to this package.
const scenarioDoc = "../docs/scenarios.md"

// fieldPaths returns every YAML field path of t, in field order, as the
// scenario reference writes them: `tenants[].mix[].tokens.dist` for list
// items, `api.tiers.<name>.rank` for map entries. A struct type met a second
// time (compare[] is a list of the strategies first met under
// tenants[].client.strategy) is a leaf: the reference documents its fields
// once. time.Duration, time.Time and api.ByteSize are scalars.
func fieldPaths(t reflect.Type) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if strings.Contains(opts, "inline") {
				walk(ft, prefix)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			p := prefix + name
			out = append(out, p)
			// Descend into structs, and into the items of lists and maps of structs.
			elem, suffix := ft, ""
			switch ft.Kind() {
			case reflect.Slice:
				elem, suffix = ft.Elem(), "[]"
			case reflect.Map:
				elem, suffix = ft.Elem(), ".<name>"
			}
			for elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			if elem.Kind() != reflect.Struct || isScalarStruct(elem) || seen[elem] {
				continue
			}
			seen[elem] = true
			walk(elem, p+suffix+".")
		}
	}
	seen[t] = true
	walk(t, "")
	return out
}

// isScalarStruct reports whether a struct type is written as one YAML scalar.
func isScalarStruct(t reflect.Type) bool {
	return t == reflect.TypeOf(time.Time{})
}

// docRow is one row of a reference table: a field path and its cells.
type docRow struct {
	line  int
	path  string
	cells []string
}

var codeSpanRE = regexp.MustCompile("^`([^`]+)`$")

// referenceRows reads the rows of every Markdown table in md whose header's
// first cell is "path".
func referenceRows(t *testing.T, md []byte) []docRow {
	t.Helper()
	var rows []docRow
	inRef, header := false, false
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			inRef, header = false, false
			continue
		}
		cells := splitRow(line)
		switch {
		case !inRef && !header:
			header = true
			inRef = len(cells) > 0 && cells[0] == "path"
			continue
		case strings.Trim(line, "|-: ") == "":
			continue // the separator row
		case !inRef:
			continue
		}
		m := codeSpanRE.FindStringSubmatch(cells[0])
		if m == nil {
			t.Errorf("%s:%d: first cell %q of a reference row is not a `path`", scenarioDoc, n, cells[0])
			continue
		}
		rows = append(rows, docRow{line: n, path: m[1], cells: cells})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", scenarioDoc, err)
	}
	return rows
}

// splitRow splits a Markdown table row into trimmed cells, keeping `\|`
// and pipes inside code spans in their cell.
func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	inCode := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case c == '`':
			inCode = !inCode
			cur.WriteByte(c)
		case c == '|' && !inCode:
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// TestDocsScenarioReference checks docs/scenarios.md against the Go types:
// every YAML field path of Scenario (including the api section's sim/api
// types and the strategy's sim/backoff types) has a row with its type,
// default, example and meaning, and every row names a field that exists.
func TestDocsScenarioReference(t *testing.T) {
	md, err := os.ReadFile(scenarioDoc)
	if err != nil {
		t.Fatalf("os.ReadFile(%q): %v", scenarioDoc, err)
	}
	rows := referenceRows(t, md)
	documented := map[string]docRow{}
	for _, r := range rows {
		if prev, dup := documented[r.path]; dup {
			t.Errorf("%s:%d: `%s` is documented twice (also line %d)", scenarioDoc, r.line, r.path, prev.line)
		}
		documented[r.path] = r
		if len(r.cells) != 5 {
			t.Errorf("%s:%d: `%s` has %d cells; want 5 (path, type, default, example, meaning)", scenarioDoc, r.line, r.path, len(r.cells))
			continue
		}
		for i, c := range r.cells {
			if c == "" {
				t.Errorf("%s:%d: `%s` has an empty %s cell; write — when there is nothing to say", scenarioDoc, r.line, r.path, []string{"path", "type", "default", "example", "meaning"}[i])
			}
		}
	}
	paths := fieldPaths(reflect.TypeOf(Scenario{}))
	if len(paths) < 100 {
		t.Fatalf("fieldPaths(Scenario) found only %d paths; the walker is broken", len(paths))
	}
	exists := map[string]bool{}
	for _, p := range paths {
		exists[p] = true
		if _, ok := documented[p]; !ok {
			t.Errorf("field `%s` is not documented in %s: add a row | `%s` | type | default | example | meaning |", p, scenarioDoc, p)
		}
	}
	for p, r := range documented {
		if !exists[p] {
			t.Errorf("%s:%d: `%s` is documented but no such YAML field exists in scenario.Scenario; fix or remove the row", scenarioDoc, r.line, p)
		}
	}
}

// TestFieldPaths checks the walker on paths the reference relies on, so that
// a walker that silently skips a kind of field fails here.
func TestFieldPaths(t *testing.T) {
	got := map[string]bool{}
	for _, p := range fieldPaths(reflect.TypeOf(Scenario{})) {
		got[p] = true
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"name", true},                                            // a top-level scalar
		{"api.tiers.<name>.rank", true},                           // a map of sim/api structs
		{"api.keys[].expires", true},                              // time.Time is a leaf
		{"api.upstream.incidents[].latency_factor", true},         // nested list
		{"tenants[].traffic.profile.steps[].at", true},            // list inside a list
		{"tenants[].mix[].tokens.sigma", true},                    // pointer to struct
		{"tenants[].client.strategy.preset", true},                // inline backoff.Config
		{"tenants[].client.strategy.budget.min_per_second", true}, // sim/backoff nested pointer
		{"tenants[].client.strategy.circuit_breaker.open_for", true},
		{"compare", true},                           // a list of an already-documented type
		{"compare[].preset", false},                 // … documented once, not twice
		{"tenants[].client.strategy.config", false}, // the inline field has no name of its own
		{"api.keys[].key", true},                    // json:"-" but a YAML field
	} {
		if got[tc.path] != tc.want {
			t.Errorf("fieldPaths(Scenario) has %q = %v; want %v", tc.path, got[tc.path], tc.want)
		}
	}
}

// TestDocsYAMLExamplesParse parses every YAML block of the user guide that is
// a whole scenario (it starts with `name:`), so that documented examples
// cannot drift from what Parse accepts; a block named after an embedded
// example must resolve to exactly that example.
func TestDocsYAMLExamplesParse(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("os.ReadFile(%q): %v", f, err)
		}
		for _, b := range yamlBlocks(data) {
			if !strings.HasPrefix(b.text, "name:") {
				continue
			}
			found++
			s, err := Parse([]byte(b.text), filepath.Base(f), os.DirFS("examples"))
			if err != nil {
				t.Errorf("%s:%d: the YAML example does not parse:\n%v", f, b.line, err)
				continue
			}
			// A block named after an embedded example must be that example.
			if ex, err := Load(s.Name); err == nil {
				got, err1 := s.Resolved()
				want, err2 := ex.Resolved()
				if err1 != nil || err2 != nil {
					t.Fatalf("Resolved() errors: %v, %v", err1, err2)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s:%d: the YAML example is named %s but differs from the embedded example (loadsim scenarios show %s):\n%s\n---\n%s", f, b.line, s.Name, s.Name, got, want)
				}
			}
		}
	}
	if found < 3 {
		t.Errorf("found %d whole-scenario YAML examples in docs/*.md; want at least 3 (the guide's examples)", found)
	}
}

// yamlBlock is a fenced ```yaml block and the line it starts on.
type yamlBlock struct {
	line int
	text string
}

// yamlBlocks returns the fenced ```yaml blocks of a Markdown file.
func yamlBlocks(md []byte) []yamlBlock {
	var out []yamlBlock
	var cur *yamlBlock
	var b strings.Builder
	for i, line := range strings.Split(string(md), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```yaml":
			cur = &yamlBlock{line: i + 2}
			b.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.text = b.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return out
}
