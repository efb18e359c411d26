package main

import (
	"bytes"
	"runtime/debug"
	"testing"
)

func TestReadVersion(t *testing.T) {
	t.Parallel()
	full := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-03-02T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want versionInfo
	}{
		// No build information at all.
		{"none", nil, false, versionInfo{Version: "(unknown)", Go: "unknown", Revision: "unknown"}},
		// A local build: (devel), no VCS stamp.
		{"devel", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true,
			versionInfo{Version: "(devel)", Go: "go1.26.8", Revision: "unknown"}},
		// Everything recorded, dirty tree.
		{"stamped", full, true, versionInfo{Version: "v1.2.3", Go: "go1.26.8", Revision: "abc123", Time: "2026-03-02T10:00:00Z", Modified: true}},
	}
	for _, tt := range tests {
		if got := readVersion(tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: readVersion(%v, %v) = %+v; want %+v", tt.name, tt.bi, tt.ok, got, tt.want)
		}
	}
}

func TestVersionCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		// A clean, stamped build.
		{"clean", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}},
			"loadsim v0.1.0\ngo go1.26.8\nrevision abc\n"},
		// A dirty tree with a commit time.
		{"dirty", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "T"}, {Key: "vcs.modified", Value: "true"}}},
			"loadsim (devel)\ngo go1.26.8\nrevision abc (T) modified\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		cmd := newVersionCmd(&out, func() (*debug.BuildInfo, bool) { return tt.bi, true })
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil || out.String() != tt.want {
			t.Errorf("%s: loadsim version = %q, %v; want %q", tt.name, out.String(), err, tt.want)
		}
	}
}
