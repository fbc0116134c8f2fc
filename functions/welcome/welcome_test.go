package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/infra/testenv"
)

type mailbox struct{ url string }

type captured struct {
	Messages []struct {
		ID      string `json:"ID"`
		Subject string `json:"Subject"`
		To      []struct {
			Address string `json:"Address"`
		} `json:"To"`
	} `json:"messages"`
}

func (m mailbox) to(t *testing.T, addr string) []string {
	t.Helper()
	res, err := http.Get(m.url + "/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c captured
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, msg := range c.Messages {
		for _, to := range msg.To {
			if to.Address == addr {
				subjects = append(subjects, msg.Subject)
			}
		}
	}
	return subjects
}

func setup(t *testing.T, smtpAddr string) (*app.App, http.Handler) {
	a := apptest.New(t, Name, Needs, "")
	t.Setenv("SMTP_ADDR", smtpAddr)
	f := apptest.Function(t, a, New)
	f.mailer.timeout = 3 * time.Second
	return a, f
}

// signedUp makes the user in a's database and returns the event signup
// emits for them.
func signedUp(t *testing.T, a *app.App, email, name string) cloudevents.Event {
	id := apptest.NewUser(t, a, name, email).ID
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, id, id,
		events.UserSignedUp{UserID: id, Email: email, Name: name, SignedUpAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestWelcomeEmailIsSentExactlyOnce(t *testing.T) {
	mail := testenv.Mail(t)
	a, h := setup(t, mail.SMTPAddr())
	box := mailbox{mail.HTTPURL()}
	e := signedUp(t, a, "dana@example.com", "Dana")
	for i := 0; i < 3; i++ { // the first delivery and two redeliveries
		if rec := apptest.Deliver(t, h, e); rec.Code != 200 {
			t.Fatalf("delivery %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	got := box.to(t, "dana@example.com")
	if len(got) != 1 || got[0] != "Welcome to Tidings, Dana" {
		t.Fatalf("mails to dana: %q", got)
	}
}

func TestSMTPDownIsRetryableAndRecordsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	a, h := setup(t, closed)
	rec := apptest.Deliver(t, h, signedUp(t, a, "eve@example.com", "Eve"))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 so the KafkaSource retries", rec.Code)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatal("a failed send was recorded as processed; a retry would skip the email")
	}
	// SMTP is back: the retry sends the mail.
	mail := testenv.Mail(t)
	a2, h2 := setup(t, mail.SMTPAddr())
	if rec := apptest.Deliver(t, h2, signedUp(t, a2, "eve@example.com", "Eve")); rec.Code != 200 {
		t.Fatalf("retry: %d", rec.Code)
	}
	if got := (mailbox{mail.HTTPURL()}).to(t, "eve@example.com"); len(got) != 1 {
		t.Fatalf("mails after SMTP came back: %q", got)
	}
}

func TestBadEventsAreRejectedAsNotRetryable(t *testing.T) {
	mail := testenv.Mail(t)
	a, h := setup(t, mail.SMTPAddr())
	good := signedUp(t, a, "fay@example.com", "Fay")

	noKey := good.Clone()
	noKey.SetExtension("partitionkey", nil)
	badSchema := good.Clone()
	_ = badSchema.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": "u", "email": "not-an-email", "name": "F", "signedUpAt": time.Now()})
	author := uuid.NewString()
	otherType, err := events.New("/tidings/post", events.TypePostCreated, author, author, events.PostCreated{PostID: uuid.NewString(), AuthorID: author, AuthorName: "A", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	for name, e := range map[string]cloudevents.Event{"no partition key": noKey, "schema": badSchema, "type it does not consume": otherType} {
		rec := apptest.Deliver(t, h, e)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, rec.Code)
		}
		if !strings.Contains(rec.Body.String(), "detail") {
			t.Errorf("%s: no reason in body %s", name, rec.Body)
		}
	}
	notCE := apptest.Serve(h, httptest.NewRequest("POST", "/", strings.NewReader(`{"hello":"world"}`)))
	if notCE.Code != http.StatusBadRequest {
		t.Errorf("non-CloudEvent: %d", notCE.Code)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatalf("rejected events were recorded: %d", n)
	}
	if got := (mailbox{mail.HTTPURL()}).to(t, "fay@example.com"); len(got) != 0 {
		t.Fatalf("a bad event sent mail: %q", got)
	}
}

func TestMailHeadersCannotBeInjected(t *testing.T) {
	msg := message{To: "a@b.co", Subject: "Welcome to Tidings, Zoë", MessageID: "<x@tidings.dev>", Body: "hi"}
	raw := string(msg.bytes("hello@tidings.dev"))
	if !strings.Contains(raw, "Subject: =?utf-8?q?") {
		t.Fatalf("non-ASCII subject not encoded:\n%s", raw)
	}
	m := &mailer{addr: "127.0.0.1:1", from: "hello@tidings.dev", timeout: time.Second}
	if err := m.send(context.Background(), message{To: "a@b.co\r\nBcc: x@y.z"}); err == nil {
		t.Fatal("a recipient with a line break was accepted")
	}
}

// A user.signedup is a claim: the mail goes to the user Postgres knows, at
// their current address and under their current name, once.
func TestForgedSignupsMailOnlyTheRealUserOnce(t *testing.T) {
	mail := testenv.Mail(t)
	a, h := setup(t, mail.SMTPAddr())
	box := mailbox{mail.HTTPURL()}
	gil := apptest.NewUser(t, a, "Gil", "gil@example.com").ID
	forged := func(id, email, name string) cloudevents.Event {
		e, err := events.New("/outside", events.TypeUserSignedUp, id, id,
			events.UserSignedUp{UserID: id, Email: email, Name: name, SignedUpAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	unknown := apptest.Deliver(t, h, forged(uuid.NewString(), "victim@example.com", "Buy pills at evil.example"))
	if unknown.Code != http.StatusBadRequest || !strings.Contains(unknown.Body.String(), "no user") {
		t.Fatalf("unknown user: %d %s, want 400 with the reason", unknown.Code, unknown.Body)
	}
	if rec := apptest.Deliver(t, h, forged(gil, "victim@example.com", "Buy pills at evil.example")); rec.Code != 200 {
		t.Fatalf("real user, false claims: %d %s", rec.Code, rec.Body)
	}
	if got := box.to(t, "victim@example.com"); len(got) != 0 {
		t.Fatalf("mail went to the claimed address: %q", got)
	}
	if got := box.to(t, "gil@example.com"); len(got) != 1 || got[0] != "Welcome to Tidings, Gil" {
		t.Fatalf("mails to gil: %q, want one under his own name", got)
	}
	// Another event for a user already welcomed mails nobody.
	if rec := apptest.Deliver(t, h, forged(gil, "gil@example.com", "Gil")); rec.Code != 200 {
		t.Fatalf("second signup event: %d %s", rec.Code, rec.Body)
	}
	if got := box.to(t, "gil@example.com"); len(got) != 1 {
		t.Fatalf("gil welcomed %d times", len(got))
	}
}
