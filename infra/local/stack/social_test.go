package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/eventing/deadletter"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// person is someone using Tidings through the gateway, with a live
// notification stream.
type person struct {
	*browser
	id, name string
	origin   string // the page's origin: the address the stack prints (PUBLIC_URL)
	live     chan map[string]any
}

func signUp(t *testing.T, w *world, name string) *person {
	t.Helper()
	p := &person{browser: newBrowser(t, w.GatewayURL), name: name, origin: w.PublicURL}
	code, body := p.do("POST", "/api/signup", fmt.Sprintf(`{"email":%q,"password":"correct horse","name":%q}`, mail("social-"+strings.ToLower(name)), name))
	if code != 201 {
		t.Fatalf("signup %s: %d %v", name, code, body)
	}
	p.id = body["id"].(string)
	return p
}

// listen opens the person's notification WebSocket, as the web app does.
func (p *person) listen(t *testing.T) {
	t.Helper()
	u, _ := url.Parse(p.base)
	hdr := http.Header{"Origin": {p.origin}}
	for _, c := range p.c.Jar.Cookies(u) {
		hdr.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/api/notifications/stream", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		code := 0
		if res != nil {
			code = res.StatusCode
		}
		t.Fatalf("%s's WebSocket: %v (HTTP %d)", p.name, err, code)
	}
	p.live = make(chan map[string]any, 100)
	go func() {
		defer close(p.live)
		for {
			_, msg, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var n map[string]any
			if json.Unmarshal(msg, &n) == nil {
				p.live <- n
			}
		}
	}()
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "test over") })
}

// expect waits for the next live notification and checks its type and text.
func (p *person) expect(t *testing.T, typ, text string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case n, ok := <-p.live:
		if !ok {
			t.Fatalf("%s's WebSocket closed", p.name)
		}
		if n["type"] != typ || n["text"] != text {
			t.Fatalf("%s got %v, want %s %q", p.name, n, typ, text)
		}
		return time.Since(start)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s got no %s notification", p.name, typ)
	}
	return 0
}

// quiet checks no live notification arrives for a while.
func (p *person) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case n := <-p.live:
		t.Fatalf("%s got an unexpected notification %v", p.name, n)
	case <-time.After(d):
	}
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (p *person) upload(t *testing.T, name string, data []byte) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data) //nolint:errcheck
	mw.Close()
	req, _ := http.NewRequest("POST", p.base+"/api/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	code, raw, _ := p.send(req)
	var out map[string]any
	json.Unmarshal(raw, &out) //nolint:errcheck
	return code, out
}

func (p *person) get(t *testing.T, path string) (int, []byte, http.Header) {
	req, _ := http.NewRequest("GET", p.base+path, nil)
	return p.send(req)
}

