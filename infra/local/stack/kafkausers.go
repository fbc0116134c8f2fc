package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/knative/topology"
)

// The local broker enforces knative/kafkausers.yaml as a cluster's does: every
// client authenticates (SCRAM-SHA-512; the local listener has no TLS) and may
// do only what its KafkaUser's ACLs allow. A cluster's platform team creates
// each user's Secret; locally the stack writes them, with passwords it
// generates once, under .data/secrets/<Secret>/ (one file per key, as a
// mounted Secret), and creates the users and ACLs on the broker as Strimzi's
// User Operator would. The stack's own admin (topics, users) is a superuser
// of the local broker only, standing in for Strimzi's operators.
const (
	// KafkaAdmin is the local broker's superuser.
	KafkaAdmin       = "tidings-admin"
	kafkaAdminSecret = "tidings-kafka-admin"
	scramIterations  = 4096
)

// secretDir is where the stack keeps Secret name, as files.
func (o Options) secretDir(name string) string {
	return filepath.Join(o.DataDir, "secrets", name)
}

// ensureSecret returns the Secret name for user, writing it first with a new
// password if it does not exist: a Secret outlives a restart, as in etcd.
func ensureSecret(dir, user string) (kafkaauth.Credentials, error) {
	if c, err := kafkaauth.ReadDir(dir); err == nil && c.User == user {
		return c, nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return kafkaauth.Credentials{}, err
	}
	c := kafkaauth.SCRAM(user, hex.EncodeToString(b))
	if err := kafkaauth.WriteDir(dir, c); err != nil {
		return kafkaauth.Credentials{}, fmt.Errorf("write Kafka secret %s: %w", dir, err)
	}
	return c, nil
}

// kafkaAdmin is who the stack is on its Kafka: the local broker's superuser,
// the superuser the environment names for another Kafka (KAFKA_ADMIN_USER,
// KAFKA_ADMIN_PASSWORD), or nobody (zero credentials: a Kafka without
// authentication, whose users and ACLs the stack leaves alone).
func kafkaAdmin(o Options) (kafkaauth.Credentials, error) {
	if o.Env("KAFKA_BROKERS") != "" {
		user, pass := o.Env("KAFKA_ADMIN_USER"), o.Env("KAFKA_ADMIN_PASSWORD")
		if user == "" || pass == "" {
			return kafkaauth.Credentials{}, nil
		}
		return kafkaauth.SCRAM(user, pass), nil
	}
	return ensureSecret(o.secretDir(kafkaAdminSecret), KafkaAdmin)
}

// kafkaSecrets writes the Secret of every KafkaUser and returns them by
// Secret name. With no admin (a Kafka without authentication) every client
// connects without credentials, as it does to such a cluster.
func (s *Stack) kafkaSecrets() (map[string]kafkaauth.Credentials, error) {
	out := map[string]kafkaauth.Credentials{}
	if !s.backing.KafkaAdmin.SASL() {
		return out, nil
	}
	for _, u := range s.topo.KafkaUsers {
		if u.PasswordSecret == nil {
			continue
		}
		c, err := ensureSecret(s.opts.secretDir(u.PasswordSecret.Name), u.Name)
		if err != nil {
			return nil, err
		}
		out[u.PasswordSecret.Name] = c
	}
	return out, nil
}

// KafkaCredentials returns the credentials in Secret name (zero when the
// stack's Kafka has no authentication), for tests and tools that act as one
// of the manifests' KafkaUsers.
func (s *Stack) KafkaCredentials(secret string) kafkaauth.Credentials { return s.kafkaCreds[secret] }

// KafkaAdminCredentials are the stack's own: the local broker's superuser.
func (s *Stack) KafkaAdminCredentials() kafkaauth.Credentials { return s.backing.KafkaAdmin }

