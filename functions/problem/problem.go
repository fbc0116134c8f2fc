// Package problem writes RFC 9457 problem details: every error a client sees
// is JSON that says what went wrong and, for bad input, which field. It is the
// one writer of that shape: the functions use it, and so do the web server and
// the local stack's gateway and serving (another module, which is why it is not
// under internal/), so a client sees one kind of error whoever failed.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// FieldError names one invalid input field.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Details is an RFC 9457 problem document.
type Details struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

const typeBase = "https://tidings.dev/problems/"

// Write sends a problem with the given status; slug names its type.
func Write(w http.ResponseWriter, status int, slug, title, detail string, fields ...FieldError) {
	send(w, Details{Type: typeBase + slug, Title: title, Status: status, Detail: detail, Errors: fields})
}

// Platform sends the problem the platform answers with when no function did
// (no route, a stopped or failed service, a timeout): RFC 9457's "about:blank"
// type, whose title is the status's own text.
func Platform(w http.ResponseWriter, status int, detail string) {
	send(w, Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

func send(w http.ResponseWriter, d Details) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// Invalid answers 400 with the invalid fields.
func Invalid(w http.ResponseWriter, fields ...FieldError) {
	detail := "Check the highlighted fields."
	if len(fields) == 1 {
		detail = fields[0].Field + " " + fields[0].Detail
	}
	Write(w, http.StatusBadRequest, "validation", "Invalid input", detail, fields...)
}

// Unauthorized answers 401.
func Unauthorized(w http.ResponseWriter, detail string) {
	Write(w, http.StatusUnauthorized, "unauthorized", "Not logged in", detail)
}

// Forbidden answers 403.
func Forbidden(w http.ResponseWriter, detail string) {
	Write(w, http.StatusForbidden, "forbidden", "Forbidden", detail)
}

// NotFound answers 404.
func NotFound(w http.ResponseWriter, detail string) {
	Write(w, http.StatusNotFound, "not-found", "Not found", detail)
}

// Conflict answers 409.
func Conflict(w http.ResponseWriter, detail string, fields ...FieldError) {
	Write(w, http.StatusConflict, "conflict", "Conflict", detail, fields...)
}

// TooMany answers 429 with Retry-After.
func TooMany(w http.ResponseWriter, retryAfter time.Duration, detail string) {
	secs := int(retryAfter.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	Write(w, http.StatusTooManyRequests, "rate-limited", "Too many attempts", detail)
}

// Internal answers 500 without leaking the cause; the caller logs it.
func Internal(w http.ResponseWriter) {
	Write(w, http.StatusInternalServerError, "internal", "Something went wrong", "Please try again.")
}

// Unavailable answers 503: a backing service is down, try again later.
func Unavailable(w http.ResponseWriter, detail string) {
	w.Header().Set("Retry-After", "2")
	Write(w, http.StatusServiceUnavailable, "unavailable", "Service unavailable", detail)
}
