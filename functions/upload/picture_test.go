package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// strip runs the upload's inspect and re-encode on a picture.
func strip(t testing.TB, data []byte) (picture, error) {
	t.Helper()
	p, err := inspect(data, sniff(data))
	if err != nil {
		return picture{}, err
	}
	return reencode(data, p)
}

func mustStrip(t testing.TB, data []byte) picture {
	t.Helper()
	pic, err := strip(t, data)
	if err != nil {
		t.Fatal(err)
	}
	return pic
}

// Each EXIF orientation comes out upright: the corners of a stored red,
// green / blue, white picture land where EXIF 2.32 (tag 0x0112) says they
// are seen.
func TestJPEGOrientationIsTurnedIntoPixels(t *testing.T) {
	stored := encodeJPEG(quad(64, 32))
	for o, want := range map[uint16][4]string{
		1: {"red", "green", "blue", "white"},
		2: {"green", "red", "white", "blue"},
		3: {"white", "blue", "green", "red"},
		4: {"blue", "white", "red", "green"},
		5: {"red", "blue", "green", "white"},
		6: {"blue", "red", "white", "green"},
		7: {"white", "green", "blue", "red"},
		8: {"green", "white", "red", "blue"},
		9: {"red", "green", "blue", "white"}, // not an orientation: left as stored
	} {
		pic := mustStrip(t, withSegments(stored, exifSegment(o)))
		m := decodeAs(t, pic.contentType, pic.data)
		w, h := 64, 32
		if o >= 5 && o <= 8 {
			w, h = 32, 64
		}
		if got := corners(t, m); got != want || m.Bounds() != image.Rect(0, 0, w, h) {
			t.Errorf("orientation %d: %v %v, want %v %dx%d", o, got, m.Bounds(), want, w, h)
		}
	}
	// Grey JPEGs decode to another image type; they turn the same way.
	grey := image.NewGray(image.Rect(0, 0, 64, 32))
	for y := range 16 {
		for x := range 32 {
			grey.Pix[y*grey.Stride+x] = 0xFF // top-left quadrant white
		}
	}
	pic := mustStrip(t, withSegments(encodeJPEG(grey), exifSegment(6)))
	if got := corners(t, decodeAs(t, pic.contentType, pic.data)); got[1] != "white" || got[0] == "white" {
		t.Fatalf("grey, orientation 6: %v", got)
	}
}

// A JPEG loses its EXIF (GPS and all), XMP and comments; what is stored is
// a plain JPEG of the same pixels.
func TestJPEGMetadataIsDropped(t *testing.T) {
	xmp := segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>secret place</x:xmpmeta>"))
	com := segment(0xFE, []byte("shot at 12 Secret Lane"))
	in := withSegments(encodeJPEG(quad(64, 32)), exifSegment(1), xmp, com)
	pic := mustStrip(t, in)
	if pic.contentType != "image/jpeg" {
		t.Fatalf("stored as %s", pic.contentType)
	}
	assertNoMetadata(t, pic.data)
	if got := corners(t, decodeAs(t, pic.contentType, pic.data)); got != [4]string{"red", "green", "blue", "white"} {
		t.Fatalf("pixels changed: %v", got)
	}
}

// assertNoMetadata fails when a stored picture has an APP1 (Exif, XMP) or
// comment segment, or any byte sequence of the test's metadata.
func assertNoMetadata(t testing.TB, b []byte) {
	t.Helper()
	if b[0] == 0xFF {
		for _, m := range jpegMarkers(t, b) {
			if m >= 0xE1 && m <= 0xEF || m == 0xFE {
				t.Errorf("stored JPEG has segment FF%X (markers % X)", m, jpegMarkers(t, b))
			}
		}
	}
	gpsLatitude := gpsIFD(0)[2+2*12+4:] // the rationals, wherever the IFD was
	for _, leak := range [][]byte{[]byte("Exif"), gpsLatitude, []byte("secret"), []byte("Secret"), []byte("xmpmeta"), []byte("eXIf"), []byte("tEXt")} {
		if bytes.Contains(b, leak) {
			t.Errorf("stored picture still holds %q", leak)
		}
	}
}

