package modules

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// OpensslCsr is community.crypto's openssl_csr: it keeps a certificate
// signing request made by the target's `openssl req` from a private key
// there. The existing CSR is read and parsed on the controller and
// compared with the request (subject, subjectAltName, keyUsage,
// extendedKeyUsage, basicConstraints and their criticality, the private
// key's public key, the signature), as the collection's backend compares
// them; `openssl pkey -pubout` reads the private key's public half. A new
// CSR costs one exec more to make and one to write atomically.
type OpensslCsr struct{}

var _ Module = OpensslCsr{}

// csrSubjectFields are the subject arguments: argument name, aliases,
// openssl's short name and OID.
var csrSubjectFields = []struct {
	arg     string
	aliases []string
	short   string
	oid     asn1.ObjectIdentifier
}{
	{"country_name", []string{"C", "countryName"}, "C", asn1.ObjectIdentifier{2, 5, 4, 6}},
	{"state_or_province_name", []string{"ST", "stateOrProvinceName"}, "ST", asn1.ObjectIdentifier{2, 5, 4, 8}},
	{"locality_name", []string{"L", "localityName"}, "L", asn1.ObjectIdentifier{2, 5, 4, 7}},
	{"organization_name", []string{"O", "organizationName"}, "O", asn1.ObjectIdentifier{2, 5, 4, 10}},
	{"organizational_unit_name", []string{"OU", "organizationalUnitName"}, "OU", asn1.ObjectIdentifier{2, 5, 4, 11}},
	{"common_name", []string{"CN", "commonName"}, "CN", asn1.ObjectIdentifier{2, 5, 4, 3}},
	{"email_address", []string{"E", "emailAddress"}, "emailAddress", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}},
}

// csrExtraNames are further names a subject dict may use.
var csrExtraNames = map[string]asn1.ObjectIdentifier{
	"serialNumber": {2, 5, 4, 5}, "street": {2, 5, 4, 9}, "streetAddress": {2, 5, 4, 9},
	"postalCode": {2, 5, 4, 17}, "title": {2, 5, 4, 12}, "GN": {2, 5, 4, 42}, "givenName": {2, 5, 4, 42},
	"SN": {2, 5, 4, 4}, "surname": {2, 5, 4, 4}, "DC": {0, 9, 2342, 19200300, 100, 1, 25},
	"domainComponent": {0, 9, 2342, 19200300, 100, 1, 25}, "UID": {0, 9, 2342, 19200300, 100, 1, 1},
	"userId": {0, 9, 2342, 19200300, 100, 1, 1},
}

