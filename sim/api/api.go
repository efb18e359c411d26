// Package api is the Compresr API model: routes, keys and tiers, request
// validation, tier feature gates, quotas, the upstream service with its
// incidents, and the circuit breaker in front of it, with the error order and
// the Retry-After rules of the contract (shared/compresr-api.md).
//
// It is pure code: no net/http, no wall clock. Time is a parameter (as in
// rate.Limiter.AllowN) and randomness comes from a seeded source, so the HTTP
// mock (sim/mock, wall clock) and the simulator (sim/des, virtual clock) run
// the same rules.
package api

import (
	"time"

	"github.com/loadsim/loadsim/sim"
)

// Route is one of the API's routes.
type Route uint8

// Routes. RouteUnknown answers 404 not_found.
const (
	RouteUnknown Route = iota
	RouteQuestionSpecific
	RouteQuestionSpecificBatch
	RouteQuestionAgnostic
	RouteQuestionAgnosticBatch
	RouteModels
	RouteRateLimits
	RouteHealth
	RouteMetrics
	numRoutes
)

// NumRoutes is the number of Route values, for arrays indexed by route.
const NumRoutes = int(numRoutes)

var routePaths = [...]string{"other",
	"/api/compress/question-specific/", "/api/compress/question-specific/batch",
	"/api/compress/question-agnostic/", "/api/compress/question-agnostic/batch",
	"/api/compress/models", "/api/profile/rate-limits", "/health", "/metrics"}

var routeMethods = [...]string{"", "POST", "POST", "POST", "POST", "GET", "GET", "GET", "GET"}

// Path returns the route as written in the contract ("other" for RouteUnknown);
// it is also the `route` metric label.
func (r Route) Path() string {
	if int(r) < len(routePaths) {
		return routePaths[r]
	}
	return "other"
}

// Method returns the one HTTP method the route accepts ("" for RouteUnknown).
func (r Route) Method() string {
	if int(r) < len(routeMethods) {
		return routeMethods[r]
	}
	return ""
}

// Compresses reports whether the route is one of the four compression routes
// (authenticated, metered, upstream-bound).
func (r Route) Compresses() bool {
	return r >= RouteQuestionSpecific && r <= RouteQuestionAgnosticBatch
}

// Batch reports whether the route takes `inputs`.
func (r Route) Batch() bool {
	return r == RouteQuestionSpecificBatch || r == RouteQuestionAgnosticBatch
}

// NeedsQuery reports whether the route requires `query` (question-specific).
func (r Route) NeedsQuery() bool {
	return r == RouteQuestionSpecific || r == RouteQuestionSpecificBatch
}

// LookupRoute matches a request path exactly (no trailing-slash redirects, no
// prefix matching).
func LookupRoute(path string) Route {
	for r := RouteQuestionSpecific; r < numRoutes; r++ {
		if routePaths[r] == path {
			return r
		}
	}
	return RouteUnknown
}

// Code is an error.code of the contract; OK for success.
type Code uint8

// Codes, with their HTTP status.
const (
	OK                 Code = iota // 200
	NotFound                       // 404 not_found
	MethodNotAllowed               // 405 method_not_allowed
	MissingAPIKey                  // 401 missing_api_key
	InvalidAPIKey                  // 401 invalid_api_key
	ExpiredAPIKey                  // 401 expired_api_key
	InvalidRequest                 // 400 invalid_request
	ValidationError                // 422 validation_error
	Forbidden                      // 403 forbidden
	RateLimitExceeded              // 429 rate_limit_exceeded
	ServiceUnavailable             // 503 service_unavailable
	InternalError                  // 500 internal_error
	numCodes
)

// NumCodes is the number of Code values, for arrays indexed by code.
const NumCodes = int(numCodes)

var codeNames = [...]string{"", "not_found", "method_not_allowed", "missing_api_key", "invalid_api_key",
	"expired_api_key", "invalid_request", "validation_error", "forbidden", "rate_limit_exceeded",
	"service_unavailable", "internal_error"}

var codeStatus = [...]int{200, 404, 405, 401, 401, 401, 400, 422, 403, 429, 503, 500}

// String returns the error.code string ("" for OK).
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "internal_error"
}

// Status returns the HTTP status of the code.
func (c Code) Status() int {
	if int(c) < len(codeStatus) {
		return codeStatus[c]
	}
	return 500
}

// Request is a request as the model sees it: the route, the X-API-Key header
// and what the body says, already decoded (by Decode for HTTP bodies; built
// directly by the simulator). The zero value is a request without a key to
// RouteUnknown.
type Request struct {
	Route Route
	Key   string // X-API-Key; "" = missing

	// Problem is set by Decode when the body is not of the right shape (400
	// invalid_request) or fails a field check that needs no configuration
	// (422 validation_error); Message names the field. The model answers it
	// after authentication, in the contract's order.
	Problem        Code
	ProblemMessage string

	Model  string  // compression_model_name ("" = absent)
	Ratio  float64 // target_compression_ratio (default 0.5)
	Items  int     // batch inputs (0 for single requests)
	Tokens int64   // total input tokens: Σ ceil(UTF-8 bytes of context+query / 4)

	// What Model.Bind resolved for this request: its key, its validation
	// (check's code and message; OK when valid or the key is unknown) and
	// its compressed tokens, valid while bound is the model handling it.
	bound           *Model
	boundKey        *keyState
	boundCode       Code
	boundMessage    string
	boundCompressed int64 // Compress(Tokens, Ratio)
}

// Response is the model's decision. Messages are static strings; the model
// allocates nothing to build a success.
type Response struct {
	Code       Code
	Message    string // human-readable; names the field for 422
	RetryAfter int    // whole seconds for the Retry-After header; 0 = no header
	Allow      string // the Allow header of a 405

	// Limits is the key's quota view for X-RateLimit-* headers, after this
	// request; Limits.Known() is false before authentication.
	Limits sim.RateLimits

	// Latency is how long the server takes to answer: the upstream call's
	// latency for calls that reach it (or upstream.timeout for capacity
	// overflows), 0 otherwise. The mock waits it; the simulator schedules it.
	Latency time.Duration

	// Upstream is true when the request reached the upstream (admitted and the
	// circuit let it through), whatever the result.
	Upstream bool

	// Tokens is the request's input tokens and CompressedTokens the tokens
	// after compression (successes only), per the contract's formula.
	Tokens           int64
	CompressedTokens int64

	// Circuit is the server's circuit state once the decision is made, as
	// Model.Circuit at the same instant returns it (the simulator plots it
	// without a second call).
	Circuit sim.CircuitState
}

// Status returns the HTTP status of the response.
func (r Response) Status() int { return r.Code.Status() }
