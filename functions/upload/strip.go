package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/tidings-dev/tidings/functions/problem"
)

// strip re-encodes an uploaded picture without its metadata (picture.go),
// or answers the client and reports false. Decoding waits for its share of
// decodeBudget, so parallel uploads of large pictures take turns instead of
// exhausting the container's memory.
func (f *Function) strip(w http.ResponseWriter, r *http.Request, data []byte, contentType string) (picture, bool) {
	ctx := r.Context()
	p, err := inspect(data, contentType)
	if err == nil {
		if err = f.decoding.Acquire(ctx, p.cost); err != nil {
			// The client went away while waiting.
			problem.Unavailable(w, "Too many pictures are being processed; try again.")
			return picture{}, false
		}
		var pic picture
		pic, err = f.decode(ctx, data, p)
		if err == nil {
			return pic, true
		}
	}
	var big *tooLarge
	var bad *unreadable
	switch {
	case errors.As(err, &big):
		problem.Write(w, http.StatusUnprocessableEntity, "picture-too-large", "Picture too large", big.detail,
			problem.FieldError{Field: "file", Detail: big.field})
	case errors.As(err, &bad) && bad.unsupported:
		problem.Write(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported picture type",
			fmt.Sprintf("This kind of %s cannot be read: %v.", bad.kind, bad.err),
			problem.FieldError{Field: "file", Detail: "is a " + bad.kind + " variant that cannot be read"})
	case errors.As(err, &bad):
		problem.Invalid(w, problem.FieldError{Field: "file", Detail: "is not a complete " + bad.kind + " picture (truncated or corrupt)"})
	default:
		f.log.ErrorContext(ctx, "re-encode picture", "type", contentType, "err", err)
		problem.Internal(w)
	}
	return picture{}, false
}

// decode runs reencode on the share of the budget strip acquired, and gives
// it back however reencode ends. A decoder that panics on a crafted file has
// a bug, logged with its stack; for the client the file is unreadable.
func (f *Function) decode(ctx context.Context, data []byte, p plan) (pic picture, err error) {
	defer f.decoding.Release(p.cost)
	defer func() {
		if v := recover(); v != nil {
			f.log.ErrorContext(ctx, "picture decoder panicked", "type", p.contentType, "panic", v, "stack", string(debug.Stack()))
			err = &unreadable{kind: kinds[p.contentType], err: fmt.Errorf("decoder failed: %v", v)}
		}
	}()
	return reencode(data, p)
}
