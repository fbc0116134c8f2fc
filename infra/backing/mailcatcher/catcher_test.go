package mailcatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func startCatcher(t *testing.T, dataDir string) *Catcher {
	t.Helper()
	c, err := Start(context.Background(), Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *Catcher, from string, to []string, msg string) {
	t.Helper()
	if err := smtp.SendMail(c.SMTPAddr(), nil, from, to, []byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", url, ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

type apiList struct {
	Total    int `json:"total"`
	Count    int `json:"count"`
	Messages []struct {
		ID      string
		From    Address
		To      []Address
		Subject string
		Created time.Time
		Snippet string
		Size    int
	} `json:"messages"`
}

type apiMessage struct {
	ID      string
	From    Address
	To      []Address
	Subject string
	Date    time.Time
	Text    string
	HTML    string
}

const plainMail = `From: Tidings <welcome@tidings.local>
To: Ada Lovelace <ada@example.com>
Subject: Welcome to Tidings, Ada
Date: Mon, 02 Jan 2006 15:04:05 +0000
Message-ID: <abc123@tidings.local>
Content-Type: text/plain; charset=utf-8

Hello Ada,
glad you are here.
`

func TestPlainMailThroughSMTPAndAPI(t *testing.T) {
	c := startCatcher(t, "")
	send(t, c, "welcome@tidings.local", []string{"ada@example.com"}, plainMail)

	var list apiList
	if code := getJSON(t, c.HTTPURL()+"/api/v1/messages", &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	if list.Total != 1 || list.Count != 1 || len(list.Messages) != 1 {
		t.Fatalf("list = %+v", list)
	}
	s := list.Messages[0]
	if s.Subject != "Welcome to Tidings, Ada" || len(s.To) != 1 || s.To[0] != (Address{"Ada Lovelace", "ada@example.com"}) {
		t.Errorf("summary = %+v", s)
	}
	if s.From != (Address{"Tidings", "welcome@tidings.local"}) || s.Snippet != "Hello Ada, glad you are here." || s.Size == 0 || s.Created.IsZero() {
		t.Errorf("summary = %+v", s)
	}

	var m apiMessage
	if code := getJSON(t, c.HTTPURL()+"/api/v1/message/"+s.ID, &m); code != 200 {
		t.Fatalf("message: %d", code)
	}
	if m.Text != "Hello Ada,\r\nglad you are here.\r\n" || m.HTML != "" {
		t.Errorf("text = %q html = %q", m.Text, m.HTML)
	}
	if !m.Date.Equal(time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("date = %v", m.Date)
	}
	var latest apiMessage
	getJSON(t, c.HTTPURL()+"/api/v1/message/latest", &latest)
	if latest.ID != s.ID {
		t.Errorf("latest = %q, want %q", latest.ID, s.ID)
	}
	if code := getJSON(t, c.HTTPURL()+"/api/v1/message/nope", nil); code != http.StatusNotFound {
		t.Errorf("unknown id: %d, want 404", code)
	}
	if code := getJSON(t, c.HTTPURL()+"/api/v1/messages?limit=x", nil); code != http.StatusBadRequest {
		t.Errorf("bad limit: %d, want 400", code)
	}
}

const multipartMail = `From: welcome@tidings.local
To: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.com>, bob@example.com
Subject: =?utf-8?q?Willkommen_bei_Tidings,_J=C3=BCrgen?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hallo J=C3=BCrgen, this line is long enough that it needs a soft line brea=
k to stay short.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+SGFsbG8gPGI+SsO8cmdlbjwvYj48L3A+
--inner--
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attachment text, not the body
--outer--
`

func TestMultipartQuotedPrintableAndBase64(t *testing.T) {
	c := startCatcher(t, "")
	send(t, c, "welcome@tidings.local", []string{"jurgen@example.com", "bob@example.com"}, multipartMail)
	var m apiMessage
	if code := getJSON(t, c.HTTPURL()+"/api/v1/message/latest", &m); code != 200 {
		t.Fatalf("message: %d", code)
	}
	if m.Subject != "Willkommen bei Tidings, Jürgen" {
		t.Errorf("subject = %q", m.Subject)
	}
	if len(m.To) != 2 || m.To[0] != (Address{"Jürgen", "jurgen@example.com"}) || m.To[1].Address != "bob@example.com" {
		t.Errorf("to = %+v", m.To)
	}
	if m.Text != "Hallo Jürgen, this line is long enough that it needs a soft line break to stay short." {
		t.Errorf("text = %q", m.Text)
	}
	if m.HTML != "<p>Hallo <b>Jürgen</b></p>" {
		t.Errorf("html = %q", m.HTML)
	}
}

func TestNewestFirstAndDelete(t *testing.T) {
	c := startCatcher(t, "")
	for i := range 3 {
		send(t, c, "a@x.test", []string{"b@x.test"}, fmt.Sprintf("Subject: mail %d\n\nbody %d\n", i, i))
	}
	var list apiList
	getJSON(t, c.HTTPURL()+"/api/v1/messages", &list)
	if list.Total != 3 || list.Messages[0].Subject != "mail 2" || list.Messages[2].Subject != "mail 0" {
		t.Fatalf("order: %+v", list.Messages)
	}
	// A message without a To header shows its envelope recipient.
	if len(list.Messages[0].To) != 1 || list.Messages[0].To[0].Address != "b@x.test" {
		t.Errorf("to from envelope: %+v", list.Messages[0].To)
	}
	getJSON(t, c.HTTPURL()+"/api/v1/messages?start=1&limit=1", &list)
	if list.Total != 3 || list.Count != 1 || list.Messages[0].Subject != "mail 1" {
		t.Fatalf("paging: %+v", list)
	}

	del(t, c.HTTPURL()+"/api/v1/messages", `{"IDs":["`+c.Messages()[0].ID+`"]}`)
	if got := c.Messages(); len(got) != 2 || got[0].Subject != "mail 1" {
		t.Fatalf("after deleting one: %d messages", len(got))
	}
	del(t, c.HTTPURL()+"/api/v1/messages", "")
	getJSON(t, c.HTTPURL()+"/api/v1/messages", &list)
	if list.Total != 0 || list.Messages == nil {
		t.Fatalf("after delete all: %+v (messages must be [] not null)", list)
	}
}

func TestMessagesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c1, err := Start(context.Background(), Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	send(t, c1, "welcome@tidings.local", []string{"ada@example.com"}, plainMail)
	send(t, c1, "welcome@tidings.local", []string{"jurgen@example.com"}, multipartMail)
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := startCatcher(t, dir)
	got := c2.Messages()
	if len(got) != 2 || got[0].Subject != "Willkommen bei Tidings, Jürgen" || got[1].Text != "Hello Ada,\r\nglad you are here.\r\n" {
		t.Fatalf("after restart: %+v", got)
	}
	// Delete-all is persisted too.
	del(t, c2.HTTPURL()+"/api/v1/messages", "")
	send(t, c2, "a@x.test", []string{"b@x.test"}, "Subject: after clear\n\nx\n")
	c2.Close()
	c3 := startCatcher(t, dir)
	if got := c3.Messages(); len(got) != 1 || got[0].Subject != "after clear" {
		t.Fatalf("after clear and restart: %+v", got)
	}
}

func TestOversizeMessageRejectedWith552(t *testing.T) {
	c := startCatcher(t, "")
	big := "Subject: huge\n\n" + strings.Repeat(strings.Repeat("x", 998)+"\n", DefaultMaxMessageBytes/999+10)
	err := smtp.SendMail(c.SMTPAddr(), nil, "a@x.test", []string{"b@x.test"}, []byte(strings.ReplaceAll(big, "\n", "\r\n")))
	var tpErr *textproto.Error
	if !errors.As(err, &tpErr) || tpErr.Code != 552 {
		t.Fatalf("want SMTP 552, got %v", err)
	}
	if n := len(c.Messages()); n != 0 {
		t.Fatalf("oversize message was stored (%d messages)", n)
	}
	// The server is still fine for normal mail.
	send(t, c, "a@x.test", []string{"b@x.test"}, "Subject: small\n\nok\n")
	if n := len(c.Messages()); n != 1 {
		t.Fatalf("want 1 message after the small one, got %d", n)
	}
}

func TestWebPageEscapesMailContent(t *testing.T) {
	c := startCatcher(t, "")
	send(t, c, "evil@x.test", []string{"b@x.test"}, `From: "<img src=x onerror=alert(1)>" <evil@x.test>
To: b@x.test
Subject: <script>alert("subject")</script>
Content-Type: text/html

<script>alert("body")</script><p>hi</p>
`)
	for _, path := range []string{"/", "/view/" + c.Messages()[0].ID} {
		resp, err := http.Get(c.HTTPURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, "<img src=x") {
			t.Errorf("%s renders mail content as markup:\n%s", path, page)
		}
		if !strings.Contains(page, "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the escaped subject:\n%s", path, page)
		}
	}
}

func TestWaitForSeesLaterMail(t *testing.T) {
	c := startCatcher(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = smtp.SendMail(c.SMTPAddr(), nil, "a@x.test", []string{"late@x.test"}, []byte("Subject: late\r\n\r\nx\r\n"))
	}()
	m, err := c.WaitFor(ctx, func(m Message) bool { return m.Subject == "late" })
	if err != nil || m.EnvelopeTo[0] != "late@x.test" {
		t.Fatalf("WaitFor = %+v, %v", m, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := c.WaitFor(short, func(m Message) bool { return m.Subject == "never" }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor for a missing message: %v", err)
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Start(context.Background(), Config{SMTPAddr: ln.Addr().String(), HTTPAddr: "127.0.0.1:0"}); err == nil {
		t.Fatal("started SMTP on a busy port")
	}
	c, err := Start(context.Background(), Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: ln.Addr().String()})
	if err == nil {
		c.Close()
		t.Fatal("started HTTP on a busy port")
	}
}

func del(t *testing.T, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE %s: %d", url, resp.StatusCode)
	}
}
