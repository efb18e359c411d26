package mock

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
)

// Metric names; docs/metrics.md documents each.
const (
	metricRequests    = "compresr_mock_requests_total"
	metricDuration    = "compresr_mock_request_duration_seconds"
	metricQuota       = "compresr_mock_quota_remaining"
	metricCircuit     = "compresr_mock_circuit_state"
	metricTransitions = "compresr_mock_circuit_transitions_total"
	metricUpstream    = "compresr_mock_upstream_calls_total"
	metricFaults      = "compresr_mock_injected_faults_total"
)

// durationBuckets spans the mock's own overhead (sub-millisecond) up to
// upstream timeouts under incidents (seconds).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// okCode is the `code` label of successful responses (error.code is empty).
const okCode = "ok"

// metrics are the server's own instruments. Request counters and histograms
// are resolved once per (route, code) and cached, so the hot path does no
// label hashing; the model's state (quotas, circuit, upstream calls) is read
// at scrape time by collectors, never copied.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	counters  [api.NumRoutes][api.NumCodes]atomic.Pointer[prometheus.Counter]
	observers [api.NumRoutes]atomic.Pointer[prometheus.Observer]
}

func newMetrics(reg prometheus.Registerer, model *api.Model, clock sim.Clock) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRequests,
			Help: "Requests answered by the mock, by route, HTTP status and error.code (\"ok\" for successes).",
		}, []string{"route", "status", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricDuration,
			Help:    "Time from receiving a request to the end of writing its response, modelled latency included, by route.",
			Buckets: durationBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: metricCircuit,
			Help: "State of the modelled circuit breaker: 0 closed, 1 half-open, 2 open.",
		}, func() float64 { return float64(model.Circuit(clock.Now())) }),
		newModelCollector(model, clock))
	return m
}

// observe counts one answered request and its duration.
func (m *metrics) observe(route api.Route, code api.Code, d time.Duration) {
	if int(route) >= api.NumRoutes || int(code) >= api.NumCodes {
		route, code = api.RouteUnknown, api.InternalError
	}
	c := m.counters[route][code].Load()
	if c == nil {
		label := code.String()
		if code == api.OK {
			label = okCode
		}
		v := m.requests.WithLabelValues(route.Path(), strconv.Itoa(code.Status()), label)
		c = &v
		m.counters[route][code].Store(c)
	}
	(*c).Inc()
	o := m.observers[route].Load()
	if o == nil {
		v := m.duration.WithLabelValues(route.Path())
		o = &v
		m.observers[route].Store(o)
	}
	(*o).Observe(d.Seconds())
}

// modelCollector exposes the model's quotas, circuit transitions and upstream
// calls, read from the model at each scrape.
type modelCollector struct {
	model       *api.Model
	clock       sim.Clock
	quota       *prometheus.Desc
	transitions *prometheus.Desc
	upstream    *prometheus.Desc
	faults      *prometheus.Desc
}

func newModelCollector(model *api.Model, clock sim.Clock) *modelCollector {
	return &modelCollector{
		model: model,
		clock: clock,
		quota: prometheus.NewDesc(metricQuota,
			"Quota left in the current window, by key name (never the key), window (minute, day) and kind (requests, tokens); -1 = unlimited.",
			[]string{"key_name", "window", "kind"}, nil),
		transitions: prometheus.NewDesc(metricTransitions,
			"Transitions of the modelled circuit breaker, by the state entered (closed, half_open, open).",
			[]string{"to"}, nil),
		upstream: prometheus.NewDesc(metricUpstream,
			"Calls that reached the modelled upstream, by result.",
			[]string{"result"}, nil),
		faults: prometheus.NewDesc(metricFaults,
			"Injected internal_error_rate faults answered with 500 internal_error (no upstream call).",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.quota
	ch <- c.transitions
	ch <- c.upstream
	ch <- c.faults
}

// Collect implements prometheus.Collector.
func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	c.model.Quotas(c.clock.Now(), func(q api.KeyQuota) {
		ch <- prometheus.MustNewConstMetric(c.quota, prometheus.GaugeValue, float64(q.Remaining), q.Name, q.Window, q.Kind)
	})
	st := c.model.Stats()
	for _, s := range []sim.CircuitState{sim.CircuitClosed, sim.CircuitHalfOpen, sim.CircuitOpen} {
		ch <- prometheus.MustNewConstMetric(c.transitions, prometheus.CounterValue, float64(st.Transitions[s]), s.String())
	}
	for r := range api.UpstreamResult(api.NumUpstreamResults) {
		ch <- prometheus.MustNewConstMetric(c.upstream, prometheus.CounterValue, float64(st.Upstream[r]), r.String())
	}
	ch <- prometheus.MustNewConstMetric(c.faults, prometheus.CounterValue, float64(st.InternalFaults))
}
