package main

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

var tracer = otel.Tracer("github.com/tidings-dev/tidings/functions/welcome")

// mailer speaks plain SMTP to one server, with a deadline on the whole
// conversation (net/smtp alone would wait forever on a stuck server).
type mailer struct {
	addr    string
	from    string
	timeout time.Duration
}

type message struct {
	To, Subject, MessageID, Body string
}

func (m message) bytes(from string) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", "Tidings <"+from+">")
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))) //nolint:errcheck
	qp.Close()
	return b.Bytes()
}

// send delivers msg in one SMTP conversation, traced as one client span.
func (m *mailer) send(ctx context.Context, msg message) (err error) {
	host, portText, _ := net.SplitHostPort(m.addr)
	port, _ := strconv.Atoi(portText)
	ctx, span := tracer.Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.ServerAddress(host), semconv.ServerPort(port), attribute.String("tidings.mail.message_id", msg.MessageID)))
	defer func() { telemetry.RecordError(span, err); span.End() }()
	if strings.ContainsAny(msg.To, "\r\n") {
		return fmt.Errorf("recipient contains a line break")
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline) //nolint:errcheck
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { return c.Mail(m.from) },
		func() error { return c.Rcpt(msg.To) },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write(msg.bytes(m.from)); err != nil {
				return err
			}
			return w.Close()
		},
		c.Quit,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("smtp %s: %w", m.addr, err)
		}
	}
	return nil
}
