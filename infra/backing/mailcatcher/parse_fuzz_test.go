package mailcatcher

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzParseMessage feeds the parser whatever an SMTP client could send. It
// must never panic or hang, must keep the raw bytes as they came, and must
// hand the web page and API valid UTF-8 bodies and a bounded snippet. The
// seed corpus is testdata/fuzz/FuzzParseMessage; plain `go test` runs it.
func FuzzParseMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, _ := parseMessage(raw) // an error is fine: the mail is still kept
		if !bytes.Equal(m.Raw, raw) || m.Size != len(raw) {
			t.Fatalf("raw bytes not kept: size %d of %d", m.Size, len(raw))
		}
		if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
			t.Fatalf("bodies are not valid UTF-8: text %q html %q", m.Text, m.HTML)
		}
		if n := utf8.RuneCountInString(m.Snippet()); n > 251 {
			t.Fatalf("snippet of %d runes", n)
		}
	})
}
