package mock

import (
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/loadsim/loadsim/sim"
	"github.com/loadsim/loadsim/sim/api"
)

// Canonical header keys, assigned straight into the header map (no
// canonicalisation on the hot path).
const (
	hContentType     = "Content-Type"
	hContentLength   = "Content-Length"
	hRetryAfter      = "Retry-After"
	hAllow           = "Allow"
	hLimitMinute     = "X-Ratelimit-Limit-Minute"
	hRemainingMinute = "X-Ratelimit-Remaining-Minute"
	hLimitDay        = "X-Ratelimit-Limit-Day"
	hRemainingDay    = "X-Ratelimit-Remaining-Day"
	hTier            = "X-Ratelimit-Tier"
)

const successPrefix = `{"success":true,"message":null,"data":`

// autoLengthMax is the longest response body whose Content-Length the mock
// leaves to net/http: a body written in one Write no longer than net/http's
// response buffer (2048 bytes, bufferBeforeChunkingSize in net/http) is still
// held when the handler returns, and net/http then sends its Content-Length.
// TestContentLength checks it over loopback on both sides of this size.
const autoLengthMax = 2048

// write writes resp as the contract's JSON: headers, status and body.
func (s *Server) write(w http.ResponseWriter, route api.Route, req *api.Request, inputs []api.Input, resp *api.Response) {
	out := s.outs.Get().(*[]byte)
	b := (*out)[:0]
	if resp.Code == api.OK {
		b = s.appendSuccess(b, route, req, inputs, resp)
	} else {
		b = s.appendError(b, resp)
	}

	h := w.Header()
	h[hContentType] = s.hdr.json
	// net/http itself sends the Content-Length of a body it holds whole when
	// the handler returns (up to its 2048-byte chunking buffer; see
	// http.ResponseWriter.Write), more cheaply than a header-map entry, which
	// it would clone, sort and parse back. Longer bodies say it here, or
	// net/http would send them chunked.
	length := int64(-1)
	if len(b) > autoLengthMax {
		length = int64(len(b))
	}
	l := resp.Limits
	if !s.setCached(h, length, &l, resp.RetryAfter) {
		setFormatted(h, length, &l, resp.RetryAfter)
	}
	if resp.Allow != "" {
		h[hAllow] = []string{resp.Allow}
	}
	w.WriteHeader(resp.Code.Status())
	if _, err := w.Write(b); err != nil {
		s.log.Debug("mock: writing response", "route", route.Path(), "err", err)
	}
	if cap(b) <= maxPooled {
		*out = b[:0]
		s.outs.Put(out)
	}
}

// headerCache holds pre-rendered header values, shared read-only by every
// response (net/http only reads a header's values): each is a one-element
// slice of capacity one, so an append by anyone copies instead of writing
// into it.
type headerCache struct {
	json  []string            // application/json
	small [][]string          // decimal strings of -1 … maxCached, at index v+1
	tiers map[string][]string // tier names
}

// maxCached is the largest number pre-rendered: content lengths of the usual
// bodies, per-minute quotas of the built-in tiers and Retry-After values.
const maxCached = 2047

func newHeaderCache(tiers map[string]api.Tier) headerCache {
	c := headerCache{json: []string{"application/json"}, small: make([][]string, maxCached+2), tiers: make(map[string][]string, len(tiers))}
	vals := make([]string, maxCached+2)
	for i := range vals {
		vals[i] = strconv.Itoa(i - 1)
		c.small[i] = vals[i : i+1 : i+1]
	}
	for name := range tiers {
		c.tiers[name] = []string{name}
	}
	return c
}

// num returns the pre-rendered value of v, nil if there is none.
func (c *headerCache) num(v int64) []string {
	if v < -1 || v > maxCached {
		return nil
	}
	return c.small[v+1]
}

