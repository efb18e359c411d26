// Package des is loadsim's virtual-time simulator: a discrete-event engine
// that plays a scenario through the same API model (sim/api) and the same
// retry strategies (sim/backoff) as a live run, without HTTP, a goroutine
// per request or wall-clock time.
//
// Run keeps a queue of value-type events (attempt sends after a backoff or
// pacing delay, attempt completions) on a virtual clock that starts at
// Options.Start: a calendar of 16.8 ms slots, 68.7 s ahead, whose open slot
// is a sorted run and a second one (events scheduled into it in order are
// appended to one of them) plus a 4-ary heap for the others; later events
// wait in a second heap. Each tenant has one pending arrival, in a
// tiny heap of its own, drawn from the same arrival sequence
// (scenario.ArrivalSeq) that paces its live run (computed ahead on a
// goroutine with Options.Parallel, which also lets Simulate record on
// another goroutine, with identical results); each logical request lives
// in a slot of a slab reused through a free list, so that after warm-up an
// event allocates nothing. An attempt's latency is the model's upstream
// latency plus the tenant's network round trip (client.network_rtt); an
// attempt longer than the client's timeout is a transport error (status 0)
// ending at the timeout.
//
// Records (sim.Attempt, sim.Outcome) are the ones sim/client emits for the
// same events; a recorder that is a report.Sink (a report.Recorder, as
// Simulate uses) gets them in its compact form instead, built from the
// virtual times without time.Time conversions, to the same effect. A run is deterministic: the same scenario, seed and start
// give the same record stream, because events at equal times fire in
// scheduling order and every random draw comes from a seeded generator,
// seeded as the live runner seeds its own: the model's from the seed, each
// tenant's pool of PoolSize requests and its picks from the tenant's seed
// (scenario.TenantSeed), and request k's strategy draws from (tenant seed,
// k), as sim/client does for vegeta's request k.
package des
