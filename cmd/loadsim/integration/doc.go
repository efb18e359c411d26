// Package integration holds tests that drive the loadsim binary together with
// other programs and with the files under docs/ that users copy:
//
//   - TestPrometheus (runs only with LOADSIM_INTEGRATION=1; .ci/integration.sh
//     installs Debian's prometheus and prometheus-pushgateway and runs it)
//     scrapes `loadsim mock` and a live `loadsim run --metrics-addr` with a
//     real Prometheus, pushes with --pushgateway to a real Pushgateway, and
//     checks the values against summary.json and the mock's own counters;
//   - TestKubernetesShards renders the Indexed Job of docs/deploy/kubernetes.md
//     for four shards, runs the four pods' commands as local processes against
//     one mock and merges them with `loadsim report`;
//   - TestGrafanaDashboard checks that every PromQL expression of the
//     dashboard in docs/grafana/ uses only documented, registered metrics.
//
// Every server these tests start listens on 127.0.0.1 and is stopped by the
// test that started it. The package has no non-test code.
package integration
