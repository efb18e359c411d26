package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// shardScenario is the load split in TestKubernetesShards: 4 s, a tier1
// tenant that runs into its shared quota and a tier3 one. Keys come from
// key_env (the mock's demo keys, itKeys).
const shardScenario = `name: sharded
seed: 11
duration: 4s
api:
  upstream:
    latency: {median: 5ms, p99: 20ms}
tenants:
  - name: web
    key_env: LOADSIM_IT_WEB_KEY
    tier: tier1
    traffic: {profile: {type: constant, rate: 20}}
    mix: [{weight: 100, endpoint: question-specific, model: latte_v1, tokens: 300}]
    client: {strategy: {preset: compresr-recommended, deadline: 2s}}
  - name: batch
    key_env: LOADSIM_IT_BATCH_KEY
    tier: tier3
    traffic: {profile: {type: constant, rate: 10}}
    mix: [{weight: 100, endpoint: question-agnostic, model: espresso_v1, tokens: 800}]
    client: {strategy: {preset: aws-standard, max_attempts: 3}}
`

// manifests returns the YAML blocks of docs/deploy/kubernetes.md by the name
// of the `<!-- manifest: NAME -->` comment before them.
func manifests(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- manifest: ([a-z-]+) -->\n```yaml\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	for _, name := range []string{"mock", "job", "report"} {
		if out[name] == "" {
			t.Fatalf("docs/deploy/kubernetes.md: no ```yaml block after <!-- manifest: %s -->", name)
		}
	}
	return out
}

