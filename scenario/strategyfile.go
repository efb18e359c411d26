package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loadsim/loadsim/internal/suggest"
	"github.com/loadsim/loadsim/sim/backoff"
)

// maxStrategyFileSize bounds a strategy file (a few lines in practice).
const maxStrategyFileSize = 1 << 20

// strategyExample is the fix offered when a strategy file holds no strategy.
const strategyExample = "write a preset name (e.g. aws-standard) or a block such as {preset: aws-standard, max_attempts: 5}"

// LoadStrategy returns the retry strategy named by presetOrPath: a preset of
// sim/backoff (by name), or else a strategy file, the YAML of one
// client.strategy block exactly as in a scenario:
//
//	aws-standard                     # a bare preset name
//	preset: aws-standard             # or a block: a preset adjusted …
//	max_attempts: 5
//	jitter: full                     # … or written whole (type, base, cap, …)
//
// The block may also sit under a top-level strategy: key, as copied from a
// scenario's client section. The file is decoded strictly and the strategy
// resolved (see backoff.Config.Resolve); the strategy is returned as written,
// not resolved. The error joins one *FieldError per problem, each naming the
// file, the line, the field and the fix: unknown fields with the closest
// name, values of the wrong type, values that do not resolve with the valid
// choices. Every error matches ErrInvalid, including an argument that is
// neither a preset nor a readable file (at most 1 MiB). The file is read
// once; nothing else is.
func LoadStrategy(presetOrPath string) (Strategy, error) {
	if _, ok := backoff.Preset(presetOrPath); ok {
		return Strategy{Config: backoff.Config{Preset: presetOrPath}}, nil
	}
	st, err := os.Stat(presetOrPath)
	if err != nil || st.IsDir() {
		msg := "neither a preset (" + strings.Join(backoff.PresetNames(), ", ") + ") nor a strategy file" +
			suggest.Hint(presetOrPath, backoff.PresetNames())
		return Strategy{}, &FieldError{File: presetOrPath, Msg: msg}
	}
	f, err := os.Open(presetOrPath)
	if err != nil {
		return Strategy{}, &FieldError{File: presetOrPath, Msg: "cannot read the strategy file: " + unwrapPath(err).Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStrategyFileSize+1))
	if err != nil {
		return Strategy{}, &FieldError{File: presetOrPath, Msg: "cannot read the strategy file: " + unwrapPath(err).Error()}
	}
	if len(data) > maxStrategyFileSize {
		return Strategy{}, &FieldError{File: presetOrPath, Msg: fmt.Sprintf("larger than %d MiB; is this a strategy file? (%s)", maxStrategyFileSize>>20, strategyExample)}
	}
	return parseStrategy(data, presetOrPath)
}

