// Package sim holds the types shared by every part of loadsim: the clock, the
// rate-limit view a client gets from response headers, and the record stream
// (one Attempt per HTTP attempt, one Outcome per logical request) that both the
// real-time runner (sim/attack) and the virtual-time simulator (sim/des) emit and
// the report package consumes.
//
// The package has no dependencies beyond the standard library and holds no
// state: it is the vocabulary, not the machinery.
package sim

import "time"

// Clock tells the current time. Code shared by the real-time and the
// virtual-time engine takes time as a parameter; only thin wrappers read a
// Clock.
type Clock interface {
	Now() time.Time
}

// WallClock is the Clock of live runs: time.Now.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// Unlimited is the value of a limit or a remaining count that has no bound
// (`-1` in configuration files and in X-RateLimit-* headers).
const Unlimited int64 = -1

// TimeoutCode is the error code an attempt records (Attempt.Code, with
// Status 0) when its per-attempt timeout passed before a response: the live
// client and the simulator record it alike, so that attempts.by_code
// counts timeouts in both engines.
const TimeoutCode = "transport_timeout"

// RateLimits is what a response's X-RateLimit-* headers say about the key's
// quota. The zero value (Tier == "") means the response carried no such headers
// (an unauthenticated request, a transport error). Remaining counts the request
// that carried them. Unlimited limits and remainders are Unlimited.
type RateLimits struct {
	Tier            string
	LimitMinute     int64
	RemainingMinute int64
	LimitDay        int64
	RemainingDay    int64
}

// Known reports whether the response carried rate-limit headers.
func (l RateLimits) Known() bool { return l.Tier != "" }

// CircuitState is the server-side circuit breaker's state.
type CircuitState uint8

// Circuit breaker states, numbered as the compresr_mock_circuit_state gauge.
const (
	CircuitClosed   CircuitState = 0
	CircuitHalfOpen CircuitState = 1
	CircuitOpen     CircuitState = 2
)

var circuitNames = [...]string{"closed", "half_open", "open"}

// String returns "closed", "half_open" or "open".
func (s CircuitState) String() string {
	if int(s) < len(circuitNames) {
		return circuitNames[s]
	}
	return "unknown"
}

// OutcomeKind is how a logical request ended.
type OutcomeKind uint8

// Outcome kinds. Invariant over a run:
// requests = Succeeded + GaveUp + FailedPermanent + RejectedClientSide + InFlight.
const (
	// InFlight: the run stopped before the request ended.
	InFlight OutcomeKind = iota
	// Succeeded: an attempt got a 2xx.
	Succeeded
	// GaveUp: the strategy stopped retrying a retryable failure (attempts,
	// deadline, budget, local throttling, client circuit).
	GaveUp
	// FailedPermanent: the last response was not retryable (a 4xx other than 429).
	FailedPermanent
	// RejectedClientSide: client-side validation refused to send it.
	RejectedClientSide
	numOutcomeKinds
)

// NumOutcomeKinds is the number of OutcomeKind values, for arrays indexed by kind.
const NumOutcomeKinds = int(numOutcomeKinds)

var outcomeNames = [...]string{"in_flight", "succeeded", "gave_up", "failed_permanent", "rejected_client_side"}

// String returns the snake_case name used in summaries and metric labels.
func (k OutcomeKind) String() string {
	if int(k) < len(outcomeNames) {
		return outcomeNames[k]
	}
	return "unknown"
}

// StopReason says why a retry loop ended, or StopNone while it goes on.
type StopReason uint8

// Stop reasons, as decided by a sim/backoff strategy or the runner.
const (
	StopNone               StopReason = iota // retrying: not stopped
	StopSucceeded                            // the attempt succeeded
	StopNotRetryable                         // the response is not retryable under the strategy
	StopMaxAttempts                          // max_attempts reached
	StopDeadline                             // the next attempt would start after the request's deadline
	StopBudgetExhausted                      // a retry budget refused the retry
	StopThrottledLocally                     // client-side adaptive throttling rejected the attempt
	StopClientCircuitOpen                    // the client's own circuit breaker is open
	StopRejectedClientSide                   // client-side validation refused the request
	StopCancelled                            // the run ended (context cancelled) while waiting
	numStopReasons
)

