package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

// demoScenario is the embedded example `loadsim demo` runs.
const demoScenario = "demo"

// demoDrain is how long the demo waits after its 20 s for requests still
// retrying (a rate-limited tenant may wait out a whole quota minute); those
// left count as in_flight.
const demoDrain = 5 * time.Second

// newDemoCmd builds `loadsim demo`: the embedded quick demo against the
// in-process mock, ending with the one-screen summary and the report path.
func newDemoCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := runOptions{Drain: demoDrain}
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Run the 20-second demo against the built-in mock",
		Long: "Run the embedded demo scenario (`loadsim scenarios show demo`) live against the mock started\n" +
			"in-process: two tenants, one runs out of its per-minute quota and a short upstream incident\n" +
			"trips the breaker. Ends with a one-screen summary and the path of the report.",
		Example: "  loadsim demo\n  loadsim demo --out /tmp/demo",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stop, release := interruptStop(stderr, interruptLive)
			defer release()
			return runScenario(cmd.Context(), demoScenario, opts, stop, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "output `DIR` (default loadsim-out/demo-<UTC time>)")
	return cmd
}
