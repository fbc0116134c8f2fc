package events

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"unicode/utf8"
)

// EmailRule is the one definition of a valid email address in Tidings:
// $defs/email in schemas/defs.v1.json, which the user.signedup schema uses.
// Signup checks addresses with ValidEmail, which reads the same definition,
// and the web form reads a copy of it (web/src/auth/email-rule.json, kept
// equal by a test). An address is valid when it has at most MaxLength
// characters (Unicode code points) and matches every pattern.
type EmailRule struct {
	MaxLength int      `json:"maxLength"`
	Patterns  []string `json:"patterns"`
}

// Email returns the rule as the schema states it.
func Email() EmailRule { r, _ := emailRule(); return r.rule }

type compiledEmail struct {
	rule     EmailRule
	patterns []*regexp.Regexp
}

var emailRule = sync.OnceValues(func() (compiledEmail, error) {
	raw, err := schemaFiles.ReadFile("schemas/" + defsSchema)
	if err != nil {
		return compiledEmail{}, err
	}
	var doc struct {
		Defs struct {
			Email struct {
				MaxLength int `json:"maxLength"`
				AllOf     []struct {
					Pattern string `json:"pattern"`
				} `json:"allOf"`
			} `json:"email"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return compiledEmail{}, fmt.Errorf("%s: %w", defsSchema, err)
	}
	c := compiledEmail{rule: EmailRule{MaxLength: doc.Defs.Email.MaxLength}}
	for _, p := range doc.Defs.Email.AllOf {
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return compiledEmail{}, fmt.Errorf("%s email pattern: %w", defsSchema, err)
		}
		c.rule.Patterns = append(c.rule.Patterns, p.Pattern)
		c.patterns = append(c.patterns, re)
	}
	if c.rule.MaxLength == 0 || len(c.patterns) == 0 {
		return compiledEmail{}, fmt.Errorf("%s: $defs/email has no maxLength or patterns", defsSchema)
	}
	return c, nil
})

// ValidEmail reports whether s is an email address the contract accepts,
// exactly as the JSON Schema decides it: the caller trims spaces first.
func ValidEmail(s string) bool {
	c, err := emailRule()
	if err != nil {
		panic(err) // the embedded schema is broken: a build bug
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > c.rule.MaxLength {
		return false
	}
	for _, re := range c.patterns {
		if !re.MatchString(s) {
			return false
		}
	}
	return true
}
