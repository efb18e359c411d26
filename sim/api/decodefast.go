package api

import (
	"strconv"
	"unicode/utf8"
)

// fastBody is what decodeFast reads from a body: absent strings are "".
type fastBody struct {
	context, query, model string
	ratio                 float64
	hasRatio              bool
	items                 []Input
	seen                  uint8 // bit per field, to refuse duplicates
}

// Field bits of fastBody.seen.
const (
	seenContext = 1 << iota
	seenQuery
	seenModel
	seenRatio
	seenCoarse
	seenSource
	seenInputs
)

// decodeFast decodes the plain bodies of the compression routes in one pass
// over one string copy of body. It reports ok = false, and decodes nothing,
// for anything it does not handle exactly as encoding/json would: invalid
// JSON, a field it does not know for the route (encoding/json matches field
// names case-insensitively and ignores unknown ones), a field twice, null,
// a value of the wrong type, a string with an escape, a control character or
// invalid UTF-8, a number strconv.ParseFloat refuses. Decode then falls
// back to decodeStd.
func decodeFast(route Route, key string, body []byte) (Request, []Input, bool) {
	s := string(body)
	var fb fastBody
	if !fb.parse(s, route) {
		return Request{}, nil, false
	}
	req := Request{Route: route, Key: key, Ratio: DefaultRatio}
	var (
		inputs []Input
		msg    string
	)
	// The same checks, in the same order, as decodeStd after a successful
	// json.Unmarshal.
	switch route {
	case RouteQuestionSpecific:
		inputs = []Input{{Context: fb.context, Query: fb.query}}
		if fb.query == "" {
			msg = msgQuery
		}
	case RouteQuestionAgnostic:
		inputs = []Input{{Context: fb.context}}
		if fb.context == "" {
			msg = msgContext
		}
	default: // batches
		if len(fb.items) == 0 {
			msg = msgInputsEmpty
			break
		}
		inputs = fb.items
		for _, in := range inputs {
			if route == RouteQuestionSpecificBatch && in.Query == "" {
				msg = msgItemQuery
				break
			}
			if route == RouteQuestionAgnosticBatch && in.Context == "" {
				msg = msgItemContext
				break
			}
		}
		if len(inputs) > MaxInputs {
			msg = msgInputsMany
		}
		req.Items = len(inputs)
	}
	for _, in := range inputs {
		req.Tokens += Tokens(in)
	}
	req.Model = fb.model
	if fb.hasRatio {
		req.Ratio = fb.ratio
	}
	checkFields(&req, msg)
	return req, inputs, true
}

// parse reads the top-level object of route's body; false = not handled.
func (fb *fastBody) parse(s string, route Route) bool {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			var name string
			var ok bool
			if name, i, ok = scanString(s, i); !ok {
				return false
			}
			if i = skipSpace(s, i); i >= len(s) || s[i] != ':' {
				return false
			}
			i = skipSpace(s, i+1)
			var bit uint8
			switch {
			case name == "compression_model_name":
				bit = seenModel
				fb.model, i, ok = scanString(s, i)
			case name == "target_compression_ratio":
				bit = seenRatio
				fb.ratio, i, ok = scanNumber(s, i)
				fb.hasRatio = true
			case name == "context" && (route == RouteQuestionSpecific || route == RouteQuestionAgnostic):
				bit = seenContext
				fb.context, i, ok = scanString(s, i)
			case name == "query" && route == RouteQuestionSpecific:
				bit = seenQuery
				fb.query, i, ok = scanString(s, i)
			case name == "source" && route == RouteQuestionSpecific:
				bit = seenSource
				_, i, ok = scanString(s, i)
			case name == "coarse" && route == RouteQuestionSpecific:
				bit = seenCoarse
				i, ok = scanBool(s, i)
			case name == "inputs" && route.Batch():
				bit = seenInputs
				i, ok = fb.parseItems(s, i, route == RouteQuestionSpecificBatch)
			}
			if bit == 0 || !ok || fb.seen&bit != 0 {
				return false
			}
			fb.seen |= bit
			i = skipSpace(s, i)
			if i >= len(s) {
				return false
			}
			if s[i] == '}' {
				i++
				break
			}
			if s[i] != ',' {
				return false
			}
			i = skipSpace(s, i+1)
		}
	}
	return skipSpace(s, i) == len(s)
}

// parseItems reads the inputs array at s[i:]: objects with context (and
// query when withQuery), each at most once.
func (fb *fastBody) parseItems(s string, i int, withQuery bool) (int, bool) {
	if i >= len(s) || s[i] != '[' {
		return i, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	fb.items = make([]Input, 0, 4)
	for {
		if i >= len(s) || s[i] != '{' {
			return i, false
		}
		var in Input
		var seen uint8
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == '}' {
			i++
		} else {
			for {
				name, j, ok := scanString(s, i)
				if !ok {
					return j, false
				}
				if i = skipSpace(s, j); i >= len(s) || s[i] != ':' {
					return i, false
				}
				i = skipSpace(s, i+1)
				var bit uint8
				switch {
				case name == "context":
					bit = seenContext
					in.Context, i, ok = scanString(s, i)
				case name == "query" && withQuery:
					bit = seenQuery
					in.Query, i, ok = scanString(s, i)
				}
				if bit == 0 || !ok || seen&bit != 0 {
					return i, false
				}
				seen |= bit
				if i = skipSpace(s, i); i >= len(s) {
					return i, false
				}
				if s[i] == '}' {
					i++
					break
				}
				if s[i] != ',' {
					return i, false
				}
				i = skipSpace(s, i+1)
			}
		}
		fb.items = append(fb.items, in)
		if i = skipSpace(s, i); i >= len(s) {
			return i, false
		}
		if s[i] == ']' {
			return i + 1, true
		}
		if s[i] != ',' {
			return i, false
		}
		i = skipSpace(s, i+1)
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// strClass classifies the bytes of a JSON string: 0 plain ASCII, 1 the
// closing quote, 2 a backslash or a control character, 3 not ASCII.
const strClass = "2222222222222222222222222222222200100000000000000000000000000000" +
	"0000000000000000000000000000200000000000000000000000000000000000" +
	"3333333333333333333333333333333333333333333333333333333333333333" +
	"3333333333333333333333333333333333333333333333333333333333333333"

// scanString reads a JSON string at s[i:] without escapes or control
// characters, in valid UTF-8: its contents (a substring of s) and the index
// after its closing quote.
func scanString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(s); j++ {
		switch strClass[s[j]] {
		case '0':
			continue
		case '1':
			v := s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", j, false
			}
			return v, j + 1, true
		case '2':
			return "", j, false
		default:
			ascii = false
		}
	}
	return "", len(s), false
}

// scanNumber reads a JSON number at s[i:] (RFC 8259 grammar) that
// strconv.ParseFloat accepts, as encoding/json does for a float64.
func scanNumber(s string, i int) (float64, int, bool) {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = skipDigits(s, i+1)
	default:
		return 0, i, false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return 0, j, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return 0, j, false
		}
		i = j
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return 0, i, false
	}
	return f, i, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// scanBool reads true or false at s[i:].
func scanBool(s string, i int) (int, bool) {
	switch {
	case len(s)-i >= 4 && s[i:i+4] == "true":
		return i + 4, true
	case len(s)-i >= 5 && s[i:i+5] == "false":
		return i + 5, true
	}
	return i, false
}
