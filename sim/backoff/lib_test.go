package backoff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/loadsim/loadsim/sim"
)

// Tests of the presets against the delay functions of the libraries they
// mimic (test-only dependencies).

func TestRetryablehttpDefaultBackoffExact(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "retryablehttp", MaxAttempts: num(0)})
	rng := rand.NewPCG(1, 1)
	req := Request{Arrived: t0, Attempts: 1}
	for i := 0; i < 10; i++ {
		want := retryablehttp.DefaultBackoff(time.Second, 30*time.Second, i, nil)
		d := decided(p, t0, &req, &Response{Status: 503}, rng)
		if d.Delay != want {
			t.Errorf("retry %d: delay %s; retryablehttp.DefaultBackoff(1s, 30s, %d, nil) = %s", i, d.Delay, i, want)
		}
		req.Attempts++
	}
	// Retry-After replaces the delay on a 429.
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	want := retryablehttp.DefaultBackoff(time.Second, 30*time.Second, 0, resp)
	req = Request{Arrived: t0, Attempts: 1}
	if d := decided(p, t0, &req, &Response{Status: 429, RetryAfter: "7"}, rng); d.Delay != want {
		t.Errorf("429 Retry-After 7: delay %s; DefaultBackoff = %s", d.Delay, want)
	}
}

// sampleStats draws n delays and returns their min, max and mean.
func sampleStats(n int, draw func() time.Duration) (lo, hi time.Duration, mean float64) {
	lo = time.Duration(1<<63 - 1)
	for i := 0; i < n; i++ {
		d := draw()
		lo, hi = min(lo, d), max(hi, d)
		mean += float64(d) / float64(n)
	}
	return lo, hi, mean
}

// compareDist checks that ours and theirs both lie in [lo, hi] and that their
// means agree within 6 %.
func compareDist(t *testing.T, what string, lo, hi time.Duration, ours, theirs func() time.Duration) {
	t.Helper()
	const n = 4000
	olo, ohi, omean := sampleStats(n, ours)
	tlo, thi, tmean := sampleStats(n, theirs)
	if olo < lo || ohi > hi {
		t.Errorf("%s: ours in [%s, %s]; want within [%s, %s]", what, olo, ohi, lo, hi)
	}
	if tlo < lo || thi > hi {
		t.Errorf("%s: library in [%s, %s]; want within [%s, %s]", what, tlo, thi, lo, hi)
	}
	if r := omean / tmean; r < 0.94 || r > 1.06 {
		t.Errorf("%s: mean ours %s vs library %s", what, time.Duration(omean), time.Duration(tmean))
	}
}

func TestRetryablehttpLinearJitterDistribution(t *testing.T) {
	t.Parallel()
	// LinearJitterBackoff(1s, 30s) = (1s + u·29s)·(i+1) = linear 15.5s·(i+1) ± 29/31.
	p := mustPolicy(t, Config{Preset: "retryablehttp", Type: "linear", Base: dur(15500 * time.Millisecond), Cap: dur(0),
		Jitter: "proportional", JitterFraction: flt(29.0 / 31.0), MaxAttempts: num(0)})
	rng := rand.NewPCG(3, 3)
	for i := 0; i < 4; i++ {
		k := time.Duration(i + 1)
		ours := func() time.Duration {
			req := Request{Arrived: t0, Attempts: i + 1}
			return decided(p, t0, &req, &Response{Status: 503}, rng).Delay
		}
		theirs := func() time.Duration { return retryablehttp.LinearJitterBackoff(time.Second, 30*time.Second, i, nil) }
		compareDist(t, "LinearJitterBackoff retry "+k.String(), k*time.Second, k*30*time.Second, ours, theirs)
	}
}

func TestCenkaltiIntervalsExact(t *testing.T) {
	t.Parallel()
	b := cenkalti.NewExponentialBackOff()
	b.RandomizationFactor = 0
	b.Reset()
	p := mustPolicy(t, Config{Preset: "cenkalti", Jitter: "none"})
	rng := rand.NewPCG(1, 1)
	req := Request{Arrived: t0, Attempts: 1}
	for i := 0; i < 20; i++ {
		want := b.NextBackOff()
		if d := decided(p, t0, &req, &Response{Status: 503}, rng); d.Delay != want {
			t.Errorf("retry %d: interval %s; cenkalti NextBackOff() = %s", i, d.Delay, want)
		}
		req.Attempts++
	}
}

