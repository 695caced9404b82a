package templates

import (
	"testing"
	"text/template"
)

func BenchmarkRenderPlain(b *testing.B) {
	e := New()
	vars := testVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render("apt-get install -y nginx", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderTyped(b *testing.B) {
	e := New()
	vars := testVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render("{{ .app_port }}", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderText(b *testing.B) {
	e := New()
	vars := testVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render(`listen {{ .app_port }} name {{ .name | default "x" }} ip {{ .hostvars.web1.ip }}`, vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCond(b *testing.B) {
	e := New()
	vars := testVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Cond(`and .enabled (eq .env "prod")`, vars); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderParallel shows the pooled instances scale across goroutines.
func BenchmarkRenderParallel(b *testing.B) {
	e := New()
	vars := testVars()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Render(`{{ .name | upper }}`, vars); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInstanceNew is the cost the pool saves on each render: building
// a template with its own per-execution functions (the Clone+Funcs
// alternative costs at least this much).
func BenchmarkInstanceNew(b *testing.B) {
	e := New()
	c := e.compile(kindText, `listen {{ .app_port }} name {{ .name | default "x" }}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.newInstance()
	}
}

// BenchmarkCompile is the one-time cost of a new distinct string.
func BenchmarkCompile(b *testing.B) {
	e := New()
	b.ReportAllocs()
	for b.Loop() {
		_ = e.build(kindText, `listen {{ .app_port }} name {{ .name | default "x" }} ip {{ .hostvars.web1.ip }}`)
	}
}

// BenchmarkCloneFullFuncMap is the rejected design: cloning a template that
// carries the whole sprig function map, then installing a per-call capture
// function. Compare with BenchmarkInstanceNew.
func BenchmarkCloneFullFuncMap(b *testing.B) {
	e := New()
	base := template.Must(template.New(rootName).Funcs(e.funcs).Funcs(e.internal).Parse(`{{ .app_port }}`))
	b.ReportAllocs()
	for b.Loop() {
		c := template.Must(base.Clone())
		var captured any
		c.Funcs(template.FuncMap{fnCapture: func(v any) string { captured = v; return "" }})
		_ = captured
	}
}
