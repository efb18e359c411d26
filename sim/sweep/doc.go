// Package sweep runs many simulations of variants of one scenario — one per
// retry strategy, per tier, per traffic multiplier, each over one or more
// seeds — and returns each run's report.Summary (and report.Series for
// plots). It is what `loadsim compare` and `loadsim size` run.
//
// A Variant is a small change applied to a copy of the base scenario
// (Variant.Apply); Run simulates every (variant, seed) pair with sim/des,
// as many at a time as GOMAXPROCS allows, each with its own engine and
// recorder, so results do not depend on parallelism or scheduling: the same
// scenario, variants and seeds give the same summaries. Run is cancelled
// through its context. Options.Shard keeps variant i on shard i mod N, so a
// large sweep splits over N machines; Options.Live runs the variants live
// with sim/attack instead, one at a time, each starting at the same phase
// of the UTC minute (Options.Align), so that every run meets the quota's
// fixed windows at the same point, as every simulation does.
package sweep
