package modules

import "time"

// Builtin returns a registry holding every built-in module, one line each.
func Builtin() *Registry {
	r := NewRegistry()
	r.Register("assert", Assert{})
	r.Register("command", Command{Now: time.Now})
	r.Register("debug", Debug{})
	r.Register("fail", Fail{})
	r.Register("include_vars", IncludeVars{})
	r.Register("ping", Ping{})
	r.Register("raw", Raw{})
	r.Register("set_fact", SetFact{})
	r.Register("shell", Shell{Now: time.Now})
	r.Register("setup", Setup{})
	r.Register("stat", Stat{})
	r.Register("apt", Apt{})
	r.Register("dnf", Dnf{})
	r.Register("package", Package{})
	r.Register("yum", Yum{})
	r.Register("service", Service{})
	r.Register("systemd", Systemd{})
	r.Register("systemd_service", Systemd{})
	r.Register("copy", Copy{})
	r.Register("template", Template{})
	r.Register("file", File{})
	r.Register("lineinfile", LineInFile{})
	r.Register("blockinfile", BlockInFile{})
	r.Register("replace", Replace{})
	r.Register("fetch", Fetch{})
	r.Register("script", Script{})
	r.Register("unarchive", Unarchive{})
	r.Register("user", User{})
	r.Register("group", Group{})
	r.Register("cron", Cron{})
	r.Register("authorized_key", AuthorizedKey{})
	r.Register("sysctl", Sysctl{})
	r.Register("wait_for", WaitFor{})
	r.Register("hostname", Hostname{})
	r.Register("uri", URI{})
	return r
}
