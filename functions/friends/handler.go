package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/functions/problem"
)

// person is how the API shows another user.
type person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// refusal is an expected "no" from a transaction: it rolls the transaction
// back and becomes a problem response.
type refusal struct {
	status int
	detail string
	field  string        // the input field at fault, if any
	retry  time.Duration // for 429: when to try again
}

func (r *refusal) Error() string { return r.detail }

func notFound(detail string) *refusal { return &refusal{status: http.StatusNotFound, detail: detail} }

func (r *refusal) write(w http.ResponseWriter) {
	var fields []problem.FieldError
	if r.field != "" {
		fields = append(fields, problem.FieldError{Field: r.field, Detail: r.detail})
	}
	switch r.status {
	case http.StatusBadRequest:
		problem.Invalid(w, fields...)
	case http.StatusConflict:
		problem.Conflict(w, r.detail, fields...)
	case http.StatusTooManyRequests:
		problem.TooMany(w, r.retry, r.detail)
	default:
		problem.NotFound(w, r.detail)
	}
}

// finish answers an error from a transaction: a refusal as its problem,
// anything else as a logged 500.
func (f *Function) finish(w http.ResponseWriter, r *http.Request, what string, err error) {
	var ref *refusal
	if errors.As(err, &ref) {
		ref.write(w)
		return
	}
	f.log.ErrorContext(r.Context(), what, "err", err)
	problem.Internal(w)
}
