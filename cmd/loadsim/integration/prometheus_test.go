package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// itScenario is the integration run: 10 s, a tier1 tenant that runs out of
// quota (429s: 200 requests cannot fit in two 60-request minute windows,
// wherever the UTC minute falls) and a tier3 one, with upstream errors (20 %,
// for as long as the mock runs) that make 500s to retry. Keys come from
// key_env: the mock's built-in demo keys.
const itScenario = `name: integration
seed: 3
duration: 10s
api:
  upstream:
    latency: {median: 5ms, p99: 20ms}
    incidents:
      - {start: 0s, duration: 1h, error_rate: 0.2}
tenants:
  - name: web
    key_env: LOADSIM_IT_WEB_KEY
    tier: tier1
    traffic: {profile: {type: constant, rate: 20}}
    mix: [{weight: 100, endpoint: question-specific, model: latte_v1, tokens: 300}]
    client: {strategy: {preset: compresr-recommended, deadline: 5s}}
  - name: batch
    key_env: LOADSIM_IT_BATCH_KEY
    tier: tier3
    traffic: {profile: {type: constant, rate: 5}}
    mix: [{weight: 100, endpoint: question-agnostic, model: espresso_v1, tokens: 800}]
    client: {strategy: {preset: aws-standard, max_attempts: 3}}
`

// itKeys are the environment of runs of itScenario.
var itKeys = []string{"LOADSIM_IT_WEB_KEY=cmp_demo_tier1", "LOADSIM_IT_BATCH_KEY=cmp_demo_tier3"}

