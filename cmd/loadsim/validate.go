package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/scenario"
)

// newValidateCmd builds `loadsim validate SCENARIO`: load and check a
// scenario, print its plan (exit 0) or every problem on stderr (exit 2).
func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO",
		Short: "Check a scenario and print its plan",
		Long: "Check a scenario (a file path or an embedded example's name, see `loadsim scenarios`):\n" +
			"strict YAML, every field validated. Prints the plan (tenants, tiers, profiles, strategies,\n" +
			"expected requests), or every problem with its line and field and exits with code 2.",
		Example: "  loadsim validate launch-day\n  loadsim validate ./my-scenario.yaml",
		Args:    scenarioArg,
		RunE: func(_ *cobra.Command, args []string) error {
			return runValidate(args[0], stdout, stderr)
		},
	}
}

// runValidate loads arg and writes its plan, or its problems: those of its
// fields and of its thresholds, checked as run and simulate check them.
func runValidate(arg string, stdout, stderr io.Writer) error {
	s, err := scenario.Load(arg)
	if err != nil {
		return scenarioError(arg, err, stderr)
	}
	if _, err := parseThresholds(arg, s, nil, stderr); err != nil {
		return err
	}
	return s.WritePlan(stdout)
}

// scenarioError writes a scenario's problems to stderr, one a line, and
// returns a short usage error (exit 2) counting them; other errors (I/O)
// are returned as they are.
func scenarioError(arg string, err error, stderr io.Writer) error {
	if !errors.Is(err, scenario.ErrInvalid) {
		return err
	}
	n := 1
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n = len(j.Unwrap())
	}
	fmt.Fprintln(stderr, err)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return usageError{fmt.Errorf("scenario %s is invalid (%d problem%s above)", arg, n, plural)}
}

// scenarioArg requires exactly one SCENARIO argument.
func scenarioArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%q takes one SCENARIO (a file or an example name; see `loadsim scenarios`), got %d arguments", cmd.CommandPath(), len(args))}
	}
	return nil
}
