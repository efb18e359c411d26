// Package client is loadsim's retrying HTTP client: an http.RoundTripper that
// drives a sim/backoff strategy in real time. It replays the request body and
// headers on every attempt, puts each attempt's deadline on its request
// context, waits backoff delays with a timer that the request's context
// interrupts, and reports every attempt (sim.Attempt) and every logical
// request's outcome (sim.Outcome) to a sim.Recorder. It knows nothing about
// vegeta beyond reading the X-Vegeta-Seq header as the request ID.
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/backoff"
)

// SeqHeader is vegeta's request sequence header; when present its value is the
// logical request ID.
const SeqHeader = "X-Vegeta-Seq"

// ErrRejectedClientSide is returned (wrapped) for a request that client-side
// validation refused to send.
var ErrRejectedClientSide = errors.New("request rejected client-side by validation")

// ErrStopped is returned (wrapped in a *StopError) when the strategy stops a
// request before it could send an attempt (local throttling, client circuit
// open, deadline under pacing).
var ErrStopped = errors.New("retry strategy stopped the request")

// StopError says why a request ended without a response to return.
// errors.Is(err, ErrStopped) holds.
type StopError struct {
	Reason   sim.StopReason
	Attempts int // attempts sent
}

// Error returns e.g. "retry strategy stopped the request: client_circuit_open after 2 attempts".
func (e *StopError) Error() string {
	return fmt.Sprintf("%v: %s after %d attempts", ErrStopped, e.Reason, e.Attempts)
}

// Unwrap returns ErrStopped.
func (e *StopError) Unwrap() error { return ErrStopped }

// Validator reports whether a request is valid enough to send, given its URL
// path, X-API-Key and body. It must be safe for concurrent use.
type Validator func(path, key string, body []byte) bool

// APIValidator validates compression requests with the API model's own
// decoder (sim/api.Decode): a body the model would answer with 400 or 422 is
// invalid. Other routes are always valid.
func APIValidator(path, key string, body []byte) bool {
	route := api.LookupRoute(path)
	if !route.Compresses() {
		return true
	}
	req, _ := api.Decode(route, key, body)
	return req.Problem == api.OK
}

// Transport is a retrying http.RoundTripper. Create it with New; it is safe
// for concurrent use. Leave http.Client.Timeout at 0 and use
// WithAttemptTimeout: each attempt's deadline goes on its request context.
type Transport struct {
	next     http.RoundTripper
	policy   *backoff.Policy
	state    *backoff.State
	rec      sim.Recorder
	tenant   int
	clock    sim.Clock
	seed     uint64
	timeout  time.Duration
	validate Validator
	maxBody  int64
	seq      atomic.Uint64
}

var _ http.RoundTripper = (*Transport)(nil)

// Option configures a Transport.
type Option func(*Transport)

// WithRecorder sets the recorder of attempts and outcomes (default: none).
func WithRecorder(r sim.Recorder) Option { return func(t *Transport) { t.rec = r } }

// WithTenant sets the tenant index written into records (default 0).
func WithTenant(i int) Option { return func(t *Transport) { t.tenant = i } }

// WithSeed sets the seed of the jitter: each logical request draws from its
// own PCG seeded with (seed, request ID), so runs are reproducible per
// request and goroutines share no RNG (default 1).
func WithSeed(seed uint64) Option { return func(t *Transport) { t.seed = seed } }

// WithClock sets the clock for Sent timestamps, latencies and strategy time
// (default sim.WallClock). Waiting always uses real timers.
func WithClock(c sim.Clock) Option { return func(t *Transport) { t.clock = c } }

// WithAttemptTimeout bounds each attempt, response body included (default 0:
// no per-attempt timeout). A timed-out attempt has status 0 and counts as a
// timeout for the budget.
func WithAttemptTimeout(d time.Duration) Option { return func(t *Transport) { t.timeout = d } }

