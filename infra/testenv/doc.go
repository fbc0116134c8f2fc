// Package testenv hands tests across the repo real, isolated backing
// resources. Every helper takes a testing.TB, fails the test with a clear
// message when the resource cannot be had, and undoes what it made in
// t.Cleanup.
//
//   - Postgres(t) returns the URL of a fresh, empty database made for this
//     call (CREATE DATABASE tidings_t_<random> from template0, dropped WITH
//     (FORCE) on cleanup). The server is TIDINGS_TEST_DATABASE_URL (URL form,
//     its database is used only to run CREATE/DROP DATABASE), default
//     postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When the
//     default is unreachable, a private server is started once per test
//     binary (backing.StartPostgres on a free port in a temp dir); an
//     explicit TIDINGS_TEST_DATABASE_URL that is unreachable fails the test.
//   - Redis(t) returns a Redis URL: TIDINGS_TEST_REDIS_URL, default
//     redis://127.0.0.1:6379/0, else a private redis-server started once per
//     test binary. The server is shared: tests must use their own random
//     keys (RandomName helps).
//   - Kafka(t) returns the bootstrap address of a new in-process kfake
//     broker on 127.0.0.1:0 for this call only (topics auto-created),
//     closed on cleanup.
//   - MinIO(t) returns endpoint and keys of a real MinIO started once per
//     test binary (backing.StartMinIO; the first run on a machine builds the
//     server, which takes minutes), or of TIDINGS_TEST_S3_ENDPOINT with
//     TIDINGS_TEST_S3_ACCESS_KEY / TIDINGS_TEST_S3_SECRET_KEY when set.
//     Under -short, tests needing MinIO are skipped while it is not built.
//     S3Bucket(t) makes a fresh bucket there and an aws-sdk-go-v2 client
//     (path-style, us-east-1); the bucket and its objects go on cleanup.
//   - Mail(t) starts a mail catcher (SMTP and HTTP on free ports, in
//     memory) for this call, closed on cleanup.
//   - FreePort(t) returns a TCP port on 127.0.0.1 that was free a moment ago.
//
// Private servers run as children of the test binary and die with it; their
// temp dirs are named tidings-testenv-<kind>-<pid>-* and removed by the
// next test binary that finds their owner gone.
package testenv
