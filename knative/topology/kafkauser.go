package topology

import (
	"fmt"
	"slices"
	"strconv"
)

// StrimziV1 is the API of Strimzi's Kafka, KafkaNodePool and KafkaUser.
const StrimziV1 = "kafka.strimzi.io/v1"

// Strimzi KafkaUser values (strimzi/strimzi-kafka-operator
// packaging/install/cluster-operator/044-Crd-kafkauser.yaml).
const (
	AuthSCRAMSHA512     = "scram-sha-512"
	AuthorizationSimple = "simple"

	ResourceTopic = "topic"
	ResourceGroup = "group"

	OpRead     = "Read"
	OpWrite    = "Write"
	OpDescribe = "Describe"
)

var (
	aclResourceTypes = []string{ResourceTopic, ResourceGroup, "cluster", "transactionalId"}
	aclOperations    = []string{"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"}
)

// KafkaUser (kafka.strimzi.io/v1): a principal of the Kafka cluster and its ACLs,
// created by Strimzi's User Operator on a cluster and by the local stack on its
// embedded broker.
type KafkaUser struct {
	Name      string
	Namespace string
	Cluster   string // strimzi.io/cluster label
	// Authentication is spec.authentication.type (scram-sha-512).
	Authentication string
	// PasswordSecret is spec.authentication.password.valueFrom.secretKeyRef: the
	// Secret the data plane that acts as this user reads too.
	PasswordSecret *KeyRef
	Authorization  string // spec.authorization.type (simple)
	ACLs           []ACL

	origin
	raw *rawKafkaUser
}

// ACL is one rule of a KafkaUser; Type is allow or deny.
type ACL struct {
	Type         string
	ResourceType string // topic, group, cluster, transactionalId
	Resource     string
	PatternType  string // literal or prefix
	Operations   []string
	Host         string
}

// Allows says whether the user may do op on the resource, as Kafka's
// StandardAuthorizer decides: a matching deny wins, Describe is implied by
// Read, Write, Delete and Alter (apache/kafka
// metadata/src/main/java/org/apache/kafka/metadata/authorizer/StandardAuthorizerData.java).
func (u *KafkaUser) Allows(resourceType, name, op string) bool {
	allowed := false
	for _, a := range u.ACLs {
		if a.ResourceType != resourceType || !a.matches(name) || !a.grants(op) {
			continue
		}
		if a.Type == "deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func (a ACL) matches(name string) bool {
	if a.PatternType == "prefix" {
		return len(name) >= len(a.Resource) && name[:len(a.Resource)] == a.Resource
	}
	return a.Resource == name || a.Resource == "*"
}

func (a ACL) grants(op string) bool {
	for _, have := range a.Operations {
		if have == op || have == "All" {
			return true
		}
		if op == OpDescribe && a.Type != "deny" && slices.Contains([]string{"Read", "Write", "Delete", "Alter"}, have) {
			return true
		}
	}
	return false
}

// KafkaNet is a KafkaSource's spec.net: how its dispatcher authenticates.
type KafkaNet struct {
	SASL      bool
	User      *KeyRef
	Password  *KeyRef
	Mechanism *KeyRef // sasl.type
	TLS       bool
	CACert    *KeyRef
}

type rawKafkaUser struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   rawMeta          `json:"metadata"`
	Spec       rawKafkaUserSpec `json:"spec"`
}

type rawKafkaUserSpec struct {
	Authentication *struct {
		Type     string `json:"type"`
		Password *struct {
			ValueFrom *struct {
				SecretKeyRef *rawKeyRef `json:"secretKeyRef"`
			} `json:"valueFrom"`
		} `json:"password"`
	} `json:"authentication"`
	Authorization *struct {
		Type string   `json:"type"`
		ACLs []rawACL `json:"acls"`
	} `json:"authorization"`
}

type rawACL struct {
	Type     string `json:"type"`
	Resource struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		PatternType string `json:"patternType"`
	} `json:"resource"`
	Host       string   `json:"host"`
	Operations []string `json:"operations"`
}

