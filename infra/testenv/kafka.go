package testenv

import (
	"context"
	"testing"

	"github.com/tidings-dev/tidings/infra/backing"
)

// Kafka starts an in-process kfake broker for this test alone and returns
// its bootstrap addresses. Topics are auto-created on first use.
func Kafka(t testing.TB) []string {
	t.Helper()
	k, err := backing.StartKafka(context.Background(), "", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatalf("testenv: start kfake: %v", err)
	}
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	return k.Brokers()
}
