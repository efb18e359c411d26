package attack

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// resultSink hands every attempt, as a vegeta.Result, to an Encoder one call
// at a time, numbering them (Seq) in the order they are encoded. After the
// encoder's first error it drops the rest and keeps the error. Safe for
// concurrent use.
type resultSink struct {
	mu  sync.Mutex
	enc vegeta.Encoder
	seq uint64
	err error
}

// put encodes r with the next Seq.
func (s *resultSink) put(r *vegeta.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	r.Seq = s.seq
	s.seq++
	s.err = s.enc(r)
}

// Err returns the encoder's first error.
func (s *resultSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// resultsTransport turns every attempt passing through it into a
// vegeta.Result of attack (the tenant's name): the send time, the status
// (0 for a transport error, with its message in Error), the latency to the
// end of the response body (its Close), the bytes sent and received, the
// method and the URL. Headers (which hold the key) and bodies are not kept.
type resultsTransport struct {
	next   http.RoundTripper
	attack string
	sink   *resultSink
}

// RoundTrip implements http.RoundTripper.
func (t *resultsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := &vegeta.Result{Attack: t.attack, Timestamp: time.Now(), Method: req.Method, URL: req.URL.String()}
	if req.ContentLength > 0 {
		r.BytesOut = uint64(req.ContentLength)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		r.Latency = time.Since(r.Timestamp)
		r.Error = err.Error()
		t.sink.put(r)
		return resp, err
	}
	r.Code = uint16(resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		r.Error = resp.Status // as vegeta reports non-2xx/3xx answers
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, r: r, sink: t.sink}
	return resp, nil
}

// countingBody counts the bytes read from a response body and puts its
// Result when the body is closed (once).
type countingBody struct {
	io.ReadCloser
	r    *vegeta.Result
	sink *resultSink
	n    uint64
	done atomic.Bool
}

// Read implements io.Reader.
func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += uint64(n)
	if err != nil && err != io.EOF && b.r.Error == "" {
		// The client counts an unreadable body as a transport error.
		b.r.Code, b.r.Error = 0, err.Error()
	}
	return n, err
}

// Close implements io.Closer: the attempt ends here.
func (b *countingBody) Close() error {
	err := b.ReadCloser.Close()
	if b.done.CompareAndSwap(false, true) {
		b.r.Latency = time.Since(b.r.Timestamp)
		b.r.BytesIn = b.n
		b.sink.put(b.r)
	}
	return err
}
