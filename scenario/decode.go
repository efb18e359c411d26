package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/loadsim/loadsim/internal/suggest"

	"github.com/loadsim/loadsim/sim/backoff"
)

// ErrInvalid is matched (errors.Is) by every error about a scenario's
// content: decoding and validation problems. Commands map it to exit code 2.
var ErrInvalid = errors.New("invalid scenario")

// FieldError is one problem in a scenario file: where (file, line, field
// path) and what to do about it. Decode, Parse and Load return one per
// problem, joined with errors.Join.
type FieldError struct {
	File string // the file's name; "" when parsed from bytes
	Line int    // 1-based line; 0 when unknown
	Path string // the field, e.g. tenants[1].traffic.profile.rate; "" for the document
	Msg  string // what is wrong and how to fix it
}

// Error returns "FILE:LINE: PATH: MSG", or "line LINE: PATH: MSG" without a file.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// joinErrors sorts problems by line and joins them (nil when there are none).
func joinErrors(file string, fes []*FieldError) error {
	if len(fes) == 0 {
		return nil
	}
	sort.SliceStable(fes, func(i, j int) bool { return fes[i].Line < fes[j].Line })
	errs := make([]error, len(fes))
	for i, fe := range fes {
		fe.File = file
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// index records where each field of the decoded document is.
type index struct {
	lines  map[string]int // field path → line
	values []posNode      // every value node, in document order
}

type posNode struct {
	path string
	n    *yaml.Node
}

// line returns the line of path or of its closest enclosing field present.
func (x *index) line(path string) int {
	if x == nil {
		return 0
	}
	for p := path; p != ""; {
		if l, ok := x.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

var (
	strategyType    = reflect.TypeOf(Strategy{})
	tokenSpecType   = reflect.TypeOf(TokenSpec{})
	timeType        = reflect.TypeOf(time.Time{})
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// yamlField is a struct field as YAML names it.
type yamlField struct {
	name string
	typ  reflect.Type
}

// yamlFields lists t's YAML fields, flattening inline ones.
func yamlFields(t reflect.Type) []yamlField {
	var out []yamlField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			out = append(out, yamlFields(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, yamlField{name, f.Type})
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// walk indexes n (the value at path, decoded into t) and reports unknown
// fields with the closest known name. It does not follow aliases.
func (x *index) walk(n *yaml.Node, path string, line int, t reflect.Type, fes *[]*FieldError) {
	if path != "" {
		x.lines[path] = line
	}
	x.values = append(x.values, posNode{path, n})
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case strategyType:
		t = reflect.TypeOf(backoff.Config{})
	case tokenSpecType:
		if n.Kind != yaml.MappingNode {
			t = reflect.TypeOf(int64(0))
		}
	case timeType:
		return
	}
	// yaml.v3 silently truncates 2.5 into an integer field: refuse it.
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && t != durationType &&
		!reflect.PointerTo(t).Implements(unmarshalerType) {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			*fes = append(*fes, &FieldError{Line: n.Line, Path: path, Msg: strconv.Quote(n.Value) + " is not a whole number"})
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				var ft reflect.Type
				for _, f := range fields {
					if f.name == k.Value {
						ft = f.typ
						break
					}
				}
				p := join(path, k.Value)
				if ft == nil {
					*fes = append(*fes, &FieldError{Line: k.Line, Path: p, Msg: unknownField(k.Value, fields)})
					continue
				}
				x.walk(v, p, k.Line, ft, fes)
			}
		case reflect.Map:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				x.walk(v, join(path, k.Value), k.Line, t.Elem(), fes)
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for i, item := range n.Content {
				x.walk(item, fmt.Sprintf("%s[%d]", path, i), item.Line, t.Elem(), fes)
			}
		}
	}
}

// unknownField explains an unknown key, suggesting the closest field.
func unknownField(name string, fields []yamlField) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return "unknown field" + suggest.Hint(name, names) + " (fields here: " + strings.Join(names, ", ") + ")"
}

var (
	syntaxRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	typeErrRE  = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	notFoundRE = regexp.MustCompile(`^line (\d+): field (.*) not found in type `)
)

// Decode strictly decodes one scenario document exactly as written: no
// defaults, no validation (see Parse). Unknown fields, values of the wrong
// type and bad durations are *FieldErrors naming the line and the field.
func Decode(data []byte) (*Scenario, error) {
	var s Scenario
	idx, fes := decodeStrict(data, &s)
	if err := joinErrors("", fes); err != nil {
		return nil, err
	}
	s.lines = idx
	return &s, nil
}

// decodeStrict decodes data into out (a pointer to a struct) with
// KnownFields, rewriting yaml.v3's errors into FieldErrors with paths.
func decodeStrict(data []byte, out any) (*index, []*FieldError) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []*FieldError{syntaxError(err)}
	}
	if len(root.Content) == 0 {
		return nil, []*FieldError{{Msg: "empty document; a scenario starts with name:, duration: and tenants:"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, []*FieldError{{Line: doc.Line, Msg: "the document must be a mapping (name: …, duration: …, tenants: …)"}}
	}
	idx := &index{lines: map[string]int{}}
	var fes []*FieldError
	idx.walk(doc, "", doc.Line, reflect.TypeOf(out).Elem(), &fes)
	unknown := len(fes) > 0

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(out)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			if unknown && notFoundRE.MatchString(msg) {
				continue // reported above with its path
			}
			fes = append(fes, idx.typeError(msg))
		}
	case err != nil:
		fes = append(fes, &FieldError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
	}
	if err == nil || te != nil {
		var extra yaml.Node
		if err := dec.Decode(&extra); err != io.EOF {
			line := 0
			if err == nil {
				line = extra.Line
			}
			fes = append(fes, &FieldError{Line: line, Msg: "a second YAML document (---); a scenario file holds one"})
		}
	}
	return idx, fes
}

// syntaxError turns a yaml.v3 parse error into a FieldError.
func syntaxError(err error) *FieldError {
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &FieldError{Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// typeError rewrites one of yaml.v3's TypeError messages with the field's
// path and what the field takes.
func (x *index) typeError(msg string) *FieldError {
	m := typeErrRE.FindStringSubmatch(msg)
	if m == nil {
		if nf := notFoundRE.FindStringSubmatch(msg); nf != nil {
			line, _ := strconv.Atoi(nf[1])
			return &FieldError{Line: line, Path: nf[2], Msg: "unknown field"}
		}
		return &FieldError{Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	tag, val, goType := m[2], strings.TrimPrefix(m[3], " "), m[4]
	prefix, truncated := strings.CutSuffix(val, "...")
	path := ""
	for _, pn := range x.values {
		n := pn.n
		if n.Line != line {
			continue
		}
		switch {
		case tag == "map" && n.Kind == yaml.MappingNode,
			tag == "seq" && n.Kind == yaml.SequenceNode,
			n.Kind == yaml.ScalarNode && (n.Value == val || truncated && strings.HasPrefix(n.Value, prefix)):
			path = pn.path
		}
		if path != "" {
			break
		}
	}
	shown := strconv.Quote(val)
	var what string
	switch {
	case tag == "map":
		what = "is a mapping; " + expects(goType)
	case tag == "seq":
		what = "is a list; " + expects(goType)
	default:
		what = shown + " " + notA(goType)
	}
	return &FieldError{Line: line, Path: path, Msg: what}
}

// expects says what a Go type takes in YAML.
func expects(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "write a list (- item, or [a, b])"
	case goType == "string":
		return "write a single value"
	case goType == "time.Duration", strings.Contains(goType, "float"), strings.Contains(goType, "int"):
		return "write a single value: " + notA(goType)[len("is not "):]
	}
	return "write a mapping (key: value)"
}

// notA says "is not a duration (…)" for a Go type's name.
func notA(goType string) string {
	switch {
	case goType == "time.Duration":
		return "is not a duration (write e.g. 500ms, 90s, 5m, 1h30m)"
	case strings.HasPrefix(goType, "uint"):
		return "is not a whole number ≥ 0"
	case strings.HasPrefix(goType, "int"), goType == "api.ByteSize":
		return "is not a whole number"
	case strings.HasPrefix(goType, "float"):
		return "is not a number"
	case goType == "bool":
		return "is not true or false"
	case goType == "time.Time":
		return "is not a time (RFC 3339, e.g. 2026-01-01T00:00:00Z)"
	case strings.HasPrefix(goType, "[]"):
		return "is not a list (- item, or [a, b])"
	case goType == "string":
		return "is not a string"
	}
	return "is not a mapping (key: value)"
}
