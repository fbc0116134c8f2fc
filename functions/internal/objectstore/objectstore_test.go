package objectstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tidings-dev/tidings/infra/testenv"
)

// anonymousGet fetches an object with no credentials, as a stranger's
// browser would.
func anonymousGet(t *testing.T, endpoint, bucket, key string) int {
	t.Helper()
	resp, err := http.Get(endpoint + "/" + bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEnsureBucketCreatesAPrivateBucket(t *testing.T) {
	endpoint, ak, sk := testenv.MinIO(t)
	bucket := testenv.RandomName("os-")
	s := New(Config{Endpoint: endpoint, AccessKey: ak, SecretKey: sk, Bucket: bucket})
	ctx := context.Background()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	client := testenv.S3Client(endpoint, ak, sk)
	t.Cleanup(func() {
		client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("k")}) //nolint:errcheck
		client.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket})                       //nolint:errcheck
	})
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("second EnsureBucket: %v", err)
	}
	if err := s.Put(ctx, "k", "image/png", []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if code := anonymousGet(t, endpoint, bucket, "k"); code != http.StatusForbidden {
		t.Fatalf("anonymous read answered %d, want 403", code)
	}
	body, n, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if string(got) != "bytes" || n != 5 {
		t.Fatalf("read back %q (%d bytes)", got, n)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
}

func TestEnsureBucketRemovesAPublicPolicy(t *testing.T) {
	b := testenv.S3Bucket(t)
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + b.Bucket + `/*"]}]}`
	if _, err := b.Client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b.Bucket, Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Bucket, Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if code := anonymousGet(t, b.Endpoint, b.Bucket, "k"); code != http.StatusOK {
		t.Fatalf("setup: the public policy did not take (%d)", code)
	}
	s := New(Config{Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: b.SecretKey, Bucket: b.Bucket})
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if code := anonymousGet(t, b.Endpoint, b.Bucket, "k"); code != http.StatusForbidden {
		t.Fatalf("anonymous read after EnsureBucket answered %d, want 403", code)
	}
}

func TestAStoreThatIsDownFailsAndRecoversLater(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s := New(Config{Endpoint: dead, AccessKey: "a", SecretKey: "b", Bucket: "x"})
	if err := s.Put(context.Background(), "k", "image/png", []byte("x")); err == nil {
		t.Fatal("put to a dead server succeeded")
	}
	if _, _, err := s.Get(context.Background(), "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("get from a dead server: %v, want a failure that is not ErrNotFound", err)
	}
}

func TestConfigFromEnvNeedsKeys(t *testing.T) {
	t.Setenv("S3_ENDPOINT", "")
	t.Setenv("S3_BUCKET", "")
	t.Setenv("S3_ACCESS_KEY", "")
	t.Setenv("S3_SECRET_KEY", "")
	if _, err := ConfigFromEnv(); err == nil {
		t.Fatal("no keys accepted")
	}
	t.Setenv("S3_ACCESS_KEY", "ak")
	t.Setenv("S3_SECRET_KEY", "sk")
	c, err := ConfigFromEnv()
	if err != nil || c.Endpoint != DefaultEndpoint || c.Bucket != DefaultBucket || c.AccessKey != "ak" || c.SecretKey != "sk" {
		t.Fatalf("%+v %v", c, err)
	}
}
