package dlq_test

import (
	"context"
	"encoding/base64"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/dlq"
	"github.com/tidings-dev/tidings/infra/local/eventing/deadletter"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
	"github.com/tidings-dev/tidings/infra/testenv"
	"github.com/tidings-dev/tidings/knative/topology"
)

func loadTopology(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "..", "..", "knative"))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// kafka writes binary-mode records, as a KafkaSink does.
type kafka struct {
	t       *testing.T
	brokers []string
	p       sarama.SyncProducer
}

func newKafka(t *testing.T) *kafka {
	brokers := testenv.Kafka(t)
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &kafka{t: t, brokers: brokers, p: p}
}

func (k *kafka) write(topic string, e event.Event) {
	k.t.Helper()
	msg := &sarama.ProducerMessage{Topic: topic}
	if err := kafka_sarama.WriteProducerMessage(binding.WithForceBinary(context.Background()), binding.ToMessage(&e), msg); err != nil {
		k.t.Fatal(err)
	}
	if _, _, err := k.p.SendMessage(msg); err != nil {
		k.t.Fatal(err)
	}
}

// letter is e as the KafkaSource dispatcher dead-letters it after dest
// answered 500.
func letter(e event.Event, dest string) event.Event {
	l := e.Clone()
	l.SetExtension(kafkasource.ExtErrorDest, dest)
	l.SetExtension(kafkasource.ExtErrorCode, "500")
	l.SetExtension(kafkasource.ExtErrorData, base64.StdEncoding.EncodeToString([]byte("smtp down")))
	return l
}

// ids lists the event ids on a topic, in order.
func (k *kafka) ids(topic string) []string {
	k.t.Helper()
	records, err := deadletter.List(context.Background(), k.brokers, kafkaauth.Credentials{}, topic)
	if err != nil {
		k.t.Fatal(err)
	}
	var out []string
	for _, r := range records {
		out = append(out, r.Event.ID())
	}
	return out
}

func newEvent(t *testing.T, typ, key string, payload any) event.Event {
	t.Helper()
	e, err := events.New("/tidings/test", typ, key, key, payload)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// replay --all sends each letter it trusts back to the topic it was read
// from, and skips, with a reason, each it cannot place or that Tidings did
// not write, instead of stopping at the first.
func TestReplayPlacesWhatItTrustsAndReportsTheRest(t *testing.T) {
	k := newKafka(t)
	topo := loadTopology(t)
	user := uuid.NewString()
	now := time.Now().UTC()
	const local = "http://127.0.0.1:40123" // the local stack runs Services on loopback
	const cluster = "http://notify.tidings.svc.cluster.local"

	// welcome: one real letter, then everything that must be refused.
	signed := newEvent(t, events.TypeUserSignedUp, user, events.UserSignedUp{UserID: user, Email: "ann@example.com", Name: "Ann", SignedUpAt: now})
	k.write(events.TopicUsers, signed)
	k.write("tidings.dlq.welcome", letter(signed, local))

	note := newEvent(t, events.TypeNotificationCreated, user, events.NotificationCreated{
		RecipientID: user, Kind: events.KindFriendAccepted, ActorID: uuid.NewString(), ActorName: "Bob",
		CauseSource: "/tidings/friends", CauseID: uuid.NewString(), CreatedAt: now})
	k.write(events.TopicNotifications, note)
	k.write("tidings.dlq.welcome", letter(note, local)) // welcome never reads tidings.notifications

	forged := newEvent(t, events.TypeUserSignedUp, user, events.UserSignedUp{UserID: user, Email: "victim@example.com", Name: "Free money", SignedUpAt: now})
	k.write("tidings.dlq.welcome", letter(forged, local)) // written straight to the dead-letter topic

	elsewhere := newEvent(t, events.TypeUserSignedUp, user, events.UserSignedUp{UserID: user, Email: "cy@example.com", Name: "Cy", SignedUpAt: now})
	k.write(events.TopicUsers, elsewhere)
	k.write("tidings.dlq.welcome", letter(elsewhere, "http://evil.example/")) // not welcome's subscriber

	broken := signed.Clone()
	broken.SetID(uuid.NewString())
	_ = broken.SetData("application/json", map[string]any{"userId": "u-bad", "name": "No Email"})
	k.write(events.TopicUsers, broken)
	k.write("tidings.dlq.welcome", letter(broken, local)) // breaks the contract

	tampered := letter(signed, local)
	tampered.SetID(uuid.NewString())
	_ = tampered.SetData("application/json", events.UserSignedUp{UserID: user, Email: "eve@example.com", Name: "Eve", SignedUpAt: now})
	k.write("tidings.dlq.welcome", tampered) // a real-looking letter whose data is not the original's

	if _, _, err := k.p.SendMessage(&sarama.ProducerMessage{Topic: "tidings.dlq.welcome", Value: sarama.StringEncoder("not an event")}); err != nil {
		t.Fatal(err)
	}

	rep, err := dlq.Replay(context.Background(), topo, k.brokers, kafkaauth.Credentials{}, "welcome", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Replayed) != 1 || rep.Replayed[0].Letter.Event.ID() != signed.ID() || rep.Replayed[0].Topic != events.TopicUsers {
		t.Fatalf("replayed %+v, want only the real signup to %s", rep.Replayed, events.TopicUsers)
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		id := s.Letter.Ref()
		if s.Letter.DecodeErr == "" {
			id = s.Letter.Event.ID()
		}
		reasons[id] = s.Reason
	}
	for id, want := range map[string]string{
		note.ID():      "does not read",
		forged.ID():    "no record",
		elsewhere.ID(): "not welcome's subscriber",
		broken.ID():    "breaks the contract",
		tampered.ID():  "no record",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("letter %s: skip reason %q, want one saying %q", id, reasons[id], want)
		}
	}
	if len(rep.Skipped) != 6 {
		t.Errorf("skipped %d letters, want 6 (with the non-CloudEvent record): %v", len(rep.Skipped), reasons)
	}
	users := k.ids(events.TopicUsers)
	if count(users, signed.ID()) != 2 || count(users, forged.ID()) != 0 || count(users, note.ID()) != 0 || count(users, tampered.ID()) != 0 {
		t.Fatalf("tidings.users after the replay: %v", users)
	}
	if n := count(k.ids(events.TopicNotifications), note.ID()); n != 1 {
		t.Fatalf("the notification was replayed somewhere: %d copies", n)
	}

	// notify reads two topics: each letter goes back to the one its type lives on.
	req := newEvent(t, events.TypeFriendRequested, user, events.FriendRequested{RequestID: uuid.NewString(), FromUserID: uuid.NewString(), FromName: "Bob", ToUserID: user, RequestedAt: now})
	k.write(events.TopicFriends, req)
	k.write("tidings.dlq.notify", letter(req, cluster))
	k.write("tidings.dlq.notify", letter(note, cluster))
	rep, err = dlq.Replay(context.Background(), topo, k.brokers, kafkaauth.Credentials{}, "notify", []string{req.ID(), note.ID()})
	if err != nil || len(rep.Skipped) != 0 || len(rep.Replayed) != 2 {
		t.Fatalf("notify replay: %+v %v", rep, err)
	}
	if count(k.ids(events.TopicFriends), req.ID()) != 2 || count(k.ids(events.TopicNotifications), note.ID()) != 2 {
		t.Fatal("notify's letters did not go back to the topics they came from")
	}
	if count(k.ids(events.TopicFriends), note.ID()) != 0 {
		t.Fatal("a notification was sent to tidings.friends")
	}
}