// keyUsageBits are keyUsage's names (as openssl's config takes them) in
// bit order.
var keyUsageBits = []string{"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}

// keyUsageAlias maps the other spellings the collection accepts.
var keyUsageAlias = map[string]string{"contentCommitment": "nonRepudiation", "Content Commitment": "nonRepudiation",
	"Digital Signature": "digitalSignature", "Non Repudiation": "nonRepudiation", "Key Encipherment": "keyEncipherment",
	"Data Encipherment": "dataEncipherment", "Key Agreement": "keyAgreement", "Certificate Sign": "keyCertSign",
	"CRL Sign": "cRLSign", "Encipher Only": "encipherOnly", "Decipher Only": "decipherOnly"}

// extKeyUsageOIDs maps extendedKeyUsage names (short and long) to OIDs.
var extKeyUsageOIDs = map[string]string{
	"serverAuth": "1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication": "1.3.6.1.5.5.7.3.1",
	"clientAuth": "1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication": "1.3.6.1.5.5.7.3.2",
	"codeSigning": "1.3.6.1.5.5.7.3.3", "Code Signing": "1.3.6.1.5.5.7.3.3",
	"emailProtection": "1.3.6.1.5.5.7.3.4", "E-mail Protection": "1.3.6.1.5.5.7.3.4",
	"timeStamping": "1.3.6.1.5.5.7.3.8", "Time Stamping": "1.3.6.1.5.5.7.3.8",
	"OCSPSigning": "1.3.6.1.5.5.7.3.9", "OCSP Signing": "1.3.6.1.5.5.7.3.9",
	"ipsecIKE": "1.3.6.1.5.5.7.3.17", "ipsec Internet Key Exchange": "1.3.6.1.5.5.7.3.17",
	"msCodeInd": "1.3.6.1.4.1.311.2.1.21", "msCodeCom": "1.3.6.1.4.1.311.2.1.22",
	"msCTLSign": "1.3.6.1.4.1.311.10.3.1", "msEFS": "1.3.6.1.4.1.311.10.3.4",
	"anyExtendedKeyUsage": "2.5.29.37.0", "Any Extended Key Usage": "2.5.29.37.0",
}

var (
	oidExtSAN = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtKU  = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtEKU = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidExtBC  = asn1.ObjectIdentifier{2, 5, 29, 19}
	dottedOID = regexp.MustCompile(`^[0-9]+(\.[0-9]+)+$`)
)

// Spec describes openssl_csr's arguments.
func (OpensslCsr) Spec() *Spec {
	args := append(fileAttrArgs(),
		Arg{Name: "path", Type: TypePath, Required: true},
		Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
		Arg{Name: "privatekey_path", Type: TypePath},
		Arg{Name: "privatekey_content", Type: TypeStr, NoLog: true},
		Arg{Name: "privatekey_passphrase", Type: TypeStr, NoLog: true},
		Arg{Name: "digest", Type: TypeStr, Default: "sha256"},
		Arg{Name: "version", Type: TypeInt, Default: 1},
		Arg{Name: "force", Type: TypeBool, Default: false},
		Arg{Name: "backup", Type: TypeBool, Default: false},
		Arg{Name: "return_content", Type: TypeBool, Default: false},
		Arg{Name: "subject", Type: TypeRaw},
		Arg{Name: "subject_ordering", Type: TypeStr, Default: "match", Choices: []string{"match", "force"}},
		Arg{Name: "subject_alt_name", Aliases: []string{"subjectAltName"}, Type: TypeList},
		Arg{Name: "subject_alt_name_critical", Aliases: []string{"subjectAltName_critical"}, Type: TypeBool, Default: false},
		Arg{Name: "use_common_name_for_san", Aliases: []string{"useCommonNameForSAN"}, Type: TypeBool, Default: true},
		Arg{Name: "key_usage", Aliases: []string{"keyUsage"}, Type: TypeList},
		Arg{Name: "key_usage_critical", Aliases: []string{"keyUsage_critical"}, Type: TypeBool, Default: false},
		Arg{Name: "extended_key_usage", Aliases: []string{"extKeyUsage", "extendedKeyUsage"}, Type: TypeList},
		Arg{Name: "extended_key_usage_critical", Aliases: []string{"extKeyUsage_critical", "extendedKeyUsage_critical"}, Type: TypeBool, Default: false},
		Arg{Name: "basic_constraints", Aliases: []string{"basicConstraints"}, Type: TypeList},
		Arg{Name: "basic_constraints_critical", Aliases: []string{"basicConstraints_critical"}, Type: TypeBool, Default: false},
		Arg{Name: "select_crypto_backend", Type: TypeStr, Default: "auto", Choices: []string{"auto", "cryptography"}},
	)
	for _, f := range csrSubjectFields {
		args = append(args, Arg{Name: f.arg, Aliases: f.aliases, Type: TypeStr})
	}
	return &Spec{
		Args:              args,
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"privatekey_path", "privatekey_content"}},
	}
}

// csrEntry is one subject entry.
type csrEntry struct {
	short, value string
	oid          asn1.ObjectIdentifier
}

// csrWant is what a CSR is compared on, in a canonical form.
type csrWant struct {
	subject           []string // "oid=value", sorted (ordered when subject_ordering is force)
	san               []string // "DNS:x", "IP:1.2.3.4", "email:x", "URI:x", sorted
	ku, eku           []string // bit names; OIDs; sorted
	bc                string   // "CA:TRUE,pathlen:0" or ""
	sanC, kuC, ekuC   bool
	bcC               bool
	pub               []byte
	entries           []csrEntry
	rawSAN, rawKU     []string
	rawEKU, rawBC     []string
	orderedSubjectCmp bool
}

