package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tidings-dev/tidings/infra/local/serving"
)

// migrateJobFile is the release's migrate Job, applied with the topology on a
// cluster; the local stack runs the same image once before any function.
const migrateJobFile = "knative/migrate/job.yaml"

// migrateJob is the part of the Job manifest the local step uses.
type migrateJob struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
					Env   []struct {
						Name      string `json:"name"`
						Value     string `json:"value"`
						ValueFrom *struct {
							SecretKeyRef    *struct{ Key string } `json:"secretKeyRef"`
							ConfigMapKeyRef *struct{ Key string } `json:"configMapKeyRef"`
						} `json:"valueFrom"`
					} `json:"env"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// loadMigrateJob reads the Job and checks it is one ko:// container.
func loadMigrateJob(repoDir string) (*migrateJob, error) {
	raw, err := os.ReadFile(filepath.Join(repoDir, migrateJobFile))
	if err != nil {
		return nil, err
	}
	var j migrateJob
	if err := yaml.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", migrateJobFile, err)
	}
	if c := j.Spec.Template.Spec.Containers; j.Kind != "Job" || len(c) != 1 || !strings.HasPrefix(c[0].Image, serving.KoScheme) {
		return nil, fmt.Errorf("%s: want a Job with one ko:// container", migrateJobFile)
	}
	return &j, nil
}

// buildMigrate compiles the Job's image, as ko would.
func (s *Stack) buildMigrate(ctx context.Context) (string, error) {
	j, err := loadMigrateJob(s.opts.RepoDir)
	if err != nil {
		return "", err
	}
	return serving.Build(ctx, serving.BuildConfig{
		ImportPath: j.Spec.Template.Spec.Containers[0].Image, OutDir: filepath.Join(s.opts.DataDir, "bin"),
		ModuleDir: s.opts.RepoDir, Name: j.Metadata.Name,
	})
}

// migrate runs the Job's binary to completion with the env the Job names:
// literal values as written, references (Secret and ConfigMap keys, the same
// names locally) from the backing services. Functions start only after it
// succeeded, as on a cluster they become ready only after the Job ran.
func (s *Stack) migrate(ctx context.Context, bin string) error {
	j, err := loadMigrateJob(s.opts.RepoDir)
	if err != nil {
		return err
	}
	backing := s.backing.Env()
	var env []string
	for _, e := range j.Spec.Template.Spec.Containers[0].Env {
		v := e.Value
		if ref := e.ValueFrom; ref != nil {
			switch {
			case ref.SecretKeyRef != nil:
				v = backing[ref.SecretKeyRef.Key]
			case ref.ConfigMapKeyRef != nil:
				v = backing[ref.ConfigMapKeyRef.Key]
			}
		}
		env = append(env, e.Name+"="+v)
	}
	s.say("migrating the database (%s)", migrateJobFile)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("migrate: %w\n%s", err, out.String())
	}
	s.opts.FunctionOutput.Write(out.Bytes()) //nolint:errcheck
	s.say("migrated in %s", time.Since(start).Round(10*time.Millisecond))
	return nil
}
