package apicontract

import (
	"bytes"
	"io"
	"net/http"
)

// Checking wraps a client transport so that every response it carries is
// checked against the contract; report hears of each one that breaks it (a
// test's Errorf, say). The caller still gets the response as it came.
func Checking(next http.RoundTripper, report func(error)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return checking{next: next, report: report}
}

type checking struct {
	next   http.RoundTripper
	report func(error)
}

func (c checking) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	seen := *res
	if res.StatusCode == http.StatusSwitchingProtocols {
		// The body is the upgraded connection: only the status and headers
		// are the handshake's.
		seen.Body = http.NoBody
	} else {
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(raw))
		seen.Body = io.NopCloser(bytes.NewReader(raw))
	}
	if err := Check(req, &seen); err != nil {
		c.report(err)
	}
	return res, nil
}
