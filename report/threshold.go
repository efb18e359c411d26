package report

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/loadsim/loadsim/internal/suggest"
)

// Threshold is a parsed k6-style pass/fail criterion on a summary field:
//
//	METRIC OP VALUE
//	tenant(NAME).METRIC OP VALUE
//
// OP is one of < <= > >= == !=. METRIC is a name of ThresholdMetrics or
// status_NNN (attempts answered with HTTP status NNN; status_0 = transport
// errors) or code_CODE (attempts answered with error.code CODE). VALUE is a
// number in the metric's unit; seconds metrics also take a Go duration
// (30s, 500ms, 1m30s) and ratio metrics a percentage (95%).
type Threshold struct {
	Expr   string  // the expression, trimmed
	Tenant string  // tenant name; "" = the whole run
	Metric string  // metric name
	Op     string  // comparison operator
	Value  float64 // right-hand side in the metric's unit (seconds, ratio, count, requests/s)
}

// ThresholdResult is one threshold's verdict, as in summary.json.
type ThresholdResult struct {
	Expr  string  `json:"expr"`
	OK    bool    `json:"ok"`
	Value float64 `json:"value"`           // the metric's value (0 when Error is set)
	Error string  `json:"error,omitempty"` // why it could not be evaluated (unknown tenant); OK is false
}

// ValueString prints the measured value in its metric's unit, as the
// outputs show it next to the expression: a duration for seconds
// ("1m41s", not 101.122), a number otherwise.
func (r ThresholdResult) ValueString() string {
	if t, err := ParseThreshold(r.Expr); err == nil {
		if _, unit, ok := lookupMetric(t.Metric); ok && unit == unitSeconds {
			return fmtSeconds(r.Value)
		}
	}
	return fmtFloat(r.Value)
}

// metricUnit is the unit of a threshold metric, which decides the value
// syntax it accepts.
type metricUnit uint8

const (
	unitCount   metricUnit = iota // a count: numbers
	unitRatio                     // a fraction: numbers or percentages
	unitSeconds                   // seconds: numbers or durations
	unitRate                      // per second: numbers
)

var unitNames = [...]string{"count", "ratio (0.95 or 95%)", "seconds (2.5 or 2500ms)", "per second"}

// ThresholdMetric describes one metric name usable in thresholds.
type ThresholdMetric struct {
	Name string
	Unit string // "count", "ratio …", "seconds …" or "per second"
	Doc  string // the summary field it reads
	unit metricUnit
	get  func(*Stats) float64
}

