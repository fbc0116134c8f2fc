// Command upload is the Knative Service behind /api/files: it stores
// pictures in the private bucket (S3_* env) and serves each one only to its
// owner and the owner's friends.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
