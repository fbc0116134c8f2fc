package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/backing"
	"github.com/tidings-dev/tidings/infra/backing/mailcatcher"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/serving"
	"github.com/tidings-dev/tidings/infra/local/stack"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// world is a running stack whose Kafka and SMTP the test can take down and
// bring back, as an operator's would fail.
type world struct {
	*stack.Stack
	t        *testing.T
	kafka    *backing.Kafka
	kafkaDir string
	kafkaAt  string
	// kafkaAdmin is the broker's superuser: the stack creates the manifests'
	// users and ACLs with it, as on the embedded broker.
	kafkaAdmin string
	mail       *mailcatcher.Catcher
	mailCfg    mailcatcher.Config
}

// startWorld brings up the whole stack; settings override the functions'
// defaults (stack.Options.Env, as tidings-config would on a cluster).
func startWorld(t *testing.T, settings map[string]string) *world {
	if testing.Short() {
		t.Skip("the whole-stack test builds and runs every function")
	}
	ctx := context.Background()
	w := &world{t: t, kafkaDir: t.TempDir(), kafkaAt: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), kafkaAdmin: uuid.NewString()}
	w.startKafka()
	w.mailCfg = mailcatcher.Config{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		DataDir:  t.TempDir(),
	}
	w.startMail()
	s3, key, secret := testenv.MinIO(t)
	env := map[string]string{
		"KAFKA_BROKERS": w.kafkaAt, "KAFKA_ADMIN_USER": stack.KafkaAdmin, "KAFKA_ADMIN_PASSWORD": w.kafkaAdmin,
		"DATABASE_URL": testenv.Postgres(t),
		"REDIS_URL":    testenv.Redis(t),
		"S3_ENDPOINT":  s3, "S3_ACCESS_KEY": key, "S3_SECRET_KEY": secret,
		"SMTP_ADDR": w.mailCfg.SMTPAddr,
	}
	maps.Copy(env, settings)
	var progress bytes.Buffer
	s, err := stack.Up(ctx, stack.Options{
		RepoDir: filepath.Join("..", "..", ".."), DataDir: t.TempDir(),
		Env: func(k string) string { return env[k] }, IdleTimeout: 3 * time.Second,
		Progress: &progress, FunctionOutput: testWriter{t},
	})
	if err != nil {
		t.Fatalf("stack.Up: %v\n%s", err, progress.String())
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		w.kafka.Stop(context.Background()) //nolint:errcheck
		w.mail.Close()                     //nolint:errcheck
	})
	w.Stack = s
	return w
}

func (w *world) startKafka() {
	k, err := backing.StartKafka(context.Background(), w.kafkaDir, w.kafkaAt, nil, backing.KafkaSuperuser(stack.KafkaAdmin, w.kafkaAdmin))
	if err != nil {
		w.t.Fatal(err)
	}
	w.kafka = k
}

// kcatAuth are kcat's (librdkafka's) settings for c.
func kcatAuth(c kafkaauth.Credentials) []string {
	return []string{"-X", "security.protocol=" + c.Protocol, "-X", "sasl.mechanism=" + c.Mechanism,
		"-X", "sasl.username=" + c.User, "-X", "sasl.password=" + c.Password}
}

func (w *world) startMail() {
	c, err := mailcatcher.Start(context.Background(), w.mailCfg)
	if err != nil {
		w.t.Fatal(err)
	}
	w.mail = c
}

func (w *world) mailsTo(addr string) []string { return mailsTo(w.t, w.mail.HTTPURL(), addr) }

// post sends a CloudEvent to a KafkaSink through the ingress, as an outside
// producer would.
// signupIdentity is the token subject of signup's SinkBinding, the only
// producer the users sink admits besides the relay.
const signupIdentity = "system:serviceaccount:tidings:signup-sink-oidc-sources.knative.dev-sinkbinding"

// post sends e to the KafkaSink as signup would, with its token.
func (w *world) post(sink string, e cloudevents.Event) int {
	w.t.Helper()
	return w.postWith("Bearer "+w.MintToken(signupIdentity, sink), sink, e)
}