// A parked letter (knative/sources.yaml, "Re-drive") failed its source and
// then its re-drive: replaying it from the re-drive's topic sends the
// original event back to the contract topic it was first read from, where
// the whole path tries it anew, and never onto a dead-letter topic.
func TestReplayOfAParkedLetterGoesToTheContractTopic(t *testing.T) {
	k := newKafka(t)
	topo := loadTopology(t)
	user := uuid.NewString()
	const cluster = "http://notify.tidings.svc.cluster.local"

	srcs := map[string]dlq.Source{}
	for _, s := range dlq.Sources(topo) {
		srcs[s.Name] = s
	}
	redrive := srcs["redrive-notify"]
	if redrive.Redrives != "notify" || redrive.DLQTopic != "tidings.parked.notify" ||
		strings.Join(redrive.Topics, ",") != strings.Join(srcs["notify"].Topics, ",") {
		t.Fatalf("redrive-notify = %+v, want the re-drive of notify, parking in tidings.parked.notify, placing on notify's topics", redrive)
	}

	req := newEvent(t, events.TypeFriendRequested, user, events.FriendRequested{RequestID: uuid.NewString(), FromUserID: uuid.NewString(), FromName: "Bob", ToUserID: user, RequestedAt: time.Now().UTC()})
	k.write(events.TopicFriends, req)
	k.write("tidings.dlq.notify", letter(req, cluster))
	k.write("tidings.parked.notify", letter(req, cluster))
	forged := newEvent(t, events.TypeFriendRequested, user, events.FriendRequested{RequestID: uuid.NewString(), FromUserID: uuid.NewString(), FromName: "Mallory", ToUserID: user, RequestedAt: time.Now().UTC()})
	k.write("tidings.parked.notify", letter(forged, cluster)) // never on tidings.friends

	rep, err := dlq.Replay(context.Background(), topo, k.brokers, kafkaauth.Credentials{}, "redrive-notify", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Replayed) != 1 || rep.Replayed[0].Letter.Event.ID() != req.ID() || rep.Replayed[0].Topic != events.TopicFriends {
		t.Fatalf("replayed %+v, want the request back on %s", rep.Replayed, events.TopicFriends)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Letter.Event.ID() != forged.ID() || !strings.Contains(rep.Skipped[0].Reason, "no record") {
		t.Fatalf("skipped %+v, want the forged letter, for having no original", rep.Skipped)
	}
	if n := count(k.ids(events.TopicFriends), req.ID()); n != 2 {
		t.Fatalf("%d copies of the request on %s, want the original and the replay", n, events.TopicFriends)
	}
	if n := count(k.ids("tidings.dlq.notify"), req.ID()); n != 1 {
		t.Fatalf("replay wrote to the dead-letter topic: %d copies", n)
	}
}
