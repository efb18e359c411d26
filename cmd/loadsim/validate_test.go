package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execValidate runs `validate ARGS…` built directly and returns stdout,
// stderr and the error.
func execValidate(args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	cmd := newValidateCmd(&out, &errw)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errw.String(), err
}

func TestValidateCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nduration: 1m\ntenants:\n  - name: web\n    key: cmp_secret_web\n    tier: gold\n"+
		"    traffic: {profile: {type: constant, rate: -1}}\n    mix: [{weight: 1}]\n"), 0o600)
	badTh := filepath.Join(dir, "bad-thresholds.yaml")
	os.WriteFile(badTh, []byte("name: th\nduration: 1m\ntenants:\n  - name: web\n    key: cmp_secret_web\n    tier: tier1\n"+
		"    traffic: {profile: {type: constant, rate: 1}}\n"+
		"    mix: [{weight: 1, endpoint: question-specific, model: latte_v1, tokens: 10}]\n"+
		"    client: {strategy: {preset: compresr-recommended}}\n"+
		"thresholds:\n  - succes_rate >= 0.9\n  - tenant(wbe).amplification < 2\n  - success_rate >= 0.9\n"), 0o600)
	tests := []struct {
		args       []string
		wantOut    []string // substrings of stdout
		wantErrOut []string // substrings of stderr
		usage      bool     // the error is a usage error (exit 2)
	}{
		// an example by name: its plan, with ∫rate = 0.2·300/… for the ramp
		{[]string{"launch-day"}, []string{"scenario launch-day", "duration 10m0s, seed 42", "web", "tier1", "ramp 0.2→2/s over 5m0s", "compresr-recommended", "aws-standard (adjusted)", "total expected requests:"}, nil, false},
		// the demo validates
		{[]string{"demo"}, []string{"scenario demo", "duration 20s"}, nil, false},
		// an invalid file: every problem on stderr, exit 2
		{[]string{bad}, nil, []string{bad + ":6: tenants[0].tier: unknown tier \"gold\"", bad + ":7: tenants[0].traffic.profile.rate: must be > 0 (got -1)"}, true},
		// thresholds are checked as run and simulate check them: each problem at its line, with the closest name
		{[]string{badTh}, nil, []string{badTh + `:11: thresholds[0]: "succes_rate >= 0.9": unknown metric "succes_rate"; did you mean success_rate?`,
			badTh + `:12: thresholds[1]: "tenant(wbe).amplification < 2": unknown tenant "wbe"; did you mean web?`}, true},
		// neither a file nor an example
		{[]string{"nope"}, nil, []string{"no such file, and no example"}, true},
		// no argument
		{nil, nil, nil, true},
	}
	for _, tc := range tests {
		out, errOut, err := execValidate(tc.args...)
		var ue usageError
		if tc.usage != errors.As(err, &ue) {
			t.Errorf("validate %q: err = %v; want usage error: %t", tc.args, err, tc.usage)
		}
		if !tc.usage && err != nil {
			t.Errorf("validate %q: %v", tc.args, err)
		}
		for _, w := range tc.wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("validate %q stdout:\n%s\nwant %q", tc.args, out, w)
			}
		}
		for _, w := range tc.wantErrOut {
			if !strings.Contains(errOut, w) {
				t.Errorf("validate %q stderr:\n%s\nwant %q", tc.args, errOut, w)
			}
		}
		if strings.Contains(out+errOut, "cmp_secret_web") || strings.Contains(out+errOut, "cmp_launch_web") {
			t.Errorf("validate %q printed a key:\n%s%s", tc.args, out, errOut)
		}
	}
}

// The plan's expected requests are ∫rate: the reference's ramp tenant sends
// 0.2·300 + (2−0.2)·300/2 + 2·300 = 930 requests over 10 minutes.
func TestValidatePlanExpected(t *testing.T) {
	t.Parallel()
	out, _, err := execValidate("launch-day")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "930 (1.55/s)") {
		t.Errorf("validate launch-day:\n%s\nwant web's 930 (1.55/s) expected requests", out)
	}
}
