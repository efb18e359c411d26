package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/term"

	"github.com/loadsim/loadsim/report"
	"github.com/loadsim/loadsim/sim/attack"
)

// runOptions are the flags of `loadsim run`.
type runOptions struct {
	Duration    time.Duration // > 0 overrides the scenario's
	Out         string        // output directory; "" = defaultOutDir
	Seed        uint64        // used when SeedSet
	SeedSet     bool          // --seed was given
	Target      string        // base URL; "" = in-process mock
	MaxRequests uint64        // cap on attempts (required for non-loopback targets)
	Thresholds  []string      // --threshold expressions
	MetricsAddr string        // serve /metrics here while running; "" = no
	Quiet       bool          // no progress lines
	Drain       time.Duration // wait at most this after the duration for requests still retrying; 0 = until they end
	Shard       string        // "k/N": offer shard k of N of the traffic (scenario.ParseShard); "" = all
	// MetricsLinger keeps /metrics up this long after the run (for a final scrape); 0 = none.
	MetricsLinger time.Duration
	Push          pushOptions // --pushgateway, --run-id
	VegetaOut     string      // write every attempt as a vegeta Result (gob) to this file; "" = no
}

// newRunCmd builds `loadsim run SCENARIO`.
func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	var opts runOptions
	cmd := &cobra.Command{
		Use:   "run SCENARIO [flags]",
		Short: "Run a scenario live against the built-in mock or a real API",
		Long: "Run a scenario (a file or an example name) live: one vegeta attacker per tenant, paced by\n" +
			"its profile, through its retry strategy. Without --target the mock is started in-process on\n" +
			"loopback. Writes report.html, its plots (PNG, SVG), summary.json, summary.md, series.json and\n" +
			"scenario.yaml into --out, prints a one-screen summary and the report's path. Ctrl-C stops\n" +
			"arrivals, waits up to 5 s for requests in flight and writes partial results (exit 130); a\n" +
			"second Ctrl-C exits at once. A run stopped by --max-requests writes partial results too, but\n" +
			"its exit code is its thresholds' verdict (0 or 99), judged on what was measured.\n" +
			"Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or flags, 99 a threshold failed.",
		Example: "  loadsim run demo\n  loadsim run launch-day --duration 1m --threshold 'success_rate >= 95%'\n" +
			"  loadsim run ./my.yaml --target https://api.example.com --max-requests 500",
		Args: scenarioArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			if err := explicitDuration(cmd, opts.Duration); err != nil {
				return err
			}
			stop, release := interruptStop(stderr, interruptLive)
			defer release()
			return runScenario(cmd.Context(), args[0], opts, stop, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Duration, "duration", 0, "run for `D` instead of the scenario's duration")
	f.StringVar(&opts.Out, "out", "", "output `DIR` (default loadsim-out/<scenario>-<UTC time>)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `N` of the run (default: the scenario's)")
	f.StringVar(&opts.Target, "target", "", "base `URL` of the API to attack (default: the in-process mock); keys come from key_env")
	f.Uint64Var(&opts.MaxRequests, "max-requests", 0, "hard cap `N` on attempts, retries included (required for a non-loopback --target)")
	f.StringArrayVar(&opts.Thresholds, "threshold", nil, "pass/fail `EXPR` on the summary, e.g. 'tenant(web).success_rate >= 0.9' (repeatable)")
	f.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve the runner's Prometheus /metrics on `HOST:PORT` while running")
	f.DurationVar(&opts.Drain, "drain", 0, "after the duration, wait at most `D` for requests still retrying, then count them in_flight (0 = until they end)")
	f.BoolVar(&opts.Quiet, "quiet", false, "no progress lines on stderr")
	f.StringVar(&opts.VegetaOut, "vegeta-results", "", "write every attempt sent to `FILE` as vegeta results (read it with `vegeta report` or `vegeta plot`; it also lists those a stop or the drain cancelled, which summary.json leaves out)")
	f.DurationVar(&opts.MetricsLinger, "metrics-linger", 0, "keep serving --metrics-addr for `D` after the run ends, so that Prometheus scrapes the final values (Ctrl-C ends it)")
	addPushFlags(f, &opts.Push)
	f.StringVar(&opts.Shard, "shard", "", "offer shard `k/N` (k from 1) of every tenant's arrivals, to run one load on N machines and merge with `loadsim report`")
	return cmd
}

// Messages interruptStop prints on the first signal.
const (
	interruptLive      = "loadsim: interrupted: stopping arrivals, waiting up to 5s for requests in flight (Ctrl-C again to quit now)"
	interruptSimulated = "loadsim: interrupted: stopping the simulation and writing what it has so far (Ctrl-C again to quit now)"
	interruptSweep     = "loadsim: interrupted: stopping every run; nothing will be written (Ctrl-C again to quit now)"
)

// interruptStop returns a channel closed by the first SIGINT or SIGTERM
// (stop arrivals, finish, write partial results), after printing msg; a
// second signal exits the process at once with code 130. release stops
// listening.
func interruptStop(stderr io.Writer, msg string) (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-sig:
			fmt.Fprintln(stderr, msg)
			close(stop)
		case <-quit:
			return
		}
		select {
		case <-sig:
			fmt.Fprintln(stderr, "loadsim: interrupted twice: exiting without results")
			os.Exit(exitInterrupted)
		case <-quit:
		}
	}()
	return stop, func() { signal.Stop(sig); close(quit); <-done }
}

