package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// moduleVars gives controller-side modules access to the task's variables.
type moduleVars struct {
	st *state
	vs varSet
}

func (v *moduleVars) Cond(expr string) (bool, error) {
	ok, err := v.st.Templates.Cond(expr, v.vs.m)
	return ok, v.undefined(err)
}

func (v *moduleVars) Lookup(expr string) (any, error) {
	e := strings.TrimSpace(expr)
	if e != "" && e[0] != '.' && e[0] != '$' && validPath(e) {
		e = "." + e
	}
	r, err := v.st.Templates.Eval(e, v.vs.m)
	return r, v.undefined(err)
}

// undefined marks errors about undefined variables with modules.ErrUndefined
// (debug prints "VARIABLE IS NOT DEFINED!" for those).
func (v *moduleVars) undefined(err error) error {
	var te *templates.Error
	if errors.As(err, &te) && te.Undefined != "" {
		return fmt.Errorf("%w: %v", modules.ErrUndefined, v.vs.explain(err))
	}
	return v.vs.explain(err)
}

func validPath(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !playbook.ValidVarName(part) {
			return false
		}
	}
	return true
}

func (v *moduleVars) Render(name, text string) (string, error) {
	s, err := v.st.Templates.RenderString(name, text, v.vs.m)
	return s, v.vs.explain(err)
}

func (v *moduleVars) All() map[string]any { return v.vs.m }

// fileFinder looks up controller-side files for src-style arguments, and
// reads them through the run's file reader (which decrypts vault files).
type fileFinder struct {
	dirs []string
	read func(string) ([]byte, error)
}

func (f fileFinder) ReadFile(path string) ([]byte, error) { return f.read(path) }

func (st *state) files(pc *playCtx, sc *scope, t *playbook.Task) fileFinder {
	taskDir, _ := filepath.Abs(filepath.Dir(t.Pos.File))
	// A role's files/ and templates/ come first, then the task's directory
	// and the playbook's.
	dirs := append(roleDirs(sc, t), taskDir)
	if pc.pb.Dir != taskDir {
		dirs = append(dirs, pc.pb.Dir)
	}
	return fileFinder{dirs: dirs, read: st.readFile}
}

func (f fileFinder) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	var tried []string
	for _, d := range f.dirs {
		for _, p := range []string{filepath.Join(d, kind, name), filepath.Join(d, name)} {
			tried = append(tried, p)
			if fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("could not find %q (searched %s)", name, strings.Join(tried, ", "))
}

// roleDirs returns the directories of the roles around a task, innermost
// first, for file lookups.
func roleDirs(sc *scope, t *playbook.Task) []string {
	var out []string
	if t != nil && t.Role != nil {
		out = append(out, t.Role.Dir)
	}
	blocks := sc.blocks()
	for i := len(blocks) - 1; i >= 0; i-- {
		if r := blocks[i].Role; r != nil {
			out = append(out, r.Dir)
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