func items(body map[string]any, key string) []map[string]any {
	list, _ := body[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func socialCore(t *testing.T, w *world) {
	ann, bob := signUp(t, w, "Ann"), signUp(t, w, "Bob")
	ann.listen(t)
	bob.listen(t)

	t.Run("1 Ann finds Bob and sends a request; Bob's WebSocket receives it", func(t *testing.T) {
		code, body := ann.do("GET", "/api/users?q=bob", "")
		found := items(body, "users")
		if code != 200 || len(found) == 0 {
			t.Fatalf("search: %d %v", code, body)
		}
		var hit map[string]any
		for _, u := range found {
			if u["id"] == bob.id {
				hit = u
			}
		}
		if hit == nil || hit["relation"] != "none" {
			t.Fatalf("Bob not found as a stranger: %v", found)
		}
		code, req := ann.do("POST", "/api/friends/requests", fmt.Sprintf(`{"userId":%q}`, bob.id))
		if code != 201 || req["status"] != "pending" {
			t.Fatalf("request: %d %v", code, req)
		}
		bob.expect(t, "friend.requested", "Ann sent you a friend request")
	})

	t.Run("2 Bob accepts and Ann's WebSocket receives that", func(t *testing.T) {
		code, body := bob.do("GET", "/api/friends/requests", "")
		incoming := items(body, "incoming")
		if code != 200 || len(incoming) != 1 {
			t.Fatalf("requests: %d %v", code, body)
		}
		if code, r := bob.do("POST", fmt.Sprintf("/api/friends/requests/%s/accept", incoming[0]["id"]), ""); code != 200 || r["status"] != "accepted" {
			t.Fatalf("accept: %d %v", code, r)
		}
		ann.expect(t, "friend.accepted", "Bob accepted your friend request")
		if code, body := ann.do("GET", "/api/friends", ""); code != 200 || len(items(body, "friends")) != 1 {
			t.Fatalf("Ann's friends: %d %v", code, body)
		}
	})

	var src, postID string
	picture := pngBytes(t)
	t.Run("3 Ann posts with a picture; Bob's WebSocket gets 'Ann posted'", func(t *testing.T) {
		code, file := ann.upload(t, "me.png", picture)
		if code != 201 || file["src"] == nil {
			t.Fatalf("upload: %d %v", code, file)
		}
		src = file["src"].(string)
		code, post := ann.do("POST", "/api/posts", fmt.Sprintf(`{"text":"Hello from the lake","fileId":%q}`, file["id"]))
		if code != 201 {
			t.Fatalf("post: %d %v", code, post)
		}
		postID = post["id"].(string)
		took := bob.expect(t, "post.created", "Ann posted")
		t.Logf("post → Bob's WebSocket: %s (includes cold starts of fanout and notify)", took.Round(time.Millisecond))
	})

	t.Run("4 Bob's feed shows the post and Bob can load the picture", func(t *testing.T) {
		code, feed := bob.do("GET", "/api/posts", "")
		posts := items(feed, "posts")
		if code != 200 || len(posts) == 0 || posts[0]["id"] != postID {
			t.Fatalf("Bob's feed: %d %v", code, feed)
		}
		if img, _ := posts[0]["image"].(map[string]any); img == nil || img["src"] != src {
			t.Fatalf("post image: %v", posts[0])
		}
		code, raw, hdr := bob.get(t, src)
		if code != 200 || !bytes.Equal(raw, picture) || hdr.Get("Content-Type") != "image/png" || hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("picture for Bob: %d %q %q", code, hdr.Get("Content-Type"), hdr.Get("X-Content-Type-Options"))
		}
		// The link a notification opens: the post alone.
		if code, one := bob.do("GET", "/api/posts/"+postID, ""); code != 200 || one["id"] != postID {
			t.Fatalf("the single post for Bob: %d %v", code, one)
		}
	})

	t.Run("5 Cid, a stranger, sees neither the post, nor the picture, nor Ann's posts", func(t *testing.T) {
		cid := signUp(t, w, "Cid")
		if code, feed := cid.do("GET", "/api/posts", ""); code != 200 || len(items(feed, "posts")) != 0 {
			t.Fatalf("Cid's feed: %d %v", code, feed)
		}
		if code, _, _ := cid.get(t, src); code != 404 {
			t.Fatalf("picture for Cid: %d", code)
		}
		if code, _ := cid.do("GET", "/api/users/"+ann.id+"/posts", ""); code != 404 && code != 403 {
			t.Fatalf("Ann's posts for Cid: %d", code)
		}
		if code, _ := cid.do("GET", "/api/posts/"+postID, ""); code != 404 {
			t.Fatalf("the single post for Cid: %d", code)
		}
		// Who Ann is, though, Cid may see: her card, with no posts in it.
		if code, card := cid.do("GET", "/api/users/"+ann.id, ""); code != 200 || card["name"] != "Ann" || card["relation"] != "none" {
			t.Fatalf("Ann's card for Cid: %d %v", code, card)
		}
	})

	t.Run("6 bad input gets a clear error and writes nothing", func(t *testing.T) {
		_, before := bob.do("GET", "/api/posts", "")
		cases := []struct {
			method, path, body string
			want               int
		}{
			{"POST", "/api/posts", `{"text":""}`, 400}, // neither text nor a picture
			{"POST", "/api/posts", `{"text":"` + strings.Repeat("x", 5001) + `"}`, 400},
			{"POST", "/api/posts", `{"text":"hi","fileId":"not-mine"}`, 400},
			{"POST", "/api/posts", `{"text":`, 400},
			{"POST", "/api/friends/requests", fmt.Sprintf(`{"userId":%q}`, ann.id), 400},
			{"POST", "/api/friends/requests", fmt.Sprintf(`{"userId":%q}`, bob.id), 409},
			{"POST", "/api/notifications/read", `{"ids":["nope"]}`, 400},
			{"GET", "/api/posts?limit=1000", "", 400},
		}
		for _, c := range cases {
			code, body := ann.do(c.method, c.path, c.body)
			if code != c.want || body["title"] == nil {
				t.Errorf("%s %s %.30s: %d %v, want %d problem", c.method, c.path, c.body, code, body, c.want)
			}
		}
		if code, _ := ann.upload(t, "notes.png", []byte("just text, not a picture")); code != 415 {
			t.Errorf("text disguised as PNG: %d, want 415", code)
		}
		if _, after := bob.do("GET", "/api/posts", ""); len(items(after, "posts")) != len(items(before, "posts")) {
			t.Error("a bad request changed Bob's feed")
		}
		bob.quiet(t, time.Second)
	})

	t.Run("7 replaying the same events changes nothing", func(t *testing.T) {
		_, annBefore := ann.do("GET", "/api/notifications", "")
		_, bobBefore := bob.do("GET", "/api/notifications", "")
		ctx := context.Background()
		topics := map[string]string{}
		for _, typ := range events.Types() {
			topics[typ], _ = events.TopicOf(typ)
		}
		var all []deadletter.Letter
		for _, topic := range []string{events.TopicFriends, events.TopicPosts, events.TopicNotifications} {
			letters, err := deadletter.List(ctx, []string{w.kafkaAt}, w.dlqAuth(), topic)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, letters...)
		}
		if len(all) < 4 {
			t.Fatalf("only %d events on the topics", len(all))
		}
		st0, _ := w.SourceStats("notify")
		if err := deadletter.Replay(ctx, []string{w.kafkaAt}, w.dlqAuth(), all, deadletter.TopicByType(topics)); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "the replayed events to be delivered again", func() bool {
			st, _ := w.SourceStats("notify")
			return st.Delivered >= st0.Delivered+int64(len(all))-1 // the post.created goes to fanout
		})
		ann.quiet(t, time.Second)
		bob.quiet(t, 0)
		_, annAfter := ann.do("GET", "/api/notifications", "")
		_, bobAfter := bob.do("GET", "/api/notifications", "")
		if len(items(annAfter, "notifications")) != len(items(annBefore, "notifications")) || len(items(bobAfter, "notifications")) != len(items(bobBefore, "notifications")) {
			t.Fatalf("replay changed notifications: Ann %d→%d, Bob %d→%d",
				len(items(annBefore, "notifications")), len(items(annAfter, "notifications")),
				len(items(bobBefore, "notifications")), len(items(bobAfter, "notifications")))
		}
		if _, feed := bob.do("GET", "/api/posts", ""); len(items(feed, "posts")) != 1 {
			t.Fatalf("replay changed Bob's feed: %v", feed)
		}
	})
}
