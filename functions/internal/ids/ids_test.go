package ids

import "testing"

func TestParse(t *testing.T) {
	const id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	for in, want := range map[string]string{
		id:                                     id,
		"6BA7B810-9DAD-11D1-80B4-00C04FD430C8": id,
	} {
		if got, ok := Parse(in); !ok || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "42", "{" + id + "}", "urn:uuid:" + id, "6ba7b8109dad11d180b400c04fd430c8", id + " "} {
		if got, ok := Parse(in); ok {
			t.Errorf("Parse(%q) = %q, true; want refused", in, got)
		}
	}
}