// WithState shares strategy state (budgets, throttle, breaker, pacing) with
// other transports of the same tenant (default: a new state from the policy).
func WithState(s *backoff.State) Option { return func(t *Transport) { t.state = s } }

// WithValidator replaces APIValidator for policies with ValidateFirst.
func WithValidator(v Validator) Option { return func(t *Transport) { t.validate = v } }

// WithMaxBody bounds how many bytes of a response body are buffered (default
// 16 MiB); a longer body is a transport error.
func WithMaxBody(n int64) Option { return func(t *Transport) { t.maxBody = n } }

// New returns a Transport that sends attempts with next (http.DefaultTransport
// if nil) under policy.
func New(next http.RoundTripper, policy *backoff.Policy, opts ...Option) *Transport {
	t := &Transport{next: next, policy: policy, clock: sim.WallClock{}, seed: 1,
		validate: APIValidator, maxBody: 16 << 20}
	for _, o := range opts {
		o(t)
	}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	if t.state == nil {
		t.state = policy.NewState()
	}
	return t
}

// State returns the strategy state the transport uses.
func (t *Transport) State() *backoff.State { return t.state }

// requestID returns X-Vegeta-Seq when present and numeric, else the next
// value of the transport's counter.
func (t *Transport) requestID(r *http.Request) uint64 {
	if v := r.Header.Get(SeqHeader); v != "" {
		if id, err := strconv.ParseUint(v, 10, 64); err == nil {
			return id
		}
	}
	return t.seq.Add(1)
}

// RoundTrip sends r, retrying under the policy, and returns the final
// response or error (a 2xx body streams; the caller must close it, as for any
// RoundTripper; other bodies are buffered). It always closes r.Body.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	id := t.requestID(r)
	arrived := t.clock.Now()
	out := sim.Outcome{Tenant: t.tenant, Request: id, Arrived: arrived}
	finish := func(kind sim.OutcomeKind, reason sim.StopReason, attempts int) {
		out.Kind, out.Reason, out.Attempts, out.Ended = kind, reason, attempts, t.clock.Now()
		if t.rec != nil {
			t.rec.RecordOutcome(&out)
		}
	}

	body, err := readBody(r)
	if err != nil {
		finish(sim.GaveUp, sim.StopNotRetryable, 0)
		return nil, fmt.Errorf("client: reading request body: %w", err)
	}
	if t.policy.ValidateFirst && t.validate != nil && !t.validate(r.URL.Path, r.Header.Get("X-API-Key"), body) {
		finish(sim.RejectedClientSide, sim.StopRejectedClientSide, 0)
		return nil, fmt.Errorf("client: %s %s: %w", r.Method, r.URL.Path, ErrRejectedClientSide)
	}

	rng := rand.NewPCG(t.seed, id)
	req := backoff.Request{Arrived: arrived}
	for {
		wait, stop := t.state.Before(t.clock.Now(), &req, rng)
		if stop != sim.StopNone {
			finish(sim.GaveUp, stop, req.Attempts)
			return nil, &StopError{Reason: stop, Attempts: req.Attempts}
		}
		if err := sleep(ctx, wait); err != nil {
			finish(sim.InFlight, sim.StopCancelled, req.Attempts-1)
			return nil, err
		}
		resp, br, a, err := t.attempt(ctx, r, body, id, req.Attempts)
		if ctx.Err() != nil {
			finish(sim.InFlight, sim.StopCancelled, req.Attempts)
			return nil, ctx.Err()
		}
		d := t.state.After(t.clock.Now(), &req, &br, rng)
		d.Fill(&a)
		if t.rec != nil {
			t.rec.RecordAttempt(&a)
		}
		if !d.Retry {
			switch d.Stop {
			case sim.StopSucceeded:
				finish(sim.Succeeded, d.Stop, req.Attempts)
			case sim.StopNotRetryable:
				finish(sim.FailedPermanent, d.Stop, req.Attempts)
			default:
				finish(sim.GaveUp, d.Stop, req.Attempts)
			}
			return resp, err
		}
		if resp != nil {
			resp.Body.Close() // already buffered: nothing to drain
		}
		if err := sleep(ctx, d.Delay); err != nil {
			finish(sim.InFlight, sim.StopCancelled, req.Attempts)
			return nil, err
		}
	}
}

