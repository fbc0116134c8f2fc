// Command post is the Knative Service behind /api/posts... and
// /api/users/{id}...: it creates posts, emitting
// dev.tidings.post.created.v1 through the outbox to its KafkaSink (K_SINK,
// from the SinkBinding), and reads the feed, one post, one person's posts
// and anyone's card.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
