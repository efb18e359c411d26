package main

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
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
	ths, err := parseThresholds([]string{"success_rate >= 0.5"}, []string{"tenant(web).amplification < 3"}, []string{"web"})
	if err != nil || len(ths) != 2 || ths[1].Tenant != "web" {
		t.Errorf("parseThresholds = %+v, %v; want both, scenario's first", ths, err)
	}
	if _, err := parseThresholds([]string{"bogus"}, nil, nil); exitCodeOf(err) != exitUsage {
		t.Errorf("parseThresholds(bogus) = %v; want a usage error", err)
	}
}
