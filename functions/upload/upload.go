package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// Upload limits.
const (
	maxFileSize = 10 << 20
	// maxFormOverhead allows for the multipart framing and small extra
	// fields around the file.
	maxFormOverhead = 64 << 10
)

type uploaded struct {
	ID  string `json:"id"`
	Src string `json:"src"`
}

// src is the URL a picture is served from.
func src(id string) string { return "/api/files/" + id }

var errTooBig = errors.New("file too big")

func (f *Function) upload(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		problem.Write(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the picture as multipart/form-data with a field named file.")
		return
	}
	// The size is measured on the bytes as they arrive; Content-Length is
	// the client's claim and may be absent or wrong.
	body := http.MaxBytesReader(w, r.Body, maxFileSize+maxFormOverhead)
	data, err := readFilePart(multipart.NewReader(body, params["boundary"]))
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errTooBig) || errors.As(err, &tooBig):
		problem.Write(w, http.StatusRequestEntityTooLarge, "too-large", "File too large",
			fmt.Sprintf("A picture may be at most %d MiB.", maxFileSize>>20), problem.FieldError{Field: "file", Detail: "must be at most 10 MiB"})
		return
	case errors.Is(err, io.EOF):
		problem.Invalid(w, problem.FieldError{Field: "file", Detail: "is required"})
		return
	case err != nil:
		problem.Write(w, http.StatusBadRequest, "malformed-multipart", "Malformed upload", "The multipart body could not be read.")
		return
	case len(data) == 0:
		problem.Invalid(w, problem.FieldError{Field: "file", Detail: "is empty"})
		return
	}
	contentType := sniff(data)
	if contentType == "" {
		problem.Write(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported picture type",
			"A picture must be PNG, JPEG, GIF or WebP.", problem.FieldError{Field: "file", Detail: "must be a PNG, JPEG, GIF or WebP image"})
		return
	}

	ctx, owner := r.Context(), session.UserID(r.Context())
	pic, ok := f.strip(w, r, data, contentType)
	if !ok {
		return
	}
	// A cheap look before the bytes go to the bucket; record checks again
	// under the owner's lock. The quota counts what is stored.
	switch err := f.fits(ctx, f.pool, owner, len(pic.data)); {
	case errors.Is(err, errOverQuota):
		f.overQuota(w)
		return
	case err != nil:
		f.log.ErrorContext(ctx, "upload quota", "err", err)
		problem.Internal(w)
		return
	}
	// The object name is ours, never the client's file name.
	key := "pictures/" + uuid.NewString()
	if err := f.store.Put(ctx, key, pic.contentType, pic.data); err != nil {
		f.log.ErrorContext(ctx, "store picture", "err", err)
		problem.Unavailable(w, "Picture storage is unavailable right now.")
		return
	}
	id, err := f.record(ctx, owner, key, pic.contentType, len(pic.data))
	if err != nil {
		// Nothing points at the object; do not leave it behind.
		if err := f.store.Delete(ctx, key); err != nil {
			f.log.WarnContext(ctx, "orphaned picture object", "key", key, "err", err)
		}
		if errors.Is(err, errOverQuota) {
			f.overQuota(w)
			return
		}
		f.log.ErrorContext(ctx, "record picture", "err", err)
		problem.Internal(w)
		return
	}
	w.Header().Set("Location", src(id))
	jsonbody.Write(w, http.StatusCreated, uploaded{ID: id, Src: src(id)})
}

// readFilePart returns the bytes of the form field "file", skipping other
// fields. io.EOF means there is none; errTooBig that it exceeds maxFileSize.
func readFilePart(mr *multipart.Reader) ([]byte, error) {
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, err
			}
			continue
		}
		var buf bytes.Buffer
		n, err := buf.ReadFrom(io.LimitReader(part, maxFileSize+1))
		if err != nil {
			return nil, err
		}
		if n > maxFileSize {
			return nil, errTooBig
		}
		return buf.Bytes(), nil
	}
}
