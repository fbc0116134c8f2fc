package topology

import (
	"errors"
	"fmt"
)

// FieldError is one problem in one manifest: which file, which object and which
// field. Load and Check return these, joined with errors.Join; use Problems to get
// them back as a list.
type FieldError struct {
	File  string // base name, e.g. "sources.yaml"
	Line  int    // first line of the YAML document holding the object (1-based), 0 if unknown
	Kind  string // e.g. "KafkaSource"; empty when the kind itself is the problem
	Name  string // metadata.name, or "#<n>" (document number) when there is none
	Field string // dotted path, e.g. "spec.delivery.backoffDelay"
	Msg   string
}

func (e *FieldError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	obj := e.Name
	if e.Kind != "" {
		obj = e.Kind + " " + e.Name
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %s: %s", where, obj, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s: %s", where, obj, e.Field, e.Msg)
}

// Problems flattens an error returned by Load, LoadRoute, Check or CheckRoute
// into its FieldErrors. Errors of other types are skipped.
func Problems(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

// origin records where an object came from, for error messages.
type origin struct {
	file string
	line int
	kind string
	name string
}

func (o origin) errorf(field, format string, args ...any) *FieldError {
	return &FieldError{File: o.file, Line: o.line, Kind: o.kind, Name: o.name, Field: field, Msg: fmt.Sprintf(format, args...)}
}
