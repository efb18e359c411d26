package plot

import "testing"

func BenchmarkRender(b *testing.B) {
	s, sum := recordRun(b, 600)
	p, err := attemptsFigure("t", s)
	if err != nil {
		b.Fatal(err)
	}
	_ = sum
	b.Run("png", func(b *testing.B) {
		for b.Loop() {
			if _, err := RenderPNG(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("svg", func(b *testing.B) {
		for b.Loop() {
			if _, err := RenderSVG(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
