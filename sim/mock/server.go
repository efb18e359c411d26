// Package mock is the HTTP server around the Compresr API model (sim/api):
// the mock that `loadsim mock` serves and live runs attack.
//
// It holds no API rules. Per request it matches the route (api.LookupRoute and
// Route.Method), reads the body under the configured body limit, decodes it
// (api.Decode), asks the model (api.Model.Handle) and then really waits the
// modelled latency before it writes the contract's JSON envelope and headers
// (X-RateLimit-*, Retry-After, Allow). It also serves /health,
// /api/compress/models, /api/profile/rate-limits and /metrics, the latter from
// the server's own Prometheus registry (see docs/metrics.md).
//
// A Server is safe for concurrent use by any number of requests, as
// api.Model.Handle is.
package mock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
)

// DefaultShutdownGrace is how long Serve lets in-flight requests finish after
// its context is cancelled before it closes their connections.
const DefaultShutdownGrace = 10 * time.Second

// Server is the mock's http.Handler. Build it with New; the zero value is not
// usable.
type Server struct {
	model *api.Model
	cfg   api.Resolved
	clock sim.Clock
	reg   *prometheus.Registry
	log   *slog.Logger
	grace time.Duration

	flat    bool  // flat error envelope
	limit   int64 // body limit in bytes
	metrics *metrics
	scrape  http.Handler // promhttp on reg

	tooLarge   string            // 400 message for bodies over the limit
	modelsBody []byte            // the whole /api/compress/models response body
	tierLimits map[string][]byte // per tier: the JSON object of its limits
	hdr        headerCache       // pre-rendered header values

	bufs sync.Pool // *bytes.Buffer for request bodies
	outs sync.Pool // *[]byte for response bodies
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock the server reads "now" from for the model and for
// its request-duration histogram (default sim.WallClock).
func WithClock(c sim.Clock) Option { return func(s *Server) { s.clock = c } }

// WithRegistry sets the registry the server registers its metrics in and
// serves at /metrics (default: a new registry of its own). A registry can hold
// one Server's metrics only.
func WithRegistry(r *prometheus.Registry) Option { return func(s *Server) { s.reg = r } }

// WithLogger sets where the server logs serving errors (default: nowhere).
// The server never logs API keys or request bodies.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithShutdownGrace sets how long Serve waits for in-flight requests after its
// context is cancelled (default DefaultShutdownGrace); after it, their
// connections are closed.
func WithShutdownGrace(d time.Duration) Option { return func(s *Server) { s.grace = d } }

// New returns a server answering for model, whose configuration is cfg (the
// same Resolved the model was built from: it gives the envelope, the body
// limit, the models and tiers). New registers the metrics described in
// docs/metrics.md and panics if the registry already holds them, as
// prometheus.MustRegister does.
func New(model *api.Model, cfg api.Resolved, opts ...Option) *Server {
	s := &Server{model: model, cfg: cfg, clock: sim.WallClock{}, grace: DefaultShutdownGrace}
	for _, o := range opts {
		o(s)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.outs.New = func() any { b := make([]byte, 0, 1024); return &b }
	s.flat = cfg.Envelope == api.EnvelopeFlat
	s.limit = int64(cfg.BodyLimit)
	s.tooLarge = fmt.Sprintf("request body is larger than the body limit of %d bytes (api.body_limit)", s.limit)
	s.modelsBody = modelsBody(cfg)
	s.tierLimits = tierLimits(cfg)
	s.hdr = newHeaderCache(cfg.Tiers)
	s.metrics = newMetrics(s.reg, model, s.clock)
	s.scrape = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	})
	return s
}

// Registry returns the registry the server's metrics live in.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeHTTP answers one request (see the package documentation).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.clock.Now()
	route := api.LookupRoute(r.URL.Path)
	var (
		req    api.Request
		inputs []api.Input
		resp   api.Response
	)
	switch {
	case route != api.RouteUnknown && r.Method != route.Method():
		resp = api.Response{Code: api.MethodNotAllowed, Allow: route.Method(),
			Message: "method not allowed; this route accepts " + route.Method()}
	default: // RouteUnknown too: the model answers its 404
		key := ""
		if v := r.Header["X-Api-Key"]; len(v) > 0 {
			key = v[0]
		}
		var buf *bytes.Buffer
		if route.Compresses() {
			buf = s.bufs.Get().(*bytes.Buffer)
			defer s.putBuf(buf)
			req, inputs = s.decode(w, r, route, key, buf)
		} else {
			req = api.Request{Route: route, Key: key}
		}
		resp = s.model.Handle(start, &req)
		if resp.Latency > 0 && !s.wait(r.Context(), resp.Latency) {
			// The client went away (or the server closed its connection):
			// nobody reads an answer, but the model's decision stands.
			s.metrics.observe(route, resp.Code, s.clock.Now().Sub(start))
			return
		}
	}
	if route == api.RouteMetrics && resp.Code == api.OK {
		s.scrape.ServeHTTP(w, r)
	} else {
		s.write(w, route, &req, inputs, &resp)
	}
	s.metrics.observe(route, resp.Code, s.clock.Now().Sub(start))
}

// decode reads the body under the body limit into buf and decodes it. A body
// over the limit or unreadable becomes a 400 problem, which the model answers
// after authentication, in the contract's order. A body of declared length
// (Content-Length) within the limit is read as is (net/http stops it at that
// length); one of unknown length goes through http.MaxBytesReader.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, route api.Route, key string, buf *bytes.Buffer) (api.Request, []api.Input) {
	if r.ContentLength > s.limit {
		return api.Request{Route: route, Key: key, Problem: api.InvalidRequest, ProblemMessage: s.tooLarge}, nil
	}
	var (
		body []byte
		err  error
	)
	if n := r.ContentLength; n >= 0 {
		// Read straight into the buffer's spare room: buf is this request's
		// alone, nothing needs to commit the bytes to it.
		buf.Grow(int(n))
		body = buf.AvailableBuffer()[:n]
		_, err = io.ReadFull(r.Body, body)
	} else {
		_, err = buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.limit))
		body = buf.Bytes()
	}
	if err != nil {
		msg := "request body could not be read"
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			msg = s.tooLarge
		}
		return api.Request{Route: route, Key: key, Problem: api.InvalidRequest, ProblemMessage: msg}, nil
	}
	// The body is read to its end: closing it tells net/http so, which
	// otherwise drains it again after the handler (io.CopyN to io.Discard).
	_ = r.Body.Close()
	return api.Decode(route, key, body)
}

// wait blocks for d or until ctx is done; it reports whether d elapsed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// maxPooled is the largest buffer the pools keep; bigger ones (huge bodies)
// go to the garbage collector.
const maxPooled = 64 << 10

func (s *Server) putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooled {
		return
	}
	b.Reset()
	s.bufs.Put(b)
}

// Serve answers HTTP requests on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish for the
// shutdown grace and closes what is left. It closes ln. It returns nil after a
// clean shutdown and an error if serving failed or requests were cut off.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// ReadHeaderTimeout guards against clients that never finish their
	// headers; idle keep-alive connections have no timeout (clients of a
	// mock close their own), which saves a timer per request.
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("mock: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		_ = hs.Close()
		err = fmt.Errorf("mock: shutdown: in-flight requests cut off after the %s grace: %w", s.grace, err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("mock: serving on %s: %w", ln.Addr(), serr)
	}
	return err
}

var _ http.Handler = (*Server)(nil)
