package vault

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Tag is the YAML tag of an inline encrypted value.
const Tag = "!vault"

// DecryptYAMLNode replaces every scalar tagged !vault in the tree under n
// by its plaintext, as a plain string, so that a loader can call it before
// decoding. It returns the plaintexts (for output masking) and one error
// per value that could not be decrypted, joined, each with its line and
// column. Values that are not scalars, not vault data or not UTF-8 text
// are errors too. n is changed in place; aliases are followed once.
func DecryptYAMLNode(n *yaml.Node, s Secrets) ([]string, error) {
	d := &yamlDecrypter{secrets: s, seen: map[*yaml.Node]bool{}}
	d.walk(n)
	return d.plain, errors.Join(d.errs...)
}

type yamlDecrypter struct {
	secrets Secrets
	seen    map[*yaml.Node]bool
	plain   []string
	errs    []error
}

func (d *yamlDecrypter) walk(n *yaml.Node) {
	if n == nil || d.seen[n] {
		return
	}
	d.seen[n] = true
	if n.Tag == Tag {
		d.decrypt(n)
		return
	}
	if n.Kind == yaml.AliasNode {
		d.walk(n.Alias)
		return
	}
	for _, c := range n.Content {
		d.walk(c)
	}
}

func (d *yamlDecrypter) decrypt(n *yaml.Node) {
	fail := func(format string, args ...any) {
		d.errs = append(d.errs, fmt.Errorf("line %d column %d: !vault value: "+format, append([]any{n.Line, n.Column}, args...)...))
	}
	if n.Kind != yaml.ScalarNode {
		fail("must be a string holding vault data")
		return
	}
	if !IsEncrypted([]byte(n.Value)) {
		fail("%w", ErrNotEncrypted)
		return
	}
	plain, err := Decrypt([]byte(n.Value), d.secrets)
	if err != nil {
		fail("%w", err)
		return
	}
	if !utf8.Valid(plain) {
		fail("the plaintext is not UTF-8 text")
		return
	}
	n.Tag = "!!str"
	n.Value = string(plain)
	n.Style = 0
	d.plain = append(d.plain, n.Value)
}
