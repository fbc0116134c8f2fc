package events_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"golang.org/x/net/http/httpguts"

	"github.com/tidings-dev/tidings/events"
)

// The seed corpora live in testdata/fuzz/<target>/, so plain `go test` runs
// them; `go test -fuzz=FuzzX ./events` explores further.

// decoders decode an event of each contract type into its payload struct.
var decoders = map[string]func(event.Event) (any, error){
	events.TypeUserSignedUp:        func(e event.Event) (any, error) { return events.Decode[events.UserSignedUp](e) },
	events.TypeFriendRequested:     func(e event.Event) (any, error) { return events.Decode[events.FriendRequested](e) },
	events.TypeFriendAccepted:      func(e event.Event) (any, error) { return events.Decode[events.FriendAccepted](e) },
	events.TypeFriendCancelled:     func(e event.Event) (any, error) { return events.Decode[events.FriendCancelled](e) },
	events.TypePostCreated:         func(e event.Event) (any, error) { return events.Decode[events.PostCreated](e) },
	events.TypeNotificationCreated: func(e event.Event) (any, error) { return events.Decode[events.NotificationCreated](e) },
}

// consumable checks what consumers do with an event the contract accepts:
// it decodes into its Go struct, every id field is a UUID Postgres takes,
// and the struct encodes back into a payload the contract accepts again.
func consumable(e event.Event) error {
	decode, ok := decoders[e.Type()]
	if !ok {
		return fmt.Errorf("no decoder for %s", e.Type())
	}
	v, err := decode(e)
	if err != nil {
		return fmt.Errorf("schema-valid but not decodable: %w", err)
	}
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		tag := strings.Split(rv.Type().Field(i).Tag.Get("json"), ",")[0]
		if s := rv.Field(i).String(); strings.HasSuffix(tag, "Id") && tag != "causeId" && s != "" {
			if _, err := uuid.Parse(s); err != nil {
				return fmt.Errorf("%s %q is not a UUID: %w", tag, s, err)
			}
		}
	}
	again := e.Clone()
	if err := again.SetData(cloudevents.ApplicationJSON, v); err != nil {
		return err
	}
	if err := events.Validate(again); err != nil {
		return fmt.Errorf("decoded payload does not validate again: %w", err)
	}
	return nil
}

// FuzzValidate feeds structured-mode CloudEvents to the validator. Whatever
// it accepts must be consumable and must travel as a binary-mode HTTP
// request, the way the dispatcher delivers it: no header can be unsendable.
func FuzzValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := event.New()
		if err := json.Unmarshal(raw, &e); err != nil {
			return
		}
		if err := events.Validate(e); err != nil {
			if !events.IsInvalid(err) {
				t.Fatalf("Validate failed with a non-InvalidError: %v", err)
			}
			return
		}
		if err := events.CheckAttributes(e); err != nil {
			t.Fatalf("Validate passed but CheckAttributes did not: %v", err)
		}
		if err := consumable(e); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, "http://consumer/", nil)
		if err := cehttp.WriteRequest(binding.WithForceBinary(t.Context()), binding.ToMessage(&e), req); err != nil {
			t.Fatalf("valid event cannot be written as HTTP: %v", err)
		}
		for name, values := range req.Header {
			for _, v := range values {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("valid event makes an unsendable header %s: %q", name, v)
				}
			}
		}
	})
}

// FuzzSchemaMatchesDecoder feeds payloads of every type: the schema and the
// Go decoder must accept the same set.
func FuzzSchemaMatchesDecoder(f *testing.F) {
	types := events.Types()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		e := cloudevents.NewEvent()
		e.SetID("0d9c1f4e-0000-4000-8000-000000000001")
		e.SetSource("/fuzz")
		e.SetType(types[int(which)%len(types)])
		e.SetExtension(events.PartitionKeyExtension, "k")
		e.SetDataContentType(cloudevents.ApplicationJSON)
		e.DataEncoded = data
		if events.Validate(e) != nil {
			return
		}
		if err := consumable(e); err != nil {
			t.Fatalf("%s %s: %v", e.Type(), data, err)
		}
	})
}

// FuzzEmail: the Go check and the JSON Schema judge every string alike.
func FuzzEmail(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		e := cloudevents.NewEvent()
		e.SetID("0d9c1f4e-0000-4000-8000-000000000001")
		e.SetSource("/fuzz")
		e.SetType(events.TypeUserSignedUp)
		e.SetExtension(events.PartitionKeyExtension, "k")
		_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{
			"userId": u1, "email": s, "name": "Ann", "signedUpAt": "2026-01-02T03:04:05Z"})
		if byGo, bySchema := events.ValidEmail(s), events.Validate(e) == nil; byGo != bySchema {
			t.Fatalf("ValidEmail(%q) = %v, schema says %v", s, byGo, bySchema)
		}
	})
}