// postWith sends e to the KafkaSink with the Authorization header auth
// (none when empty).
func (w *world) postWith(auth, sink string, e cloudevents.Event) int {
	w.t.Helper()
	req, _ := http.NewRequest("POST", w.IngressURL+"/tidings/"+sink, nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		w.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (w *world) welcomeStats() (delivered, deadLettered int64) {
	st, ok := w.SourceStats("welcome")
	if !ok {
		w.t.Fatal("no KafkaSource welcome")
	}
	return st.Delivered, st.DeadLettered
}

type testWriter struct{ t *testing.T }

func (tw testWriter) Write(p []byte) (int, error) {
	if os.Getenv("TIDINGS_TEST_VERBOSE") != "" {
		tw.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// mail makes an address unique to this run: the login failure counters live
// in the shared test Redis and outlive a run.
func mail(name string) string { return fmt.Sprintf("%s-%d@example.com", name, runID) }

var runID = time.Now().UnixNano()

// TestLocalStack brings up one whole stack and plays the stories of the
// issues through it: the walking skeleton (signup → Kafka → welcome email,
// with its faults), the social core (friends, pictures, posts, live
// notifications) and tracing (one click, one trace in Jaeger).
func TestLocalStack(t *testing.T) {
	// Every run signs up from 127.0.0.1 into the shared test Redis, which
	// outlives the run: the per-address signup limit would count earlier
	// runs. TestSecurity and functions/signup test the limit itself.
	w := startWorld(t, map[string]string{"SIGNUPS_PER_HOUR": "100000"})
	t.Run("social core", func(t *testing.T) { socialCore(t, w) })
	t.Run("walking skeleton", func(t *testing.T) { walkingSkeleton(t, w) })
	t.Run("tracing", func(t *testing.T) { tracing(t, w) })
	t.Run("status page", func(t *testing.T) { statusPage(t, w) })
}

func walkingSkeleton(t *testing.T, w *world) {
	ann := newBrowser(t, w.GatewayURL)

	var annID string
	t.Run("signup gives a user, a session and one welcome email", func(t *testing.T) {
		code, body := ann.do("POST", "/api/signup", `{"email":"`+mail("ann")+`","password":"correct horse","name":"Ann"}`)
		if code != 201 || body["id"] == nil || body["email"] != mail("ann") || body["name"] != "Ann" {
			t.Fatalf("signup: %d %v", code, body)
		}
		annID = body["id"].(string)
		if code, me := ann.do("GET", "/api/me", ""); code != 200 || me["id"] != annID {
			t.Fatalf("me: %d %v", code, me)
		}
		testenv.Eventually(t, 60*time.Second, "the welcome email", func() bool { return len(w.mailsTo(mail("ann"))) > 0 })
		if got := w.mailsTo(mail("ann")); len(got) != 1 || got[0] != "Welcome to Tidings, Ann" {
			t.Fatalf("mail: %q", got)
		}
	})

	t.Run("on the wire the event is a keyed binary-mode CloudEvent (read with kcat)", func(t *testing.T) {
		if _, err := exec.LookPath("kcat"); err != nil {
			t.Fatal("kcat is not installed (.ci/run installs it)")
		}
		// As README.md says to: the broker takes only authenticated clients.
		args := append([]string{"-b", w.kafkaAt}, kcatAuth(w.KafkaAdminCredentials())...)
		out, err := exec.Command("kcat", append(args, "-C", "-t", events.TopicUsers, "-o", "beginning", "-e", "-q",
			"-f", "KEY=%k HEADERS=%h VALUE=%s\n")...).CombinedOutput()
		if err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		var line string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, `"email":"`+mail("ann")+`"`) {
				line = l
			}
		}
		for _, want := range []string{"KEY=" + annID + " ", "ce_type=" + events.TypeUserSignedUp, "ce_specversion=1.0", "ce_id=", "ce_source=/tidings/signup", "ce_partitionkey=" + annID, `"userId":"` + annID + `"`} {
			if !strings.Contains(line, want) {
				t.Errorf("record lacks %q:\n%s", want, line)
			}
		}
		if strings.Contains(line, "password") || strings.Contains(line, "argon2") {
			t.Error("the record leaks the password")
		}
	})

	t.Run("duplicate email is 409 and sends no second email", func(t *testing.T) {
		code, _ := newBrowser(t, w.GatewayURL).do("POST", "/api/signup", `{"email":"`+strings.ToUpper(mail("ann"))+`","password":"another one","name":"Ann Two"}`)
		if code != 409 {
			t.Fatalf("status %d", code)
		}
		time.Sleep(500 * time.Millisecond)
		if got := w.mailsTo(mail("ann")); len(got) != 1 {
			t.Fatalf("mails to ann: %q", got)
		}
	})

	t.Run("login, logout and me", func(t *testing.T) {
		b := newBrowser(t, w.GatewayURL)
		if code, _ := b.do("GET", "/api/me", ""); code != 401 {
			t.Fatalf("me before login: %d", code)
		}
		if code, _ := b.do("POST", "/api/login", `{"email":"`+mail("ann")+`","password":"nope nope"}`); code != 401 {
			t.Fatalf("wrong password: %d", code)
		}
		if code, u := b.do("POST", "/api/login", `{"email":"`+mail("ann")+`","password":"correct horse"}`); code != 200 || u["id"] != annID {
			t.Fatalf("login: %d %v", code, u)
		}
		if code, _ := b.do("GET", "/api/me", ""); code != 200 {
			t.Fatalf("me after login: %d", code)
		}
		if code, _ := b.do("POST", "/api/logout", ""); code != 204 {
			t.Fatalf("logout: %d", code)
		}
		if code, _ := b.do("GET", "/api/me", ""); code != 401 {
			t.Fatalf("me after logout: %d", code)
		}
	})

	t.Run("a user.signedup again for a welcomed user sends no second email", func(t *testing.T) {
		// welcome mails each user once, at the address Postgres holds, so
		// redeliveries and new events claiming the same user send nothing.
		e, err := events.New("/tidings/signup", events.TypeUserSignedUp, annID, annID,
			events.UserSignedUp{UserID: annID, Email: mail("ann"), Name: "Ann", SignedUpAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := w.welcomeStats()
		for i := 0; i < 3; i++ {
			if code := w.post("users", e); code != 202 {
				t.Fatalf("ingress: %d", code)
			}
		}
		testenv.Eventually(t, 30*time.Second, "three deliveries", func() bool { d, _ := w.welcomeStats(); return d >= before+3 })
		if got := w.mailsTo(mail("ann")); len(got) != 1 {
			t.Fatalf("mails: %q", got)
		}
	})

	t.Run("a forged POST to a KafkaSink fails as on a cluster: 401 without a token, 403 from another producer", func(t *testing.T) {
		u := uuid.NewString()
		e, err := events.New("/outside", events.TypeUserSignedUp, u, u,
			events.UserSignedUp{UserID: u, Email: mail("forged"), Name: "Forged", SignedUpAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		friends := "system:serviceaccount:tidings:friends-sink-oidc-sources.knative.dev-sinkbinding"
		for _, c := range []struct {
			name, auth string
			want       int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"a made-up token", "Bearer eyJhbGciOiJub25lIn0.e30.", http.StatusUnauthorized},
			{"signup's token for another sink", "Bearer " + w.MintToken(signupIdentity, "posts"), http.StatusUnauthorized},
			{"friends' token", "Bearer " + w.MintToken(friends, "users"), http.StatusForbidden},
			{"an outside account", "Bearer " + w.MintToken("system:serviceaccount:tidings:default", "users"), http.StatusForbidden},
		} {
			if code := w.postWith(c.auth, "users", e); code != c.want {
				t.Errorf("%s: %d, want %d", c.name, code, c.want)
			}
		}
	})

	t.Run("a producer's token does not make a false claim true: a notification dated 2099 about no post is refused and dead-lettered", func(t *testing.T) {
		fanout := "system:serviceaccount:tidings:fanout-sink-oidc-sources.knative.dev-sinkbinding"
		post := uuid.NewString()
		e, err := events.New("/tidings/fanout", events.TypeNotificationCreated, post, annID, events.NotificationCreated{
			RecipientID: annID, Kind: events.KindPostCreated, ActorID: uuid.NewString(), ActorName: "Mallory",
			PostID: post, CauseSource: "/tidings/post", CauseID: uuid.NewString(), CreatedAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if code := w.postWith("Bearer "+w.MintToken(fanout, "notifications"), "notifications", e); code != 202 {
			t.Fatalf("ingress: %d", code)
		}
		var l letter
		testenv.Eventually(t, 60*time.Second, "the dead letter", func() bool {
			var ok bool
			l, ok = dlqList(t, w, "notify")[e.ID()]
			return ok
		})
		if l.code != "400" || !strings.Contains(l.reason, "refused") {
			t.Fatalf("dead letter %+v, want 400 refused", l)
		}
	})

	t.Run("an event that breaks the schema is dead-lettered at once with the reason", func(t *testing.T) {
		bad := cloudevents.NewEvent()
		bad.SetID("bad-1")
		bad.SetSource("/outside/producer")
		bad.SetType(events.TypeUserSignedUp)
		badUser := uuid.NewString() // a good id, so the only fault is the missing email
		bad.SetExtension(events.PartitionKeyExtension, badUser)
		_ = bad.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": badUser, "name": "No Email"})
		st0, _ := w.SourceStats("welcome")
		if code := w.post("users", bad); code != 202 {
			t.Fatalf("ingress: %d", code)
		}
		testenv.Eventually(t, 30*time.Second, "the dead letter", func() bool { _, dl := w.welcomeStats(); return dl > st0.DeadLettered })
		st1, _ := w.SourceStats("welcome")
		if st1.Retried != st0.Retried {
			t.Fatalf("a schema error was retried (%d → %d retries)", st0.Retried, st1.Retried)
		}
		letters := dlqList(t, w, "welcome")
		l, ok := letters["bad-1"]
		if !ok {
			t.Fatalf("bad-1 not on the dead-letter topic: %v", letters)
		}
		if l.code != "400" || !strings.Contains(l.reason, "email") {
			t.Fatalf("dead letter lacks the reason: %+v", l)
		}
	})

	t.Run("SMTP down past the retry window: dead-lettered, then re-driven by itself once SMTP is back, one email", func(t *testing.T) {
		w.mail.Close() //nolint:errcheck
		_, dl0 := w.welcomeStats()
		b := newBrowser(t, w.GatewayURL)
		code, body := b.do("POST", "/api/signup", `{"email":"`+mail("bob")+`","password":"correct horse","name":"Bob"}`)
		if code != 201 {
			t.Fatalf("signup with SMTP down: %d", code)
		}
		testenv.Eventually(t, 150*time.Second, "the retries to end in the dead-letter topic", func() bool { _, dl := w.welcomeStats(); return dl > dl0 })
		var bobEvent string
		for id, l := range dlqList(t, w, "welcome") {
			if l.subject == body["id"] {
				bobEvent = id
				if l.code != "500" {
					t.Errorf("dead letter code %q, want 500", l.code)
				}
			}
		}
		if bobEvent == "" {
			t.Fatal("Bob's signup is not on the dead-letter topic")
		}
		// No human: redrive-welcome (knative/sources.yaml, "Re-drive") has
		// tried the letter while SMTP was down and tries again 30 s later.
		w.startMail()
		testenv.Eventually(t, 90*time.Second, "Bob's email, re-driven from the dead-letter topic", func() bool { return len(w.mailsTo(mail("bob"))) > 0 })
		// The mail is out before welcome commits and answers, so the
		// dispatcher may count the delivery a moment later.
		testenv.Eventually(t, 10*time.Second, "redrive-welcome to count a failed try while SMTP was down, then a delivery", func() bool {
			st, _ := w.SourceStats("redrive-welcome")
			return st.Delivered >= 1 && st.Retried >= 1
		})
		dlqReplay(t, w, "welcome", bobEvent) // an operator's late replay changes nothing
		time.Sleep(time.Second)
		if got := w.mailsTo(mail("bob")); len(got) != 1 {
			t.Fatalf("mails to bob: %q", got)
		}
	})

	t.Run("Kafka unreachable: signup succeeds, the email comes once Kafka is back and the relay runs", func(t *testing.T) {
		if err := w.kafka.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, w.GatewayURL)
		if code, body := b.do("POST", "/api/signup", `{"email":"`+mail("cid")+`","password":"correct horse","name":"Cid"}`); code != 201 {
			t.Fatalf("signup with Kafka down: %d %v", code, body)
		}
		time.Sleep(2 * time.Second)
		if got := w.mailsTo(mail("cid")); len(got) != 0 {
			t.Fatal("mail arrived while Kafka was down?")
		}
		w.startKafka()
		testenv.Eventually(t, 90*time.Second, "Cid's email after Kafka came back", func() bool {
			w.Ping(context.Background(), "outbox-relay") //nolint:errcheck
			return len(w.mailsTo(mail("cid"))) > 0
		})
		if got := w.mailsTo(mail("cid")); len(got) != 1 {
			t.Fatalf("mails to cid: %q", got)
		}
	})

	t.Run("idle functions scale to zero and cold-start on the next request", func(t *testing.T) {
		signup := w.Service("signup")
		testenv.Eventually(t, 30*time.Second, "signup to scale to zero", func() bool { return signup.State() == serving.StateStopped })
		before := len(signup.ColdStarts())
		code, _ := newBrowser(t, w.GatewayURL).do("POST", "/api/signup", `{"email":"`+mail("dee")+`","password":"correct horse","name":"Dee"}`)
		if code != 201 {
			t.Fatalf("signup after scale to zero: %d", code)
		}
		if got := len(signup.ColdStarts()); got != before+1 {
			t.Fatalf("cold starts %d → %d, want one more", before, got)
		}
	})
}
