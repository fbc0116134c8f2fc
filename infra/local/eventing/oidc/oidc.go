// Package oidc is the local stack's stand-in for the cluster's OIDC issuer:
// it signs short JWTs naming a ServiceAccount (sub) for one audience (aud), as
// the Kubernetes API server does for Knative Eventing's OIDC tokens, and
// verifies them the way eventing-kafka-broker's receiver does: signature,
// issuer, audience and expiry (data-plane/receiver/.../impl/auth/AuthVerifierImpl.java,
// jose4j's JwtConsumer). Tokens are EdDSA-signed with a key made at start;
// nothing outside the stack can mint one.
package oidc

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are the token fields Knative's receiver reads.
type Claims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
}

// Issuer signs and verifies tokens with one key.
type Issuer struct {
	url  string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

// NewIssuer makes a fresh signing key for issuer url.
func NewIssuer(url string) (*Issuer, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Issuer{url: url, priv: priv, pub: pub}, nil
}

var header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT"}`))

// Mint returns a token for subject and audience, valid for ttl.
func (i *Issuer) Mint(subject, audience string, ttl time.Duration) string {
	now := time.Now()
	claims, _ := json.Marshal(Claims{Issuer: i.url, Subject: subject, Audience: audience, IssuedAt: now.Unix(), Expiry: now.Add(ttl).Unix()})
	signed := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(i.priv, []byte(signed)))
}

// Verify checks token's signature, issuer, audience and expiry and returns
// its claims.
func (i *Issuer) Verify(token, audience string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != header {
		return Claims{}, errors.New("not a token of this issuer")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(i.pub, []byte(parts[0]+"."+parts[1]), sig) {
		return Claims{}, errors.New("bad signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, fmt.Errorf("claims: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, fmt.Errorf("claims: %w", err)
	}
	switch {
	case c.Issuer != i.url:
		return Claims{}, fmt.Errorf("issuer %q, want %q", c.Issuer, i.url)
	case c.Audience != audience:
		return Claims{}, fmt.Errorf("audience %q, want %q", c.Audience, audience)
	case time.Now().Unix() >= c.Expiry:
		return Claims{}, errors.New("expired")
	}
	return c, nil
}
