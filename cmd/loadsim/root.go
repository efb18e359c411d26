package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes of loadsim.
const (
	exitOK      = 0 // success
	exitRuntime = 1 // the command failed while running
	exitUsage   = 2 // bad flags or arguments, invalid configuration
)

// newRootCmd builds the loadsim command tree. Each subcommand lives in its
// own file; add it to the list below.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "loadsim",
		Short:         "Size Compresr API tiers and benchmark retry strategies",
		Long:          "loadsim models the Compresr API (error codes, per-tier quotas, circuit breaker),\nserves it as a mock, and drives it with load to compare client retry strategies.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	addProfileFlag(root)
	root.AddCommand(
		newVersionCmd(stdout, nil),
		newMockCmd(stdout, stderr, nil),
		newValidateCmd(stdout, stderr),
		newScenariosCmd(stdout, stderr),
		newRunCmd(stdout, stderr),
		newDemoCmd(stdout, stderr),
		newSimulateCmd(stdout, stderr),
		newCompareCmd(stdout, stderr),
		newSizeCmd(stdout, stderr),
		newReportCmd(stdout, stderr),
	)
	return root
}

// run executes loadsim with args and returns its exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	ctx, prof := withProfiler(context.Background())
	cmd, err := root.ExecuteContextC(ctx)
	if perr := prof.stop(); perr != nil && err == nil {
		err = perr
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "loadsim: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return exitCodeOf(err)
}

// usageError marks an error as the caller's (flags, arguments, configuration):
// exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// noArgs is cobra.NoArgs reporting a usage error (unknown subcommands too).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
	}
	return usageError{fmt.Errorf("%q takes no arguments, got %q", cmd.CommandPath(), args)}
}
