package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook/vault"
)

// vaultSecretFlags are the flags naming vault passwords, shared by the
// vault subcommand and (when wired) the playbook run.
func vaultSecretFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "vault-id", Usage: "vault password as `LABEL@SOURCE` or SOURCE: a file, an executable printing it, or prompt (repeatable, tried in order)"},
		&cli.StringSliceFlag{Name: "vault-password-file", Aliases: []string{"vault-pass-file"}, Usage: "vault password `FILE` or executable (repeatable)"},
		&cli.BoolFlag{Name: "ask-vault-pass", Aliases: []string{"J", "ask-vault-password"}, Usage: "ask for the vault password"},
	}
}

// vaultSecrets loads the passwords the vault flags of c name. forNew asks
// twice (with confirmation) when prompting, for passwords that will
// encrypt; auto prompts when no password was named at all.
func (a *app) vaultSecrets(c *cli.Context, forNew, auto bool) (vault.Secrets, error) {
	for _, id := range c.StringSlice("vault-id") {
		if label, _, ok := strings.Cut(id, "@"); ok && strings.Contains(label, ";") {
			return nil, usageErr("'%s' is not a valid vault id: the character ';' is not allowed in vault ids", id)
		}
	}
	o := vault.SecretOptions{
		IDs:           c.StringSlice("vault-id"),
		PasswordFiles: c.StringSlice("vault-password-file"),
		Ask:           c.Bool("ask-vault-pass"),
		Prompt:        a.vaultPrompt(forNew),
		Stderr:        a.stderr,
	}
	if auto && len(o.IDs) == 0 && len(o.PasswordFiles) == 0 {
		o.Ask = true
	}
	s, err := vault.LoadSecrets(c.Context, o)
	if err != nil {
		return nil, withCode(exitGeneric, err)
	}
	return s, nil
}

// vaultPrompt returns the function asking for a vault password on the
// terminal, as ansible-vault words it; without a terminal it fails.
func (a *app) vaultPrompt(forNew bool) func(label string) (string, error) {
	return func(label string) (string, error) {
		tty, isTTY := a.stdin.(*os.File)
		isTTY = isTTY && term.IsTerminal(int(tty.Fd()))
		suffix := ""
		if label != vault.DefaultLabel {
			suffix = " (" + label + ")"
		}
		if !forNew {
			return a.prompt(tty, isTTY, "Vault password"+suffix+": ")
		}
		pw, err := a.prompt(tty, isTTY, "New vault password"+suffix+": ")
		if err != nil {
			return "", err
		}
		again, err := a.prompt(tty, isTTY, "Confirm new vault password"+suffix+": ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("passwords do not match")
		}
		return pw, nil
	}
}

// vaultArgs moves the flags of `mdo-play vault ACTION ...` in front of the
// file names, so that they may come after them as with ansible-vault.
// app.main calls it for args[1] == "vault".
func vaultArgs(args []string) []string {
	if len(args) < 3 {
		return args
	}
	var flags []cli.Flag
	for _, sc := range (&app{}).vaultCommand().Subcommands {
		if sc.Name == args[2] {
			flags = sc.Flags
		}
	}
	if flags == nil {
		return args
	}
	return append([]string{args[0], args[1], args[2]}, reorderArgs(args[3:], flags)...)
}

