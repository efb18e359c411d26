// Package scenario is loadsim's scenario file: the Go types of the YAML schema
// (mapping one-to-one to the file), strict decoding with line numbers,
// defaults, validation with field paths, the arrival profiles (each a
// vegeta.Pacer and, through Arrivals, the identical arrival sequence for the
// virtual-time simulator), trace files, the request mix and its sampler, and
// the embedded example scenarios.
//
// A scenario is read with Load (a file path or an example's name) or Parse
// (bytes); either returns a validated *Scenario with every default filled in,
// or an error joining one *FieldError per problem, each naming the line, the
// field path and the fix:
//
//	launch.yaml:21: tenants[1].traffic.profile.rate: must be > 0 (got -1)
//
// LoadStrategy reads a retry strategy alone (a preset name or a strategy
// file, as `loadsim compare --strategy` takes it) with the same errors, and
// CheckThresholds reports the scenario's thresholds that a caller's parser
// refuses at their lines.
//
// The package reads the scenario file, the trace files it names and
// strategy files given to LoadStrategy, and nothing else; it holds no package-level mutable state, reads no clock and
// draws randomness only from the seeds and *rand.Rand values it is given.
package scenario
