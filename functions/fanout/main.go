// Command fanout is the Knative Service a KafkaSource feeds with
// dev.tidings.post.created.v1 events. For each post it emits one
// dev.tidings.notification.created.v1 per friend of the author to the
// notifications KafkaSink (K_SINK, from its SinkBinding).
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
