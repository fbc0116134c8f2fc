package main

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/internal/problem"
)

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Limits on account fields; the web app shows the same ones.
const (
	maxEmailLen = 254 // RFC 5321 path limit
	maxNameLen  = 80
)

// validate normalises req in place and returns every invalid field.
func (req *signupRequest) validate() []problem.FieldError {
	var errs []problem.FieldError
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Email == "":
		errs = append(errs, problem.FieldError{Field: "email", Detail: "is required"})
	case len(req.Email) > maxEmailLen:
		errs = append(errs, problem.FieldError{Field: "email", Detail: "must be at most 254 characters"})
	case !validEmail(req.Email):
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

// validEmail accepts a bare addr-spec with a dotted domain: what a person
// types, not a display name or a local-only address.
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}