func TestCenkaltiDistribution(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "cenkalti"})
	rng := rand.NewPCG(5, 5)
	iv := 500 * time.Millisecond
	for i := 0; i < 5; i++ {
		ours := func() time.Duration {
			req := Request{Arrived: t0, Attempts: 1}
			var d Decision
			for k := 0; k <= i; k++ {
				d = decided(p, t0, &req, &Response{Status: 503}, rng)
				req.Attempts++
			}
			return d.Delay
		}
		theirs := func() time.Duration {
			b := cenkalti.NewExponentialBackOff()
			var d time.Duration
			for k := 0; k <= i; k++ {
				d = b.NextBackOff()
			}
			return d
		}
		compareDist(t, "cenkalti retry "+iv.String(), iv/2, iv*3/2+1, ours, theirs)
		iv = time.Duration(float64(iv) * 1.5)
	}
}

func TestAWSJitterDistribution(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "aws-standard", MaxAttempts: num(0)})
	aws := retry.NewExponentialJitterBackoff(retry.DefaultMaxBackoff)
	rng := rand.NewPCG(9, 9)
	// Attempts 1..4 (before the 20 s cap): full jitter over [0, 2^attempt s).
	for attempt := 1; attempt <= 4; attempt++ {
		hi := time.Duration(1<<attempt) * time.Second
		ours := func() time.Duration {
			req := Request{Arrived: t0, Attempts: 1}
			var d Decision
			for k := 1; k <= attempt; k++ {
				d = decided(p, t0, &req, &Response{Status: 503}, rng)
				req.Attempts++
			}
			return d.Delay
		}
		theirs := func() time.Duration {
			d, err := aws.BackoffDelay(attempt, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		compareDist(t, "aws attempt "+hi.String(), 0, hi, ours, theirs)
	}
}

// httpError is an HTTP error response as the AWS SDK's retryer classifies
// it by status: a 429 without a modeled error code is a throttling error,
// a 5xx a transient one.
type httpError int

func (e httpError) Error() string       { return "HTTP " + strconv.Itoa(int(e)) }
func (e httpError) HTTPStatusCode() int { return int(e) }

// timeoutError is a transport timeout (status 0 for the strategies).
type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }
func (timeoutError) Timeout() bool { return true }

// TestAWS21JitterDistribution: aws-standard-2.1's delays against the SDK's
// default retryer (retry.NewStandard(), Retry Behavior 2.1): full jitter
// over min(x·2^(attempt−1), 20 s), x = 1 s after a throttling 429 and 50 ms
// after a 5xx, up to and past the cap.
func TestAWS21JitterDistribution(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, Config{Preset: "aws-standard-2.1", MaxAttempts: num(0)})
	sdk := retry.NewStandard()
	rng := rand.NewPCG(9, 21)
	for _, status := range []int{429, 503} {
		x := 50 * time.Millisecond
		if status == 429 {
			x = time.Second
		}
		for attempt := 1; attempt <= 7; attempt++ {
			hi := min(x<<(attempt-1), 20*time.Second)
			ours := func() time.Duration {
				req := Request{Arrived: t0, Attempts: attempt}
				return decided(p, t0, &req, &Response{Status: status}, rng).Delay
			}
			theirs := func() time.Duration {
				d, err := sdk.RetryDelay(attempt, httpError(status))
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			compareDist(t, fmt.Sprintf("aws 2.1 %d attempt %d (up to %s)", status, attempt, hi), 0, hi, ours, theirs)
		}
	}
}

// awsQuota is the SDK side of a token-bucket comparison: the retry quota
// as one SDK retryer takes from it and gives back.
type awsQuota interface {
	// first returns the release of a first attempt's token, called when
	// that attempt succeeds.
	first() func()
	// retry takes the token of a retry after resp, or fails when the
	// quota is too low; release gives it back when the retry succeeds.
	retry(resp *Response) (release func(), err error)
	remaining() uint
}

