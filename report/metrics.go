package report

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadsim/loadsim/sim"
)

// promBounds are the Prometheus histogram bucket upper bounds in seconds,
// shared by every loadsim_* histogram: 5 ms to 10 min.
var promBounds = [numPromBounds]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// collector exposes a Recorder's aggregates as const metrics at scrape time,
// so recording costs nothing on the Prometheus side.
type collector struct {
	r                                       *Recorder
	requests, attempts, retries             *prometheus.Desc
	backoff, attemptDuration, timeToSuccess *prometheus.Desc
	inFlight, arrived                       *prometheus.Desc
}

// Collector returns a prometheus.Collector of the recorder's loadsim_*
// metrics (see docs/metrics.md, "Runner metrics"). Each scrape reads the
// aggregates under the recorder's lock. The tenant label is the tenant's name.
func (r *Recorder) Collector() prometheus.Collector {
	t := []string{"tenant"}
	return &collector{
		r: r,
		requests: prometheus.NewDesc("loadsim_requests_total",
			"Logical requests that ended, by outcome (in_flight: unfinished when the run stopped).", []string{"tenant", "outcome"}, nil),
		attempts: prometheus.NewDesc("loadsim_attempts_total",
			"HTTP attempts sent, by response status (0 = transport error) and error.code.", []string{"tenant", "status", "code"}, nil),
		retries: prometheus.NewDesc("loadsim_retries_total",
			"Decisions of the retry strategy to retry, by the failure that caused them.", []string{"tenant", "reason"}, nil),
		backoff: prometheus.NewDesc("loadsim_backoff_seconds",
			"Delay chosen by the retry strategy before a retry.", t, nil),
		attemptDuration: prometheus.NewDesc("loadsim_attempt_duration_seconds",
			"Duration of one HTTP attempt, from send to the response (the headers of a 2xx, the end of the body otherwise) or the transport error.", t, nil),
		timeToSuccess: prometheus.NewDesc("loadsim_time_to_success_seconds",
			"Time from a logical request's arrival to its success, backoff delays included.", t, nil),
		inFlight: prometheus.NewDesc("loadsim_in_flight",
			"Logical requests whose first attempt was sent and that have not ended.", t, nil),
		arrived: prometheus.NewDesc("loadsim_requests_arrived_total",
			"Logical requests that arrived: first attempts sent, and requests that ended without one (refused client-side). Its rate is the achieved rate.", t, nil),
	}
}

// Register registers the recorder's Collector with reg (pass the runner's own
// registry, never prometheus.DefaultRegisterer).
func (r *Recorder) Register(reg prometheus.Registerer) error {
	return reg.Register(r.Collector())
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.attempts, c.retries, c.backoff, c.attemptDuration,
		c.timeToSuccess, c.inFlight, c.arrived} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.tenants {
		t := &r.tenants[i].totals
		name := r.names[i]
		for k, n := range t.outcomes {
			ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n), name, sim.OutcomeKind(k).String())
		}
		for _, p := range sortedPairs(t.pairs) {
			ch <- prometheus.MustNewConstMetric(c.attempts, prometheus.CounterValue, float64(p.Count), name, strconv.Itoa(p.Status), p.Code)
		}
		for k, n := range t.retries {
			ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(n), name, retryReasonNames[k])
		}
		ch <- constHistogram(c.backoff, &t.backoff, name)
		ch <- constHistogram(c.attemptDuration, &t.latency, name)
		ch <- constHistogram(c.timeToSuccess, &t.timeToSuccess, name)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(t.pending()), name)
		ch <- prometheus.MustNewConstMetric(c.arrived, prometheus.CounterValue, float64(t.arrived()), name)
	}
}

func constHistogram(d *prometheus.Desc, h *durHist, tenant string) prometheus.Metric {
	buckets := make(map[float64]uint64, numPromBounds)
	var cum uint64
	for i, le := range promBounds {
		cum += h.prom[i]
		buckets[le] = cum
	}
	count := cum + h.prom[numPromBounds]
	return prometheus.MustNewConstHistogram(d, count, float64(h.sumNs)/1e9, buckets, tenant)
}
