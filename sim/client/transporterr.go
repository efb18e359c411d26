package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/loadsim/loadsim/sim"
)

// Transport error codes: the error code an attempt that got no response
// records (sim.Attempt.Code, with Status 0), so that summaries count
// transport errors by cause (attempts.by_code) as vegeta's error set lists
// them. The prefix keeps them apart from the API's error.code values.
const (
	CodeTimeout           = sim.TimeoutCode                // the per-attempt timeout (or a dial or I/O deadline) passed
	CodeCanceled          = "transport_canceled"           // the request's context ended: the run stopped, or its drain passed
	CodeConnectionRefused = "transport_connection_refused" // nothing listens at the target
	CodeConnectionReset   = "transport_connection_reset"   // the peer reset the connection, or it broke mid-write
	CodeEOF               = "transport_eof"                // the connection closed before a whole response
	CodeDNS               = "transport_dns"                // the target's host did not resolve
	CodeTLS               = "transport_tls"                // the TLS handshake or the certificate failed
	CodeBodyTooLarge      = "transport_body_too_large"     // the response body was longer than WithMaxBody's limit
	CodeOther             = "transport_other"              // anything else (e.g. the run's cap on attempts refusing one)
)

// errBodyTooLarge is wrapped by the error of a response body longer than
// the transport's limit.
var errBodyTooLarge = errors.New("response body too large")

// transportCode classifies err, the error of an attempt that got no
// response: timedOut when its own timeout passed, canceled when the
// request's context ended.
func transportCode(err error, timedOut, canceled bool) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var netErr net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		return CodeBodyTooLarge
	case timedOut:
		return CodeTimeout
	case canceled:
		return CodeCanceled
	case errors.Is(err, syscall.ECONNREFUSED):
		return CodeConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return CodeConnectionReset
	case errors.As(err, &dnsErr):
		return CodeDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &authErr),
		errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return CodeTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return CodeEOF
	case errors.As(err, &netErr) && netErr.Timeout():
		return CodeTimeout
	}
	return CodeOther
}
