package page

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecode feeds Decode whatever a client could put in ?cursor=. It must
// never panic, and a cursor it accepts must name a canonical UUID (it goes
// straight into a query on a uuid column) and survive its own re-encoding,
// so the next page starts where this one said. The seed corpus is
// testdata/fuzz/FuzzDecode; plain `go test` runs it.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Decode(s)
		if err != nil {
			if err != ErrMalformed {
				t.Fatalf("Decode(%q) = %v, want ErrMalformed", s, err)
			}
			return
		}
		if u, err := uuid.Parse(c.ID); err != nil || u.String() != c.ID || strings.ContainsAny(c.ID, "|{}") {
			t.Fatalf("Decode(%q) accepted id %q", s, c.ID)
		}
		if y := c.CreatedAt.UTC().Year(); y < 0 || y > 9999 {
			return // outside RFC 3339 years: no list holds such a row, and Encode cannot write it
		}
		again, err := Decode(Encode(c.CreatedAt, c.ID))
		if err != nil || !again.CreatedAt.Equal(c.CreatedAt) || again.ID != c.ID {
			t.Fatalf("Decode(%q) = %+v, but its re-encoding gives %+v, %v", s, c, again, err)
		}
	})
}
