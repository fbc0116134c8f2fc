// Command bucketuser gives the upload function its own MinIO user, limited to
// the pictures bucket, so no function holds MinIO's root keys. It runs as the
// Job minio-bucket-user (infra/cluster/minio.yaml) after MinIO is up, and is
// safe to run again: it creates what is missing and resets what drifted (the
// user's secret key, the policy's text, the attachment).
//
// Environment:
//
//	MINIO_ENDPOINT                          http://minio.tidings.svc:9000
//	MINIO_ROOT_USER, MINIO_ROOT_PASSWORD    the admin keys (Secret tidings-minio-root)
//	S3_BUCKET                               the pictures bucket (ConfigMap tidings-config)
//	S3_ACCESS_KEY, S3_SECRET_KEY            the user to create (Secret tidings-s3-upload)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config is what one run needs.
type Config struct {
	Endpoint             string // http(s)://host:port
	RootUser, RootPass   string
	Bucket               string
	AccessKey, SecretKey string
}

func configFromEnv() (Config, error) {
	c := Config{
		Endpoint:  os.Getenv("MINIO_ENDPOINT"),
		RootUser:  os.Getenv("MINIO_ROOT_USER"),
		RootPass:  os.Getenv("MINIO_ROOT_PASSWORD"),
		Bucket:    os.Getenv("S3_BUCKET"),
		AccessKey: os.Getenv("S3_ACCESS_KEY"),
		SecretKey: os.Getenv("S3_SECRET_KEY"),
	}
	var missing []error
	for name, v := range map[string]string{
		"MINIO_ENDPOINT": c.Endpoint, "MINIO_ROOT_USER": c.RootUser, "MINIO_ROOT_PASSWORD": c.RootPass,
		"S3_BUCKET": c.Bucket, "S3_ACCESS_KEY": c.AccessKey, "S3_SECRET_KEY": c.SecretKey,
	} {
		if v == "" {
			missing = append(missing, fmt.Errorf("%s is not set", name))
		}
	}
	if c.AccessKey != "" && c.AccessKey == c.RootUser {
		missing = append(missing, errors.New("S3_ACCESS_KEY is MinIO's root user; give upload a user of its own"))
	}
	return c, errors.Join(missing...)
}

// PolicyName is the MinIO policy that Ensure writes for a bucket.
func PolicyName(bucket string) string { return "tidings-" + bucket + "-readwrite" }

// Policy allows what the upload function does (functions/internal/objectstore):
// check and create its bucket, drop a bucket policy that would make it public,
// and read, write and delete objects, in that one bucket only. It cannot set a
// bucket policy, so it cannot make the bucket public.
func Policy(bucket string) []byte {
	type statement struct {
		Effect   string
		Action   []string
		Resource []string
	}
	p := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{
		{"Allow", []string{"s3:CreateBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"},
			[]string{"arn:aws:s3:::" + bucket}},
		{"Allow", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			[]string{"arn:aws:s3:::" + bucket + "/*"}},
	}}
	b, _ := json.Marshal(p)
	return b
}

// Ensure makes the bucket, the policy, the user and the attachment exist as
// Config says.
func Ensure(ctx context.Context, c Config) error {
	u, err := url.Parse(c.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("MINIO_ENDPOINT %q: want http(s)://host:port", c.Endpoint)
	}
	secure := u.Scheme == "https"
	s3, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(c.RootUser, c.RootPass, ""), Secure: secure})
	if err != nil {
		return err
	}
	adm, err := madmin.NewWithOptions(u.Host, &madmin.Options{Creds: credentials.NewStaticV4(c.RootUser, c.RootPass, ""), Secure: secure})
	if err != nil {
		return err
	}
	exists, err := bucketExists(ctx, s3, c.Bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", c.Bucket, err)
	}
	if !exists {
		if err := s3.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("create bucket %s: %w", c.Bucket, err)
		}
	}
	policy := PolicyName(c.Bucket)
	if err := adm.AddCannedPolicy(ctx, policy, Policy(c.Bucket)); err != nil {
		return fmt.Errorf("write policy %s: %w", policy, err)
	}
	// AddUser sets the secret key of an existing user too.
	if err := adm.AddUser(ctx, c.AccessKey, c.SecretKey); err != nil {
		return fmt.Errorf("user %s: %w", c.AccessKey, err)
	}
	_, err = adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{policy}, User: c.AccessKey})
	if err != nil && !alreadyAttached(err) {
		return fmt.Errorf("attach policy %s to %s: %w", policy, c.AccessKey, err)
	}
	return nil
}

// bucketExists asks whether the bucket exists, waiting while MinIO answers that
// it is still starting (its health check passes before IAM is loaded). Any
// other error is returned at once; the Job's restart policy retries those.
func bucketExists(ctx context.Context, s3 *minio.Client, bucket string) (bool, error) {
	for {
		exists, err := s3.BucketExists(ctx, bucket)
		if err == nil || minio.ToErrorResponse(err).Code != "XMinioServerNotInitialized" {
			return exists, err
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// alreadyAttached reports MinIO's answer to attaching a policy a user already
// has (minio/minio cmd/api-errors.go: errNoPolicyToAttachOrDetach), which is
// what a second run gets.
func alreadyAttached(err error) bool {
	var e madmin.ErrorResponse
	return errors.As(err, &e) && (e.Code == "XMinioAdminPolicyChangeAlreadyApplied" || e.Code == "XMinioPolicyAlreadyAttached")
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	c, err := configFromEnv()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err = Ensure(ctx, c)
	}
	if err != nil {
		logger.Error("bucket user setup failed", "err", err)
		os.Exit(1)
	}
	logger.Info("bucket user ready", "bucket", c.Bucket, "user", c.AccessKey, "policy", PolicyName(c.Bucket))
}
