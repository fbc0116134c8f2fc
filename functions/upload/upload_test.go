package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tidings-dev/tidings/functions/apicontract"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/infra/testenv"
)

type env struct {
	a      *app.App
	bucket testenv.S3
	h      http.Handler
}

func setup(t *testing.T) *env {
	t.Helper()
	a := apptest.New(t, Name, Needs, "")
	b := testenv.S3Bucket(t)
	useBucket(t, b.Endpoint, b.AccessKey, b.SecretKey, b.Bucket)
	return &env{a: a, bucket: b, h: apptest.Function(t, a, New)}
}

// useBucket points the function's S3 settings at a bucket for this test.
func useBucket(t *testing.T, endpoint, accessKey, secretKey, bucket string) {
	t.Setenv("S3_ENDPOINT", endpoint)
	t.Setenv("S3_ACCESS_KEY", accessKey)
	t.Setenv("S3_SECRET_KEY", secretKey)
	t.Setenv("S3_BUCKET", bucket)
}

// user is a signed-up person with a live session.
type user = apptest.User

func (e *env) user(t *testing.T, email string) user {
	return apptest.NewUser(t, e.a, email, email)
}

func (e *env) befriend(t *testing.T, a, b user) { apptest.Befriend(t, e.a, a, b) }

func (e *env) objects(t *testing.T) []string {
	t.Helper()
	out, err := e.bucket.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

// field is one part of a multipart form.
type field struct {
	name, filename, contentType string
	data                        []byte
}

func form(t *testing.T, fields ...field) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, f.name)
		if f.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, f.filename)
		}
		h.Set("Content-Disposition", disp)
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(f.data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func uploadRequest(body io.Reader, contentType string, u user) *http.Request {
	req := httptest.NewRequest("POST", "/api/files", body)
	req.Host = "localhost:8080"
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Requested-With", "tidings")
	req.AddCookie(u.Cookie)
	return req
}

func (e *env) upload(t *testing.T, u user, fields ...field) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := form(t, fields...)
	return apptest.Serve(e.h, uploadRequest(bytes.NewReader(body), ct, u))
}

func (e *env) get(u user, path string, hdr ...string) *httptest.ResponseRecorder {
	req := apptest.Request("GET", path, "", u.Cookie)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return apptest.Serve(e.h, req)
}

// Tiny real pictures of each accepted type (fixtures_test.go).
var (
	pngBytes  = encodePNG(quad(8, 8))
	jpegBytes = encodeJPEG(quad(16, 16))
	gif89     = encodeGIF(filled(image.Rect(0, 0, 4, 4), red))
	gif87     = append([]byte("GIF87a"), gif89[6:]...)
)

// object reads what the bucket holds under key.
func (e *env) object(t *testing.T, key string) []byte {
	t.Helper()
	out, err := e.bucket.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &e.bucket.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored is a picture's row and its object.
type stored struct {
	key, contentType string
	size             int64
	data             []byte
}

func (e *env) stored(t *testing.T, id string) stored {
	t.Helper()
	var s stored
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT object_key, content_type, size FROM files WHERE id = $1`, id).Scan(&s.key, &s.contentType, &s.size); err != nil {
		t.Fatal(err)
	}
	s.data = e.object(t, s.key)
	if s.size != int64(len(s.data)) {
		t.Fatalf("files row says %d bytes, the object has %d", s.size, len(s.data))
	}
	return s
}

func uploadedOf(t *testing.T, rec *httptest.ResponseRecorder) uploaded {
	t.Helper()
	wantStatus(t, rec, 201)
	var up uploaded
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil || up.ID == "" {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	return up
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
}

func TestUploadStoresUnderAGeneratedNameAndServesToOwnerAndFriends(t *testing.T) {
	e := setup(t)
	ann, bob, cid := e.user(t, "ann@example.com"), e.user(t, "bob@example.com"), e.user(t, "cid@example.com")
	e.befriend(t, ann, bob)

	rec := e.upload(t, ann, field{"file", "../../etc/cat.png", "text/plain", pngBytes})
	wantStatus(t, rec, 201)
	var up uploaded
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil || up.ID == "" || up.Src != "/api/files/"+up.ID {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	var owner, key, ct string
	var size int64
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT owner_id::text, object_key, content_type, size FROM files WHERE id = $1`, up.ID).Scan(&owner, &key, &ct, &size); err != nil {
		t.Fatal(err)
	}
	if owner != ann.ID || ct != "image/png" || strings.Contains(key, "cat") || strings.Contains(key, "..") {
		t.Fatalf("files row: owner %s key %q type %s size %d", owner, key, ct, size)
	}
	if objs := e.objects(t); !slices.Equal(objs, []string{key}) {
		t.Fatalf("bucket holds %v, want [%s]", objs, key)
	}
	// What is stored is the re-encoded picture, and the row says its size.
	obj := e.stored(t, up.ID).data
	if got := corners(t, decodeAs(t, "image/png", obj)); got != [4]string{"red", "green", "blue", "white"} {
		t.Fatalf("stored picture %v", got)
	}

	for _, u := range []user{ann, bob} {
		rec := e.get(u, up.Src)
		wantStatus(t, rec, 200)
		h := rec.Header()
		if !bytes.Equal(rec.Body.Bytes(), obj) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Cache-Control"), "private, max-age=") || h.Get("ETag") == "" {
			t.Fatalf("serve: headers %v, %d bytes", h, rec.Body.Len())
		}
		// A revalidation with the ETag costs no bytes.
		again := e.get(u, up.Src, "If-None-Match", h.Get("ETag"))
		wantStatus(t, again, 304)
		if again.Body.Len() != 0 {
			t.Fatal("304 with a body")
		}
	}
	for _, c := range []struct {
		who  user
		path string
	}{
		{cid, up.Src},
		{cid, up.Src},
		{ann, "/api/files/00000000-0000-4000-8000-000000000000"},
		{ann, "/api/files/not-a-uuid"},
		{ann, "/api/files/" + strings.ToUpper(up.ID) + "x"},
	} {
		rec := e.get(c.who, c.path)
		wantStatus(t, rec, 404)
		apptest.ProblemOf(t, rec)
		if rec.Header().Get("ETag") != "" {
			t.Fatal("a 404 carried the picture's ETag")
		}
	}
	// The ETag does not open the door for a stranger either.
	wantStatus(t, e.get(cid, up.Src, "If-None-Match", `"`+up.ID+`"`), 404)
}