// vaultCommand is `mdo-play vault`, ansible-vault's subcommands.
func (a *app) vaultCommand() *cli.Command {
	usage := func(c *cli.Context, err error, isSub bool) error { return withCode(exitUsage, err) }
	output := &cli.StringFlag{Name: "output", Usage: "write the result to `FILE` (- for standard output) instead of in place"}
	encryptID := &cli.StringFlag{Name: "encrypt-vault-id", Usage: "the vault `ID` to encrypt with when several are given"}
	with := func(extra ...cli.Flag) []cli.Flag { return append(vaultSecretFlags(), extra...) }
	cmd := func(name, usageText, argsUsage string, flags []cli.Flag, action cli.ActionFunc) *cli.Command {
		return &cli.Command{Name: name, Usage: usageText, ArgsUsage: argsUsage, Flags: flags, Action: action, OnUsageError: usage}
	}
	return &cli.Command{
		Name:         "vault",
		Usage:        "encrypt, decrypt, view and edit Ansible Vault files",
		OnUsageError: usage,
		Subcommands: []*cli.Command{
			cmd("encrypt", "encrypt files in place (or standard input to standard output)", "[FILE...]", with(output, encryptID), a.vaultEncrypt),
			cmd("decrypt", "decrypt files in place (or standard input to standard output)", "[FILE...]", with(output), a.vaultDecrypt),
			cmd("view", "print the plaintext of vault files", "FILE...", with(), a.vaultView),
			cmd("create", "create a vault file with $EDITOR", "FILE", with(encryptID), a.vaultCreate),
			cmd("edit", "edit vault files with $EDITOR", "FILE...", with(), a.vaultEdit),
			cmd("rekey", "encrypt vault files with a new password", "FILE...", with(encryptID,
				&cli.StringFlag{Name: "new-vault-password-file", Usage: "the new password's `FILE` or executable"},
				&cli.StringFlag{Name: "new-vault-id", Usage: "the new password as `LABEL@SOURCE`"},
			), a.vaultRekey),
			cmd("encrypt_string", "encrypt strings as !vault YAML values", "[STRING...]", with(output, encryptID,
				&cli.BoolFlag{Name: "prompt", Aliases: []string{"p"}, Usage: "prompt for the string to encrypt"},
				&cli.BoolFlag{Name: "show-input", Usage: "show the string typed at the prompt"},
				&cli.StringSliceFlag{Name: "name", Aliases: []string{"n"}, Usage: "variable `NAME` for each string, in order (repeatable)"},
				&cli.StringFlag{Name: "stdin-name", Usage: "variable `NAME` for the string read from standard input"},
			), a.vaultEncryptString),
		},
	}
}

// encryptSecret loads the secrets for encrypting and picks the one to use.
func (a *app) encryptSecret(c *cli.Context) (vault.Secret, error) {
	s, err := a.vaultSecrets(c, true, true)
	if err != nil {
		return vault.Secret{}, err
	}
	if len(s) == 0 {
		return vault.Secret{}, withCode(exitGeneric, errors.New("a vault password is required"))
	}
	sec, err := s.Encrypter(c.String("encrypt-vault-id"))
	if err != nil {
		return vault.Secret{}, withCode(exitGeneric, err)
	}
	return sec, nil
}

// decryptSecrets loads the secrets for decrypting.
func (a *app) decryptSecrets(c *cli.Context) (vault.Secrets, error) {
	s, err := a.vaultSecrets(c, false, true)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, withCode(exitGeneric, errors.New("a vault password is required"))
	}
	return s, nil
}

// inputs are the FILE arguments, standard input ("-") when there are none;
// --output allows only one.
func inputs(c *cli.Context) ([]string, error) {
	files := c.Args().Slice()
	if len(files) == 0 {
		files = []string{"-"}
	}
	if c.String("output") != "" && len(files) > 1 {
		return nil, usageErr("at most one input file may be used with the --output option")
	}
	return files, nil
}

func (a *app) readInput(name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, withCode(exitGeneric, fmt.Errorf("read standard input: %w", err))
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, withCode(exitGeneric, err)
	}
	return b, nil
}

// writeOutput writes to --output, or in place, or to standard output when
// the input was standard input. New files get mode 0600.
func (a *app) writeOutput(c *cli.Context, in string, data []byte) error {
	out := c.String("output")
	if out == "" {
		out = in
	}
	if out == "-" {
		_, err := a.stdout.Write(data)
		return err
	}
	if err := vault.WriteFile(out, data, 0o600); err != nil {
		return withCode(exitGeneric, err)
	}
	return nil
}

// successf tells a person at a terminal that it worked, as ansible-vault
// does; scripts and cron see nothing.
func (a *app) successf(format string, args ...any) {
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

func (a *app) vaultEncrypt(c *cli.Context) error {
	files, err := inputs(c)
	if err != nil {
		return err
	}
	sec, err := a.encryptSecret(c)
	if err != nil {
		return err
	}
	for _, f := range files {
		plain, err := a.readInput(f)
		if err != nil {
			return err
		}
		enc, err := vault.Encrypt(plain, sec.Password, sec.Label)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("encrypt %s: %w", f, err))
		}
		if err := a.writeOutput(c, f, enc); err != nil {
			return err
		}
	}
	a.successf("Encryption successful")
	return nil
}

