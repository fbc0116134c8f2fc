package main

import (
	"testing"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/apicontract"
	"github.com/tidings-dev/tidings/functions/internal/password"
)

// The limits this function enforces are the ones the API contract declares;
// the email's is the event contract's rule (events/schemas/defs.v1.json).
func TestLimitsAreTheContracts(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "Email", Keyword: "maxLength", Value: int64(events.Email().MaxLength)},
		apicontract.Declared{Schema: "Password", Keyword: "minLength", Value: password.MinLength},
		apicontract.Declared{Schema: "Password", Keyword: "maxLength", Value: password.MaxLength},
		apicontract.Declared{Schema: "Name", Keyword: "maxLength", Value: maxNameLen},
	); err != nil {
		t.Fatal(err)
	}
}
