package events

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// CheckAttributes checks what every CloudEvent must satisfy before anything
// reads it, whatever its type: specversion 1.0, the required attributes, and
// no control character (U+0000-U+001F, U+007F-U+009F) or invalid UTF-8 in
// any context attribute or extension. The CloudEvents type system forbids
// those characters in String values (cloudevents/spec, cloudevents/spec.md,
// "Type System"), and they break transports: a CR or LF cannot travel in a
// ce-* HTTP header, so an event carrying one could never be delivered or
// dead-lettered. An ingress calls this before it accepts an event;
// Validate calls it first.
func CheckAttributes(e event.Event) error {
	if e.SpecVersion() != event.CloudEventsVersionV1 {
		return &InvalidError{Type: printable(e.Type()), Reason: fmt.Sprintf("specversion must be 1.0, got %q", e.SpecVersion())}
	}
	if err := e.Validate(); err != nil {
		return &InvalidError{Type: printable(e.Type()), Reason: strings.TrimSpace(err.Error())}
	}
	check := func(name, v string) error {
		if i := badCharAt(v); i >= 0 {
			return &InvalidError{Type: printable(e.Type()), Reason: fmt.Sprintf("attribute %s has a control character or invalid UTF-8 at byte %d: %q", name, i, v)}
		}
		return nil
	}
	attrs := [][2]string{
		{"id", e.ID()}, {"source", e.Source()}, {"type", e.Type()}, {"subject", e.Subject()},
		{"datacontenttype", e.DataContentType()}, {"dataschema", e.DataSchema()},
	}
	for name, v := range e.Extensions() {
		s, err := types.Format(v)
		if err != nil {
			return &InvalidError{Type: printable(e.Type()), Reason: fmt.Sprintf("extension %s: %v", name, err)}
		}
		attrs = append(attrs, [2]string{name, s})
	}
	for _, a := range attrs {
		if err := check(a[0], a[1]); err != nil {
			return err
		}
	}
	return nil
}

// badCharAt is the byte offset of the first control character or invalid
// UTF-8 in s, or -1.
func badCharAt(s string) int {
	for i, r := range s {
		if unicode.Is(unicode.Cc, r) {
			return i
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 { // not a real U+FFFD
				return i
			}
		}
	}
	return -1
}

// printable is s quoted when it holds characters that must not reach a log
// line or an error message as they are.
func printable(s string) string {
	if badCharAt(s) < 0 {
		return s
	}
	return fmt.Sprintf("%q", s)
}
