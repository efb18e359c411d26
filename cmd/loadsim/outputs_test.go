package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/loadsim/loadsim/scenario"
)

func TestDefaultOutDir(t *testing.T) {
	now := time.Date(2026, 7, 1, 14, 5, 9, 0, time.FixedZone("CEST", 2*3600))
	if got, want := defaultOutDir("demo", now), filepath.Join("loadsim-out", "demo-20260701T120509Z"); got != want {
		t.Errorf("defaultOutDir(demo, %v) = %q, want %q", now, got, want)
	}
}

func TestExitCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitOK},                                    // success
		{errors.New("boom"), exitRuntime},                // any error
		{usageError{errors.New("bad flag")}, exitUsage},  // usage
		{exitCodeError{99, errors.New("failed")}, 99},    // thresholds
		{exitCodeError{130, errors.New("stopped")}, 130}, // interrupted
	} {
		if got := exitCodeOf(tc.err); got != tc.want {
			t.Errorf("exitCodeOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestParseThresholds(t *testing.T) {
	sc, err := scenario.Load("demo") // its thresholds: success_rate, tenant(web).amplification
	if err != nil {
		t.Fatalf("scenario.Load(demo): %v", err)
	}
	var stderr bytes.Buffer
	ths, err := parseThresholds("demo", sc, []string{"tenant(batch).gave_up_rate < 50%"}, &stderr)
	if err != nil || len(ths) != len(sc.Thresholds)+1 || ths[len(ths)-1].Tenant != "batch" {
		t.Errorf("parseThresholds(demo, one flag) = %+v, %v; want the scenario's then the flag's", ths, err)
	}
	if _, err := parseThresholds("demo", sc, []string{"bogus"}, &stderr); exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), `--threshold "bogus"`) {
		t.Errorf("parseThresholds(demo, --threshold bogus) = %v; want a usage error naming the flag", err)
	}
	bad := *sc
	bad.Thresholds = []string{"success_rate >= 0.5", "succes_rate >= 0.5"}
	stderr.Reset()
	if _, err := parseThresholds("demo", &bad, nil, &stderr); exitCodeOf(err) != exitUsage ||
		!strings.Contains(stderr.String(), `thresholds[1]: "succes_rate >= 0.5": unknown metric "succes_rate"; did you mean success_rate?`) {
		t.Errorf("parseThresholds(scenario threshold succes_rate) = %v, stderr %q; want a usage error and the problem at its field", err, stderr.String())
	}
}

// TestExplicitDurationZero: --duration 0 typed is refused (exit 2) by every
// command that takes it; left out, the scenario's duration applies.
func TestExplicitDurationZero(t *testing.T) {
	for _, tc := range []struct {
		build func(io.Writer, io.Writer) *cobra.Command
		args  []string
	}{
		{newRunCmd, nil},      // run
		{newSimulateCmd, nil}, // simulate
		{newCompareCmd, nil},  // compare
		{newSizeCmd, []string{"--tenant", "web", "--slo", "success_rate > 0"}}, // size
	} {
		var out, errw bytes.Buffer
		cmd := tc.build(&out, &errw)
		cmd.SetArgs(append([]string{"demo", "--duration", "0"}, tc.args...))
		cmd.SetOut(&out)
		cmd.SetErr(&errw)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		if exitCodeOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "leave --duration out") {
			t.Errorf("%s demo --duration 0 = %v (exit %d); want a usage error saying to leave --duration out", cmd.Name(), err, exitCodeOf(err))
		}
	}
}
