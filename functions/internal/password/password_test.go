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
