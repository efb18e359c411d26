package api

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(`{"context":"c","query":"q"},`, 101)
	tests := []struct {
		name    string
		route   Route
		body    string
		problem Code
		msgHas  string // substring of ProblemMessage
		tokens  int64
		items   int
		ratio   float64
	}{
		// A valid question-specific body: ceil((8+5)/4) = 4 tokens, default ratio.
		{"qs ok", RouteQuestionSpecific, `{"context":"abcdefgh","query":"what?","compression_model_name":"latte_v1"}`, OK, "", 4, 0, 0.5},
		// Context is optional for question-specific; unknown fields are ignored.
		{"qs no context", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","extra":[1,{}]}`, OK, "", 1, 0, 0.5},
		// Tokens count UTF-8 bytes: "é" is 2 bytes, 3×2+1 = 7 bytes → 2 tokens.
		{"utf8 bytes", RouteQuestionSpecific, `{"context":"ééé","query":"q","compression_model_name":"m"}`, OK, "", 2, 0, 0.5},
		// Ratio 0 and 200 are the inclusive bounds.
		{"ratio 0", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","target_compression_ratio":0}`, OK, "", 1, 0, 0},
		{"ratio 200", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","target_compression_ratio":200}`, OK, "", 1, 0, 200},
		// Empty body, not JSON, trailing bytes, not an object, null → 400.
		{"empty body", RouteQuestionSpecific, ``, InvalidRequest, "JSON object", 0, 0, 0.5},
		{"not json", RouteQuestionSpecific, `{not json`, InvalidRequest, "not valid JSON", 0, 0, 0.5},
		{"trailing bytes", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m"} x`, InvalidRequest, "not valid JSON", 0, 0, 0.5},
		{"two objects", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m"}{}`, InvalidRequest, "not valid JSON", 0, 0, 0.5},
		{"array", RouteQuestionSpecific, `[1,2]`, InvalidRequest, "JSON object", 0, 0, 0.5},
		{"null", RouteQuestionSpecific, `null`, InvalidRequest, "JSON object", 0, 0, 0.5},
		// Wrong field types → 400 naming the field.
		{"query number", RouteQuestionSpecific, `{"query":5,"compression_model_name":"m"}`, InvalidRequest, "query: must be a string", 0, 0, 0.5},
		{"ratio string", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","target_compression_ratio":"2"}`, InvalidRequest, "target_compression_ratio", 0, 0, 0.5},
		{"coarse string", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","coarse":"yes"}`, InvalidRequest, "coarse", 0, 0, 0.5},
		{"inputs object", RouteQuestionSpecificBatch, `{"inputs":{},"compression_model_name":"m"}`, InvalidRequest, "inputs", 0, 0, 0.5},
		{"item not object", RouteQuestionSpecificBatch, `{"inputs":[1],"compression_model_name":"m"}`, InvalidRequest, "inputs", 0, 0, 0.5},
		{"item null", RouteQuestionSpecificBatch, `{"inputs":[null],"compression_model_name":"m"}`, InvalidRequest, "inputs[]", 0, 0, 0.5},
		{"item query number", RouteQuestionSpecificBatch, `{"inputs":[{"query":1}],"compression_model_name":"m"}`, InvalidRequest, "inputs[].query", 0, 0, 0.5},
		// Absent, null or empty required fields → 422 naming the field.
		{"query absent", RouteQuestionSpecific, `{"compression_model_name":"m"}`, ValidationError, "query", 0, 0, 0.5},
		{"query null", RouteQuestionSpecific, `{"query":null,"compression_model_name":"m"}`, ValidationError, "query", 0, 0, 0.5},
		{"query empty", RouteQuestionSpecific, `{"query":"","compression_model_name":"m"}`, ValidationError, "query", 0, 0, 0.5},
		{"model absent", RouteQuestionSpecific, `{"query":"q"}`, ValidationError, "compression_model_name", 1, 0, 0.5},
		{"model empty", RouteQuestionSpecific, `{"query":"q","compression_model_name":""}`, ValidationError, "compression_model_name", 1, 0, 0.5},
		{"ratio above", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","target_compression_ratio":200.5}`, ValidationError, "target_compression_ratio", 1, 0, 200.5},
		{"ratio below", RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","target_compression_ratio":-0.1}`, ValidationError, "target_compression_ratio", 1, 0, -0.1},
		// Question-agnostic needs context, ignores query (even of a wrong type).
		{"qa ok", RouteQuestionAgnostic, `{"context":"abcde","query":5,"compression_model_name":"m"}`, OK, "", 2, 0, 0.5},
		{"qa context absent", RouteQuestionAgnostic, `{"compression_model_name":"m"}`, ValidationError, "context", 0, 0, 0.5},
		// Batches: 1..100 items, each item checked; tokens summed per item.
		{"batch ok", RouteQuestionSpecificBatch, `{"inputs":[{"context":"abcd","query":"q"},{"query":"qq"}],"compression_model_name":"m"}`, OK, "", 3, 2, 0.5},
		{"batch empty", RouteQuestionSpecificBatch, `{"inputs":[],"compression_model_name":"m"}`, ValidationError, "inputs", 0, 0, 0.5},
		{"batch absent", RouteQuestionSpecificBatch, `{"compression_model_name":"m"}`, ValidationError, "inputs", 0, 0, 0.5},
		{"batch 101", RouteQuestionSpecificBatch, `{"inputs":[` + long[:len(long)-1] + `],"compression_model_name":"m"}`, ValidationError, "at most 100", 101, 101, 0.5},
		{"batch item query empty", RouteQuestionSpecificBatch, `{"inputs":[{"query":"q"},{"query":""}],"compression_model_name":"m"}`, ValidationError, "inputs[].query", 1, 2, 0.5},
		{"qa batch ok", RouteQuestionAgnosticBatch, `{"inputs":[{"context":"abcde"}],"compression_model_name":"m"}`, OK, "", 2, 1, 0.5},
		{"qa batch no context", RouteQuestionAgnosticBatch, `{"inputs":[{}],"compression_model_name":"m"}`, ValidationError, "inputs[].context", 0, 1, 0.5},
	}
	for _, tt := range tests {
		req, inputs := Decode(tt.route, "k", []byte(tt.body))
		call := "Decode(" + tt.route.Path() + ", " + tt.body + ")"
		if len(call) > 160 {
			call = call[:160] + "…"
		}
		if req.Problem != tt.problem || !strings.Contains(req.ProblemMessage, tt.msgHas) {
			t.Errorf("%s: %s = problem %v %q; want %v containing %q", tt.name, call, req.Problem, req.ProblemMessage, tt.problem, tt.msgHas)
			continue
		}
		if tt.problem == InvalidRequest {
			continue
		}
		if req.Tokens != tt.tokens || req.Items != tt.items || req.Ratio != tt.ratio || req.Key != "k" || req.Route != tt.route {
			t.Errorf("%s: %s = tokens %d items %d ratio %v; want %d %d %v", tt.name, call, req.Tokens, req.Items, req.Ratio, tt.tokens, tt.items, tt.ratio)
		}
		if tt.problem == OK && (len(inputs) == 0 || req.Model != "m" && req.Model != "latte_v1") {
			t.Errorf("%s: %s = inputs %v model %q", tt.name, call, inputs, req.Model)
		}
	}
}

func TestCompress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tokens int64
		ratio  float64
		want   int64
	}{
		{100, 0.5, 50}, // half
		{10, 0.3, 7},   // ceil(7.000…) without float noise
		{7, 0.5, 4},    // ceil(3.5)
		{100, 0, 100},  // ratio 0 keeps everything
		{100, 1, 0},    // ratio 1 keeps nothing
		{100, 3, 34},   // r > 1: ceil(100/3)
		{100, 200, 1},  // ceil(0.5)
		{0, 0.5, 0},    // nothing to compress
		{100, -1, 100}, // invalid ratio: no compression
	}
	for _, tt := range tests {
		if got := Compress(tt.tokens, tt.ratio); got != tt.want {
			t.Errorf("Compress(%d, %v) = %d; want %d", tt.tokens, tt.ratio, got, tt.want)
		}
	}
	if got := ActualRatio(100, 34); got != 0.34 {
		t.Errorf("ActualRatio(100, 34) = %v; want 0.34", got)
	}
	if got := ActualRatio(0, 0); got != 0 {
		t.Errorf("ActualRatio(0, 0) = %v; want 0", got)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"query":"q","compression_model_name":"m"}`,
		`{"inputs":[{"context":"c","query":"q"}],"compression_model_name":"m","target_compression_ratio":1e308}`,
		`{"inputs":[null,1,"x"]}`, `{"query":"\ud800"}`, `{"target_compression_ratio":1e999}`, `{"a":` + strings.Repeat("[", 1000)} {
		for r := RouteUnknown; r < numRoutes; r++ {
			f.Add(uint8(r), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		req, inputs := Decode(Route(route%uint8(numRoutes+1)), "k", body)
		switch req.Problem {
		case OK:
			if req.Route.Compresses() && (len(inputs) == 0 || req.Model == "" || req.Tokens < 0) {
				t.Fatalf("Decode(%q) = OK with inputs %d model %q tokens %d", body, len(inputs), req.Model, req.Tokens)
			}
		case InvalidRequest, ValidationError:
			if req.ProblemMessage == "" {
				t.Fatalf("Decode(%q) = %v without a message", body, req.Problem)
			}
		default:
			t.Fatalf("Decode(%q) = problem %v; want OK, InvalidRequest or ValidationError", body, req.Problem)
		}
	})
}

// FuzzDecodeFastMatchesStd holds Decode (the single-pass scanner, with its
// fallback) to the answers of the encoding/json decoder it replaced: every
// field of the Request and every input must be the same for any body.
func FuzzDecodeFastMatchesStd(f *testing.F) {
	for _, s := range []string{``, ` {} `, `{"query":"q","compression_model_name":"m"}`,
		`{"context":"Machine learning is a field of study.","query":"What is it?","compression_model_name":"latte_v1","target_compression_ratio":0.3,"coarse":true,"source":"x"}`,
		`{"context":"ééé","query":"q","compression_model_name":"m","target_compression_ratio":-0}`,
		`{"query":"q","query":"r","compression_model_name":"m"}`, `{"Query":"q","compression_model_name":"m"}`,
		`{"query":"a\"b","compression_model_name":"m"}`, `{"query":"\xff","compression_model_name":"m"}`,
		`{"query":null,"compression_model_name":"m"}`, `{"target_compression_ratio":1e400}`, `{"target_compression_ratio":01}`,
		`{"inputs":[],"compression_model_name":"m"}`, `{"inputs":[{}],"compression_model_name":"m"}`,
		`{"inputs":[{"context":"abcd","query":"q"},{"query":"qq"}],"compression_model_name":"m","target_compression_ratio":2}`,
		`{"inputs":[{"context":"c","query":""}],"compression_model_name":"m"} x`, `{"inputs":[null]}`, `{"coarse":tru}`,
		"{\"query\":\"q\",\n\t\"compression_model_name\" : \"m\"\r}\n"} {
		for r := RouteQuestionSpecific; r <= RouteQuestionAgnosticBatch; r++ {
			f.Add(uint8(r), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := Route(route % uint8(numRoutes+1))
		got, gotIn := Decode(r, "k", body)
		want, wantIn := decodeStd(r, "k", body)
		if got.Route != want.Route || got.Key != want.Key || got.Problem != want.Problem || got.ProblemMessage != want.ProblemMessage ||
			got.Model != want.Model || math.Float64bits(got.Ratio) != math.Float64bits(want.Ratio) || got.Items != want.Items || got.Tokens != want.Tokens {
			t.Fatalf("Decode(%v, %q) = %+v; encoding/json decoder says %+v", r, body, got, want)
		}
		if !reflect.DeepEqual(gotIn, wantIn) {
			t.Fatalf("Decode(%v, %q) inputs = %q; encoding/json decoder says %q", r, body, gotIn, wantIn)
		}
	})
}

// TestDecodeFastPath checks that plain bodies take the scanner (so the
// speed-up is real) and unusual ones fall back.
func TestDecodeFastPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		route Route
		body  string
		fast  bool
	}{
		// The README's example.
		{RouteQuestionSpecific, `{"context":"Machine learning is a field of study.","query":"What is it?","compression_model_name":"latte_v1"}`, true},
		// A batch with a ratio.
		{RouteQuestionAgnosticBatch, `{"inputs":[{"context":"a"},{"context":"b"}],"compression_model_name":"m","target_compression_ratio":0.25}`, true},
		// An escape in a string: encoding/json unescapes it.
		{RouteQuestionSpecific, `{"query":"a\nb","compression_model_name":"m"}`, false},
		// An unknown field: encoding/json validates and ignores it.
		{RouteQuestionSpecific, `{"query":"q","compression_model_name":"m","extra":1}`, false},
		// A field name in another case: encoding/json matches it.
		{RouteQuestionSpecific, `{"QUERY":"q","compression_model_name":"m"}`, false},
		// null: encoding/json leaves the field unset.
		{RouteQuestionAgnostic, `{"context":null,"compression_model_name":"m"}`, false},
	}
	for _, tt := range tests {
		if _, _, ok := decodeFast(tt.route, "k", []byte(tt.body)); ok != tt.fast {
			t.Errorf("decodeFast(%v, %s) ok = %v; want %v", tt.route.Path(), tt.body, ok, tt.fast)
		}
	}
}
