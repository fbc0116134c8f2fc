package site

import (
	"slices"
	"testing"
)

func TestParseAndAllows(t *testing.T) {
	s, err := Parse("https://Tidings.Example:443/", " http://localhost:8080 ,https://tidings.example")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Secure() {
		t.Fatal("https public URL is not Secure")
	}
	if got := s.Origins(); !slices.Equal(got, []string{"https://tidings.example", "http://localhost:8080"}) {
		t.Fatalf("origins %v", got)
	}
	for _, o := range []string{"https://tidings.example", "HTTPS://TIDINGS.EXAMPLE", "https://tidings.example:443", "http://localhost:8080"} {
		if !s.Allows(o) {
			t.Errorf("%q refused", o)
		}
	}
	for _, o := range []string{"", "null", "http://tidings.example", "https://evil.example", "https://tidings.example.evil.example",
		"http://localhost:3000", "https://tidings.example/path", "javascript:alert(1)", "https://user@tidings.example"} {
		if s.Allows(o) {
			t.Errorf("%q allowed", o)
		}
	}
	local, err := Parse("http://localhost:8080", "")
	if err != nil || local.Secure() || !local.Allows("http://localhost:8080") {
		t.Fatalf("local site: %+v %v", local, err)
	}
}

func TestParseRefusesWhatIsNotAnOrigin(t *testing.T) {
	for _, c := range [][2]string{
		{"", ""}, {"localhost:8080", ""}, {"ftp://x", ""}, {"http://", ""}, {"http://x?q=1", ""},
		{"http://localhost:8080", "https://a.example/app"}, {"http://localhost:8080", "a.example"},
	} {
		if _, err := Parse(c[0], c[1]); err == nil {
			t.Errorf("Parse(%q, %q) accepted", c[0], c[1])
		}
	}
}
