// Package mailcatcher is the local stack's SMTP sink: it accepts every mail
// sent to it over SMTP (go-smtp), keeps it in memory and in a JSON-lines
// file, and shows it on a web page and through a JSON API shaped like
// Mailpit's (GET /api/v1/messages, GET /api/v1/message/{ID},
// DELETE /api/v1/messages), so tools and tests written for Mailpit work.
package mailcatcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/emersion/go-smtp"
)

// DefaultMaxMessageBytes is the largest message accepted; bigger ones get
// an SMTP 552.
const DefaultMaxMessageBytes = 10 << 20

// Config says where to listen and where to keep mail.
type Config struct {
	SMTPAddr        string // default 127.0.0.1:1025
	HTTPAddr        string // default 127.0.0.1:8025
	DataDir         string // empty: memory only
	MaxMessageBytes int64  // default DefaultMaxMessageBytes
}

// Catcher is a running mail catcher.
type Catcher struct {
	store    *store
	maxBytes int64
	smtpSrv  *smtp.Server
	httpSrv  *http.Server
	smtpLn   net.Listener
	httpLn   net.Listener
}

// Start listens on both addresses (ctx bounds only that) and serves until
// Close. Messages stored in cfg.DataDir by an earlier run are loaded first.
func Start(ctx context.Context, cfg Config) (*Catcher, error) {
	if cfg.SMTPAddr == "" {
		cfg.SMTPAddr = "127.0.0.1:1025"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:8025"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mailcatcher: %w", err)
	}
	var lc net.ListenConfig
	smtpLn, err := lc.Listen(ctx, "tcp", cfg.SMTPAddr)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("mailcatcher: listen for SMTP on %s: %w", cfg.SMTPAddr, err)
	}
	httpLn, err := lc.Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		smtpLn.Close()
		st.close()
		return nil, fmt.Errorf("mailcatcher: listen for HTTP on %s: %w", cfg.HTTPAddr, err)
	}

	c := &Catcher{store: st, maxBytes: cfg.MaxMessageBytes, smtpLn: smtpLn, httpLn: httpLn}
	c.smtpSrv = smtp.NewServer(backend{c})
	c.smtpSrv.Domain = "mailcatcher.tidings.local"
	c.smtpSrv.MaxMessageBytes = cfg.MaxMessageBytes
	c.smtpSrv.MaxRecipients = 100
	c.smtpSrv.AllowInsecureAuth = true // loopback only, and any credentials pass anyway
	c.smtpSrv.ReadTimeout = time.Minute
	c.smtpSrv.WriteTimeout = time.Minute
	c.httpSrv = &http.Server{Handler: c.routes(), ReadHeaderTimeout: 10 * time.Second}

	go func() { _ = c.smtpSrv.Serve(smtpLn) }()
	go func() {
		if err := c.httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("mailcatcher: HTTP server stopped", "err", err)
		}
	}()
	return c, nil
}

// SMTPAddr is the host:port to send mail to.
func (c *Catcher) SMTPAddr() string { return c.smtpLn.Addr().String() }

// HTTPURL is the base URL of the web page and API.
func (c *Catcher) HTTPURL() string { return "http://" + c.httpLn.Addr().String() }

// Messages returns the captured messages, newest first.
func (c *Catcher) Messages() []Message {
	msgs, _ := c.store.newestFirst()
	return msgs
}

// WaitFor blocks until a captured message satisfies match (checking those
// already there first) or ctx ends.
func (c *Catcher) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	for {
		msgs, changed := c.store.newestFirst()
		for _, m := range msgs {
			if match(m) {
				return m, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("mailcatcher: no matching message among %d: %w", len(msgs), ctx.Err())
		}
	}
}

// Close stops both servers and closes the store file.
func (c *Catcher) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errSMTP := c.smtpSrv.Close()
	errHTTP := c.httpSrv.Shutdown(ctx)
	errStore := c.store.close()
	if errors.Is(errSMTP, smtp.ErrServerClosed) {
		errSMTP = nil
	}
	return errors.Join(errSMTP, errHTTP, errStore)
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
