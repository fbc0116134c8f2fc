package mailcatcher

import (
	"strings"
	"testing"
)

func TestParseLatin1AndSnippetFromHTML(t *testing.T) {
	raw := "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Gr=FC=DFe &amp; hallo</p>\r\n"
	m, err := parseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Grüße" || m.HTML != "<p>Grüße &amp; hallo</p>\r\n" || m.Text != "" {
		t.Fatalf("subject %q html %q text %q", m.Subject, m.HTML, m.Text)
	}
	if got := m.Snippet(); got != "Grüße & hallo" {
		t.Fatalf("snippet = %q", got)
	}
}

func TestParseKeepsUnparsableMailAsText(t *testing.T) {
	m, err := parseMessage([]byte("this is not a header block"))
	if err == nil {
		t.Fatal("want a parse error")
	}
	if !strings.Contains(m.Text, "not a header") {
		t.Fatalf("raw text not kept: %q", m.Text)
	}
}

func TestParseRejectsMultipartWithoutBoundary(t *testing.T) {
	_, err := parseMessage([]byte("Content-Type: multipart/mixed\r\n\r\nbody\r\n"))
	if err == nil || !strings.Contains(err.Error(), "boundary") {
		t.Fatalf("want a boundary error, got %v", err)
	}
}

func TestSnippetIsShortened(t *testing.T) {
	m := Message{Text: strings.Repeat("word ", 200)}
	if s := m.Snippet(); len([]rune(s)) != 251 || !strings.HasSuffix(s, "…") {
		t.Fatalf("snippet has %d runes: %q", len([]rune(s)), s)
	}
}
