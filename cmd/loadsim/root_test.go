package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring of stdout
		stderr string // substring of stderr
	}{
		// No command: the help, success.
		{"no args", nil, exitOK, "Available Commands", ""},
		// An unknown command is a usage error.
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		// An unknown flag is a usage error.
		{"unknown flag", []string{"mock", "--bogus"}, exitUsage, "", "unknown flag: --bogus"},
		// A flag value of the wrong type is a usage error.
		{"bad seed", []string{"mock", "--seed", "minus-one"}, exitUsage, "", "--seed"},
		// Stray arguments are a usage error.
		{"stray argument", []string{"version", "now"}, exitUsage, "", "takes no arguments"},
		// A malformed --addr is a usage error, caught before listening.
		{"bad addr", []string{"mock", "--addr", "localhost"}, exitUsage, "", "--addr"},
		// A missing config file is a usage error naming the flag.
		{"missing config", []string{"mock", "--config", "/nonexistent/mock.yaml"}, exitUsage, "", "--config"},
		// version prints three lines.
		{"version", []string{"version"}, exitOK, "loadsim ", ""},
		// --help works on subcommands.
		{"mock help", []string{"mock", "--help"}, exitOK, "listening on http://HOST:PORT", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					tt.args, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestCPUProfile: --cpuprofile writes a pprof file (gzip-compressed
// protobuf) once the command ends, also when the command fails; an
// unwritable path is a usage error naming the flag.
func TestCPUProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"success", []string{"version"}, exitOK},
		{"failing command", []string{"validate", filepath.Join(dir, "missing.yaml")}, exitUsage},
	} {
		path := filepath.Join(dir, tc.name+".prof")
		var stdout, stderr bytes.Buffer
		if code := run(append(tc.args, "--cpuprofile", path), nil, &stdout, &stderr); code != tc.code {
			t.Fatalf("%s: exit %d, want %d; stderr: %s", tc.name, code, tc.code, stderr.String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: profile of %d bytes does not start with gzip's magic", tc.name, len(b))
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version", "--cpuprofile", filepath.Join(dir, "no", "such", "dir.prof")}, nil, &stdout, &stderr); code != exitUsage {
		t.Errorf("unwritable --cpuprofile: exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "--cpuprofile") {
		t.Errorf("unwritable --cpuprofile: stderr %q does not name the flag", stderr.String())
	}
}
