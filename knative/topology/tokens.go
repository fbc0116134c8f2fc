package topology

// TokenFile is a ServiceAccount token the kubelet projects into a Service's
// container for one audience: a projected volume's serviceAccountToken
// source, at MountPath/Path. Knative Serving accepts serviceAccountToken
// projections (knative/serving pkg/apis/serving/k8s_validation.go,
// validateProjectedVolumeSource).
type TokenFile struct {
	MountPath string
	Path      string
	Audience  string
}

type rawVolume struct {
	Name      string `json:"name"`
	Projected *struct {
		Sources []struct {
			ServiceAccountToken *struct {
				Audience          string `json:"audience"`
				Path              string `json:"path"`
				ExpirationSeconds *int64 `json:"expirationSeconds"`
			} `json:"serviceAccountToken"`
		} `json:"sources"`
	} `json:"projected"`
}

type rawVolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// tokenFiles lists the token projections mounted into container c.
func tokenFiles(volumes []rawVolume, mounts []rawVolumeMount) []TokenFile {
	var out []TokenFile
	for _, m := range mounts {
		for _, v := range volumes {
			if v.Name != m.Name || v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if t := src.ServiceAccountToken; t != nil {
					out = append(out, TokenFile{MountPath: m.MountPath, Path: t.Path, Audience: t.Audience})
				}
			}
		}
	}
	return out
}