// The type is sniffed from the bytes, and what is stored and served is the
// type the picture was re-encoded to (picture.go).
func TestTypeIsSniffedFromTheBytes(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	for _, c := range []struct {
		name     string
		data     []byte
		declared string
		want     string
	}{
		{"png", pngBytes, "image/png", "image/png"},
		{"jpeg declared as gif", jpegBytes, "image/gif", "image/jpeg"},
		{"gif87a, first frame", gif87, "", "image/png"},
		{"gif89a, first frame", gif89, "application/octet-stream", "image/png"},
		{"lossy webp", readFixture(t, "lossy.webp"), "image/webp", "image/jpeg"},
		{"lossless webp", readFixture(t, "lossless.webp"), "image/webp", "image/png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := uploadedOf(t, e.upload(t, ann, field{"file", "x", c.declared, c.data}))
			s := e.stored(t, up.ID)
			got := e.get(ann, up.Src)
			wantStatus(t, got, 200)
			if s.contentType != c.want || got.Header().Get("Content-Type") != c.want || !bytes.Equal(got.Body.Bytes(), s.data) {
				t.Fatalf("stored as %q, served as %q", s.contentType, got.Header().Get("Content-Type"))
			}
			decodeAs(t, c.want, got.Body.Bytes())
		})
	}
}

