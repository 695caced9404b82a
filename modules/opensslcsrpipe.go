package modules

import (
	"context"
)

// OpensslCsrPipe is community.crypto's openssl_csr_pipe: openssl_csr
// without a file. The CSR to keep comes in `content` and the result's
// `csr` is that CSR when it matches the request, or a new one made by the
// target's `openssl req`.
type OpensslCsrPipe struct{}

var _ Module = OpensslCsrPipe{}

// Spec describes openssl_csr_pipe's arguments: openssl_csr's without the
// file ones, and content.
func (OpensslCsrPipe) Spec() *Spec {
	base := OpensslCsr{}.Spec()
	skip := map[string]bool{"path": true, "state": true, "backup": true, "return_content": true, "force": true}
	for _, a := range fileAttrArgs() {
		skip[a.Name] = true
	}
	var args []Arg
	for _, a := range base.Args {
		if !skip[a.Name] {
			args = append(args, a)
		}
	}
	args = append(args, Arg{Name: "content", Type: TypeStr})
	return &Spec{Args: args, CheckMode: true, MutuallyExclusive: base.MutuallyExclusive}
}

// Run keeps or makes the CSR.
func (OpensslCsrPipe) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	values := map[string]any{"privatekey": args.String("privatekey_path")}
	if !args.Has("privatekey_path") && !args.Has("privatekey_content") {
		return Result{Failed: true, Msg: "one of the following is required: privatekey_path, privatekey_content", Values: values}, nil
	}
	w, pk, fail, err := csrPrepare(ctx, env.Conn, args, values)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	if old := args.String("content"); old != "" {
		if h, ok := csrHave([]byte(old), w.orderedSubjectCmp); ok && csrMatches(h, w) {
			values["csr"] = old
			return Result{Values: values}, nil
		}
	}
	if env.Check {
		values["csr"] = nil
		return Result{Changed: true, Values: values}, nil
	}
	out, fail, err := csrMake(ctx, env.Conn, args, w, pk, values)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	values["csr"] = string(out)
	return Result{Changed: true, Values: values}, nil
}
