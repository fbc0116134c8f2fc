package events_test

import (
	"os"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/tidings-dev/tidings/events"
)

// u1 is a user id as Postgres makes them.
const u1 = "0b6f1c2e-8d3a-4c5b-9e7f-1a2b3c4d5e6f"

func signedUp() events.UserSignedUp {
	return events.UserSignedUp{UserID: u1, Email: "ann@example.com", Name: "Ann", SignedUpAt: time.Now().UTC()}
}

func TestNewBuildsAValidKeyedEvent(t *testing.T) {
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, u1, u1, signedUp())
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() == "" || e.Extensions()[events.PartitionKeyExtension] != u1 || e.DataContentType() != cloudevents.ApplicationJSON {
		t.Fatalf("unexpected event %v", e)
	}
	got, err := events.Decode[events.UserSignedUp](e)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "ann@example.com" || got.Name != "Ann" {
		t.Fatalf("round trip lost data: %+v", got)
	}
}

func TestEveryTypeHasTopicAndSchema(t *testing.T) {
	for _, typ := range events.Types() {
		if _, ok := events.TopicOf(typ); !ok {
			t.Errorf("%s has no topic", typ)
		}
		if raw, err := events.Schema(typ); err != nil || len(raw) == 0 {
			t.Errorf("%s has no schema: %v", typ, err)
		}
	}
}

func TestValidateRejectsBrokenEvents(t *testing.T) {
	good := func() cloudevents.Event {
		e := cloudevents.NewEvent()
		e.SetID("id-1")
		e.SetSource("/tidings/signup")
		e.SetType(events.TypeUserSignedUp)
		e.SetExtension(events.PartitionKeyExtension, u1)
		_ = e.SetData(cloudevents.ApplicationJSON, signedUp())
		return e
	}
	if err := events.Validate(good()); err != nil {
		t.Fatalf("good event rejected: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*cloudevents.Event)
		want   string
	}{
		{"unknown type", func(e *cloudevents.Event) { e.SetType("dev.tidings.nope.v1") }, `unknown type "dev.tidings.nope.v1"`},
		{"no partition key", func(e *cloudevents.Event) { e.SetExtension(events.PartitionKeyExtension, nil) }, "missing partitionkey"},
		{"no id", func(e *cloudevents.Event) { e.SetID("") }, "id"},
		{"not json", func(e *cloudevents.Event) { e.DataEncoded = []byte("{nope") }, "not JSON"},
		{"text payload", func(e *cloudevents.Event) { _ = e.SetData("text/plain", "hi") }, "datacontenttype"},
		{"missing field", func(e *cloudevents.Event) {
			_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": u1, "email": "a@b.co", "signedUpAt": time.Now()})
		}, "name"},
		{"wrong type", func(e *cloudevents.Event) {
			_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": 7, "email": "a@b.co", "name": "A", "signedUpAt": time.Now()})
		}, "/userId"},
		{"bad email", func(e *cloudevents.Event) {
			_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": u1, "email": "nope", "name": "A", "signedUpAt": time.Now()})
		}, "/email"},
		{"extra field", func(e *cloudevents.Event) {
			_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"userId": u1, "email": "a@b.co", "name": "A", "signedUpAt": time.Now(), "password": "x"})
		}, "password"},
		{"invalid UTF-8", func(e *cloudevents.Event) {
			e.DataEncoded = []byte(strings.Replace(string(e.DataEncoded), `"Ann"`, "\"An\xffn\"", 1))
		}, "UTF-8"},
		{"oversized", func(e *cloudevents.Event) {
			_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"name": strings.Repeat("x", events.MaxDataBytes)})
		}, "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := good()
			c.mutate(&e)
			err := events.Validate(e)
			if err == nil {
				t.Fatal("accepted a broken event")
			}
			if !events.IsInvalid(err) {
				t.Fatalf("error is not an InvalidError: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestNewRefusesAPayloadThatBreaksTheSchema(t *testing.T) {
	_, err := events.New("/tidings/signup", events.TypeUserSignedUp, u1, u1, events.UserSignedUp{UserID: u1})
	if !events.IsInvalid(err) {
		t.Fatalf("want InvalidError, got %v", err)
	}
}

// The AsyncAPI document is for readers outside the repo; it must name every
// type, topic and schema the code uses, or it lies.
func TestAsyncAPIDocumentMatchesTheContract(t *testing.T) {
	raw, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, typ := range events.Types() {
		spec, _ := events.Lookup(typ)
		for _, want := range []string{"name: " + typ, "address: " + spec.Topic, "schemas/" + spec.Schema} {
			if !strings.Contains(doc, want) {
				t.Errorf("asyncapi.yaml lacks %q", want)
			}
		}
	}
}
