package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what `loadsim version` prints.
type versionInfo struct {
	Version  string // module version, "(devel)" for a local build
	Go       string // Go toolchain version
	Revision string // VCS revision, "unknown" when not recorded
	Time     string // VCS commit time, "" when not recorded
	Modified bool   // the work tree had uncommitted changes
}

// readVersion extracts versionInfo from build information (ok = false when
// the binary carries none).
func readVersion(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: "(unknown)", Go: "unknown", Revision: "unknown"}
	if !ok || bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// writeVersion prints v, one "name value" line per field.
func writeVersion(w io.Writer, v versionInfo) error {
	rev := v.Revision
	if v.Time != "" {
		rev += " (" + v.Time + ")"
	}
	if v.Modified {
		rev += " modified"
	}
	_, err := fmt.Fprintf(w, "loadsim %s\ngo %s\nrevision %s\n", v.Version, v.Go, rev)
	return err
}

// newVersionCmd builds `loadsim version`. readBuild defaults to
// debug.ReadBuildInfo (tests inject their own).
func newVersionCmd(stdout io.Writer, readBuild func() (*debug.BuildInfo, bool)) *cobra.Command {
	if readBuild == nil {
		readBuild = debug.ReadBuildInfo
	}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print loadsim's version, Go version and VCS revision",
		Example: "  loadsim version",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			return writeVersion(stdout, readVersion(readBuild()))
		},
	}
}
