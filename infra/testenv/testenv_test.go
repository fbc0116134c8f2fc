package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dbName(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestPostgresGivesFreshIsolatedDatabases(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("first", func(t *testing.T) {
		first = Postgres(t)
		second := Postgres(t)
		if first == second {
			t.Fatalf("two calls gave the same database %s", first)
		}
		a, b := connect(t, first), connect(t, second)
		var tables int
		if err := a.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("fresh database has %d tables (%v)", tables, err)
		}
		if _, err := a.Exec(ctx, "CREATE TABLE only_here (x int)"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Exec(ctx, "SELECT * FROM only_here"); err == nil {
			t.Fatal("a table made in one database is visible in the other")
		}
		var enc string
		a.QueryRow(ctx, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").Scan(&enc)
		if enc != "UTF8" {
			t.Errorf("encoding %q", enc)
		}
		// The connection stays open: cleanup must drop the database anyway.
	})
	// After the subtest's cleanup the database is gone.
	admin := connect(t, sharedPostgres.baseURL)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbName(t, first)).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after cleanup", dbName(t, first))
	}
}

func TestPostgresStartsPrivateServerWhenDefaultIsDown(t *testing.T) {
	down := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable", FreePort(t))
	s := &postgresServer{defaultURL: down}
	t.Cleanup(func() {
		if s.private != nil {
			s.private.Stop(context.Background())
		}
	})
	dbURL := s.database(t, "template0")
	if s.private == nil {
		t.Fatal("no private server was started")
	}
	u, _ := url.Parse(dbURL)
	if u.Port() == strconv.Itoa(mustPort(t, down)) {
		t.Fatalf("database URL %s points at the unreachable server", dbURL)
	}
	var one int
	if err := connect(t, dbURL).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("private database: %v", err)
	}
	// Reused, not started again, for the next call.
	before := s.private
	s.database(t, "template0")
	if s.private != before {
		t.Fatal("a second private server was started")
	}
}

