package server

import "net/http"

// noSniff marks every response as exactly the type it says it is, so a
// browser never sniffs a JSON answer or an uploaded picture into HTML or
// script (OWASP HTTP headers guidance). Serve wraps every function in it.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
