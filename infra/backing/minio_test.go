package backing

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func skipIfMinIONeedsBuild(t *testing.T) {
	if testing.Short() && !MinIOBinaryBuilt() {
		t.Skip("-short: MinIO is not built yet (the first build takes minutes)")
	}
}

func TestMinIOServerStoresObjectsAcrossRestart(t *testing.T) {
	skipIfMinIONeedsBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	m, err := StartMinIO(ctx, dir, freePort(t), freePort(t), progressTo(t))
	if err != nil {
		t.Fatal(err)
	}
	client := s3Client(m)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pictures")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pictures"), Key: aws.String("a.txt"), Body: strings.NewReader("kept")}); err != nil {
		t.Fatal(err)
	}
	// Wrong keys are refused: the server really checks credentials.
	wrong := *m
	wrong.SecretKey = "not-the-secret-key-at-all"
	if _, err := s3Client(&wrong).ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Error("wrong secret key accepted")
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	m2, err := StartMinIO(ctx, dir, freePort(t), freePort(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Stop(context.Background())
	out, err := s3Client(m2).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pictures"), Key: aws.String("a.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "kept" {
		t.Fatalf("object after restart = %q", body)
	}
}

func TestMinIOFailedStartCarriesLog(t *testing.T) {
	skipIfMinIONeedsBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	// Build or find the binary first so the port checks below are what fail.
	if _, err := MinIOBinary(ctx, progressTo(t)); err != nil {
		t.Fatal(err)
	}
	// A drive whose format file is garbage: MinIO starts, then exits.
	mustWrite(t, filepath.Join(dir, "data", ".minio.sys", "format.json"), "{garbage")
	_, err := StartMinIO(ctx, dir, freePort(t), freePort(t), nil)
	if err == nil {
		t.Fatal("MinIO started on a drive that is a file")
	}
	t.Logf("refused as expected: %v", err)
	if !strings.Contains(err.Error(), "last lines") || !strings.Contains(err.Error(), "drive") {
		t.Fatalf("error should carry MinIO's own log about the drive: %v", err)
	}
}

func TestMinIOBinaryLookupOrder(t *testing.T) {
	t.Setenv("TIDINGS_MINIO_BIN", filepath.Join(t.TempDir(), "missing"))
	if _, err := MinIOBinary(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "TIDINGS_MINIO_BIN") {
		t.Fatalf("a missing TIDINGS_MINIO_BIN must be an error, got %v", err)
	}

	explicit := filepath.Join(t.TempDir(), "my-minio")
	mustWrite(t, explicit, "#!/bin/sh\n")
	os.Chmod(explicit, 0o755)
	t.Setenv("TIDINGS_MINIO_BIN", explicit)
	if got, err := MinIOBinary(context.Background(), nil); err != nil || got != explicit {
		t.Fatalf("with TIDINGS_MINIO_BIN got %q, %v", got, err)
	}

	t.Setenv("TIDINGS_MINIO_BIN", "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	cached := filepath.Join(cache, "tidings", "bin", "minio")
	if MinIOBinaryBuilt() {
		t.Fatal("MinIOBinaryBuilt true before the cached binary exists")
	}
	mustWrite(t, cached, "#!/bin/sh\n")
	os.Chmod(cached, 0o755)
	if !MinIOBinaryBuilt() {
		t.Fatal("MinIOBinaryBuilt false with a cached binary")
	}
	if got, err := MinIOBinary(context.Background(), nil); err != nil || got != cached {
		t.Fatalf("with a cached build got %q, %v; want %q", got, err, cached)
	}
}

// TestGoInstallBuildsIntoPlace runs the real go install path against a
// module served from a file:// GOPROXY, so it is fast and offline.
func TestGoInstallBuildsIntoPlace(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	proxy := t.TempDir()
	writeProxyModule(t, proxy, "example.com/hello", "v1.0.0", map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from a built binary\") }\n",
	})
	cache := t.TempDir()
	dest := filepath.Join(cache, "bin", "hello")
	os.MkdirAll(filepath.Dir(dest), 0o755)
	env := []string{"GOPROXY=file://" + proxy, "GOSUMDB=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod"}
	var said []string
	spec := goInstallSpec{
		pkg: "example.com/hello@v1.0.0", binName: "hello", dest: dest,
		logPath: filepath.Join(cache, "build.log"), label: "building hello…", every: 50 * time.Millisecond,
		progress: func(m string) { said = append(said, m) }, env: env,
	}
	if err := goInstall(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(dest).Output()
	if err != nil || strings.TrimSpace(string(out)) != "hello from a built binary" {
		t.Fatalf("built binary printed %q, %v", out, err)
	}
	if len(said) < 2 || said[0] != "building hello…" || !strings.Contains(said[len(said)-1], "done") {
		t.Errorf("progress lines = %q", said)
	}
	leftovers, _ := filepath.Glob(filepath.Join(cache, "bin-tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary GOBIN left behind: %v", leftovers)
	}

	spec.pkg = "example.com/hello@v9.9.9"
	spec.dest = filepath.Join(cache, "bin", "never")
	err = goInstall(context.Background(), spec)
	if err == nil {
		t.Fatal("installing a version that does not exist succeeded")
	}
	if !strings.Contains(err.Error(), "v9.9.9") {
		t.Errorf("error should quote go's output, got %v", err)
	}
	if _, statErr := os.Stat(spec.dest); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("failed build left a binary at %s", spec.dest)
	}
}

func writeProxyModule(t *testing.T, proxy, mod, version string, files map[string]string) {
	t.Helper()
	dir := filepath.Join(proxy, mod, "@v")
	mustWrite(t, filepath.Join(dir, "list"), version+"\n")
	mustWrite(t, filepath.Join(dir, version+".info"), `{"Version":"`+version+`","Time":"2024-01-01T00:00:00Z"}`)
	mustWrite(t, filepath.Join(dir, version+".mod"), files["go.mod"])
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(mod + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, version+".zip"), buf.String())
}

func s3Client(m *MinIO) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(m.Endpoint()),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
}
