package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/scenario"
)

// newScenariosCmd builds `loadsim scenarios` (list the embedded examples;
// `loadsim scenarios list` too, as one would guess) and `loadsim scenarios
// show NAME` (print one).
func newScenariosCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the embedded example scenarios",
		Long: "List the example scenarios built into loadsim. Any command taking a SCENARIO accepts\n" +
			"their names; `loadsim scenarios show NAME > my.yaml` starts a scenario of your own.",
		Example: "  loadsim scenarios\n  loadsim scenarios show launch-day > launch-day.yaml\n  loadsim simulate launch-day",
		Args:    noArgs,
		RunE:    func(*cobra.Command, []string) error { return listScenarios(stdout) },
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the embedded example scenarios (as loadsim scenarios does)",
		Example: "  loadsim scenarios list",
		Args:    noArgs,
		RunE:    func(*cobra.Command, []string) error { return listScenarios(stdout) },
	}, &cobra.Command{
		Use:     "show NAME",
		Short:   "Print an embedded example scenario",
		Example: "  loadsim scenarios show launch-day > launch-day.yaml",
		Args:    scenarioArg,
		RunE:    func(_ *cobra.Command, args []string) error { return showScenario(args[0], stdout) },
	})
	return cmd
}

// listScenarios writes one line per example: name and description.
func listScenarios(stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, e := range scenario.Examples() {
		fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Description)
	}
	return tw.Flush()
}

// showScenario writes the example's file as embedded.
func showScenario(name string, stdout io.Writer) error {
	data, err := scenario.Example(name)
	if err != nil {
		return usageError{fmt.Errorf("%w; `loadsim scenarios` lists them", err)}
	}
	_, err = stdout.Write(data)
	return err
}
