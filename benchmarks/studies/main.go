// Command studies runs loadsim's worked studies (docs/studies) and writes
// their figures and result tables:
//
//	go run ./benchmarks/studies [-img docs/studies/img] [-seeds N] jitter|retry-storm|tier-sizing|sdk-exhaustion|all
//
// Each study simulates embedded example scenarios (scenario/examples) with
// sim/sweep, many variants and seeds in parallel, and draws its figures with
// report/plot. Everything is deterministic: the same command gives the same
// numbers and the same PNGs. The package's tests run every study at reduced
// size and check its qualitative result (an ordering, a recovery), so a
// change to the model or the strategies that breaks the science fails CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
)

// study is one runnable study.
type study struct {
	name string
	run  func(ctx context.Context, env env) error
}

// env is what a study writes to and how big it runs.
type env struct {
	img   string    // directory for PNG figures and the generated Markdown tables
	seeds int       // seeds per variant (0 = the study's default)
	out   io.Writer // the tables, as Markdown
}

func studies() []study {
	return []study{
		{"jitter", runJitterStudy},
		{"retry-storm", runStormStudy},
		{"tier-sizing", runSizingStudy},
		{"sdk-exhaustion", runSDKStudy},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "studies:", err)
		os.Exit(1)
	}
}

// run parses args and runs the named studies in order.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("studies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := env{out: stdout}
	fs.StringVar(&e.img, "img", "docs/studies/img", "directory for the figures (PNG) and tables (Markdown)")
	fs.IntVar(&e.seeds, "seeds", 0, "seeds per variant (0 = each study's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	all := studies()
	var names []string
	for _, s := range all {
		names = append(names, s.name)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("name a study: %s or all", strings.Join(names, ", "))
	}
	if e.seeds < 0 {
		return errors.New("-seeds must be ≥ 0")
	}
	want := fs.Args()
	if slices.Contains(want, "all") {
		want = names
	}
	for _, w := range want {
		i := slices.IndexFunc(all, func(s study) bool { return s.name == w })
		if i < 0 {
			return fmt.Errorf("unknown study %q (studies: %s, all)", w, strings.Join(names, ", "))
		}
		if err := all[i].run(ctx, e); err != nil {
			return fmt.Errorf("%s: %w", w, err)
		}
	}
	return nil
}
