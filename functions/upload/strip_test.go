package main

import (
	"bytes"
	"image"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-dev/tidings/functions/internal/apptest"
)

// A friend who loads a picture gets its pixels and nothing else: the photo's
// GPS position, the PNG's text and the WebP's EXIF never reach the bucket.
func TestUploadStoresPicturesWithoutTheirMetadata(t *testing.T) {
	e := setup(t)
	ann, bob := e.user(t, "ann@example.com"), e.user(t, "bob@example.com")
	e.befriend(t, ann, bob)

	// A phone photo: stored sideways, EXIF Orientation 6 and a GPS IFD.
	photo := withSegments(encodeJPEG(quad(64, 32)), exifSegment(6))
	if !bytes.Contains(photo, gpsIFD(38)) || !bytes.Contains(photo, []byte("Exif\x00\x00")) {
		t.Fatal("the fixture carries no EXIF GPS block")
	}
	up := uploadedOf(t, e.upload(t, ann, field{"file", "IMG_0001.jpg", "image/jpeg", photo}))
	s := e.stored(t, up.ID)
	if s.contentType != "image/jpeg" {
		t.Fatalf("stored as %s", s.contentType)
	}
	assertNoMetadata(t, s.data)
	if slices.Contains(jpegMarkers(t, s.data), 0xE1) {
		t.Fatal("the stored JPEG has an APP1 segment")
	}
	// Upright now: 32 wide, 64 tall, the stored top-left red at the top right.
	m := decodeAs(t, s.contentType, s.data)
	if got := corners(t, m); m.Bounds() != image.Rect(0, 0, 32, 64) || got != [4]string{"blue", "red", "white", "green"} {
		t.Fatalf("stored %v %v, want the photo turned clockwise", m.Bounds(), got)
	}
	rec := e.get(bob, up.Src)
	wantStatus(t, rec, 200)
	if rec.Header().Get("Content-Type") != "image/jpeg" || !bytes.Equal(rec.Body.Bytes(), s.data) {
		t.Fatalf("Bob got %q, %d bytes", rec.Header().Get("Content-Type"), rec.Body.Len())
	}

	// A PNG with text and EXIF chunks.
	withText := withChunks(encodePNG(quad(32, 16)), chunk("tEXt", []byte("Comment\x00secret place")), chunk("eXIf", exifTIFF(1)))
	s = e.stored(t, uploadedOf(t, e.upload(t, ann, field{"file", "x.png", "", withText})).ID)
	if got := pngChunks(t, s.data); s.contentType != "image/png" || !slices.Equal(got, []string{"IHDR", "IDAT", "IEND"}) {
		t.Fatalf("stored %s with chunks %v", s.contentType, got)
	}
	assertNoMetadata(t, s.data)

	// A WebP with an EXIF chunk (testdata/mkwebp.sh).
	s = e.stored(t, uploadedOf(t, e.upload(t, ann, field{"file", "x.webp", "", readFixture(t, "exif.webp")})).ID)
	if s.contentType != "image/jpeg" {
		t.Fatalf("lossy WebP stored as %s", s.contentType)
	}
	assertNoMetadata(t, s.data)
}

// A decompression bomb is refused from its header with the reason, and
// nothing is stored.
func TestBombIsRefusedWithTheReason(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	in := bomb(100000, 100000)
	rec := e.upload(t, ann, field{"file", "x.png", "", in})
	wantStatus(t, rec, 422)
	p := apptest.ProblemOf(t, rec)
	if !slices.Equal(p.Fields(), []string{"file"}) || !strings.Contains(p.Detail, "100000 × 100000 pixels") || !strings.Contains(p.Detail, "40.0 megapixels") {
		t.Fatalf("problem %+v (%d-byte file)", p, len(in))
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 0 || len(e.objects(t)) != 0 {
		t.Fatalf("a refused bomb left %d rows, objects %v", n, e.objects(t))
	}
}
