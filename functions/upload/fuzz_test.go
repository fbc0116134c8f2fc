package main

import (
	"errors"
	"image"
	"slices"
	"testing"
)

// FuzzStrip feeds the decode path anything: it may refuse, never panic, and
// what it accepts comes out a picture of the planned size with no EXIF.
// Seeds: one picture of each kind, with and without metadata
// (go test -fuzz FuzzStrip ./functions/upload/).
func FuzzStrip(f *testing.F) {
	for _, seed := range [][]byte{
		pngBytes, jpegBytes, gif89,
		withSegments(encodeJPEG(quad(16, 8)), exifSegment(6)),
		withChunks(encodePNG(quad(16, 8)), chunk("eXIf", exifTIFF(3))),
		bomb(100000, 100000),
		readFixture(f, "lossy.webp"), readFixture(f, "lossless.webp"), readFixture(f, "lossy-alpha.webp"), readFixture(f, "exif.webp"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		contentType := sniff(data)
		if contentType == "" {
			return
		}
		p, err := inspect(data, contentType)
		var big *tooLarge
		var bad *unreadable
		switch {
		case errors.As(err, &big), errors.As(err, &bad):
			return
		case err != nil:
			t.Fatalf("inspect: an error that is no client's fault: %v", err)
		case p.width*p.height > 1<<20:
			return // allowed, but too slow to fuzz
		}
		pic, err := reencode(data, p)
		if errors.As(err, &big) || errors.As(err, &bad) {
			return
		}
		if err != nil {
			t.Fatalf("reencode: %v", err)
		}
		m := decodeAs(t, pic.contentType, pic.data)
		w, h := p.width, p.height
		if p.orientation >= 5 {
			w, h = h, w
		}
		if m.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("stored %v, planned %d × %d", m.Bounds(), w, h)
		}
		switch pic.contentType {
		case "image/jpeg":
			for _, mk := range jpegMarkers(t, pic.data) {
				if mk >= 0xE0 && mk <= 0xEF || mk == 0xFE {
					t.Fatalf("stored JPEG has an application or comment segment FF%X", mk)
				}
			}
		case "image/png":
			for _, c := range pngChunks(t, pic.data) {
				if !slices.Contains([]string{"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}, c) {
					t.Fatalf("stored PNG has a %s chunk", c)
				}
			}
		}
	})
}