// attempt sends one attempt and returns the response, the strategy's view
// of it, and the attempt record without the decision. A successful (2xx)
// response keeps its body as a stream, whose Close ends the attempt's
// context (its latency is then the time to the response headers); any other
// response's body is buffered, for its error.code and so that a retry can
// drop it.
func (t *Transport) attempt(ctx context.Context, r *http.Request, body []byte, id uint64, number int) (*http.Response, backoff.Response, sim.Attempt, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if t.timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	// A shallow copy: the transport below neither modifies the headers nor
	// the URL, so they are shared with r rather than cloned per attempt.
	ar := r.WithContext(actx)
	if body != nil {
		ar.Body = io.NopCloser(bytes.NewReader(body))
		ar.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		ar.ContentLength = int64(len(body))
	}
	a := sim.Attempt{Tenant: t.tenant, Request: id, Number: number, Sent: t.clock.Now()}
	resp, err := t.next.RoundTrip(ar)
	var br backoff.Response
	if err == nil && backoff.Succeeded(resp.StatusCode) {
		a.Latency = t.clock.Now().Sub(a.Sent)
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		br.Status = resp.StatusCode
		br.Limits = ParseLimits(resp.Header)
		a.Status, a.Limits = br.Status, br.Limits
		return resp, br, a, nil
	}
	defer cancel()
	var buf []byte
	if err == nil {
		buf, err = readAll(resp.Body, resp.ContentLength, t.maxBody+1)
		resp.Body.Close()
		if err == nil && int64(len(buf)) > t.maxBody {
			err = fmt.Errorf("client: response body longer than %d bytes: %w", t.maxBody, errBodyTooLarge)
		}
		if err != nil {
			resp = nil
		}
	}
	a.Latency = t.clock.Now().Sub(a.Sent)
	if err != nil {
		br.Timeout = actx.Err() != nil && ctx.Err() == nil
		a.Code = transportCode(err, br.Timeout, ctx.Err() != nil)
		return nil, br, a, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(buf))
	br.Status = resp.StatusCode
	br.Code = ErrorCode(buf)
	br.RetryAfter = resp.Header.Get("Retry-After")
	br.Limits = ParseLimits(resp.Header)
	a.Status, a.Code, a.RetryAfterRaw, a.Limits = br.Status, br.Code, br.RetryAfter, br.Limits
	return resp, br, a, nil
}

// cancelOnClose ends an attempt's context when its response body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body, then cancels the attempt's context.
func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// readBody reads and closes r.Body (nil for a request without one).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	return readAll(r.Body, r.ContentLength, math.MaxInt64)
}

// readAll reads r to its end or to limit bytes, in one allocation when the
// length n is known (n ≥ 0) and within the limit, as io.ReadAll otherwise.
func readAll(r io.Reader, n, limit int64) ([]byte, error) {
	if n < 0 || n >= limit {
		return io.ReadAll(io.LimitReader(r, limit))
	}
	buf := make([]byte, n, n+1) // +1: room to see a body longer than announced
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	// A body longer than its Content-Length is read on, as io.ReadAll would.
	var one [1]byte
	if k, err := r.Read(one[:]); k > 0 {
		rest, err := io.ReadAll(io.LimitReader(r, limit-n-1))
		if err != nil {
			return nil, err
		}
		return append(append(buf, one[0]), rest...), nil
	} else if err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

// sleep waits d or until ctx is done, returning ctx.Err() in that case. The
// timer is stopped either way.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
