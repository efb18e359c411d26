// Package report turns the record stream of a run (sim.Attempt and
// sim.Outcome values, from the live runner or the virtual-time simulator
// alike) into aggregates, Prometheus metrics, summaries, time series and
// threshold verdicts.
//
// The central type is Recorder: a streaming accumulator whose memory does not
// grow with the length of a run (counters, HDR histograms and at most a fixed
// number of time buckets per tenant). From it come
//
//   - Prometheus metrics (loadsim_*) through a Collector read at scrape time
//     (Recorder.Register);
//   - a Summary (summary.json, summary.md and a one-screen text), computed
//     deterministically from the aggregates;
//   - a Series (series.json): the time buckets plus the run-wide aggregates in
//     mergeable form (HDR histograms encoded), so that shards of one run merge
//     exactly (MergeSeries, Series.Summary).
//
// Thresholds are k6-style expressions on summary fields (ParseThreshold).
//
// A Recorder also takes records in the compact form it keeps
// (AttemptRecord, OutcomeRecord) through the Sink interface: the simulator
// builds them from its virtual times, skipping the sim records' time
// values. Async moves recording onto a goroutine of its own, in the same
// order, for a single producer such as the simulator.
//
// The package never knows which engine produced the records: times are those
// carried by the records, never the wall clock.
package report