// csrRequest builds the request from the arguments; msg is a failure.
func csrRequest(args Args) (csrWant, string) {
	var w csrWant
	w.orderedSubjectCmp = args.String("subject_ordering") == "force"
	add := func(key, value string) string {
		for _, f := range csrSubjectFields {
			if key == f.arg || key == f.short || contains(f.aliases, key) {
				w.entries = append(w.entries, csrEntry{f.short, value, f.oid})
				return ""
			}
		}
		if oid, ok := csrExtraNames[key]; ok {
			w.entries = append(w.entries, csrEntry{key, value, oid})
			return ""
		}
		return fmt.Sprintf("Error while parsing subject: Unknown subject field %q", key)
	}
	// the subject's fields first, then the subject argument, as the collection orders them
	for _, f := range csrSubjectFields {
		if v := args.String(f.arg); v != "" {
			w.entries = append(w.entries, csrEntry{f.short, v, f.oid})
		}
	}
	switch s := args["subject"].(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals, ok := s[k].([]any)
			if !ok {
				vals = []any{s[k]}
			}
			for _, v := range vals {
				if m := add(k, fmt.Sprint(v)); m != "" {
					return w, m
				}
			}
		}
	case []any:
		for _, e := range s {
			m, ok := e.(map[string]any)
			if !ok || len(m) != 1 {
				return w, "subject: each list entry must be a dictionary with one key"
			}
			for k, v := range m {
				if msg := add(k, fmt.Sprint(v)); msg != "" {
					return w, msg
				}
			}
		}
	default:
		return w, "subject: must be a dictionary or a list of dictionaries"
	}
	for _, e := range w.entries {
		w.subject = append(w.subject, e.oid.String()+"="+e.value)
	}
	if !w.orderedSubjectCmp {
		sort.Strings(w.subject)
	}
	w.rawSAN = args.Strings("subject_alt_name")
	if len(w.rawSAN) == 0 && args.Bool("use_common_name_for_san") {
		for _, e := range w.entries {
			if e.short == "CN" {
				w.rawSAN = []string{"DNS:" + e.value}
			}
		}
	}
	for _, s := range w.rawSAN {
		typ, val, ok := strings.Cut(s, ":")
		if !ok {
			return w, fmt.Sprintf("Cannot parse Subject Alternative Name %q (potentially unsupported by cryptography backend)", s)
		}
		switch strings.ToLower(typ) {
		case "dns":
			w.san = append(w.san, "DNS:"+val)
		case "ip":
			w.san = append(w.san, "IP:"+canonicalIP(val))
		case "email":
			w.san = append(w.san, "email:"+val)
		case "uri":
			w.san = append(w.san, "URI:"+val)
		default:
			return w, fmt.Sprintf("Cannot parse Subject Alternative Name %q (potentially unsupported by cryptography backend)", s)
		}
	}
	sort.Strings(w.san)
	w.rawKU = args.Strings("key_usage")
	for _, k := range w.rawKU {
		n := k
		if a, ok := keyUsageAlias[k]; ok {
			n = a
		}
		if !contains(keyUsageBits, n) {
			return w, fmt.Sprintf("Unknown key usage %q", k)
		}
		w.ku = append(w.ku, n)
	}
	sort.Strings(w.ku)
	w.rawEKU = args.Strings("extended_key_usage")
	for _, k := range w.rawEKU {
		oid, ok := extKeyUsageOIDs[k]
		if !ok && dottedOID.MatchString(k) {
			oid, ok = k, true
		}
		if !ok {
			return w, fmt.Sprintf("Unknown extended key usage %q", k)
		}
		w.eku = append(w.eku, oid)
	}
	sort.Strings(w.eku)
	w.rawBC = args.Strings("basic_constraints")
	if len(w.rawBC) > 0 {
		ca, path := "CA:FALSE", ""
		for _, b := range w.rawBC {
			k, v, _ := strings.Cut(strings.ReplaceAll(b, " ", ""), ":")
			switch strings.ToLower(k) {
			case "ca":
				ca = "CA:" + strings.ToUpper(v)
			case "pathlen":
				path = ",pathlen:" + v
			default:
				return w, fmt.Sprintf("Unknown basic constraint %q", b)
			}
		}
		w.bc = ca + path
	}
	w.sanC, w.kuC = args.Bool("subject_alt_name_critical"), args.Bool("key_usage_critical")
	w.ekuC, w.bcC = args.Bool("extended_key_usage_critical"), args.Bool("basic_constraints_critical")
	return w, ""
}

// canonicalIP is an IP SAN as Go prints it.
func canonicalIP(s string) string {
	if ip := net.ParseIP(s); ip != nil {
		return ip.String()
	}
	return s
}

