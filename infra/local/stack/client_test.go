package stack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/apicontract"
)

// browser is a person using the API through the gateway: a cookie jar and
// the CSRF header the web app sends. Every response it gets is checked
// against the API contract (functions/apicontract/openapi.yaml).
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	contract := apicontract.Checking(nil, func(err error) { t.Error(err) })
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: contract}}
}

func (b *browser) do(method, path, body string) (int, map[string]any) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, b.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "tidings")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

type mailMessage struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	To      []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// mailsTo lists the subjects of captured mail to addr, via the catcher's
// Mailpit-shaped API.
func mailsTo(t *testing.T, mailURL, addr string) []string {
	t.Helper()
	res, err := http.Get(mailURL + "/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Messages []mailMessage `json:"messages"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range body.Messages {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, addr) {
				subjects = append(subjects, m.Subject)
			}
		}
	}
	return subjects
}

// send runs a prepared request with the browser's cookies and CSRF header.
func (b *browser) send(req *http.Request) (int, []byte, http.Header) {
	b.t.Helper()
	req.Header.Set("X-Requested-With", "tidings")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw, res.Header
}
