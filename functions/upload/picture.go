package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// A picture is stored as its pixels only: it is decoded and encoded afresh,
// so nothing the camera or an editor wrote beside the pixels (EXIF with GPS,
// XMP, ICC profiles, PNG text chunks, GIF comments, bytes after the end of
// the image) reaches the people who may see it.
const (
	// maxPixels bounds the width × height of any picture: a 40 MP photo is
	// larger than most phones take.
	maxPixels = 40_000_000
	// decodeBudget is the memory, in bytes, the pictures being decoded at one
	// time may take: upload's container may use 512 MiB (knative/services.yaml),
	// and up to 20 requests of 10 MiB each may be in memory beside them.
	decodeBudget = 256 << 20
	// maxStoredSize bounds the re-encoded file: 10 MiB of noise can decode to
	// 40 MP that no encoder makes small again.
	maxStoredSize = 3 * maxFileSize
	// outputReserve is the most the encoded output may take of the budget: a
	// growing bytes.Buffer may hold twice what was written.
	outputReserve = 2 * maxStoredSize
	// jpegQuality keeps a re-encoded photo close to what was sent.
	jpegQuality = 90
)

// picture is what is stored: the re-encoded bytes and their type.
type picture struct {
	data        []byte
	contentType string
}

// plan is what inspect learnt from the headers alone.
type plan struct {
	contentType string // as sniffed
	width       int
	height      int
	orientation int   // EXIF Orientation of a JPEG, 1 when absent
	cost        int64 // estimated bytes decoding and re-encoding it takes
}

// tooLarge refuses a picture over a limit: too many pixels for its kind, or
// too large once re-encoded.
type tooLarge struct{ detail, field string }

func (e *tooLarge) Error() string { return e.detail }

// unreadable refuses a picture its decoder rejects: truncated, corrupt, or a
// file that only starts like a picture. unsupported marks a valid variant the
// decoder does not read (arithmetic-coded JPEG, animated WebP).
type unreadable struct {
	kind        string
	unsupported bool
	err         error
}

func (e *unreadable) Error() string { return e.kind + ": " + e.err.Error() }

