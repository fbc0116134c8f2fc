package apicontract

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// The rules the document's description states for every operation hold for
// each one, so a new route cannot leave out the answers every route can give.
func TestEveryOperationListsTheAnswersEveryRouteCanGive(t *testing.T) {
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range c.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			n++
			name := method + " " + path
			has := func(code string) bool { return op.Responses.Codes.GetOrZero(code) != nil }
			for _, code := range []string{"500", "502", "503", "504"} {
				if !has(code) {
					t.Errorf("%s does not list the platform's %s", name, code)
				}
			}
			if len(op.Security) > 0 && !has("401") {
				t.Errorf("%s needs a session but does not list 401", name)
			}
			unsafe := !slices.Contains([]string{http.MethodGet, http.MethodHead, http.MethodOptions}, strings.ToUpper(method))
			if unsafe {
				csrf := slices.ContainsFunc(op.Parameters, func(p *v3.Parameter) bool { return p.In == "header" && p.Name == "X-Requested-With" })
				if !csrf || !has("403") {
					t.Errorf("%s is unsafe: it must take the X-Requested-With header and list 403", name)
				}
			}
			if op.OperationId == "" || len(op.Tags) != 1 {
				t.Errorf("%s needs an operationId and the one tag of the function that serves it", name)
			}
		}
	}
	if n < 18 {
		t.Fatalf("only %d operations in the document", n)
	}
}