// envsubst replaces $NAME and ${NAME} for the names of vars only, as
// `envsubst '${A} ${B}'` does.
func envsubst(s string, vars map[string]string) string {
	re := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// podSpec is the part of a Job or Deployment the test runs.
type podSpec struct {
	Kind string `yaml:"kind"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		BackoffLimit   *int   `yaml:"backoffLimit"`
		Replicas       int    `yaml:"replicas"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// decodeFirst decodes the first YAML document of s.
func decodeFirst(t *testing.T, name, s string) podSpec {
	t.Helper()
	var p podSpec
	if err := yaml.NewDecoder(strings.NewReader(s)).Decode(&p); err != nil {
		t.Fatalf("manifest %s: %v\n%s", name, err, s)
	}
	if len(p.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("manifest %s: %d containers; want 1", name, len(p.Spec.Template.Spec.Containers))
	}
	return p
}

// localCommand turns a pod's `sh -c SCRIPT` container into a local script:
// mount paths become directories of dirs, and its literal env entries are
// returned for the process's environment.
func localCommand(t *testing.T, name string, p podSpec, dirs map[string]string) (script string, env []string) {
	t.Helper()
	c := p.Spec.Template.Spec.Containers[0]
	if strings.Join(c.Command, " ") != "sh -c" || len(c.Args) != 1 {
		t.Fatalf("manifest %s: command %q args %q; want sh -c SCRIPT", name, c.Command, c.Args)
	}
	script = c.Args[0]
	for _, m := range c.VolumeMounts {
		local, ok := dirs[m.MountPath]
		if !ok {
			t.Fatalf("manifest %s: mount %s: the test has no local directory for it", name, m.MountPath)
		}
		script = strings.ReplaceAll(script, m.MountPath+"/", local+"/")
	}
	for _, e := range c.Env {
		if e.Value != "" {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	return script, env
}

// TestKubernetesShards renders the Indexed Job of docs/deploy/kubernetes.md
// for N = 4, runs its four pods' commands as local processes against one
// `loadsim mock` on loopback, merges them with the report Job's command, and
// checks the merged counts against the shards' and the mock's own.
func TestKubernetesShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four shards for 4 s; skipped with -short")
	}
	const n = 4
	bin := buildLoadsim(t)
	dir := t.TempDir()
	scenDir, results := filepath.Join(dir, "scenario"), filepath.Join(dir, "results")
	for _, d := range []string{scenDir, results} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(scenDir, "scenario.yaml"), []byte(shardScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	mock := start(t, nil, bin, "mock", "--addr", "127.0.0.1:0", "--config", filepath.Join(scenDir, "scenario.yaml"))
	mockURL := strings.TrimSpace(mock.waitLine(t, "listening on ", 10*time.Second))

	vars := map[string]string{"SHARDS": fmt.Sprint(n), "RUN_ID": "ktest", "IMAGE": "loadsim:test", "TARGET": mockURL,
		"MAX_REQUESTS": "100000"}
	docs := manifests(t)
	for name, m := range docs {
		rendered := envsubst(m, vars)
		if strings.Contains(rendered, "${") {
			t.Errorf("manifest %s: unrendered variable left: %s", name, rendered)
		}
		dec := yaml.NewDecoder(strings.NewReader(rendered))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("manifest %s: not YAML: %v", name, err)
				}
				break
			}
			if doc["apiVersion"] == nil || doc["kind"] == nil {
				t.Errorf("manifest %s: a document without apiVersion or kind: %v", name, doc)
			}
		}
	}
	mockDep := decodeFirst(t, "mock", envsubst(docs["mock"], vars))
	if mockDep.Kind != "Deployment" || mockDep.Spec.Replicas != 1 || mockDep.Spec.Template.Spec.Containers[0].Args[0] != "mock" {
		t.Errorf("manifest mock: kind %s, %d replicas, args %q; want a Deployment of one `loadsim mock`",
			mockDep.Kind, mockDep.Spec.Replicas, mockDep.Spec.Template.Spec.Containers[0].Args)
	}
	job := decodeFirst(t, "job", envsubst(docs["job"], vars))
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions != n || job.Spec.Parallelism != n ||
		job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Fatalf("manifest job rendered for N=%d: kind %s, completionMode %q, completions %d, parallelism %d; want an Indexed Job of %d at once, backoffLimit 0",
			n, job.Kind, job.Spec.CompletionMode, job.Spec.Completions, job.Spec.Parallelism, n)
	}
	mounts := map[string]string{"/scenario": scenDir, "/results": results}
	script, env := localCommand(t, "job", job, mounts)
	path := "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")

	// The four pods, at once.
	pods := make([]*proc, n)
	for i := range pods {
		podEnv := append(append([]string{path, fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i)}, env...), itKeys...)
		pods[i] = start(t, podEnv, "sh", "-c", script)
	}
	var shardAttempts, shardRequests uint64
	for i, p := range pods {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("pod %d (sh -c %q): exit %d; want 0\noutput:\n%s", i, script, code, p.out())
		}
		s := readSummary(t, filepath.Join(results, "ktest", fmt.Sprintf("shard-%d", i+1), "summary.json"))
		if s.Shard != fmt.Sprintf("%d/%d", i+1, n) {
			t.Errorf("pod %d: summary.json shard %q; want %d/%d", i, s.Shard, i+1, n)
		}
		shardAttempts += s.Attempts.Total
		shardRequests += s.Requests.Total
	}

	// The report Job.
	rep := decodeFirst(t, "report", envsubst(docs["report"], vars))
	rscript, renv := localCommand(t, "report", rep, mounts)
	r := start(t, append([]string{path}, renv...), "sh", "-c", rscript)
	if code := r.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("report (sh -c %q): exit %d; want 0\noutput:\n%s", rscript, code, r.out())
	}
	merged := filepath.Join(results, "ktest", "merged")
	sum := readSummary(t, filepath.Join(merged, "summary.json"))
	fams := scrape(t, mockURL+"/metrics")
	mockCount := uint64(sumFamily(fams, "compresr_mock_requests_total", map[string]string{"route": "!/metrics"}))
	answered := sum.Attempts.Total - sum.Attempts.ByStatus["0"]
	// 4 s at 20/s and 10/s: the shards together offer the whole run's 120 arrivals.
	if sum.Attempts.Total != shardAttempts || sum.Requests.Total != shardRequests || answered != mockCount || sum.Requests.Total != 120 || sum.Shard != "" {
		t.Errorf("merged summary: %d attempts (%d answered), %d requests, shard %q; want the shards' %d attempts, the mock's %d answers, 120 requests, shard \"\" (all four)",
			sum.Attempts.Total, answered, sum.Requests.Total, sum.Shard, shardAttempts, mockCount)
	}
	var info struct {
		Shards   string            `json:"shards"`
		Complete bool              `json:"complete"`
		Parts    []json.RawMessage `json:"parts"`
	}
	b, err := os.ReadFile(filepath.Join(merged, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Shards != "1,2,3,4/4" || !info.Complete || len(info.Parts) != n {
		t.Errorf("merged.json = %s (%v); want shards 1,2,3,4/4, complete, 4 parts", b, err)
	}
	t.Logf("4 shards: %d requests, %d attempts (429s %d), mock answered %d; merged equal", sum.Requests.Total,
		sum.Attempts.Total, sum.Attempts.ByStatus["429"], mockCount)
}
