package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"sigs.k8s.io/yaml"

	"github.com/tidings-dev/tidings/events"
)

var update = flag.Bool("update", false, "rewrite the web app's copy of the email rule")

// EmailCase is one row of testdata/emails.json, the table of addresses that
// signup, the event schema and the web form must all judge alike.
type EmailCase struct {
	Address string `json:"address"`
	Valid   bool   `json:"valid"`
	Note    string `json:"note"`
}

func emailCases(t *testing.T) []EmailCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "emails.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []EmailCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// signedUpWith is a user.signedup event whose payload has one field replaced.
func signedUpWith(t *testing.T, field string, value any) event.Event {
	t.Helper()
	data := map[string]any{"userId": u1, "email": "ann@example.com", "name": "Ann", "signedUpAt": "2026-01-02T03:04:05Z"}
	data[field] = value
	e := cloudevents.NewEvent()
	e.SetID("0d9c1f4e-0000-4000-8000-000000000001")
	e.SetSource("/tidings/signup")
	e.SetType(events.TypeUserSignedUp)
	e.SetExtension(events.PartitionKeyExtension, u1)
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmailTableAgreesWithGoCheckAndSchema(t *testing.T) {
	for _, c := range emailCases(t) {
		if got := events.ValidEmail(c.Address); got != c.Valid {
			t.Errorf("ValidEmail(%q) = %v, want %v (%s)", c.Address, got, c.Valid, c.Note)
		}
		err := events.Validate(signedUpWith(t, "email", c.Address))
		if c.Valid && err != nil {
			t.Errorf("schema rejects %q (%s): %v", c.Address, c.Note, err)
		}
		if !c.Valid && (err == nil || !strings.Contains(err.Error(), "/email")) {
			t.Errorf("schema does not reject %q (%s) for its email: %v", c.Address, c.Note, err)
		}
	}
}

// The web form reads its copy of the rule (web/src/auth/email-rule.json);
// it must be the schema's. `go test ./events -run WebEmailRule -update`
// rewrites it.
func TestWebEmailRuleIsTheSchemasRule(t *testing.T) {
	path := filepath.Join("..", "web", "src", "auth", "email-rule.json")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(events.Email()); err != nil {
		t.Fatal(err)
	}
	want := buf.Bytes()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from $defs/email in schemas/defs.v1.json; run go test ./events -run WebEmailRule -update\nwant:\n%s", path, want)
	}
}

// What the schema accepts, the Go decoder reads, and the other way round:
// a date-time Go cannot parse or an id that is not a UUID must be rejected
// by the schema, not dead-lettered later by a consumer.
func TestSchemaAcceptsExactlyWhatGoDecodes(t *testing.T) {
	times := []struct {
		v  string
		ok bool
	}{
		{"2026-01-02T03:04:05Z", true},
		{"2026-01-02T03:04:05.123456789Z", true},
		{"2026-01-02T03:04:05+05:30", true},
		{"2026-01-02T03:04:05-00:00", true},
		{"2024-02-29T00:00:00Z", true},
		{"2026-01-02t03:04:05Z", false},
		{"2026-01-02T03:04:05z", false},
		{"2016-12-31T23:59:60Z", false},
		{"2026-01-02T03:04:05.1234567891Z", false},
		{"2026-02-30T00:00:00Z", false},
		{"2026-01-02 03:04:05Z", false},
		{"2026-01-02T03:04:05", false},
		{"2026-01-02T24:00:00Z", false},
		{"2026-01-02T03:04:05+24:00", false},
		{"+2026-01-02T03:04:05Z", false},
	}
	for _, c := range times {
		err := events.Validate(signedUpWith(t, "signedUpAt", c.v))
		var parsed time.Time
		goErr := json.Unmarshal([]byte(`"`+c.v+`"`), &parsed)
		if (err == nil) != c.ok {
			t.Errorf("schema on %q: %v, want ok=%v", c.v, err, c.ok)
		}
		if err == nil && goErr != nil {
			t.Errorf("schema accepts %q but Go cannot decode it: %v", c.v, goErr)
		}
		if _, decErr := events.Decode[events.UserSignedUp](signedUpWith(t, "signedUpAt", c.v)); (decErr == nil) != c.ok {
			t.Errorf("Decode on %q: %v, want ok=%v", c.v, decErr, c.ok)
		}
	}
	ids := []struct {
		v  string
		ok bool
	}{
		{u1, true},
		{"u1", false},
		{strings.ToUpper(u1), false},
		{"{" + u1 + "}", false},
		{"urn:uuid:" + u1, false},
		{strings.ReplaceAll(u1, "-", ""), false},
		{u1 + "\x00", false},
	}
	for _, c := range ids {
		if err := events.Validate(signedUpWith(t, "userId", c.v)); (err == nil) != c.ok {
			t.Errorf("schema on id %q: %v, want ok=%v", c.v, err, c.ok)
		}
	}
}

