// Package plot draws loadsim's figures with gonum.org/v1/plot and saves each
// one as PNG and SVG (fonts embedded, so both files render the same anywhere).
//
// It has two layers:
//
//   - Generic builders for any figure made of named curves or bars: Lines and
//     TimeLines (line and step plots, long curves downsampled with LTTB), CDFs
//     (cumulative distributions, e.g. time-to-success per strategy), Bars
//     (grouped bars, e.g. a metric by tier) and Save, which writes base.png and
//     base.svg. The comparison and sizing reports build their figures with
//     these, from report.Series and report.Summary values (see RateLine and
//     HistogramCDF for the usual conversions).
//   - The run report's figures, (a)–(f) of WriteRunFigures: attempts/s by
//     status with the offered rate, quota remaining per tenant and window with
//     429s marked, circuit state with 503/s, latency and time-to-success
//     quantiles, retries/s and amplification, and the time-to-success CDF per
//     tenant. docs/report.md describes each one.
//
// Every function is a pure function of its arguments (no package-level mutable
// state) and is safe for concurrent use on distinct arguments. A *plot.Plot
// returned here is not safe for concurrent use.
package plot
