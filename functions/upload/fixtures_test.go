package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

// Pictures for the tests, built here from the standard encoders; the WebP
// ones come from testdata/mkwebp.sh, as nothing in Go encodes WebP.

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// quad is w × h in four quadrants: red, green over blue, white. Wide
// quadrants of flat colour survive JPEG's losses.
func quad(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, []color.RGBA{red, green, blue, white}[btoi(x >= w/2)+2*btoi(y >= h/2)])
		}
	}
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The encoders write to memory, so they fail only on a bad image: a bug in
// the test, hence the panics.

func encodePNG(m image.Image) []byte {
	var b bytes.Buffer
	must(png.Encode(&b, m))
	return b.Bytes()
}

func encodeJPEG(m image.Image) []byte {
	var b bytes.Buffer
	must(jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}))
	return b.Bytes()
}

func encodeGIF(frames ...*image.Paletted) []byte {
	var b bytes.Buffer
	must(gif.EncodeAll(&b, &gif.GIF{Image: frames, Delay: make([]int, len(frames))}))
	return b.Bytes()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func filled(r image.Rectangle, c color.Color) *image.Paletted {
	m := image.NewPaletted(r, color.Palette{red, green, blue, white})
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.Set(x, y, c)
		}
	}
	return m
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entry appends one 12-byte IFD entry; value is the 4-byte value field.
func entry(b []byte, tag, typ uint16, count uint32, value []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(le.AppendUint16(le.AppendUint16(b, tag), typ), count)
	return append(b, value...)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// gpsIFD is a GPS IFD as a camera writes it (EXIF 2.32 §4.6.6) at offset
// at of its TIFF block: latitude 51° 30' 26.47" N. Its bytes must not
// survive an upload.
func gpsIFD(at uint32) []byte {
	b := binary.LittleEndian.AppendUint16(nil, 2)
	b = entry(b, 0x0001, 2, 2, []byte{'N', 0, 0, 0}) // GPSLatitudeRef, ASCII
	b = entry(b, 0x0002, 5, 3, u32(at+2+2*12+4))     // GPSLatitude, 3 RATIONALs after the IFD
	b = append(b, u32(0)...)                         // no next IFD
	for _, v := range []uint32{51, 1, 30, 1, 2647, 100} {
		b = append(b, u32(v)...)
	}
	return b
}

// exifTIFF is a little-endian TIFF block: IFD0 with the Orientation (SHORT)
// and a pointer to the GPS IFD.
func exifTIFF(orientation uint16) []byte {
	const gpsAt = 8 + 2 + 2*12 + 4
	b := append([]byte("II*\x00"), u32(8)...)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = entry(b, 0x0112, 3, 1, []byte{byte(orientation), byte(orientation >> 8), 0, 0})
	b = entry(b, 0x8825, 4, 1, u32(gpsAt))
	b = append(b, u32(0)...)
	return append(b, gpsIFD(gpsAt)...)
}

// withSegments puts marker segments (APP1 Exif, say) right after a JPEG's SOI.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func segment(marker byte, body []byte) []byte {
	return append([]byte{0xFF, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
}

func exifSegment(orientation uint16) []byte {
	return segment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(orientation)...))
}

// jpegMarkers lists the markers of a JPEG's segments before its first scan.
func jpegMarkers(t testing.TB, b []byte) []byte {
	t.Helper()
	var ms []byte
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		ms = append(ms, b[i+1])
		if b[i+1] == 0xDA {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	t.Fatal("no scan")
	return nil
}

// withChunks puts chunks right after a PNG's IHDR.
func withChunks(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	out := append([]byte{}, p[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[ihdrEnd:]...)
}

func chunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngChunks lists a PNG's chunk types.
func pngChunks(t testing.TB, b []byte) []string {
	t.Helper()
	var types []string
	for i := 8; i+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		types = append(types, string(b[i+4:i+8]))
		i += 12 + n
	}
	return types
}

// bomb is a valid PNG header claiming w × h pixels, with a few bytes of
// image data: what a decompression bomb looks like before it is decoded.
func bomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", z.Bytes())...)
	return append(out, chunk("IEND", nil)...)
}

// corner names the colour of each quadrant's centre: top left, top right,
// bottom left, bottom right.
func corners(t testing.TB, m image.Image) [4]string {
	t.Helper()
	b := m.Bounds()
	var out [4]string
	for i, p := range []image.Point{
		{b.Min.X + b.Dx()/4, b.Min.Y + b.Dy()/4}, {b.Min.X + 3*b.Dx()/4, b.Min.Y + b.Dy()/4},
		{b.Min.X + b.Dx()/4, b.Min.Y + 3*b.Dy()/4}, {b.Min.X + 3*b.Dx()/4, b.Min.Y + 3*b.Dy()/4},
	} {
		out[i] = colourName(m.At(p.X, p.Y))
	}
	return out
}

func colourName(c color.Color) string {
	r, g, b, a := c.RGBA()
	hi := func(v uint32) bool { return v > 0xC000 }
	lo := func(v uint32) bool { return v < 0x4000 }
	switch {
	case a < 0x4000:
		return "clear"
	case hi(r) && lo(g) && lo(b):
		return "red"
	case lo(r) && hi(g) && lo(b):
		return "green"
	case lo(r) && lo(g) && hi(b):
		return "blue"
	case hi(r) && hi(g) && hi(b):
		return "white"
	}
	return "other"
}

func decodeAs(t testing.TB, contentType string, b []byte) image.Image {
	t.Helper()
	var m image.Image
	var err error
	switch contentType {
	case "image/png":
		m, err = png.Decode(bytes.NewReader(b))
	case "image/jpeg":
		m, err = jpeg.Decode(bytes.NewReader(b))
	default:
		t.Fatalf("stored as %q", contentType)
	}
	if err != nil {
		t.Fatalf("stored %s does not decode: %v", contentType, err)
	}
	return m
}
