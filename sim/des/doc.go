// Package des is loadsim's virtual-time simulator: a discrete-event engine
// that plays a scenario through the same API model (sim/api) and the same
// retry strategies (sim/backoff) as a live run, without HTTP, goroutines or
// wall-clock time.
//
// Run keeps a typed min-heap of value-type events (arrivals, attempt sends
// after a backoff or pacing delay, attempt completions) on a virtual clock
// that starts at Options.Start. Each tenant has one pending arrival, drawn
// from the same arrival sequence (scenario.ArrivalSeq) that paces its live
// run; each logical request lives in a slot of a slab reused through a free
// list, so that after warm-up an event allocates nothing. An attempt's
// latency is the model's upstream latency plus the tenant's network round
// trip (client.network_rtt); an attempt longer than the client's timeout is
// a transport error (status 0) ending at the timeout.
//
// Records (sim.Attempt, sim.Outcome) are the ones sim/client emits for the
// same events. A run is deterministic: the same scenario and seed give the
// same record stream, because every random draw comes from one seeded
// generator per tenant and events at equal times fire in scheduling order.
package des