func TestRejectedUploadsWriteNothing(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	html := []byte("<!doctype html><script>alert(1)</script>")
	riffNotWebp := []byte("RIFF\x1a\x00\x00\x00WAVEfmt ")
	for _, c := range []struct {
		name   string
		fields []field
		status int
		field  string
	}{
		{"html declared as png", []field{{"file", "x.png", "image/png", html}}, 415, "file"},
		{"svg", []field{{"file", "x.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)}}, 415, "file"},
		{"riff but not webp", []field{{"file", "x.webp", "image/webp", riffNotWebp}}, 415, "file"},
		{"truncated magic", []field{{"file", "x.png", "image/png", []byte("\x89PN")}}, 415, "file"},
		{"no file field", []field{{"caption", "", "", []byte("hello")}}, 400, "file"},
		{"file under another name", []field{{"picture", "x.png", "image/png", pngBytes}}, 400, "file"},
		{"empty file", []field{{"file", "x.png", "image/png", nil}}, 400, "file"},
		{"one byte too big", []field{{"file", "x.png", "image/png", append(append([]byte{}, pngBytes...), make([]byte, maxFileSize+1-len(pngBytes))...)}}, 413, "file"},
		// Refused from the header, before a pixel is decoded.
		{"png claiming 100000 × 100000", []field{{"file", "x.png", "", bomb(100000, 100000)}}, 422, "file"},
		{"truncated png", []field{{"file", "x.png", "", pngBytes[:len(pngBytes)-20]}}, 400, "file"},
		{"truncated jpeg", []field{{"file", "x.jpg", "", jpegBytes[:len(jpegBytes)/2]}}, 400, "file"},
		{"jpeg magic then html", []field{{"file", "x.jpg", "", append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10}, html...)}}, 400, "file"},
		{"animated webp", []field{{"file", "x.webp", "", readFixture(t, "animated.webp")}}, 415, "file"},
		{"big field before the file", []field{{"junk", "", "", make([]byte, maxFormOverhead+maxFileSize)}, {"file", "x.png", "", pngBytes}}, 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.upload(t, ann, c.fields...)
			wantStatus(t, rec, c.status)
			if err := apicontract.Check(httptest.NewRequest("POST", "/api/files", nil), rec.Result()); err != nil {
				t.Fatal(err)
			}
			p := apptest.ProblemOf(t, rec)
			if c.field != "" && !slices.Contains(p.Fields(), c.field) {
				t.Fatalf("problem does not name %s: %+v", c.field, p)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		rec := apptest.Serve(e.h, uploadRequest(bytes.NewReader(pngBytes), "image/png", ann))
		wantStatus(t, rec, 415)
		apptest.ProblemOf(t, rec)
	})
	t.Run("json", func(t *testing.T) {
		rec := apptest.Serve(e.h, apptest.Request("POST", "/api/files", `{"file":"x"}`, ann.Cookie))
		wantStatus(t, rec, 415)
	})
	t.Run("malformed multipart", func(t *testing.T) {
		rec := apptest.Serve(e.h, uploadRequest(strings.NewReader("--b\r\nnonsense"), "multipart/form-data; boundary=b", ann))
		wantStatus(t, rec, 400)
		apptest.ProblemOf(t, rec)
	})
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 0 {
		t.Fatalf("rejected uploads wrote %d rows", n)
	}
	if objs := e.objects(t); len(objs) != 0 {
		t.Fatalf("rejected uploads stored %v", objs)
	}
}

func TestSizeIsMeasuredNotTakenFromContentLength(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	exact := append(append([]byte{}, pngBytes...), make([]byte, maxFileSize-len(pngBytes))...)
	wantStatus(t, e.upload(t, ann, field{"file", "x.png", "image/png", exact}), 201)

	big, ct := form(t, field{"file", "x.png", "image/png", append(exact, 0)})
	// A client that claims a small body...
	req := uploadRequest(bytes.NewReader(big), ct, ann)
	req.ContentLength = 1000
	wantStatus(t, apptest.Serve(e.h, req), 413)
	// ...or sends it chunked, with no length at all.
	req = uploadRequest(io.MultiReader(bytes.NewReader(big)), ct, ann)
	req.ContentLength = -1
	wantStatus(t, apptest.Serve(e.h, req), 413)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 1 {
		t.Fatalf("%d files stored, want only the 10 MiB one", n)
	}
}

func TestStoreDownIs503(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	wantStatus(t, e.upload(t, ann, field{"file", "x.png", "", pngBytes}), 201)
	var id string
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT id::text FROM files`).Scan(&id); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	useBucket(t, dead, "a", "b", e.bucket.Bucket)
	down := apptest.Function(t, e.a, New)
	body, ct := form(t, field{"file", "x.png", "", pngBytes})
	rec := apptest.Serve(down, uploadRequest(bytes.NewReader(body), ct, ann))
	wantStatus(t, rec, 503)
	apptest.ProblemOf(t, rec)
	rec = apptest.Serve(down, apptest.Request("GET", "/api/files/"+id, "", ann.Cookie))
	wantStatus(t, rec, 503)
	if p := apptest.ProblemOf(t, rec); p.Status != 503 || rec.Header().Get("Cache-Control") == cacheControl {
		t.Fatalf("503 problem %+v, cache %q", p, rec.Header().Get("Cache-Control"))
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 1 {
		t.Fatalf("a failed upload left a row: %d rows", n)
	}
}

func TestSessionAndCSRFRequired(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	body, ct := form(t, field{"file", "x.png", "", pngBytes})
	req := uploadRequest(bytes.NewReader(body), ct, ann)
	req.Header.Del("X-Requested-With")
	wantStatus(t, apptest.Serve(e.h, req), 403)
	anon := uploadRequest(bytes.NewReader(body), ct, user{Cookie: &http.Cookie{Name: session.CookieName, Value: "nope"}})
	rec := apptest.Serve(e.h, anon)
	wantStatus(t, rec, 401)
	apptest.ProblemOf(t, rec)
	wantStatus(t, apptest.Serve(e.h, apptest.Request("GET", "/api/files/00000000-0000-4000-8000-000000000000", "")), 401)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 0 {
		t.Fatal("a refused upload was stored")
	}
}
