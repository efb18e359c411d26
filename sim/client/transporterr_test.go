package client

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/loadsim/loadsim/sim/backoff"
)

func TestTransportCode(t *testing.T) {
	t.Parallel()
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	for _, tc := range []struct {
		name               string
		err                error
		timedOut, canceled bool
		want               string
	}{
		{"own timeout", context.DeadlineExceeded, true, false, CodeTimeout},                               // the attempt's timeout passed
		{"run stopped", context.Canceled, false, true, CodeCanceled},                                      // the request's context ended
		{"refused", opErr(syscall.ECONNREFUSED), false, false, CodeConnectionRefused},                     // nothing listens
		{"reset", opErr(syscall.ECONNRESET), false, false, CodeConnectionReset},                           // reset by peer
		{"broken pipe", opErr(syscall.EPIPE), false, false, CodeConnectionReset},                          // broken mid-write
		{"dns", &net.DNSError{Err: "no such host", Name: "x.invalid"}, false, false, CodeDNS},             // unresolved host
		{"tls", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), false, false, CodeTLS},               // untrusted certificate
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), false, false, CodeEOF},                       // closed mid-response
		{"body", fmt.Errorf("long: %w", errBodyTooLarge), true, false, CodeBodyTooLarge},                  // too large, whatever else
		{"net timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, false, false, CodeTimeout}, // a deadline of the transport
		{"other", errors.New("attempt cap reached"), false, false, CodeOther},                             // anything else
	} {
		if got := transportCode(tc.err, tc.timedOut, tc.canceled); got != tc.want {
			t.Errorf("%s: transportCode(%v, timedOut %v, canceled %v) = %q; want %q", tc.name, tc.err, tc.timedOut, tc.canceled, got, tc.want)
		}
	}
}

// TestTransportErrorRecorded: an attempt to a loopback port where nothing
// listens records its cause as its code.
func TestTransportErrorRecorded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	rec := &recorder{}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	one := 1
	c := New(tr, fastPolicy(t, backoff.Config{MaxAttempts: &one}), WithRecorder(rec))
	if resp, err := c.RoundTrip(post(t, context.Background(), url, validBody, "")); err == nil {
		resp.Body.Close()
		t.Fatalf("RoundTrip to a closed port succeeded")
	}
	if len(rec.attempts) != 1 || rec.attempts[0].Status != 0 || rec.attempts[0].Code != CodeConnectionRefused {
		t.Errorf("attempts = %+v; want one with status 0 and code %s", rec.attempts, CodeConnectionRefused)
	}
}
