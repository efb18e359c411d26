package backoff

import (
	"math"
	"testing"
	"time"

	"github.com/loadsim/loadsim/sim"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		raw    string
		want   time.Duration
		status sim.RetryAfterStatus
	}{
		{"", 0, sim.RetryAfterNone},                                              // absent
		{"7", 7 * time.Second, sim.RetryAfterValid},                              // delay-seconds
		{" 7\t", 7 * time.Second, sim.RetryAfterValid},                           // optional whitespace
		{"0", 0, sim.RetryAfterValid},                                            // retry at once
		{"-1", 0, sim.RetryAfterInvalid},                                         // negative
		{"1.5", 0, sim.RetryAfterInvalid},                                        // not 1*DIGIT
		{"soon", 0, sim.RetryAfterInvalid},                                       // garbage
		{"   ", 0, sim.RetryAfterInvalid},                                        // blank
		{"7200", time.Hour, sim.RetryAfterClamped},                               // above max
		{"99999999999999999999999", time.Hour, sim.RetryAfterClamped},            // overflow
		{"Wed, 21 Oct 2015 07:28:30 GMT", 30 * time.Second, sim.RetryAfterValid}, // IMF-fixdate
		{"Wednesday, 21-Oct-15 07:29:00 GMT", time.Minute, sim.RetryAfterValid},  // RFC 850
		{"Wed Oct 21 07:28:10 2015", 10 * time.Second, sim.RetryAfterValid},      // asctime
		{"Wed, 21 Oct 2015 07:00:00 GMT", 0, sim.RetryAfterValid},                // in the past
		{"Thu, 22 Oct 2015 07:28:00 GMT", time.Hour, sim.RetryAfterClamped},      // a day ahead
		{"Wed, 21 Oct 2015 07:28:30", 0, sim.RetryAfterInvalid},                  // no zone
	}
	for _, tt := range tests {
		got, st := ParseRetryAfter(tt.raw, now, time.Hour)
		if got != tt.want || st != tt.status {
			t.Errorf("ParseRetryAfter(%q, now, 1h) = %s, %s; want %s, %s", tt.raw, got, st, tt.want, tt.status)
		}
	}
	if got, st := ParseRetryAfter("99999999999999999999", now, 0); got != math.MaxInt64 || st != sim.RetryAfterClamped {
		t.Errorf("ParseRetryAfter(huge, now, 0) = %s, %s; want max duration, clamped", got, st)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		secs   int
		want   time.Duration
		status sim.RetryAfterStatus
	}{
		{0, 0, sim.RetryAfterNone},                  // no header
		{-3, 0, sim.RetryAfterNone},                 // never sent by the model
		{30, 30 * time.Second, sim.RetryAfterValid}, // in range
		{3600, time.Hour, sim.RetryAfterValid},      // at the clamp
		{86400, time.Hour, sim.RetryAfterClamped},   // a per-day window
	}
	for _, tt := range tests {
		got, st := RetryAfterSeconds(tt.secs, time.Hour)
		if got != tt.want || st != tt.status {
			t.Errorf("RetryAfterSeconds(%d, 1h) = %s, %s; want %s, %s", tt.secs, got, st, tt.want, tt.status)
		}
	}
}

func TestParseRetryAfterAllocs(t *testing.T) {
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { ParseRetryAfter("120", now, time.Hour) }); n != 0 {
		t.Errorf("ParseRetryAfter(\"120\") allocates %v times; want 0", n)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "7", "-1", "1.5", " 30 ", "Wed, 21 Oct 2015 07:28:00 GMT",
		"Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015", "99999999999999999999", "\x00"} {
		f.Add(s, int64(1445412480), int64(3600))
	}
	f.Fuzz(func(t *testing.T, raw string, unix int64, maxSecs int64) {
		now := time.Unix(unix%(1<<40), 0)
		maxD := time.Duration(maxSecs%(1<<30)) * time.Second
		d, st := ParseRetryAfter(raw, now, maxD)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %s < 0", raw, d)
		}
		if maxD > 0 && d > maxD {
			t.Fatalf("ParseRetryAfter(%q, max %s) = %s above max", raw, maxD, d)
		}
		if (st == sim.RetryAfterNone) != (raw == "") {
			t.Fatalf("ParseRetryAfter(%q) status %s", raw, st)
		}
		if (st == sim.RetryAfterInvalid || st == sim.RetryAfterNone) && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %s with status %s", raw, d, st)
		}
	})
}