// csrHave reads an existing CSR into the canonical form; ok is false when
// it does not parse or its signature is bad.
func csrHave(content []byte, ordered bool) (csrWant, bool) {
	blk, _ := pem.Decode(content)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
		return csrWant{}, false
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		return csrWant{}, false
	}
	var h csrWant
	for _, n := range csr.Subject.Names {
		h.subject = append(h.subject, n.Type.String()+"="+fmt.Sprint(n.Value))
	}
	if !ordered {
		sort.Strings(h.subject)
	}
	h.pub = csr.RawSubjectPublicKeyInfo
	for _, e := range csr.Extensions {
		switch {
		case e.Id.Equal(oidExtSAN):
			h.sanC = e.Critical
			for _, d := range csr.DNSNames {
				h.san = append(h.san, "DNS:"+d)
			}
			for _, ip := range csr.IPAddresses {
				h.san = append(h.san, "IP:"+ip.String())
			}
			for _, m := range csr.EmailAddresses {
				h.san = append(h.san, "email:"+m)
			}
			for _, u := range csr.URIs {
				h.san = append(h.san, "URI:"+u.String())
			}
			sort.Strings(h.san)
		case e.Id.Equal(oidExtKU):
			h.kuC = e.Critical
			var bits asn1.BitString
			if _, err := asn1.Unmarshal(e.Value, &bits); err != nil {
				return csrWant{}, false
			}
			for i, n := range keyUsageBits {
				if bits.At(i) == 1 {
					h.ku = append(h.ku, n)
				}
			}
			sort.Strings(h.ku)
		case e.Id.Equal(oidExtEKU):
			h.ekuC = e.Critical
			var oids []asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(e.Value, &oids); err != nil {
				return csrWant{}, false
			}
			for _, o := range oids {
				h.eku = append(h.eku, o.String())
			}
			sort.Strings(h.eku)
		case e.Id.Equal(oidExtBC):
			h.bcC = e.Critical
			var bc struct {
				CA      bool `asn1:"optional"`
				PathLen int  `asn1:"optional,default:-1"`
			}
			if _, err := asn1.Unmarshal(e.Value, &bc); err != nil {
				return csrWant{}, false
			}
			h.bc = "CA:" + strings.ToUpper(strconv.FormatBool(bc.CA))
			if bc.PathLen >= 0 {
				h.bc += ",pathlen:" + strconv.Itoa(bc.PathLen)
			}
		}
	}
	return h, true
}

// csrMatches compares an existing CSR with the request.
func csrMatches(h, w csrWant) bool {
	eq := func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }
	return eq(h.subject, w.subject) && eq(h.san, w.san) && eq(h.ku, w.ku) && eq(h.eku, w.eku) && h.bc == w.bc &&
		(len(w.san) == 0 || h.sanC == w.sanC) && (len(w.ku) == 0 || h.kuC == w.kuC) &&
		(len(w.eku) == 0 || h.ekuC == w.ekuC) && (w.bc == "" || h.bcC == w.bcC) && bytes.Equal(h.pub, w.pub)
}

// confValue escapes a value for an openssl config file.
func confValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\$#\"'`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// csrConfig is the openssl req configuration for the request.
func csrConfig(w csrWant) string {
	var b strings.Builder
	b.WriteString("[req]\nprompt = no\nutf8 = yes\nstring_mask = utf8only\ndistinguished_name = dn\nreq_extensions = ext\n[dn]\n")
	for i, e := range w.entries {
		fmt.Fprintf(&b, "%d.%s = %s\n", i, e.oid.String(), confValue(e.value))
	}
	b.WriteString("[ext]\n")
	crit := func(c bool) string {
		if c {
			return "critical,"
		}
		return ""
	}
	if len(w.san) > 0 {
		fmt.Fprintf(&b, "subjectAltName = %s%s\n", crit(w.sanC), confValue(strings.Join(w.san, ",")))
	}
	if len(w.ku) > 0 {
		fmt.Fprintf(&b, "keyUsage = %s%s\n", crit(w.kuC), strings.Join(w.ku, ","))
	}
	if len(w.eku) > 0 {
		fmt.Fprintf(&b, "extendedKeyUsage = %s%s\n", crit(w.ekuC), strings.Join(w.eku, ","))
	}
	if w.bc != "" {
		fmt.Fprintf(&b, "basicConstraints = %s%s\n", crit(w.bcC), confValue(w.bc))
	}
	return b.String()
}

// Run keeps the CSR.
func (OpensslCsr) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	c := env.Conn
	st, fail, err := cryptoReadFile(ctx, c, args.String("path"))
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	values := map[string]any{"filename": st.Path, "privatekey": args.String("privatekey_path")}
	if args.String("state") == "absent" {
		return cryptoAbsent(ctx, env, st, args, values)
	}
	if !args.Has("privatekey_path") && !args.Has("privatekey_content") {
		return Result{Failed: true, Msg: "state is present but any of the following are missing: privatekey_path, privatekey_content", Values: values}, nil
	}
	w, pk, fail, err := csrPrepare(ctx, c, args, values)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	if st.Exists && !args.Bool("force") {
		if h, ok := csrHave(st.Content, w.orderedSubjectCmp); ok && csrMatches(h, w) {
			return cryptoKeep(ctx, env, st, args, values, "csr")
		}
	}
	if env.Check {
		return cryptoWouldWrite(st, args, values, "csr"), nil
	}
	out, fail, err := csrMake(ctx, c, args, w, pk, values)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	return cryptoWrite(ctx, c, st, out, args, "", values, "csr")
}

