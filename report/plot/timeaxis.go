package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
)

// TimeTicker labels an axis of seconds since the start of a run: mm:ss when
// the axis spans less than an hour, hh:mm from an hour on. Major ticks fall on
// round steps (1 s … 12 h) chosen to give about six labels. Its zero value is
// ready to use.
type TimeTicker struct{}

var _ gplot.Ticker = TimeTicker{}

// tickSteps are the candidate distances between major time ticks, seconds.
var tickSteps = [...]float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// Ticks implements gplot.Ticker for min and max in seconds.
func (TimeTicker) Ticks(min, max float64) []gplot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return []gplot.Tick{{Value: min, Label: FormatElapsed(min, max-min)}}
	}
	span := max - min
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 7 {
			step = s
			break
		}
	}
	var ticks []gplot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		ticks = append(ticks, gplot.Tick{Value: v, Label: FormatElapsed(v, span)})
		if minor := v + step/2; minor < max {
			ticks = append(ticks, gplot.Tick{Value: minor})
		}
	}
	return ticks
}

// FormatElapsed formats sec seconds as mm:ss when span (the length of the
// whole axis, seconds) is under an hour, and as hh:mm otherwise. Minutes in
// mm:ss may exceed 59 only when span < 1 h does not hold, which it then
// cannot; hours in hh:mm are not wrapped at 24 (a 30 h run ends at 30:00).
func FormatElapsed(sec, span float64) string {
	neg := ""
	if sec < 0 {
		neg, sec = "-", -sec
	}
	if span < 3600 {
		s := int64(math.Round(sec))
		return fmt.Sprintf("%s%02d:%02d", neg, s/60, s%60)
	}
	m := int64(math.Round(sec / 60))
	return fmt.Sprintf("%s%02d:%02d", neg, m/60, m%60)
}

// TimeLabel is the x-axis label of a time axis spanning span seconds:
// "time since start (mm:ss)" or "time since start (hh:mm)".
func TimeLabel(span float64) string {
	if span < 3600 {
		return "time since start (mm:ss)"
	}
	return "time since start (hh:mm)"
}
