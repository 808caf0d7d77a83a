package cgroupdeleg

import (
	"os"
	"path"
	"strings"
)

// SlurmJob is the Slurm job and step a cgroup belongs to.
type SlurmJob struct {
	// Job is the job id ("42"), or the job's directory name when Slurm
	// names it otherwise.
	Job string `json:"job"`
	// Step is the step: "0", "batch", "extern", "interactive"; "" when
	// the path has none.
	Step string `json:"step,omitempty"`
	// Cgroup is the job's cgroup path.
	Cgroup string `json:"cgroup"`
}

// ParseSlurm recognises a Slurm job's cgroup path: with cgroup/v2,
// .../slurmstepd.scope/job_ID/step_STEP/user/task_N (the scope may be
// NODE_slurmstepd.scope with several slurmd per host, and newer Slurm
// names the job directory by its SLUID instead of job_ID); with
// cgroup/v1's layout, /slurm/uid_UID/job_ID/step_STEP. It returns nil
// for any other path.
func ParseSlurm(p string) *SlurmJob {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, part := range parts {
		job := ""
		switch {
		case strings.HasPrefix(part, "job_") && len(part) > len("job_"):
			job = strings.TrimPrefix(part, "job_")
		case i > 0 && strings.HasSuffix(parts[i-1], "slurmstepd.scope"):
			job = part
		default:
			continue
		}
		j := &SlurmJob{Job: job, Cgroup: "/" + path.Join(parts[:i+1]...)}
		if i+1 < len(parts) {
			j.Step, _ = strings.CutPrefix(parts[i+1], "step_")
		}
		return j
	}
	return nil
}

// slurmFromEnv is the job Slurm's environment names, for a process whose
// cgroup path does not say (Slurm without its cgroup plugins).
func slurmFromEnv() *SlurmJob {
	id := os.Getenv("SLURM_JOB_ID")
	if id == "" {
		return nil
	}
	return &SlurmJob{Job: id, Step: os.Getenv("SLURM_STEP_ID")}
}
