// Command notify is the Knative Service a KafkaSource feeds with friend
// events (tidings.friends) and fan-out events (tidings.notifications). It
// stores each notification once and publishes it to the recipient's live
// channel in Redis, which the inbox WebSockets subscribe to; a cancelled
// friend request takes its notification back.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