// Control characters never get into an event: not in an attribute (where a
// CR or LF cannot even travel as an HTTP header) nor in a payload string.
func TestControlCharactersAreRejected(t *testing.T) {
	attrs := map[string]func(*event.Event, string){
		"id":           func(e *event.Event, v string) { e.SetID(v) },
		"subject":      func(e *event.Event, v string) { e.SetSubject(v) },
		"partitionkey": func(e *event.Event, v string) { e.SetExtension(events.PartitionKeyExtension, v) },
		"traceparent":  func(e *event.Event, v string) { e.SetExtension("traceparent", v) },
	}
	for name, set := range attrs {
		for _, bad := range []string{"a\r\nb", "a\nb", "a\x00b", "a\tb", "a\x7fb", "a\u0085b", "a\xffb"} {
			e := signedUpWith(t, "name", "Ann")
			set(&e, bad)
			err := events.CheckAttributes(e)
			if !events.IsInvalid(err) || !strings.Contains(err.Error(), name) {
				t.Errorf("CheckAttributes with %s=%q: %v", name, bad, err)
			}
			if err := events.Validate(e); !events.IsInvalid(err) {
				t.Errorf("Validate with %s=%q: %v", name, bad, err)
			}
		}
	}
	e := cloudevents.NewEvent()
	e.SetID("x")
	e.SetType("anything.at.all")
	e.SetSource("/outside")
	if err := events.CheckAttributes(e); err != nil {
		t.Fatalf("CheckAttributes is for every event, contract or not: %v", err)
	}
	for _, field := range []string{"name", "email"} {
		for _, bad := range []string{"An\x00n", "An\r\nn", "An\u0085n"} {
			if err := events.Validate(signedUpWith(t, field, bad)); !events.IsInvalid(err) || !strings.Contains(err.Error(), "/"+field) {
				t.Errorf("payload %s=%q: %v", field, bad, err)
			}
		}
	}
}

func TestEveryEventNamesItsSchema(t *testing.T) {
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, u1, u1, signedUp())
	if err != nil {
		t.Fatal(err)
	}
	if e.DataSchema() != "https://tidings.dev/schemas/user.signedup.v1.json" {
		t.Fatalf("dataschema %q", e.DataSchema())
	}
	for _, typ := range events.Types() {
		spec, _ := events.Lookup(typ)
		raw, _ := events.Schema(typ)
		var doc struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || doc.ID != spec.SchemaURI() {
			t.Errorf("%s: schema $id %q, dataschema %q", typ, doc.ID, spec.SchemaURI())
		}
	}
	other := signedUpWith(t, "name", "Ann")
	other.SetDataSchema("https://evil.example/schema.json")
	if err := events.Validate(other); !events.IsInvalid(err) || !strings.Contains(err.Error(), "dataschema") {
		t.Fatalf("a foreign dataschema: %v", err)
	}
}

// The AsyncAPI document tells a raw Kafka producer what a record needs: the
// topic binding of every channel, the record key, the headers consumers
// read (ce_partitionkey among them), the partitioner, and that dead-letter
// topics are not part of the contract.
func TestAsyncAPIHasKafkaBindings(t *testing.T) {
	raw, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct {
			Description string `json:"description"`
		} `json:"info"`
		Channels map[string]struct {
			Address  string `json:"address"`
			Bindings struct {
				Kafka struct {
					Topic      string `json:"topic"`
					Partitions int    `json:"partitions"`
				} `json:"kafka"`
			} `json:"bindings"`
		} `json:"channels"`
		Components struct {
			MessageTraits struct {
				CloudEvent struct {
					Headers struct {
						Required   []string                  `json:"required"`
						Properties map[string]map[string]any `json:"properties"`
					} `json:"headers"`
					Bindings struct {
						Kafka struct {
							Key map[string]any `json:"key"`
						} `json:"kafka"`
					} `json:"bindings"`
				} `json:"cloudevent"`
			} `json:"messageTraits"`
		} `json:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	topics := map[string]bool{}
	for _, typ := range events.Types() {
		topic, _ := events.TopicOf(typ)
		topics[topic] = true
	}
	for name, ch := range doc.Channels {
		if ch.Bindings.Kafka.Topic != ch.Address || ch.Bindings.Kafka.Partitions == 0 {
			t.Errorf("channel %s: kafka binding %+v for address %s", name, ch.Bindings.Kafka, ch.Address)
		}
		if !topics[ch.Address] {
			t.Errorf("channel %s (%s) is not a contract topic", name, ch.Address)
		}
	}
	trait := doc.Components.MessageTraits.CloudEvent
	for _, h := range []string{"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_partitionkey", "content-type"} {
		if !slices.Contains(trait.Headers.Required, h) {
			t.Errorf("header %s is not required", h)
		}
	}
	if trait.Headers.Properties["ce_dataschema"] == nil || trait.Bindings.Kafka.Key == nil {
		t.Error("no ce_dataschema header or no record key binding")
	}
	for _, want := range []string{"murmur2", "murmur2_random", "ce_partitionkey", "Dead-letter topics", "not part of this contract"} {
		if !strings.Contains(doc.Info.Description, want) {
			t.Errorf("description does not say %q", want)
		}
	}
}

// Every type has its own producing functions and none from outside; the
// relay may resend every topic's events and nothing else may.
func TestEachTypeNamesItsProducers(t *testing.T) {
	want := map[string][]string{
		events.TypeUserSignedUp: {"signup"}, events.TypeFriendRequested: {"friends"}, events.TypeFriendAccepted: {"friends"}, events.TypeFriendCancelled: {"friends"},
		events.TypePostCreated: {"post"}, events.TypeNotificationCreated: {"fanout"},
	}
	for _, typ := range events.Types() {
		s, _ := events.Lookup(typ)
		if !slices.Equal(s.Producers, want[typ]) {
			t.Errorf("%s: producers %v, want %v", typ, s.Producers, want[typ])
		}
	}
	if got := events.TopicProducers(events.TopicFriends); !slices.Equal(got, []string{"friends", "relay"}) {
		t.Errorf("friends topic producers %v", got)
	}
	if got := events.TopicProducers("tidings.dlq.welcome"); len(got) != 0 {
		t.Errorf("a topic outside the contract: %v", got)
	}
}
