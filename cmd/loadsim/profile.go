package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profiler runs the CPU profile of --cpuprofile: the root command's
// PersistentPreRunE starts it, and run stops it once the command has
// returned, whether it succeeded or not (cobra skips post-run hooks after
// an error, and a run whose thresholds fail is still worth profiling).
type profiler struct {
	path string
	f    *os.File
}

type profilerKey struct{}

// withProfiler returns ctx carrying a profiler for the command tree to
// start, and that profiler, whose stop ends it and reports a failure to
// write it.
func withProfiler(ctx context.Context) (context.Context, *profiler) {
	p := &profiler{}
	return context.WithValue(ctx, profilerKey{}, p), p
}

// addProfileFlag adds --cpuprofile to root and the hook that starts it.
func addProfileFlag(root *cobra.Command) {
	var path string
	root.PersistentFlags().StringVar(&path, "cpuprofile", "", "write a CPU profile (pprof format) of the command to `FILE`; read it with go tool pprof")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if path == "" {
			return nil
		}
		p, ok := cmd.Context().Value(profilerKey{}).(*profiler)
		if !ok {
			return nil // a command tree run without run() (tests): no profile
		}
		f, err := os.Create(path)
		if err != nil {
			return usageError{fmt.Errorf("--cpuprofile: %w; pass a writable file path", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		p.path, p.f = path, f
		return nil
	}
}

// stop ends the profile, if one was started, and closes its file.
func (p *profiler) stop() error {
	if p.f == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.f.Close()
	p.f = nil
	if err != nil {
		return fmt.Errorf("--cpuprofile: writing %s: %w", p.path, err)
	}
	return nil
}