func TestPNGTextAndExifChunksAreDropped(t *testing.T) {
	in := withChunks(encodePNG(quad(32, 16)),
		chunk("tEXt", []byte("Comment\x00secret place")),
		chunk("eXIf", exifTIFF(1)),
		chunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>Secret</x:xmpmeta>")),
	)
	if !slices.Contains(pngChunks(t, in), "eXIf") {
		t.Fatal("the fixture has no eXIf chunk")
	}
	pic := mustStrip(t, in)
	if got := pngChunks(t, pic.data); pic.contentType != "image/png" || !slices.Equal(got, []string{"IHDR", "IDAT", "IEND"}) {
		t.Fatalf("stored %s with chunks %v", pic.contentType, got)
	}
	assertNoMetadata(t, pic.data)
}

// Whatever follows the end of the image (a ZIP, a script) is not stored.
func TestBytesAfterThePictureAreDropped(t *testing.T) {
	for name, in := range map[string][]byte{
		"png":  encodePNG(quad(32, 16)),
		"jpeg": encodeJPEG(quad(32, 16)),
		"gif":  encodeGIF(filled(image.Rect(0, 0, 8, 8), red)),
	} {
		pic := mustStrip(t, append(in, "<script>alert('secret')</script>PK\x03\x04"...))
		if bytes.Contains(pic.data, []byte("script")) || bytes.Contains(pic.data, []byte("PK\x03\x04")) {
			t.Errorf("%s: the trailer was stored", name)
		}
	}
}

// A GIF is stored as its first frame, a PNG, placed on the GIF's screen.
func TestGIFFirstFrameBecomesAPNG(t *testing.T) {
	animated := encodeGIF(filled(image.Rect(0, 0, 32, 16), red), filled(image.Rect(0, 0, 32, 16), blue))
	pic := mustStrip(t, animated)
	m := decodeAs(t, pic.contentType, pic.data)
	if pic.contentType != "image/png" || corners(t, m) != [4]string{"red", "red", "red", "red"} || m.Bounds().Dx() != 32 {
		t.Fatalf("stored %s %v %v", pic.contentType, m.Bounds(), corners(t, m))
	}
	// A first frame over part of the screen keeps its place on it.
	var b bytes.Buffer
	b.Write(encodeGIF(filled(image.Rect(16, 8, 32, 16), white)))
	raw := b.Bytes()
	binary.LittleEndian.PutUint16(raw[6:], 32) // the logical screen is 32 × 16
	binary.LittleEndian.PutUint16(raw[8:], 16)
	pic = mustStrip(t, raw)
	m = decodeAs(t, pic.contentType, pic.data)
	if got := corners(t, m); m.Bounds() != image.Rect(0, 0, 32, 16) || got != [4]string{"clear", "clear", "clear", "white"} {
		t.Fatalf("offset frame: %v %v", m.Bounds(), got)
	}
}

// WebP (testdata/mkwebp.sh): lossy and opaque is stored as JPEG, lossless or
// with alpha as PNG; an EXIF chunk goes; animation is refused as
// unsupported.
func TestWebPIsStoredAsJPEGOrPNG(t *testing.T) {
	for _, c := range []struct {
		file, contentType string
		corners           [4]string
	}{
		{"lossy.webp", "image/jpeg", [4]string{"red", "green", "blue", "white"}},
		{"exif.webp", "image/jpeg", [4]string{"red", "green", "blue", "white"}},
		{"lossless.webp", "image/png", [4]string{"red", "clear", "blue", "clear"}},
		{"lossy-alpha.webp", "image/png", [4]string{"red", "clear", "blue", "clear"}},
	} {
		in := readFixture(t, c.file)
		pic := mustStrip(t, in)
		m := decodeAs(t, pic.contentType, pic.data)
		if pic.contentType != c.contentType || corners(t, m) != c.corners || m.Bounds() != image.Rect(0, 0, 32, 16) {
			t.Errorf("%s: stored %s %v %v", c.file, pic.contentType, m.Bounds(), corners(t, m))
		}
		assertNoMetadata(t, pic.data)
	}
	if in := readFixture(t, "exif.webp"); !bytes.Contains(in, gpsIFD(26)) {
		t.Fatal("exif.webp carries no GPS IFD to drop")
	}
	_, err := strip(t, readFixture(t, "animated.webp"))
	var bad *unreadable
	if !errors.As(err, &bad) || !bad.unsupported {
		t.Fatalf("animated WebP: %v", err)
	}
}

