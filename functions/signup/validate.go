package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/problem"
)

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Limits on account fields; the web app shows the same ones. The email
// address follows the event contract's rule (events.ValidEmail).
const (
	minPasswordLen = 8
	maxPasswordLen = 128 // argon2 is slow on purpose; do not hash megabytes
	maxNameLen     = 80
)

// validate normalises req in place and returns every invalid field.
func (req *signupRequest) validate() []problem.FieldError {
	var errs []problem.FieldError
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Email == "":
		errs = append(errs, problem.FieldError{Field: "email", Detail: "is required"})
	case utf8.RuneCountInString(req.Email) > events.Email().MaxLength:
		errs = append(errs, problem.FieldError{Field: "email", Detail: fmt.Sprintf("must be at most %d characters", events.Email().MaxLength)})
	case !events.ValidEmail(req.Email):
		errs = append(errs, problem.FieldError{Field: "email", Detail: "must be a valid email address"})
	}
	switch n := utf8.RuneCountInString(req.Password); {
	case n == 0:
		errs = append(errs, problem.FieldError{Field: "password", Detail: "is required"})
	case n < minPasswordLen:
		errs = append(errs, problem.FieldError{Field: "password", Detail: "must be at least 8 characters"})
	case n > maxPasswordLen:
		errs = append(errs, problem.FieldError{Field: "password", Detail: "must be at most 128 characters"})
	}
	switch n := utf8.RuneCountInString(req.Name); {
	case n == 0:
		errs = append(errs, problem.FieldError{Field: "name", Detail: "is required"})
	case n > maxNameLen:
		errs = append(errs, problem.FieldError{Field: "name", Detail: "must be at most 80 characters"})
	case strings.IndexFunc(req.Name, unicode.IsControl) >= 0:
		errs = append(errs, problem.FieldError{Field: "name", Detail: "must not contain control characters"})
	}
	return errs
}
