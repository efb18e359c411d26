package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// repoRoot returns the repository's root directory (three levels above
// this package's directory, cmd/loadsim/integration).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller: no file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// buildLoadsim builds cmd/loadsim into a temporary directory and returns the
// binary's path.
func buildLoadsim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadsim")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/loadsim")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s ./cmd/loadsim: %v\n%s", bin, err, out)
	}
	return bin
}

// freePort returns a loopback port that was free a moment ago (for programs
// that cannot listen on port 0 and report the port).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a program started by a test.
type proc struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	output strings.Builder // stdout and stderr
	done   chan struct{}
	err    error // Wait's, once done is closed
}

// start starts name with args and env (added to the test's environment),
// keeping its output; the test's cleanup stops it with SIGTERM (SIGKILL 5 s
// later) and waits for it.
func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(name), cmd: exec.Command(name, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s %s: %v", name, strings.Join(args, " "), err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.output.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = p.cmd.Wait()
		_ = pw.Close()
		<-copied
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop ends the program (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Logf("%s did not stop within 5s of SIGTERM: killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// wait waits at most d for the program to exit by itself and returns its
// exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running after %s\noutput:\n%s", p.name, d, p.out())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", p.name, p.err)
	return -1
}

// out returns the output so far.
func (p *proc) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// waitLine waits at most d for a line of the program's output starting with
// prefix and returns the rest of it.
func (p *proc) waitLine(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, l := range strings.Split(p.out(), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q\noutput:\n%s", p.name, prefix, p.out())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %s\noutput:\n%s", p.name, prefix, d, p.out())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpClient is the tests' client: loopback only, bounded.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// get returns the body of a 200 answer to GET u.
func get(u string) ([]byte, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return b, nil
}

// waitReady polls GET u until it answers 200, at most d.
func waitReady(t *testing.T, p *proc, u string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := get(u)
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s answered\noutput:\n%s", p.name, u, p.out())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not ready within %s: %v\noutput:\n%s", p.name, u, d, err, p.out())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrape fetches a /metrics page in the text format.
func scrape(t *testing.T, u string) map[string]*dto.MetricFamily {
	t.Helper()
	b, err := get(u)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	return fams
}

// sumFamily adds the counter (or untyped) values of the family's samples whose
// labels match every pair of want (a value "!x" means "not x").
func sumFamily(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	total := 0.0
	mf := fams[name]
	if mf == nil {
		return 0
	}
	for _, m := range mf.GetMetric() {
		if !labelsMatch(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if neg, ok := strings.CutPrefix(v, "!"); ok {
			if have[k] == neg {
				return false
			}
		} else if have[k] != v {
			return false
		}
	}
	return true
}

// promAPI is a Prometheus HTTP API client.
type promAPI struct{ base string }

// query runs an instant query whose result is one sample (or none) and
// returns its value; ok is false for an empty result.
func (p promAPI) query(t *testing.T, q string) (v float64, ok bool) {
	t.Helper()
	b, err := get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: status %q, %v: %s", q, r.Status, err, b)
	}
	switch len(r.Data.Result) {
	case 0:
		return 0, false
	case 1:
	default:
		t.Fatalf("query %s: %d samples; want one (aggregate it)", q, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q: %v", q, s, err)
	}
	return v, true
}

// count runs an instant query and returns the number of series in its
// result; a query Prometheus refuses fails the test.
func (p promAPI) count(t *testing.T, q string) int {
	t.Helper()
	b, err := get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Errorf("query %s: %v", q, err)
		return 0
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		t.Errorf("query %s: status %q, %v: %s", q, r.Status, err, b)
	}
	return len(r.Data.Result)
}

// series returns the label sets of the series matching sel.
func (p promAPI) series(t *testing.T, sel string) []map[string]string {
	t.Helper()
	b, err := get(p.base + "/api/v1/series?match[]=" + url.QueryEscape(sel))
	if err != nil {
		t.Fatalf("series %s: %v", sel, err)
	}
	var r struct {
		Status string              `json:"status"`
		Data   []map[string]string `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		t.Fatalf("series %s: status %q, %v: %s", sel, r.Status, err, b)
	}
	return r.Data
}

// eventually runs q until it returns want or d has passed, and returns the
// last value (Prometheus needs a scrape or two to see a new value).
func (p promAPI) eventually(t *testing.T, q string, want float64, d time.Duration) (float64, bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		v, ok := p.query(t, q)
		if ok && v == want {
			return v, true
		}
		if time.Now().After(deadline) {
			return v, false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// readSummary reads the fields of summary.json the tests check.
type summaryFile struct {
	Scenario string `json:"scenario"`
	Shard    string `json:"shard"`
	Requests struct {
		Total     uint64 `json:"total"`
		Succeeded uint64 `json:"succeeded"`
	} `json:"requests"`
	Attempts struct {
		Total    uint64            `json:"total"`
		Retries  uint64            `json:"retries"`
		ByStatus map[string]uint64 `json:"by_status"`
	} `json:"attempts"`
	Tenants map[string]json.RawMessage `json:"tenants"`
}

func readSummary(t *testing.T, path string) summaryFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s summaryFile
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}
