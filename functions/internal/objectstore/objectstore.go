// Package objectstore keeps the pictures' bytes in an S3 bucket (MinIO
// locally and in the cluster). The bucket is private: objects are only ever
// read through a function that checks who may see them.
package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/tidings-dev/tidings/functions/internal/config"
)

// Config locates the bucket.
type Config struct {
	Endpoint, AccessKey, SecretKey, Bucket string
}

// Local defaults: the local stack's MinIO and bucket.
const (
	DefaultEndpoint = "http://127.0.0.1:9000"
	DefaultBucket   = "tidings-pictures"
)

// ConfigFromEnv reads S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and
// S3_BUCKET. The keys have no default: a function must not silently run
// against a server with guessed credentials.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Endpoint:  config.String("S3_ENDPOINT", DefaultEndpoint),
		AccessKey: config.String("S3_ACCESS_KEY", ""),
		SecretKey: config.String("S3_SECRET_KEY", ""),
		Bucket:    config.String("S3_BUCKET", DefaultBucket),
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return c, errors.New("S3_ACCESS_KEY and S3_SECRET_KEY must be set")
	}
	return c, nil
}

// ErrNotFound means the object does not exist.
var ErrNotFound = errors.New("objectstore: no such object")

// Store reads and writes one bucket.
type Store struct {
	client *s3.Client
	bucket string

	mu    sync.Mutex
	ready bool // the bucket is known to exist and be private
}

// New returns a store for cfg: path-style addressing (MinIO), region
// us-east-1, static keys, and a short retry budget so a dead server is
// reported in seconds rather than hung on.
func New(cfg Config) *Store {
	client := s3.New(s3.Options{
		BaseEndpoint:     aws.String(cfg.Endpoint),
		Region:           "us-east-1",
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		RetryMaxAttempts: 2,
		HTTPClient:       &http.Client{Timeout: 60 * time.Second},
	})
	return &Store{client: client, bucket: cfg.Bucket}
}

// Bucket names the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// EnsureBucket creates the bucket if it is missing and removes any bucket
// policy, which is the only way a MinIO bucket becomes readable anonymously.
// Once it succeeded it does nothing, so callers may call it before every
// write: a function that started while the store was down catches up on its
// first upload.
func (s *Store) EnsureBucket(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	var nf *types.NotFound
	switch {
	case errors.As(err, &nf):
		_, err = s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.bucket})
		if err != nil && !hasCode(err, "BucketAlreadyOwnedByYou") {
			return fmt.Errorf("create bucket %s: %w", s.bucket, err)
		}
	case err != nil:
		return fmt.Errorf("bucket %s: %w", s.bucket, err)
	}
	_, err = s.client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &s.bucket})
	switch {
	case hasCode(err, "NoSuchBucketPolicy"):
	case err != nil:
		return fmt.Errorf("bucket %s policy: %w", s.bucket, err)
	default:
		if _, err := s.client.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &s.bucket}); err != nil {
			return fmt.Errorf("make bucket %s private: %w", s.bucket, err)
		}
	}
	s.ready = true
	return nil
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := s.EnsureBucket(ctx); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   &contentType,
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Get opens the object under key; the caller closes it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) || hasCode(err, "NoSuchBucket") {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

// Delete removes the object under key; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func hasCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
