// Command post is the Knative Service behind /api/posts and
// /api/users/{id}/posts: it creates posts, emitting
// dev.tidings.post.created.v1 through the outbox to its KafkaSink (K_SINK,
// from the SinkBinding), and reads the feed.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