// setCached sets Content-Length (when length >= 0), the X-RateLimit-*
// headers (when l is known) and Retry-After (when positive) from
// pre-rendered values without allocating; it sets nothing and reports false
// if one of them is not pre-rendered.
func (s *Server) setCached(h http.Header, length int64, l *sim.RateLimits, retryAfter int) bool {
	c := &s.hdr
	var cl []string
	if length >= 0 {
		if cl = c.num(length); cl == nil {
			return false
		}
	}
	var lm, rm, ld, rd, tier, ra []string
	if l.Known() {
		lm, rm, ld, rd, tier = c.num(l.LimitMinute), c.num(l.RemainingMinute), c.num(l.LimitDay), c.num(l.RemainingDay), c.tiers[l.Tier]
		if lm == nil || rm == nil || ld == nil || rd == nil || tier == nil {
			return false
		}
	}
	if retryAfter > 0 {
		if ra = c.num(int64(retryAfter)); ra == nil {
			return false
		}
	}
	if cl != nil {
		h[hContentLength] = cl
	}
	if l.Known() {
		h[hLimitMinute], h[hRemainingMinute], h[hLimitDay], h[hRemainingDay], h[hTier] = lm, rm, ld, rd, tier
	}
	if ra != nil {
		h[hRetryAfter] = ra
	}
	return true
}

// setFormatted sets the same headers as setCached, formatting every number
// into one small buffer turned into one string: two allocations for all of
// them.
func setFormatted(h http.Header, length int64, l *sim.RateLimits, retryAfter int) {
	var numBuf [96]byte
	nums := numBuf[:0]
	var ends [6]int
	n := 0
	addNum := func(v int64) {
		nums = strconv.AppendInt(nums, v, 10)
		ends[n] = len(nums)
		n++
	}
	if length >= 0 {
		addNum(length)
	}
	if l.Known() {
		addNum(l.LimitMinute)
		addNum(l.RemainingMinute)
		addNum(l.LimitDay)
		addNum(l.RemainingDay)
	}
	if retryAfter > 0 {
		addNum(int64(retryAfter))
	}
	str := string(nums)
	vals := make([]string, 0, 7)
	set := func(key, v string) {
		vals = append(vals, v)
		k := len(vals)
		h[key] = vals[k-1 : k : k]
	}
	num := func(i int) string {
		from := 0
		if i > 0 {
			from = ends[i-1]
		}
		return str[from:ends[i]]
	}
	i := 0
	if length >= 0 {
		set(hContentLength, num(i))
		i++
	}
	if l.Known() {
		set(hLimitMinute, num(i))
		set(hRemainingMinute, num(i+1))
		set(hLimitDay, num(i+2))
		set(hRemainingDay, num(i+3))
		set(hTier, l.Tier)
		i += 4
	}
	if retryAfter > 0 {
		set(hRetryAfter, num(i))
	}
}

// appendError appends the error envelope: nested
// {"success":false,"error":{"code":"…","message":"…"}} or flat
// {"success":false,"error":"…","code":"…","retry_after":N} (retry_after on 429
// and 503 only).
func (s *Server) appendError(b []byte, resp *api.Response) []byte {
	if !s.flat {
		b = append(b, `{"success":false,"error":{"code":"`...)
		b = append(b, resp.Code.String()...)
		b = append(b, `","message":`...)
		b = appendString(b, resp.Message)
		return append(b, '}', '}')
	}
	b = append(b, `{"success":false,"error":`...)
	b = appendString(b, resp.Message)
	b = append(b, `,"code":"`...)
	b = append(b, resp.Code.String()...)
	b = append(b, '"')
	if resp.Code == api.RateLimitExceeded || resp.Code == api.ServiceUnavailable {
		b = appendIntMember(b, "retry_after", int64(resp.RetryAfter), false)
	}
	return append(b, '}')
}

// appendSuccess appends the 200 body of route.
func (s *Server) appendSuccess(b []byte, route api.Route, req *api.Request, inputs []api.Input, resp *api.Response) []byte {
	b = append(b, successPrefix...)
	switch {
	case route.Batch():
		b = appendBatch(b, req, inputs, resp)
	case route.Compresses():
		ctx := ""
		if len(inputs) > 0 {
			ctx = inputs[0].Context
		}
		b = appendResult(b, ctx, resp.Tokens, resp.CompressedTokens, req.Ratio, durationMS(resp))
	case route == api.RouteModels:
		return append(b[:0], s.modelsBody...)
	case route == api.RouteRateLimits:
		b = s.appendRateLimits(b, resp)
	default: // RouteHealth
		b = append(b, `{"status":"ok","circuit":"`...)
		b = append(b, s.model.Circuit(s.clock.Now()).String()...)
		b = append(b, '"', '}')
	}
	return append(b, '}')
}

// durationMS is the modelled latency in milliseconds, to the microsecond.
func durationMS(resp *api.Response) float64 {
	return math.Round(float64(resp.Latency)/1e3) / 1e3
}

