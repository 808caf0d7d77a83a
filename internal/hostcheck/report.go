package hostcheck

// Status is how a check came out.
type Status string

const (
	// Info is a plain fact, good or bad for nothing.
	Info Status = "info"
	// OK is a requirement that is met.
	OK Status = "ok"
	// Warning is something that works less well or not at all, while
	// containers still run (no subordinate ids, no resource limits).
	Warning Status = "warning"
	// Problem stops nook from running containers here.
	Problem Status = "problem"
)

// Check is one line of the report.
type Check struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Status is never empty.
	Status Status `json:"status"`
	// Fix is what to do, one line, for warnings and problems.
	Fix string `json:"fix,omitempty"`
}

// Section is one probe's checks.
type Section struct {
	Name   string  `json:"name"`
	Checks []Check `json:"checks"`
}

// Report is everything nook info says.
type Report struct {
	Sections []Section `json:"sections"`
	// Problems are the checks that stop nook from running containers,
	// as "section: key: value"; CanRun is true when there are none.
	Problems []string `json:"problems"`
	// Warnings counts the checks with Status Warning.
	Warnings int  `json:"warnings"`
	CanRun   bool `json:"canRun"`
}

// section builds a Section check by check.
type section struct{ s Section }

func newSection(name string) *section { return &section{s: Section{Name: name, Checks: []Check{}}} }

func (b *section) add(st Status, key, value, fix string) {
	b.s.Checks = append(b.s.Checks, Check{Key: key, Value: value, Status: st, Fix: fix})
}

func (b *section) info(key, value string) { b.add(Info, key, value, "") }
func (b *section) ok(key, value string)   { b.add(OK, key, value, "") }

// Check returns the check with key in the section named name, and
// whether there is one.
func (r Report) Check(name, key string) (Check, bool) {
	for _, s := range r.Sections {
		if s.Name != name {
			continue
		}
		for _, c := range s.Checks {
			if c.Key == key {
				return c, true
			}
		}
	}
	return Check{}, false
}

// finish fills in Problems, Warnings and CanRun from the sections.
func (r *Report) finish() {
	r.Problems = []string{}
	for _, s := range r.Sections {
		for _, c := range s.Checks {
			switch c.Status {
			case Problem:
				p := s.Name + ": " + c.Key + ": " + c.Value
				if c.Fix != "" {
					p += " (fix: " + c.Fix + ")"
				}
				r.Problems = append(r.Problems, p)
			case Warning:
				r.Warnings++
			}
		}
	}
	r.CanRun = len(r.Problems) == 0
}