// runScenario loads arg and runs it with opts; stop interrupts it.
func runScenario(ctx context.Context, arg string, opts runOptions, stop <-chan struct{}, stdout, stderr io.Writer) error {
	l, err := loadRun(arg, opts.Duration, opts.Drain, opts.Thresholds, stderr)
	if err != nil {
		return err
	}
	sc, thresholds := l.sc, l.thresholds
	shard, err := shardFlag(opts.Shard)
	if err != nil {
		return err
	}
	if opts.MetricsAddr != "" {
		if err := checkAddr(opts.MetricsAddr); err != nil {
			return usageError{fmt.Errorf("--metrics-addr: %w", err)}
		}
	}
	resolved, err := sc.Resolved()
	if err != nil {
		return fmt.Errorf("resolving scenario %s: %w", sc.Name, err)
	}
	seed := sc.Seed
	if opts.SeedSet {
		seed = opts.Seed
	}
	out := opts.Out
	if out == "" {
		name := sc.Name
		if !shard.Whole() {
			name += fmt.Sprintf("-shard%dof%d", shard.K, shard.N)
		}
		out = defaultOutDir(name, time.Now())
	}
	aopts := attack.Options{Target: opts.Target, Seed: seed, Duration: opts.Duration, MaxRequests: opts.MaxRequests,
		Stop: stop, Drain: opts.Drain, Registry: prometheus.NewRegistry(), Shard: shard}
	if !opts.Quiet {
		// On a terminal one line is redrawn every second; else a line every 10 s.
		aopts.Progress = stderr
		f, ok := stderr.(*os.File)
		aopts.ProgressLive = ok && term.IsTerminal(int(f.Fd()))
	}
	if opts.Target != "" {
		if err := attack.CheckTarget(strings.TrimRight(opts.Target, "/"), opts.MaxRequests); err != nil {
			return usageError{fmt.Errorf("--target: %w", err)}
		}
	}
	if opts.Target != "" || !shard.Whole() {
		attack.Plan(stderr, sc, aopts)
	}
	if opts.MetricsAddr != "" {
		ln, err := net.Listen("tcp", opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr %s: %w", opts.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(aopts.Registry, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan struct{})
		go func() { defer close(served); _ = srv.Serve(ln) }()
		defer func() { lingerMetrics(opts.MetricsLinger, stop, stderr); _ = srv.Close(); <-served }()
		fmt.Fprintf(stderr, "loadsim: metrics on http://%s/metrics\n", ln.Addr())
	}
	var vegetaOut *vegetaFile
	if opts.VegetaOut != "" {
		if vegetaOut, err = createVegetaFile(opts.VegetaOut); err != nil {
			return err
		}
		aopts.Results = vegetaOut.encode
	}
	res, err := attack.Run(ctx, sc, aopts)
	if vegetaOut != nil {
		if cerr := vegetaOut.close(); err == nil && res.ResultsErr == nil && cerr != nil {
			res.ResultsErr = cerr
		}
	}
	if err != nil {
		if errors.Is(err, attack.ErrMaxRequestsRequired) || errors.Is(err, attack.ErrConfig) {
			return usageError{err}
		}
		return err
	}
	meta := res.Meta
	meta.Thresholds = thresholds
	if meta.PartialReason == report.PartialMaxRequests {
		fmt.Fprintf(stderr, "loadsim: stopped: --max-requests %d reached after %d attempts, %s of %s; results are partial, thresholds are judged on them\n",
			opts.MaxRequests, res.Sent, meta.Duration, plannedDuration(sc.Duration, opts.Duration))
	}
	if res.Behind {
		fmt.Fprintf(stderr, "loadsim: the runner fell behind the profile: its arrivals took %s instead of %s; rates are over %s (lower the rate, or split the load with --shard)\n",
			meta.Duration, plannedDuration(sc.Duration, opts.Duration), meta.Duration)
	}
	_, err = finishRun(res.Recorder, meta, resolved, out, stdout)
	var ec exitCodeError
	if err != nil && !errors.As(err, &ec) {
		return err // the outputs could not be written
	}
	if res.ResultsErr != nil && err == nil {
		err = fmt.Errorf("--vegeta-results %s: %w (the other outputs are complete)", opts.VegetaOut, res.ResultsErr)
	}
	if meta.Partial && meta.PartialReason != report.PartialMaxRequests {
		// An interruption outranks thresholds judged on partial results. A
		// run stopped by the cap the user set is judged by its thresholds
		// (exit 0 or 99), as a --max-requests smoke test in CI needs.
		err = exitCodeError{exitInterrupted, errors.New("interrupted: results above are partial")}
	}
	return pushAfterRun(ctx, opts.Push, aopts.Registry, out, err, stderr)
}

// plannedDuration is a run's planned duration: the --duration flag when
// given (> 0), else the scenario's.
func plannedDuration(scenarioDuration, flag time.Duration) time.Duration {
	if flag > 0 {
		return flag
	}
	return scenarioDuration
}

// vegetaFile is the --vegeta-results file: vegeta's gob encoding of Results
// through a buffer.
type vegetaFile struct {
	f      *os.File
	w      *bufio.Writer
	encode vegeta.Encoder
}

// createVegetaFile creates (truncates) path for vegeta results.
func createVegetaFile(path string) (*vegetaFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--vegeta-results: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return &vegetaFile{f: f, w: w, encode: vegeta.NewEncoder(w)}, nil
}

// close flushes and closes the file.
func (v *vegetaFile) close() error {
	err := v.w.Flush()
	if cerr := v.f.Close(); err == nil {
		err = cerr
	}
	return err
}