// thresholdMetrics is read-only.
var thresholdMetrics = []ThresholdMetric{
	{Name: "success_rate", unit: unitRatio, Doc: "success_rate", get: func(s *Stats) float64 { return s.SuccessRate }},
	{Name: "sent_success_rate", unit: unitRatio, Doc: "requests.succeeded / (requests.total − requests.rejected_client_side)", get: func(s *Stats) float64 { return s.sentSuccessRate() }},
	{Name: "gave_up_rate", unit: unitRatio, Doc: "requests.gave_up / requests.total", get: func(s *Stats) float64 { return ratio(float64(s.Requests.GaveUp), float64(s.Requests.Total)) }},
	{Name: "failed_permanent_rate", unit: unitRatio, Doc: "requests.failed_permanent / requests.total", get: func(s *Stats) float64 {
		return ratio(float64(s.Requests.FailedPermanent), float64(s.Requests.Total))
	}},
	{Name: "amplification", unit: unitCount, Doc: "amplification (attempts / requests)", get: func(s *Stats) float64 { return s.Amplification }},
	{Name: "offered_rps", unit: unitRate, Doc: "offered_rps", get: func(s *Stats) float64 { return s.OfferedRPS }},
	{Name: "achieved_rps", unit: unitRate, Doc: "achieved_rps", get: func(s *Stats) float64 { return s.AchievedRPS }},
	{Name: "goodput_rps", unit: unitRate, Doc: "goodput_rps", get: func(s *Stats) float64 { return s.GoodputRPS }},
	{Name: "goodput_before_incident_rps", unit: unitRate, Doc: "incident_goodput.before_rps (0 without incidents)", get: func(s *Stats) float64 { return s.IncidentGoodput.orZero().BeforeRPS }},
	{Name: "goodput_during_incident_rps", unit: unitRate, Doc: "incident_goodput.during_rps (0 without incidents)", get: func(s *Stats) float64 { return s.IncidentGoodput.orZero().DuringRPS }},
	{Name: "goodput_after_incident_rps", unit: unitRate, Doc: "incident_goodput.after_rps (0 without incidents)", get: func(s *Stats) float64 { return s.IncidentGoodput.orZero().AfterRPS }},
	{Name: "requests_total", unit: unitCount, Doc: "requests.total", get: func(s *Stats) float64 { return float64(s.Requests.Total) }},
	{Name: "succeeded", unit: unitCount, Doc: "requests.succeeded", get: func(s *Stats) float64 { return float64(s.Requests.Succeeded) }},
	{Name: "gave_up", unit: unitCount, Doc: "requests.gave_up", get: func(s *Stats) float64 { return float64(s.Requests.GaveUp) }},
	{Name: "failed_permanent", unit: unitCount, Doc: "requests.failed_permanent", get: func(s *Stats) float64 { return float64(s.Requests.FailedPermanent) }},
	{Name: "rejected_client_side", unit: unitCount, Doc: "requests.rejected_client_side", get: func(s *Stats) float64 { return float64(s.Requests.RejectedClientSide) }},
	{Name: "in_flight", unit: unitCount, Doc: "requests.in_flight", get: func(s *Stats) float64 { return float64(s.Requests.InFlight) }},
	{Name: "attempts_total", unit: unitCount, Doc: "attempts.total", get: func(s *Stats) float64 { return float64(s.Attempts.Total) }},
	{Name: "retries_total", unit: unitCount, Doc: "attempts.retries", get: func(s *Stats) float64 { return float64(s.Attempts.Retries) }},
	{Name: "retry_after_seen", unit: unitCount, Doc: "retry_after.seen", get: func(s *Stats) float64 { return float64(s.RetryAfter.Seen) }},
	{Name: "retry_after_honoured", unit: unitCount, Doc: "retry_after.honoured", get: func(s *Stats) float64 { return float64(s.RetryAfter.Honoured) }},
	{Name: "retry_after_ignored", unit: unitCount, Doc: "retry_after.ignored", get: func(s *Stats) float64 { return float64(s.RetryAfter.Ignored) }},
	{Name: "retry_after_invalid", unit: unitCount, Doc: "retry_after.invalid", get: func(s *Stats) float64 { return float64(s.RetryAfter.Invalid) }},
	{Name: "retry_after_clamped", unit: unitCount, Doc: "retry_after.clamped", get: func(s *Stats) float64 { return float64(s.RetryAfter.Clamped) }},
	{Name: "latency_p50", unit: unitSeconds, Doc: "latency_seconds.p50", get: func(s *Stats) float64 { return s.Latency.P50 }},
	{Name: "latency_p90", unit: unitSeconds, Doc: "latency_seconds.p90", get: func(s *Stats) float64 { return s.Latency.P90 }},
	{Name: "latency_p99", unit: unitSeconds, Doc: "latency_seconds.p99", get: func(s *Stats) float64 { return s.Latency.P99 }},
	{Name: "latency_max", unit: unitSeconds, Doc: "latency_seconds.max", get: func(s *Stats) float64 { return s.Latency.Max }},
	{Name: "time_to_success_p50", unit: unitSeconds, Doc: "time_to_success_seconds.p50", get: func(s *Stats) float64 { return s.TimeToSuccess.P50 }},
	{Name: "time_to_success_p90", unit: unitSeconds, Doc: "time_to_success_seconds.p90", get: func(s *Stats) float64 { return s.TimeToSuccess.P90 }},
	{Name: "time_to_success_p99", unit: unitSeconds, Doc: "time_to_success_seconds.p99", get: func(s *Stats) float64 { return s.TimeToSuccess.P99 }},
	{Name: "time_to_success_max", unit: unitSeconds, Doc: "time_to_success_seconds.max", get: func(s *Stats) float64 { return s.TimeToSuccess.Max }},
	{Name: "backoff_p50", unit: unitSeconds, Doc: "backoff_seconds.p50", get: func(s *Stats) float64 { return s.Backoff.P50 }},
	{Name: "backoff_p99", unit: unitSeconds, Doc: "backoff_seconds.p99", get: func(s *Stats) float64 { return s.Backoff.P99 }},
	{Name: "backoff_max", unit: unitSeconds, Doc: "backoff_seconds.max", get: func(s *Stats) float64 { return s.Backoff.Max }},
}