// A header claiming more pixels than the limits allow is refused before a
// pixel is decoded, in every format.
func TestPixelLimitsHoldBeforeDecoding(t *testing.T) {
	jpegSized := func(sof byte, w, h uint16) []byte {
		b := encodeJPEG(quad(16, 16))
		i := bytes.Index(b, []byte{0xFF, 0xC0})
		b[i+1] = sof
		binary.BigEndian.PutUint16(b[i+5:], h)
		binary.BigEndian.PutUint16(b[i+7:], w)
		return b
	}
	gifSized := func(w, h uint16) []byte {
		b := encodeGIF(filled(image.Rect(0, 0, 8, 8), red))
		binary.LittleEndian.PutUint16(b[6:], w)
		binary.LittleEndian.PutUint16(b[8:], h)
		return b
	}
	webpSized := func(w, h uint32) []byte {
		b := readFixture(t, "lossy-alpha.webp")
		copy(b[24:27], []byte{byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16)})
		copy(b[27:30], []byte{byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)})
		return b
	}
	for _, c := range []struct {
		name    string
		data    []byte
		refused bool
		detail  string
	}{
		{"png 100000 × 100000", bomb(100000, 100000), true, "100000 × 100000 pixels; a PNG may have at most 40.0 megapixels"},
		{"png 8000 × 5000", bomb(8000, 5000), false, ""},
		{"png 8000 × 5001", bomb(8000, 5001), true, "at most 40.0 megapixels"},
		{"jpeg 65535 × 65535", jpegSized(0xC0, 65535, 65535), true, "a JPEG may have"},
		{"jpeg 6000 × 6000", jpegSized(0xC0, 6000, 6000), false, ""},
		// A progressive JPEG keeps every coefficient: 4:2:0 costs 7.5 bytes a pixel.
		{"progressive jpeg 6000 × 6000", jpegSized(0xC2, 6000, 6000), true, "a progressive JPEG may have at most 27.4 megapixels"},
		{"progressive jpeg 4000 × 3000", jpegSized(0xC2, 4000, 3000), false, ""},
		{"gif 65535 × 65535", gifSized(65535, 65535), true, "a GIF may have"},
		{"webp 16384 × 16384", webpSized(16384, 16384), true, "a WebP may have at most 25.7 megapixels"},
		{"webp 4000 × 3000", webpSized(4000, 3000), false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := inspect(c.data, sniff(c.data))
			var big *tooLarge
			switch {
			case c.refused && (!errors.As(err, &big) || !strings.Contains(big.detail, c.detail)):
				t.Fatalf("not refused as too large: %v", err)
			case !c.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case !c.refused && (p.cost <= 0 || p.cost > decodeBudget):
				t.Fatalf("cost %d outside (0, %d]", p.cost, decodeBudget)
			}
		})
	}
}

// Truncated, corrupt or only-looks-like-a-picture files are the client's
// fault, never a failure of ours.
func TestUnreadablePicturesAreRefused(t *testing.T) {
	pngFile, jpegFile := encodePNG(quad(32, 16)), encodeJPEG(quad(32, 16))
	gifFile := encodeGIF(filled(image.Rect(0, 0, 32, 16), red))
	lossy, lossless := readFixture(t, "lossy.webp"), readFixture(t, "lossless.webp")
	corrupt := append([]byte{}, pngFile...)
	corrupt[len(corrupt)-20] ^= 0xFF // inside IDAT: the checksum fails
	for name, data := range map[string][]byte{
		"png cut in half":      pngFile[:len(pngFile)/2],
		"png header only":      pngFile[:33],
		"png with a bad crc":   corrupt,
		"jpeg cut in half":     jpegFile[:len(jpegFile)/2],
		"jpeg then html":       append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0}, "<html><script>alert(1)</script>"...),
		"gif cut in half":      gifFile[:len(gifFile)/2],
		"gif magic then js":    []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00*/=alert(document.cookie)//"),
		"webp cut in half":     lossy[:len(lossy)/2],
		"lossless webp cut":    lossless[:len(lossless)-10],
		"riff webp, no chunks": []byte("RIFF\x04\x00\x00\x00WEBP"),
		"png zero wide":        bomb(0, 10),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := strip(t, data)
			var bad *unreadable
			if !errors.As(err, &bad) || bad.unsupported {
				t.Fatalf("got %v, want an unreadable picture", err)
			}
		})
	}
}

