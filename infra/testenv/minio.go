package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tidings-dev/tidings/infra/backing"
)

type minioServer struct {
	once                           sync.Once
	endpoint, accessKey, secretKey string
	err                            error
	private                        *backing.MinIO
}

var sharedMinIO = &minioServer{}

// MinIO returns the endpoint and keys of the S3 server shared by this test
// binary. Use S3Bucket for a bucket of your own.
func MinIO(t testing.TB) (endpoint, accessKey, secretKey string) {
	t.Helper()
	if testing.Short() && os.Getenv("TIDINGS_TEST_S3_ENDPOINT") == "" && !backing.MinIOBinaryBuilt() {
		t.Skip("-short: MinIO is not built yet (the first build takes minutes)")
	}
	s := sharedMinIO
	s.once.Do(s.find)
	if s.err != nil {
		t.Fatalf("testenv: no MinIO: %v", s.err)
	}
	return s.endpoint, s.accessKey, s.secretKey
}

func (s *minioServer) find() {
	if ep := os.Getenv("TIDINGS_TEST_S3_ENDPOINT"); ep != "" {
		s.endpoint, s.accessKey, s.secretKey = ep, os.Getenv("TIDINGS_TEST_S3_ACCESS_KEY"), os.Getenv("TIDINGS_TEST_S3_SECRET_KEY")
		return
	}
	dir, err := privateDir("minio")
	if err != nil {
		s.err = err
		return
	}
	// Generous: on a fresh machine this includes building MinIO, about 4 min
	// on 2 quiet cores, but a 15-minute cap was hit with the cores shared by
	// parallel builds (load average ~30), and a killed build costs the run.
	// It stays under the 25-minute -timeout of `go tool task test:go`
	// (Taskfile.yml), so a build that is too slow fails with its log, not a
	// test binary's panic.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	progress := func(msg string) { fmt.Fprintln(os.Stderr, "testenv:", msg) }
	for range 3 { // a free port can be taken by a parallel test binary
		var port, consolePort int
		if port, err = freePort(); err != nil {
			break
		}
		if consolePort, err = freePort(); err != nil {
			break
		}
		if s.private, err = backing.StartMinIO(ctx, dir, port, consolePort, progress); err == nil {
			s.endpoint, s.accessKey, s.secretKey = s.private.Endpoint(), s.private.AccessKey, s.private.SecretKey
			return
		}
		if !strings.Contains(err.Error(), "cannot listen") {
			break
		}
	}
	s.err = err
}

// S3 is a bucket made for one test, with a client for it.
type S3 struct {
	Endpoint, AccessKey, SecretKey string
	Bucket                         string
	Client                         *s3.Client
}

// S3Client returns an aws-sdk-go-v2 client for endpoint: path-style
// addressing, region us-east-1, static keys.
func S3Client(endpoint, accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

// S3Bucket creates a fresh, empty bucket on the shared MinIO; it and
// everything in it are deleted when the test ends.
func S3Bucket(t testing.TB) S3 {
	t.Helper()
	endpoint, ak, sk := MinIO(t)
	client := S3Client(endpoint, ak, sk)
	bucket := RandomName("t-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("testenv: create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := emptyAndDeleteBucket(ctx, client, bucket); err != nil {
			t.Errorf("testenv: delete bucket %s: %v", bucket, err)
		}
	})
	return S3{Endpoint: endpoint, AccessKey: ak, SecretKey: sk, Bucket: bucket, Client: client}
}

func emptyAndDeleteBucket(ctx context.Context, client *s3.Client, bucket string) error {
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, obj := range page.Contents {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: obj.Key}); err != nil {
				return fmt.Errorf("delete %s: %w", aws.ToString(obj.Key), err)
			}
		}
	}
	_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}
