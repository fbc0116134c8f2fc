package mailcatcher

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Address is a mailbox as the Mailpit API shows it.
type Address struct {
	Name    string
	Address string
}

// Message is one captured mail: envelope, decoded headers and bodies, and
// the raw source.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Cc        []Address
	Subject   string
	Date      time.Time // the Date header (zero if absent or unparsable)
	Created   time.Time // when we received it
	Text      string
	HTML      string
	Size      int

	EnvelopeFrom string
	EnvelopeTo   []string
	Raw          []byte
}

// Snippet is the start of the text body with whitespace collapsed, for lists.
func (m *Message) Snippet() string {
	body := m.Text
	if strings.TrimSpace(body) == "" {
		body = stripTags(m.HTML)
	}
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) > 250 {
		s = string([]rune(s)[:250]) + "…"
	}
	return s
}

var wordDecoder = mime.WordDecoder{CharsetReader: charsetReader}

// parseMessage fills a Message from raw RFC 5322 bytes. A message we cannot
// parse is still kept (a catcher must show what it got): its raw text
// becomes the text body.
func parseMessage(raw []byte) (Message, error) {
	m := Message{Raw: raw, Size: len(raw)}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = toUTF8(raw, "")
		return m, fmt.Errorf("parse headers: %w", err)
	}
	h := msg.Header
	m.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	if subj, err := wordDecoder.DecodeHeader(h.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = h.Get("Subject")
	}
	if from := parseAddresses(h, "From"); len(from) > 0 {
		m.From = from[0]
	}
	m.To = parseAddresses(h, "To")
	m.Cc = parseAddresses(h, "Cc")
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	if err := m.readBody(h, msg.Body, 0); err != nil {
		return m, fmt.Errorf("parse body: %w", err)
	}
	return m, nil
}

func parseAddresses(h mail.Header, key string) []Address {
	if h.Get(key) == "" {
		return nil
	}
	parser := mail.AddressParser{WordDecoder: &wordDecoder}
	list, err := parser.ParseList(h.Get(key))
	if err != nil {
		// Keep what the header says rather than dropping the recipient.
		return []Address{{Address: strings.TrimSpace(h.Get(key))}}
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		out = append(out, Address{Name: a.Name, Address: a.Address})
	}
	return out
}

// partHeader is the subset of MIME headers we act on.
type partHeader interface{ Get(string) string }

// readBody walks one MIME entity, keeping the first text/plain and the first
// text/html that are not attachments. depth guards against hostile nesting.
func (m *Message) readBody(h partHeader, body io.Reader, depth int) error {
	if depth > 20 {
		return fmt.Errorf("MIME nesting deeper than 20")
	}
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%s without boundary", mediaType)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			part, err := mr.NextRawPart() // raw: we decode transfer encodings ourselves, all of them alike
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readBody(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	if disp, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); disp == "attachment" {
		return nil
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	decoded, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decode %s body: %w", mediaType, err)
	}
	text := toUTF8(decoded, params["charset"])
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	default: // 7bit, 8bit, binary
		return r
	}
}

// newlineStripper drops CR and LF so the base64 decoder sees one long line.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// toUTF8 converts the charsets mail from our own code and common clients
// uses. Anything else is passed through with invalid bytes replaced.
func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(b, charset)), nil
}

// stripTags is a rough HTML-to-text for snippets only; bodies are never
// rendered from it.
func stripTags(s string) string {
	var out strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			out.WriteRune(' ')
		case r == '>':
			in = false
		case !in:
			out.WriteRune(r)
		}
	}
	return html.UnescapeString(out.String())
}