// ThresholdMetrics returns the fixed metric names usable in thresholds, with
// their unit and the summary field each reads (status_NNN and code_CODE come
// on top). The result is a fresh copy.
func ThresholdMetrics() []ThresholdMetric {
	out := make([]ThresholdMetric, len(thresholdMetrics))
	copy(out, thresholdMetrics)
	for i := range out {
		out[i].Unit = unitNames[out[i].unit]
	}
	return out
}

func metricNames() string {
	return strings.Join(append(fixedMetricNames(), "status_NNN", "code_CODE"), ", ")
}

func fixedMetricNames() []string {
	names := make([]string, 0, len(thresholdMetrics)+2)
	for _, m := range thresholdMetrics {
		names = append(names, m.Name)
	}
	return names
}

// unknownMetric explains an unknown metric name: the closest valid one, if
// any is near, and the list of valid ones.
func unknownMetric(name string) string {
	return fmt.Sprintf("unknown metric %q%s (valid: %s)", name, suggest.Hint(name, fixedMetricNames()), metricNames())
}

// lookupMetric returns the getter and unit of a metric name.
func lookupMetric(name string) (func(*Stats) float64, metricUnit, bool) {
	for _, m := range thresholdMetrics {
		if m.Name == name {
			return m.get, m.unit, true
		}
	}
	if rest, ok := strings.CutPrefix(name, "status_"); ok {
		st, err := strconv.Atoi(rest)
		if err != nil || st < 0 || st > 999 || strconv.Itoa(st) != rest {
			return nil, 0, false
		}
		return func(s *Stats) float64 { return float64(s.Attempts.ByStatus[rest]) }, unitCount, true
	}
	if code, ok := strings.CutPrefix(name, "code_"); ok && code != "" && isIdent(code) {
		return func(s *Stats) float64 { return float64(s.Attempts.ByCode[code]) }, unitCount, true
	}
	return nil, 0, false
}

func isIdent(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

var thresholdOps = [...]string{"<=", ">=", "==", "!=", "<", ">"} // two-character operators first

// ParseThreshold parses a threshold expression (see Threshold). Errors name
// the problem and the fix (for an unknown metric the closest and the valid
// ones, for a misspelt operator the right one); they do not repeat expr,
// which callers name with where it came from.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: strings.TrimSpace(expr)}
	rest := t.Expr
	if rest == "" {
		return Threshold{}, fmt.Errorf("threshold is empty: write METRIC OP VALUE, e.g. success_rate >= 0.95")
	}
	if after, ok := strings.CutPrefix(rest, "tenant("); ok {
		name, tail, found := strings.Cut(after, ")")
		if !found {
			return Threshold{}, errors.New("tenant( is not closed: write tenant(NAME).METRIC OP VALUE")
		}
		if strings.TrimSpace(name) == "" {
			return Threshold{}, errors.New("tenant name is empty: write tenant(NAME).METRIC OP VALUE")
		}
		tail, ok = strings.CutPrefix(tail, ".")
		if !ok {
			return Threshold{}, fmt.Errorf("expected '.' after tenant(%s): write tenant(NAME).METRIC OP VALUE", name)
		}
		t.Tenant, rest = strings.TrimSpace(name), tail
	}
	opAt, op := -1, ""
	for i := 0; i < len(rest) && opAt < 0; i++ {
		for _, o := range thresholdOps {
			if strings.HasPrefix(rest[i:], o) {
				opAt, op = i, o
				break
			}
		}
	}
	if opAt < 0 {
		if strings.Contains(rest, "=") {
			return Threshold{}, errors.New("'=' is not a comparison operator: use == (or one of < <= > >= !=)")
		}
		return Threshold{}, errors.New("no comparison operator: write METRIC OP VALUE with OP one of < <= > >= == !=")
	}
	if mis := misspeltOp(rest[:opAt], op); mis != "" {
		return Threshold{}, fmt.Errorf("%q is not a comparison operator: write %s", mis, mis[len(mis)-1:]+"=")
	}
	t.Op = op
	t.Metric = strings.TrimSpace(rest[:opAt])
	valueText := strings.TrimSpace(rest[opAt+len(op):])
	if t.Metric == "" {
		return Threshold{}, fmt.Errorf("metric is missing before %s: write METRIC %s VALUE", op, op)
	}
	_, unit, ok := lookupMetric(t.Metric)
	if !ok {
		return Threshold{}, errors.New(unknownMetric(t.Metric))
	}
	if valueText == "" {
		return Threshold{}, fmt.Errorf("value is missing after %s: write METRIC %s VALUE", op, op)
	}
	v, err := parseThresholdValue(valueText, unit)
	if err != nil {
		return Threshold{}, fmt.Errorf("metric %s: %w", t.Metric, err)
	}
	if unit == unitRatio && (v < 0 || v > 1) {
		return Threshold{}, fmt.Errorf("metric %s is a fraction in [0, 1], got %s: write e.g. 0.95 or 95%%", t.Metric, valueText)
	}
	t.Value = v
	return t, nil
}

