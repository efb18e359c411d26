package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loadsim/loadsim/sim/api"
)

// TraceRow is one arrival of a trace file.
type TraceRow struct {
	At       time.Duration // t divided by the speed factor
	Tenant   string        // "" = every tenant replaying the trace
	Endpoint api.Route     // 0 (api.RouteUnknown) = drawn from the mix
	Tokens   int64         // tokens per input; 0 = drawn from the mix
}

// Apply overrides a request drawn from the mix with the row's endpoint and
// tokens, when given. A single request turned into a batch gets 1 input; a
// batch turned into a single request, 0.
func (r TraceRow) Apply(req Request) Request {
	if r.Endpoint != api.RouteUnknown {
		req.Endpoint = r.Endpoint
		switch {
		case !r.Endpoint.Batch():
			req.Items = 0
		case req.Items == 0:
			req.Items = 1
		}
	}
	if r.Tokens > 0 {
		req.Tokens = r.Tokens
	}
	return req
}

// maxTraceRows bounds a trace file (about 1.6 GB of CSV).
const maxTraceRows = 100_000_000

// ParseTrace reads a trace CSV: a header naming the column t (seconds since
// the start, a float ≥ 0) and optionally tenant, endpoint (an endpoint name
// as in a mix) and tokens (an integer ≥ 1); empty cells take the mix's value.
// Rows must be sorted by t; lines starting with # are comments. Each time is
// divided by speed (> 0). Errors name the line and the column.
func ParseTrace(r io.Reader, speed float64) ([]TraceRow, error) {
	if !(speed > 0) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("speed must be > 0 (got %g)", speed)
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("line 1: empty trace; the first line is a header such as t,tenant,endpoint,tokens")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	columns := strings.Join(header, ",") // header is reused by the next Read
	col := map[string]int{"t": -1, "tenant": -1, "endpoint": -1, "tokens": -1}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		j, known := col[name]
		switch {
		case !known:
			return nil, fmt.Errorf("line 1: unknown column %q; columns are t, tenant, endpoint, tokens", h)
		case j >= 0:
			return nil, fmt.Errorf("line 1: column %q appears twice", name)
		}
		col[name] = i
	}
	if col["t"] < 0 {
		return nil, errors.New("line 1: no column t (seconds since the start); the header is e.g. t,tenant,endpoint,tokens")
	}
	var rows []TraceRow
	prev := 0.0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			cells := "cells"
			if len(rec) == 1 {
				cells = "cell"
			}
			return nil, fmt.Errorf("line %d: %d %s, but the header %q has %d; keep every column (an empty cell takes the mix's value)",
				pe.StartLine, len(rec), cells, columns, strings.Count(columns, ",")+1)
		}
		if err != nil {
			return nil, err // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if len(rows) >= maxTraceRows {
			return nil, fmt.Errorf("line %d: more than %d rows", line, maxTraceRows)
		}
		var row TraceRow
		cell := strings.TrimSpace(rec[col["t"]])
		t, err := strconv.ParseFloat(cell, 64)
		if err != nil || t < 0 || math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, fmt.Errorf("line %d: t: %q is not a number of seconds ≥ 0", line, cell)
		}
		if t < prev {
			return nil, fmt.Errorf("line %d: t: %g is before the previous row's %g; sort the rows by t", line, t, prev)
		}
		prev = t
		at, ok := fromSeconds(t / speed)
		if !ok {
			return nil, fmt.Errorf("line %d: t: %g seconds is too far", line, t)
		}
		row.At = at
		if i := col["tenant"]; i >= 0 {
			row.Tenant = strings.Clone(strings.TrimSpace(rec[i]))
		}
		if i := col["endpoint"]; i >= 0 {
			if e := strings.TrimSpace(rec[i]); e != "" {
				route, ok := ParseEndpoint(e)
				if !ok {
					return nil, fmt.Errorf("line %d: endpoint: unknown endpoint %q; use question-specific, question-specific/batch, question-agnostic or question-agnostic/batch", line, e)
				}
				row.Endpoint = route
			}
		}
		if i := col["tokens"]; i >= 0 {
			if s := strings.TrimSpace(rec[i]); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("line %d: tokens: %q is not an integer ≥ 1", line, s)
				}
				row.Tokens = n
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Trace replays recorded arrival times: hit k is due at row k's time. Build
// it with NewTrace; it is immutable and safe for concurrent use.
type Trace struct {
	file  string
	speed float64
	rows  []TraceRow
}

// NewTrace returns the trace of rows (sorted by At, as ParseTrace returns
// them), named file and replayed at speed for String.
func NewTrace(file string, speed float64, rows []TraceRow) Trace {
	return Trace{file: file, speed: speed, rows: rows}
}

// ForTenant returns the rows meant for tenant name: those with no tenant or
// with that tenant (the rows naming another tenant are that tenant's).
func (t Trace) ForTenant(name string) Trace {
	out := t
	out.rows = nil
	for _, r := range t.rows {
		if r.Tenant == "" || r.Tenant == name {
			out.rows = append(out.rows, r)
		}
	}
	return out
}

// Len returns the number of rows.
func (t Trace) Len() int { return len(t.rows) }

// Row returns row k (the row of hit k), false past the end.
func (t Trace) Row(k uint64) (TraceRow, bool) {
	if k >= uint64(len(t.rows)) {
		return TraceRow{}, false
	}
	return t.rows[k], true
}

// Due implements Profile.
func (t Trace) Due(k uint64) (time.Duration, bool) {
	if k >= uint64(len(t.rows)) {
		return 0, false
	}
	return t.rows[k].At, true
}

// Hits implements Profile: the rows before t.
func (t Trace) Hits(at time.Duration) float64 {
	return float64(sort.Search(len(t.rows), func(i int) bool { return t.rows[i].At >= at }))
}

// Rate implements vegeta.Pacer: rows in [t, t+1s), per second.
func (t Trace) Rate(at time.Duration) float64 { return t.Hits(at+time.Second) - t.Hits(at) }

// Pace implements vegeta.Pacer.
func (t Trace) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	d, ok := t.Due(hits)
	return pace(d, ok, elapsed)
}

// String returns "trace traffic.csv ×10 (1234 rows)".
func (t Trace) String() string {
	return fmt.Sprintf("trace %s ×%g (%d rows)", t.file, t.speed, len(t.rows))
}