func (a *app) vaultDecrypt(c *cli.Context) error {
	files, err := inputs(c)
	if err != nil {
		return err
	}
	s, err := a.decryptSecrets(c)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := a.readInput(f)
		if err != nil {
			return err
		}
		plain, err := vault.Decrypt(data, s)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("decrypt %s: %w", f, err))
		}
		if err := a.writeOutput(c, f, plain); err != nil {
			return err
		}
	}
	a.successf("Decryption successful")
	return nil
}

func (a *app) vaultView(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("vault view: no file given")
	}
	s, err := a.decryptSecrets(c)
	if err != nil {
		return err
	}
	for _, f := range c.Args().Slice() {
		data, err := a.readInput(f)
		if err != nil {
			return err
		}
		plain, err := vault.Decrypt(data, s)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("view %s: %w", f, err))
		}
		if len(plain) > 0 && plain[len(plain)-1] != '\n' {
			plain = append(plain, '\n')
		}
		if _, err := a.stdout.Write(plain); err != nil {
			return err
		}
	}
	return nil
}

// editor runs $EDITOR (vi by default) on a file, on the user's terminal.
func (a *app) editor() vault.Editor {
	return func(ctx context.Context, path string) error {
		ed := a.getenv("EDITOR")
		if ed == "" {
			ed = "vi"
		}
		argv, err := modules.SplitShlex(ed)
		if err != nil || len(argv) == 0 {
			return fmt.Errorf("EDITOR %q: cannot split into a command", ed)
		}
		cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], path)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", argv[0], err)
		}
		return nil
	}
}

func (a *app) tmpDir() string {
	if d := a.getenv("TMPDIR"); d != "" {
		return d
	}
	return "/tmp"
}

func (a *app) vaultCreate(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("vault create takes exactly one file name")
	}
	sec, err := a.encryptSecret(c)
	if err != nil {
		return err
	}
	if err := vault.CreateFile(c.Context, c.Args().First(), sec, a.tmpDir(), a.editor()); err != nil {
		return withCode(exitGeneric, err)
	}
	return nil
}

func (a *app) vaultEdit(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("vault edit: no file given")
	}
	s, err := a.decryptSecrets(c)
	if err != nil {
		return err
	}
	for _, f := range c.Args().Slice() {
		if err := vault.EditFile(c.Context, f, s, a.tmpDir(), a.editor()); err != nil {
			return withCode(exitGeneric, err)
		}
	}
	return nil
}

func (a *app) vaultRekey(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("vault rekey: no file given")
	}
	newFile, newID := c.String("new-vault-password-file"), c.String("new-vault-id")
	if newFile != "" && newID != "" {
		return usageErr("--new-vault-password-file and --new-vault-id are mutually exclusive")
	}
	s, err := a.decryptSecrets(c)
	if err != nil {
		return err
	}
	o := vault.SecretOptions{Prompt: a.vaultPrompt(true), Stderr: a.stderr}
	switch {
	case newFile != "":
		o.PasswordFiles = []string{newFile}
	case newID != "":
		o.IDs = []string{newID}
	default:
		o.Ask = true
	}
	ns, err := vault.LoadSecrets(c.Context, o)
	if err != nil {
		return withCode(exitGeneric, fmt.Errorf("new vault password: %w", err))
	}
	newSec, err := ns.Encrypter(c.String("encrypt-vault-id"))
	if err != nil {
		return withCode(exitGeneric, fmt.Errorf("new vault password: %w", err))
	}
	for _, f := range c.Args().Slice() {
		data, err := os.ReadFile(f)
		if err != nil {
			return withCode(exitGeneric, err)
		}
		out, err := vault.Rekey(data, s, newSec.Password, newSec.Label)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("rekey %s: %w", f, err))
		}
		if err := vault.WriteFile(f, out, 0o600); err != nil {
			return withCode(exitGeneric, err)
		}
	}
	fmt.Fprintln(a.stderr, "Rekey successful")
	return nil
}

type namedString struct {
	name, from string
	plain      []byte
}

