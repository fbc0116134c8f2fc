module github.com/tidings-dev/tidings/knative

go 1.26.0

require (
	github.com/rickb777/date v1.21.1
	github.com/robfig/cron/v3 v3.0.1
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/rickb777/plural v1.4.2 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
)
