package main

import (
	"bytes"
	"context"
	"image"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// An account keeps at most its quota of pictures, by count and by the bytes
// stored (re-encoded, not as uploaded); one more is a 403 naming the file,
// and nothing is left in the bucket.
func TestUploadQuotaByCountAndBytes(t *testing.T) {
	small := len(mustStrip(t, pngBytes).data)
	noise := noisePNG(32, 32)
	if n := len(mustStrip(t, noise).data); 3*small >= 1000 || n <= 1000 {
		t.Fatalf("fixtures: %d-byte and %d-byte pictures stored do not straddle the quota", small, n)
	}
	t.Setenv("UPLOAD_QUOTA_FILES", "3")
	t.Setenv("UPLOAD_QUOTA_BYTES", "1000")
	e := setup(t)
	ann, bob := e.user(t, "ann@example.com"), e.user(t, "bob@example.com")
	for i := 0; i < 3; i++ {
		wantStatus(t, e.upload(t, ann, field{"file", "x.png", "", pngBytes}), 201)
	}
	rec := e.upload(t, ann, field{"file", "x.png", "", pngBytes})
	wantStatus(t, rec, 403)
	if p := apptest.ProblemOf(t, rec); !slices.Equal(p.Fields(), []string{"file"}) {
		t.Fatalf("count: %+v", p)
	}
	// Bytes: 5 kB uploaded fit, as what is stored is the picture alone...
	padded := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{0}, 5000)...)
	up := uploadedOf(t, e.upload(t, bob, field{"file", "x.png", "", padded}))
	if s := e.stored(t, up.ID); s.size != int64(small) {
		t.Fatalf("stored %d bytes for a %d-byte picture", s.size, small)
	}
	// ...and a picture that does not compress does not.
	rec = e.upload(t, bob, field{"file", "x.png", "", noise})
	wantStatus(t, rec, 403)
	apptest.ProblemOf(t, rec)
	if n := len(e.objects(t)); n != 4 {
		t.Fatalf("bucket holds %d objects, want 4", n)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
}

// noisePNG is a w × h picture that no encoder makes small.
func noisePNG(w, h int) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32())
	}
	return encodePNG(m)
}

// Parallel uploads cannot all take the last place.
func TestUploadQuotaHoldsUnderConcurrency(t *testing.T) {
	t.Setenv("UPLOAD_QUOTA_FILES", "2")
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- e.upload(t, ann, field{"file", "x.png", "", pngBytes}).Code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 2 || count[403] != 6 {
		t.Fatalf("statuses %v, want 2 × 201 and 6 × 403", count)
	}
	testenv.Eventually(t, 5*time.Second, "refused objects to be removed", func() bool { return len(e.objects(t)) == 2 })
}

// The sweep removes pictures older than a day that no post uses, object and
// row; a picture in a post, or a young one, stays.
func TestSweepRemovesOldUnattachedPictures(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	ctx := context.Background()
	ids := map[string]string{}
	for _, name := range []string{"old-unattached", "old-in-post", "young"} {
		rec := e.upload(t, ann, field{"file", "x.png", "", pngBytes})
		wantStatus(t, rec, 201)
		var id string
		if err := e.a.Pool.QueryRow(ctx, `SELECT id::text FROM files ORDER BY created_at DESC LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	if _, err := e.a.Pool.Exec(ctx, `UPDATE files SET created_at = now() - interval '25 hours' WHERE id = ANY($1::uuid[])`,
		[]string{ids["old-unattached"], ids["old-in-post"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Pool.Exec(ctx, `INSERT INTO posts (author_id, text, file_id) VALUES ($1, 'hi', $2)`, ann.ID, ids["old-in-post"]); err != nil {
		t.Fatal(err)
	}
	var gone string
	e.a.Pool.QueryRow(ctx, `SELECT object_key FROM files WHERE id = $1`, ids["old-unattached"]).Scan(&gone) //nolint:errcheck

	// As the PingSource delivers it: a CloudEvent POST, no session, no CSRF header.
	ping := func(want string) {
		t.Helper()
		req := apptest.Request("POST", SweepPath, `{"reason":"picture sweep"}`)
		req.Header.Del("X-Requested-With")
		req.Header.Set("Ce-Type", "dev.knative.sources.ping")
		rec := apptest.Serve(e.h, req)
		wantStatus(t, rec, 200)
		if got := strings.TrimSpace(rec.Body.String()); got != want {
			t.Fatalf("sweep answered %s, want %s", got, want)
		}
	}
	ping(`{"removed":1}`)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files WHERE id = $1`, ids["old-unattached"]); n != 0 {
		t.Fatal("the old unattached picture's row is still there")
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 2 {
		t.Fatalf("%d rows left, want 2", n)
	}
	if objs := e.objects(t); len(objs) != 2 || slices.Contains(objs, gone) {
		t.Fatalf("bucket holds %v; %s should be gone", objs, gone)
	}
	ping(`{"removed":0}`) // nothing more to do
	// The sweep is not an API route: a browser request through /api is not it.
	wantStatus(t, apptest.Serve(e.h, apptest.Request("POST", "/api/sweep", "{}", ann.Cookie)), 404)
}

// With the bucket down the sweep answers 503 and removes no row, so no
// object is ever left with nothing pointing at it.
func TestSweepWithTheStoreDownKeepsTheRows(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "ann@example.com")
	wantStatus(t, e.upload(t, ann, field{"file", "x.png", "", pngBytes}), 201)
	if _, err := e.a.Pool.Exec(context.Background(), `UPDATE files SET created_at = now() - interval '2 days'`); err != nil {
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
	rec := apptest.Serve(down, apptest.Request("POST", SweepPath, ""))
	wantStatus(t, rec, 503)
	apptest.ProblemOf(t, rec)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM files`); n != 1 {
		t.Fatalf("%d rows, want the 1 kept", n)
	}
}
