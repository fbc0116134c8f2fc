// Package ids reads the ids clients send, in paths and bodies.
package ids

import "github.com/google/uuid"

// Parse canonicalises an id: ok is false for anything that is not a UUID in
// its 36-character form (uuid.Parse also takes braces, a urn: prefix or no
// hyphens), which the API treats like an unknown id.
func Parse(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", false
	}
	return u.String(), true
}
