package mock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadsim/loadsim/sim/api"
	"github.com/loadsim/loadsim/sim/mock"
)

// t0 is the fixed time of the tests' clock: 30 s into a UTC minute.
var t0 = time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC)

// fixedClock always says t0 (or what the test set).
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// zeroLatency is the config prefix that makes the model answer at once.
const zeroLatency = "api:\n  upstream: {latency: {median: 0s}}\n"

// newServer builds a model from the YAML document cfg (an `api:` section; ""
// = defaults with zero latency), and a server around it with a fixed clock
// and its own registry.
func newServer(t testing.TB, cfg string) (*mock.Server, *prometheus.Registry, *fixedClock) {
	t.Helper()
	if cfg == "" {
		cfg = zeroLatency
	}
	res := resolve(t, cfg)
	clock := &fixedClock{t: t0}
	reg := prometheus.NewRegistry()
	srv := mock.New(api.New(res, t0, 1), res, mock.WithClock(clock), mock.WithRegistry(reg))
	return srv, reg, clock
}

// resolve decodes and resolves the YAML document cfg.
func resolve(t testing.TB, cfg string) api.Resolved {
	t.Helper()
	c, err := api.DecodeConfig(strings.NewReader(cfg))
	if err != nil {
		t.Fatalf("DecodeConfig(%q): %v", cfg, err)
	}
	res, err := c.Resolve()
	if err != nil {
		t.Fatalf("Resolve(%q): %v", cfg, err)
	}
	return res
}

// quotaRemaining gathers reg and returns the compresr_mock_quota_remaining
// sample of (keyName, window, kind); it fails the test if there is none.
func quotaRemaining(t testing.TB, reg prometheus.Gatherer, keyName, window, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "compresr_mock_quota_remaining" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["key_name"] == keyName && labels["window"] == window && labels["kind"] == kind {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no compresr_mock_quota_remaining{key_name=%q,window=%q,kind=%q}", keyName, window, kind)
	return 0
}

// reply is a recorded response.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// serve sends one request through srv.ServeHTTP.
func serve(t testing.TB, srv http.Handler, method, path, key, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, b)
		}
	}
	return r
}

// errorCode returns the nested envelope's error.code and message ("" when
// the body is not a nested error envelope).
func (r reply) errorCode() (code, message string) {
	e, _ := r.body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

const (
	qs      = "/api/compress/question-specific/"
	qsBatch = "/api/compress/question-specific/batch"
	qa      = "/api/compress/question-agnostic/"
	qaBatch = "/api/compress/question-agnostic/batch"
	k1      = "cmp_demo_tier1"
	k3      = "cmp_demo_tier3"
	k5      = "cmp_demo_tier5"
)

// validBody is a question-specific request body for latte_v1.
const validBody = `{"context":"Machine learning is a field of study in artificial intelligence.","query":"What is machine learning?","compression_model_name":"latte_v1"}`
