// Package problem writes the RFC 9457 problem documents the local stack's
// own HTTP surfaces (gateway, serving) answer with, the same error shape the
// functions use, so a client sees one kind of error whoever failed.
package problem

import (
	"encoding/json"
	"net/http"
)

// Write answers with a problem document for status, with detail.
func Write(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"detail": detail,
	})
}
