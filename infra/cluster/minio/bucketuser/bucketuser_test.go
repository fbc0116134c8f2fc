package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const rootUser, rootPass = "root-for-tests", "root-for-tests-secret"

// startMinIO runs the MinIO server this module builds (go tool minio, the
// image's source) on a free loopback port and returns its endpoint.
func startMinIO(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", "minio").Output()
	if err != nil {
		t.Fatalf("build MinIO (go tool -n minio): %v", err)
	}
	bin := strings.TrimSpace(string(out))
	port, console := freePort(t), freePort(t)
	cmd := exec.Command(bin, "server", t.TempDir(), "--quiet",
		"--address", fmt.Sprintf("127.0.0.1:%d", port), "--console-address", fmt.Sprintf("127.0.0.1:%d", console))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+rootUser, "MINIO_ROOT_PASSWORD="+rootPass, "MINIO_BROWSER=off")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(endpoint + "/minio/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return endpoint
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO never became ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func client(t *testing.T, endpoint, key, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(endpoint, "http://"), &minio.Options{Creds: credentials.NewStaticV4(key, secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func denied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}

func TestEnsureGivesUploadOnlyItsBucket(t *testing.T) {
	ctx := context.Background()
	endpoint := startMinIO(t)
	cfg := Config{Endpoint: endpoint, RootUser: rootUser, RootPass: rootPass, Bucket: "tidings-pictures", AccessKey: "tidings-upload", SecretKey: "upload-secret-1"}
	for run := 1; run <= 2; run++ { // the Job may run again: nothing changes, nothing fails
		if err := Ensure(ctx, cfg); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}

	root := client(t, endpoint, rootUser, rootPass)
	if err := root.MakeBucket(ctx, "other", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	user := client(t, endpoint, cfg.AccessKey, cfg.SecretKey)

	// What objectstore does: check the bucket, read its policy, write and read objects.
	if ok, err := user.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		t.Fatalf("BucketExists as upload: %v, %v", ok, err)
	}
	if _, err := user.GetBucketPolicy(ctx, cfg.Bucket); err != nil {
		t.Fatalf("GetBucketPolicy as upload: %v", err)
	}
	if _, err := user.PutObject(ctx, cfg.Bucket, "p/1.png", strings.NewReader("png"), 3, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject as upload: %v", err)
	}
	obj, err := user.GetObject(ctx, cfg.Bucket, "p/1.png", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(obj); err != nil || string(b) != "png" {
		t.Fatalf("GetObject as upload: %q, %v", b, err)
	}
	if err := user.RemoveObject(ctx, cfg.Bucket, "p/1.png", minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("RemoveObject as upload: %v", err)
	}

	// Nothing else.
	if _, err := user.PutObject(ctx, "other", "x", strings.NewReader("x"), 1, minio.PutObjectOptions{}); !denied(err) {
		t.Errorf("PutObject into another bucket: %v, want AccessDenied", err)
	}
	// MinIO lists only the buckets a user may access.
	if buckets, err := user.ListBuckets(ctx); err == nil {
		for _, b := range buckets {
			if b.Name != cfg.Bucket {
				t.Errorf("ListBuckets shows the upload user bucket %s", b.Name)
			}
		}
	} else if !denied(err) {
		t.Errorf("ListBuckets: %v", err)
	}
	if _, err := user.GetObject(ctx, "other", "x", minio.GetObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := user.StatObject(ctx, "other", "x", minio.StatObjectOptions{}); !denied(err) {
		t.Errorf("StatObject in another bucket: %v, want AccessDenied", err)
	}
	if err := user.MakeBucket(ctx, "mine", minio.MakeBucketOptions{}); !denied(err) {
		t.Errorf("MakeBucket of another bucket: %v, want AccessDenied", err)
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::tidings-pictures/*"]}]}`
	if err := user.SetBucketPolicy(ctx, cfg.Bucket, public); !denied(err) {
		t.Errorf("SetBucketPolicy (make the bucket public): %v, want AccessDenied", err)
	}

	// A rotated secret takes over from the old one.
	cfg.SecretKey = "upload-secret-2"
	if err := Ensure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := user.BucketExists(ctx, cfg.Bucket); err == nil {
		t.Error("the old secret still works after a rotation")
	}
	if ok, err := client(t, endpoint, cfg.AccessKey, cfg.SecretKey).BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		t.Errorf("the new secret: %v, %v", ok, err)
	}
}

func TestEnsureFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := Config{Endpoint: "http://127.0.0.1:1", RootUser: rootUser, RootPass: rootPass, Bucket: "b", AccessKey: "u", SecretKey: "secret-key"}
	if err := Ensure(ctx, good); err == nil || !strings.Contains(err.Error(), "bucket b") {
		t.Errorf("MinIO down: %v", err)
	}
	bad := good
	bad.Endpoint = "minio:9000"
	if err := Ensure(ctx, bad); err == nil || !strings.Contains(err.Error(), "want http(s)://host:port") {
		t.Errorf("endpoint without scheme: %v", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, k := range []string{"MINIO_ENDPOINT", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"} {
		t.Setenv(k, "")
	}
	_, err := configFromEnv()
	for _, k := range []string{"MINIO_ENDPOINT", "MINIO_ROOT_PASSWORD", "S3_SECRET_KEY"} {
		if err == nil || !strings.Contains(err.Error(), k+" is not set") {
			t.Errorf("with nothing set, error %v does not name %s", err, k)
		}
	}
	t.Setenv("MINIO_ENDPOINT", "http://minio:9000")
	t.Setenv("MINIO_ROOT_USER", "admin")
	t.Setenv("MINIO_ROOT_PASSWORD", "x")
	t.Setenv("S3_BUCKET", "b")
	t.Setenv("S3_ACCESS_KEY", "admin")
	t.Setenv("S3_SECRET_KEY", "y")
	if _, err := configFromEnv(); err == nil || !strings.Contains(err.Error(), "root user") {
		t.Errorf("upload given the root user: %v", err)
	}
	t.Setenv("S3_ACCESS_KEY", "tidings-upload")
	if c, err := configFromEnv(); err != nil || c.Bucket != "b" || c.AccessKey != "tidings-upload" {
		t.Errorf("configFromEnv = %+v, %v", c, err)
	}
}
