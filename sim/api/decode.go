package api

import (
	"bytes"
	"encoding/json"
	"errors"
)

// DefaultRatio is target_compression_ratio when the body leaves it out.
const DefaultRatio = 0.5

// MaxInputs is the largest accepted batch.
const MaxInputs = 100

// Static messages of Decode's problems.
const (
	msgNotObject    = "request body must be a JSON object"
	msgBadJSON      = "request body is not valid JSON (or has bytes after the object)"
	msgWrongType    = "a field has the wrong JSON type: context, query, compression_model_name and source are strings, target_compression_ratio a number, coarse a boolean, inputs an array of objects"
	msgItemNotObj   = "inputs[]: every item must be a JSON object"
	msgQuery        = "query: must be a non-empty string"
	msgItemQuery    = "inputs[].query: must be a non-empty string"
	msgContext      = "context: must be a non-empty string"
	msgItemContext  = "inputs[].context: must be a non-empty string"
	msgModelMissing = "compression_model_name: must be a non-empty string"
	msgRatio        = "target_compression_ratio: must be a number in [0, 200]"
	msgInputsEmpty  = "inputs: must be a non-empty array"
	msgInputsMany   = "inputs: must have at most 100 items"
)

// typeMessages names the field of a wrong-type error.
var typeMessages = map[string]string{
	"context":                  "context: must be a string",
	"query":                    "query: must be a string",
	"compression_model_name":   "compression_model_name: must be a string",
	"source":                   "source: must be a string",
	"coarse":                   "coarse: must be a boolean",
	"target_compression_ratio": "target_compression_ratio: must be a number",
	"inputs":                   "inputs: must be an array of objects",
	"inputs.context":           "inputs[].context: must be a string",
	"inputs.query":             "inputs[].query: must be a string",
}

// Wire shapes. Pointers tell absent or null (nil) from present; a JSON value
// of the wrong type fails decoding (400).
type (
	qsBody struct {
		Context *string  `json:"context"`
		Query   *string  `json:"query"`
		Model   *string  `json:"compression_model_name"`
		Ratio   *float64 `json:"target_compression_ratio"`
		Coarse  *bool    `json:"coarse"`
		Source  *string  `json:"source"`
	}
	qaBody struct {
		Context *string  `json:"context"`
		Model   *string  `json:"compression_model_name"`
		Ratio   *float64 `json:"target_compression_ratio"`
	}
	qsItem struct {
		Context *string `json:"context"`
		Query   *string `json:"query"`
	}
	qaItem struct {
		Context *string `json:"context"`
	}
	batchBody[T any] struct {
		Inputs *[]*T    `json:"inputs"`
		Model  *string  `json:"compression_model_name"`
		Ratio  *float64 `json:"target_compression_ratio"`
	}
)

// Decode parses the HTTP body of a compression route into a Request (with
// Route and Key from the arguments) and the inputs a success body echoes
// (one for single requests, one per item for batches).
//
// Shape problems — empty body, invalid JSON, bytes after the object, not an
// object, a field or batch item of the wrong JSON type — set Problem to
// InvalidRequest. Field problems — query (question-specific) or context
// (question-agnostic) absent, null or empty; compression_model_name absent,
// null or empty; target_compression_ratio outside [0, 200]; inputs absent,
// empty or over 100 items — set ValidationError. ProblemMessage is a static
// string naming the field. Unknown fields are ignored. Tokens is Σ Tokens(input).
// Model names are checked by the Model, not here. Decode never panics; it
// is safe for concurrent use. The returned strings do not alias body.
//
// Plain bodies (known fields only, each once, strings without escapes,
// nothing null) take a single-pass scanner (decodeFast) that allocates one
// copy of the body and the inputs; every other body goes through
// encoding/json (decodeStd), so errors and edge cases stay those of
// encoding/json. FuzzDecodeFastMatchesStd holds the two to the same answers.
func Decode(route Route, key string, body []byte) (Request, []Input) {
	if route.Compresses() {
		if req, inputs, ok := decodeFast(route, key, body); ok {
			return req, inputs
		}
	}
	return decodeStd(route, key, body)
}

