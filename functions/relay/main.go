// Command relay is the outbox sweeper. A PingSource wakes it every minute; it
// resends every outbox event that its producer could not deliver (the
// KafkaSink was down, or the producer died between commit and send).
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
