// Command friends is the Knative Service behind GET /api/users (search) and
// /api/friends...: friend requests and friendships. It emits
// dev.tidings.friend.requested.v1, dev.tidings.friend.accepted.v1 and
// dev.tidings.friend.cancelled.v1 through
// the outbox to its KafkaSink (K_SINK, from the SinkBinding).
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
