// Command inbox is the Knative Service behind /api/notifications: the
// notification list, marking notifications read, and the live WebSocket
// stream fed by notify through Redis pub/sub.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