// compareTokenBucket drives the same requests through preset's budget and
// through q: request r fails fails(r) times (responses by failure(r, k))
// before a success, unless the budget refuses a retry first. After every
// request both must hold the same tokens. It returns how many requests the
// budget stopped.
func compareTokenBucket(t *testing.T, preset string, q awsQuota, requests int, fails func(r int) int, failure func(r, k int) Response) (exhausted int) {
	t.Helper()
	p := mustPolicy(t, Config{Preset: preset, MaxAttempts: num(0)})
	s := p.NewState()
	rng := rand.NewPCG(1, 21)
	now := t0
	for r := range requests {
		req := Request{Arrived: now}
		first := q.first()
		var release func()
		for k := 0; ; k++ {
			if _, stop := s.Before(now, &req, rng); stop != sim.StopNone {
				t.Fatalf("%s: request %d attempt %d refused: %s", preset, r, k+1, stop)
			}
			if k == fails(r) {
				s.After(now, &req, &Response{Status: 200}, rng)
				if k == 0 {
					first()
				} else if release != nil {
					release()
				}
				break
			}
			resp := failure(r, k)
			d := s.After(now, &req, &resp, rng)
			rel, err := q.retry(&resp)
			if (err == nil) != d.Retry {
				t.Fatalf("%s: request %d attempt %d (%d): ours retry=%v (%s), SDK err=%v", preset, r, k+1, resp.Status, d.Retry, d.Stop, err)
			}
			if err != nil {
				if d.Stop != sim.StopBudgetExhausted {
					t.Fatalf("%s: request %d: stop %s; want budget_exhausted", preset, r, d.Stop)
				}
				exhausted++
				break
			}
			release = rel
		}
		if got, want := s.Tokens(), float64(q.remaining()); got != want {
			t.Fatalf("%s: after request %d: tokens %v; SDK remaining %v", preset, r, got, want)
		}
		now = now.Add(time.Second)
	}
	return exhausted
}

// standardQuota is the SDK's default retryer (retry.NewStandard(), Retry
// Behavior 2.1) over its retry quota.
type standardQuota struct {
	sdk   *retry.Standard
	quota *ratelimit.TokenRateLimit
}

func (q standardQuota) first() func() {
	rel, err := q.sdk.GetAttemptToken(context.Background())
	if err != nil {
		panic(err)
	}
	return func() { _ = rel(nil) }
}

func (q standardQuota) retry(resp *Response) (func(), error) {
	var err error = httpError(resp.Status)
	if resp.Timeout {
		err = timeoutError{}
	}
	rel, err := q.sdk.GetRetryToken(context.Background(), err)
	if err != nil {
		return nil, err
	}
	return func() { _ = rel(nil) }, nil
}

func (q standardQuota) remaining() uint { return q.quota.Remaining() }

// legacyQuota is the retry quota with the costs of the retryer before
// Retry Behavior 2.1, which aws-standard reproduces: the SDK keeps them as
// deprecated constants.
type legacyQuota struct{ quota *ratelimit.TokenRateLimit }

func (q legacyQuota) first() func() {
	return func() { _ = q.quota.AddTokens(retry.DefaultNoRetryIncrement) }
}

func (q legacyQuota) retry(resp *Response) (func(), error) {
	//lint:ignore SA1019 the legacy quota is what aws-standard reproduces
	cost := retry.DefaultRetryCost
	if resp.Timeout {
		//lint:ignore SA1019 the legacy quota is what aws-standard reproduces
		cost = retry.DefaultRetryTimeoutCost
	}
	rel, err := q.quota.GetToken(context.Background(), cost)
	if err != nil {
		return nil, err
	}
	return func() { _ = rel() }, nil
}

func (q legacyQuota) remaining() uint { return q.quota.Remaining() }

// TestAWS21TokenBucket: aws-standard-2.1's budget against the SDK's default
// retryer with its retry quota (14 tokens a retry, 5 after throttling, the
// latest retry's cost back on success, 1 for a first-attempt success), over
// 429s, 5xx and timeouts until the quota runs out.
func TestAWS21TokenBucket(t *testing.T) {
	t.Parallel()
	quota := ratelimit.NewTokenRateLimit(retry.DefaultRetryRateTokens)
	sdk := retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = quota })
	failure := func(r, k int) Response {
		st := [...]int{429, 503, 0, 500}[(r+k)%4]
		return Response{Status: st, Timeout: st == 0}
	}
	if compareTokenBucket(t, "aws-standard-2.1", standardQuota{sdk, quota}, 300, func(r int) int { return r % 5 }, failure) == 0 {
		t.Errorf("the quota never ran out in 300 requests; the test should reach the refusals too")
	}
}

// TestAWSTokenBucket: aws-standard's budget against the SDK's retry quota
// with the legacy costs (5 a retry, 10 after a timeout).
func TestAWSTokenBucket(t *testing.T) {
	t.Parallel()
	quota := ratelimit.NewTokenRateLimit(retry.DefaultRetryRateTokens)
	failure := func(r, _ int) Response { return Response{Status: 0, Timeout: r%7 == 0} }
	compareTokenBucket(t, "aws-standard", legacyQuota{quota}, 200, func(r int) int { return r % 4 }, failure)
}
