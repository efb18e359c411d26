package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/pflag"

	"github.com/loadsim/loadsim/report"
)

// pushJob is the Pushgateway job label of every loadsim push.
const pushJob = "loadsim"

// pushTimeout bounds one push, connection included.
const pushTimeout = 30 * time.Second

// pushOptions are the --pushgateway and --run-id flags of run and simulate.
// The zero value pushes nothing.
type pushOptions struct {
	URL   pushURL // Pushgateway base URL; empty = no push
	RunID string  // run_id grouping label; "" = the base name of the output directory
}

// pushURL is a Pushgateway base URL, checked when the flag is parsed
// (pflag.Value), so that a typo fails before the run instead of after it.
type pushURL struct{ u *url.URL }

var _ pflag.Value = (*pushURL)(nil)

// String implements pflag.Value.
func (p *pushURL) String() string {
	if p == nil || p.u == nil {
		return ""
	}
	return p.u.String()
}

// Type implements pflag.Value.
func (p *pushURL) Type() string { return "URL" }

// Set implements pflag.Value: s must be an absolute http or https URL
// without credentials, query or fragment (e.g. http://127.0.0.1:9091).
func (p *pushURL) Set(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL (%w): want the Pushgateway's base URL, e.g. http://127.0.0.1:9091", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%q: want the Pushgateway's base URL, e.g. http://127.0.0.1:9091", s)
	case u.User != nil:
		return errors.New("credentials in the URL are not supported: put the Pushgateway behind a proxy that adds them")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: remove the query or fragment; give the Pushgateway's base URL, e.g. http://127.0.0.1:9091", s)
	}
	p.u = u
	return nil
}

// addPushFlags adds --pushgateway and --run-id to f, bound to o.
func addPushFlags(f *pflag.FlagSet, o *pushOptions) {
	f.Var(&o.URL, "pushgateway", "push the final metrics once to the Prometheus Pushgateway at `URL` (job \"loadsim\", grouped by run_id)")
	f.StringVar(&o.RunID, "run-id", "", "run_id grouping `LABEL` of --pushgateway (default: the base name of --out)")
}

// runIDOf returns o's run_id for a run writing into outDir.
func (o pushOptions) runIDOf(outDir string) string {
	if o.RunID != "" {
		return o.RunID
	}
	return filepath.Base(filepath.Clean(outDir))
}

// pushMetrics replaces the metrics of the group {job="loadsim",
// run_id=runID} on the Pushgateway at base with g's (an HTTP PUT), within
// pushTimeout. The pushed samples carry no timestamps: the Pushgateway and
// the Prometheus scraping it stamp them.
func pushMetrics(ctx context.Context, base, runID string, g prometheus.Gatherer) error {
	if strings.TrimSpace(runID) == "" {
		return errors.New("--run-id: must not be empty")
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	defer client.CloseIdleConnections()
	err := push.New(base, pushJob).Grouping("run_id", runID).Gatherer(g).Client(client).PushContext(ctx)
	if err != nil {
		return fmt.Errorf("pushing metrics to --pushgateway %s: %w", base, err)
	}
	return nil
}

// recorderGatherer returns a gatherer of rec's loadsim_* metrics: the
// counters and histograms of the summary's aggregates, as a live run serves
// them at /metrics (used for simulations, which serve none).
func recorderGatherer(rec *report.Recorder) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	if err := rec.Register(reg); err != nil {
		// A new registry holds nothing that could collide.
		return prometheus.Gatherers{errGatherer{err}}
	}
	return reg
}

// errGatherer is a gatherer that fails with err.
type errGatherer struct{ err error }

// Gather implements prometheus.Gatherer.
func (e errGatherer) Gather() ([]*dto.MetricFamily, error) { return nil, e.err }

// pushAfterRun is run's and simulate's hook after their outputs are written:
// with --pushgateway it pushes g once (even when runErr is set: a failed
// threshold or an interruption still has metrics worth keeping) and reports
// it on stderr. It returns runErr, or the push error when runErr is nil; a
// push error that runErr outranks is printed on stderr. The push outlives a
// cancelled ctx (Ctrl-C), bounded by pushTimeout.
func pushAfterRun(ctx context.Context, o pushOptions, g prometheus.Gatherer, outDir string, runErr error, stderr io.Writer) error {
	base := o.URL.String()
	if base == "" {
		return runErr
	}
	id := o.runIDOf(outDir)
	if err := pushMetrics(context.WithoutCancel(ctx), base, id, g); err != nil {
		if runErr != nil {
			fmt.Fprintf(stderr, "loadsim: %v\n", err)
			return runErr
		}
		return err
	}
	fmt.Fprintf(stderr, "loadsim: pushed metrics to %s (job %q, run_id %q)\n", base, pushJob, id)
	return runErr
}

// lingerMetrics waits d (≤ 0: not at all) before a run's /metrics server
// closes, so that a Prometheus scraping it gets the final values; a close of
// stop (Ctrl-C) ends the wait early.
func lingerMetrics(d time.Duration, stop <-chan struct{}, stderr io.Writer) {
	if d <= 0 {
		return
	}
	fmt.Fprintf(stderr, "loadsim: serving the final metrics for %s more (--metrics-linger)\n", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}