func newKafkaUser(raw *rawKafkaUser, o origin) *KafkaUser {
	u := &KafkaUser{Name: raw.Metadata.Name, Namespace: raw.Metadata.Namespace, Cluster: raw.Metadata.Labels[StrimziClusterLabel], origin: o, raw: raw}
	if a := raw.Spec.Authentication; a != nil {
		u.Authentication = a.Type
		if p := a.Password; p != nil && p.ValueFrom != nil && p.ValueFrom.SecretKeyRef != nil {
			u.PasswordSecret = &KeyRef{Name: p.ValueFrom.SecretKeyRef.Name, Key: p.ValueFrom.SecretKeyRef.Key}
		}
	}
	if a := raw.Spec.Authorization; a != nil {
		u.Authorization = a.Type
		for _, r := range a.ACLs {
			acl := ACL{Type: r.Type, ResourceType: r.Resource.Type, Resource: r.Resource.Name, PatternType: r.Resource.PatternType, Operations: r.Operations, Host: r.Host}
			if acl.Type == "" {
				acl.Type = "allow"
			}
			if acl.PatternType == "" {
				acl.PatternType = "literal"
			}
			if acl.Host == "" {
				acl.Host = "*"
			}
			u.ACLs = append(u.ACLs, acl)
		}
	}
	return u
}

func newKafkaNet(raw *rawNet) KafkaNet {
	var n KafkaNet
	if raw == nil {
		return n
	}
	ref := func(v *rawSecretValue) *KeyRef {
		if v == nil || v.SecretKeyRef == nil {
			return nil
		}
		return &KeyRef{Name: v.SecretKeyRef.Name, Key: v.SecretKeyRef.Key}
	}
	if s := raw.SASL; s != nil {
		n.SASL, n.User, n.Password, n.Mechanism = s.Enable, ref(s.User), ref(s.Password), ref(s.Type)
	}
	if t := raw.TLS; t != nil {
		n.TLS, n.CACert = t.Enable, ref(t.CACert)
	}
	return n
}

// KafkaUserBySecret returns the KafkaUser whose password comes from Secret name.
func (t *Topology) KafkaUserBySecret(name string) *KafkaUser {
	for _, u := range t.KafkaUsers {
		if u.PasswordSecret != nil && u.PasswordSecret.Name == name {
			return u
		}
	}
	return nil
}

// The keys of an eventing-kafka-broker auth Secret (control-plane/pkg/security/secret.go):
// a KafkaSource's refs use the same keys, so every principal's Secret has one shape.
const (
	SecretKeyUser      = "user"
	SecretKeyPassword  = "password"
	SecretKeyMechanism = "sasl.mechanism"
)

