package main

import (
	"bytes"
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
