package main

import "image"

// orient returns img as it is meant to be seen under EXIF orientation o
// (EXIF 2.32, tag 0x0112): the tag is dropped with the rest of the EXIF, so
// the turn or mirror it asked for is made in the pixels.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // the four that swap width and height
		dw, dh = h, w
	}
	// stored maps a pixel as seen to the pixel as stored.
	stored := func(x, y int) (int, int) {
		switch o {
		case 2: // mirrored left to right
			return w - 1 - x, y
		case 3: // turned 180°
			return w - 1 - x, h - 1 - y
		case 4: // mirrored top to bottom
			return x, h - 1 - y
		case 5: // mirrored along the main diagonal
			return y, x
		case 6: // to be turned 90° clockwise
			return y, h - 1 - x
		case 7: // mirrored along the other diagonal
			return w - 1 - y, h - 1 - x
		default: // 8: to be turned 90° counter-clockwise
			return w - 1 - y, x
		}
	}
	r := image.Rect(0, 0, dw, dh)
	switch m := img.(type) {
	case *image.Gray:
		out := image.NewGray(r)
		for y := range dh {
			for x := range dw {
				sx, sy := stored(x, y)
				out.Pix[y*out.Stride+x] = m.Pix[m.PixOffset(b.Min.X+sx, b.Min.Y+sy)]
			}
		}
		return out
	case *image.YCbCr:
		// Full-resolution chroma: a turned 4:2:2 frame would need 4:4:0.
		out := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
		for y := range dh {
			for x := range dw {
				sx, sy := stored(x, y)
				yi, ci := m.YOffset(b.Min.X+sx, b.Min.Y+sy), m.COffset(b.Min.X+sx, b.Min.Y+sy)
				i := y*out.YStride + x
				out.Y[i], out.Cb[i], out.Cr[i] = m.Y[yi], m.Cb[ci], m.Cr[ci]
			}
		}
		return out
	default: // CMYK JPEGs: rare enough for the slow path
		out := image.NewRGBA(r)
		for y := range dh {
			for x := range dw {
				sx, sy := stored(x, y)
				out.Set(x, y, m.At(b.Min.X+sx, b.Min.Y+sy))
			}
		}
		return out
	}
}