// subjectPairs is the result's subject: [[name, value], ...].
func subjectPairs(es []csrEntry) []any {
	out := make([]any, 0, len(es))
	for _, e := range es {
		out = append(out, []any{e.short, e.value})
	}
	return out
}

// nilIfNone is l as a list, or nil when empty.
func nilIfNone(l []string) any {
	if len(l) == 0 {
		return nil
	}
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// csrPrepare builds the request from the arguments, fills the result's
// request values and reads the private key's public half on the target
// (the key by path, or on stdin).
func csrPrepare(ctx context.Context, c conn.Conn, args Args, values map[string]any) (csrWant, pubKey, *Result, error) {
	w, msg := csrRequest(args)
	if msg != "" {
		return w, pubKey{}, &Result{Failed: true, Msg: msg, Values: values}, nil
	}
	values["subject"] = subjectPairs(w.entries)
	values["subjectAltName"] = nilIfNone(w.rawSAN)
	values["keyUsage"] = nilIfNone(w.rawKU)
	values["extendedKeyUsage"] = nilIfNone(w.rawEKU)
	values["basicConstraints"] = nilIfNone(w.rawBC)
	// The private key: its public half (to compare) and its type (to pick
	// the digest); read on the target, the key on stdin or by path.
	keyIn, keyData, secrets, pass := csrMakeKey(args)
	r, err := opensslRun(ctx, c, secrets, "openssl pkey "+keyIn+pass+" -pubout", keyData)
	if err != nil {
		return w, pubKey{}, nil, fmt.Errorf("read private key: %w", err)
	}
	if r.RC != 0 {
		return w, pubKey{}, &Result{Failed: true, Msg: opensslMsg("Error while loading the private key", r), Values: values}, nil
	}
	blk, _ := pem.Decode(r.Stdout)
	if blk == nil {
		return w, pubKey{}, &Result{Failed: true, Msg: "openssl printed no public key", Values: values}, nil
	}
	pk, err := parsePubKey(blk.Bytes)
	if err != nil {
		return w, pubKey{}, &Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	w.pub = pk.DER
	return w, pk, nil, nil
}

// csrMakeKey is how openssl reads the private key: its option, the stdin
// data, the passphrase (as the one secret) and the -passin option.
func csrMakeKey(args Args) (keyIn string, keyData []byte, secrets []string, pass string) {
	secrets = []string{args.String("privatekey_passphrase")}
	keyIn = "-in " + conn.Quote(args.String("privatekey_path"))
	if args.Has("privatekey_content") {
		keyIn, keyData = "", []byte(args.String("privatekey_content"))
	}
	if args.Has("privatekey_passphrase") {
		pass = " -passin env:P1"
	}
	return keyIn, keyData, secrets, pass
}

// csrMake runs openssl req on the target and returns the new CSR.
func csrMake(ctx context.Context, c conn.Conn, args Args, w csrWant, pk pubKey, values map[string]any) ([]byte, *Result, error) {
	keyIn, keyData, secrets, pass := csrMakeKey(args)
	digest := ""
	if pk.Type != "Ed25519" && pk.Type != "Ed448" {
		if !opensslCipherName.MatchString(args.String("digest")) {
			return nil, &Result{Failed: true, Msg: fmt.Sprintf("Unsupported digest %q", args.String("digest")), Values: values}, nil
		}
		digest = " -" + args.String("digest")
	}
	// The configuration goes through a temporary file (openssl req reads
	// the key from stdin when it is given as content).
	conf := csrConfig(w)
	if strings.ContainsAny(secrets[0], "\n\r") {
		return nil, &Result{Failed: true, Msg: "passphrase must not contain a newline", Values: values}, nil
	}
	script := `set -e
_mdo_c=$(mktemp); trap 'rm -f -- "$_mdo_c"' EXIT
printf '%s' "$MDO_CONF" >"$_mdo_c"
openssl req -new -config "$_mdo_c" ` + strings.Replace(keyIn, "-in ", "-key ", 1) + pass + digest
	if keyIn == "" {
		script += " -key /dev/stdin"
	}
	res, err := c.Exec(ctx, conn.Command{Script: "IFS= read -r P1; export P1\n" + script, Env: map[string]string{"MDO_CONF": conf},
		Stdin: append([]byte(secrets[0]+"\n"), keyData...)})
	if err != nil {
		return nil, nil, fmt.Errorf("generate csr: %w", err)
	}
	if res.RC != 0 {
		return nil, &Result{Failed: true, Msg: opensslMsg("openssl req", res), Values: values}, nil
	}
	return res.Stdout, nil, nil
}
