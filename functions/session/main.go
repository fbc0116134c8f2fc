// Command session is the Knative Service behind POST /api/login,
// POST /api/logout and GET /api/me.
package main

import "github.com/tidings-dev/tidings/functions/internal/app"

func main() { app.Main(Name, Needs, New) }
