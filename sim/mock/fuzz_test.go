package mock_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loadsim/loadsim/sim/api"
)

// FuzzServeHTTP: whatever the method, path, key and body, the handler never
// panics and answers the contract's status codes with a JSON envelope.
func FuzzServeHTTP(f *testing.F) {
	seeds := []struct {
		method uint8
		path   string
		key    string
		body   string
	}{
		{0, qs, k3, validBody},
		{0, qsBatch, k3, `{"inputs":[{"context":"a","query":"b"}],"compression_model_name":"latte_v1"}`},
		{0, qa, k1, `{"context":"\u2028\u00e9\xff","compression_model_name":"espresso_v1","target_compression_ratio":200}`},
		{0, qaBatch, k5, `{"inputs":"nope"}`},
		{1, "/health", "", ""},
		{1, "/api/profile/rate-limits", k5, ""},
		{1, "/api/compress/models", "", ""},
		{0, qs, "cmp_demo_expired", "[1,2]"},
		{2, "/x", "", "{"},
		{0, qs, k3, `{"query":"q","compression_model_name":"latte_v1","target_compression_ratio":"2"}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.key, []byte(s.body))
	}
	srv, _, _ := newServer(f, zeroLatency+"  internal_error_rate: 0.2\n  body_limit: 4KiB\n")
	methods := []string{"POST", "GET", "PUT", "DELETE", "HEAD", "PATCH"}
	valid := map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 405: true, 422: true, 429: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, m uint8, path, key string, body []byte) {
		method := methods[int(m)%len(methods)]
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%\r\n\t") || path == "/metrics" {
			path = api.Route(m % uint8(api.NumRoutes)).Path()
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
		}
		req := httptest.NewRequest(method, "http://127.0.0.1"+pathEscape(path), strings.NewReader(string(body)))
		if key != "" {
			req.Header["X-Api-Key"] = []string{key}
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !valid[rec.Code] {
			t.Fatalf("%s %q = status %d; not a status of the contract", method, path, rec.Code)
		}
		if method == "HEAD" {
			return
		}
		var env map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s %q (key %q, body %q) = %d with invalid JSON %q: %v", method, path, key, body, rec.Code, rec.Body.String(), err)
		}
		if rec.Code == 200 {
			if env["success"] != true {
				t.Fatalf("%s %q = 200 with body %s; want success true", method, path, rec.Body.String())
			}
			return
		}
		e, _ := env["error"].(map[string]any)
		code, _ := e["code"].(string)
		msg, _ := e["message"].(string)
		if env["success"] != false || code == "" || msg == "" {
			t.Fatalf("%s %q = %d with body %s; want the nested error envelope", method, path, rec.Code, rec.Body.String())
		}
	})
}

// pathEscape keeps a fuzzed path a valid request target.
func pathEscape(p string) string {
	var b strings.Builder
	for _, c := range []byte(p) {
		if c > 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteString("%")
			b.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
