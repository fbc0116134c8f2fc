// Package jsonbody reads JSON request bodies and writes JSON responses. A bad
// body never reaches a handler: it is answered here with a problem that
// names what is wrong.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/tidings-dev/tidings/functions/problem"
)

// DefaultLimit bounds a JSON request body; our requests are small forms.
const DefaultLimit = 64 << 10

// Decode reads r's body into dst, strictly: text that is not valid UTF-8
// (or a lone surrogate escape) is refused with a 400 naming the field,
// never rewritten to U+FFFD. On failure it writes the problem response
// (400, 413 or 415) and returns false.
func Decode(w http.ResponseWriter, r *http.Request, dst any, limit int64) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			problem.Write(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")
			return false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeDecodeProblem(w, err, limit)
		return false
	}
	if field, bad := badText(body); bad {
		if field == "" {
			problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body is not valid UTF-8 text.")
		} else {
			problem.Invalid(w, problem.FieldError{Field: field, Detail: "must be valid UTF-8 text"})
		}
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		writeDecodeProblem(w, err, limit)
		return false
	}
	if dec.More() {
		problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body must hold exactly one JSON object.")
		return false
	}
	return true
}

func writeDecodeProblem(w http.ResponseWriter, err error, limit int64) {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		problem.Write(w, http.StatusRequestEntityTooLarge, "too-large", "Request too large", fmt.Sprintf("The body is limited to %d bytes.", limit))
	case errors.Is(err, io.EOF):
		problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body is not valid JSON.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body must be a JSON object.")
			return
		}
		problem.Invalid(w, problem.FieldError{Field: field, Detail: "must be a " + jsonKind(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		problem.Invalid(w, problem.FieldError{Field: field, Detail: "is not a known field"})
	default:
		problem.Write(w, http.StatusBadRequest, "malformed-json", "Malformed JSON", "The body could not be read as JSON.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	default:
		return "number"
	}
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
