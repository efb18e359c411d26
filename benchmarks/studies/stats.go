package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/loadsim/loadsim/report/plot"
	"github.com/loadsim/loadsim/scenario"
	gplot "gonum.org/v1/plot"
)

// meanSD returns the mean and the sample standard deviation of xs (0 for
// fewer than two values).
func meanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// savePNG writes p as dir/base.png.
func savePNG(p *gplot.Plot, dir, base string) error {
	b, err := plot.RenderPNG(p)
	if err != nil {
		return fmt.Errorf("render %s: %w", base, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("figure directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".png"), b, 0o644); err != nil {
		return fmt.Errorf("write figure: %w", err)
	}
	return nil
}

// writeTable writes a generated Markdown table as dir/base.md.
func writeTable(dir, base, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("table directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// loadExample loads an embedded example scenario by name.
func loadExample(name string) (*scenario.Scenario, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, fmt.Errorf("load example %s: %w", name, err)
	}
	return sc, nil
}

// compareLabels names compare entries by their presets, or, when two share
// a preset, by Strategy.String with the adjusted fields.
func compareLabels(list []scenario.Strategy) []string {
	out := make([]string, len(list))
	seen := map[string]int{}
	for i, s := range list {
		out[i] = s.Preset
		if out[i] == "" {
			out[i] = s.String()
		}
		seen[out[i]]++
	}
	for i, s := range list {
		if seen[out[i]] > 1 {
			out[i] = adjustedLabel(s)
		}
	}
	return out
}

// adjustedLabel is "PRESET" followed by the fields set besides it, as
// compact JSON: `compresr-recommended {"retry_after":"ignore"}`.
func adjustedLabel(s scenario.Strategy) string {
	c := s.Config
	c.Preset = ""
	b, err := json.Marshal(c)
	if err != nil || string(b) == "{}" {
		return s.Preset
	}
	return strings.TrimSpace(s.Preset + " " + string(b))
}