// kinds names each sniffed type in messages.
var kinds = map[string]string{"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}

func decodeConfig(contentType string, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch contentType {
	case "image/png":
		return png.DecodeConfig(r)
	case "image/jpeg":
		return jpeg.DecodeConfig(r)
	case "image/gif":
		return gif.DecodeConfig(r)
	case "image/webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("no decoder for %s", contentType)
}

// inspect reads the picture's headers and refuses it, before any pixel is
// decoded, when its size would cost more than the limits allow: a 100 kB PNG
// may claim 100,000 × 100,000 pixels.
func inspect(data []byte, contentType string) (plan, error) {
	kind := kinds[contentType]
	cfg, err := decodeConfig(contentType, data)
	if err != nil {
		return plan{}, classify(kind, err)
	}
	p := plan{contentType: contentType, width: cfg.Width, height: cfg.Height, orientation: 1}
	// perPixel is what the decoder and our own copies hold per pixel.
	perPixel := 0.0
	switch contentType {
	case "image/jpeg":
		h := scanJPEG(data)
		p.orientation = h.orientation
		perPixel = h.bytesPerPixel()
		if h.progressive {
			kind = "progressive JPEG"
		}
	case "image/png":
		perPixel = pngBytesPerPixel(cfg.ColorModel, data)
	case "image/gif":
		// The first frame's indices, and an RGBA canvas when the frame does
		// not cover the screen.
		perPixel = 1 + 4
	case "image/webp":
		if animatedWebP(data) {
			return plan{}, &unreadable{kind: kind, unsupported: true, err: errors.New("animated WebP is not supported")}
		}
		// The header does not always tell lossless from lossy: assume the
		// lossless decoder (x/image/vp8l: its ARGB bytes and a colour-indexing
		// transform's copy of them); lossy with alpha needs less (Y, Cb, Cr,
		// alpha and an RGBA copy).
		perPixel = 8
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return plan{}, &unreadable{kind: kind, err: errors.New("no pixels")}
	}
	limit := min(maxPixels, int((decodeBudget-outputReserve)/perPixel))
	if cfg.Width > limit/cfg.Height {
		return plan{}, &tooLarge{field: "has too many pixels", detail: fmt.Sprintf("The picture is %d × %d pixels; a %s may have at most %.1f megapixels.",
			cfg.Width, cfg.Height, kind, float64(limit)/1e6)}
	}
	pixels := cfg.Width * cfg.Height
	p.cost = int64(float64(pixels)*perPixel) + int64(min(outputReserve, 8*pixels))
	return p, nil
}

// animatedWebP reports the animation flag of an extended WebP's VP8X chunk
// (the first, right after the RIFF header): x/image/webp reads no animation,
// and would call the file malformed.
func animatedWebP(data []byte) bool {
	return len(data) > 20 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0
}

// pngBytesPerPixel is what the standard decoder holds per pixel: the image,
// twice over for an interlaced one (it decodes each pass on its own, then
// merges them).
func pngBytesPerPixel(m color.Model, data []byte) float64 {
	bpp := 4.0
	if _, ok := m.(color.Palette); ok {
		bpp = 1
	} else {
		switch m {
		case color.GrayModel:
			bpp = 1
		case color.Gray16Model:
			bpp = 2
		case color.RGBA64Model, color.NRGBA64Model:
			bpp = 8
		}
	}
	// DecodeConfig has checked the IHDR chunk is first; its last byte is the
	// interlace method.
	if len(data) > 28 && data[28] == 1 {
		bpp *= 2
	}
	return bpp
}

// classify turns a decoder's error into the client's fault it is.
func classify(kind string, err error) error {
	var pu png.UnsupportedError
	var ju jpeg.UnsupportedError
	return &unreadable{kind: kind, err: err, unsupported: errors.As(err, &pu) || errors.As(err, &ju)}
}

// reencode decodes the picture inspect planned and encodes its pixels alone:
// a JPEG as a JPEG with its EXIF orientation turned into pixels (the
// orientation tag goes with the rest of the EXIF), a PNG as a PNG, a GIF's
// first frame as a PNG (a still, said plainly), and a WebP as a JPEG when it
// is lossy and opaque (a photo: PNG would be several times larger) or as a
// PNG when it is lossless or has alpha (which JPEG cannot hold). x/image
// cannot encode WebP.
func reencode(data []byte, p plan) (picture, error) {
	kind := kinds[p.contentType]
	r := bytes.NewReader(data)
	var img image.Image
	var err error
	switch p.contentType {
	case "image/png":
		img, err = png.Decode(r)
	case "image/jpeg":
		img, err = jpeg.Decode(r)
	case "image/gif":
		img, err = gif.Decode(r)
	case "image/webp":
		img, err = webp.Decode(r)
	default:
		err = fmt.Errorf("no decoder for %s", p.contentType)
	}
	if err != nil {
		return picture{}, classify(kind, err)
	}
	// The decoders allocate what the header said; this is a last guard
	// should one ever disagree with its own DecodeConfig.
	if b := img.Bounds(); b.Dx() > p.width || b.Dy() > p.height {
		return picture{}, &unreadable{kind: kind, err: fmt.Errorf("frame %v larger than the header's %d × %d", b, p.width, p.height)}
	}

	out := &cappedBuffer{limit: maxStoredSize}
	contentType := "image/png"
	switch m := img.(type) {
	case *image.NYCbCrA: // lossy WebP with alpha: the PNG encoder has no fast path for it
		err = png.Encode(out, nrgbaOf(m))
	case *image.YCbCr: // lossy WebP, or a JPEG
		contentType = "image/jpeg"
		err = jpeg.Encode(out, orient(m, p.orientation), &jpeg.Options{Quality: jpegQuality})
	default:
		if p.contentType == "image/jpeg" {
			contentType = "image/jpeg"
			err = jpeg.Encode(out, orient(m, p.orientation), &jpeg.Options{Quality: jpegQuality})
			break
		}
		if p.contentType == "image/gif" {
			m = onScreen(m, p.width, p.height)
		}
		err = png.Encode(out, m)
	}
	if out.over {
		return picture{}, &tooLarge{field: "is too large once re-encoded", detail: fmt.Sprintf("Re-encoded without its metadata, the picture would be over %d MiB.", maxStoredSize>>20)}
	}
	if err != nil {
		return picture{}, fmt.Errorf("encode %s: %w", contentType, err)
	}
	return picture{data: out.Bytes(), contentType: contentType}, nil
}

// onScreen places a GIF's first frame on its logical screen, transparent
// around it, when the frame covers only part of it.
func onScreen(frame image.Image, width, height int) image.Image {
	screen := image.Rect(0, 0, width, height)
	if frame.Bounds() == screen {
		return frame
	}
	canvas := image.NewNRGBA(screen)
	draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Src)
	return canvas
}

// nrgbaOf converts a YCbCr-with-alpha image in one pass.
func nrgbaOf(m *image.NYCbCrA) *image.NRGBA {
	b := m.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = r, g, bl, m.A[m.AOffset(x, y)]
		}
	}
	return out
}

// cappedBuffer refuses to grow past limit; the encoder then fails with its
// write error and over says why.
type cappedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

var errCapped = errors.New("re-encoded picture over the size limit")

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.Len()+len(p) > c.limit {
		c.over = true
		return 0, errCapped
	}
	return c.Buffer.Write(p)
}
