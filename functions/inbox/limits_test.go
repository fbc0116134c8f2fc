package main

import (
	"testing"

	"github.com/tidings-dev/tidings/functions/apicontract"
)

// The limits the inbox enforces are the ones the API contract declares.
func TestLimitsAreTheContracts(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "MarkReadIds", Keyword: "minItems", Value: 1},
		apicontract.Declared{Schema: "MarkReadIds", Keyword: "maxItems", Value: MaxReadIDs},
	); err != nil {
		t.Fatal(err)
	}
}