func TestPostgresFromCopiesATemplatePreparedOnce(t *testing.T) {
	key := RandomName("k")
	prepared := 0
	prepare := func(ctx context.Context, url string) error {
		prepared++
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, `CREATE TABLE seed (n int); INSERT INTO seed VALUES (1)`)
		return err
	}
	a, b := PostgresFrom(t, key, prepare), PostgresFrom(t, key, prepare)
	if prepared != 1 {
		t.Fatalf("prepare ran %d times, want once per binary", prepared)
	}
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
	ctx := context.Background()
	if _, err := connect(t, a).Exec(ctx, `INSERT INTO seed VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	for url, want := range map[string]int{a: 2, b: 1} {
		var n int
		if err := connect(t, url).QueryRow(ctx, `SELECT count(*) FROM seed`).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d rows (%v), want %d: each copy is its own", url, n, err, want)
		}
	}
}

func TestStaleTemplatesOfEndedBinariesAreDropped(t *testing.T) {
	Postgres(t) // finds the server
	s := sharedPostgres
	ctx := context.Background()
	// A pid that cannot be alive: beyond the kernel's pid_max default range.
	dead, mine := "tidings_tpl_99999999_"+RandomName(""), RandomName(templatePrefix)
	for _, name := range []string{dead, mine} {
		if err := execAdmin(ctx, s.baseURL, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = execAdmin(ctx, s.baseURL, "DROP DATABASE IF EXISTS "+mine) })
	s.dropStaleTemplates(ctx)
	exists := func(name string) bool {
		var ok bool
		err := connect(t, s.baseURL).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&ok)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists(dead) {
		t.Errorf("%s of an ended binary is still there", dead)
	}
	if !exists(mine) {
		t.Errorf("%s of this binary was dropped", mine)
	}
}

func TestPostgresExplicitURLThatIsDownFails(t *testing.T) {
	s := &postgresServer{envURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", FreePort(t)), defaultURL: defaultPostgresURL}
	s.find()
	if s.err == nil || !strings.Contains(s.err.Error(), "TIDINGS_TEST_DATABASE_URL") {
		t.Fatalf("want an error naming the env var, got %v", s.err)
	}
	s2 := &postgresServer{envURL: "host=localhost user=x"}
	s2.find()
	if s2.err == nil {
		t.Fatal("a key=value DSN should be refused with a clear error")
	}
}

func mustPort(t *testing.T, raw string) int {
	u, _ := url.Parse(raw)
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRedisWorks(t *testing.T) {
	opts, err := redis.ParseURL(Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	key := RandomName("testenv:")
	if err := c.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	defer c.Del(ctx, key)
	if got := c.Get(ctx, key).Val(); got != "v" {
		t.Fatalf("GET = %q", got)
	}
}

func TestRedisStartsPrivateServerWhenDefaultIsDown(t *testing.T) {
	s := &redisServer{defaultURL: fmt.Sprintf("redis://127.0.0.1:%d/0", FreePort(t))}
	t.Cleanup(func() {
		if s.private != nil {
			s.private.Stop(context.Background())
		}
	})
	url := s.get(t)
	if s.private == nil || url == s.defaultURL {
		t.Fatalf("no private server (url %s)", url)
	}
	if err := pingRedis(url); err != nil {
		t.Fatal(err)
	}
	bad := &redisServer{envURL: s.defaultURL}
	bad.find()
	if bad.err == nil {
		t.Fatal("an unreachable TIDINGS_TEST_REDIS_URL must be an error")
	}
}

func TestKafkaBrokersAreSeparate(t *testing.T) {
	a, b := Kafka(t), Kafka(t)
	if a[0] == b[0] {
		t.Fatalf("two calls share broker %s", a[0])
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_1_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	p, err := sarama.NewSyncProducer(a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "only.in.a", Value: sarama.StringEncoder("x")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		brokers []string
		want    bool
	}{{a, true}, {b, false}} {
		client, err := sarama.NewClient(tc.brokers, cfg)
		if err != nil {
			t.Fatal(err)
		}
		topics, err := client.Topics()
		client.Close()
		if err != nil {
			t.Fatal(err)
		}
		has := false
		for _, topic := range topics {
			has = has || topic == "only.in.a"
		}
		if has != tc.want {
			t.Errorf("broker %v has topic: %v, want %v", tc.brokers, has, tc.want)
		}
	}
}

func TestS3BucketsAreFreshAndCleanedUp(t *testing.T) {
	ctx := context.Background()
	var first S3
	t.Run("buckets", func(t *testing.T) {
		first = S3Bucket(t)
		second := S3Bucket(t)
		if first.Bucket == second.Bucket {
			t.Fatal("same bucket twice")
		}
		if _, err := first.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(first.Bucket), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
		out, err := first.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(first.Bucket), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(body) != "v" {
			t.Fatalf("object = %q", body)
		}
		if _, err := second.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(second.Bucket), Key: aws.String("k")}); err == nil {
			t.Fatal("object visible in the other bucket")
		}
	})
	ep, ak, sk := MinIO(t)
	if _, err := S3Client(ep, ak, sk).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(first.Bucket)}); err == nil {
		t.Fatalf("bucket %s (with an object in it) survived cleanup", first.Bucket)
	}
}

func TestMailCatchersAreSeparate(t *testing.T) {
	a, b := Mail(t), Mail(t)
	msg := "Subject: hi\r\n\r\nbody\r\n"
	if err := smtp.SendMail(a.SMTPAddr(), nil, "x@test", []string{"y@test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if len(a.Messages()) != 1 || len(b.Messages()) != 0 {
		t.Fatalf("a has %d, b has %d messages", len(a.Messages()), len(b.Messages()))
	}
	if !strings.HasPrefix(a.HTTPURL(), "http://127.0.0.1:") {
		t.Fatalf("HTTPURL %q", a.HTTPURL())
	}
}

func TestFreePortCanBeBound(t *testing.T) {
	p := FreePort(t)
	if p <= 0 {
		t.Fatalf("port %d", p)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func TestSweepRemovesDirsOfDeadBinariesOnly(t *testing.T) {
	// A pid that cannot be alive: beyond the kernel's pid_max default range.
	dead := filepath.Join(os.TempDir(), "tidings-testenv-x-99999999-abc")
	mine := filepath.Join(os.TempDir(), fmt.Sprintf("tidings-testenv-x-%d-abc", os.Getpid()))
	for _, d := range []string{dead, mine} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(mine)
	defer os.RemoveAll(dead)
	sweepDeadDirs()
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dir of a dead binary kept: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("own dir removed: %v", err)
	}
}
