package mailcatcher

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// backend hands each SMTP connection a session that captures into the store.
type backend struct{ c *Catcher }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c    *Catcher
	from string
	to   []string
}

// Any credentials are accepted: clients configured for a real relay with
// AUTH PLAIN work unchanged against the catcher.
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > s.c.maxBytes {
		return smtp.ErrDataTooLarge
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		var smtpErr *smtp.SMTPError
		if errors.As(err, &smtpErr) {
			// The server's size limit: tell the client with a 552, not a 451.
			slog.Warn("mailcatcher: rejected message", "from", s.from, "to", s.to, "reason", smtpErr.Message)
			return smtpErr
		}
		return err
	}
	m, perr := parseMessage(buf.Bytes())
	if perr != nil {
		slog.Warn("mailcatcher: stored a message we could not fully parse", "err", perr)
	}
	m.ID = newID()
	m.Created = time.Now().UTC()
	m.EnvelopeFrom = s.from
	m.EnvelopeTo = append([]string(nil), s.to...)
	if len(m.To) == 0 {
		for _, rcpt := range s.to {
			m.To = append(m.To, Address{Address: rcpt})
		}
	}
	if m.From.Address == "" {
		m.From = Address{Address: s.from}
	}
	if err := s.c.store.add(m); err != nil {
		slog.Error("mailcatcher: store message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store message, try again"}
	}
	slog.Info("mailcatcher: captured", "id", m.ID, "from", m.From.Address, "to", s.to, "subject", m.Subject, "size", m.Size)
	return nil
}

func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

func (s *session) Logout() error { return nil }
