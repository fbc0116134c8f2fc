package serving

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestBuildConcurrentSameBinary(t *testing.T) {
	out := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = Build(context.Background(), BuildConfig{ImportPath: helloImport, OutDir: out, ModuleDir: moduleDir(), Name: "hello-copy"})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "hello-copy" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("output dir holds %v, want only hello-copy", names)
	}
	info, err := os.Stat(filepath.Join(out, "hello-copy"))
	if err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("binary not executable: %v %v", info, err)
	}
}

func TestBuildDefaultNameIsLastPathElement(t *testing.T) {
	if filepath.Base(helloBinary) != "hello" {
		t.Fatalf("binary name = %s, want hello", filepath.Base(helloBinary))
	}
}

func TestBuildReportsCompilerOutput(t *testing.T) {
	_, err := Build(context.Background(), BuildConfig{
		ImportPath: "ko://github.com/tidings-dev/tidings/infra/local/serving/testdata/nosuch",
		OutDir:     t.TempDir(),
		ModuleDir:  moduleDir(),
	})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("Build of a missing package = %v, want an error naming it", err)
	}
}

func TestBuildRejectsEmptyImportPath(t *testing.T) {
	if _, err := Build(context.Background(), BuildConfig{ImportPath: "ko://", OutDir: t.TempDir()}); err == nil {
		t.Fatal("Build with an empty import path succeeded")
	}
}

func TestKoDataPath(t *testing.T) {
	got, err := KoDataPath(context.Background(), moduleDir(), helloImport)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(moduleDir(), "serving", "testdata", "hello", "kodata") // moduleDir is infra/local
	if got != want {
		t.Fatalf("KoDataPath = %s, want %s", got, want)
	}
}