// TestPrometheus scrapes `loadsim mock` and a live `loadsim run` with a real
// Prometheus, pushes a live run and a simulation to a real Pushgateway, and
// checks the values against summary.json and the mock's own counters.
func TestPrometheus(t *testing.T) {
	if os.Getenv("LOADSIM_INTEGRATION") != "1" {
		t.Skip("set LOADSIM_INTEGRATION=1 (with prometheus and prometheus-pushgateway installed) to run; .ci/integration.sh does")
	}
	began := time.Now()
	var progs [2]string
	for i, name := range []string{"prometheus", "prometheus-pushgateway"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s not found: install it (apt-get install -y prometheus prometheus-pushgateway) or run .ci/integration.sh", name)
		}
		progs[i] = p
	}
	bin := buildLoadsim(t)
	dir := t.TempDir()
	scen := filepath.Join(dir, "integration.yaml")
	if err := os.WriteFile(scen, []byte(itScenario), 0o644); err != nil {
		t.Fatal(err)
	}

	// The mock, on a port of its choice; it reads the scenario's api: section.
	mock := start(t, nil, bin, "mock", "--addr", "127.0.0.1:0", "--config", scen)
	mockURL := strings.TrimSpace(mock.waitLine(t, "listening on ", 10*time.Second))
	mockHost := strings.TrimPrefix(mockURL, "http://")

	// The Pushgateway.
	pgAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pg := start(t, nil, progs[1], "--web.listen-address="+pgAddr, "--log.level=warn")
	waitReady(t, pg, "http://"+pgAddr+"/-/ready", 20*time.Second)

	// Prometheus scraping the mock, the run (port chosen now, served
	// later) and the Pushgateway, every second.
	runAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mock
    static_configs: [{targets: [%q]}]
  - job_name: loadsim-run
    static_configs: [{targets: [%q]}]
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{targets: [%q]}]
`, mockHost, runAddr, pgAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := start(t, nil, progs[0], "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	waitReady(t, prom, "http://"+promAddr+"/-/ready", 30*time.Second)
	api := promAPI{base: "http://" + promAddr}
	ready := time.Since(began)

	// The live run, serving /metrics 3 s past its end for the final scrape,
	// pushing once at the end.
	out := filepath.Join(dir, "live")
	runStart := time.Now()
	run := start(t, itKeys, bin, "run", scen, "--target", mockURL, "--metrics-addr", runAddr, "--metrics-linger", "3s",
		"--drain", "5s", "--quiet", "--out", out, "--pushgateway", "http://"+pgAddr, "--run-id", "it-live")
	if code := run.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("loadsim run: exit %d; want 0\noutput:\n%s", code, run.out())
	}
	runTook := time.Since(runStart)
	sum := readSummary(t, filepath.Join(out, "summary.json"))
	if sum.Attempts.Total == 0 || sum.Attempts.ByStatus["429"] == 0 || sum.Attempts.ByStatus["500"] == 0 || sum.Attempts.Retries == 0 {
		t.Fatalf("summary.json: %d attempts, %d 429s, %d 500s, %d retries; the scenario should make all four", sum.Attempts.Total,
			sum.Attempts.ByStatus["429"], sum.Attempts.ByStatus["500"], sum.Attempts.Retries)
	}

	// 1. The run's series in Prometheus: the final scrape's values equal
	// summary.json. last_over_time reads past the staleness marker written
	// when the run's target went away.
	const wait = 15 * time.Second
	check := func(what, q string, want uint64) float64 {
		t.Helper()
		got, ok := api.eventually(t, q, float64(want), wait)
		if !ok {
			t.Errorf("%s: Prometheus %s = %v; want %d", what, q, got, want)
		}
		return got
	}
	attempts := check("run attempts", `sum(last_over_time(loadsim_attempts_total{job="loadsim-run"}[5m]))`, sum.Attempts.Total)
	requests := check("run requests", `sum(last_over_time(loadsim_requests_total{job="loadsim-run"}[5m]))`, sum.Requests.Total)
	check("run retries", `sum(last_over_time(loadsim_attempts_total{job="loadsim-run"}[5m])) - sum(last_over_time(loadsim_requests_total{job="loadsim-run", outcome!="rejected_client_side"}[5m]))`,
		sum.Attempts.Retries)
	check("run successes", `sum(last_over_time(loadsim_requests_total{job="loadsim-run", outcome="succeeded"}[5m]))`, sum.Requests.Succeeded)
	check("run 429s", `sum(last_over_time(loadsim_attempts_total{job="loadsim-run", status="429", code="rate_limit_exceeded"}[5m]))`, sum.Attempts.ByStatus["429"])

	// Labels: tenant names (never keys), statuses as in summary.json, all
	// five outcomes per tenant, histograms with le.
	var tenants, statuses []string
	for _, s := range api.series(t, `loadsim_attempts_total{job="loadsim-run"}`) {
		for _, l := range []string{"tenant", "status", "instance"} {
			if _, ok := s[l]; !ok {
				t.Errorf("series %v has no %q label", s, l)
			}
		}
		// code is "" (no label in Prometheus) for successes and transport errors.
		if _, ok := s["code"]; ok != (s["status"] != "200" && s["status"] != "0") {
			t.Errorf("series %v: code label present %v; want it for error statuses only", s, ok)
		}
		if strings.Contains(fmt.Sprint(s), "cmp_") {
			t.Errorf("series %v shows an API key", s)
		}
		tenants, statuses = append(tenants, s["tenant"]), append(statuses, s["status"])
	}
	var wantStatuses []string
	for k := range sum.Attempts.ByStatus {
		wantStatuses = append(wantStatuses, k)
	}
	if got, want := uniq(tenants), []string{"batch", "web"}; !slices.Equal(got, want) {
		t.Errorf("loadsim_attempts_total tenants = %v; want %v", got, want)
	}
	if got, want := uniq(statuses), uniq(wantStatuses); !slices.Equal(got, want) {
		t.Errorf("loadsim_attempts_total statuses = %v; want summary.json's %v", got, want)
	}
	if n := len(api.series(t, `loadsim_requests_total{job="loadsim-run"}`)); n != 10 {
		t.Errorf("loadsim_requests_total: %d series; want 10 (5 outcomes × 2 tenants)", n)
	}
	for _, name := range []string{"loadsim_retries_total", "loadsim_in_flight", "loadsim_attempt_duration_seconds_bucket",
		"loadsim_time_to_success_seconds_bucket", "loadsim_backoff_seconds_count"} {
		if len(api.series(t, name+`{job="loadsim-run"}`)) == 0 {
			t.Errorf("no series %s from the run", name)
		}
	}

	// 2. The mock's series equal its own counters (the run has ended, so
	// only its scrapes still count: leave route /metrics out) and the
	// attempts that got an answer.
	fams := scrape(t, mockURL+"/metrics")
	mockCount := uint64(sumFamily(fams, "compresr_mock_requests_total", map[string]string{"route": "!/metrics"}))
	if answered := sum.Attempts.Total - sum.Attempts.ByStatus["0"]; mockCount != answered {
		t.Errorf("mock's own compresr_mock_requests_total (API routes) = %d; want the run's answered attempts %d", mockCount, answered)
	}
	mockProm := check("mock requests", `sum(compresr_mock_requests_total{job="mock", route!="/metrics"})`, mockCount)
	for _, sel := range []string{`compresr_mock_quota_remaining{job="mock", key_name="demo_tier1", window="minute", kind="requests"}`,
		`compresr_mock_circuit_state{job="mock"}`, `compresr_mock_request_duration_seconds_bucket{job="mock"}`,
		`compresr_mock_upstream_calls_total{job="mock", result="error"}`} {
		if len(api.series(t, sel)) == 0 {
			t.Errorf("no series %s", sel)
		}
	}

	// The dashboard's queries, variables set to all: Prometheus accepts
	// each, and the panels have data.
	dashQueries, dashData := 0, 0
	vars := strings.NewReplacer("$__rate_interval", "1m", "$job", ".*", "$tenant", ".*", "$mock_job", ".*")
	for _, path := range dashboardFiles(t) {
		for _, e := range dashboardExprs(t, path) {
			dashQueries++
			if api.count(t, vars.Replace(e)) > 0 {
				dashData++
			}
		}
	}
	if dashData < dashQueries*2/3 {
		t.Errorf("dashboard: %d of %d queries returned data; want most (the run made 429s, retries and 500s)", dashData, dashQueries)
	}

	// 3. The live run's push, on the Pushgateway and through Prometheus.
	pgFams := scrape(t, "http://"+pgAddr+"/metrics")
	pushed := uint64(sumFamily(pgFams, "loadsim_attempts_total", map[string]string{"job": "loadsim", "run_id": "it-live"}))
	if pushed != sum.Attempts.Total {
		t.Errorf("Pushgateway loadsim_attempts_total{run_id=\"it-live\"} = %d; want summary.json's %d", pushed, sum.Attempts.Total)
	}
	check("pushed live attempts", `sum(loadsim_attempts_total{job="loadsim", run_id="it-live"})`, sum.Attempts.Total)

	// 4. A simulation's push.
	simOut := filepath.Join(dir, "sim")
	sim := start(t, nil, bin, "simulate", scen, "--quiet", "--out", simOut, "--pushgateway", "http://"+pgAddr, "--run-id", "it-sim")
	if code := sim.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("loadsim simulate: exit %d; want 0\noutput:\n%s", code, sim.out())
	}
	simSum := readSummary(t, filepath.Join(simOut, "summary.json"))
	pgFams = scrape(t, "http://"+pgAddr+"/metrics")
	simPushed := uint64(sumFamily(pgFams, "loadsim_attempts_total", map[string]string{"job": "loadsim", "run_id": "it-sim"}))
	if simPushed != simSum.Attempts.Total || simPushed == 0 {
		t.Errorf("Pushgateway loadsim_attempts_total{run_id=\"it-sim\"} = %d; want simulate's summary.json %d", simPushed, simSum.Attempts.Total)
	}
	simReq := uint64(sumFamily(pgFams, "loadsim_requests_total", map[string]string{"job": "loadsim", "run_id": "it-sim"}))
	if simReq != simSum.Requests.Total {
		t.Errorf("Pushgateway loadsim_requests_total{run_id=\"it-sim\"} = %d; want %d", simReq, simSum.Requests.Total)
	}
	check("pushed simulated attempts", `sum(loadsim_attempts_total{job="loadsim", run_id="it-sim"})`, simSum.Attempts.Total)

	t.Logf("checked: run attempts %d (Prometheus %v, Pushgateway %d), requests %d (Prometheus %v), 429s %d, 500s %d, retries %d; "+
		"mock API requests %d (Prometheus %v); dashboard queries with data %d of %d; simulated attempts %d, requests %d (Pushgateway %d, %d)",
		sum.Attempts.Total, attempts, pushed, sum.Requests.Total, requests, sum.Attempts.ByStatus["429"], sum.Attempts.ByStatus["500"], sum.Attempts.Retries,
		mockCount, mockProm, dashData, dashQueries, simSum.Attempts.Total, simSum.Requests.Total, simPushed, simReq)
	t.Logf("time: servers ready %s (build included), live run %s, whole test %s", ready.Round(time.Millisecond),
		runTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// uniq returns the sorted distinct values of s.
func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
