package jsonbody

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// badText finds the first top-level field of a JSON object whose value holds
// text that is not Unicode: bytes that are not UTF-8, or a \u escape of a
// lone surrogate. encoding/json would quietly turn either into U+FFFD, so
// the person's text would be stored changed. ok is false when body has no
// such field; field is "" when the fault is outside any field's value.
func badText(body []byte) (field string, found bool) {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", !validText(body)
	}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		if !validText(body[start:dec.InputOffset()]) {
			return "", true // the key itself: no field to name
		}
		start = dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if !validText(body[start:dec.InputOffset()]) {
			return key, true
		}
	}
	return "", !validText(body)
}

// validText reports whether raw JSON is UTF-8 with no lone surrogate escape.
// A backslash occurs in JSON only inside strings, so no tokenising is needed.
func validText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw, i+1)
		if !ok {
			continue // the decoder reports the syntax error
		}
		i += 4
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00: // high: a low must follow
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(raw, i+3)
			if !ok || utf16.DecodeRune(r, lo) == utf8.RuneError {
				return false
			}
			i += 6
		case utf16.IsSurrogate(r): // a low on its own
			return false
		}
	}
	return true
}

func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[at:at+4]), 16, 16)
	return rune(n), err == nil
}
