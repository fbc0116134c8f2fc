package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/problem"
)

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Limits on account fields; the web app shows the same ones. The email
// address follows the event contract's rule (events.ValidEmail).
const (
	maxNameLen = 80
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
	switch err := password.Check(req.Password); {
	case req.Password == "":
		errs = append(errs, problem.FieldError{Field: "password", Detail: "is required"})
	case err != nil:
		errs = append(errs, problem.FieldError{Field: "password", Detail: err.Error()})
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