// checkKafkaUser checks one KafkaUser on its own.
func (t *Topology) checkKafkaUser(u *KafkaUser) []error {
	errs := meta(u.origin, u.Name, u.Namespace)
	add := errs.add
	o := u.origin
	if u.Cluster == "" {
		add(o.errorf("metadata.labels."+StrimziClusterLabel, "required: the User Operator manages only users labelled with its Kafka cluster's name"))
	}
	switch {
	case u.Authentication != AuthSCRAMSHA512:
		add(o.errorf("spec.authentication.type", "want %s, the authentication of the Kafka listener (infra/cluster/kafka.yaml), got %q", AuthSCRAMSHA512, u.Authentication))
	case u.PasswordSecret == nil || u.PasswordSecret.Name == "" || u.PasswordSecret.Key != SecretKeyPassword:
		add(o.errorf("spec.authentication.password.valueFrom.secretKeyRef", "want name: <Secret> and key: %s: the password must come from the Secret the data plane authenticates with", SecretKeyPassword))
	}
	if u.Authorization != AuthorizationSimple {
		add(o.errorf("spec.authorization.type", "want %s: a user without ACLs may do nothing, one with no authorization block anything", AuthorizationSimple))
	}
	if len(u.ACLs) == 0 {
		add(o.errorf("spec.authorization.acls", "required: say what this user may do"))
	}
	topics := map[string]bool{}
	for _, k := range t.KafkaTopics {
		topics[k.Topic] = true
	}
	for i, a := range u.ACLs {
		f := "spec.authorization.acls[" + strconv.Itoa(i) + "]"
		if !slices.Contains(aclResourceTypes, a.ResourceType) {
			add(o.errorf(f+".resource.type", "%q is not one of %v", a.ResourceType, aclResourceTypes))
		}
		switch {
		case a.Resource == "" || a.Resource == "*":
			add(o.errorf(f+".resource.name", "name one resource: %q would grant every %s", a.Resource, a.ResourceType))
		case a.PatternType != "literal":
			add(o.errorf(f+".resource.patternType", "want literal: a %s pattern grants %ss nobody has declared yet", a.PatternType, a.ResourceType))
		case a.ResourceType == ResourceTopic && !topics[a.Resource]:
			add(o.errorf(f+".resource.name", "topic %q is declared by no KafkaTopic", a.Resource))
		}
		if a.Type != "allow" && a.Type != "deny" {
			add(o.errorf(f+".type", "want allow or deny, got %q", a.Type))
		}
		if len(a.Operations) == 0 {
			add(o.errorf(f+".operations", "required"))
		}
		for _, op := range a.Operations {
			if !slices.Contains(aclOperations, op) {
				add(o.errorf(f+".operations", "%q is not a Kafka operation (%v)", op, aclOperations))
			} else if op == "All" {
				add(o.errorf(f+".operations", "All grants operations nobody needs; list them"))
			}
		}
	}
	return errs
}

// checkKafkaAccess checks who uses which KafkaUser: every KafkaSink and
// KafkaSource authenticates as a user whose ACLs allow what it does, and no
// user bound to the data plane may do more than its sinks or source need.
func (t *Topology) checkKafkaAccess() []error {
	var errs problems
	add := errs.add
	sinkTopics := map[*KafkaUser]map[string]bool{} // user → topics its sinks write
	for _, k := range t.KafkaSinks {
		if k.AuthSecret == "" {
			add(k.errorf("spec.auth.secret.ref.name", "required: the Kafka listener takes only authenticated clients; name the Secret of the receiver's KafkaUser"))
			continue
		}
		u := t.KafkaUserBySecret(k.AuthSecret)
		if u == nil {
			add(k.errorf("spec.auth.secret.ref.name", "no KafkaUser takes its password from Secret %q", k.AuthSecret))
			continue
		}
		if !u.Allows(ResourceTopic, k.Topic, OpWrite) {
			add(k.errorf("spec.topic", "KafkaUser %s (Secret %s) may not Write topic %q", u.Name, k.AuthSecret, k.Topic))
		}
		if sinkTopics[u] == nil {
			sinkTopics[u] = map[string]bool{}
		}
		sinkTopics[u][k.Topic] = true
	}
	sourceOf := map[*KafkaUser]*KafkaSource{}
	for _, k := range t.KafkaSources {
		u := t.checkSourceNet(k, add)
		if u == nil {
			continue
		}
		if prev, ok := sourceOf[u]; ok {
			add(k.errorf("spec.net.sasl.password", "KafkaUser %s is also KafkaSource %s's: each dispatcher has its own user, so it reads only its own topics", u.Name, prev.Name))
			continue
		}
		sourceOf[u] = k
		for _, topic := range k.Topics {
			if !u.Allows(ResourceTopic, topic, OpRead) {
				add(k.errorf("spec.topics", "KafkaUser %s may not Read topic %q", u.Name, topic))
			}
		}
		if !u.Allows(ResourceGroup, k.ConsumerGroup, OpRead) {
			add(k.errorf("spec.consumerGroup", "KafkaUser %s may not Read consumer group %q", u.Name, k.ConsumerGroup))
		}
	}
	deadLetterTopics := map[string]bool{}
	for _, k := range t.KafkaSources {
		if d := k.Delivery.DeadLetterSink; d != nil {
			if s := t.KafkaSinkFor(*d); s != nil {
				deadLetterTopics[s.Topic] = true
			}
		}
	}
	for _, u := range t.KafkaUsers {
		src, isSource := sourceOf[u]
		writes, isSink := sinkTopics[u]
		if isSource && isSink {
			add(u.errorf("metadata.name", "used by KafkaSinks and by KafkaSource %s: one principal per part of the data plane", src.Name))
			continue
		}
		for i, a := range u.ACLs {
			if a.Type != "allow" {
				continue
			}
			f := "spec.authorization.acls[" + strconv.Itoa(i) + "]"
			for _, op := range a.Operations {
				var why string
				switch {
				case isSink && (a.ResourceType != ResourceTopic || !writes[a.Resource] || (op != OpWrite && op != OpDescribe)):
					why = "the KafkaSink receiver only writes (and describes) its sinks' topics"
				case isSource && !sourceNeeds(src, a.ResourceType, a.Resource, op):
					why = fmt.Sprintf("KafkaSource %s's dispatcher only reads (and describes) its topics %v and group %s", src.Name, src.Topics, src.ConsumerGroup)
				case !isSource && !isSink && op == OpWrite && deadLetterTopics[a.Resource]:
					why = "only the KafkaSink receiver writes dead letters: a letter from anyone else is a forgery"
				}
				if why != "" {
					add(u.errorf(f+".operations", "%s on %s %q is more than this user needs: %s", op, a.ResourceType, a.Resource, why))
				}
			}
		}
	}
	return errs
}

