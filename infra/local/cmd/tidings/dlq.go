package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings-dev/tidings/infra/local/dlq"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/knative/topology"
)

func dlqCmd(repo string, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return fmt.Errorf("usage: tidings dlq list [--source NAME] | replay --source NAME [--id ID ...] [--all]")
	}
	verb := args[0]
	fs := flag.NewFlagSet("dlq "+verb, flag.ExitOnError)
	source := fs.String("source", "", "the KafkaSource whose dead letters to use (default for list: all)")
	brokers := fs.String("brokers", envOr("KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka bootstrap servers")
	secretDir := fs.String("secret-dir", os.Getenv("KAFKA_SECRET_DIR"), "Kafka credentials: a Secret mounted as files (protocol, sasl.mechanism, user, password, ca.crt); default the local stack's for KafkaUser "+dlqUser)
	all := fs.Bool("all", false, "replay every dead letter of the source")
	var ids multiFlag
	fs.Var(&ids, "id", "an event id or <partition>:<offset> to replay (repeatable)")
	fs.Parse(args[1:]) //nolint:errcheck

	topo, err := topology.Load(filepath.Join(repo, "knative"))
	if err != nil {
		return err
	}
	auth, err := dlqCredentials(repo, topo, *secretDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bs := strings.Split(*brokers, ",")
	if verb == "list" {
		lists, err := dlq.List(ctx, topo, bs, auth, *source)
		if err != nil {
			return fmt.Errorf("%w\n(is the local stack running? start it with `go tool task up`, or point --brokers / KAFKA_BROKERS at your Kafka)", err)
		}
		printLetters(lists)
		return nil
	}
	if len(ids) == 0 && !*all {
		return fmt.Errorf("say which dead letters to replay: --id ID (repeatable) or --all")
	}
	rep, err := dlq.Replay(ctx, topo, bs, auth, *source, ids)
	for _, r := range rep.Replayed {
		fmt.Printf("replayed %s\t%s\t%s → %s\n", r.Letter.Ref(), r.Letter.Event.ID(), r.Letter.Event.Type(), r.Topic)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(os.Stderr, "skipped  %s\t%s\n", s.Letter.Ref(), s.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Printf("replayed %d event(s) from %s, skipped %d\n", len(rep.Replayed), *source, len(rep.Skipped))
	return nil
}

// dlqUser is the KafkaUser the dead-letter tools act as (knative/kafkausers.yaml).
const dlqUser = "tidings-dlq"

// dlqCredentials reads the dlq user's Secret: from dir (the Job mounts it on a
// cluster), else from where the local stack writes it, else none (a Kafka
// without authentication).
func dlqCredentials(repo string, topo *topology.Topology, dir string) (kafkaauth.Credentials, error) {
	if dir != "" {
		return kafkaauth.ReadDir(dir)
	}
	for _, u := range topo.KafkaUsers {
		if u.Name == dlqUser && u.PasswordSecret != nil {
			local := filepath.Join(repo, ".data", "secrets", u.PasswordSecret.Name)
			if _, err := os.Stat(local); err == nil {
				return kafkaauth.ReadDir(local)
			}
		}
	}
	return kafkaauth.Credentials{}, nil
}

func printLetters(lists []dlq.Letters) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for _, l := range lists {
		fmt.Fprintf(w, "%s (%s → %s): %d dead letter(s)\n", l.Source.Name, strings.Join(l.Source.Topics, ","), l.Source.DLQTopic, len(l.Letters))
		for _, letter := range l.Letters {
			reason := strings.Join(strings.Fields(letter.Reason), " ")
			if len(reason) > 160 {
				reason = reason[:160] + "…"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\tcode %d\t%s\n", letter.Ref(), letter.Event.ID(), letter.Event.Type(), letter.Code, reason)
		}
	}
	w.Flush()
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
