//go:build !unix

package backing

import "context"

// lockFile is a no-op where flock does not exist: concurrent builds then
// simply race, and the atomic rename keeps the result whole.
func lockFile(context.Context, string, func()) (func(), error) { return func() {}, nil }
