package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// No function speaks Kafka: they POST CloudEvents to the KafkaSinks, whose
// EventPolicies say who may send what (knative/eventpolicies.yaml), so no
// function needs, or holds, a KafkaUser (knative/kafkausers.yaml). A Kafka
// client among a function's dependencies would be a door around both.
func TestNoFunctionLinksAKafkaClient(t *testing.T) {
	mains, err := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "github.com/tidings-dev/tidings/functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, mains)
	}
	// The commands that become images; apptest and its test kit are not among them.
	out, err := exec.Command("go", append([]string{"list", "-deps"}, strings.Fields(string(mains))...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, client := range []string{"github.com/IBM/sarama", "github.com/twmb/franz-go", "github.com/segmentio/kafka-go", "github.com/confluentinc/confluent-kafka-go"} {
			if pkg == client || strings.HasPrefix(pkg, client+"/") {
				t.Errorf("a function links the Kafka client %s", pkg)
			}
		}
	}
}
