// Command signup is the Knative Service behind POST /api/signup. It creates
// the account, emits dev.tidings.user.signedup.v1 through the outbox to its
// KafkaSink (K_SINK), and logs the new user in.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