// KafkaSecretsDir is where the stack keeps the Kafka users' Secrets
// (<dir>/<Secret>/<key>), "" when its Kafka has no authentication.
func (s *Stack) KafkaSecretsDir() string {
	if !s.backing.KafkaAdmin.SASL() {
		return ""
	}
	return filepath.Join(s.opts.DataDir, "secrets")
}

// adminClient is a franz-go client acting as the stack's admin.
func adminClient(brokers []string, admin kafkaauth.Credentials) (*kgo.Client, error) {
	auth, err := admin.Franz()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(auth, kgo.SeedBrokers(brokers...))...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	return cl, nil
}

// applyKafkaUsers makes the broker's SCRAM users and ACLs those of the
// manifests, as Strimzi's User Operator does: each user's password is set
// from its Secret, its ACLs that are not in the manifests are deleted and the
// rest are created (strimzi/strimzi-kafka-operator
// user-operator/src/main/java/io/strimzi/operator/user/operator/KafkaUserOperator.java
// reconciles the same two things).
func applyKafkaUsers(ctx context.Context, brokers []string, admin kafkaauth.Credentials, users []*topology.KafkaUser, secrets map[string]kafkaauth.Credentials) error {
	cl, err := adminClient(brokers, admin)
	if err != nil {
		return err
	}
	defer cl.Close()
	var upserts []kadm.UpsertSCRAM
	for _, u := range users {
		if u.PasswordSecret == nil {
			continue
		}
		upserts = append(upserts, kadm.UpsertSCRAM{User: u.Name, Mechanism: kadm.ScramSha512, Iterations: scramIterations, Password: secrets[u.PasswordSecret.Name].Password})
	}
	altered, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, upserts)
	if err != nil {
		return fmt.Errorf("kafka users: %w", err)
	}
	var errs []error
	for _, a := range altered {
		if a.Err != nil {
			errs = append(errs, fmt.Errorf("kafka user %s: %w", a.User, a.Err))
		}
	}

	// Only the manifests' principals: a Kafka the environment names may hold
	// other tenants' ACLs.
	del := kmsg.NewPtrDeleteACLsRequest()
	for _, u := range users {
		principal := "User:" + u.Name
		del.Filters = append(del.Filters, kmsg.DeleteACLsRequestFilter{
			ResourceType: kmsg.ACLResourceTypeAny, ResourcePatternType: kmsg.ACLResourcePatternTypeAny,
			Principal: &principal, Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny,
		})
	}
	if _, err := del.RequestWith(ctx, cl); err != nil {
		return fmt.Errorf("kafka: delete ACLs: %w", err)
	}
	create := kmsg.NewPtrCreateACLsRequest()
	for _, u := range users {
		for _, a := range u.ACLs {
			rt, err := kmsg.ParseACLResourceType(a.ResourceType)
			if err != nil {
				return fmt.Errorf("KafkaUser %s: %w", u.Name, err)
			}
			perm := kmsg.ACLPermissionTypeAllow
			if a.Type == "deny" {
				perm = kmsg.ACLPermissionTypeDeny
			}
			for _, o := range a.Operations {
				op, err := kmsg.ParseACLOperation(o)
				if err != nil {
					return fmt.Errorf("KafkaUser %s: %w", u.Name, err)
				}
				create.Creations = append(create.Creations, kmsg.CreateACLsRequestCreation{
					ResourceType: rt, ResourceName: a.Resource, ResourcePatternType: kmsg.ACLResourcePatternTypeLiteral,
					Principal: "User:" + u.Name, Host: a.Host, Operation: op, PermissionType: perm,
				})
			}
		}
	}
	resp, err := create.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("kafka: create ACLs: %w", err)
	}
	for i, r := range resp.Results {
		if e := kerr.ErrorForCode(r.ErrorCode); e != nil {
			errs = append(errs, fmt.Errorf("kafka ACL %+v: %w", create.Creations[i], e))
		}
	}
	return errors.Join(errs...)
}