// appendResult appends one compression result object.
func appendResult(b []byte, ctx string, tokens, compressed int64, target, ms float64) []byte {
	actual := 0.0
	if tokens > 0 {
		actual = float64(compressed) / float64(tokens)
	}
	b = appendStringMember(append(b, '{'), "original_context", ctx, true)
	b = appendStringMember(b, "compressed_context", prefix(ctx, compressed*4), false)
	b = appendIntMember(b, "original_tokens", tokens, false)
	b = appendIntMember(b, "compressed_tokens", compressed, false)
	b = appendFloatMember(b, "target_compression_ratio", target, false)
	b = appendFloatMember(b, "actual_compression_ratio", actual, false)
	b = appendIntMember(b, "tokens_saved", tokens-compressed, false)
	b = appendFloatMember(b, "duration_ms", ms, false)
	return append(b, '}')
}

// appendBatch appends the data object of a batch: one result per input and
// the totals. average_compression_ratio is the mean of the results' actual
// ratios.
func appendBatch(b []byte, req *api.Request, inputs []api.Input, resp *api.Response) []byte {
	ms := durationMS(resp)
	var tokens, compressed int64
	var sumRatio float64
	b = append(b, `{"results":[`...)
	for i, in := range inputs {
		if i > 0 {
			b = append(b, ',')
		}
		t := api.Tokens(in)
		c := api.Compress(t, req.Ratio)
		b = appendResult(b, in.Context, t, c, req.Ratio, ms)
		tokens += t
		compressed += c
		if t > 0 {
			sumRatio += float64(c) / float64(t)
		}
	}
	b = append(b, ']')
	avg := 0.0
	if len(inputs) > 0 {
		avg = sumRatio / float64(len(inputs))
	}
	b = appendIntMember(b, "total_original_tokens", tokens, false)
	b = appendIntMember(b, "total_compressed_tokens", compressed, false)
	b = appendIntMember(b, "total_tokens_saved", tokens-compressed, false)
	b = appendFloatMember(b, "average_compression_ratio", avg, false)
	b = appendIntMember(b, "count", int64(len(inputs)), false)
	return append(b, '}')
}

// prefix returns the first n bytes of s, cut back to a UTF-8 boundary; all of
// s if it is shorter.
func prefix(s string, n int64) string {
	if n >= int64(len(s)) {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := int(n)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// appendRateLimits appends the data of /api/profile/rate-limits: the key's
// tier, the tier's limits (-1 = unlimited) and what is left in the current
// windows after this request.
func (s *Server) appendRateLimits(b []byte, resp *api.Response) []byte {
	l := resp.Limits
	b = appendStringMember(append(b, '{'), "tier", l.Tier, true)
	b = appendKey(b, "limits", false)
	if lim, ok := s.tierLimits[l.Tier]; ok {
		b = append(b, lim...)
	} else {
		b = appendIntMember(append(b, '{'), "requests_per_minute", l.LimitMinute, true)
		b = appendIntMember(b, "requests_per_day", l.LimitDay, false)
		b = append(b, '}')
	}
	b = appendKey(b, "remaining", false)
	b = appendIntMember(append(b, '{'), "requests_per_minute", l.RemainingMinute, true)
	b = appendIntMember(b, "requests_per_day", l.RemainingDay, false)
	return append(b, '}', '}')
}

// modelsBody is the whole /api/compress/models response: every model with its
// min_tier, sorted by name.
func modelsBody(cfg api.Resolved) []byte {
	b := append([]byte(successPrefix), `{"models":[`...)
	for i, m := range cfg.ModelList() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStringMember(append(b, '{'), "name", m.Name, true)
		b = appendStringMember(b, "min_tier", m.MinTier, false)
		b = append(b, '}')
	}
	return append(b, ']', '}', '}')
}

// tierLimits pre-encodes each tier's limits object.
func tierLimits(cfg api.Resolved) map[string][]byte {
	m := make(map[string][]byte, len(cfg.Tiers))
	for name, t := range cfg.Tiers {
		b := appendIntMember([]byte{'{'}, "requests_per_minute", t.RequestsPerMinute, true)
		b = appendIntMember(b, "tokens_per_minute", t.TokensPerMinute, false)
		b = appendIntMember(b, "requests_per_day", t.RequestsPerDay, false)
		b = appendIntMember(b, "tokens_per_day", t.TokensPerDay, false)
		m[name] = append(b, '}')
	}
	return m
}
