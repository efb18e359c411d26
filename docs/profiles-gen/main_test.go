package main

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadsim/loadsim/report/plot"
)

// TestFiguresMatchGuide checks that every profile drawn is written in
// docs/profiles.md exactly as the generator reads it, and that the guide
// shows its committed picture.
func TestFiguresMatchGuide(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "profiles.md"))
	if err != nil {
		t.Fatalf("os.ReadFile(docs/profiles.md): %v", err)
	}
	for _, f := range figures() {
		if f.Profile != "" && !bytes.Contains(guide, []byte(f.Profile)) {
			t.Errorf("docs/profiles.md does not show the %s profile as drawn: %s", f.Name, f.Profile)
		}
		img := "img/profile-" + f.Name + ".png"
		if !bytes.Contains(guide, []byte("("+img+")")) {
			t.Errorf("docs/profiles.md does not link %s", img)
		}
		if _, err := os.Stat(filepath.Join("..", img)); err != nil {
			t.Errorf("%s is not committed: run go run ./docs/profiles-gen (%v)", img, err)
		}
	}
}

// TestRender draws two figures (a rate profile and the two-tenant trace) and
// checks that each is a PNG of the expected size with more than a
// background: the curves' colours are present. (Rendering is slow under
// -race; TestLines covers every figure's data.)
func TestRender(t *testing.T) {
	for _, f := range figures() {
		if f.Name != "step" && f.Name != "trace" {
			continue
		}
		b, err := render(f)
		if err != nil {
			t.Fatalf("render(%s) error: %v", f.Name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("render(%s) is not a PNG: %v", f.Name, err)
		}
		if got := img.Bounds().Dx(); got != 1100 {
			t.Errorf("render(%s) width = %d px; want 1100", f.Name, got)
		}
		if n := colouredPixels(img); n < 1000 {
			t.Errorf("render(%s) has %d coloured pixels; want ≥ 1000 (a blank figure?)", f.Name, n)
		}
	}
}

// TestLines checks every figure's curves: the arrivals drawn add up to the
// requested rate's integral (the pacer keeps to its profile), within 1 %
// for deterministic profiles and 15 % for Poisson.
func TestLines(t *testing.T) {
	for _, f := range figures() {
		ls, err := lines(f)
		if err != nil {
			t.Fatalf("lines(%s) error: %v", f.Name, err)
		}
		if len(ls) == 0 {
			t.Fatalf("lines(%s) returned no curves", f.Name)
		}
		if f.Example != "" {
			continue // a trace has no rate curve to compare with
		}
		if len(ls) != 2 {
			t.Fatalf("lines(%s) returned %d curves; want arrivals and rate", f.Name, len(ls))
		}
		arrivals, rate := area(ls[0], true), area(ls[1], false)
		tol := 0.01
		if f.Name == "poisson" {
			tol = 0.15
		}
		if rate <= 0 || math.Abs(arrivals-rate)/rate > tol {
			t.Errorf("lines(%s): arrivals add up to %.1f requests, the rate to %.1f; want within %g%%", f.Name, arrivals, rate, tol*100)
		}
	}
}

// area integrates a curve over its span: as steps (each Y holds until the
// next X) or with the trapezoid rule.
func area(l plot.Line, step bool) float64 {
	a := 0.0
	for i := 1; i < len(l.X); i++ {
		dx := l.X[i] - l.X[i-1]
		if step {
			a += l.Y[i-1] * dx
		} else {
			a += (l.Y[i-1] + l.Y[i]) / 2 * dx
		}
	}
	return a
}

// colouredPixels counts pixels that are neither grey nor white.
func colouredPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if max(r, g, bl)-min(r, g, bl) > 0x2000 {
				n++
			}
		}
	}
	return n
}

// TestLoadErrors checks that a figure without a profile is refused.
func TestLoadErrors(t *testing.T) {
	for _, f := range []figure{
		{Name: "empty"}, // neither profile nor example
		{Name: "bad", Profile: "{type: ramp, from: 1}"},     // the parser's error comes through
		{Name: "nope", Example: "no-such-example-for-sure"}, // unknown example
	} {
		if _, err := load(f); err == nil {
			t.Errorf("load(%+v) = nil error; want an error", f)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("load(%+v) gave an empty error message", f)
		}
	}
}
