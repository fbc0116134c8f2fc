package password

import (
	"fmt"
	"strings"
	"testing"
)

// Verify never panics, whatever is stored: parameters outside the bounds
// come back ErrMalformed before argon2 runs, and only a hash of this
// package's shape can ever match.
func FuzzVerify(f *testing.F) {
	good, _ := Hash("x")
	for _, s := range []string{
		good,
		"",
		"$argon2id$v=19$m=0,t=0,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=8,t=1,p=1,x$$",
		"$2a$10$abcdefghijklmnopqrstuv",
	} {
		f.Add(s, "x")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, hash, plain string) {
		if costly(hash) {
			t.Skip("within bounds but slow to hash: not what this fuzzes")
		}
		ok, err := Verify(hash, plain)
		if err != nil && ok {
			t.Fatalf("ok with an error: %v", err)
		}
		if ok && !strings.HasPrefix(hash, "$argon2id$v=19$") {
			t.Fatalf("accepted %q", hash)
		}
	})
}

// costly reports a hash whose parameters pass the bounds but would take
// argon2 long: the bounds themselves are checked before any hashing.
func costly(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) < 4 {
		return false
	}
	var m, passes uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d", &m, &passes); err != nil {
		return false
	}
	return m <= maxMemoryKiB && passes <= maxPasses && m*passes > 4096
}
