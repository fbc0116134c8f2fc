// Package password hashes passwords with argon2id, at the OWASP recommended
// minimum (19 MiB, 2 passes, 1 lane), in the PHC string format so the
// parameters can be raised later without breaking old hashes. It also owns
// the one rule for what a password may be, which signup and login share.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

// OWASP is the OWASP Password Storage Cheat Sheet minimum for argon2id.
var OWASP = Params{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

const saltLen, keyLen = 16, 32

var b64 = base64.RawStdEncoding

// Hash returns a PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$key.
func Hash(plain string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := OWASP
	key := argon2.IDKey([]byte(plain), salt, p.Passes, p.MemoryKiB, p.Lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Passes, p.Lanes, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// The length rule, in characters (Unicode code points, as a person counts
// them), for signup and login alike: a password signup accepts is one login
// accepts.
const (
	MinLength = 8
	MaxLength = 128 // argon2 is slow on purpose; do not hash megabytes
)

// Errors of Check.
var (
	ErrTooShort = fmt.Errorf("must be at least %d characters", MinLength)
	ErrTooLong  = fmt.Errorf("must be at most %d characters", MaxLength)
	ErrNotText  = errors.New("must be valid UTF-8 text")
)

// Check applies the rule; its errors read as a field's detail.
func Check(plain string) error {
	if !utf8.ValidString(plain) {
		return ErrNotText
	}
	switch n := utf8.RuneCountInString(plain); {
	case n < MinLength:
		return ErrTooShort
	case n > MaxLength:
		return ErrTooLong
	}
	return nil
}

// Bounds on the parameters Verify accepts from a stored hash. Outside them
// the hash is treated as corrupt: argon2 panics on zero passes or lanes, and
// allocates whatever memory m names, so a damaged or planted row must not
// reach it. They leave room to raise the cost well above OWASP.
const (
	maxMemoryKiB       = 256 * 1024
	maxPasses          = 16
	maxLanes           = 16
	minSalt, maxSalt   = 8, 64
	minKeyLen, maxKeyL = 16, 64
)

// ErrMalformed means a stored hash is not one this package wrote.
var ErrMalformed = errors.New("password: malformed hash")

// Verify reports whether plain matches the PHC hash, in constant time.
func Verify(hash, plain string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var p Params
	var rest string
	n, _ := fmt.Sscanf(parts[3]+"$", "m=%d,t=%d,p=%d%s", &p.MemoryKiB, &p.Passes, &p.Lanes, &rest)
	if n != 4 || rest != "$" || p.Passes < 1 || p.Passes > maxPasses || p.Lanes < 1 || p.Lanes > maxLanes ||
		p.MemoryKiB < 8*uint32(p.Lanes) || p.MemoryKiB > maxMemoryKiB {
		return false, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < minSalt || len(salt) > maxSalt || len(want) < minKeyLen || len(want) > maxKeyL {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(plain), salt, p.Passes, p.MemoryKiB, p.Lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
