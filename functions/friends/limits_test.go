package main

import (
	"testing"

	"github.com/tidings-dev/tidings/functions/apicontract"
)

// The limits this function enforces are the ones the API contract declares.
func TestLimitsAreTheContracts(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "SearchQuery", Keyword: "maxLength", Value: maxQueryLen},
		apicontract.Declared{Schema: "UserSearch.users", Keyword: "maxItems", Value: maxSearchHits},
		apicontract.Declared{Schema: "FriendRequests.incoming", Keyword: "maxItems", Value: maxListedRequests},
		apicontract.Declared{Schema: "FriendRequests.outgoing", Keyword: "maxItems", Value: maxListedRequests},
	); err != nil {
		t.Fatal(err)
	}
}