// misspeltOp returns "=>" or "=<" when the text before the operator found
// (op, one of < > <= >=) ends with '=': the operator written backwards,
// which would otherwise read as a metric ending in '='. Otherwise "".
func misspeltOp(before, op string) string {
	if (op == "<" || op == ">" || op == "<=" || op == ">=") && strings.HasSuffix(strings.TrimRight(before, " "), "=") {
		return "=" + op[:1]
	}
	return ""
}

func parseThresholdValue(s string, unit metricUnit) (float64, error) {
	if num, ok := strings.CutSuffix(s, "%"); ok {
		if unit != unitRatio {
			return 0, fmt.Errorf("value %q: a percentage fits only ratio metrics; this metric is a %s", s, unitNames[unit])
		}
		v, err := parseFinite(strings.TrimSpace(num))
		if err != nil {
			return 0, fmt.Errorf("value %q: %w", s, err)
		}
		return v / 100, nil
	}
	if v, err := parseFinite(s); err == nil {
		return v, nil
	}
	if unit == unitSeconds {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("value %q is neither a number of seconds nor a duration such as 30s or 500ms", s)
		}
		return d.Seconds(), nil
	}
	return 0, fmt.Errorf("value %q is not a number (this metric is a %s)", s, unitNames[unit])
}

// parseFinite parses a finite decimal number (no NaN, no infinities, no hex).
func parseFinite(s string) (float64, error) {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a finite decimal number", s)
	}
	return v, nil
}

// Validate checks that the threshold's tenant, if any, is one of tenants.
func (t Threshold) Validate(tenants []string) error {
	if t.Tenant == "" {
		return nil
	}
	for _, n := range tenants {
		if n == t.Tenant {
			return nil
		}
	}
	return fmt.Errorf("unknown tenant %q%s (tenants: %s)", t.Tenant, suggest.Hint(t.Tenant, tenants), strings.Join(tenants, ", "))
}

// Eval evaluates the threshold against s.
func (t Threshold) Eval(s *Summary) ThresholdResult {
	res := ThresholdResult{Expr: t.Expr}
	get, _, ok := lookupMetric(t.Metric)
	if !ok {
		res.Error = fmt.Sprintf("unknown metric %q", t.Metric)
		return res
	}
	st := &s.Stats
	if t.Tenant != "" {
		if st, ok = s.Tenants[t.Tenant]; !ok {
			res.Error = fmt.Sprintf("unknown tenant %q", t.Tenant)
			return res
		}
	}
	v := get(st)
	res.Value = v
	switch t.Op {
	case "<":
		res.OK = v < t.Value
	case "<=":
		res.OK = v <= t.Value
	case ">":
		res.OK = v > t.Value
	case ">=":
		res.OK = v >= t.Value
	case "==":
		res.OK = v == t.Value
	case "!=":
		res.OK = v != t.Value
	}
	return res
}

// EvaluateThresholds evaluates ts against s, in order. It does not modify s.
func EvaluateThresholds(s *Summary, ts []Threshold) []ThresholdResult {
	out := make([]ThresholdResult, len(ts))
	for i, t := range ts {
		out[i] = t.Eval(s)
	}
	return out
}

// Passed reports whether every threshold of the summary passed (true when
// there are none). A run whose summary did not pass exits with code 99.
func (s *Summary) Passed() bool {
	for _, r := range s.Thresholds {
		if !r.OK {
			return false
		}
	}
	return true
}
