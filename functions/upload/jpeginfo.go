package main

import (
	"bytes"
	"encoding/binary"
)

// jpegInfo is what the standard decoder does not tell: the EXIF orientation
// (which it ignores) and the frame's coding and sampling (what decoding it
// costs).
//
// Reading one TIFF tag is a few bounds-checked lines, so they are here
// rather than a full EXIF library: such a library parses every IFD, maker
// note and thumbnail of an untrusted file to give us one 16-bit number.
type jpegInfo struct {
	orientation int     // 1..8, EXIF 2.32 tag 0x0112; 1 when absent or malformed
	progressive bool    // SOF2: the decoder keeps every coefficient until the end
	samples     float64 // stored samples per pixel over all components (1.5 for YCbCr 4:2:0)
}

var exifHeader = []byte("Exif\x00\x00")

// scanJPEG walks the marker segments up to the first scan. It gives up
// quietly on anything malformed: the decoder then judges the file.
func scanJPEG(b []byte) jpegInfo {
	info := jpegInfo{orientation: 1, samples: 3}
	seenExif := false
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return info
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // markers without a length
			i += 2
			continue
		case m == 0xD9 || m == 0xDA: // end of image, start of scan
			return info
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return info
		}
		seg := b[i+4 : i+2+n]
		switch {
		case m == 0xE1 && !seenExif && bytes.HasPrefix(seg, exifHeader):
			seenExif = true
			info.orientation = tiffOrientation(seg[len(exifHeader):])
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC: // SOFn
			info.progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
			if s := sofSamples(seg); s > 0 {
				info.samples = s
			}
		}
		i += 2 + n
	}
	return info
}

// sofSamples sums each component's share of the pixels from a frame header
// (ITU T.81 B.2.2), or 0 when it is malformed.
func sofSamples(seg []byte) float64 {
	if len(seg) < 6 {
		return 0
	}
	nc := int(seg[5])
	if nc == 0 || len(seg) < 6+3*nc {
		return 0
	}
	hmax, vmax := 1, 1
	for c := range nc {
		h, v := int(seg[7+3*c]>>4), int(seg[7+3*c]&0x0F)
		hmax, vmax = max(hmax, h), max(vmax, v)
	}
	total := 0.0
	for c := range nc {
		h, v := int(seg[7+3*c]>>4), int(seg[7+3*c]&0x0F)
		total += float64(h*v) / float64(hmax*vmax)
	}
	return total
}

// bytesPerPixel estimates what decoding takes per pixel: the decoded planes,
// for a progressive frame its int32 coefficients for every sample, and the
// copy orient makes to turn it upright (YCbCr 4:4:4, or RGBA from CMYK).
func (j jpegInfo) bytesPerPixel() float64 {
	n := j.samples
	if j.progressive {
		n += 4 * j.samples
	}
	if j.orientation >= 2 {
		n += min(4, max(3, j.samples))
	}
	return n
}

// tiffOrientation reads tag 0x0112 (SHORT, count 1) from IFD0 of a TIFF
// block, the body of an Exif APP1 segment.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	entries := t[off+2:]
	for k := 0; k < n && len(entries) >= 12; k, entries = k+1, entries[12:] {
		if bo.Uint16(entries) != 0x0112 {
			continue
		}
		if bo.Uint16(entries[2:]) != 3 || bo.Uint32(entries[4:]) != 1 {
			return 1
		}
		if v := int(bo.Uint16(entries[8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