// decodeStd is Decode with encoding/json.
func decodeStd(route Route, key string, body []byte) (Request, []Input) {
	req := Request{Route: route, Key: key, Ratio: DefaultRatio}
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		if len(b) > 0 && !json.Valid(b) {
			return problem(req, InvalidRequest, msgBadJSON)
		}
		return problem(req, InvalidRequest, msgNotObject)
	}
	var (
		model  *string
		ratio  *float64
		inputs []Input
		msg    string
		err    error
	)
	switch route {
	case RouteQuestionSpecific:
		var w qsBody
		if err = json.Unmarshal(body, &w); err == nil {
			model, ratio = w.Model, w.Ratio
			inputs = []Input{{Context: str(w.Context), Query: str(w.Query)}}
			if w.Query == nil || *w.Query == "" {
				msg = msgQuery
			}
		}
	case RouteQuestionAgnostic:
		var w qaBody
		if err = json.Unmarshal(body, &w); err == nil {
			model, ratio = w.Model, w.Ratio
			inputs = []Input{{Context: str(w.Context)}}
			if w.Context == nil || *w.Context == "" {
				msg = msgContext
			}
		}
	case RouteQuestionSpecificBatch:
		var w batchBody[qsItem]
		if err = json.Unmarshal(body, &w); err == nil {
			model, ratio = w.Model, w.Ratio
			inputs, msg = batchInputs(w.Inputs, func(it *qsItem) (Input, string) {
				in := Input{Context: str(it.Context), Query: str(it.Query)}
				if in.Query == "" {
					return in, msgItemQuery
				}
				return in, ""
			})
		}
	case RouteQuestionAgnosticBatch:
		var w batchBody[qaItem]
		if err = json.Unmarshal(body, &w); err == nil {
			model, ratio = w.Model, w.Ratio
			inputs, msg = batchInputs(w.Inputs, func(it *qaItem) (Input, string) {
				in := Input{Context: str(it.Context)}
				if in.Context == "" {
					return in, msgItemContext
				}
				return in, ""
			})
		}
	default:
		// Routes without a body: nothing to decode.
		return req, nil
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if m, ok := typeMessages[te.Field]; ok {
				return problem(req, InvalidRequest, m)
			}
			return problem(req, InvalidRequest, msgWrongType)
		}
		return problem(req, InvalidRequest, msgBadJSON)
	}
	if msg == msgItemNotObj {
		return problem(req, InvalidRequest, msg)
	}
	if route.Batch() {
		req.Items = len(inputs)
	}
	for _, in := range inputs {
		req.Tokens += Tokens(in)
	}
	req.Model = str(model)
	if ratio != nil {
		req.Ratio = *ratio
	}
	checkFields(&req, msg)
	return req, inputs
}

// checkFields ends decoding: msg, the first problem found while decoding
// ("" if none), or else a missing model or a ratio outside [0, 200], makes
// req a 422 validation_error with that message.
func checkFields(req *Request, msg string) {
	switch {
	case msg != "":
	case req.Model == "":
		msg = msgModelMissing
	case !(req.Ratio >= 0 && req.Ratio <= 200):
		msg = msgRatio
	}
	if msg != "" {
		req.Problem, req.ProblemMessage = ValidationError, msg
	}
}

// batchInputs converts decoded items; the message is the first problem:
// msgItemNotObj for a null item (a shape problem), inputs count, then the
// first item's field problem.
func batchInputs[T any](items *[]*T, conv func(*T) (Input, string)) ([]Input, string) {
	if items == nil || len(*items) == 0 {
		return nil, msgInputsEmpty
	}
	inputs := make([]Input, len(*items))
	first := ""
	for i, it := range *items {
		if it == nil {
			return nil, msgItemNotObj
		}
		var m string
		inputs[i], m = conv(it)
		if first == "" {
			first = m
		}
	}
	if len(inputs) > MaxInputs {
		return inputs, msgInputsMany
	}
	return inputs, first
}

func problem(req Request, code Code, msg string) (Request, []Input) {
	req.Problem, req.ProblemMessage = code, msg
	return req, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
