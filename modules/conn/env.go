package conn

import "context"

// WithEnv returns c with env added to every command's environment (a
// command's own Env wins). It keeps c's optional capabilities: files
// written with FileWriter are not affected by the environment, and shells
// from ShellStarter run their commands with it.
func WithEnv(c Conn, env map[string]string) Conn {
	e := envConn{Conn: c, env: env}
	fw, isFW := c.(FileWriter)
	ss, isSS := c.(ShellStarter)
	switch {
	case isFW && isSS:
		return envFileShells{envFile{e, fw}, ss}
	case isFW:
		return envFile{e, fw}
	case isSS:
		return envShellStarter{e, ss}
	}
	return e
}

// envConn adds environment variables to every command.
type envConn struct {
	Conn
	env map[string]string
}

func (c envConn) Exec(ctx context.Context, cmd Command) (ExecResult, error) {
	return c.Conn.Exec(ctx, withEnv(cmd, c.env))
}

func withEnv(cmd Command, env map[string]string) Command {
	merged := make(map[string]string, len(env)+len(cmd.Env))
	for k, v := range env {
		merged[k] = v
	}
	for k, v := range cmd.Env {
		merged[k] = v
	}
	cmd.Env = merged
	return cmd
}

// envFile is an envConn whose connection is a FileWriter.
type envFile struct {
	envConn
	FileWriter
}

// envShellStarter is an envConn whose connection is a ShellStarter.
type envShellStarter struct {
	envConn
	ss ShellStarter
}

func (c envShellStarter) NewShells(o ShellOptions) Shells {
	return newEnvShells(c.ss.NewShells(o), c.env)
}

// envFileShells is an envConn whose connection is both.
type envFileShells struct {
	envFile
	ss ShellStarter
}

func (c envFileShells) NewShells(o ShellOptions) Shells {
	return newEnvShells(c.ss.NewShells(o), c.env)
}

// envShells runs the commands of a pool with the environment.
type envShells struct {
	Shells
	env map[string]string
}

func newEnvShells(s Shells, env map[string]string) Shells {
	if s == nil {
		return nil
	}
	return envShells{s, env}
}

func (s envShells) Exec(ctx context.Context, cmd Command) (ExecResult, error) {
	return s.Shells.Exec(ctx, withEnv(cmd, s.env))
}
