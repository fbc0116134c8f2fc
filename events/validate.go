package events

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

// MaxDataBytes bounds an event payload. Events carry ids and short strings,
// never files; anything larger is a producer bug.
const MaxDataBytes = 64 << 10

// InvalidError says why an event breaks the contract. A consumer that gets
// one must not retry: the event goes to the dead-letter topic with Reason.
type InvalidError struct {
	Type   string
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Type == "" {
		return "invalid event: " + e.Reason
	}
	return fmt.Sprintf("invalid %s event: %s", e.Type, e.Reason)
}

// IsInvalid reports whether err (or anything it wraps) is an *InvalidError.
func IsInvalid(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv)
}

var compiled = sync.OnceValues(compileSchemas)

// defsSchema holds the field shapes the payload schemas refer to.
const defsSchema = "defs.v1.json"

func compileSchemas() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "format" is only an annotation unless asked
	add := func(file string) error {
		raw, err := schemaFiles.ReadFile("schemas/" + file)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("schema %s: %w", file, err)
		}
		return c.AddResource(SchemaBase+file, doc)
	}
	if err := add(defsSchema); err != nil {
		return nil, err
	}
	out := make(map[string]*jsonschema.Schema, len(specs))
	for typ, s := range specs {
		if err := add(s.Schema); err != nil {
			return nil, fmt.Errorf("schema for %s: %w", typ, err)
		}
		sch, err := c.Compile(s.SchemaURI())
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", s.Schema, err)
		}
		out[typ] = sch
	}
	return out, nil
}

// Schema returns the raw JSON Schema of an event type.
func Schema(eventType string) ([]byte, error) {
	s, ok := specs[eventType]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", eventType)
	}
	return schemaFiles.ReadFile("schemas/" + s.Schema)
}

// Validate checks an event against the contract: CloudEvents 1.0 required
// attributes free of control characters (CheckAttributes), a known type, a
// partition key, the type's dataschema if one is named, and a JSON payload
// within the size limit that matches the type's JSON Schema. The error says
// what is wrong.
func Validate(e event.Event) error {
	if err := CheckAttributes(e); err != nil {
		return err
	}
	spec, ok := specs[e.Type()]
	if !ok {
		return &InvalidError{Reason: fmt.Sprintf("unknown type %q", e.Type())}
	}
	if key, _ := e.Extensions()[PartitionKeyExtension].(string); key == "" {
		return &InvalidError{Type: e.Type(), Reason: "missing partitionkey extension"}
	}
	if ds := e.DataSchema(); ds != "" && ds != spec.SchemaURI() {
		return &InvalidError{Type: e.Type(), Reason: fmt.Sprintf("dataschema must be %s, got %q", spec.SchemaURI(), ds)}
	}
	if ct := e.DataContentType(); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &InvalidError{Type: e.Type(), Reason: fmt.Sprintf("datacontenttype must be application/json, got %q", ct)}
	}
	data := e.Data()
	if len(data) == 0 {
		return &InvalidError{Type: e.Type(), Reason: "missing data"}
	}
	if len(data) > MaxDataBytes {
		return &InvalidError{Type: e.Type(), Reason: fmt.Sprintf("data is %d bytes, limit is %d", len(data), MaxDataBytes)}
	}
	if !utf8.Valid(data) { // JSON decoders would turn bad bytes into U+FFFD unseen
		return &InvalidError{Type: e.Type(), Reason: "data is not valid UTF-8"}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return &InvalidError{Type: e.Type(), Reason: "data is not JSON: " + err.Error()}
	}
	schemas, err := compiled()
	if err != nil {
		return fmt.Errorf("event schemas: %w", err) // a build bug, not a bad event
	}
	if err := schemas[spec.Type].Validate(doc); err != nil {
		return &InvalidError{Type: e.Type(), Reason: schemaReason(err)}
	}
	return nil
}

var english = message.NewPrinter(language.English)

// schemaReason flattens a schema error into one line that names the field.
func schemaReason(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var parts []string
	var walk func(v *jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) == 0 {
			loc := "/" + strings.Join(v.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("%s: %s", loc, v.ErrorKind.LocalizedString(english)))
			return
		}
		for _, c := range v.Causes {
			walk(c)
		}
	}
	walk(ve)
	return "schema: " + strings.Join(parts, "; ")
}
