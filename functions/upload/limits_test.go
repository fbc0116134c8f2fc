package main

import (
	"testing"

	"github.com/tidings-dev/tidings/functions/apicontract"
)

// The limits this function enforces are the ones the API contract declares.
func TestLimitsAreTheContracts(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "Picture", Keyword: "maxLength", Value: maxFileSize},
	); err != nil {
		t.Fatal(err)
	}
}
