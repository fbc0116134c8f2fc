// Command welcome is the Knative Service a KafkaSource feeds with
// dev.tidings.user.signedup.v1 events. It sends each new user one welcome
// email over SMTP.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