func (a *app) vaultEncryptString(c *cli.Context) error {
	dash := false
	var strs []string
	for _, s := range c.Args().Slice() {
		if s == "-" {
			dash = true
			continue
		}
		strs = append(strs, s)
	}
	explicitStdin := dash || c.String("stdin-name") != ""
	if c.Bool("prompt") && explicitStdin {
		return usageErr("the --prompt option is not supported if also reading input from standard input")
	}
	readStdin := explicitStdin || (c.NArg() == 0 && !c.Bool("prompt"))
	sec, err := a.encryptSecret(c)
	if err != nil {
		return err
	}
	var items []namedString
	if c.Bool("prompt") {
		item, err := a.promptString(c.Bool("show-input"))
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	if readStdin {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("read standard input: %w", err))
		}
		if len(b) == 0 {
			return withCode(exitGeneric, errors.New("standard input was empty, not encrypting"))
		}
		items = append(items, namedString{name: c.String("stdin-name"), from: "stdin", plain: b})
	}
	names := c.StringSlice("name")
	if len(names) > 0 && len(names) < len(strs) {
		fmt.Fprintf(a.stderr, "[WARNING]: %d --name options for %d strings: the last %d have no name\n", len(names), len(strs), len(strs)-len(names))
	}
	for i, s := range strs {
		if s == "" {
			return withCode(exitGeneric, errors.New("the plaintext provided from the command line args was empty, not encrypting"))
		}
		item := namedString{from: "the command line", plain: []byte(s)}
		if i < len(names) {
			item.name = names[i]
		}
		items = append(items, item)
	}
	var out []string
	for i, it := range items {
		enc, err := vault.Encrypt(it.plain, sec.Password, sec.Label)
		if err != nil {
			return withCode(exitGeneric, fmt.Errorf("encrypt string #%d: %w", i+1, err))
		}
		if len(items) > 1 {
			if it.name != "" {
				fmt.Fprintf(a.stderr, "# The encrypted version of variable (%q, the string #%d from %s).\n", it.name, i+1, it.from)
			} else {
				fmt.Fprintf(a.stderr, "# The encrypted version of the string #%d from %s.\n", i+1, it.from)
			}
		}
		out = append(out, formatVaultYAML(enc, it.name))
	}
	result := []byte(strings.Join(out, "\n") + "\n")
	if o := c.String("output"); o != "" && o != "-" {
		if err := vault.WriteFile(o, result, 0o600); err != nil {
			return withCode(exitGeneric, err)
		}
	} else if _, err := a.stdout.Write(result); err != nil {
		return err
	}
	a.successf("Encryption successful")
	return nil
}

// formatVaultYAML renders a vault as a !vault block scalar, indented by 10
// as ansible-vault encrypt_string does.
func formatVaultYAML(enc []byte, name string) string {
	var b strings.Builder
	if name != "" {
		b.WriteString(name + ": ")
	}
	b.WriteString(vault.Tag + " |")
	for _, l := range strings.Split(strings.TrimSuffix(string(enc), "\n"), "\n") {
		b.WriteString("\n          " + l)
	}
	return b.String()
}

func (a *app) promptString(show bool) (namedString, error) {
	tty, isTTY := a.stdin.(*os.File)
	isTTY = isTTY && term.IsTerminal(int(tty.Fd()))
	if !isTTY {
		return namedString{}, usageErr("--prompt: standard input is not a terminal")
	}
	fmt.Fprint(a.stderr, "Variable name (enter for no name): ")
	name, err := readLine(tty)
	if err != nil {
		return namedString{}, withCode(exitGeneric, err)
	}
	var s string
	if show {
		fmt.Fprint(a.stderr, "String to encrypt: ")
		s, err = readLine(tty)
	} else {
		s, err = a.prompt(tty, true, "String to encrypt (hidden): ")
	}
	if err != nil {
		return namedString{}, withCode(exitGeneric, err)
	}
	if s == "" {
		return namedString{}, withCode(exitGeneric, errors.New("the plaintext provided from the prompt was empty, not encrypting"))
	}
	return namedString{name: name, from: "the prompt", plain: []byte(s)}, nil
}

// readLine reads one line from the terminal, byte by byte so that nothing
// after it is consumed.
func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSuffix(string(b), "\r"), nil
			}
			b = append(b, one[0])
		}
		if err == io.EOF {
			return string(b), nil
		}
		if err != nil {
			return "", err
		}
	}
}