// checkSourceNet checks a KafkaSource's spec.net and returns its KafkaUser.
func (t *Topology) checkSourceNet(k *KafkaSource, add func(error)) *KafkaUser {
	n := k.Net
	if !n.SASL {
		add(k.errorf("spec.net.sasl.enable", "want true: the Kafka listener takes only authenticated clients"))
		return nil
	}
	if !n.TLS || n.CACert == nil || n.CACert.Name == "" || n.CACert.Key == "" {
		add(k.errorf("spec.net.tls", "want enable: true and a caCert secretKeyRef: the listener is TLS (SASL_SSL)"))
	}
	refs := []struct {
		field, key string
		ref        *KeyRef
	}{{"spec.net.sasl.user", SecretKeyUser, n.User}, {"spec.net.sasl.password", SecretKeyPassword, n.Password}, {"spec.net.sasl.type", SecretKeyMechanism, n.Mechanism}}
	ok := true
	for _, r := range refs {
		switch {
		case r.ref == nil || r.ref.Name == "":
			add(k.errorf(r.field, "required: a secretKeyRef to key %s", r.key))
			ok = false
		case r.ref.Key != r.key:
			add(k.errorf(r.field+".secretKeyRef.key", "want %s, the key eventing-kafka-broker's Secret shape uses, got %q", r.key, r.ref.Key))
			ok = false
		case n.Password != nil && r.ref.Name != n.Password.Name:
			add(k.errorf(r.field+".secretKeyRef.name", "%q: user, password and type come from one Secret, %q", r.ref.Name, n.Password.Name))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	u := t.KafkaUserBySecret(n.Password.Name)
	if u == nil {
		add(k.errorf("spec.net.sasl.password", "no KafkaUser takes its password from Secret %q", n.Password.Name))
	}
	return u
}

// sourceNeeds says whether a KafkaSource's dispatcher needs op on the resource.
func sourceNeeds(k *KafkaSource, resourceType, name, op string) bool {
	switch resourceType {
	case ResourceTopic:
		return slices.Contains(k.Topics, name) && (op == OpRead || op == OpDescribe)
	case ResourceGroup:
		return name == k.ConsumerGroup && (op == OpRead || op == OpDescribe)
	}
	return false
}