// The JPEG header scan gives up quietly on anything malformed.
func TestScanJPEGSurvivesMalformedHeaders(t *testing.T) {
	good := withSegments(encodeJPEG(quad(16, 16)), exifSegment(6))
	if got := scanJPEG(good); got.orientation != 6 || got.progressive || got.samples != 1.5 {
		t.Fatalf("good: %+v", got)
	}
	bigEndian := append([]byte("MM\x00*\x00\x00\x00\x08\x00\x01"), 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x08, 0, 0)
	if got := scanJPEG(withSegments(encodeJPEG(quad(16, 16)), segment(0xE1, append([]byte("Exif\x00\x00"), bigEndian...)))); got.orientation != 8 {
		t.Fatalf("big-endian orientation: %+v", got)
	}
	for name, tiff := range map[string][]byte{
		"empty":            nil,
		"bad byte order":   []byte("XX\x00*\x00\x00\x00\x08"),
		"ifd past the end": []byte("II*\x00\xff\xff\xff\xff"),
		"count past end":   []byte("II*\x00\x08\x00\x00\x00\xff\xff"),
		"long orientation": append([]byte("II*\x00\x08\x00\x00\x00\x01\x00"), 0x12, 0x01, 4, 0, 1, 0, 0, 0, 6, 0, 0, 0),
		"orientation 0":    append([]byte("II*\x00\x08\x00\x00\x00\x01\x00"), 0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0),
	} {
		seg := segment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
		if got := scanJPEG(withSegments(encodeJPEG(quad(16, 16)), seg)); got.orientation != 1 {
			t.Errorf("%s: orientation %d", name, got.orientation)
		}
	}
	for _, b := range [][]byte{nil, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, {0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x03, 0}} {
		scanJPEG(b) // must not panic
	}
}

// The re-encoded file is bounded: noise does not compress.
func TestReencodedSizeIsCapped(t *testing.T) {
	noise, err := png.Decode(bytes.NewReader(noisePNG(64, 64)))
	if err != nil {
		t.Fatal(err)
	}
	out := &cappedBuffer{limit: 4 << 10}
	if err := png.Encode(out, noise); err == nil || !out.over {
		t.Fatalf("a 16 KiB picture fit in 4 KiB: %v", err)
	}
	out = &cappedBuffer{limit: 64 << 10}
	if err := png.Encode(out, noise); err != nil || out.over {
		t.Fatalf("it does fit in 64 KiB: %v", err)
	}
}

// Decoding takes its share of the budget and gives it back however it ends;
// with the budget taken, an upload waits, and a client that gives up gets a
// 503, not a decoded picture.
func TestDecodingTakesTurnsWithinTheBudget(t *testing.T) {
	f := &Function{log: slog.New(slog.DiscardHandler), decoding: semaphore.NewWeighted(decodeBudget)}
	run := func(ctx context.Context, data []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		if _, ok := f.strip(rec, httptest.NewRequestWithContext(ctx, "POST", "/api/files", nil), data, sniff(data)); ok {
			rec.WriteHeader(201)
		}
		return rec
	}
	for _, c := range []struct {
		data   []byte
		status int
	}{{pngBytes, 201}, {jpegBytes[:len(jpegBytes)/2], 400}, {bomb(100000, 100000), 422}, {readFixture(t, "animated.webp"), 415}} {
		if rec := run(context.Background(), c.data); rec.Code != c.status {
			t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
		}
	}
	if !f.decoding.TryAcquire(decodeBudget) {
		t.Fatal("a finished upload kept part of the budget")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if rec := run(ctx, pngBytes); rec.Code != 503 {
		t.Fatalf("with the budget taken: %d %s", rec.Code, rec.Body)
	}
	f.decoding.Release(decodeBudget)
}
