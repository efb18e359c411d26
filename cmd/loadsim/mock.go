package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/scenario"
	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/mock"
)

// mockOptions are the flags of `loadsim mock`.
type mockOptions struct {
	Addr   string // listen address HOST:PORT; port 0 = any free port
	Config string // path of a file with an `api:` section; "" = defaults
	Seed   uint64 // seed of the model's random source
}

// newMockCmd builds `loadsim mock`. runF replaces runMock in tests; nil
// means runMock with a context cancelled by SIGINT or SIGTERM.
func newMockCmd(stdout, stderr io.Writer, runF func(context.Context, mockOptions) error) *cobra.Command {
	var opts mockOptions
	cmd := &cobra.Command{
		Use:   "mock [--addr HOST:PORT] [--config FILE] [--seed N]",
		Short: "Serve the Compresr API model over HTTP",
		Long: "Serve the Compresr API model over HTTP: the contract's routes, error envelope,\n" +
			"quotas and circuit breaker, and Prometheus metrics at /metrics. The first line on\n" +
			"stdout is `listening on http://HOST:PORT`. SIGINT or SIGTERM shut it down gracefully.",
		Example: "  loadsim mock --addr 127.0.0.1:8080\n" +
			"  curl -s -H 'X-API-Key: cmp_demo_tier1' -d '{\"context\":\"Some text.\",\"query\":\"What?\",\"compression_model_name\":\"latte_v1\"}' \\\n" +
			"    http://127.0.0.1:8080/api/compress/question-specific/",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runMock(ctx, opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "listen address `HOST:PORT` (port 0 = any free port)")
	f.StringVar(&opts.Config, "config", "", "`FILE` with an api: section (a scenario file works); default: the built-in API")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the model's random source (injected faults, latency)")
	return cmd
}

// runMock serves the model until ctx is cancelled. It prints
// `listening on http://HOST:PORT` as the first line on stdout once the
// listener is open, and logs serving problems to stderr.
func runMock(ctx context.Context, opts mockOptions, stdout, stderr io.Writer) error {
	if err := checkAddr(opts.Addr); err != nil {
		return usageError{fmt.Errorf("--addr: %w", err)}
	}
	cfg, err := loadAPIConfig(opts.Config)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on --addr %s: %w", opts.Addr, err)
	}
	clock := sim.WallClock{}
	model := api.New(cfg, clock.Now(), opts.Seed)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := mock.New(model, cfg, mock.WithClock(clock), mock.WithLogger(logger))
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return fmt.Errorf("writing the listening line: %w", err)
	}
	return srv.Serve(ctx, ln)
}

// checkAddr validates a listen address before listening, so that a typo is
// a usage error. Its message names the value, not the flag: every caller
// prefixes the flag the user typed ("--addr: …", "--metrics-addr: …"), since
// the check is shared by `mock --addr` and `run --metrics-addr`. A bare port
// such as 9100 is answered with the HOST:PORT to write instead.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		hint := "(e.g. 127.0.0.1:8080; port 0 = any free port)"
		if _, perr := strconv.ParseUint(addr, 10, 16); perr == nil {
			hint = "(write 127.0.0.1:" + addr + " for that port on this machine only)"
		}
		return fmt.Errorf("%q is not HOST:PORT %s: %w", addr, hint, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	return nil
}

// loadAPIConfig reads the `api:` section of path, which may be a whole
// scenario file or a document with only `api:` (strict: unknown fields are
// errors), and resolves it against the defaults; "" gives the defaults.
func loadAPIConfig(path string) (api.Resolved, error) {
	cfg := api.Defaults()
	if path != "" {
		var err error
		if cfg, err = scenario.LoadAPIConfig(path); err != nil {
			return api.Resolved{}, fmt.Errorf("--config %s: %w", path, err)
		}
	}
	r, err := cfg.Resolve()
	if err != nil {
		if path == "" {
			return api.Resolved{}, fmt.Errorf("built-in API defaults: %w", err)
		}
		return api.Resolved{}, fmt.Errorf("--config %s: %w", path, err)
	}
	return r, nil
}
