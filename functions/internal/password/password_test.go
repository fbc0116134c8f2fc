package password

import (
	"strings"
	"testing"
)

func TestHashVerifies(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not argon2id at the OWASP minimum: %s", h)
	}
	if ok, err := Verify(h, "correct horse"); err != nil || !ok {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := Verify(h, "correct horsf"); ok {
		t.Fatal("wrong password accepted")
	}
	other, _ := Hash("correct horse")
	if other == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	good, _ := Hash("x")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":       "",
		"bcrypt":      "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
		"old version": strings.Replace(good, "v=19", "v=16", 1),
		"bad params":  strings.Join([]string{"", parts[1], parts[2], "m=x,t=2,p=1", parts[4], parts[5]}, "$"),
		"bad salt":    strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"no key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], ""}, "$"),
	} {
		if ok, err := Verify(h, "x"); ok || err != ErrMalformed {
			t.Errorf("%s: ok=%v err=%v, want ErrMalformed", name, ok, err)
		}
	}
}

// Stored parameters outside the sane range are a corrupt hash, never a panic
// in argon2 nor an allocation of whatever m says.
func TestVerifyBoundsTheStoredParameters(t *testing.T) {
	good, _ := Hash("x")
	parts := strings.Split(good, "$")
	with := func(params string) string {
		return strings.Join([]string{"", parts[1], parts[2], params, parts[4], parts[5]}, "$")
	}
	for name, h := range map[string]string{
		"zero everything":   with("m=0,t=0,p=0"),
		"zero passes":       with("m=19456,t=0,p=1"),
		"zero lanes":        with("m=19456,t=2,p=0"),
		"huge memory":       with("m=4294967295,t=2,p=1"),
		"memory over bound": with("m=262145,t=2,p=1"),
		"memory below 8p":   with("m=7,t=1,p=1"),
		"many passes":       with("m=19456,t=4294967295,p=1"),
		"negative":          with("m=-1,t=2,p=1"),
		"trailing junk":     with("m=19456,t=2,p=1,x=3"),
		"lanes overflow":    with("m=19456,t=2,p=256"),
		"short salt":        strings.Join([]string{"", parts[1], parts[2], parts[3], "AAAA", parts[5]}, "$"),
		"short key":         strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			if ok, err := Verify(h, "x"); ok || err != ErrMalformed {
				t.Errorf("%s: ok=%v err=%v, want ErrMalformed", name, ok, err)
			}
		}()
	}
}

// One rule for signup and login, counted in characters: 70 × "é" is 140
// bytes but 70 characters, a valid password.
func TestCheckCountsCharacters(t *testing.T) {
	for plain, want := range map[string]error{
		strings.Repeat("é", 70):  nil,
		strings.Repeat("é", 128): nil,
		strings.Repeat("é", 129): ErrTooLong,
		strings.Repeat("x", 7):   ErrTooShort,
		"short\xff\xfe\xfdxx":    ErrNotText,
		strings.Repeat("😀", 8):   nil,
	} {
		if got := Check(plain); got != want {
			t.Errorf("%.12q: %v, want %v", plain, got, want)
		}
	}
}