// unwrapPath drops the *fs.PathError's repetition of the path.
func unwrapPath(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// strategyDoc is a strategy file whose block sits under strategy:.
type strategyDoc struct {
	Strategy Strategy `yaml:"strategy"`
}

// parseStrategy decodes and checks a strategy file's content (see
// LoadStrategy); file names it in messages.
func parseStrategy(data []byte, file string) (Strategy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Strategy{}, joinErrors(file, []*FieldError{syntaxError(err)})
	}
	if len(root.Content) == 0 || root.Content[0].ShortTag() == "!!null" {
		return Strategy{}, joinErrors(file, []*FieldError{{Msg: "empty; " + strategyExample}})
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, extra yaml.Node
	if err := dec.Decode(&first); err == nil {
		if err := dec.Decode(&extra); err != io.EOF {
			line := 0
			if err == nil {
				line = extra.Line
			}
			return Strategy{}, joinErrors(file, []*FieldError{{Line: line, Msg: "a second YAML document (---); a strategy file holds one strategy (compare several with one --strategy each)"}})
		}
	}
	doc := root.Content[0]
	switch doc.Kind {
	case yaml.ScalarNode: // a bare preset name
		s := Strategy{Config: backoff.Config{Preset: doc.Value}}
		fes := resolveProblems(s.Config, nil, "", nil)
		if len(fes) > 0 {
			for _, fe := range fes {
				fe.Line, fe.Path = doc.Line, ""
			}
			return Strategy{}, joinErrors(file, fes)
		}
		return s, nil
	case yaml.MappingNode:
	default:
		return Strategy{}, joinErrors(file, []*FieldError{{Line: doc.Line, Msg: "the document must be a preset name or a mapping; " + strategyExample}})
	}

	var (
		s       Strategy
		wrapped strategyDoc
		out     any    = &s
		prefix  string // "strategy" when the block is under strategy:
	)
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k := doc.Content[i]
		switch k.Value {
		case "strategy":
			prefix, out = "strategy", &wrapped
		case "client":
			return Strategy{}, joinErrors(file, []*FieldError{{Line: k.Line, Path: "client", Msg: "a strategy file holds the strategy block alone: " +
				"move the fields of client.strategy to the top level (preset: …, max_attempts: …) or under strategy:, and drop client:"}})
		case "tenants", "duration":
			return Strategy{}, joinErrors(file, []*FieldError{{Line: k.Line, Path: k.Value, Msg: "this is a scenario file, not a strategy file: " +
				"copy one tenant's client.strategy block into a file of its own (e.g. {preset: aws-standard, max_attempts: 5}), or list strategies under the scenario's compare:"}})
		}
	}
	idx, fes := decodeStrict(data, out)
	if prefix != "" {
		s = wrapped.Strategy
		for _, fe := range fes { // a strategy field beside strategy:, not under it
			if fieldByYAMLName(reflect.ValueOf(backoff.Config{}), fe.Path).IsValid() {
				fe.Msg = "a strategy field beside strategy:; indent it under strategy: (or drop strategy: and write every field at the top level)"
			}
		}
	}
	if idx == nil {
		return Strategy{}, joinErrors(file, fes)
	}
	if len(fes) == 0 && isZeroConfig(s.Config) {
		line := idx.line(prefix)
		if line == 0 {
			line = doc.Line
		}
		fes = append(fes, &FieldError{Line: line, Path: prefix, Msg: "sets nothing; " + strategyExample})
	}
	fes = append(fes, resolveProblems(s.Config, idx, prefix, fes)...)
	if err := joinErrors(file, fes); err != nil {
		return Strategy{}, err
	}
	return s, nil
}

// maxResolveProblems bounds the problems resolveProblems reports.
const maxResolveProblems = 32

// resolveProblems reports every field of c that does not resolve, each at
// its line in idx under prefix (a field path). backoff.Config.Resolve stops
// at the first problem, so each reported field is unset (it then takes the
// preset's value) and c resolved again, until it resolves or a field is
// reported twice. Fields of known, earlier problems (decoding errors) are
// not reported again.
func resolveProblems(c backoff.Config, idx *index, prefix string, known []*FieldError) []*FieldError {
	seen := map[string]bool{}
	for _, fe := range known {
		seen[fe.Path] = true
	}
	var out []*FieldError
	for range maxResolveProblems {
		_, err := c.Resolve()
		if err == nil {
			break
		}
		var be *backoff.FieldError
		if !errors.As(err, &be) {
			out = append(out, &FieldError{Line: idx.line(prefix), Path: prefix, Msg: err.Error()})
			break
		}
		field := strings.TrimPrefix(strings.TrimPrefix(be.Field, "client.strategy"), ".")
		p := field
		if prefix != "" {
			p = prefix + dotted(field)
		}
		if seen[p] {
			break
		}
		seen[p] = true
		out = append(out, &FieldError{Line: idx.line(p), Path: p, Msg: be.Msg})
		if !unset(&c, field) {
			break
		}
	}
	return out
}

// unset clears the field at path (YAML names: "jitter", "budget.cost",
// "retry_on[2]") of c, copying what it changes under a pointer or in a
// slice so that values shared with the caller are untouched. It reports
// whether it changed anything.
func unset(c *backoff.Config, path string) bool {
	v := reflect.ValueOf(c).Elem()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		name, elem, isElem := strings.Cut(part, "[")
		f := fieldByYAMLName(v, name)
		if !f.IsValid() {
			return false
		}
		if i == len(parts)-1 {
			if isElem { // zeroed, not removed, so that later indices stay those of the file
				k, err := strconv.Atoi(strings.TrimSuffix(elem, "]"))
				if f.Kind() != reflect.Slice || err != nil || k < 0 || k >= f.Len() {
					return false
				}
				cp := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(cp, f)
				f.Set(cp)
				f = f.Index(k)
			}
			if f.IsZero() {
				return false
			}
			f.SetZero()
			return true
		}
		if f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Struct {
			return false
		}
		cp := reflect.New(f.Elem().Type())
		cp.Elem().Set(f.Elem())
		f.Set(cp)
		v = cp.Elem()
	}
	return false
}

// fieldByYAMLName returns the field of struct v that YAML names name.
func fieldByYAMLName(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}
