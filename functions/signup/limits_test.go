package main

import (
	"testing"

	"github.com/tidings-dev/tidings/functions/apicontract"
)

// The limits this function enforces are the ones the API contract declares.
func TestLimitsAreTheContracts(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "Email", Keyword: "maxLength", Value: maxEmailLen},
		apicontract.Declared{Schema: "Password", Keyword: "minLength", Value: minPasswordLen},
		apicontract.Declared{Schema: "Password", Keyword: "maxLength", Value: maxPasswordLen},
		apicontract.Declared{Schema: "Name", Keyword: "maxLength", Value: maxNameLen},
	); err != nil {
		t.Fatal(err)
	}
}
