package stack_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tidings-dev/tidings/infra/local/dlq"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/knative/topology"
)

type letter struct{ code, reason, subject string }

func loadTopology(t *testing.T) *topology.Topology {
	topo, err := topology.Load(filepath.Join("..", "..", "..", "knative"))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// dlqList reads a source's dead letters the way `tidings dlq list` does.
func dlqList(t *testing.T, w *world, source string) map[string]letter {
	t.Helper()
	lists, err := dlq.List(context.Background(), loadTopology(t), []string{w.kafkaAt}, w.dlqAuth(), source)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]letter{}
	for _, l := range lists[0].Letters {
		out[l.Event.ID()] = letter{code: strconv.Itoa(l.Code), reason: l.Reason, subject: l.Event.Subject()}
	}
	return out
}

// dlqReplay replays one dead letter the way `tidings dlq replay` does.
func dlqReplay(t *testing.T, w *world, source, id string) {
	t.Helper()
	rep, err := dlq.Replay(context.Background(), loadTopology(t), []string{w.kafkaAt}, w.dlqAuth(), source, []string{id})
	if err != nil || len(rep.Replayed) != 1 {
		t.Fatalf("replay %s: %+v %v", id, rep, err)
	}
}

// dlqAuth is KafkaUser tidings-dlq's Secret, as the dlq Job mounts it.
func (w *world) dlqAuth() kafkaauth.Credentials { return w.KafkaCredentials("tidings-dlq-auth") }