// NumStopReasons is the number of StopReason values, for arrays indexed by reason.
const NumStopReasons = int(numStopReasons)

var stopNames = [...]string{"none", "succeeded", "not_retryable", "max_attempts", "deadline",
	"budget_exhausted", "throttled_locally", "client_circuit_open", "rejected_client_side", "cancelled"}

// String returns the snake_case name used in summaries and metric labels.
func (r StopReason) String() string {
	if int(r) < len(stopNames) {
		return stopNames[r]
	}
	return "unknown"
}

// RetryAfterStatus classifies a response's Retry-After header.
type RetryAfterStatus uint8

// Retry-After classes. Invalid and Clamped values are counted in summaries.
const (
	RetryAfterNone    RetryAfterStatus = iota // no header
	RetryAfterValid                           // delay-seconds or HTTP-date within bounds
	RetryAfterInvalid                         // garbage or negative: ignored
	RetryAfterClamped                         // absurdly large: clamped to the strategy's max_retry_after
)

var retryAfterNames = [...]string{"none", "valid", "invalid", "clamped"}

// String returns "none", "valid", "invalid" or "clamped".
func (s RetryAfterStatus) String() string {
	if int(s) < len(retryAfterNames) {
		return retryAfterNames[s]
	}
	return "unknown"
}

// Attempt is one HTTP attempt of a logical request, as sent and answered, with
// the strategy's decision about what comes next. Both engines emit the same
// values for the same events.
type Attempt struct {
	Tenant  int           // index of the tenant in the scenario
	Request uint64        // logical request ID, unique within a run
	Number  int           // 1 for the first attempt, 2 for the first retry, …
	Sent    time.Time     // when the attempt was sent
	Latency time.Duration // from send to the response (a 2xx's headers, whose body streams on; the end of the body otherwise) or the transport error
	Status  int           // HTTP status; 0 for a transport error
	Code    string        // error.code of the response; "" for success or a transport error

	RetryAfterRaw    string           // the Retry-After header as sent ("" if none or not kept)
	RetryAfter       time.Duration    // the parsed (and clamped) Retry-After; 0 if none or invalid
	RetryAfterStatus RetryAfterStatus // how the header parsed
	Limits           RateLimits       // the X-RateLimit-* headers of the response

	Retry bool          // the strategy retries after Delay
	Delay time.Duration // the delay chosen before the next attempt (when Retry)
	Stop  StopReason    // why the loop stops (when !Retry)
}

// Outcome is how a logical request ended.
type Outcome struct {
	Tenant   int
	Request  uint64
	Kind     OutcomeKind
	Reason   StopReason // the stop reason of the last attempt
	Attempts int        // attempts actually sent (0 when rejected client-side)
	Arrived  time.Time  // when the request arrived (its first attempt was due)
	Ended    time.Time  // when it ended (the end of its last attempt, or the stop time)
}

// Duration is the time from arrival to end: for a success, the time to success
// including every backoff delay.
func (o Outcome) Duration() time.Duration { return o.Ended.Sub(o.Arrived) }

// Recorder receives the record stream. Implementations used by live runs must
// be safe for concurrent use; the simulator calls from one goroutine.
type Recorder interface {
	RecordAttempt(a *Attempt)
	RecordOutcome(o *Outcome)
}

// CircuitObserver is implemented by recorders that also plot the server's
// circuit state when the engine can see it (the simulator and the in-process
// mock). Engines call it on every transition and may call it periodically.
type CircuitObserver interface {
	ObserveCircuit(t time.Time, s CircuitState)
}
