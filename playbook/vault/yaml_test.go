package vault

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

func TestDecryptYAMLNode(t *testing.T) {
	pw := secrets("default", testPassword)
	enc := func(plain string) string {
		out, err := Encrypt([]byte(plain), []byte(testPassword), "")
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	multi := enc("line one\nline two\n")
	tests := []struct {
		name       string
		doc        string
		want       map[string]any
		wantPlain  []string
		wantErr    error
		wantErrPos string
	}{
		{
			name:      "ansible single_vault_as_string",
			doc:       string(readTestdata(t, "ansible/single_vault_as_string.yml")),
			want:      map[string]any{"vaulted_value": "foo bar"},
			wantPlain: []string{"foo bar"},
		},
		{
			name: "nested, in lists, beside plain values",
			doc: "db:\n  user: app\n  password: !vault |\n" + indent(enc("s3cret"), "    ") +
				"\nkeys:\n  - !vault |\n" + indent(multi, "    ") + "\n  - 42\n",
			want: map[string]any{
				"db":   map[string]any{"user": "app", "password": "s3cret"},
				"keys": []any{"line one\nline two\n", 42},
			},
			wantPlain: []string{"s3cret", "line one\nline two\n"},
		},
		{
			name:      "numbers stay strings",
			doc:       "port: !vault |\n" + indent(enc("5432"), "  ") + "\n",
			want:      map[string]any{"port": "5432"},
			wantPlain: []string{"5432"},
		},
		{
			name:      "alias to a vault value",
			doc:       "a: &x !vault |\n" + indent(enc("shared"), "  ") + "\nb: *x\n",
			want:      map[string]any{"a": "shared", "b": "shared"},
			wantPlain: []string{"shared"},
		},
		{
			name:       "wrong password",
			doc:        "a: 1\nb: !vault |\n" + indent(enc("x"), "  ") + "\n",
			wantErr:    ErrDecrypt,
			wantErrPos: "line 2 column 4",
		},
		{
			name:       "not vault data",
			doc:        "a: !vault plain text\n",
			wantErr:    ErrNotEncrypted,
			wantErrPos: "line 1 column 4",
		},
		{
			name:       "not a scalar",
			doc:        "a: !vault [1, 2]\n",
			wantErrPos: "line 1 column 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
				t.Fatal(err)
			}
			s := pw
			if tt.wantErr == ErrDecrypt {
				s = secrets("default", "wrong")
			}
			plain, err := DecryptYAMLNode(&n, s)
			if tt.wantErrPos != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrPos) {
					t.Fatalf("error = %v, want one at %s", err, tt.wantErrPos)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := n.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if !equalYAML(got, tt.want) {
				t.Errorf("decoded %#v, want %#v", got, tt.want)
			}
			if strings.Join(plain, "|") != strings.Join(tt.wantPlain, "|") {
				t.Errorf("plaintexts %q, want %q", plain, tt.wantPlain)
			}
		})
	}
}

func equalYAML(a, b any) bool {
	x, err1 := yaml.Marshal(a)
	y, err2 := yaml.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
