package main

import (
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// precompressed lists the encodings the build writes next to each text file
// (web/vite.config.ts: name.br, name.gz), best first.
var precompressed = []struct{ token, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// openEncoded opens the best precompressed variant of name that the request
// accepts, or name itself (encoding ""). Every answer for a file that has
// variants varies by Accept-Encoding, so caches keep them apart.
func openEncoded(files fs.FS, name string, r *http.Request, h http.Header) (f fs.File, encoding string, err error) {
	accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
	varies := false
	for _, e := range precompressed {
		v, err := files.Open(name + e.suffix)
		if err != nil {
			continue
		}
		if !varies {
			h.Add("Vary", "Accept-Encoding")
			varies = true
		}
		if accepted[e.token] {
			return v, e.token, nil
		}
		v.Close()
	}
	f, err = files.Open(name)
	return f, "", err
}

// acceptedEncodings reads an Accept-Encoding header: the codings named with
// a weight above zero (RFC 9110 section 12.5.3).
func acceptedEncodings(header string) map[string]bool {
	out := map[string]bool{}
	for part := range strings.SplitSeq(header, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		token = strings.ToLower(strings.TrimSpace(token))
		if token == "" {
			continue
		}
		if w, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q="); ok {
			if q, err := strconv.ParseFloat(w, 64); err != nil || q <= 0 {
				continue
			}
		}
		out[token] = true
	}
	return out
}
